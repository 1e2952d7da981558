"""RadioML 2018.01A-layout HDF5: ``X`` float32 ``[N, samples, 2]``, ``Y`` one-hot ``[N, C]``, ``Z`` SNR ``[N, 1]``.

The original ``GOLD_XYZ_OSC.0001_1024.hdf5`` is 20 GB, so it is never loaded whole: opening reads only
``Y`` and ``Z`` (in blocks, to label and filter the examples) and each item reads its own row of ``X``.
Non-finite samples (and float64 values beyond float32's range) are caught on access, per item, with an
error naming the file and row. Integer ``X`` is read as fixed point (see
:func:`rfnet.data.iq.iq_values_to_float32`); complex ``X``, text, and data kept in other files (external
links, external or virtual storage) are refused on opening, as are extents beyond
:mod:`rfnet.data.limits`.

Class names: a file rfnet wrote carries them in the ``classes`` attribute (text; UTF-8 bytes, as other
tools write them, are decoded). The original file has none;
its columns follow the paper's order (:data:`rfnet.dsp.classes.RML2018_CLASSES`), not the
``classes.txt`` shipped beside it, which is wrong (github.com/radioML/dataset issue #25).

Sample rate: a file rfnet wrote states it in the ``sample_rate_hz`` attribute (Hz); the original states
none.
"""

from __future__ import annotations

import json
import os
import reprlib
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from rfnet.data.atomic import temporary_sibling
from rfnet.data.iq import channels_last_to_complex, complex_to_channels_last, iq_values_to_float32
from rfnet.data.limits import MAX_ABS_SNR_DB, MAX_EXAMPLES, MAX_SAMPLES_PER_EXAMPLE
from rfnet.data.selection import select_examples
from rfnet.dsp.classes import RML2018_CLASSES

#: Bytes of ``Y`` read at a time while labelling a file (bounded memory on the 2.5M-row original).
_LABEL_BLOCK_BYTES = 1 << 24


class _LayoutError(ValueError):
    """The file reads, but breaks the 2018 layout; the message is a whole sentence naming the file."""


#: What h5py raises on a corrupt file (each seen when fuzzing a valid file's bytes).
_CORRUPT_FILE_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)


def _open_hdf5(path: Path) -> h5py.File:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {err}") from None


def _file_classes(path: Path, handle: h5py.File, num_columns: int) -> tuple[str, ...]:
    """The ``classes`` attribute (text, or UTF-8 bytes as other tools write them), else the paper's 24."""
    if "classes" not in handle.attrs:
        classes = RML2018_CLASSES
    else:
        names = handle.attrs["classes"]
        if np.ndim(names) != 1:
            raise _LayoutError(f"{path}: the classes attribute is {reprlib.repr(names)}, not a list of names")
        try:
            classes = tuple(name.decode("utf-8") if isinstance(name, bytes) else name for name in names)
        except UnicodeDecodeError:
            raise _LayoutError(f"{path}: the classes attribute holds bytes that are not UTF-8 text") from None
        if not all(isinstance(name, str) for name in classes):
            raise _LayoutError(f"{path}: the classes attribute is {reprlib.repr(names)}, not a list of names")
        if len(set(classes)) != len(classes):
            raise _LayoutError(f"{path}: the classes attribute names a class twice: {reprlib.repr(classes)}")
    if len(classes) != num_columns:
        raise _LayoutError(f"{path}: Y has {num_columns} columns but the file names {len(classes)} classes")
    return classes


def _file_sample_rate(path: Path, handle: h5py.File) -> float | None:
    """The ``sample_rate_hz`` attribute in Hz, or None where the file states none."""
    if "sample_rate_hz" not in handle.attrs:
        return None
    rate = np.asarray(handle.attrs["sample_rate_hz"])
    if rate.ndim != 0 or rate.dtype.kind not in "iuf" or not 0 < float(rate) < np.inf:
        raise _LayoutError(f"{path}: the sample_rate_hz attribute is {reprlib.repr(rate.tolist())}, "
                           "not a positive number of Hz")
    return float(rate)


def _dataset(path: Path, handle: h5py.File, name: str) -> h5py.Dataset:
    """``handle[name]``, refused unless it is a dataset stored in this file."""
    if not isinstance(handle.get(name, getlink=True), h5py.HardLink):
        raise _LayoutError(f"{path}: {name} is a link to elsewhere; expected a dataset stored in the file")
    dataset = handle[name]
    if not isinstance(dataset, h5py.Dataset):
        raise _LayoutError(f"{path}: {name} is a group, expected a dataset")
    if dataset.external or dataset.is_virtual:
        raise _LayoutError(f"{path}: {name} keeps its data in other files; expected data stored in the file")
    return dataset


