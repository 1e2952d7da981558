"""A restricted unpickler for RadioML 2016 pickles: numpy arrays, tuples, strings and numbers only.

A pickle can name any importable callable and have it called while loading (``os.system`` and friends),
so the standard ``pickle.load`` must never see a file from elsewhere. :func:`load_numpy_pickle` admits
only the globals that numpy arrays and scalars need to be rebuilt, under every name they have been
pickled with:

- Python 2 (how RML2016.10a/10b were written): ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
  ``numpy.dtype``, ``numpy.core.multiarray.scalar``; byte strings come back as latin-1 text, which numpy
  accepts (``encoding='latin1'``, as numpy documents for Python 2 pickles).
- Python 3, protocol 2: the same, plus ``_codecs.encode`` (how protocol 2 spells a ``bytes`` object) and
  ``builtins.bytes`` (how it spells an empty one, e.g. the data of an empty array).
- numpy 2 writes ``numpy._core...`` instead of ``numpy.core...``; protocol 5 uses
  ``numpy._core.numeric._frombuffer``.

Even allowed callables are dangerous with hostile arguments (``numpy.ndarray((2**33,), 'f4')`` asks for
32 GiB of uninitialised memory; ``bytes(2**40)`` for a terabyte), so each is handed out only in the
form a real pickle uses: ``numpy.ndarray`` only as ``_reconstruct``'s empty template (the array's bytes
then come from the file, and numpy checks they match its shape), ``numpy.dtype`` only for numeric
kinds, ``_codecs.encode`` only for latin-1 text, ``bytes`` only with no argument; and ``BUILD`` sets only
dtypes and arrays, from states of the form numpy writes (numpy trusts a dtype's state: a hostile one
crashes the interpreter). Before unpickling, every opcode is walked once without building
anything: a declared length (``BINBYTES8``, ``FRAME``, ``BINUNICODE``, ...) longer than what is left of
the file, a memo index no real pickler would write, or more than
:data:`~rfnet.data.limits.MAX_PICKLE_OPCODES` opcodes is refused. So no array can hold more bytes than
the file gave it, and nothing is allocated from a size the file merely claims.

Every refusal is a ``ValueError`` naming the file and the problem.
"""

from __future__ import annotations

import _codecs
import os
import pickle
import pickletools
import re
import reprlib
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rfnet.data.limits import MAX_PICKLE_OPCODES

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


class _Refused(ValueError):
    """The pickle asks for something outside what a numpy array needs; the message says what."""


class _Malformed(ValueError):
    """The pickle is cut short or declares sizes and indices that its bytes do not back."""


class _NdarrayTemplate:
    """What the global ``numpy.ndarray`` unpickles to: a token only ``_reconstruct`` accepts."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "numpy.ndarray"

    def __call__(self, *args):
        raise _Refused("it calls numpy.ndarray directly (shape, strides and buffer of its choosing), as no "
                       "real pickle does; numpy pickles arrays through _reconstruct")


_NDARRAY = _NdarrayTemplate()


class _Allowed:
    """A callable the unpickler hands out: positional arguments only, and not a class (``NEWOBJ``
    needs one)."""

    __slots__ = ("_function",)

    def __init__(self, function):
        self._function = function

    def __call__(self, *args):
        return self._function(*args)


def _reconstruct(template: object, shape: object, typecode: object) -> np.ndarray:
    """``_reconstruct(ndarray, (0,), b'b')``, the empty array a pickled array's ``BUILD`` then fills."""
    if template is not _NDARRAY or shape != (0,) or typecode not in (b"b", "b"):
        raise _Refused(f"_reconstruct{(template, shape, typecode)!r} is not how numpy pickles an array; "
                       "only _reconstruct(numpy.ndarray, (0,), b'b') is")
    return _multiarray._reconstruct(np.ndarray, (0,), b"b")


