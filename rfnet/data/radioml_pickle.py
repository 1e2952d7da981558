"""RadioML 2016 pickles: ``{(modulation, snr_db): float32 [n, 2, samples]}`` (row 0 = I, row 1 = Q).

Reading goes through :mod:`rfnet.data.safe_pickle` (no foreign objects, no sizes the file does not back,
Python 2 files welcome) and checks every array on load: 3-D with two rows, one length for all, finite
float32 values, no more bytes in all than the file holds. Writing streams one
``(modulation, snr)`` cell at a time, so memory holds one cell, not the dataset.
"""

from __future__ import annotations

import numbers
import os
import pickle
import reprlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rfnet.data.atomic import temporary_sibling
from rfnet.data.iq import channels_first_to_complex, complex_to_channels_first, iq_values_to_float32
from rfnet.data.limits import MAX_ABS_SNR_DB, MAX_EXAMPLES, MAX_SAMPLES_PER_EXAMPLE
from rfnet.data.safe_pickle import load_numpy_pickle

#: Pickle protocol of the pieces the writer emits: 3 stores bytes as bytes (2 spells them as latin-1 text
#: through ``_codecs.encode``, 1.5× larger) and has no framing, so pieces concatenate cleanly.
_PIECE_PROTOCOL = 3


@dataclass(frozen=True)
class RadioMLArrays:
    """The examples of one RadioML file, ordered by (class, SNR).

    Attributes:
        classes: class names in label order (sorted, as the 2016 dict keys sort).
        iq: complex64 ``[N, samples]``.
        labels: int64 ``[N]``.
        snrs: int64 ``[N]``, dB.
    """

    classes: tuple[str, ...]
    iq: torch.Tensor
    labels: np.ndarray
    snrs: np.ndarray


def _check_key(path: Path, key: object) -> tuple[str, int]:
    if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str)):
        raise ValueError(f"{path}: key {reprlib.repr(key)} is not a (modulation name, snr) pair")
    modulation, snr = key
    if isinstance(snr, numbers.Real) and not isinstance(snr, bool) and abs(snr) > MAX_ABS_SNR_DB:
        raise ValueError(f"{path}: key {reprlib.repr(key)} has an SNR beyond the ±{MAX_ABS_SNR_DB} dB "
                         "any recording has")
    if isinstance(snr, numbers.Real) and not isinstance(snr, bool) and float(snr).is_integer():
        return modulation, int(snr)
    raise ValueError(f"{path}: key {reprlib.repr(key)} has an SNR that is not a whole number of dB")


def _check_value(path: Path, key: tuple[str, int], value: object, length: int | None) -> np.ndarray:
    """The cell's examples as float32 ``[n, 2, samples]`` (integers scaled, see ``iq_values_to_float32``)."""
    if not isinstance(value, np.ndarray) or value.ndim != 3 or value.shape[1] != 2:
        shape = getattr(value, "shape", type(value).__name__)
        raise ValueError(f"{path}: entry {key} has shape {shape}, expected [n, 2, samples]")
    if length is not None and value.shape[2] != length:
        raise ValueError(f"{path}: entry {key} has {value.shape[2]} samples per example, others have {length}")
    if not 0 < value.shape[2] <= MAX_SAMPLES_PER_EXAMPLE:
        raise ValueError(f"{path}: entry {key} has {value.shape[2]} samples per example; expected 1 to "
                         f"{MAX_SAMPLES_PER_EXAMPLE}")
    if any(stride <= 0 for stride, extent in zip(value.strides, value.shape) if extent > 1):
        raise ValueError(f"{path}: entry {key} repeats or reverses its bytes (strides {value.strides}); "
                         "each example must have its own samples in the file")
    return iq_values_to_float32(value, f"{path}: entry {key}")


