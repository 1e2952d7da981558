"""A restricted unpickler for RadioML 2016 pickles: numpy arrays, tuples, strings and numbers only.

A pickle can name any importable callable and have it called while loading (``os.system`` and friends),
so the standard ``pickle.load`` must never see a file from elsewhere. :func:`load_numpy_pickle` admits
only the globals that numpy arrays and scalars need to be rebuilt, under every name they have been
pickled with:

- Python 2 (how RML2016.10a/10b were written): ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
  ``numpy.dtype``, ``numpy.core.multiarray.scalar``; byte strings come back as latin-1 text, which numpy
  accepts (``encoding='latin1'``, as numpy documents for Python 2 pickles).
- Python 3, protocol 2: the same, plus ``_codecs.encode`` (how protocol 2 spells a ``bytes`` object).
- numpy 2 writes ``numpy._core...`` instead of ``numpy.core...``; protocol 5 uses
  ``numpy._core.numeric._frombuffer``.

Every other global is refused, before anything is called, with a ``ValueError`` naming the file and the
global.
"""

from __future__ import annotations

import _codecs
import os
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np

# The real modules behind both spellings. numpy 2 renamed numpy.core to numpy._core (numpy.core still
# imports there, with a DeprecationWarning); numpy 1.26 ships only a stub numpy._core for unpickling (it
# has multiarray but no numeric), so on numpy 1.x the modules come from numpy.core. Either way the
# allow-list below maps both spellings to the same functions, so pickles from either numpy load on either.
try:
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _codecs.encode,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED_GLOBALS[(_module, "_reconstruct")] = _multiarray._reconstruct
    _ALLOWED_GLOBALS[(_module, "scalar")] = _multiarray.scalar
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED_GLOBALS[(_module, "_frombuffer")] = _numeric._frombuffer


class _RefusedGlobal(ValueError):
    """The pickle names a global outside :data:`_ALLOWED_GLOBALS`."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only :data:`_ALLOWED_GLOBALS`."""

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedGlobal(
                f"{self._path}: refusing to load pickle: it references {module}.{name}, which is not "
                "part of a numpy array (only numpy arrays, tuples, strings and numbers are allowed)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _RefusedGlobal(f"{self._path}: refusing to load pickle: it uses persistent ids")


def load_numpy_pickle(path: str | os.PathLike) -> Any:
    """Load a pickle that may hold only numpy arrays, dicts, tuples, lists, strings and numbers.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the pickle references anything else, or is truncated or corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as handle:
        try:
            return _NumpyOnlyUnpickler(handle, path).load()
        except _RefusedGlobal:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                KeyError, struct.error) as err:
            raise ValueError(f"{path}: not a readable pickle ({type(err).__name__}: {err})") from None
