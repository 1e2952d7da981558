"""Read one stream of complex IQ from a file a person hands over: a SigMF recording or a NumPy ``.npy``.

>>> from rfnet.data.iq_file import read_iq_file
>>> stream = read_iq_file("capture.sigmf-meta")     # or capture.sigmf, capture.sigmf-data, burst.npy
>>> stream.samples.shape, stream.samples.dtype       # (torch.Size([N]), torch.complex64)

``.npy`` files may hold complex samples (``[N]`` or ``[1, N]``) or real I/Q pairs (``[N, 2]``, I then Q,
as RadioML 2018 stores a row; or ``[2, N]``, an I row and a Q row, as RadioML 2016 does). Integer pairs
are fixed point: int8/16/32 scaled by ``2**-(bits - 1)``, uint8/16/32 offset binary, as SigMF's ci/cu
types (:func:`rfnet.data.iq.iq_values_to_float32`); 64-bit integers are refused. The header is checked
against the file's size before anything is allocated, and the file is read with ``allow_pickle=False``,
so an object array cannot run code. Anything else — another shape or dtype, NaN or infinite samples,
values beyond float32's range, a header that declares more bytes than the file holds, a file that is
not what its suffix says — is one ``ValueError`` naming the file and the problem.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from tokenize import TokenError

import numpy as np
import torch

from rfnet.data.iq import channels_first_to_complex, channels_last_to_complex, iq_values_to_float32
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


def _check_npy_header(path: Path) -> None:
    """Refuse a ``.npy`` whose header is unreadable, declares objects, or declares more (or fewer) bytes
    than the file holds after it, before anything is allocated."""
    with open(path, "rb") as file:
        if file.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise ValueError(f"{path}: not a .npy file (no NumPy array header)")
        file.seek(0)
        try:
            version = np.lib.format.read_magic(file)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"format version {version[0]}.{version[1]} is not supported; save with "
                                 "numpy.save (version 1.0)")
            shape, _, dtype = read_header(file)
        except (ValueError, OSError, EOFError, SyntaxError, TokenError) as err:  # cut short, unparsable
            raise ValueError(f"{path}: not a readable .npy file ({type(err).__name__}: {err})") from None
        header_bytes = file.tell()
    if dtype.hasobject:
        raise ValueError(f"{path}: not a plain NumPy array file (it holds Python objects, dtype {dtype})")
    declared = math.prod(shape) * dtype.itemsize
    held = path.stat().st_size - header_bytes
    if declared != held or any(extent < 0 for extent in shape):
        raise ValueError(f"{path}: its header declares a {dtype} array of shape {shape} ({declared} bytes) "
                         f"but {held} bytes follow it (truncated or altered file)")


def _npy_samples(path: Path) -> torch.Tensor:
    _check_npy_header(path)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:  # the file changed under us, or a read failed
        raise ValueError(f"{path}: not a readable .npy file ({type(err).__name__}: {err})") from None
    shape = array.shape
    expected = "complex IQ as [N] or [1, N], or real I/Q pairs as [N, 2] or [2, N]"
    if np.iscomplexobj(array):
        if array.ndim == 2 and shape[0] == 1:
            array = array[0]
        if array.ndim != 1:
            raise ValueError(f"{path}: complex array of shape {shape}; expected {expected}")
        pairs = np.ascontiguousarray(array).view(array.real.dtype).reshape(-1, 2)
        samples = channels_last_to_complex(iq_values_to_float32(pairs, f"{path}: the array"))
    elif array.dtype.kind in "fiu" and array.ndim == 2 and 2 in shape:
        real = iq_values_to_float32(array, f"{path}: the array")
        samples = channels_last_to_complex(real) if shape[1] == 2 else channels_first_to_complex(real[None])[0]
    else:
        raise ValueError(f"{path}: {array.dtype} array of shape {shape}; expected {expected}")
    if samples.numel() == 0:
        raise ValueError(f"{path}: holds no samples")
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
