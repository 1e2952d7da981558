"""RadioML readers and writers: 2016 pickles (restricted unpickler) and 2018-layout HDF5."""

import io
import os
import pickle
import types

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from rfnet.data import load_radioml
from rfnet.data.radioml_hdf5 import Rml2018HDF5Writer
from rfnet.data.radioml_pickle import Rml2016PickleWriter
from rfnet.data.safe_pickle import load_numpy_pickle
from rfnet.dsp.classes import RML2018_CLASSES

CLASSES = ("BPSK", "QPSK", "WBFM")
SNRS = (-4, 0, 6)
PER_CELL = 5
LENGTH = 16


def cell_dict(seed=0, length=LENGTH):
    """A 2016-layout dict {(mod, snr): float32 [n, 2, L]} with distinct random values."""
    rng = np.random.default_rng(seed)
    return {(m, s): rng.standard_normal((PER_CELL, 2, length)).astype(np.float32) for m in CLASSES for s in SNRS}


def expected_examples(cells):
    """(iq complex [N, L], labels, snrs) in (class, SNR) order, as the reader orders them."""
    keys = sorted(cells)
    iq = np.concatenate([cells[k][:, 0] + 1j * cells[k][:, 1] for k in keys])
    labels = np.repeat([CLASSES.index(m) for m, _ in keys], PER_CELL)
    snrs = np.repeat([s for _, s in keys], PER_CELL)
    return iq.astype(np.complex64), labels, snrs


def all_items(dataset):
    iq, labels, snrs = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(iq).numpy(), np.array(labels), np.array(snrs)


def assert_matches(dataset, cells):
    iq, labels, snrs = all_items(dataset)
    want_iq, want_labels, want_snrs = expected_examples(cells)
    np.testing.assert_array_equal(iq, want_iq)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_array_equal(snrs, want_snrs)
    assert dataset.classes == CLASSES
    assert dataset.snrs == list(SNRS)


class _Python2Pickler(pickle._Pickler):
    """Writes what Python 2 wrote: byte strings as (SHORT_)BINSTRING, globals under numpy.core."""

    def save_bytes(self, obj):
        self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj if len(obj) < 256
                   else pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    def save_str(self, obj):  # Python 2 'str' keys were byte strings too
        self.save_bytes(obj.encode("latin1"))

    def save_global(self, obj, name=None):
        module = getattr(obj, "__module__", "")
        if module.startswith("numpy._core"):
            qualified = f"{module.replace('numpy._core', 'numpy.core')}\n{obj.__name__}\n"
            self.write(pickle.GLOBAL + qualified.encode())
            self.memoize(obj)
        else:
            super().save_global(obj, name)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def python2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def test_python2_pickle_loads(tmp_path):
    cells = cell_dict()
    path = tmp_path / "RML2016.10a_dict.pkl"
    path.write_bytes(python2_pickle(cells))
    assert b"numpy.core.multiarray\n_reconstruct" in path.read_bytes()
    assert_matches(load_radioml(path), cells)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python3_pickles_load(tmp_path, protocol):
    cells = cell_dict(seed=protocol)
    path = tmp_path / "RML2016.10b.dat"  # 10b's real name: format is detected from content
    path.write_bytes(pickle.dumps(cells, protocol=protocol))
    assert_matches(load_radioml(path), cells)


def test_python3_numpy1_resaved_pickle_loads(tmp_path):
    """Re-saved by Python 3 with numpy 1 at protocol 2: numpy.core globals plus _codecs.encode."""
    cells = cell_dict(seed=2)
    data = pickle.dumps(cells, protocol=2).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"cnumpy.core.multiarray\n_reconstruct" in data and b"c_codecs\nencode" in data
    path = tmp_path / "resaved.pkl"
    path.write_bytes(data)
    assert_matches(load_radioml(path), cells)


class _RespellingPickler(pickle._Pickler):
    """Writes numpy's globals under ``numpy.core...`` (numpy 1) or ``numpy._core...`` (numpy 2), whichever
    numpy is running, so both spellings can be tested on one numpy."""

    def __init__(self, file, protocol, spelling):
        super().__init__(file, protocol=protocol)
        self.spelling = spelling

    def save_global(self, obj, name=None):
        module = getattr(obj, "__module__", "") or ""
        head, _, tail = module.partition(".")
        if head != "numpy" or tail.split(".")[0] not in ("core", "_core"):
            return super().save_global(obj, name)
        module = ".".join([self.spelling, *tail.split(".")[1:]])
        if self.proto >= 4:
            self.save(module)
            self.save(obj.__name__)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{obj.__name__}\n".encode())
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[types.FunctionType] = save_global  # numeric._frombuffer is a Python function


