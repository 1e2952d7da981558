"""rfnet.evaluation: predictions, metrics on hand-computed examples, calibration, reports, tables."""

import json

import matplotlib.image
import pytest
import torch
from torch import nn

from rfnet.data.examples import IQExamples
from rfnet.evaluation import (
    Predictions,
    accuracy_by_class,
    accuracy_by_snr,
    accuracy_by_snr_table,
    accuracy_curve,
    compare_reports,
    compute_metrics,
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    mean_accuracy_at_or_above,
    overall_accuracy,
    predict,
    row_normalize,
    write_report,
)
from rfnet.evaluation import report as report_module

CLASSES = ("BPSK", "QPSK", "8PSK")


def one_hot_logits(predicted: list[int], num_classes: int = 3) -> torch.Tensor:
    """Logits whose arg-max is ``predicted``."""
    logits = torch.zeros(len(predicted), num_classes)
    logits[torch.arange(len(predicted)), torch.tensor(predicted)] = 4.0
    return logits


@pytest.fixture
def small() -> Predictions:
    """8 examples, 3 classes, SNRs -10, 0, 10, 18 dB; predicted vs true written out below."""
    labels = [0, 0, 1, 1, 2, 2, 0, 1]
    predicted = [0, 1, 1, 1, 0, 2, 0, 2]
    snrs = [-10.0, -10.0, 0.0, 0.0, 10.0, 10.0, 18.0, 18.0]
    return Predictions(one_hot_logits(predicted), torch.tensor(labels), torch.tensor(snrs))


def test_metrics_by_hand(small):
    assert small.predicted.tolist() == [0, 1, 1, 1, 0, 2, 0, 2]
    assert overall_accuracy(small) == pytest.approx(5 / 8)
    by_snr = accuracy_by_snr(small)
    assert list(by_snr) == [-10.0, 0.0, 10.0, 18.0]
    assert [tuple(a) for a in by_snr.values()] == [(0.5, 2), (1.0, 2), (0.5, 2), (0.5, 2)]
    assert [tuple(a) for a in accuracy_by_class(small)] == [(2 / 3, 3), (2 / 3, 3), (0.5, 2)]
    assert confusion_matrix(small).tolist() == [[2, 1, 0], [0, 2, 1], [1, 0, 1]]
    assert confusion_matrix(small, min_snr_db=10.0).tolist() == [[1, 0, 0], [0, 0, 1], [1, 0, 1]]
    assert row_normalize(confusion_matrix(small, min_snr_db=10.0)).tolist() == [
        [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]
    ]
    assert mean_accuracy_at_or_above(small, 10.0) == pytest.approx(0.5)
    assert mean_accuracy_at_or_above(small, 0.0) == pytest.approx((1.0 + 0.5 + 0.5) / 3)
    assert mean_accuracy_at_or_above(small, 30.0) is None


def test_row_normalize_leaves_empty_rows_zero():
    assert row_normalize(torch.tensor([[0, 0], [1, 3]])).tolist() == [[0.0, 0.0], [0.25, 0.75]]


def test_predictions_helpers(small):
    probabilities = small.probabilities(temperature=2.0)
    assert torch.allclose(probabilities.sum(1), torch.ones(8))
    assert torch.allclose(probabilities, torch.softmax(small.logits / 2.0, 1))
    high = small.subset(small.snrs >= 10)
    assert len(high) == 4 and high.labels.tolist() == [2, 2, 0, 1]
    with pytest.raises(ValueError, match="temperature"):
        small.probabilities(temperature=0.0)


@pytest.mark.parametrize(
    "logits, labels, snrs, message",
    [
        (torch.tensor([[0.0, float("nan")]]), torch.tensor([0]), torch.tensor([0.0]), "NaN"),
        (torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), torch.zeros(0), r"N, C > 0"),
        (torch.zeros(2, 3), torch.tensor([0]), torch.zeros(2), "must both be"),
        (torch.zeros(1, 3), torch.tensor([3]), torch.zeros(1), r"\[0, 3\)"),
    ],
)
def test_bad_predictions(logits, labels, snrs, message):
    with pytest.raises(ValueError, match=message):
        Predictions(logits, labels, snrs)