def read_rml2016_pickle(path: str | os.PathLike) -> RadioMLArrays:
    """Read a RadioML 2016.10a/10b-style pickle (Python 2 or 3 written) and check it.

    Besides the layout, the arrays together may not hold more bytes than the file (a pickle can make
    several keys share one array; each example must come from its own bytes), nor more than
    :data:`~rfnet.data.limits.MAX_EXAMPLES` examples. Integer values are read as fixed point
    (:func:`~rfnet.data.iq.iq_values_to_float32`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: foreign objects, wrong layout, mixed lengths, NaN/Inf samples or values beyond
            float32, shared or oversized arrays, SNRs beyond ±1000 dB, or an empty dict.
    """
    path = Path(path)
    content = load_numpy_pickle(path)
    if not isinstance(content, dict) or not content:
        raise ValueError(
            f"{path}: expected a non-empty dict {{(modulation, snr): array}}, got {type(content).__name__}"
        )
    values = [value for value in content.values() if isinstance(value, np.ndarray)]
    if sum(value.nbytes for value in values) > path.stat().st_size:
        raise ValueError(f"{path}: its arrays hold more bytes than the file; keys share arrays or "
                         "repeat their bytes")
    examples = sum(value.shape[0] for value in values if value.ndim)
    if not 0 < examples <= MAX_EXAMPLES:
        raise ValueError(f"{path}: holds {examples} examples; expected 1 to {MAX_EXAMPLES}")
    cells: dict[tuple[str, int], np.ndarray] = {}
    length = None
    for key, value in content.items():
        checked_key = _check_key(path, key)
        cells[checked_key] = _check_value(path, checked_key, value, length)
        length = cells[checked_key].shape[2]
    classes = tuple(sorted({modulation for modulation, _ in cells}))
    ordered = sorted(cells)
    counts = [cells[key].shape[0] for key in ordered]
    iq = channels_first_to_complex(np.concatenate([cells[key] for key in ordered]))
    labels = np.repeat([classes.index(modulation) for modulation, _ in ordered], counts).astype(np.int64)
    snrs = np.repeat([snr for _, snr in ordered], counts).astype(np.int64)
    return RadioMLArrays(classes=classes, iq=iq, labels=labels, snrs=snrs)


def _piece(obj: object) -> bytes:
    """``obj`` pickled without the protocol header and the STOP opcode."""
    return pickle.dumps(obj, protocol=_PIECE_PROTOCOL)[2:-1]


class Rml2016PickleWriter:
    """Stream examples into a RadioML 2016-layout pickle, atomically.

    Examples arrive in chunks grouped by (class, SNR): all chunks of one cell consecutively. Each finished
    cell is pickled straight to the file as one dict entry (a hand-assembled dict: ``EMPTY_DICT`` then
    ``key value SETITEM`` per cell), so memory holds one cell. Keys are ``(name, snr)`` with ``name`` a
    ``str`` and ``snr`` an ``int``; values float32 ``[n, 2, samples]``. Loads with plain ``pickle.load``
    in Python 3 (protocol 3; Python 2 cannot read it).

    Use as a context manager; the file appears under its final name only when the block succeeds.
    """

    def __init__(self, path: str | os.PathLike, classes: tuple[str, ...]):
        self.path = Path(path)
        self.classes = tuple(classes)
        self._temporary: Path | None = None
        self._handle = None
        self._cell: tuple[str, int] | None = None
        self._cell_chunks: list[np.ndarray] = []
        self._written: set[tuple[str, int]] = set()

    def __enter__(self) -> "Rml2016PickleWriter":
        self._temporary = temporary_sibling(self.path)
        self._handle = open(self._temporary, "wb")
        self._handle.write(pickle.PROTO + bytes([_PIECE_PROTOCOL]) + pickle.EMPTY_DICT)
        return self

    def write(self, iq: torch.Tensor, labels: np.ndarray, snrs: np.ndarray) -> None:
        """Append examples: complex64 ``[n, samples]``, int ``[n]`` labels, int ``[n]`` SNRs (dB).

        Raises:
            ValueError: the chunk mixes cells, or returns to a cell already finished.
        """
        labels, snrs = np.asarray(labels), np.asarray(snrs)
        if len(labels) == 0:
            return
        if (labels != labels[0]).any() or (snrs != snrs[0]).any():
            raise ValueError(f"{self.path}: a chunk for the 2016 pickle layout must hold one (class, SNR) cell")
        cell = (self.classes[int(labels[0])], int(snrs[0]))
        if cell != self._cell:
            self._flush_cell()
            if cell in self._written:
                raise ValueError(f"{self.path}: cell {cell} arrived after it was finished; group chunks by cell")
            self._cell = cell
        self._cell_chunks.append(complex_to_channels_first(iq))

    def _flush_cell(self) -> None:
        if self._cell is None:
            return
        self._handle.write(_piece(self._cell))
        self._handle.write(_piece(np.concatenate(self._cell_chunks)))
        self._handle.write(pickle.SETITEM)
        self._written.add(self._cell)
        self._cell, self._cell_chunks = None, []

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if exc_type is None:
                self._flush_cell()
                self._handle.write(pickle.STOP)
            self._handle.close()
            if exc_type is None:
                os.replace(self._temporary, self.path)
        finally:
            if self._temporary.exists():
                self._temporary.unlink()
