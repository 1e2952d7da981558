"""rfnet.data.iq_file: IQ from .npy (complex or I/Q pairs) and SigMF, each bad file one clear error."""

from pathlib import Path

import numpy as np
import pytest
import torch

from rfnet.data.iq_file import read_iq_file

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "samples" / "rfnet_sample.sigmf-meta"
IQ = np.array([1 + 2j, -3 + 0.5j, 0.25 - 1j], np.complex64)


@pytest.mark.parametrize("array", [IQ, IQ[None], IQ.astype(np.complex128),
                                   np.stack([IQ.real, IQ.imag], axis=1), np.stack([IQ.real, IQ.imag]),
                                   np.array([[1, 1, 1], [2, 2, 2]], np.int16),
                                   np.array([[129, 130], [129, 130], [129, 130]], np.uint8)],
                         ids=["complex", "complex [1, N]", "complex128", "[N, 2]", "[2, N]", "int16 [2, N]",
                              "uint8 [N, 2]"])
def test_npy_layouts_give_complex64_samples(tmp_path, array):
    np.save(tmp_path / "x.npy", array)
    stream = read_iq_file(tmp_path / "x.npy")
    assert stream.samples.dtype == torch.complex64 and stream.sample_rate_hz is None
    if array.dtype == np.int16:  # fixed point, as SigMF's ci16: scaled by 2**-15
        assert stream.samples.tolist() == [(1 + 2j) / 32768] * 3
    elif array.dtype == np.uint8:  # offset binary, as SigMF's cu8: (x - 128) / 128
        assert stream.samples.tolist() == [(1 + 2j) / 128] * 3
    else:
        assert np.array_equal(stream.samples.numpy(), IQ)


def test_sigmf_recording_gives_its_samples_and_rate():
    stream = read_iq_file(SAMPLE)
    assert stream.samples.shape == (18432,) and stream.sample_rate_hz == 1e6
    assert torch.equal(stream.samples, read_iq_file(SAMPLE.with_suffix(".sigmf-data")).samples)


def npy_header(shape, descr):
    """A version 1.0 .npy header (after the magic) for an array of ``shape`` with no data following."""
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return len(text).to_bytes(2, "little") + text


@pytest.mark.parametrize("name, content, message", [
    ("nan.npy", np.array([1, np.nan], np.complex64), "the array contains NaN or Inf"),
    ("cube.npy", np.zeros((2, 3, 4), np.complex64), r"complex array of shape \(2, 3, 4\)"),
    ("three.npy", np.zeros((5, 3), np.float32), r"float32 array of shape \(5, 3\)"),
    ("text.npy", np.array(["a"]), "<U1 array"),
    ("objects.npy", np.array([{"a": 1}], dtype=object), "not a plain NumPy array"),
    ("empty.npy", np.zeros(0, np.complex64), "holds no samples"),
    ("huge.npy", np.array([[1e300, 0]]), "beyond float32's range"),
    ("huge_complex.npy", np.array([1e300j]), "beyond float32's range"),
    ("uint64.npy", np.full((4, 2), 2**63, np.uint64), "dtype uint64.*convert to float32"),
    ("claims_2_40.npy", np.lib.format.magic(1, 0) + npy_header((2**40,), "<c8"),
     r"declares a complex64 array of shape \(1099511627776,\)"),
    ("junk.npy", b"not an array", "not a .npy file"),
    ("cut.npy", np.lib.format.magic(1, 0) + b"\x10\x00{'descr': '<c8',", "not a readable .npy file"),
    ("capture.wav", b"RIFF", "unknown kind of file"),
])
def test_bad_files_are_one_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content, allow_pickle=True)
    with pytest.raises(ValueError, match=message) as error:
        read_iq_file(path)
    assert str(path) in str(error.value)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_iq_file(tmp_path / "gone.npy")
    (tmp_path / "lonely.sigmf-meta").write_text(SAMPLE.read_text())
    with pytest.raises(FileNotFoundError, match="data file"):
        read_iq_file(tmp_path / "lonely.sigmf-meta")
