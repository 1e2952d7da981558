"""Read one stream of complex IQ from a file a person hands over: a SigMF recording or a NumPy ``.npy``.

>>> from rfnet.data.iq_file import read_iq_file
>>> stream = read_iq_file("capture.sigmf-meta")     # or capture.sigmf, capture.sigmf-data, burst.npy
>>> stream.samples.shape, stream.samples.dtype       # (torch.Size([N]), torch.complex64)

``.npy`` files may hold complex samples (``[N]`` or ``[1, N]``) or real I/Q pairs (``[N, 2]``, I then Q,
as RadioML 2018 stores a row; or ``[2, N]``, an I row and a Q row, as RadioML 2016 does). They are read
with ``allow_pickle=False``, so an object array cannot run code. Anything else — another shape or
dtype, NaN or infinite samples, a file that is not what its suffix says — is one ``ValueError`` naming
the file and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from tokenize import TokenError

import numpy as np
import torch

from rfnet.data.iq import channels_first_to_complex, channels_last_to_complex
from rfnet.data.sigmf_io import open_sigmf

__all__ = ["IQStream", "SIGMF_SUFFIXES", "read_iq_file"]

SIGMF_SUFFIXES = (".sigmf-meta", ".sigmf-data", ".sigmf")
NPY_SUFFIX = ".npy"
NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class IQStream:
    """Samples read from a file: complex64 ``[N]``; the sample rate in Hz when the file gives one."""

    samples: torch.Tensor
    sample_rate_hz: float | None
    path: Path


def _npy_samples(path: Path) -> torch.Tensor:
    with open(path, "rb") as file:
        if file.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise ValueError(f"{path}: not a .npy file (no NumPy array header)")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:  # object arrays (pickles), bad headers
        raise ValueError(f"{path}: not a plain NumPy array file ({err})") from None
    except (OSError, EOFError, SyntaxError, TokenError) as err:  # cut short, a header that does not parse
        raise ValueError(f"{path}: not a readable .npy file ({type(err).__name__}: {err})") from None
    shape = array.shape
    expected = "complex IQ as [N] or [1, N], or real I/Q pairs as [N, 2] or [2, N]"
    if np.iscomplexobj(array):
        if array.ndim == 2 and shape[0] == 1:
            array = array[0]
        if array.ndim != 1:
            raise ValueError(f"{path}: complex array of shape {shape}; expected {expected}")
        samples = torch.from_numpy(np.ascontiguousarray(array, dtype=np.complex64))
    elif array.dtype.kind in "fiu" and array.ndim == 2 and 2 in shape:
        real = array.astype(np.float32)
        samples = channels_last_to_complex(real) if shape[1] == 2 else channels_first_to_complex(real[None])[0]
    else:
        raise ValueError(f"{path}: {array.dtype} array of shape {shape}; expected {expected}")
    if samples.numel() == 0:
        raise ValueError(f"{path}: holds no samples")
    if not bool(torch.isfinite(torch.view_as_real(samples)).all()):
        raise ValueError(f"{path}: holds NaN or infinite samples")
    return samples


def read_iq_file(path: str | os.PathLike) -> IQStream:
    """All samples of the SigMF recording or ``.npy`` file at ``path`` (see the module docstring).

    Raises:
        FileNotFoundError: no such file (or a SigMF metadata file without its data file).
        ValueError: an unknown suffix, or a file that does not hold finite complex IQ.
    """
    path = Path(path)
    if path.name.endswith(SIGMF_SUFFIXES):
        recording = open_sigmf(path)
        if recording.num_samples == 0:
            raise ValueError(f"{path}: the recording holds no samples")
        return IQStream(recording.read(), recording.sample_rate_hz, path)
    if path.suffix != NPY_SUFFIX:
        raise ValueError(f"{path}: unknown kind of file; give a SigMF recording "
                         f"({', '.join(SIGMF_SUFFIXES)}) or a NumPy {NPY_SUFFIX} array of IQ")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return IQStream(_npy_samples(path), None, path)
