"""--seed fixes a run: every registered model's starting weights, and the losses of short training runs."""

import dataclasses
import json

import pytest
import torch

from rfnet.cli import main
from rfnet.data import SynthConfig, write_synthetic
from rfnet.models import load
from rfnet.models.registry import create_model
from rfnet.seeding import seed_for, torch_seeded

pytestmark = pytest.mark.usefixtures("one_thread")

CLASSES = ["BPSK", "QPSK", "AM-DSB"]
SMALL_CONFIGS = {
    "alexnet": dict(num_classes=3),
    "alexnet_tv": dict(num_classes=3),
    "spectrogram_classifier": dict(classes=CLASSES, frontend={"image_size": [67, 67]}),
    "vtcnn2": dict(classes=CLASSES, num_samples=128),
    "radioml_resnet": dict(classes=CLASSES, num_samples=128),
}


def test_every_registered_model_has_a_config_here(shipped_models):
    assert sorted(SMALL_CONFIGS) == shipped_models


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_seed_fixes_the_starting_weights_of_every_registered_model(name):
    before = torch.get_rng_state()
    first = create_model(name, seed=7, **SMALL_CONFIGS[name]).state_dict()
    assert torch.equal(torch.get_rng_state(), before)  # the caller's random stream is untouched
    torch.rand(5)  # another global state: the seed alone decides
    again = create_model(name, seed=7, **SMALL_CONFIGS[name]).state_dict()
    other = create_model(name, seed=8, **SMALL_CONFIGS[name]).state_dict()
    assert list(first) == list(again) and all(torch.equal(first[key], again[key]) for key in first)
    weights = [key for key in first if key.endswith("weight") and first[key].std() > 0]
    assert weights and all(not torch.equal(first[key], other[key]) for key in weights)


def test_torch_seeded_restores_the_global_generator():
    before = torch.get_rng_state()
    with torch_seeded(3):
        inside = torch.rand(4)
    assert torch.equal(torch.get_rng_state(), before)
    with torch_seeded(3):
        assert torch.equal(torch.rand(4), inside)
    assert seed_for(3, 1) != seed_for(3, 2)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """3 classes x 2 SNRs x 10 examples of 128 samples, as a pickle."""
    path = tmp_path_factory.mktemp("data") / "tiny.pkl"
    config = dataclasses.replace(SynthConfig.rml2016(), classes=tuple(CLASSES), snr_min_db=10, snr_max_db=18,
                                 snr_step_db=8, examples_per_cell=10)
    write_synthetic(path, config, seed=0)
    return path


def trained(data, out, model: str, seed: int) -> tuple[list[float], dict[str, torch.Tensor]]:
    """The losses of every epoch and split of one short ``rfnet finetune`` run, and its best weights."""
    assert main(["finetune", "--data", str(data), "--out", str(out), "--model", model, "--seed", str(seed),
                 "--epochs", "2", "--batch-size", "16", "--quiet"]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in records], load(out / "best").state_dict()


@pytest.mark.parametrize("model", [
    "vtcnn2", "radioml_resnet",
    pytest.param("alexnet", marks=pytest.mark.slow), pytest.param("alexnet_tv", marks=pytest.mark.slow)])
def test_two_finetune_runs_with_one_seed_give_identical_losses_and_weights(tiny_data, tmp_path, model):
    torch.manual_seed(1)
    losses, weights = trained(tiny_data, tmp_path / "first", model, seed=5)
    torch.manual_seed(2)  # the global state a run starts from does not matter, only --seed
    losses_again, weights_again = trained(tiny_data, tmp_path / "again", model, seed=5)
    assert len(losses) == 4 and losses == losses_again
    assert all(torch.equal(weights[key], weights_again[key]) for key in weights)
    other_losses, _ = trained(tiny_data, tmp_path / "other", model, seed=6)
    assert other_losses != losses
