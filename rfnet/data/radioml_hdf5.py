"""RadioML 2018.01A-layout HDF5: ``X`` float32 ``[N, samples, 2]``, ``Y`` one-hot ``[N, C]``, ``Z`` SNR ``[N, 1]``.

The original ``GOLD_XYZ_OSC.0001_1024.hdf5`` is 20 GB, so it is never loaded whole: opening reads only
``Y`` and ``Z`` (in blocks, to label and filter the examples) and each item reads its own row of ``X``.
Non-finite samples are caught on access, per item, with an error naming the file and row.

Class names: a file rfnet wrote carries them in the ``classes`` attribute. The original file has none;
its columns follow the paper's order (:data:`rfnet.dsp.classes.RML2018_CLASSES`), not the
``classes.txt`` shipped beside it, which is wrong (github.com/radioML/dataset issue #25).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from rfnet.data.atomic import temporary_sibling
from rfnet.data.iq import channels_last_to_complex, complex_to_channels_last
from rfnet.data.selection import select_examples
from rfnet.dsp.classes import RML2018_CLASSES

#: Rows of ``Y`` and ``Z`` read at a time while labelling a file (bounded memory on the 2.5M-row original).
_LABEL_BLOCK_ROWS = 65536


def _open_hdf5(path: Path) -> h5py.File:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {err}") from None


def _file_classes(path: Path, handle: h5py.File, num_columns: int) -> tuple[str, ...]:
    if "classes" in handle.attrs:
        classes = tuple(str(name) for name in handle.attrs["classes"])
    else:
        classes = RML2018_CLASSES
    if len(classes) != num_columns:
        raise ValueError(f"{path}: Y has {num_columns} columns but the file names {len(classes)} classes")
    return classes


def _check_layout(path: Path, handle: h5py.File) -> tuple[h5py.Dataset, h5py.Dataset, h5py.Dataset]:
    missing = [key for key in ("X", "Y", "Z") if key not in handle]
    if missing:
        raise ValueError(f"{path}: missing dataset(s) {missing}; expected X [N, samples, 2], Y [N, C], Z [N, 1]")
    x, y, z = handle["X"], handle["Y"], handle["Z"]
    if x.ndim != 3 or x.shape[2] != 2:
        raise ValueError(f"{path}: X has shape {x.shape}, expected [N, samples, 2]")
    if y.ndim != 2:
        raise ValueError(f"{path}: Y has shape {y.shape}, expected one-hot [N, classes]")
    if z.ndim not in (1, 2) or (z.ndim == 2 and z.shape[1] != 1):
        raise ValueError(f"{path}: Z has shape {z.shape}, expected [N, 1]")
    if not x.shape[0] == y.shape[0] == z.shape[0]:
        raise ValueError(
            f"{path}: X, Y and Z disagree on the number of examples: {x.shape[0]}, {y.shape[0]}, {z.shape[0]}"
        )
    return x, y, z


def _read_labels(path: Path, y: h5py.Dataset, z: h5py.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Labels (argmax of one-hot ``Y``) and SNRs of every row, read block by block."""
    labels = np.empty(y.shape[0], dtype=np.int64)
    snrs = np.empty(z.shape[0], dtype=np.float64)
    try:
        for start in range(0, y.shape[0], _LABEL_BLOCK_ROWS):
            stop = min(start + _LABEL_BLOCK_ROWS, y.shape[0])
            one_hot = y[start:stop]
            if not ((one_hot == 0) | (one_hot == 1)).all() or not (one_hot.sum(axis=1) == 1).all():
                raise ValueError(f"{path}: Y rows {start}..{stop - 1} are not one-hot")
            labels[start:stop] = one_hot.argmax(axis=1)
            snrs[start:stop] = np.asarray(z[start:stop], dtype=np.float64).reshape(-1)
    except OSError as err:
        raise ValueError(f"{path}: cannot read Y/Z (truncated or corrupt?): {err}") from None
    if not np.isfinite(snrs).all():
        raise ValueError(f"{path}: Z holds NaN or Inf SNRs")
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
            x, y, z = _check_layout(self.path, handle)
            file_classes = _file_classes(self.path, handle, y.shape[1])
            file_labels, file_snrs = _read_labels(self.path, y, z)
            self.num_samples = x.shape[1]
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
        try:
            interleaved = self._x()[row]
        except OSError as err:
            raise ValueError(f"{self.path}: cannot read X row {row} (truncated or corrupt?): {err}") from None
        if not np.isfinite(interleaved).all():
            raise ValueError(f"{self.path}: X row {row} contains NaN or Inf samples")
        return channels_last_to_complex(interleaved), int(self.labels[index]), self.example_snrs[index].item()

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
    original's int64 (8× smaller, same argmax). Attributes: ``classes`` and whatever ``attributes`` holds
    (dicts stored as JSON text). No timestamps are stored, so the same content gives the same bytes.
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
        attributes: dict | None = None,
    ):
        self.path = Path(path)
        self.num_examples = num_examples
        self.num_samples = num_samples
        self.classes = tuple(classes)
        self.attributes = dict(attributes or {})
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
