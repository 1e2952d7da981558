"""rfnet.robustness: budgets, attacks, jammers, the evaluator, the self-checks, the report and the CLI.

One small VT-CNN2 (32 samples, BPSK vs GFSK at 10 dB SNR, clean channel) is trained once per session
(a few seconds) and attacked throughout.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rfnet.cli import main
from rfnet.data import load_radioml
from rfnet.data.synthetic import SynthConfig, write_synthetic
from rfnet.dsp.channel import ChannelConfig
from rfnet.dsp.power import signal_power
from rfnet.jobs.datasets import LabelledData
from rfnet.jobs.robustness import RobustnessJob, _craft_and_test, robustness
from rfnet.jobs.run_folder import RunRecord
from rfnet.models import create_model, save
from rfnet.robustness import PERTURB_NAMES, checks, perturb
from rfnet.robustness.apgd import APGD, checkpoints
from rfnet.robustness.attacks import FGM, PGD, GaussianNoise
from rfnet.robustness.adversarial_training import make_adversary
from rfnet.robustness.budget import (MAX_BUDGET_POINTS, check_budget_db, check_budget_grid, delivered_db,
                                     enforce_budget, parse_budget_grid, scale_to_power)
from rfnet.robustness.jammers import JAMMER_NAMES
from rfnet.robustness.sweep import clean_correct, count_zero_gradients, sweep, worst_case
from rfnet.robustness.transfer import Transfer
from rfnet.robustness.universal import UniversalPerturbation, craft_universal
from rfnet.train import TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

CLASSES = ("BPSK", "GFSK")
SAMPLES = 32
BUDGETS = (-40.0, -20.0, -10.0, 0.0)


def _write_data(path, classes=CLASSES, per_cell=250, seed=0):
    channel = dataclasses.replace(ChannelConfig.clean(), sample_rate_hz=200e3)
    config = SynthConfig(classes=classes, num_samples=SAMPLES, snr_min_db=10, snr_max_db=10,
                         examples_per_cell=per_cell, channel=channel, normalization="unit_power")
    write_synthetic(path, config, seed=seed)
    return path


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """(model in eval mode, its saved folder, the data file, train items, test iq, test labels)."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("robustness")
    data = load_radioml(_write_data(folder / "data.h5"))
    items = [data[i] for i in torch.randperm(len(data), generator=torch.Generator().manual_seed(0)).tolist()]
    train, test = items[:400], items[400:]
    torch.manual_seed(0)
    model = create_model("vtcnn2", classes=list(CLASSES), num_samples=SAMPLES, drop_rate=0.1)
    config = TrainConfig(epochs=4, batch_size=16, lr=1e-3, progress_bar=False, device="cpu", seed=0)
    Trainer(model, train, test, config, folder / "run").fit()
    save(model, folder / "model")
    iq = torch.stack([item[0] for item in test])
    labels = torch.tensor([item[1] for item in test])
    return model.eval(), folder / "model", folder / "data.h5", train, iq, labels


@pytest.fixture
def batch(trained):
    model, _, _, _, iq, labels = trained
    return model, iq[:24], labels[:24]


class Quantised(nn.Module):
    """The trained model behind a non-differentiable front end: IQ rounded to a grid (zero gradient)."""

    def __init__(self, inner: nn.Module, step: float = 0.05):
        super().__init__()
        self.inner, self.step, self.classes = inner, step, inner.classes

    def forward(self, iq):
        parts = torch.round(torch.view_as_real(iq) / self.step) * self.step
        return self.inner(torch.view_as_complex(parts.contiguous()))


# --- budgets -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fgm", "fgsm", "noise"])
@pytest.mark.parametrize("psr_db", [-30.0, -10.0, 0.0])
def test_delivered_psr_equals_the_request(batch, name, psr_db):
    model, iq, labels = batch
    out = perturb(name, model, iq, labels, psr_db, seed=3)
    delivered = delivered_db(iq, out - iq)
    assert torch.all((delivered - psr_db).abs() < 0.05), delivered


@pytest.mark.parametrize("name", JAMMER_NAMES)
def test_delivered_jsr_equals_the_request(batch, name):
    model, iq, labels = batch
    for jsr_db in (-10.0, 5.0):
        delivered = delivered_db(iq, perturb(name, model, iq, labels, jsr_db, seed=1) - iq)
        assert torch.all((delivered - jsr_db).abs() < 0.05), (name, delivered)