@pytest.mark.parametrize("protocol", [2, 5])
@pytest.mark.parametrize("spelling", ["numpy.core", "numpy._core"])
def test_numpy1_and_numpy2_pickles_load_on_either_numpy(tmp_path, protocol, spelling):
    """numpy 1 pickles name numpy.core.*, numpy 2 pickles numpy._core.* (protocol 5: numeric._frombuffer);
    the allow-list admits both whichever numpy is installed (numpy 1.26 has no numpy._core.numeric)."""
    cells = cell_dict(seed=protocol)
    buffer = io.BytesIO()
    _RespellingPickler(buffer, protocol, spelling).dump(cells)
    data = buffer.getvalue()
    function = b"_frombuffer" if protocol == 5 else b"_reconstruct"
    assert spelling.encode() + (b".numeric" if protocol == 5 else b".multiarray") in data and function in data
    path = tmp_path / "respelled.pkl"
    path.write_bytes(data)
    assert_matches(load_radioml(path), cells)


def test_pickle_writer_round_trip_and_plain_pickle(tmp_path):
    cells = cell_dict(seed=3)
    path = tmp_path / "out.pkl"
    want_iq, want_labels, want_snrs = expected_examples(cells)
    with Rml2016PickleWriter(path, CLASSES) as writer:
        for start in range(0, len(want_labels), PER_CELL):  # one cell per call, split into two chunks
            for part in (slice(start, start + 2), slice(start + 2, start + PER_CELL)):
                writer.write(torch.from_numpy(want_iq[part]), want_labels[part], want_snrs[part])
    with open(path, "rb") as handle:
        plain = pickle.load(handle)
    assert set(plain) == set(cells)
    for key, value in cells.items():
        np.testing.assert_array_equal(plain[key], value)
    assert_matches(load_radioml(path), cells)


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _RunsEval:
    def __reduce__(self):
        return eval, ("__import__('pathlib').Path('EVAL_MARKER').touch()",)


@pytest.mark.parametrize("payload", ["shell", "eval"])
def test_malicious_pickle_refused_without_running(tmp_path, payload, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    evil = _RunsShell(marker) if payload == "shell" else _RunsEval()
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({("BPSK", 0): evil}, protocol=2))
    with pytest.raises(ValueError, match=r"evil\.pkl.*(posix\.system|(__builtin__|builtins)\.eval)"):
        load_radioml(path)
    assert not marker.exists() and not (tmp_path / "EVAL_MARKER").exists()


def test_safe_pickle_refuses_any_other_class(tmp_path):
    path = tmp_path / "set.pkl"
    path.write_bytes(pickle.dumps(io.BytesIO(b"x")))
    with pytest.raises(ValueError, match=r"set\.pkl.*_io\.BytesIO"):
        load_numpy_pickle(path)