def _check_x_dtype(path: Path, x: h5py.Dataset) -> None:
    kind, bits = x.dtype.kind, x.dtype.itemsize * 8
    if kind == "c":
        raise _LayoutError(f"{path}: X holds complex numbers ({x.dtype}) where the 2018 layout has real "
                         "I, Q pairs; store X as float32 [N, samples, 2] (real part, then imaginary part)")
    if not (kind == "f" or (kind in "iu" and bits <= 32)):
        raise _LayoutError(f"{path}: X has dtype {x.dtype}; expected float32 I/Q (or fixed-point "
                         "int8/16/32, uint8/16/32, read as SigMF reads ci/cu data)")


def _check_layout(path: Path, handle: h5py.File) -> tuple[h5py.Dataset, h5py.Dataset, h5py.Dataset]:
    missing = [key for key in ("X", "Y", "Z") if key not in handle]
    if missing:
        raise _LayoutError(f"{path}: missing dataset(s) {missing}; expected X [N, samples, 2], Y [N, C], Z [N, 1]")
    x, y, z = (_dataset(path, handle, name) for name in ("X", "Y", "Z"))
    if x.ndim != 3 or x.shape[2] != 2:
        raise _LayoutError(f"{path}: X has shape {x.shape}, expected [N, samples, 2]")
    if y.ndim != 2 or y.shape[1] == 0:
        raise _LayoutError(f"{path}: Y has shape {y.shape}, expected one-hot [N, classes]")
    if z.ndim not in (1, 2) or (z.ndim == 2 and z.shape[1] != 1):
        raise _LayoutError(f"{path}: Z has shape {z.shape}, expected [N, 1]")
    if not x.shape[0] == y.shape[0] == z.shape[0]:
        raise _LayoutError(
            f"{path}: X, Y and Z disagree on the number of examples: {x.shape[0]}, {y.shape[0]}, {z.shape[0]}"
        )
    if not 0 < x.shape[0] <= MAX_EXAMPLES:
        raise _LayoutError(f"{path}: X has {x.shape[0]} examples; expected 1 to {MAX_EXAMPLES}")
    if not 0 < x.shape[1] <= MAX_SAMPLES_PER_EXAMPLE:
        raise _LayoutError(f"{path}: X has {x.shape[1]} samples per example; expected 1 to "
                         f"{MAX_SAMPLES_PER_EXAMPLE}")
    _check_x_dtype(path, x)
    for name, dataset in (("Y", y), ("Z", z)):
        if dataset.dtype.kind not in "biuf":
            raise _LayoutError(f"{path}: {name} has dtype {dataset.dtype}, expected numbers")
    return x, y, z


