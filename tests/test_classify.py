"""`rfnet classify`: windows, table, annotated SigMF copy, and each bad input as one clear error."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import sigmf
import torch

from rfnet.cli import main
from rfnet.data.sigmf_io import SigMFWriter, open_sigmf
from rfnet.jobs.classify import CONFIDENCE_KEY, MODEL_KEY, classify_recording, sample_rate_warnings
from rfnet.models import SpectrogramClassifier, create_model, load, save

CLASSES = ["BPSK", "QPSK", "16QAM", "GMSK", "FM", "AM-DSB-WC"]
SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "samples" / "rfnet_sample.sigmf-meta"
RATE_HZ = 2e6


@pytest.fixture(scope="module")
def vtcnn2_dir(tmp_path_factory):
    torch.manual_seed(1)
    return save(create_model("vtcnn2", classes=CLASSES, num_samples=128), tmp_path_factory.mktemp("m") / "vtcnn2")


@pytest.fixture(scope="module")
def spectrogram_dir(tmp_path_factory):
    """A spectrogram classifier as an older rfnet saved it: its config.json records no num_samples or
    sample_rate_hz."""
    torch.manual_seed(2)
    model = SpectrogramClassifier(CLASSES, {"image_size": [63, 63]}, backbone="alexnet_tv")
    folder = save(model, tmp_path_factory.mktemp("m") / "spectrogram")
    meta = json.loads((folder / "config.json").read_text())
    for key in ("num_samples", "sample_rate_hz"):
        del meta["config"][key]
    (folder / "config.json").write_text(json.dumps(meta))
    return folder


def write_recording(path: Path, num_samples: int, *, seed: int = 0, nan_at: int | None = None) -> Path:
    """A one-annotation cf32 recording of complex Gaussian noise at RATE_HZ."""
    rng = np.random.default_rng(seed)
    iq = (rng.standard_normal(num_samples) + 1j * rng.standard_normal(num_samples)).astype(np.complex64)
    if nan_at is not None:
        iq[nan_at] = np.nan
    with SigMFWriter(path, classes=["noise"], sample_rate_hz=RATE_HZ, center_frequency_hz=915e6) as writer:
        writer.write(torch.from_numpy(iq)[None], np.array([0]), np.array([0.0]))
    return path


def digest(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def table_rows(stdout: str) -> list[list[str]]:
    lines = stdout.strip().splitlines()
    assert lines[0].split() == ["start", "time_s", "class", "confidence"]
    return [line.split() for line in lines[1:-1]]  # the last line is the summary


def predicted(recording_path: Path) -> list[dict]:
    return [a.metadata for a in open_sigmf(recording_path).annotations if MODEL_KEY in a.metadata]


def test_table_has_one_row_per_window_at_hop_spaced_times(tmp_path, vtcnn2_dir, capsys):
    capture = write_recording(tmp_path / "capture.sigmf-meta", 1000)
    assert main(["classify", str(capture), "--model", str(vtcnn2_dir), "--hop", "100", "--quiet"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert len(rows) == (1000 - 128) // 100 + 1
    starts = [int(r[0]) for r in rows]
    times = np.array([float(r[1]) for r in rows])
    assert starts == list(range(0, 1000 - 128 + 1, 100))
    np.testing.assert_allclose(np.diff(times), 100 / RATE_HZ)
    assert {r[2] for r in rows} <= set(CLASSES)
    confidences = np.array([float(r[3]) for r in rows])
    assert np.all((confidences >= 1 / len(CLASSES) - 1e-4) & (confidences <= 1))


def test_output_is_a_valid_copy_with_the_models_predictions(tmp_path, vtcnn2_dir):
    capture = write_recording(tmp_path / "capture.sigmf-meta", 1000)
    before = digest(capture, capture.with_suffix(".sigmf-data"))
    result = classify_recording(capture, vtcnn2_dir, hop=96, batch_size=3)
    assert result.output == tmp_path / "capture.rfnet.sigmf-meta"
    assert digest(capture, capture.with_suffix(".sigmf-data")) == before  # input untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "capture.rfnet.sigmf-data", "capture.rfnet.sigmf-meta", "capture.sigmf-data", "capture.sigmf-meta"]

    handle = sigmf.fromfile(result.output)  # checks core:sha512 against the data
    handle.validate()
    original, copy = open_sigmf(capture), open_sigmf(result.output)
    assert torch.equal(copy.read(), original.read())
    assert copy.sample_rate_hz == RATE_HZ and copy.center_frequency_hz == 915e6
    assert [a.label for a in copy.annotations if MODEL_KEY not in a.metadata] == ["noise"]  # input's kept

    annotations = predicted(result.output)
    starts = list(range(0, 1000 - 128 + 1, 96))
    assert [a["core:sample_start"] for a in annotations] == starts == [p.start for p in result.predictions]
    assert all(a["core:sample_count"] == 128 and a[MODEL_KEY] == "vtcnn2" for a in annotations)
    # The labels and confidences are the model's own on each window.
    model = load(vtcnn2_dir).eval()
    windows = torch.stack([original.read(s, 128) for s in starts])
    with torch.no_grad():
        confidence, label = torch.softmax(model(windows), dim=1).max(dim=1)
    assert [a["core:label"] for a in annotations] == [CLASSES[k] for k in label.tolist()]
    np.testing.assert_allclose([a[CONFIDENCE_KEY] for a in annotations], confidence.numpy(), rtol=1e-5)
    assert copy.global_info["rfnet:classify"]["classes"] == CLASSES


def test_bundled_sample_through_spectrogram_model_into_an_archive_and_back(tmp_path, spectrogram_dir, capsys):
    archive = tmp_path / "sample.sigmf"
    assert main(["classify", str(SAMPLE), "--model", str(spectrogram_dir), "--out", str(archive), "--hop", "512",
                 "--quiet"]) == 0
    out, err = capsys.readouterr()
    sample = open_sigmf(SAMPLE)
    windows = (sample.num_samples - 128) // 512 + 1
    assert len(table_rows(out)) == windows
    assert "records no input length" in err and "using 128 samples from its front end (n_fft=16)" in err
    assert "training sample rate is unknown" in err
    copy = open_sigmf(archive)
    assert torch.equal(copy.read(), sample.read())
    assert {a["core:label"] for a in predicted(archive)} <= set(CLASSES)
    assert len(predicted(archive)) == windows

    # An archive is accepted as input too; --window overrides the assumed length.
    result = classify_recording(archive, spectrogram_dir, out=tmp_path / "again.sigmf-meta", window=1024)
    assert result.notes == () and len(result.predictions) == sample.num_samples // 1024
    assert torch.equal(open_sigmf(result.output).read(), sample.read())


def test_run_folder_gives_the_training_window_and_sample_rate(tmp_path, spectrogram_dir):
    capture = write_recording(tmp_path / "capture.sigmf-meta", 600)
    run = tmp_path / "run"
    run.mkdir()
    (run / "best").symlink_to(spectrogram_dir, target_is_directory=True)  # as `rfnet finetune` leaves it
    (run / "job.json").write_text("{")
    with pytest.raises(ValueError, match="job.json: not valid JSON"):
        classify_recording(capture, run, out=tmp_path / "out.sigmf-meta")
    (run / "job.json").write_text(json.dumps({"num_samples": 10_000_000}))
    with pytest.raises(ValueError, match=r"job.json: num_samples=10000000 is more than the 16384"):
        classify_recording(capture, run, out=tmp_path / "out.sigmf-meta")
    (run / "job.json").write_text(json.dumps({"num_samples": 256, "sample_rate_hz": 1e6}))
    result = classify_recording(capture, run, out=tmp_path / "out.sigmf-meta")
    assert result.window == 256 and result.model == run / "best"
    assert len(result.notes) == 1 and "using 256 samples from" in result.notes[0] and "job.json" in result.notes[0]
    assert len(result.predictions) == 2  # a warning, not an error:
    assert len(result.warnings) == 1 and "differs from the model's training rate 1e+06 Hz" in result.warnings[0]


def test_a_model_that_records_its_input_is_asked_not_its_run(tmp_path):
    capture = write_recording(tmp_path / "capture.sigmf-meta", 600)  # at RATE_HZ
    run = tmp_path / "run"
    torch.manual_seed(3)
    save(SpectrogramClassifier(CLASSES, {"image_size": [63, 63]}, backbone="alexnet_tv", num_samples=200,
                               sample_rate_hz=RATE_HZ), run / "best")
    (run / "job.json").write_text(json.dumps({"num_samples": 256, "sample_rate_hz": 1e6}))
    result = classify_recording(capture, run, out=tmp_path / "out.sigmf-meta")
    assert result.window == 200 and len(result.predictions) == 3
    assert result.notes == () and result.warnings == ()


def test_sample_rate_warnings_say_what_was_assumed():
    assert sample_rate_warnings(2e6, 2e6) == []
    (unknown,) = sample_rate_warnings(None, 2e6)
    assert "unknown" in unknown and "assuming the recording's 2e+06 Hz" in unknown
    (mismatch,) = sample_rate_warnings(1e6, 2e6)
    assert "2e+06 Hz differs" in mismatch and "as if it were 1e+06 Hz" in mismatch
    (no_rate,) = sample_rate_warnings(1e6, None)
    assert "no core:sample_rate" in no_rate


def error_of(capsys, *argv) -> str:
    assert main(["classify", *map(str, argv)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("rfnet classify: error: ")
    return err


def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, vtcnn2_dir, capsys):
    short = write_recording(tmp_path / "short.sigmf-meta", 100)
    assert "100 samples, shorter than one 128-sample window" in error_of(capsys, short, "--model", vtcnn2_dir)

    broken = write_recording(tmp_path / "nan.sigmf-meta", 1000, nan_at=700)
    assert "NaN" in error_of(capsys, broken, "--model", vtcnn2_dir, "--quiet")

    capture = write_recording(tmp_path / "capture.sigmf-meta", 300)
    before = digest(capture, capture.with_suffix(".sigmf-data"))
    for same in ("capture.sigmf-meta", "capture.sigmf-data", "capture", "./capture.sigmf-meta"):
        assert "the input recording" in error_of(capsys, capture, "--model", vtcnn2_dir, "--out", tmp_path / same)
    assert digest(capture, capture.with_suffix(".sigmf-data")) == before

    assert "no such model folder" in error_of(capsys, capture, "--model", tmp_path / "missing")
    corrupt = tmp_path / "corrupt"
    save(load(vtcnn2_dir), corrupt)
    (corrupt / "model.safetensors").write_bytes(b"not safetensors")
    assert "unreadable safetensors" in error_of(capsys, capture, "--model", corrupt)
    (corrupt / "config.json").write_text("{not json")
    assert "not valid JSON" in error_of(capsys, capture, "--model", corrupt)
    assert "takes exactly 128 samples per example" in error_of(capsys, capture, "--model", vtcnn2_dir,
                                                               "--num-samples", 64)
    assert "does not exist" in error_of(capsys, capture, "--model", vtcnn2_dir, "--out", tmp_path / "no" / "x")

    written = sorted(p.name for p in tmp_path.iterdir() if "sigmf" in p.name)
    assert written == sorted(f"{stem}.sigmf-{part}" for stem in ("short", "nan", "capture")
                             for part in ("meta", "data"))
