"""SigMF: reading recordings of several datatypes, labelled windows, writing, and bad input."""

import json
import warnings

import numpy as np
import pytest
import sigmf
import torch

from rfnet.data import SigMFWindows, group_split, open_sigmf
from rfnet.data.sigmf_io import SigMFWriter


def write_recording(folder, name, data: bytes, datatype, *, annotations=(), sample_rate=2e6, frequency=915e6,
                    extra_global=None):
    meta = {
        "global": {"core:datatype": datatype, "core:version": "1.2.0", "core:sample_rate": sample_rate,
                   **(extra_global or {})},
        "captures": [{"core:sample_start": 0, "core:frequency": frequency}],
        "annotations": list(annotations),
    }
    (folder / f"{name}.sigmf-data").write_bytes(data)
    (folder / f"{name}.sigmf-meta").write_text(json.dumps(meta))
    return folder / f"{name}.sigmf-meta"


def noise_iq(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)


# (datatype, raw interleaved values, numpy dtype, expected complex samples)
DATATYPES = [
    ("cf32_le", [0.25, -0.5, 1.0, 2.0], "<f4", [0.25 - 0.5j, 1 + 2j]),
    ("cf64_le", [0.25, -0.5, 1.0, 2.0], "<f8", [0.25 - 0.5j, 1 + 2j]),
    ("ci16_le", [16384, -8192, -32768, 0], "<i2", [0.5 - 0.25j, -1 + 0j]),
    ("ci16_be", [16384, -8192, -32768, 0], ">i2", [0.5 - 0.25j, -1 + 0j]),
    ("ci8", [64, -32, -128, 0], "i1", [0.5 - 0.25j, -1 + 0j]),
    ("cu8", [192, 96, 0, 128], "u1", [0.5 - 0.25j, -1 + 0j]),
]


@pytest.mark.parametrize("datatype, raw, dtype, expected", DATATYPES)
def test_reads_datatypes(tmp_path, datatype, raw, dtype, expected):
    path = write_recording(tmp_path, "rec", np.array(raw, dtype=dtype).tobytes(), datatype)
    recording = open_sigmf(path)
    assert recording.datatype == datatype
    assert recording.sample_rate_hz == 2e6 and recording.center_frequency_hz == 915e6
    assert recording.num_samples == 2
    samples = recording.read()
    assert samples.dtype == torch.complex64
    np.testing.assert_allclose(samples.numpy(), np.array(expected, dtype=np.complex64))


def test_real_data_becomes_complex(tmp_path):
    path = write_recording(tmp_path, "real", np.array([0.5, -1.0, 2.0], "<f4").tobytes(), "rf32_le")
    samples = open_sigmf(path).read()
    np.testing.assert_allclose(samples.numpy(), [0.5, -1.0, 2.0])
    assert samples.dtype == torch.complex64