@pytest.mark.parametrize(
    "content, message",
    [
        ([1, 2], "expected a non-empty dict"),
        ({("BPSK", 0): np.zeros((3, 3, 8), np.float32)}, r"shape \(3, 3, 8\)"),
        ({"BPSK": np.zeros((3, 2, 8), np.float32)}, "not a \\(modulation name, snr\\) pair"),
        ({("BPSK", 0): np.zeros((3, 2, 8), np.float32), ("QPSK", 0): np.zeros((3, 2, 9), np.float32)},
         "9 samples per example"),
        ({("BPSK", 0): np.full((3, 2, 8), np.nan, np.float32)}, "NaN or Inf"),
        ({("BPSK", 0): np.zeros((3, 2, 8), np.complex64)}, "dtype complex64.*convert to float32"),
        ({("BPSK", 0): np.full((3, 2, 8), 1e300)}, "beyond float32's range"),
        ({("BPSK", 1e300): np.zeros((3, 2, 8), np.float32)}, "SNR beyond the ±1000 dB"),
        ({("BPSK", 10**400): np.zeros((3, 2, 8), np.float32)}, "SNR beyond the ±1000 dB"),
        ({("BPSK", 0): np.zeros((3, 2, 0), np.float32)}, "0 samples per example"),
    ],
)
def test_bad_pickle_contents(tmp_path, content, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(ValueError, match=f"bad\\.pkl.*{message}"):
        load_radioml(path)


def test_integer_pickle_values_are_read_as_fixed_point(tmp_path):
    """int16 values scale by 2**-15 (as SigMF's ci16), uint8 as offset binary (as cu8)."""
    path = tmp_path / "fixed.pkl"
    path.write_bytes(pickle.dumps({("BPSK", 0): np.array([[[16384, -32768]] * 2], np.int16),
                                   ("QPSK", 0): np.array([[[192, 0]] * 2], np.uint8)}))
    iq, _, _ = all_items(load_radioml(path))
    np.testing.assert_array_equal(iq, [[0.5 + 0.5j, -1 - 1j], [0.5 + 0.5j, -1 - 1j]])


def test_truncated_pickle(tmp_path):
    path = tmp_path / "cut.pkl"
    whole = pickle.dumps(cell_dict())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"cut\.pkl: not a readable pickle"):
        load_radioml(path)


def test_missing_file_and_sigmf_redirect(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pkl"):
        load_radioml(tmp_path / "nope.pkl")
    (tmp_path / "rec.sigmf-meta").write_text("{}")
    with pytest.raises(ValueError, match=r"rec\.sigmf-meta: a SigMF recording.*SigMFWindows"):
        load_radioml(tmp_path / "rec.sigmf-meta")


def write_hdf5(path, cells, attributes=None, sample_rate_hz=None):
    iq, labels, snrs = expected_examples(cells)
    with Rml2018HDF5Writer(path, num_examples=len(labels), num_samples=LENGTH, classes=CLASSES,
                           sample_rate_hz=sample_rate_hz, attributes=attributes) as writer:
        for start in range(0, len(labels), 7):  # chunks that cross cells
            part = slice(start, start + 7)
            writer.write(torch.from_numpy(iq[part]), labels[part], snrs[part])


def test_hdf5_round_trip_and_attributes(tmp_path):
    cells = cell_dict(seed=5)
    path = tmp_path / "synth.h5"
    write_hdf5(path, cells, {"seed": 7, "generator_config": {"num_samples": LENGTH}})
    dataset = load_radioml(path)
    assert_matches(dataset, cells)
    with h5py.File(path) as handle:
        assert handle["X"].shape == (len(dataset), LENGTH, 2) and handle["X"].dtype == np.float32
        assert handle["Y"].shape == (len(dataset), len(CLASSES)) and handle["Z"].shape == (len(dataset), 1)
        assert handle.attrs["seed"] == 7
        assert '"num_samples": 16' in handle.attrs["generator_config"]
    assert dataset.sample_rate_hz is None  # none given, none stated
    write_hdf5(path, cells, sample_rate_hz=2e5)
    assert load_radioml(path).sample_rate_hz == 2e5


@pytest.mark.parametrize("rate", ["fast", -1.0, 0, float("nan"), float("inf"), np.array([1e6, 2e6]), True,
                                  np.complex64(1e6)])
def test_hdf5_sample_rate_that_is_not_a_rate_is_refused(tmp_path, rate):
    path = tmp_path / "rate.h5"
    write_hdf5(path, cell_dict(), attributes={"sample_rate_hz": rate})
    with pytest.raises(ValueError, match=r"rate\.h5: the sample_rate_hz attribute is .*not a positive number of Hz"):
        load_radioml(path)


def test_original_2018_layout_uses_paper_class_order(tmp_path):
    path = tmp_path / "GOLD_XYZ_OSC.0001_1024.hdf5"
    rng = np.random.default_rng(0)
    columns = np.array([0, 3, 23, 3])  # OOK, BPSK, OQPSK, BPSK
    x = rng.standard_normal((4, 32, 2)).astype(np.float32)
    with h5py.File(path, "w") as handle:
        handle["X"] = x
        handle["Y"] = np.eye(24, dtype=np.int64)[columns]
        handle["Z"] = np.array([[-20], [0], [30], [10]], dtype=np.int64)
    dataset = load_radioml(path)
    assert dataset.classes == RML2018_CLASSES
    iq, labels, snrs = all_items(dataset)
    assert [dataset.classes[k] for k in labels] == ["OOK", "BPSK", "OQPSK", "BPSK"]
    np.testing.assert_array_equal(snrs, [-20, 0, 30, 10])
    np.testing.assert_array_equal(iq, x[..., 0] + 1j * x[..., 1])
    subset = load_radioml(path, classes=["OQPSK", "BPSK"], snr_range=(0, 30))
    assert subset.classes == ("OQPSK", "BPSK")
    _, labels, snrs = all_items(subset)
    np.testing.assert_array_equal(labels, [1, 0, 1])
    np.testing.assert_array_equal(snrs, [0, 30, 10])


@pytest.mark.parametrize("suffix", [".pkl", ".h5"])
def test_filters_by_snr_and_class(tmp_path, suffix):
    cells = cell_dict(seed=9)
    path = tmp_path / f"data{suffix}"
    if suffix == ".pkl":
        path.write_bytes(pickle.dumps(cells))
    else:
        write_hdf5(path, cells)
    dataset = load_radioml(path, snr_range=(0, 6), classes=["WBFM", "BPSK"])
    assert dataset.classes == ("WBFM", "BPSK")
    assert dataset.snrs == [0, 6]
    iq, labels, snrs = all_items(dataset)
    assert len(labels) == 2 * 2 * PER_CELL
    for k in range(len(labels)):
        cell = cells[(dataset.classes[labels[k]], int(snrs[k]))]
        assert any(np.array_equal(iq[k], row[0] + 1j * row[1]) for row in cell)
    with pytest.raises(ValueError, match=r"unknown class\(es\) \['FOO'\]"):
        load_radioml(path, classes=["FOO"])
    with pytest.raises(ValueError, match="no examples match"):
        load_radioml(path, snr_range=(40, 50))


def test_hdf5_dataloader_with_two_workers(tmp_path):
    cells = cell_dict(seed=11)
    path = tmp_path / "synth.h5"
    write_hdf5(path, cells)
    dataset = load_radioml(path)
    dataset[0]  # opens a handle in this process: each worker must open its own
    copy = pickle.loads(pickle.dumps(dataset))  # what a spawned worker receives: no open handle
    assert copy._handle is None
    np.testing.assert_array_equal(copy[3][0].numpy(), dataset[3][0].numpy())
    loader = DataLoader(dataset, batch_size=8, num_workers=2)
    batches = list(loader)
    iq = torch.cat([b[0] for b in batches]).numpy()
    labels = torch.cat([b[1] for b in batches]).numpy()
    want_iq, want_labels, _ = expected_examples(cells)
    np.testing.assert_array_equal(iq, want_iq)
    np.testing.assert_array_equal(labels, want_labels)


def test_truncated_hdf5(tmp_path):
    path = tmp_path / "cut.h5"
    write_hdf5(path, cell_dict())
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"cut\.h5: not a readable HDF5 file"):
        load_radioml(path)


