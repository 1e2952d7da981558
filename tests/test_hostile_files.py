"""Hostile and careless files (issue 14): every reader gives a correct load or one sentence naming the file.

Each file of the issue is built on disk, plus hypothesis-made variants of pickles, HDF5 files and SigMF
metadata, and read by the entry point the command line and dashboard use (``open_data`` for RadioML
files, ``read_iq_file`` for SigMF and ``.npy``). Every read runs in a forked child under an address-space
limit (``RLIMIT_AS``: what the test process already maps plus :data:`MEMORY_BYTES`) and a time limit, so a
memory bomb or a hang fails the test instead of the machine, and the folder holding the file must be
unchanged afterwards (a reader writes nothing).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import pickle
import re
import resource
import select
import signal
import struct
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfnet.data.iq_file import read_iq_file
from rfnet.data.sigmf_io import SigMFWriter
from rfnet.jobs.datasets import DataSpec, _in_memory, open_data

MEMORY_BYTES = 1 << 30
SECONDS = 60
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a bounded read ended: ``kind`` is "ok" (``value`` is the reader's summary), "raised"
    (``error`` is the exception's type name, ``message`` its text), "hang" or "died"."""

    kind: str
    value: object = None
    error: str = ""
    message: str = ""
    clear: bool = False  # the exception is a ValueError or FileNotFoundError (subclasses included)


def _mapped_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _child(read, path: Path, write_fd: int) -> None:
    torch.set_num_threads(1)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_mapped_bytes() + MEMORY_BYTES, hard))
    try:
        result = Outcome("ok", value=read(path))
    except BaseException as err:  # noqa: BLE001 - the parent judges every exception
        result = Outcome("raised", error=type(err).__name__, message=str(err)[:2000],
                         clear=isinstance(err, (ValueError, FileNotFoundError)))
    with os.fdopen(write_fd, "wb") as pipe:
        pickle.dump(result, pipe)


