"""Adversarial training: the adversary ``rfnet finetune --adv-train`` hands to the training engine."""

from __future__ import annotations

import importlib
import json
import math

import pytest
import torch

from rfnet.cli import main
from rfnet.data.synthetic import SynthConfig, write_synthetic
from rfnet.dsp import modulate
from rfnet.models import create_model
from rfnet.robustness.adversarial_training import make_adversary
from rfnet.robustness.budget import delivered_db

pytestmark = pytest.mark.usefixtures("one_thread")

finetune_job = importlib.import_module("rfnet.jobs.finetune")  # the module; rfnet.jobs exports the function


@pytest.fixture
def model_and_batch():
    model = create_model("vtcnn2", classes=["BPSK", "QPSK"], num_samples=32, drop_rate=0.5).train()
    iq = modulate("QPSK", 16, 32, generator=torch.Generator().manual_seed(0))
    return model, iq, torch.randint(0, 2, (16,), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("attack", ["fgm", "fgsm", "pgd", "pgd_linf"])
def test_adversary_stays_in_budget_restores_train_mode_and_leaves_parameter_gradients(model_and_batch, attack):
    model, iq, labels = model_and_batch
    before = iq.clone()
    adversarial = make_adversary(attack, -10.0, pgd_steps=2)(model, iq, labels)
    delivered = delivered_db(iq, adversarial - iq)
    assert torch.all(delivered <= -10.0 + 1e-3) and torch.all(delivered > -30.0)
    if attack in ("fgm", "fgsm"):
        assert torch.all((delivered + 10.0).abs() < 0.05)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(iq, before) and not adversarial.requires_grad


def test_adversary_draws_from_the_global_generator(model_and_batch):
    """The engine seeds and checkpoints torch's global RNG, so a resumed run repeats the random starts."""
    model, iq, labels = model_and_batch
    adversary = make_adversary("pgd", -10.0, pgd_steps=2)
    torch.manual_seed(7)
    first = adversary(model, iq, labels)
    torch.manual_seed(7)
    assert torch.equal(first, adversary(model, iq, labels))
    assert not torch.equal(first, adversary(model, iq, labels))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="--adv-train 'deepfool'"):
        make_adversary("deepfool", -10.0)
    with pytest.raises(ValueError, match="--adv-psr"):
        make_adversary("pgd", math.inf)
    with pytest.raises(ValueError, match="steps"):
        make_adversary("pgd", -10.0, pgd_steps=0)


@pytest.mark.slow
def test_finetune_adv_train_passes_the_adversary_to_every_training_batch(tmp_path, monkeypatch, capsys):
    config = SynthConfig(classes=("BPSK", "GFSK"), num_samples=32, snr_min_db=10, snr_max_db=10,
                         examples_per_cell=20, normalization="unit_power")
    write_synthetic(tmp_path / "data.h5", config, seed=0)
    calls = []

    def spy(attack, psr_db, **options):
        adversary = make_adversary(attack, psr_db, **options)

        def counted(model, iq, labels):
            calls.append((attack, psr_db, options, model.training, iq.shape[0]))
            return adversary(model, iq, labels)
        return counted

    monkeypatch.setattr(finetune_job, "make_adversary", spy)
    out = tmp_path / "run"
    code = main(["finetune", "--data", str(tmp_path / "data.h5"), "--model", "vtcnn2", "--epochs", "1",
                 "--batch-size", "8", "--adv-train", "pgd", "--adv-psr", "-12", "--adv-steps", "2",
                 "--device", "cpu", "--quiet", "--out", str(out)])
    assert code == 0
    assert [call[:4] for call in calls] == [("pgd", -12.0, {"pgd_steps": 2}, True)] * 4  # 32 train / 8
    assert sum(call[4] for call in calls) == 32
    job = json.loads((out / "job.json").read_text())["job"]
    assert (job["adv_train"], job["adv_psr_db"], job["adv_steps"]) == ("pgd", -12.0, 2)


def test_finetune_refuses_an_unknown_adversarial_attack_before_writing(tmp_path):
    with pytest.raises(ValueError, match="--adv-train"):
        finetune_job.finetune(finetune_job.FinetuneJob(data="rml2016", out=str(tmp_path / "run"),
                                                       adv_train="deepfool"))
    assert not (tmp_path / "run").exists()
