"""Load RadioML-style datasets: 2016.10a/10b pickles and 2018.01A-layout HDF5 (original or rfnet-written).

>>> from rfnet.data import load_radioml
>>> data = load_radioml("RML2016.10a_dict.pkl", snr_range=(0, 18), classes=["BPSK", "QPSK"])
>>> iq, label, snr = data[0]          # complex64 [128], 0, 0
>>> data.classes, data.snrs           # ('BPSK', 'QPSK'), [0, 2, ..., 18]

The format is read from the file's first bytes (HDF5 signature, else a pickle), not its name: 10b ships
as ``RML2016.10b.dat`` (a file named ``.h5``/``.hdf5`` without the signature is reported as a broken
HDF5 file, not as a bad pickle). Pickles are loaded whole and checked on load (layout, NaN/Inf); HDF5
files are read lazily and checked per item on access.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rfnet.data.examples import IQExamples
from rfnet.data.radioml_hdf5 import RadioMLHDF5
from rfnet.data.radioml_pickle import read_rml2016_pickle
from rfnet.data.selection import select_examples

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Names that promise HDF5: such a file without the signature is reported as a broken HDF5 file.
_HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def is_hdf5(path: Path) -> bool:
    """Whether ``path`` starts with the HDF5 signature."""
    with open(path, "rb") as handle:
        return handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE


def load_radioml(
    path: str | os.PathLike,
    *,
    snr_range: tuple[float, float] | None = None,
    classes: Sequence[str] | None = None,
) -> IQExamples | RadioMLHDF5:
    """Open a RadioML-style file as a torch ``Dataset`` of ``(iq complex64 [samples], label, snr_db)``.

    Args:
        path: a 2016-layout pickle or a 2018-layout HDF5 file.
        snr_range: ``(low_db, high_db)``, both included; ``None`` keeps every SNR.
        classes: class names to keep, in the label order wanted; ``None`` keeps all in the file's order.

    Returns:
        A dataset with ``.classes`` (names in label order: ``classes`` if given, else the file's: the
        ``classes`` attribute of an rfnet HDF5, the paper's 24 for an original 2018 file, the sorted
        modulation names of a pickle), ``.snrs`` (sorted unique SNRs in dB),
        ``.labels`` and ``.example_snrs`` (per example, numpy).

    Raises:
        FileNotFoundError: no such file.
        ValueError: unreadable, foreign-object or malformed file; unknown class; nothing selected.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.name.endswith((".sigmf-meta", ".sigmf-data", ".sigmf")):
        raise ValueError(f"{path}: a SigMF recording, not a RadioML file; open it with "
                         "rfnet.data.SigMFWindows(path, length)")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file, neither a RadioML pickle nor an HDF5 file")
    if is_hdf5(path):
        return RadioMLHDF5(path, snr_range=snr_range, classes=classes)
    if path.suffix.lower() in _HDF5_SUFFIXES:
        raise ValueError(f"{path}: not an HDF5 file (it does not start with the HDF5 signature)")
    arrays = read_rml2016_pickle(path)
    selection = select_examples(
        str(path), arrays.classes, arrays.labels, arrays.snrs, classes=classes, snr_range=snr_range
    )
    rows = selection.rows
    iq = arrays.iq if len(rows) == len(arrays.labels) else arrays.iq[rows]
    return IQExamples(iq, selection.labels, arrays.snrs[rows], selection.classes, str(path))