@pytest.mark.parametrize("name", ["pgd", "pgd_linf"])
def test_pgd_stays_within_the_budget(batch, name):
    model, iq, labels = batch
    delivered = delivered_db(iq, perturb(name, model, iq, labels, -15.0, seed=0, pgd_steps=3) - iq)
    assert torch.all(delivered <= -15.0 + 1e-3) and torch.all(delivered > -40), delivered


def test_enforce_budget_clips_only_what_exceeds_it():
    g = torch.Generator().manual_seed(0)
    iq = torch.randn(3, 64, dtype=torch.complex64, generator=g)
    delta = torch.randn(3, 64, dtype=torch.complex64, generator=g) * torch.tensor([[0.1], [1.0], [3.0]])
    clipped, delivered = enforce_budget(iq, delta, 0.0)
    assert torch.equal(clipped[0], delta[0])                 # within: unchanged
    assert delivered[0] < -15
    assert torch.allclose(delivered[1:], torch.zeros(2), atol=0.01)  # over: exactly on the budget
    assert torch.allclose(signal_power(clipped[1:]), signal_power(iq[1:]), rtol=1e-4)


def test_scale_to_power_handles_tiny_and_zero_rows():
    """A trained model's gradient can be subnormal (~1e-41): scaling it must not overflow into NaN."""
    rows = torch.tensor([[1e-41 + 0j, 0j], [0j, 0j], [3 + 4j, 0j]], dtype=torch.complex64)
    scaled = scale_to_power(rows, torch.tensor([100.0, 100.0, 1.0]))
    assert torch.isfinite(torch.view_as_real(scaled)).all()
    assert torch.allclose(signal_power(scaled), torch.tensor([100.0, 0.0, 1.0]), rtol=1e-5)
    assert scaled[0, 1] == 0 and scaled[2, 0].angle() == pytest.approx(rows[2, 0].angle())


@pytest.mark.parametrize("name", PERTURB_NAMES)
def test_zero_budget_returns_the_input_and_nothing_is_mutated(batch, name):
    model, iq, labels = batch
    before = iq.clone()
    assert torch.equal(perturb(name, model, iq, labels, -math.inf), iq)
    out = perturb(name, model, iq, labels, -5.0, seed=2, pgd_steps=2)
    assert torch.equal(iq, before)
    assert not torch.equal(out, iq) and out.dtype == torch.complex64 and out.shape == iq.shape


def test_perturb_is_deterministic_uses_eval_mode_and_restores_the_mode(batch):
    model, iq, labels = batch
    model.train()  # dropout on: a train-mode gradient would differ from call to call
    try:
        first = perturb("pgd", model, iq, labels, -10.0, seed=5, pgd_steps=3)
        second = perturb("pgd", model, iq, labels, -10.0, seed=5, pgd_steps=3)
        assert model.training
    finally:
        model.eval()
    assert torch.equal(first, second)
    assert not torch.equal(first, perturb("pgd", model, iq, labels, -10.0, seed=6, pgd_steps=3))


def test_perturb_rejects_unknown_names_and_models_without_logits(batch):
    model, iq, labels = batch
    with pytest.raises(ValueError, match="unknown attack 'deepfool'"):
        perturb("deepfool", model, iq, labels, -10.0)
    with pytest.raises(ValueError, match="must return float logits"):
        perturb("fgm", _Energy(), iq, labels, -10.0)


class _Energy(nn.Module):
    """Returns one number per example, not logits [B, C]."""

    def forward(self, iq):
        return torch.view_as_real(iq).square().sum((1, 2))

# --- the evaluator -----------------------------------------------------------------------------------

def _curve(model, attack, iq, labels, clean=None, budgets=BUDGETS):
    clean = clean_correct(model, iq, labels, 64) if clean is None else clean
    return sweep(model, "vtcnn2", attack, iq, labels, budgets, clean=clean, batch_size=64, seed=0)