def calibrated_logits(n: int = 20000, classes: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits with labels drawn from their own softmax: calibrated by construction."""
    generator = torch.Generator().manual_seed(seed)
    logits = 1.5 * torch.randn(n, classes, generator=generator)
    labels = torch.multinomial(torch.softmax(logits, 1), 1, generator=generator).squeeze(1)
    return logits, labels


def test_ece_by_hand():
    # confidences 0.9 (correct), 0.9 (wrong), 0.6 (correct) → bins 13 and 8 of 15:
    # (2/3)|0.5 - 0.9| + (1/3)|1 - 0.6| = 0.4
    probabilities = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    labels = torch.tensor([0, 1, 1])
    assert expected_calibration_error(probabilities.log(), labels) == pytest.approx(0.4, abs=1e-6)


def test_overconfidence_raises_ece_and_temperature_recovers_it():
    logits, labels = calibrated_logits()
    calibrated = expected_calibration_error(logits, labels)
    overconfident = expected_calibration_error(5 * logits, labels)
    assert calibrated < 0.02
    assert overconfident > 5 * calibrated and overconfident > 0.1
    temperature = fit_temperature(5 * logits, labels)
    assert temperature == pytest.approx(5.0, rel=0.1)
    assert expected_calibration_error(5 * logits, labels, temperature=temperature) < 0.02


class TinyIQNet(nn.Module):
    """Complex IQ [B, L] → logits [B, C] via a 1-D conv over I/Q rows."""

    def __init__(self, classes: int):
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 5, padding=2)
        self.head = nn.Linear(8, classes)

    def forward(self, iq):
        rows = torch.stack([iq.real, iq.imag], dim=1)
        return self.head(torch.relu(self.conv(rows)).mean(-1))


def tiny_dataset(n: int = 37, length: int = 32) -> IQExamples:
    generator = torch.Generator().manual_seed(1)
    iq = torch.randn(n, length, dtype=torch.complex64, generator=generator)
    labels = torch.randint(0, 3, (n,), generator=generator).numpy()
    snrs = (torch.arange(n) % 4 * 6 - 4).numpy()
    return IQExamples(iq, labels, snrs, CLASSES, "memory")


def test_predict_matches_direct_forward():
    torch.manual_seed(0)
    model = TinyIQNet(3).train()
    data = tiny_dataset()
    predictions = predict(model, data, batch_size=10, progress=False)
    assert model.training  # mode restored
    assert predictions.logits.dtype == torch.float32 and predictions.logits.shape == (37, 3)
    assert predictions.labels.dtype == torch.int64 and predictions.labels.tolist() == data.labels.tolist()
    assert predictions.snrs.dtype == torch.float32 and predictions.snrs.tolist() == data.example_snrs.tolist()
    with torch.no_grad():
        expected = model.eval()(data.iq)
    assert torch.allclose(predictions.logits, expected, atol=1e-6)


def test_predict_bad_input():
    model = TinyIQNet(3)
    with pytest.raises(ValueError, match="empty"):
        predict(model, tiny_dataset(n=0), progress=False)
    data = tiny_dataset()
    data.iq[3, 0] = complex(float("nan"), 0.0)
    with pytest.raises(ValueError, match="NaN"):
        predict(model, data, progress=False)


def test_report_files_and_metrics(small, tmp_path):
    out = tmp_path / "report"
    metrics = write_report(small, CLASSES, out, temperature=2.0, title="tiny")
    on_disk = json.loads((out / "metrics.json").read_text())
    recomputed = compute_metrics(small, CLASSES, temperature=2.0, title="tiny")
    assert on_disk == metrics == json.loads(json.dumps(recomputed))
    assert on_disk["classes"] == list(CLASSES)
    assert on_disk["accuracy"] == overall_accuracy(small)
    assert accuracy_curve(on_disk) == {s: a.accuracy for s, a in accuracy_by_snr(small).items()}
    assert [r["count"] for r in on_disk["accuracy_by_snr"]] == [2, 2, 2, 2]
    assert on_disk["mean_accuracy_high_snr"] == mean_accuracy_at_or_above(small, 10.0)
    by_class = [a.accuracy for a in accuracy_by_class(small)]
    assert [r["accuracy"] for r in on_disk["accuracy_by_class"]] == by_class
    assert on_disk["confusion"]["all"]["counts"] == confusion_matrix(small).tolist()
    high_snr = row_normalize(confusion_matrix(small, min_snr_db=10)).tolist()
    assert on_disk["confusion"]["high_snr"]["normalized"] == high_snr
    calibration = on_disk["calibration"]
    assert calibration["ece"] == expected_calibration_error(small.logits, small.labels)
    after = expected_calibration_error(small.logits, small.labels, temperature=2.0)
    assert calibration["ece_after_temperature"] == after
    assert sum(b["count"] for b in calibration["bins"]) == 8
    for name in ("accuracy_vs_snr.png", "confusion_all.png", "confusion_high_snr.png", "calibration.png"):
        assert (out / name).stat().st_size > 10_000
        image = matplotlib.image.imread(out / name)
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 300 and image.shape[2] in (3, 4)
        assert image.std() > 0.01  # not a blank canvas
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["metrics.json", "accuracy_vs_snr.png", "confusion_all.png", "confusion_high_snr.png", "calibration.png"]
    )


def test_report_rejects_class_mismatch(small, tmp_path):
    with pytest.raises(ValueError, match="2 names given but the predictions score 3"):
        write_report(small, CLASSES[:2], tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_report_failure_leaves_no_files(small, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_module, "plot_reliability", broken)  # the last figure, after three are written
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(small, CLASSES, tmp_path / "new")
    assert list((tmp_path / "new").iterdir()) == []
    monkeypatch.undo()
    write_report(small, CLASSES, tmp_path / "old", title="first")
    before = {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()}
    monkeypatch.setattr(report_module, "plot_reliability", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(small.subset(small.snrs >= 0), CLASSES, tmp_path / "old", title="second")
    assert {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()} == before


def test_table_layout():
    curves = {"AlexNet": {-2.0: 0.5, 10.0: 0.9, 18.0: 0.95}, "VT-CNN2": {10.0: 0.8, 18.0: 0.7}}
    table = accuracy_by_snr_table(curves)
    lines = table.splitlines()
    assert lines[0].split() == ["SNR", "(dB)", "AlexNet", "VT-CNN2"]
    rows = [line.split() for line in lines[2:5]]
    assert rows == [["-2", "50.0", "-"], ["10", "90.0", "80.0"], ["18", "95.0", "70.0"]]
    assert lines[-1].split() == ["mean", ">=", "10", "dB", "92.5", "75.0"]
    assert len({len(line) for line in lines}) == 1  # aligned columns
    with pytest.raises(ValueError, match="no models"):
        accuracy_by_snr_table({})


def test_compare_reports(small, tmp_path):
    write_report(small, CLASSES, tmp_path / "a")
    other = compute_metrics(small.subset(small.snrs >= 0), CLASSES)
    table = compare_reports({"A": tmp_path / "a", "B": other}, tmp_path / "compare.png")
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert table == accuracy_by_snr_table({"A": accuracy_curve(saved), "B": accuracy_curve(other)})
    assert matplotlib.image.imread(tmp_path / "compare.png").shape[0] > 300
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        compare_reports({"missing": tmp_path / "nope"}, tmp_path / "x.png")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not an rfnet metrics.json"):
        compare_reports({"bad": tmp_path / "bad.json"}, tmp_path / "x.png")
