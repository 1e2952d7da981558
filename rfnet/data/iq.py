"""Convert between interleaved I/Q arrays (how files store them) and complex64 tensors (how rfnet works).

Complex IQ in memory is ``torch.complex64`` ``[batch, samples]``. On disk RadioML 2016 stores float32
``[n, 2, samples]`` (row 0 = I, row 1 = Q), RadioML 2018 float32 ``[n, samples, 2]``.
"""

from __future__ import annotations

import numpy as np
import torch


def channels_first_to_complex(x: np.ndarray) -> torch.Tensor:
    """float ``[n, 2, samples]`` (I row, Q row) → complex64 tensor ``[n, samples]``."""
    x = np.asarray(x, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).view(torch.complex64)[..., 0]


def channels_last_to_complex(x: np.ndarray) -> torch.Tensor:
    """float ``[..., samples, 2]`` (I, Q pairs) → complex64 tensor ``[..., samples]``."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    return torch.from_numpy(x).view(torch.complex64)[..., 0]


def complex_to_channels_first(iq: torch.Tensor) -> np.ndarray:
    """complex64 ``[n, samples]`` → float32 ``[n, 2, samples]`` (RadioML 2016 layout)."""
    return np.ascontiguousarray(complex_to_channels_last(iq).transpose(0, 2, 1))


def complex_to_channels_last(iq: torch.Tensor) -> np.ndarray:
    """complex64 ``[..., samples]`` → float32 ``[..., samples, 2]`` (RadioML 2018 layout)."""
    return torch.view_as_real(iq.detach().to(torch.complex64).cpu().resolve_conj()).numpy()