def test_accuracy_falls_as_the_budget_grows(trained):
    model, _, _, _, iq, labels = trained
    clean = clean_correct(model, iq, labels, 64)
    assert clean.float().mean() > 0.75
    fgm, pgd = _curve(model, FGM(), iq, labels, clean), _curve(model, PGD(steps=5), iq, labels, clean)
    for curve in (fgm, pgd):
        accuracy = [point.accuracy for point in curve.points]
        assert accuracy[0] >= clean.float().mean() - 0.05           # -40 dB: nearly clean
        assert all(b <= a + 0.02 for a, b in zip(accuracy, accuracy[1:]))
        assert accuracy[-1] < clean.float().mean() / 2             # 0 dB: broken
        assert curve.points[-1].examples == len(labels)
        assert abs(curve.points[-1].delivered_db_max) < 0.05
    assert all(p.accuracy <= f.accuracy + 0.02 for p, f in zip(pgd.points, fgm.points))
    assert pgd.points[-1].accuracy < 0.1
    noise = _curve(model, GaussianNoise(), iq, labels, clean)
    assert noise.points[2].accuracy > fgm.points[2].accuracy + 0.3   # -10 dB: noise barely hurts
    check = checks.beats_noise(pgd, noise, float(clean.float().mean()))
    assert check.passed, check.detail


def test_apgd_checkpoints_and_strength(trained):
    marks = checkpoints(100)
    assert marks[:2] == [22, 41] and marks == sorted(set(marks)) and marks[-1] < 100
    model, _, _, _, iq, labels = trained
    iq, labels = iq[:50], labels[:50]
    clean = clean_correct(model, iq, labels, 64)
    for norm in ("l2", "linf"):
        apgd = _curve(model, APGD(norm=norm, steps=6), iq, labels, clean, budgets=(-4.0,)).points[0]
        pgd = _curve(model, PGD(norm=norm, steps=3), iq, labels, clean, budgets=(-4.0,)).points[0]
        assert apgd.delivered_db_max <= -4.0 + 1e-3
        assert apgd.accuracy <= pgd.accuracy + 0.04, norm
        assert apgd.accuracy < clean.float().mean() / 2


def test_worst_case_is_per_example(batch):
    model, iq, labels = batch
    attacks = (FGM(), PGD(norm="linf", steps=2, name="pgd_linf"))
    curves = [_curve(model, attack, iq, labels, budgets=(-12.0,)) for attack in attacks]
    combined = worst_case(curves)
    expected = curves[0].points[0].correct & curves[1].points[0].correct
    assert torch.equal(combined.points[0].correct, expected)
    assert combined.points[0].accuracy == pytest.approx(float(expected.float().mean()))


def test_gradient_masking_check_fires_on_a_quantised_front_end(trained):
    model, _, _, _, iq, labels = trained
    iq, labels = iq[:40], labels[:40]
    masked = Quantised(model).eval()
    zero = count_zero_gradients(masked, iq, labels, 64)
    assert zero == len(labels)
    clean = clean_correct(masked, iq, labels, 64)
    accuracy = _curve(masked, PGD(steps=5), iq, labels, clean, budgets=(20.0,)).points[0].accuracy
    check = checks.unbounded("quantised", accuracy, 20.0, zero, len(labels))
    assert not check.passed and "gradient masking" in check.detail
    honest_clean = clean_correct(model, iq, labels, 64)
    honest = _curve(model, PGD(steps=5), iq, labels, honest_clean, budgets=(20.0,)).points[0].accuracy
    assert checks.unbounded("vtcnn2", honest, 20.0, count_zero_gradients(model, iq, labels, 64), len(labels)).passed


def test_monotone_check_flags_a_rising_curve(batch):
    model, iq, labels = batch
    curve = _curve(model, FGM(), iq, labels)
    assert all(check.passed for check in checks.monotone([curve]))
    curve.points[-1].accuracy = curve.points[0].accuracy + 0.5
    assert not checks.monotone([curve])[0].passed


def test_universal_perturbation_crafted_on_training_data_hurts_test_data_more_than_noise(trained):
    model, _, _, train, iq, labels = trained
    train_iq = torch.stack([item[0] for item in train])
    train_labels = torch.tensor([item[1] for item in train])
    direction = craft_universal(model, train_iq, train_labels, -6.0, epochs=20, batch_size=50,
                                generator=torch.Generator().manual_seed(0))
    assert direction.shape == (SAMPLES,) and float(signal_power(direction[None])) == pytest.approx(1.0, rel=1e-4)
    uap = UniversalPerturbation(direction, {"crafted_at_psr_db": -6.0})
    clean = clean_correct(model, iq, labels, 64)
    universal = _curve(model, uap, iq, labels, clean, budgets=(-3.0,)).points[0]
    noise = _curve(model, GaussianNoise(), iq, labels, clean, budgets=(-3.0,)).points[0]
    assert universal.delivered_db_max == pytest.approx(-3.0, abs=0.05)
    assert universal.accuracy < noise.accuracy - 0.15


