"""rfnet finetune / evaluate end to end on tiny synthetic data, resume, SigMF folders, and bad input.

Most runs train VT-CNN2 (2.8M parameters): the jobs do not depend on the architecture, and AlexNet's
230 MB of weights would make every checkpoint slow. The AlexNet path runs in tests/test_demo.py.
"""

import dataclasses
import json

import h5py
import numpy as np
import pytest
import torch

from rfnet.cli import main
from rfnet.data import SynthConfig, write_synthetic

CLASSES = ("BPSK", "QPSK", "AM-DSB")


def tiny_config(**overrides) -> SynthConfig:
    """3 classes x 2 SNRs x 10 examples of 128 samples."""
    fields = dict(classes=CLASSES, snr_min_db=10, snr_max_db=18, snr_step_db=8, examples_per_cell=10)
    return dataclasses.replace(SynthConfig.rml2016(), **(fields | overrides))


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    paths = {}
    for name, seed in (("train.pkl", 0), ("other.h5", 1)):
        write_synthetic(folder / name, tiny_config(), seed=seed)
        paths[name] = folder / name
    write_synthetic(folder / "two.h5", tiny_config(classes=("BPSK", "GFSK")), seed=2)
    paths["two.h5"] = folder / "two.h5"
    return paths


@pytest.fixture(scope="module")
def run(datasets, tmp_path_factory):
    """A finished 1-epoch VT-CNN2 run on the pickle."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["finetune", "--data", str(datasets["train.pkl"]), "--out", str(out), "--model", "vtcnn2",
                 "--epochs", "1", "--batch-size", "16", "--quiet"]) == 0
    return out


def error_of(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_finetune_writes_model_report_and_splits(run):
    record = json.loads((run / "job.json").read_text())
    assert record["classes"] == sorted(CLASSES) and record["num_examples"] == 60  # a pickle's order
    splits = np.load(run / "splits.npz")
    parts = [set(splits[name].tolist()) for name in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [48, 6, 6]  # 80/10/10 of every (class, SNR) cell of 10
    assert set.union(*parts) == set(range(60)) and not parts[0] & parts[2]
    assert (run / "best" / "config.json").is_file() and (run / "checkpoint.pt").is_file()
    metrics = json.loads((run / "report" / "metrics.json").read_text())
    assert metrics["num_examples"] == 6 and metrics["classes"] == sorted(CLASSES)
    assert metrics["calibration"]["temperature"] > 0
    for figure in ("accuracy_vs_snr.png", "confusion_all.png", "confusion_high_snr.png", "calibration.png"):
        assert (run / "report" / figure).stat().st_size > 1000


def test_evaluate_run_reuses_its_test_split(run, capsys):
    assert main(["evaluate", "--model", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "the run's test split (6 examples)" in out and "mean >= 10 dB" in out
    saved = json.loads((run / "report" / "metrics.json").read_text())
    again = json.loads((run / "evaluation" / "metrics.json").read_text())
    assert again["accuracy"] == saved["accuracy"] and again["num_examples"] == 6


def test_evaluate_other_data_holds_out_a_calibration_part(run, datasets, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(run / "best"), "--data", str(datasets["other.h5"]),
                 "--snr-min", "12", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_examples"] == 24  # 30 examples at 18 dB, 20 % fit the temperature
    assert [row["snr_db"] for row in metrics["accuracy_by_snr"]] == [18]
    assert "temperature fitted on the other 6" in capsys.readouterr().out


@pytest.mark.slow
def test_finetune_on_a_preset_generates_its_data(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["finetune", "--data", "rml2016", "--classes", "BPSK,QPSK", "--per-class-snr", "10",
                 "--snr-min", "0", "--out", str(out), "--model", "vtcnn2", "--epochs", "1", "--quiet"]) == 0
    with h5py.File(out / "data.h5") as handle:
        assert handle["X"].shape == (2 * 20 * 10, 128, 2)  # the preset's 20 SNRs, then SNR >= 0 kept
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["classes"] == ["BPSK", "QPSK"]
    assert min(row["snr_db"] for row in metrics["accuracy_by_snr"]) == 0
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_resume_continues_and_refuses_other_arguments(datasets, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["finetune", "--data", str(datasets["train.pkl"]), "--out", str(out), "--model", "vtcnn2",
            "--batch-size", "16", "--quiet"]
    assert main(base + ["--epochs", "1"]) == 0
    assert "--resume" in error_of(capsys, base + ["--epochs", "1"])
    assert main(base + ["--epochs", "2", "--resume"]) == 0
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()
              if json.loads(line)["split"] == "val"]
    assert epochs == [1, 2]
    err = error_of(capsys, base + ["--epochs", "3", "--resume", "--lr", "0.01"])
    assert "cannot resume" in err and "lr" in err


@pytest.mark.slow
def test_continue_from_a_saved_baseline_checks_classes(run, datasets, tmp_path, capsys):
    out = tmp_path / "more"
    assert main(["finetune", "--data", str(datasets["other.h5"]), "--backbone", str(run / "best"),
                 "--out", str(out), "--epochs", "1", "--quiet"]) == 0
    err = error_of(capsys, ["finetune", "--data", str(datasets["two.h5"]), "--backbone", str(run / "best"),
                            "--out", str(tmp_path / "bad"), "--epochs", "1", "--quiet"])
    assert "GFSK" in err and "QPSK" in err


@pytest.mark.slow
def test_sigmf_folder_is_split_by_recording(tmp_path, capsys):
    folder = tmp_path / "captures"
    folder.mkdir()
    for seed in range(10):
        write_synthetic(folder / f"cap{seed}.sigmf-meta", tiny_config(examples_per_cell=1), seed=seed)
    out = tmp_path / "run"
    assert main(["finetune", "--data", str(folder), "--out", str(out), "--model", "vtcnn2", "--epochs", "1",
                 "--quiet"]) == 0
    splits = np.load(out / "splits.npz")
    recordings = [set((splits[name] // 6).tolist()) for name in ("train", "validation", "test")]
    assert [len(r) for r in recordings] == [8, 1, 1] and not recordings[0] & recordings[2]
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["num_examples"] == 6 and metrics["classes"] == list(CLASSES)


def test_bad_input_each_gets_a_clear_message(run, datasets, tmp_path, capsys):
    assert "unknown class" not in (err := error_of(
        capsys, ["evaluate", "--model", str(run), "--data", str(datasets["two.h5"]), "--quiet"]))
    assert "GFSK" in err and "QPSK" in err and "lacks" in err

    nan_file = tmp_path / "nan.h5"
    write_synthetic(nan_file, tiny_config(), seed=3)
    with h5py.File(nan_file, "r+") as handle:
        handle["X"][5, 7, 0] = np.nan
    err = error_of(capsys, ["evaluate", "--model", str(run), "--data", str(nan_file), "--quiet"])
    assert "NaN" in err and "nan.h5" in err

    assert "no such model folder" in error_of(capsys, ["evaluate", "--model", str(tmp_path / "missing"), "--quiet"])
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((run / "best" / "config.json").read_text())
    (corrupt / "model.safetensors").write_bytes((run / "best" / "model.safetensors").read_bytes()[:500])
    assert "model.safetensors" in error_of(capsys, ["evaluate", "--model", str(corrupt), "--data",
                                                    str(datasets["train.pkl"]), "--quiet"])
    (corrupt / "config.json").write_text("{not json")
    assert "not valid JSON" in error_of(capsys, ["evaluate", "--model", str(corrupt), "--data",
                                                 str(datasets["train.pkl"]), "--quiet"])

    broken_run = tmp_path / "broken"
    broken_run.mkdir()
    (broken_run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    err = error_of(capsys, ["finetune", "--data", str(datasets["train.pkl"]), "--out", str(broken_run),
                            "--model", "vtcnn2", "--resume", "--quiet"])
    assert "checkpoint" in err

    err = error_of(capsys, ["finetune", "--data", "rml2017", "--out", str(tmp_path / "x"), "--quiet"])
    assert "rml2017" in err and "preset" in err

    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    err = error_of(capsys, ["finetune", "--data", str(datasets["train.pkl"]), "--backbone", str(not_a_model),
                            "--out", str(tmp_path / "y"), "--quiet"])
    assert "not a saved rfnet model" in err


def test_alexnet_options_refused_for_baselines(datasets, tmp_path, capsys):
    err = error_of(capsys, ["finetune", "--data", str(datasets["train.pkl"]), "--out", str(tmp_path / "r"),
                            "--model", "vtcnn2", "--freeze-up-to", "conv3", "--quiet"])
    assert "--freeze-up-to" in err and "vtcnn2" in err


def test_same_seed_same_split(datasets):
    from rfnet.jobs import DataSpec, open_data

    data = open_data(DataSpec(str(datasets["train.pkl"])))
    first, second = data.split(seed=4), data.split(seed=4)
    assert all(torch.equal(torch.as_tensor(a), torch.as_tensor(b)) for a, b in zip(first, second))
    assert not np.array_equal(first[0], data.split(seed=5)[0])


@pytest.mark.slow
def test_saved_alexnet_backbone_gets_a_new_head_and_frozen_layers_stay_put(datasets, tmp_path):
    from rfnet.models import create_model, load, save

    backbone = create_model("alexnet_tv", num_classes=10)
    save(backbone, tmp_path / "backbone")
    out = tmp_path / "run"
    assert main(["finetune", "--data", str(datasets["train.pkl"]), "--out", str(out), "--backbone",
                 str(tmp_path / "backbone"), "--freeze-up-to", "fc7", "--image-size", "63", "--epochs", "1",
                 "--batch-size", "16", "--quiet"]) == 0
    tuned = load(out / "best")
    assert sorted(tuned.classes) == sorted(CLASSES)
    before, after = backbone.state_dict(), tuned.backbone.state_dict()
    assert set(before) == set(after)
    for key, value in before.items():
        if key.startswith("classifier.6."):  # fc8: a fresh head for the data's classes, trained
            assert after[key].shape[0] == len(CLASSES)
        else:  # conv1 ... fc7 frozen: bit for bit the saved backbone
            torch.testing.assert_close(after[key], value, rtol=0, atol=0)


def test_job_json_records_the_recipe_values_it_trained_with(run):
    record = json.loads((run / "job.json").read_text())
    job, recipe = record["job"], record["recipe"]
    assert (job["lr"], job["weight_decay"]) == (1e-3, 0.0)  # VT-CNN2's notebook: Keras Adam defaults
    assert (job["epochs"], job["batch_size"]) == (1, 16)  # given on the command line
    assert recipe["batch_size"] == 1024 and recipe["epochs"] == 100 and recipe["early_stopping_patience"] == 5
    assert "RML2016.10a_VTCNN2_example.ipynb" in recipe["source"]


def test_each_model_gets_its_recipe_unless_the_job_sets_a_value():
    from types import SimpleNamespace

    from rfnet.jobs.finetune import FinetuneJob, resolve_recipe

    expected = {"spectrogram_classifier": (3e-4, 0.01, 64, 10, None, "cosine"),
                "vtcnn2": (1e-3, 0.0, 1024, 100, 5, "constant"),
                "radioml_resnet": (1e-3, 0.0, 1024, 100, 5, "constant")}
    for arch, (lr, weight_decay, batch_size, epochs, patience, schedule) in expected.items():
        job, recipe = resolve_recipe(FinetuneJob(data="d", out="o"), SimpleNamespace(arch=arch))
        assert (job.lr, job.weight_decay, job.batch_size, job.epochs) == (lr, weight_decay, batch_size, epochs)
        assert recipe.early_stopping_patience == patience and job.lr_schedule == schedule
    job, _ = resolve_recipe(FinetuneJob(data="d", out="o", lr=0.01, epochs=3, lr_schedule="cosine"),
                            SimpleNamespace(arch="vtcnn2"))
    assert (job.lr, job.weight_decay, job.batch_size, job.epochs, job.lr_schedule) == (0.01, 0.0, 1024, 3, "cosine")


def test_lr_schedule_cosine_decays_the_learning_rate_over_the_epochs(datasets, tmp_path):
    from rfnet.train import read_metrics

    out = tmp_path / "cosine"
    assert main(["finetune", "--data", str(datasets["train.pkl"]), "--out", str(out), "--arch", "vtcnn2",
                 "--epochs", "2", "--batch-size", "16", "--lr-schedule", "cosine", "--quiet"]) == 0
    rates = [record["lr"] for record in read_metrics(out / "metrics.jsonl") if record["split"] == "train"]
    assert rates == pytest.approx([0.5e-3, 0.0])  # after epoch 1 of 2: half of VT-CNN2's 1e-3; then 0
    assert json.loads((out / "job.json").read_text())["job"]["lr_schedule"] == "cosine"


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("model", ["vtcnn2", "radioml_resnet"])
def test_seed_fixes_the_starting_weights_of_the_baselines(datasets, model):
    from rfnet.jobs import DataSpec, FinetuneJob, open_data
    from rfnet.jobs.finetune import build_model

    data = open_data(DataSpec(str(datasets["train.pkl"])))

    def weights(seed: int) -> dict[str, torch.Tensor]:
        return build_model(FinetuneJob(data="d", out="o", model=model, seed=seed), data)[0].state_dict()

    first, again, other = weights(3), weights(3), weights(4)
    assert all(torch.equal(first[key], again[key]) for key in first)
    assert all(not torch.equal(first[key], other[key]) for key in first if key.endswith("weight"))


def test_finetune_help_lists_each_models_recipe(capsys):
    with pytest.raises(SystemExit):
        main(["finetune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("alexnet 0.0003", "vtcnn2 0.001", "alexnet 64", "radioml_resnet 1024", "vtcnn2 100",
                  "alexnet 0.01", "patience, epochs without a new best: vtcnn2 5 (validation loss)"):
        assert shown in text


def test_the_saved_model_records_the_input_it_was_trained_on(run):
    from rfnet.models import load, read_config

    assert read_config(run / "best")["config"]["num_samples"] == 128
    spec = load(run / "best").input_spec
    assert (spec.num_samples, spec.fixed_length, spec.classes) == (128, True, tuple(sorted(CLASSES)))


def test_image_sides_are_stated_once_and_agree_with_alexnet():
    from rfnet.dsp.spectrogram import DEFAULTS_BY_LENGTH, SpectrogramConfig
    from rfnet.jobs.demo import DemoConfig
    from rfnet.jobs.finetune import DEFAULT_IMAGE_SIZE
    from rfnet.models import SpectrogramClassifier
    from rfnet.models.alexnet import min_input_size, native_input_size

    assert DEFAULT_IMAGE_SIZE == min_input_size(conv1_padding=0) == DemoConfig().image_size
    assert SpectrogramConfig().image_size == (native_input_size(conv1_padding=0),) * 2
    assert all("image_size" not in fields for fields in DEFAULTS_BY_LENGTH.values())
    spec = SpectrogramClassifier(["a", "b"], {"image_size": (63, 63)}, backbone="alexnet_tv").input_spec
    assert (spec.min_image_size, spec.native_image_size, spec.num_samples) == (63, 224, 128)
    assert [native_input_size(padding) for padding in (0, 1, 2, 3)] == [227, 225, 224, 224]
    assert all((native_input_size(p) + 2 * p - 11) // 4 + 1 == 55 for p in range(4))  # the paper's conv1 maps
    with pytest.raises(ValueError, match="smaller than backbone alexnet's minimum input of 67x67"):
        SpectrogramClassifier(["a", "b"], {"image_size": (66, 66)}, backbone="alexnet")


def test_evaluate_does_not_import_finetune():
    import subprocess
    import sys

    code = "import sys, rfnet.jobs.evaluate; print(sorted(m for m in sys.modules if m.startswith('rfnet.jobs.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "rfnet.jobs.run_folder" in loaded and "rfnet.jobs.finetune" not in loaded


@pytest.mark.parametrize("change, message", [({"colour": "red"}, "unknown setting(s) ['colour']"),
                                             ({"num_samples": 10_000_000}, "num_samples=10000000 is more than")])
def test_a_config_json_the_model_cannot_take_is_one_sentence_in_every_job(run, datasets, tmp_path, capsys,
                                                                            change, message):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(run / "best", bad)
    meta = json.loads((bad / "config.json").read_text())
    meta["config"].update(change)
    (bad / "config.json").write_text(json.dumps(meta))
    data = str(datasets["train.pkl"])
    for argv in (["evaluate", "--model", str(bad), "--data", data],
                 ["robustness", "--model", str(bad), "--data", data, "--out", str(tmp_path / "rob")],
                 ["finetune", "--data", data, "--backbone", str(bad), "--out", str(tmp_path / "ft")],
                 ["bench", "--model", str(bad), "--out", str(tmp_path / "store.sqlite")],
                 ["export", "--model", str(bad), "--format", "torchscript", "--out", str(tmp_path / "m.pt")]):
        err = error_of(capsys, [*argv, "--quiet"] if argv[0] != "export" else argv)
        assert f"{bad / 'config.json'}: cannot rebuild the saved model" in err and message in err, argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]  # nothing written


def test_the_saved_model_records_the_data_sample_rate_where_the_data_states_one(run, tmp_path):
    from rfnet.data.synthetic import PRESETS
    from rfnet.models import load

    assert load(run / "best").input_spec.sample_rate_hz is None  # a RadioML pickle states none
    out = tmp_path / "preset"
    assert main(["finetune", "--data", "rml2016", "--out", str(out), "--arch", "vtcnn2", "--classes", "BPSK,QPSK",
                 "--per-class-snr", "10", "--epochs", "1", "--batch-size", "64", "--quiet"]) == 0
    rate = PRESETS["rml2016"]().channel.sample_rate_hz
    assert load(out / "best").input_spec.sample_rate_hz == rate > 0


def test_an_hdf5_file_rfnet_generated_states_its_sample_rate(datasets):
    from rfnet.jobs import DataSpec, open_data

    assert open_data(DataSpec(str(datasets["other.h5"]))).sample_rate_hz == tiny_config().channel.sample_rate_hz
    assert open_data(DataSpec(str(datasets["train.pkl"]))).sample_rate_hz is None