def _numeric_dtype(spec: object, align: object = False, copy: object = True) -> np.dtype:
    """``dtype('f4', False, True)``: how numpy pickles a dtype (its byte order follows in ``BUILD``).

    Only plain numeric kinds are rebuilt (bool, integers, floats, complex); a copy, so the ``BUILD``
    that follows cannot alter numpy's shared instance.
    """
    if not isinstance(spec, str) or not _NUMERIC_DTYPE.fullmatch(spec):
        raise _Refused(f"dtype {reprlib.repr(spec)} is not a plain numeric dtype (bool, int, uint, float, "
                       "complex)")
    return np.dtype(spec, align=bool(align), copy=True)


def _check_dtype_state(state: object) -> None:
    """A numeric dtype's pickled state: ``(3, byte order, None, None, None, -1, -1, 0)``. numpy trusts
    this state (``dtype('S4').__setstate__((3, '=', 1, 3, 8, 16))`` crashes the interpreter)."""
    if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3 and state[1] in _BYTE_ORDERS
            and state[2:] == (None, None, None, -1, -1, 0)):
        raise _Refused(f"dtype state {reprlib.repr(state)} is not that of a plain numeric dtype")


def _check_array_state(state: object) -> None:
    """An array's pickled state: ``(1, shape, dtype, fortran order, raw bytes)`` (numpy then checks that
    the bytes match the shape)."""
    if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1
            and isinstance(state[1], tuple) and all(isinstance(n, int) and n >= 0 for n in state[1])
            and isinstance(state[2], np.dtype) and isinstance(state[3], bool)
            and isinstance(state[4], (bytes, str))):
        raise _Refused(f"array state {reprlib.repr(state)} is not (1, shape, dtype, fortran, bytes)")


