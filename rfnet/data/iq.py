"""Convert between interleaved I/Q arrays (how files store them) and complex64 tensors (how rfnet works).

Complex IQ in memory is ``torch.complex64`` ``[batch, samples]``. On disk RadioML 2016 stores float32
``[n, 2, samples]`` (row 0 = I, row 1 = Q), RadioML 2018 float32 ``[n, samples, 2]``.
"""

from __future__ import annotations

import numpy as np
import torch


def channels_first_to_complex(x: np.ndarray) -> torch.Tensor:
    """float ``[n, 2, samples]`` (I row, Q row) → complex64 tensor ``[n, samples]``."""
    return channels_last_to_complex(np.asarray(x).transpose(0, 2, 1))


def channels_last_to_complex(x: np.ndarray) -> torch.Tensor:
    """float ``[..., samples, 2]`` (I, Q pairs) → complex64 tensor ``[..., samples]``.

    Viewed through a flat copy (none when ``x`` is already C-contiguous float32), so the strides numpy
    leaves on length-1 axes cannot upset the complex view.
    """
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    return torch.from_numpy(flat).view(torch.complex64).reshape(x.shape[:-1])


def complex_to_channels_first(iq: torch.Tensor) -> np.ndarray:
    """complex64 ``[n, samples]`` → float32 ``[n, 2, samples]`` (RadioML 2016 layout)."""
    return np.ascontiguousarray(complex_to_channels_last(iq).transpose(0, 2, 1))


def complex_to_channels_last(iq: torch.Tensor) -> np.ndarray:
    """complex64 ``[..., samples]`` → float32 ``[..., samples, 2]`` (RadioML 2018 layout)."""
    return torch.view_as_real(iq.detach().to(torch.complex64).cpu().resolve_conj()).numpy()


def iq_values_to_float32(values: np.ndarray, source: str) -> np.ndarray:
    """Real I/Q values as read from a file → float32 of the same shape, checked finite.

    - float16/32/64: cast to float32; a finite value beyond float32's range (|x| > 3.4e38), which the
      cast would turn into infinity, is refused.
    - signed integers (int8, int16, int32): fixed point, scaled by ``2**-(bits - 1)`` into [-1, 1), as
      SigMF reads ``ci8``/``ci16``/``ci32``.
    - unsigned integers (uint8, uint16, uint32): offset binary, ``(x - 2**(bits - 1)) / 2**(bits - 1)``,
      as SigMF reads ``cu8`` (an RTL-SDR's output).
    - anything else (64-bit integers, which float32 cannot hold exactly; bool, complex, text, objects)
      is refused: convert such data to float32 I/Q yourself.

    Raises:
        ValueError: ``"{source} ..."`` naming the dtype or the bad values.
    """
    kind, bits = values.dtype.kind, values.dtype.itemsize * 8
    if kind == "f" and bits <= 64:
        with np.errstate(over="ignore"):  # overflow is reported below, as a sentence
            converted = values.astype(np.float32, copy=False)
    elif kind in "iu" and bits <= 32:
        full_scale = float(2 ** (bits - 1))
        offset = full_scale if kind == "u" else 0.0
        converted = ((values.astype(np.float64) - offset) / full_scale).astype(np.float32)
    else:
        raise ValueError(
            f"{source} has dtype {values.dtype}, not I/Q samples rfnet can read; expected float "
            "(float32 preferred) or fixed-point int8/16/32 or uint8/16/32; convert to float32 I/Q first"
        )
    if not np.isfinite(converted).all():
        if np.isfinite(values).all():
            raise ValueError(f"{source} holds values beyond float32's range (|x| > 3.4e38), which would "
                             "become infinite; rescale the data")
        raise ValueError(f"{source} contains NaN or Inf samples")
    return converted