def test_transfer_from_an_untrained_surrogate_is_weaker_than_white_box(batch):
    model, iq, labels = batch
    torch.manual_seed(1)
    surrogate = create_model("vtcnn2", classes=list(CLASSES), num_samples=SAMPLES)
    transfer = _curve(model, Transfer(surrogate, "untrained", PGD(steps=3)), iq, labels, budgets=(-10.0,))
    white = _curve(model, PGD(steps=3), iq, labels, budgets=(-10.0,))
    assert transfer.attack == "transfer" and transfer.kind == "transfer"
    assert checks.at_least_as_strong("white_box_at_least_transfer", white, transfer).passed
    assert white.points[0].accuracy < transfer.points[0].accuracy


# --- budget ranges and the command line ---------------------------------------------------------------

def test_parse_budget_grid():
    assert parse_budget_grid("-40:0:10", "--psr") == (-40.0, -30.0, -20.0, -10.0, 0.0)
    assert parse_budget_grid("-3:0:2", "--psr") == (-3.0, -1.0)
    assert parse_budget_grid("0,-10", "--jsr") == (-10.0, 0.0)
    assert len(parse_budget_grid("-100:99.8:0.2", "--psr")) == MAX_BUDGET_POINTS  # the most a grid holds
    for text, message in (("0:-40:2", "reversed"), ("-40:0:0", "step must be positive"),
                          ("", "empty"), ("a:b", "start:stop:step"), ("-10:nan:1", "finite"),
                          ("-100:100:0.2", "1001 budgets, more than the 1000"),
                          ("-10:0:1e-9", "10000000001 budgets"),  # issue 14: 22 GB, then killed
                          ("-10:0:5e-324", "inf budgets"), ("-300:0:10", r"within \[-200, 200\]"),
                          ("0,500", r"--psr 500.0: give a finite budget in dB within")):
        with pytest.raises(ValueError, match=message):
            parse_budget_grid(text, "--psr")


def test_every_budget_option_follows_one_rule():
    """Issue 12: PSR validity was four rules; now check_budget_db, whichever option gives the budget."""
    for bad in (math.inf, math.nan, -201.0, 1e300, True):
        with pytest.raises(ValueError, match="give a finite budget in dB within"):
            check_budget_db(bad, "--x")
        with pytest.raises(ValueError, match="--adv-psr .*give a finite budget"):
            make_adversary("pgd", bad)
    assert check_budget_db(-200, "--x") == -200.0 and check_budget_db(200.0, "--x") == 200.0
    with pytest.raises(ValueError, match="--psr: budgets must be increasing"):
        check_budget_grid((0.0, -10.0), "--psr")
    with pytest.raises(ValueError, match="--unbounded-psr 1e\\+300: give a finite budget"):
        robustness(RobustnessJob(models=("run",), out="x", unbounded_psr_db=1e300))
    with pytest.raises(ValueError, match="--jsr: 1001 budgets"):
        robustness(RobustnessJob(models=("run",), out="x", attacks=("barrage",), jsr_db=tuple(i / 10 for i in range(1001))))


def test_snr_range_selects_within_the_runs_own_split():
    """--snr-min/--snr-max on a run's own data keep its test split: no attacked example was trained on."""
    labels, snrs = np.repeat([0, 1], 20), np.tile(np.repeat([0.0, 10.0], 10), 2)
    data = LabelledData(None, CLASSES, labels, snrs, None, SAMPLES, "/data.h5")
    order = np.random.default_rng(0).permutation(40)
    fields = {"data_source": "/data.h5", "num_examples": 40, "classes": list(CLASSES)}
    record = RunRecord(Path("run"), fields, {"train": order[:30], "validation": order[30:34], "test": order[34:]})
    job = RobustnessJob(models=("run",), out="x", snr_range=(10.0, 10.0))
    craft, test = _craft_and_test(job, data, record.splits_of(data))
    assert set(test) == {i for i in order[34:] if snrs[i] == 10} and set(craft) <= set(order[:30])
    assert all(snrs[craft] == 10)
    other = dataclasses.replace(record, fields={**fields, "data_source": "/other.h5"})  # not the run's data
    assert other.splits_of(data) is None
    craft, test = _craft_and_test(job, data, other.splits_of(data))  # a fresh split
    assert not set(craft) & set(test) and len(craft) + len(test) == 20 and all(snrs[test] == 10)
    with pytest.raises(ValueError, match="no examples with SNR"):
        _craft_and_test(dataclasses.replace(job, snr_range=(30.0, 40.0)), data, record.splits_of(data))