def _read_labels(path: Path, y: h5py.Dataset, z: h5py.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Labels (argmax of one-hot ``Y``) and SNRs of every row, read block by block."""
    labels = np.empty(y.shape[0], dtype=np.int64)
    snrs = np.empty(z.shape[0], dtype=np.float64)
    block_rows = max(1, _LABEL_BLOCK_BYTES // (y.shape[1] * y.dtype.itemsize))
    for start in range(0, y.shape[0], block_rows):
        stop = min(start + block_rows, y.shape[0])
        one_hot = y[start:stop]
        if not ((one_hot == 0) | (one_hot == 1)).all() or not (one_hot.sum(axis=1) == 1).all():
            raise _LayoutError(f"{path}: Y rows {start}..{stop - 1} are not one-hot")
        labels[start:stop] = one_hot.argmax(axis=1)
        snrs[start:stop] = np.asarray(z[start:stop], dtype=np.float64).reshape(-1)
    if not np.isfinite(snrs).all():
        raise _LayoutError(f"{path}: Z holds NaN or Inf SNRs")
    if (np.abs(snrs) > MAX_ABS_SNR_DB).any():
        raise _LayoutError(f"{path}: Z holds SNRs beyond the ±{MAX_ABS_SNR_DB} dB any recording has")
    if (snrs == np.round(snrs)).all():
        return labels, snrs.astype(np.int64)
    return labels, snrs


class RadioMLHDF5(Dataset):
    """Lazy dataset over a 2018.01A-layout HDF5 file; items ``(iq complex64 [samples], label, snr_db)``.

    Safe with ``DataLoader(num_workers > 0)``: the h5py handle is opened on first access in each process
    and never pickled.

    Attributes:
        path: the file.
        classes: class names in label order.
        rows: int64 ``[M]``, the file rows this dataset exposes.
        labels: int64 ``[M]``, indices into ``classes``.
        example_snrs: ``[M]`` SNR per example in dB (int64 when all are whole numbers).
        num_samples: samples per example.
        sample_rate_hz: the file's ``sample_rate_hz`` attribute (Hz), or None where it states none.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        snr_range: tuple[float, float] | None = None,
        classes: Sequence[str] | None = None,
    ):
        self.path = Path(path)
        with _open_hdf5(self.path) as handle:
            try:
                x, y, z = _check_layout(self.path, handle)
                file_classes = _file_classes(self.path, handle, y.shape[1])
                file_labels, file_snrs = _read_labels(self.path, y, z)
                self.num_samples = x.shape[1]
                self.sample_rate_hz = _file_sample_rate(self.path, handle)
            except _LayoutError:
                raise
            except _CORRUPT_FILE_ERRORS as err:
                raise ValueError(f"{self.path}: not a readable HDF5 file (truncated or corrupt?): {err}") from None
        selection = select_examples(
            str(self.path), file_classes, file_labels, file_snrs, classes=classes, snr_range=snr_range
        )
        self.rows = selection.rows
        self.labels = selection.labels
        self.classes = selection.classes
        self.example_snrs = file_snrs[selection.rows]
        self._handle: h5py.File | None = None
        self._handle_pid: int | None = None

    @property
    def snrs(self) -> list[int | float]:
        """Sorted unique SNRs in dB."""
        return np.unique(self.example_snrs).tolist()

    def __len__(self) -> int:
        return len(self.rows)

    def _x(self) -> h5py.Dataset:
        if self._handle is None or self._handle_pid != os.getpid():
            self._handle = _open_hdf5(self.path)
            self._handle_pid = os.getpid()
        return self._handle["X"]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int | float]:
        row = int(self.rows[index])
        x = self._x()
        try:
            interleaved = x[row]
        except _CORRUPT_FILE_ERRORS as err:
            raise ValueError(f"{self.path}: cannot read X row {row} (truncated or corrupt?): {err}") from None
        values = iq_values_to_float32(interleaved, f"{self.path}: X row {row}")
        return channels_last_to_complex(values), int(self.labels[index]), self.example_snrs[index].item()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_handle"] = None
        state["_handle_pid"] = None
        return state

    def close(self) -> None:
        """Close this process's file handle (reopened on the next access)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Rml2018HDF5Writer:
    """Write examples into a 2018.01A-layout HDF5 file chunk by chunk, atomically.

    Datasets are preallocated (``X`` float32 ``[N, samples, 2]``, ``Y`` uint8 one-hot ``[N, C]``, ``Z``
    int64 ``[N, 1]``) and filled in order, so memory holds one chunk. ``Y`` is uint8 rather than the
    original's int64 (8× smaller, same argmax). Attributes: ``classes``, ``sample_rate_hz`` (Hz) when
    given, and whatever ``attributes`` holds (dicts stored as JSON text). No timestamps are stored, so the
    same content gives the same bytes.
    Use as a context manager; the file appears under its final name only when all ``N`` rows are
    written and the block succeeds.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        num_examples: int,
        num_samples: int,
        classes: Sequence[str],
        sample_rate_hz: float | None = None,
        attributes: dict | None = None,
    ):
        self.path = Path(path)
        self.num_examples = num_examples
        self.num_samples = num_samples
        self.classes = tuple(classes)
        self.attributes = dict(attributes or {})
        if sample_rate_hz is not None:
            self.attributes["sample_rate_hz"] = float(sample_rate_hz)
        self._next_row = 0

    def __enter__(self) -> "Rml2018HDF5Writer":
        self._temporary = temporary_sibling(self.path)
        self._handle = h5py.File(self._temporary, "w")
        shape = (self.num_examples,)
        self._x = self._handle.create_dataset("X", shape + (self.num_samples, 2), np.float32, track_times=False)
        self._y = self._handle.create_dataset("Y", shape + (len(self.classes),), np.uint8, track_times=False)
        self._z = self._handle.create_dataset("Z", shape + (1,), np.int64, track_times=False)
        self._handle.attrs["classes"] = list(self.classes)
        for name, value in self.attributes.items():
            self._handle.attrs[name] = json.dumps(value, sort_keys=True) if isinstance(value, dict) else value
        return self

    def write(self, iq: torch.Tensor, labels: np.ndarray, snrs: np.ndarray) -> None:
        """Append examples: complex64 ``[n, samples]``, int ``[n]`` labels, int ``[n]`` SNRs (dB)."""
        start, stop = self._next_row, self._next_row + len(labels)
        if stop > self.num_examples:
            raise ValueError(f"{self.path}: more than the {self.num_examples} examples announced")
        self._x[start:stop] = complex_to_channels_last(iq)
        one_hot = np.zeros((stop - start, len(self.classes)), dtype=np.uint8)
        one_hot[np.arange(stop - start), np.asarray(labels)] = 1
        self._y[start:stop] = one_hot
        self._z[start:stop, 0] = np.asarray(snrs, dtype=np.int64)
        self._next_row = stop

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            self._handle.close()
            if exc_type is None:
                if self._next_row != self.num_examples:
                    raise ValueError(f"{self.path}: wrote {self._next_row} of {self.num_examples} examples")
                os.replace(self._temporary, self.path)
        finally:
            self._temporary.unlink(missing_ok=True)