def raw_hdf5(path, **datasets):
    with h5py.File(path, "w") as handle:
        for name, value in datasets.items():
            handle[name] = value


@pytest.mark.parametrize(
    "datasets, message",
    [
        ({"X": np.zeros((2, 8, 2), np.float32), "Y": np.eye(24)[[0, 1]]}, r"missing dataset\(s\) \['Z'\]"),
        ({"X": np.zeros((2, 8, 2), np.float32), "Y": np.eye(24)[[0, 1]], "Z": np.zeros((3, 1))},
         "disagree on the number of examples: 2, 2, 3"),
        ({"X": np.zeros((2, 2, 8), np.float32), "Y": np.eye(24)[[0, 1]], "Z": np.zeros((2, 1))},
         r"X has shape \(2, 2, 8\)"),
        ({"X": np.zeros((2, 8, 2), np.float32), "Y": np.eye(5)[[0, 1]], "Z": np.zeros((2, 1))},
         "Y has 5 columns but the file names 24 classes"),
        ({"X": np.zeros((2, 8, 2), np.float32), "Y": np.ones((2, 24)), "Z": np.zeros((2, 1))}, "not one-hot"),
        ({"X": np.zeros((0, 8, 2), np.float32), "Y": np.zeros((0, 24)), "Z": np.zeros((0, 1))}, "X has 0 examples"),
        ({"X": np.zeros((2, 0, 2), np.float32), "Y": np.eye(24)[[0, 1]], "Z": np.zeros((2, 1))},
         "X has 0 samples per example"),
        ({"X": np.full((2, 8, 2), "a", dtype="S1"), "Y": np.eye(24)[[0, 1]], "Z": np.zeros((2, 1))},
         "X has dtype |S1"),
        ({"X": np.zeros((2, 8, 2), np.complex64), "Y": np.eye(24)[[0, 1]], "Z": np.zeros((2, 1))},
         r"X holds complex numbers.*store X as float32 \[N, samples, 2\]"),
        ({"X": np.zeros((2, 8, 2), np.float32), "Y": np.eye(24)[[0, 1]], "Z": np.full((2, 1), 1e300)},
         "SNRs beyond the ±1000 dB"),
    ],
)
def test_malformed_hdf5(tmp_path, datasets, message):
    path = tmp_path / "bad.hdf5"
    raw_hdf5(path, **datasets)
    with pytest.raises(ValueError, match=f"bad\\.hdf5: .*{message}"):
        load_radioml(path)