def bounded(read, path: Path) -> Outcome:
    """``read(path)`` in a forked child with at most MEMORY_BYTES more address space and SECONDS."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _child(read, path, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    deadline, data = time.monotonic() + SECONDS, b""
    with os.fdopen(read_fd, "rb") as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Outcome("hang")
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            data += chunk
    _, status = os.waitpid(pid, 0)
    return pickle.loads(data) if data else Outcome("died", message=f"wait status {status}")


def _folder_state(folder: Path) -> dict:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def read_bounded(read, path: Path) -> Outcome:
    """:func:`bounded`, asserting that the folder holding ``path`` is left as it was."""
    before = _folder_state(path.parent)
    outcome = bounded(read, path)
    assert _folder_state(path.parent) == before, "a reader wrote into the folder"
    return outcome


def assert_clear_error(outcome: Outcome, path: Path, pattern: str) -> None:
    assert outcome.kind == "raised" and outcome.clear, outcome
    assert str(path) in outcome.message, outcome
    assert re.search(pattern, outcome.message), outcome


def assert_load_or_clear_error(outcome: Outcome, path: Path) -> None:
    assert outcome.kind in ("ok", "raised"), outcome
    if outcome.kind == "raised":
        assert outcome.clear and str(path) in outcome.message, outcome


def radioml_summary(path: Path) -> tuple:
    """What ``--data FILE`` gives: examples, class names, sample count (all examples read and checked)."""
    data = open_data(DataSpec(str(path)))
    return len(data), data.classes, data.num_samples


def iq_summary(path: Path) -> tuple:
    """What the dashboard and ``classify`` read from a capture: sample count and dtype."""
    stream = read_iq_file(path)
    return stream.samples.shape[0], str(stream.samples.dtype)


def windows_summary(path: Path) -> tuple:
    """What ``--data capture.sigmf-meta`` gives: labelled windows of 16 samples, all read."""
    data = open_data(DataSpec(str(path), window_samples=16))
    return len(data), data.classes


# ---- pickles: raw opcodes, so each file is exactly the hostile one ------------------------------------

PROTO2 = pickle.PROTO + b"\x02"


def short_text(text: str) -> bytes:
    return pickle.BINUNICODE + struct.pack("<I", len(text)) + text.encode()


def global_(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def small_int(value: int) -> bytes:
    return pickle.BININT + struct.pack("<i", value)


def cell(key_modulation: str, key_snr: bytes, value: bytes) -> bytes:
    """``{(modulation, snr): value}`` as a whole protocol-2 pickle."""
    return (PROTO2 + pickle.EMPTY_DICT + short_text(key_modulation) + key_snr + pickle.TUPLE2 + value
            + pickle.SETITEM + pickle.STOP)


def ndarray_call(*arguments: bytes) -> bytes:
    """``numpy.ndarray(*arguments)`` called directly, as no real pickle does."""
    return global_("numpy", "ndarray") + pickle.MARK + b"".join(arguments) + pickle.TUPLE + pickle.REDUCE


def shape(*extents: int) -> bytes:
    return pickle.MARK + b"".join(small_int(e) for e in extents) + pickle.TUPLE


def raw_bytes(data: bytes) -> bytes:
    return pickle.BINBYTES + struct.pack("<I", len(data)) + data


SNR0 = small_int(0)
SHARED_CELL = np.zeros((1024, 2, 128), np.float32)  # 1 MiB, pickled once, referenced by 1,000 keys

HOSTILE_PICKLES = {
    # item 2: a 68-byte pickle that asks numpy for 40 GiB
    "ndarray_40gib": (cell("BPSK", SNR0, ndarray_call(shape(41943040, 2, 128), short_text("f4"))),
                      r"refusing to load pickle: _reconstruct|refusing to load pickle: .*numpy\.ndarray"),
    # item 2: zero strides turn 1 KiB into 1,000 identical examples
    "zero_strides": (cell("BPSK", SNR0, ndarray_call(shape(1000, 2, 128), short_text("f4"), raw_bytes(bytes(1024)),
                                                     small_int(0), shape(0, 512, 4))),
                     r"refusing to load pickle"),
    # item 2: an array with no data buffer holds whatever memory had
    "no_buffer": (cell("BPSK", SNR0, ndarray_call(shape(3, 2, 8), short_text("f4"))), r"refusing to load pickle"),
    "reconstruct_2_40": (cell("BPSK", SNR0, global_("numpy.core.multiarray", "_reconstruct")
                              + global_("numpy", "ndarray") + shape(2**30) + short_text("b") + pickle.TUPLE3
                              + pickle.REDUCE), r"_reconstruct.*is not how numpy pickles an array"),
    "bytes_2_40": (cell("BPSK", SNR0, global_("__builtin__", "bytes") + shape(2**30) + pickle.REDUCE),
                   r"bytes is allowed only with no argument"),
    # item 8: declared sizes far beyond the file
    "binbytes8_huge": (PROTO2[:1] + b"\x04" + pickle.BINBYTES8 + struct.pack("<Q", 2**60) + b"abc",
                       r"not a readable pickle: BINBYTES8 at byte 2 declares 1152921504606846976 bytes"),
    "frame_huge": (PROTO2[:1] + b"\x04" + pickle.FRAME + struct.pack("<Q", 2**62) + pickle.NONE + pickle.STOP,
                   r"not a readable pickle: FRAME .* declares 4611686018427387904 bytes"),
    "binunicode_huge": (PROTO2 + pickle.BINUNICODE + struct.pack("<I", 2**32 - 16) + b"a" + pickle.STOP,
                        r"not a readable pickle: BINUNICODE .* declares 4294967280 bytes"),
    "memo_index_huge": (PROTO2 + pickle.NONE + pickle.LONG_BINPUT + struct.pack("<I", 2**32 - 1) + pickle.STOP,
                        r"stores memo entry 4294967295"),
    "codecs_encodings_os": (cell("BPSK", SNR0, global_("_codecs", "encode") + short_text("x")
                                 + short_text("encodings.os") + pickle.TUPLE2 + pickle.REDUCE),
                            r"_codecs\.encode is allowed only .* 'encodings\.os'"),
    # numpy trusts a dtype's pickled state: this one crashes the interpreter (SIGSEGV)
    "dtype_state_crash": (cell("BPSK", SNR0, global_("numpy", "dtype") + short_text("f4") + pickle.NEWFALSE
                               + pickle.NEWTRUE + pickle.TUPLE3 + pickle.REDUCE + pickle.MARK + small_int(3)
                               + short_text("=") + small_int(1) + small_int(3) + small_int(8) + small_int(16)
                               + pickle.TUPLE + pickle.BUILD),
                          r"dtype state \(3, '=', 1, 3, 8, 16\) is not that of a plain numeric dtype"),
    "text_dtype": (cell("BPSK", SNR0, global_("numpy", "dtype") + short_text("S4") + pickle.NEWFALSE
                        + pickle.NEWTRUE + pickle.TUPLE3 + pickle.REDUCE), r"dtype 'S4' is not a plain numeric"),
    "snr_1e300": (cell("BPSK", pickle.BINFLOAT + struct.pack(">d", 1e300),
                       pickle.dumps(np.zeros((1, 2, 8), np.float32), protocol=2)[2:-1]),
                  r"SNR beyond the ±1000 dB"),
}


@pytest.mark.parametrize("name", HOSTILE_PICKLES)
def test_hostile_pickles_are_one_sentence(tmp_path, name):
    content, pattern = HOSTILE_PICKLES[name]
    path = tmp_path / f"{name}.pkl"
    path.write_bytes(content)
    assert_clear_error(read_bounded(radioml_summary, path), path, pattern)


def test_arrays_shared_between_keys_are_refused(tmp_path):
    """Item 2: one 1 MiB array under 1,000 keys (pickle's memo) would become 1 GiB of examples."""
    path = tmp_path / "shared.pkl"
    path.write_bytes(pickle.dumps({("BPSK", snr): SHARED_CELL for snr in range(-500, 500)}, protocol=2))
    assert path.stat().st_size < 2 * SHARED_CELL.nbytes
    assert_clear_error(read_bounded(radioml_summary, path), path, r"arrays hold more bytes than the file")


def test_values_beyond_float32_are_refused_not_cast_to_inf(tmp_path):
    """Item 5: float64 1e300 passes a finite check, then becomes inf in the float32 cast."""
    for suffix in ("pkl", "h5"):
        path = tmp_path / f"huge.{suffix}"
        values = np.zeros((4, 2, 16))
        values[2, 0, 3] = 1e300
        if suffix == "pkl":
            path.write_bytes(pickle.dumps({("BPSK", 0): values}))
        else:
            write_hdf5(path, X=values.transpose(0, 2, 1), Y=np.eye(24)[[0, 1, 2, 3]], Z=np.zeros((4, 1)))
        assert_clear_error(read_bounded(radioml_summary, path), path, r"beyond float32's range")


def test_in_memory_check_names_the_bad_example():
    """Item 5: the NaN / infinity check of ``--data`` itself (it called a torch function that does not exist)."""
    iq = torch.zeros(5, 8, dtype=torch.complex64)
    iq[3, 2] = complex("inf")
    dataset = [(iq[k], 0, 0) for k in range(5)]
    with pytest.raises(ValueError, match=r"capture\.h5: 1 example\(s\) contain NaN or infinite samples "
                                         r"\(first at index 3\)"):
        _in_memory(dataset, 8, "capture.h5", ("BPSK",))


def test_protocol2_pickle_with_an_empty_array_loads(tmp_path):
    """Item 9: protocol 2 spells an empty array's data ``__builtin__.bytes()``; it is not foreign."""
    path = tmp_path / "empty_cell.pkl"
    cells = {("BPSK", 0): np.zeros((0, 2, 16), np.float32), ("QPSK", 0): np.ones((4, 2, 16), np.float32)}
    path.write_bytes(pickle.dumps(cells, protocol=2))
    assert b"c__builtin__\nbytes" in path.read_bytes()
    outcome = read_bounded(radioml_summary, path)
    assert outcome == Outcome("ok", value=(4, ("BPSK", "QPSK"), 16))


# ---- HDF5 -------------------------------------------------------------------------------------------

def write_hdf5(path: Path, attributes: dict | None = None, **datasets) -> None:
    with h5py.File(path, "w") as handle:
        for name, value in datasets.items():
            handle[name] = value
        for name, value in (attributes or {}).items():
            handle.attrs[name] = value


def two_rows(**x) -> dict:
    return {"Y": np.eye(24)[[0, 1]], "Z": np.zeros((2, 1)), **x}


HOSTILE_HDF5 = {
    "zero_samples": (two_rows(X=np.zeros((2, 0, 2), np.float32)), r"X has 0 samples per example"),
    "zero_examples": ({"X": np.zeros((0, 8, 2), np.float32), "Y": np.zeros((0, 24)), "Z": np.zeros((0, 1))},
                      r"X has 0 examples"),
    "string_x": (two_rows(X=np.full((2, 8, 2), b"ab")), r"X has dtype \|S2; expected float32"),
    "complex_x": (two_rows(X=np.ones((2, 8, 2), np.complex64)), r"X holds complex numbers"),
    "uint64_x": (two_rows(X=np.full((2, 8, 2), 2**63, np.uint64)), r"X has dtype uint64"),
}


@pytest.mark.parametrize("name", HOSTILE_HDF5)
def test_hostile_hdf5_is_one_sentence(tmp_path, name):
    datasets, pattern = HOSTILE_HDF5[name]
    path = tmp_path / f"{name}.h5"
    write_hdf5(path, **datasets)
    assert_clear_error(read_bounded(radioml_summary, path), path, pattern)


def test_hdf5_declaring_a_trillion_rows_in_a_tiny_file(tmp_path):
    """Item 2: chunked datasets with no stored chunks declare any extent at no cost in bytes."""
    path = tmp_path / "sparse.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("X", shape=(2**40, 128, 2), chunks=(1, 128, 2), dtype="f4")
        handle.create_dataset("Y", shape=(2**40, 24), chunks=(1, 24), dtype="u1")
        handle.create_dataset("Z", shape=(2**40, 1), chunks=(1, 1), dtype="i8")
    assert path.stat().st_size < 100_000
    assert_clear_error(read_bounded(radioml_summary, path), path, r"X has 1099511627776 examples")


def test_empty_h5_is_called_empty(tmp_path):
    path = tmp_path / "nothing.h5"
    path.write_bytes(b"")
    assert_clear_error(read_bounded(radioml_summary, path), path, r"empty file")


def test_hdf5_byte_class_names_decode(tmp_path):
    """Item 7: classes stored as numpy S arrays (as other tools write them) are names, not "b'OOK'"."""
    path = tmp_path / "bytes_classes.h5"
    write_hdf5(path, {"classes": np.array([b"OOK", b"BPSK"])}, X=np.ones((4, 8, 2), np.float32),
               Y=np.eye(2)[[0, 1, 0, 1]], Z=np.zeros((4, 1)))
    assert read_bounded(radioml_summary, path) == Outcome("ok", value=(4, ("OOK", "BPSK"), 8))


# ---- SigMF and .npy -----------------------------------------------------------------------------------

def sigmf_pair(folder: Path, name: str, data: bytes, **global_fields) -> Path:
    meta = {"global": {"core:datatype": "cf32_le", "core:version": "1.2.0", **global_fields},
            "captures": [{"core:sample_start": 0}], "annotations": []}
    (folder / f"{name}.sigmf-data").write_bytes(data)
    (folder / f"{name}.sigmf-meta").write_text(json.dumps(meta))
    return folder / f"{name}.sigmf-meta"


def noise_bytes(n: int = 4096) -> bytes:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64).tobytes()