def _latin1_bytes(text: object, encoding: object) -> bytes:
    """``_codecs.encode(text, 'latin1')``: how protocol 2 stores a ``bytes`` object."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode is allowed only on text with 'latin1', not with {encoding!r}")
    return _codecs.encode(text, "latin1")


def _empty_bytes(*args: object) -> bytes:
    """``bytes()``: how protocol 2 stores an empty ``bytes`` object (e.g. an empty array's data)."""
    if args:
        raise _Refused("builtins.bytes is allowed only with no argument (an empty bytes object)")
    return b""


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Allowed(_numeric_dtype),
    ("_codecs", "encode"): _Allowed(_latin1_bytes),
    ("__builtin__", "bytes"): _Allowed(_empty_bytes),
    ("builtins", "bytes"): _Allowed(_empty_bytes),
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED_GLOBALS[(_module, "_reconstruct")] = _Allowed(_reconstruct)
    _ALLOWED_GLOBALS[(_module, "scalar")] = _Allowed(_multiarray.scalar)
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED_GLOBALS[(_module, "_frombuffer")] = _Allowed(_numeric._frombuffer)

#: dtype specs as numpy pickles them: kind and size in bytes, byte order left to the state.
_NUMERIC_DTYPE = re.compile(r"[biufc][0-9]{1,2}")
_BYTE_ORDERS = ("<", ">", "|", "=")

_OPCODES = {opcode.code.encode("latin1")[0]: opcode for opcode in pickletools.opcodes}
#: Opcodes that store into the memo at an index given in their argument.
_MEMO_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
#: Argument length prefixes (pickletools' ``n``): bytes of the prefix and its struct format.
_LENGTH_PREFIXES = {
    pickletools.TAKEN_FROM_ARGUMENT1: (1, "<B"),
    pickletools.TAKEN_FROM_ARGUMENT4: (4, "<i"),
    pickletools.TAKEN_FROM_ARGUMENT4U: (4, "<I"),
    pickletools.TAKEN_FROM_ARGUMENT8U: (8, "<Q"),
}


def _read_exactly(handle: BinaryIO, count: int) -> bytes:
    data = handle.read(count)
    if len(data) != count:
        raise _Malformed("the pickle ends in the middle of an opcode (truncated?)")
    return data


def _check_opcodes(handle: BinaryIO, size: int) -> None:
    """Walk the opcodes of the pickle in ``handle`` (``size`` bytes) without building anything.

    Raises ``_Malformed`` for an unknown opcode, a declared length beyond the end of the file, a memo
    index beyond the number of opcodes so far or no STOP; ``_Refused`` for more than
    ``MAX_PICKLE_OPCODES`` opcodes.
    """
    for count in range(MAX_PICKLE_OPCODES):
        code = handle.read(1)
        if not code:
            raise _Malformed("the pickle ends without its STOP opcode (truncated?)")
        opcode = _OPCODES.get(code[0])
        if opcode is None:
            raise _Malformed(f"unknown pickle opcode {code!r} at byte {handle.tell() - 1}")
        if opcode.name == "STOP":
            return
        if opcode.arg is None:
            continue
        length = opcode.arg.n
        if length >= 0:
            argument = _read_exactly(handle, length)
        elif length == pickletools.UP_TO_NEWLINE:
            lines = 2 if opcode.arg.name == "stringnl_noescape_pair" else 1
            argument = b"".join(handle.readline() for _ in range(lines))
            if not argument.endswith(b"\n"):
                raise _Malformed(f"{opcode.name} at byte {handle.tell()} runs to the end of the file")
        else:
            prefix_bytes, prefix_format = _LENGTH_PREFIXES[length]
            (declared,) = struct.unpack(prefix_format, _read_exactly(handle, prefix_bytes))
            remaining = size - handle.tell()
            if not 0 <= declared <= remaining:
                raise _Malformed(f"{opcode.name} at byte {handle.tell() - prefix_bytes - 1} declares "
                               f"{declared} bytes but only {remaining} follow in the file")
            handle.seek(declared, os.SEEK_CUR)
            continue
        if opcode.name == "FRAME":
            (declared,) = struct.unpack("<Q", argument)
            if declared > size - handle.tell():
                raise _Malformed(f"FRAME at byte {handle.tell() - 9} declares {declared} bytes but only "
                               f"{size - handle.tell()} follow in the file")
        if opcode.name in _MEMO_PUTS:
            index = int(argument) if opcode.name == "PUT" else int.from_bytes(argument, "little")
            if not 0 <= index <= count:
                raise _Malformed(f"{opcode.name} at byte {handle.tell()} stores memo entry {index} after "
                               f"only {count} opcodes")
    raise _Refused(f"the pickle has more than {MAX_PICKLE_OPCODES} opcodes; a RadioML pickle has a few "
                   "thousand")


class _NumpyOnlyUnpickler(pickle._Unpickler):
    """Python's own unpickler (not the C one: its ``BUILD`` cannot be checked) whose ``find_class``
    admits only :data:`_ALLOWED_GLOBALS` and whose ``BUILD`` sets only numeric dtypes and arrays from
    states of the form numpy writes. A RadioML pickle has a few thousand opcodes, so the Python loop
    costs nothing next to reading the arrays' bytes."""

    def __init__(self, file):
        super().__init__(file, encoding="latin1")

    def load_build(self) -> None:
        state, target = self.stack[-1], self.stack[-2]
        if isinstance(target, np.dtype):
            _check_dtype_state(state)
        elif isinstance(target, np.ndarray):
            _check_array_state(state)
        else:
            raise _Refused(f"it sets the state of a {type(target).__name__}; only numpy dtypes and arrays "
                           "have one")
        super().load_build()

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _Refused(
                f"it references {module}.{name}, which is not part of a numpy array (only numpy arrays, "
                "tuples, strings and numbers are allowed)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("it uses persistent ids")


def load_numpy_pickle(path: str | os.PathLike) -> Any:
    """Load a pickle that may hold only numpy arrays, dicts, tuples, lists, strings and numbers.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the pickle references anything else, declares sizes its file does not hold, or is
            empty, truncated or corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: empty file, not a pickle")
    with open(path, "rb") as handle:
        try:
            _check_opcodes(handle, size)
            handle.seek(0)
            return _NumpyOnlyUnpickler(handle).load()
        except _Refused as err:
            raise ValueError(f"{path}: refusing to load pickle: {err}") from None
        except _Malformed as err:
            raise ValueError(f"{path}: not a readable pickle: {err}") from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                KeyError, LookupError, OverflowError, MemoryError, RecursionError, struct.error) as err:
            raise ValueError(f"{path}: not a readable pickle ({type(err).__name__}: {err})") from None