def test_annotated_recordings_to_windows_and_group_split(tmp_path):
    rng = np.random.default_rng(0)
    paths, recordings = [], []
    for k in range(4):
        iq = (rng.standard_normal(200) + 1j * rng.standard_normal(200)).astype(np.complex64)
        annotations = [
            {"core:sample_start": 0, "core:sample_count": 100, "core:label": "wifi"},
            {"core:sample_start": 100, "core:sample_count": 70, "core:label": "lte"},
            {"core:sample_start": 170, "core:sample_count": 30, "core:label": "unknown-thing"},
        ]
        paths.append(write_recording(tmp_path, f"cap{k}", iq.tobytes(), "cf32_le", annotations=annotations))
        recordings.append(iq)
    windows = SigMFWindows(paths, 32, hop=16, classes=["LTE", "WiFi"], label_map={"wifi": "WiFi", "lte": "LTE"})
    assert windows.classes == ("LTE", "WiFi")
    # per recording: wifi [0,100) → starts 0,16,32,48,64; lte [100,170) → 100,116,132
    assert len(windows) == 4 * 8
    np.testing.assert_array_equal(windows.labels[:8], [1, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(windows.starts[:8], [0, 16, 32, 48, 64, 100, 116, 132])
    iq, label, snr = windows[9]  # recording 1, second wifi window
    np.testing.assert_array_equal(iq.numpy(), recordings[1][16:48])
    assert label == 1 and np.isnan(snr)
    train, test = group_split(windows.groups, (0.5, 0.5), seed=0)
    assert not set(windows.groups[train]) & set(windows.groups[test])
    assert len(train) + len(test) == len(windows)
    every_label = SigMFWindows(paths[0], 30)
    assert every_label.classes == ("lte", "unknown-thing", "wifi")  # sorted labels found


@pytest.mark.parametrize("name", ["rec.sigmf-meta", "rec.sigmf"])
def test_writer_round_trip_and_validator(tmp_path, name):
    rng = np.random.default_rng(1)
    iq = torch.from_numpy((rng.standard_normal((6, 64)) + 1j * rng.standard_normal((6, 64))).astype(np.complex64))
    labels, snrs = np.array([0, 0, 1, 1, 2, 2]), np.array([-10, 0, -10, 0, 10, 20])
    path = tmp_path / name
    with SigMFWriter(path, classes=("BPSK", "QPSK", "FM"), sample_rate_hz=1e6) as writer:
        writer.write(iq[:4], labels[:4], snrs[:4])
        writer.write(iq[4:], labels[4:], snrs[4:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # undeclared extensions would warn
        handle = sigmf.fromfile(path)  # verifies the SHA-512 too
        handle.validate()
    assert handle.get_global_field("core:datatype") == "cf32_le"
    assert len(handle.get_annotations()) == 6
    windows = SigMFWindows(path, 64)
    assert windows.classes == ("BPSK", "QPSK", "FM")
    got = [windows[i] for i in range(len(windows))]
    np.testing.assert_array_equal(torch.stack([g[0] for g in got]).numpy(), iq.numpy())
    assert [g[1] for g in got] == labels.tolist() and [g[2] for g in got] == snrs.tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["rec.sigmf"] if name.endswith(".sigmf") else ["rec.sigmf-data", "rec.sigmf-meta"])


def test_writer_interrupted_leaves_nothing(tmp_path):
    path = tmp_path / "rec.sigmf-meta"
    with pytest.raises(KeyboardInterrupt):
        with SigMFWriter(path, classes=("BPSK",), sample_rate_hz=1e6) as writer:
            writer.write(torch.zeros(2, 8, dtype=torch.complex64), np.zeros(2, int), np.zeros(2, int))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_size_not_fitting_datatype(tmp_path):
    path = write_recording(tmp_path, "odd", bytes(7), "ci16_le")  # 7 bytes: not whole 4-byte samples
    with pytest.raises(ValueError, match=r"odd\.sigmf-meta: data does not fit core:datatype ci16_le"):
        open_sigmf(path)


def test_unknown_datatype(tmp_path):
    path = write_recording(tmp_path, "weird", bytes(8), "cq16_le")
    with pytest.raises(ValueError, match=r"weird\.sigmf-meta: unknown core:datatype 'cq16_le'"):
        open_sigmf(path)


def test_datatype_that_lies_about_length(tmp_path):
    # 100 ci16 samples (400 bytes) declared as cf32_le: only 50 samples, the annotation reaches 100
    data = np.zeros(200, "<i2").tobytes()
    annotation = {"core:sample_start": 0, "core:sample_count": 100, "core:label": "x"}
    path = write_recording(tmp_path, "lies", data, "cf32_le", annotations=[annotation])
    with pytest.raises(ValueError, match=r"lies\.sigmf-meta: data does not fit core:datatype cf32_le"):
        open_sigmf(path)


def test_datatype_that_lies_into_nan(tmp_path):
    annotation = {"core:sample_start": 0, "core:sample_count": 4, "core:label": "x"}
    path = write_recording(tmp_path, "nan", b"\xff" * 32, "cf32_le", annotations=[annotation])
    windows = SigMFWindows(path, 4)
    with pytest.raises(ValueError, match=r"nan\.sigmf-meta: samples \[0, 4\) hold NaN or Inf"):
        windows[0]


def test_other_bad_recordings(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        open_sigmf(tmp_path / "missing.sigmf-meta")
    (tmp_path / "broken.sigmf-meta").write_text("{not json")
    (tmp_path / "broken.sigmf-data").write_bytes(bytes(8))
    with pytest.raises(ValueError, match=r"broken\.sigmf-meta: not valid SigMF metadata JSON"):
        open_sigmf(tmp_path / "broken.sigmf-meta")
    two = write_recording(tmp_path, "two", bytes(32), "cf32_le", extra_global={"core:num_channels": 2})
    with pytest.raises(ValueError, match=r"two\.sigmf-meta: 2 channels"):
        open_sigmf(two)
    bad_hash = write_recording(tmp_path, "hash", bytes(16), "cf32_le", extra_global={"core:sha512": "0" * 128})
    with pytest.raises(ValueError, match=r"hash\.sigmf-meta: not a valid SigMF recording.*hash"):
        open_sigmf(bad_hash)
    for snr in ("abc", 1e300, True):
        annotation = {"core:sample_start": 0, "core:sample_count": 4, "core:label": "x", "rfnet:snr_db": snr}
        odd_snr = write_recording(tmp_path, "snr", bytes(32), "cf32_le", annotations=[annotation])
        with pytest.raises(ValueError, match=r"snr\.sigmf-meta: annotations\[0\]\.rfnet:snr_db is .*; expected a "
                                             r"number of dB"):
            SigMFWindows(odd_snr, 4)
    twice = write_recording(tmp_path, "twice", bytes(32), "cf32_le", extra_global={"rfnet:classes": ["a", "a"]})
    with pytest.raises(ValueError, match=r"twice\.sigmf-meta: rfnet:classes is .*distinct class names"):
        open_sigmf(twice)
    no_windows = write_recording(tmp_path, "plain", bytes(64), "cf32_le")
    with pytest.raises(ValueError, match=r"plain\.sigmf-meta: no annotated segment"):
        SigMFWindows(no_windows, 4)


def test_bundled_sample_opens_and_regenerates(tmp_path):
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "datasets"
    sample = folder / "samples" / "rfnet_sample.sigmf-meta"
    windows = SigMFWindows(sample, 1024)
    assert windows.classes == ("BPSK", "QPSK", "16QAM", "GMSK", "FM", "AM-DSB-WC")
    assert len(windows) == 18 and windows.snrs == [0.0, 10.0, 20.0]
    assert open_sigmf(sample).sample_rate_hz == 1e6
    spec = importlib.util.spec_from_file_location("make_sample_sigmf", folder / "make_sample_sigmf.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name in ("first", "second"):
        script.main(["--out", str(tmp_path / f"{name}.sigmf-meta")])
    assert (tmp_path / "first.sigmf-data").read_bytes() == (tmp_path / "second.sigmf-data").read_bytes()
    # the samples follow rfnet.dsp (any change there changes them); the layout must match the bundled one
    regenerated = json.loads((tmp_path / "first.sigmf-meta").read_text())
    bundled = json.loads(sample.read_text())
    assert regenerated["annotations"] == bundled["annotations"]
    assert regenerated["global"]["rfnet:classes"] == bundled["global"]["rfnet:classes"]


def test_windows_travel_to_workers_without_data(tmp_path):
    import pickle

    from torch.utils.data import DataLoader

    iq = (np.arange(4096, dtype=np.float32) * (1 + 1j)).astype(np.complex64)
    annotation = {"core:sample_start": 0, "core:sample_count": 4096, "core:label": "tone"}
    path = write_recording(tmp_path, "big", iq.tobytes(), "cf32_le", annotations=[annotation])
    windows = SigMFWindows(path, 256)
    windows[0]
    assert len(pickle.dumps(windows)) < 4096  # paths and the window table, not the samples
    batches = list(DataLoader(windows, batch_size=4, num_workers=2))
    np.testing.assert_array_equal(torch.cat([b[0] for b in batches]).reshape(-1).numpy(), iq)


FLOAT_BYTES = {
    "cf32 noise 1e-6": ((noise_iq(2048) * 1e-6).tobytes(), 32),
    "cf32 noise 1e3": ((noise_iq(2048) * 1e3).tobytes(), 32),
    "cf32 from int16": ((np.round(noise_iq(2048) * 3000) / 32768).astype(np.complex64).tobytes(), 32),
    "cf64 noise": (noise_iq(2048).astype(np.complex128).tobytes(), 64),
}


@pytest.mark.parametrize("declared", ["ci16_le", "cu8", "ci8"])
@pytest.mark.parametrize("name", FLOAT_BYTES)
def test_fixed_point_datatype_over_float_bytes_is_refused(tmp_path, name, declared):
    raw, bits = FLOAT_BYTES[name]
    path = write_recording(tmp_path, "lies", raw, declared)
    with pytest.raises(ValueError, match=rf"lies\.sigmf-meta: data does not fit core:datatype {declared}: "
                                         rf"\d+% of the sampled {bits}-bit words are ordinary float{bits}"):
        open_sigmf(path)


def test_float_datatype_over_quiet_fixed_point_bytes_is_refused(tmp_path):
    quiet = np.round(noise_iq(2048) * 300)
    raw = np.stack([quiet.real, quiet.imag], axis=1).astype("<i2").tobytes()
    path = write_recording(tmp_path, "lies", raw, "cf32_le")
    with pytest.raises(ValueError, match=r"lies\.sigmf-meta: data does not fit core:datatype cf32_le: "
                                         r"\d+% of the sampled values are NaN, infinite or beyond"):
        open_sigmf(path)


def fixed_point_signals(bits, count=20_000):
    """Real fixed-point recordings of int``bits`` at every level: noise, tones, a chirp, DC plus noise."""
    full = 2 ** (bits - 1) - 1
    t = np.arange(count)
    rng = np.random.default_rng(bits)
    for level in [full * 2.0**-k for k in range(0, bits - 1)]:
        yield noise_iq(count, seed=int(level)) * level / 3
        yield level * np.exp(2j * np.pi * 0.01 * t)
        yield level * np.exp(1j * np.pi * 1e-5 * t**2)
        yield level * (0.5 + 0.5j) + rng.standard_normal(count) * level / 20


@pytest.mark.parametrize("datatype, dtype", [("ci16_le", "<i2"), ("ci16_be", ">i2"), ("ci8", "i1"), ("cu8", "u1")])
def test_real_fixed_point_recordings_are_not_mistaken_for_floats(tmp_path, datatype, dtype):
    """The plausibility test keeps off real fixed-point data: every level, noise, tones, a chirp, DC."""
    bits = np.dtype(dtype).itemsize * 8
    offset = 2 ** (bits - 1) if np.dtype(dtype).kind == "u" else 0  # cu8 is offset binary
    for index, signal in enumerate(fixed_point_signals(bits)):
        limit = 2 ** (bits - 1)
        pairs = np.clip(np.round(np.stack([signal.real, signal.imag], axis=1)), -limit, limit - 1) + offset
        path = write_recording(tmp_path, f"real{index}", pairs.astype(dtype).tobytes(), datatype)
        assert open_sigmf(path, verify_checksum=False).num_samples == len(signal)


def test_real_float_recordings_are_not_mistaken_for_fixed_point(tmp_path):
    for index, level in enumerate([1e-9, 1e-4, 1.0, 1e4, 1e9]):
        samples = noise_iq(50_000, seed=index) * level
        samples[::7] = 0  # gaps of exact zeros
        path = write_recording(tmp_path, f"float{index}", samples.tobytes(), "cf32_le")
        assert open_sigmf(path).num_samples == len(samples)


def test_windows_state_the_recordings_sample_rate_only_when_they_agree(tmp_path):
    iq = noise_iq(64).tobytes()
    annotation = [{"core:sample_start": 0, "core:sample_count": 64, "core:label": "a"}]
    one, two, other = (write_recording(tmp_path, name, iq, "cf32_le", annotations=annotation, sample_rate=rate)
                       for name, rate in (("one", 1e6), ("two", 1e6), ("other", 2e6)))
    assert SigMFWindows([one, two], 32).sample_rate_hz == 1e6
    assert SigMFWindows([one, other], 32).sample_rate_hz is None