def _run_cli(args):
    return main(["robustness", "--quiet", *map(str, args)])


@pytest.mark.slow
def test_cli_end_to_end(trained, tmp_path, capsys):
    model, model_dir, data_file, _, _, _ = trained
    out = tmp_path / "report"
    code = _run_cli(["--model", model_dir, "--model", model_dir, "--data", data_file, "--out", out,
                     "--attacks", "fgm,pgd,uap,noise,tone", "--psr", "-30:0:10", "--jsr", "-10,10",
                     "--pgd-steps", 3, "--uap-epochs", 1, "--max-examples", 60, "--batch-size", 64])
    assert code == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["domain"] == "iq" and report["seed"] == 0 and report["data"]["examples"] == 60
    assert [m["name"] for m in report["models"]] == ["model", "model-2"]
    assert report["models"][0]["clean_accuracy"] == report["models"][1]["clean_accuracy"] > 0.7
    assert report["hyperparameters"]["pgd"]["steps"] == 3
    curves = {(c["model"], c["attack"]): c for c in report["curves"]}
    assert {attack for _, attack in curves} == {"fgm", "pgd", "uap", "noise", "tone", "worst_case"}
    pgd = curves[("model", "pgd")]
    assert pgd["axis"] == "psr_db" and [p["db"] for p in pgd["points"]] == [-30, -20, -10, 0]
    assert curves[("model", "tone")]["axis"] == "jsr_db"
    assert all(p["accuracy_by_snr"] == {"10": p["accuracy"]} for p in pgd["points"])  # every example at 10 dB
    assert abs(curves[("model", "fgm")]["points"][-1]["delivered_db"]) < 0.05
    assert pgd["points"][-1]["accuracy"] < pgd["points"][0]["accuracy"]
    names = {check["name"] for check in report["checks"]}
    assert {"unbounded_attack", "pgd_at_least_fgm", "converged", "adversarial_beats_noise",
            "monotone:pgd"} <= names
    assert all(isinstance(check["passed"], bool) and check["detail"] for check in report["checks"])
    assert "[passed] model unbounded_attack" in printed
    rows = (out / "report.csv").read_text().splitlines()
    assert rows[0].startswith("model,attack,kind,axis,db,accuracy") and len(rows) == 1 + 2 * (4 * 4 + 2 + 4)
    for name in ("report.md", "accuracy_vs_psr.png", "accuracy_vs_jsr.png"):
        assert (out / name).stat().st_size > 0
    assert "Self-checks" in (out / "report.md").read_text()


@pytest.mark.parametrize("args, message", [
    (["--psr", "0:-40:2"], "reversed range"),
    (["--psr", "-10:0:0"], "step must be positive"),
    (["--attacks", "fgm,deepfool"], "unknown attack"),
    (["--attacks", "transfer"], "needs --surrogate"),
])
def test_cli_bad_budgets_and_attacks(trained, tmp_path, capsys, args, message):
    _, model_dir, data_file, _, _, _ = trained
    out = tmp_path / "report"
    assert _run_cli(["--model", model_dir, "--data", data_file, "--out", out, *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_data_whose_classes_differ_from_the_model(trained, tmp_path, capsys):
    _, model_dir, _, _, _, _ = trained
    other = _write_data(tmp_path / "other.h5", classes=("BPSK", "QPSK"), per_cell=4)
    out = tmp_path / "report"
    assert _run_cli(["--model", model_dir, "--data", other, "--out", out]) == 2
    err = capsys.readouterr().err
    assert "rfnet robustness: error:" in err and "QPSK" in err and "GFSK" in err
    assert not (out / "report.json").exists()


def test_cli_missing_model_folder(tmp_path, capsys):
    assert _run_cli(["--model", tmp_path / "nope", "--data", "x.h5", "--out", tmp_path / "r"]) == 2
    assert "no such model folder" in capsys.readouterr().err