def archive_bytes(folder: Path) -> bytes:
    """A valid uncompressed ``.sigmf`` archive, as rfnet writes it."""
    source = folder / "source" / "valid.sigmf"
    source.parent.mkdir()
    with SigMFWriter(source, classes=("BPSK",), sample_rate_hz=1e6) as writer:
        writer.write(torch.ones(4, 256, dtype=torch.complex64), np.zeros(4, int), np.zeros(4, int))
    content = source.read_bytes()
    source.unlink()
    source.parent.rmdir()
    return content


def test_gzip_compressed_archive_does_not_hang(tmp_path):
    """Item 1: sigmf's checksum loop ran past the end of the compressed stream forever."""
    path = tmp_path / "x.sigmf"
    path.write_bytes(gzip.compress(archive_bytes(tmp_path)))
    assert_clear_error(read_bounded(iq_summary, path), path, r"gzip-compressed file; a \.sigmf archive is an "
                                                             r"uncompressed tar")


@pytest.mark.parametrize("name, cut, pattern", [
    ("garbage", lambda whole: b"\x00garbage" * 300, r"not a readable SigMF archive|holds one \.sigmf-meta"),
    ("empty", lambda whole: b"", r"empty file"),
    ("truncated", lambda whole: whole[: len(whole) // 2], r"truncated|not a readable SigMF archive"),
])
def test_broken_archives_are_one_sentence(tmp_path, name, cut, pattern):
    """Item 8: tarfile.ReadError tracebacks."""
    path = tmp_path / f"{name}.sigmf"
    path.write_bytes(cut(archive_bytes(tmp_path)))
    assert_clear_error(read_bounded(iq_summary, path), path, pattern)


def test_valid_archive_still_loads(tmp_path):
    path = tmp_path / "fine.sigmf"
    path.write_bytes(archive_bytes(tmp_path))
    assert read_bounded(iq_summary, path) == Outcome("ok", value=(1024, "torch.complex64"))


@pytest.mark.parametrize("name, fields, pattern", [
    ("no_channels", {"core:num_channels": 0}, r"core:num_channels is 0; expected a whole number >= 1"),
    ("trailing_text", {"core:trailing_bytes": "abc"}, r"core:trailing_bytes is 'abc'"),
    ("lying_datatype", {"core:datatype": "ci16_le"}, r"data does not fit core:datatype ci16_le"),
])
def test_hostile_sigmf_metadata_is_one_sentence(tmp_path, name, fields, pattern):
    """Items 7 and 8: ZeroDivisionError, a message without the file, ci16 over cf32 bytes classified as is."""
    path = sigmf_pair(tmp_path, name, noise_bytes(), **fields)
    assert_clear_error(read_bounded(iq_summary, path), path, pattern)


def test_overlapping_annotations_cannot_multiply_windows(tmp_path):
    """Item 2's kind: 20,000 annotations over one 1 MiB recording would make 1.6e8 windows of 16 samples."""
    path = sigmf_pair(tmp_path, "overlaps", bytes(2**20))
    metadata = json.loads(path.read_text())
    metadata["annotations"] = [{"core:sample_start": 0, "core:label": "x"}] * 20_000
    path.write_text(json.dumps(metadata))
    assert_clear_error(read_bounded(windows_summary, path), path, r"more than 16777216 windows of 16 samples")


def test_metadata_nested_200k_deep(tmp_path):
    """Item 8: RecursionError."""
    path = sigmf_pair(tmp_path, "deep", noise_bytes())
    path.write_text('{"global": {"core:datatype": "cf32_le", "x": ' + "[" * 200_000 + "]" * 200_000 + "}}")
    assert_clear_error(read_bounded(iq_summary, path), path, r"nested too deeply|nested deeper than")


def test_npy_header_claiming_2_40_samples(tmp_path):
    """Item 2: a MemoryError traceback in the dashboard page."""
    header = repr({"descr": "<c8", "fortran_order": False, "shape": (2**40,)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    path = tmp_path / "claims.npy"
    path.write_bytes(np.lib.format.magic(1, 0) + struct.pack("<H", len(header)) + header + bytes(64))
    assert_clear_error(read_bounded(iq_summary, path), path, r"header declares a complex64 array of shape")


def test_npy_uint64_is_refused_not_classified(tmp_path):
    """Item 7: uint64 2**63 values were classified as QPSK at 100%."""
    path = tmp_path / "uint64.npy"
    np.save(path, np.full((256, 2), 2**63, np.uint64))
    assert_clear_error(read_bounded(iq_summary, path), path, r"dtype uint64")


# ---- hypothesis variants --------------------------------------------------------------------------------

@st.composite
def mutated_pickles(draw) -> bytes:
    """A small RadioML-layout pickle at any protocol, then maybe truncated, overwritten or spliced."""
    length = draw(st.integers(1, 6))
    keys = draw(st.lists(st.tuples(st.sampled_from(["BPSK", "QPSK", "8PSK"]), st.integers(-20, 20)),
                         min_size=1, max_size=3, unique=True))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int16, np.uint8, np.complex64]))
    cells = {key: np.ones((draw(st.integers(0, 3)), 2, length), dtype) for key in keys}
    data = bytearray(pickle.dumps(cells, protocol=draw(st.integers(0, 5))))
    mutation = draw(st.sampled_from(["none", "truncate", "overwrite", "splice"]))
    position = draw(st.integers(0, len(data) - 1))
    if mutation == "truncate":
        del data[position:]
    elif mutation == "overwrite":
        patch = draw(st.binary(min_size=1, max_size=9))
        data[position:position + len(patch)] = patch
    elif mutation == "splice":
        data[position:position] = draw(st.binary(min_size=1, max_size=9))
    return bytes(data)


@FUZZ
@given(content=mutated_pickles())
def test_fuzzed_pickles(tmp_path, content):
    path = tmp_path / "fuzzed.pkl"
    path.write_bytes(content)
    assert_load_or_clear_error(read_bounded(radioml_summary, path), path)


DTYPE_STATE_PARTS = st.one_of(st.none(), st.integers(-2, 20), st.sampled_from(["<", ">", "|", "=", "a"]),
                              st.just(()))


@FUZZ
@given(spec=st.sampled_from(["f4", "S4", "V8", "i2", "U2"]),
       state=st.lists(DTYPE_STATE_PARTS, min_size=5, max_size=9).map(tuple))
def test_fuzzed_dtype_states(tmp_path, spec, state):
    """A dtype rebuilt by a pickle, then given any state: refused or loaded, never a crashed reader."""
    dtype = pickle.dumps(np.dtype(spec), protocol=2)[2:-1]  # GLOBAL numpy.dtype ... REDUCE (state) BUILD
    without_state = dtype[: dtype.rindex(pickle.MARK)]  # drop numpy's own state and BUILD
    path = tmp_path / "dtype.pkl"
    path.write_bytes(cell("BPSK", SNR0, without_state + pickle.dumps(state, protocol=2)[2:-1] + pickle.BUILD))
    assert_load_or_clear_error(read_bounded(radioml_summary, path), path)


@st.composite
def odd_hdf5_layouts(draw) -> tuple[dict, dict]:
    rows = draw(st.integers(0, 3))
    x_dtype = draw(st.sampled_from(["f4", "f8", "i2", "u1", "u8", "c8", "S2", "?"]))
    x_shape = (rows, draw(st.integers(0, 4)), draw(st.integers(1, 3)))
    y_columns = draw(st.sampled_from([2, 24, 0]))
    labels = np.arange(rows) % max(y_columns, 1)
    y = np.eye(max(y_columns, 1))[labels][:, :y_columns] if draw(st.booleans()) else np.ones((rows, y_columns))
    z = draw(st.lists(st.one_of(st.integers(-40, 40), st.floats(allow_nan=True, allow_infinity=True)),
                      min_size=rows, max_size=rows))
    attributes = draw(st.sampled_from([{}, {"classes": ["A", "B"]}, {"classes": np.array([b"A", b"B"])},
                                       {"classes": "AB"}, {"classes": np.array([1, 2])}]))
    x = np.ones(x_shape).astype(x_dtype) if x_dtype != "S2" else np.full(x_shape, b"ab")
    return {"X": x, "Y": y, "Z": np.array(z, dtype=np.float64).reshape(rows, 1)}, attributes


@FUZZ
@given(layout=odd_hdf5_layouts())
def test_fuzzed_hdf5(tmp_path, layout):
    datasets, attributes = layout
    path = tmp_path / "fuzzed.h5"
    path.unlink(missing_ok=True)
    write_hdf5(path, attributes, **datasets)
    assert_load_or_clear_error(read_bounded(radioml_summary, path), path)


ODD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**20), st.floats(), st.text(max_size=4),
                       st.lists(st.integers(0, 3), max_size=2))