def test_hdf5_nan_caught_on_access(tmp_path):
    path = tmp_path / "nan.h5"
    x = np.zeros((3, 8, 2), np.float32)
    x[2, 5, 1] = np.inf
    raw_hdf5(path, X=x, Y=np.eye(24)[[0, 1, 2]], Z=np.zeros((3, 1), np.int64))
    dataset = load_radioml(path)
    assert dataset[1][1] == 1
    with pytest.raises(ValueError, match=r"nan\.h5: X row 2 contains NaN or Inf"):
        dataset[2]


def test_hdf5_float64_beyond_float32_caught_on_access(tmp_path):
    path = tmp_path / "huge.h5"
    x = np.zeros((2, 8, 2))
    x[1, 3, 0] = 1e300  # finite in float64, infinite once cast to float32
    raw_hdf5(path, X=x, Y=np.eye(24)[[0, 1]], Z=np.zeros((2, 1), np.int64))
    with pytest.raises(ValueError, match=r"huge\.h5: X row 1 holds values beyond float32's range"):
        load_radioml(path)[1]


def test_hdf5_fixed_point_x_and_byte_class_names(tmp_path):
    """int16 X is scaled as SigMF's ci16; a classes attribute of bytes (numpy S) decodes to names."""
    path = tmp_path / "other_tool.h5"
    with h5py.File(path, "w") as handle:
        handle["X"] = np.array([[[16384, -32768]], [[0, 8192]]], np.int16)
        handle["Y"] = np.eye(2, dtype=np.uint8)
        handle["Z"] = np.zeros((2, 1), np.int64)
        handle.attrs["classes"] = np.array([b"OOK", b"BPSK"])
    dataset = load_radioml(path, classes=["BPSK"])
    assert dataset.classes == ("BPSK",)
    assert dataset[0][0].tolist() == [0.25j]
    dataset.close()
    assert load_radioml(path).classes == ("OOK", "BPSK")
    with h5py.File(path, "a") as handle:
        handle.attrs["classes"] = np.array([b"OOK", b"OOK"])
    with pytest.raises(ValueError, match=r"other_tool\.h5: the classes attribute names a class twice"):
        load_radioml(path)


def test_hdf5_data_kept_elsewhere_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    raw_hdf5(other, X=np.zeros((2, 8, 2), np.float32))
    path = tmp_path / "linked.h5"
    with h5py.File(path, "w") as handle:
        handle["X"] = h5py.ExternalLink(str(other), "X")
        handle["Y"] = np.eye(24)[[0, 1]]
        handle["Z"] = np.zeros((2, 1))
    with pytest.raises(ValueError, match=r"linked\.h5: X is a link to elsewhere"):
        load_radioml(path)


def test_empty_and_misnamed_files_say_what_they_are(tmp_path):
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.h5: empty file"):
        load_radioml(tmp_path / "empty.h5")
    (tmp_path / "text.hdf5").write_bytes(b"hello")
    with pytest.raises(ValueError, match=r"text\.hdf5: not an HDF5 file"):
        load_radioml(tmp_path / "text.hdf5")
