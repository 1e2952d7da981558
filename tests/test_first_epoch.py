"""rfnet finetune with its defaults learns from the first epoch on a RadioML-2016.10a-format pickle,
whatever amplitude scale the file has: the 10a convention (each example's magnitudes sum to 1, so
mean |x| = 1/128) or the same data at int16-like scale."""

import dataclasses
import json
import pickle

import numpy as np
import pytest

from rfnet.cli import main
from rfnet.data import SynthConfig, write_synthetic

CLASSES = ("BPSK", "QPSK", "8PSK", "GFSK")


def first_epoch_accuracy(run) -> float:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return next(r["accuracy"] for r in records if r["split"] == "val" and r["epoch"] == 1)


@pytest.fixture(scope="module")
def pickles(tmp_path_factory):
    """The same examples twice: at 10a's scale and multiplied by 3000."""
    folder = tmp_path_factory.mktemp("rml")
    config = dataclasses.replace(SynthConfig.rml2016(), classes=CLASSES, snr_min_db=10, snr_max_db=18,
                                 snr_step_db=8, examples_per_cell=250)
    faithful = folder / "rml10a.pkl"
    write_synthetic(faithful, config, seed=0)
    cells = pickle.loads(faithful.read_bytes(), encoding="latin1")  # our own file, written just now
    mean_abs = np.mean([np.abs(x[:, 0] + 1j * x[:, 1]).mean() for x in cells.values()])
    assert abs(mean_abs - 1 / 128) < 1e-6
    loud = folder / "loud.pkl"
    loud.write_bytes(pickle.dumps({key: 3000 * value for key, value in cells.items()}, protocol=2))
    return {"faithful": faithful, "loud": loud}


@pytest.mark.slow
def test_alexnet_defaults_learn_in_the_first_epoch_at_any_scale(pickles, tmp_path):
    accuracies = {}
    for name, path in pickles.items():
        run = tmp_path / name
        assert main(["finetune", "--data", str(path), "--out", str(run), "--epochs", "1", "--quiet"]) == 0
        accuracies[name] = first_epoch_accuracy(run)
    chance = 1 / len(CLASSES)
    # 25 steps: well above chance (100 validation examples: a standard error of ~0.05), alike at both scales.
    assert accuracies["faithful"] > chance + 0.12, accuracies
    assert abs(accuracies["faithful"] - accuracies["loud"]) <= 0.06, accuracies
