"""`rfnet export`: ONNX and TorchScript files that reproduce PyTorch's logits, and clear errors otherwise."""

import json

import numpy as np
import pytest
import torch

from rfnet.bench.modes import prepare
from rfnet.cli import main
from rfnet.deploy.export import export_model, random_iq
from rfnet.models import SpectrogramClassifier, create_model, load, save

pytestmark = pytest.mark.usefixtures("one_thread")

CLASSES = ["BPSK", "QPSK", "8PSK"]


@pytest.fixture(scope="module")
def vtcnn2_dir(tmp_path_factory):
    torch.manual_seed(4)
    return save(create_model("vtcnn2", classes=CLASSES, num_samples=128), tmp_path_factory.mktemp("m") / "vt")


def logits(model, iq):
    with torch.no_grad():
        return model.eval()(iq)


def test_onnx_export_of_a_raw_iq_model_takes_interleaved_iq_and_matches_pytorch(vtcnn2_dir, tmp_path, capsys):
    onnx, onnxruntime = pytest.importorskip("onnx"), pytest.importorskip("onnxruntime")
    out = tmp_path / "vt.onnx"
    assert main(["export", "--model", str(vtcnn2_dir), "--format", "onnx", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "input: float32 IQ [batch, 128, 2] (I, Q)" in printed and "max abs difference from PyTorch" in printed
    meta = {p.key: p.value for p in onnx.load(str(out), load_external_data=False).metadata_props}
    assert json.loads(meta["rfnet:classes"]) == CLASSES
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    iq = random_iq(5, 128, seed=7)  # a batch size the export never saw
    got = session.run(None, {"iq": torch.view_as_real(iq).numpy()})[0]
    np.testing.assert_allclose(got, logits(load(vtcnn2_dir), iq).numpy(), atol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vt.onnx"]  # one self-contained file


def test_torchscript_export_keeps_the_front_end_and_matches_pytorch(tmp_path):
    torch.manual_seed(5)
    model = SpectrogramClassifier(CLASSES, {"image_size": [63, 63]}, backbone="alexnet_tv")
    result = export_model(model, tmp_path / "spec.pt", "torchscript", num_samples=128)
    assert result.front_end_included and result.input_description == "complex64 IQ [batch, 128]"
    extra = {"rfnet.json": ""}
    scripted = torch.jit.load(str(tmp_path / "spec.pt"), _extra_files=extra)
    assert json.loads(extra["rfnet.json"])["classes"] == CLASSES
    iq = random_iq(4, 128, seed=8)
    torch.testing.assert_close(logits(scripted, iq), logits(model, iq), atol=1e-5, rtol=0)
    assert result.max_abs_diff <= 1e-5


def test_export_that_misses_the_tolerance_writes_nothing(vtcnn2_dir, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "vt.onnx"
    assert main(["export", "--model", str(vtcnn2_dir), "--format", "onnx", "--out", str(out),
                 "--tolerance", "0"]) == 2
    assert "differs from PyTorch by up to" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_a_folder_without_a_model_or_a_length_the_model_cannot_take(vtcnn2_dir, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["export", "--model", str(tmp_path / "empty"), "--format", "torchscript",
                 "--out", str(tmp_path / "m.pt")]) == 2
    assert "empty: not a saved rfnet model (no config.json)" in capsys.readouterr().err
    assert main(["export", "--model", str(vtcnn2_dir), "--format", "torchscript", "--num-samples", "64",
                 "--out", str(tmp_path / "m.pt")]) == 2
    assert "--num-samples 64: model 'vtcnn2'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--format 'tflite'"):
        export_model(create_model("vtcnn2", classes=CLASSES), tmp_path / "m.tflite", "tflite", 128)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_onnxruntime_bench_mode_agrees_with_eager(vtcnn2_dir):
    pytest.importorskip("onnxruntime")
    model = load(vtcnn2_dir).eval()
    iq = random_iq(3, 128, seed=9)
    got = prepare(model, "onnxruntime", "cpu", num_samples=128)(iq)
    np.testing.assert_allclose(got, logits(model, iq).numpy(), atol=1e-4)


@pytest.mark.slow
def test_onnx_export_of_a_spectrogram_classifier_is_its_backbone_on_images(tmp_path, capsys):
    onnxruntime = pytest.importorskip("onnxruntime")
    torch.manual_seed(6)
    model = SpectrogramClassifier(CLASSES, {"image_size": [63, 63]}, backbone="alexnet_tv")
    folder = save(model, tmp_path / "spec")
    out = tmp_path / "spec.onnx"
    assert main(["export", "--model", str(folder), "--format", "onnx", "--out", str(out), "--num-samples", "128"]) == 0
    printed = capsys.readouterr().out
    assert "front end is not in this file" in printed and "float32 images [batch, 3, 63, 63]" in printed
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    iq = random_iq(2, 128, seed=10)
    with torch.no_grad():
        images = model.eval().frontend(iq)
    got = session.run(None, {"images": images.numpy()})[0]
    np.testing.assert_allclose(got, logits(model, iq).numpy(), atol=1e-4)