@st.composite
def odd_sigmf_metadata(draw) -> dict:
    global_info = {"core:datatype": draw(st.sampled_from(["cf32_le", "ci16_le", "cu8", "rf32_be", "cq16", 7])),
                   "core:version": "1.2.0"}
    if draw(st.booleans()):
        global_info["rfnet:classes"] = draw(st.one_of(st.just(["x", "y"]), ODD_VALUES))
    for key in ("core:num_channels", "core:trailing_bytes", "core:sample_rate"):
        if draw(st.booleans()):
            global_info[key] = draw(st.one_of(st.integers(-2, 3), ODD_VALUES))
    capture = {"core:sample_start": draw(st.one_of(st.just(0), ODD_VALUES))}
    if draw(st.booleans()):
        capture["core:header_bytes"] = draw(st.one_of(st.integers(0, 64), ODD_VALUES))
    annotations = [{"core:sample_start": draw(st.one_of(st.integers(0, 600), ODD_VALUES)),
                    "core:sample_count": draw(st.one_of(st.integers(0, 600), ODD_VALUES)),
                    "core:label": draw(st.one_of(st.sampled_from(["x", "y"]), ODD_VALUES)),
                    "rfnet:snr_db": draw(st.one_of(st.integers(-20, 20), ODD_VALUES))}
                   for _ in range(draw(st.integers(0, 2)))]
    return {"global": global_info, "captures": draw(st.sampled_from([[capture], [], capture])),
            "annotations": annotations}


@FUZZ
@given(metadata=odd_sigmf_metadata(), data_bytes=st.sampled_from([0, 7, 64, 4096]))
def test_fuzzed_sigmf_metadata(tmp_path, metadata, data_bytes):
    path = tmp_path / "fuzzed.sigmf-meta"
    path.write_text(json.dumps(metadata))
    (tmp_path / "fuzzed.sigmf-data").write_bytes(noise_bytes()[:data_bytes])
    for read in (iq_summary, windows_summary):
        assert_load_or_clear_error(read_bounded(read, path), path)


def test_bounded_reports_memory_bombs_and_hangs(tmp_path, monkeypatch):
    """The harness itself: an allocation past the limit and a loop past the time limit are reported."""
    monkeypatch.setattr(sys.modules[__name__], "SECONDS", 2)
    bomb = bounded(lambda path: np.ones(2 * MEMORY_BYTES, np.uint8).sum(), tmp_path)
    assert bomb.kind == "raised" and bomb.error == "MemoryError"
    assert bounded(lambda path: time.sleep(60), tmp_path).kind == "hang"
    assert bounded(lambda path: io.BytesIO(b"x").read(), tmp_path) == Outcome("ok", value=b"x")
