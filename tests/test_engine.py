"""rfnet.train: the training engine — outputs, exact resume, accumulation, schedules, precision, DDP."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

import rfnet.models
from rfnet.train import (
    DistributedContext,
    PlateauLR,
    StepLR,
    TrainConfig,
    Trainer,
    WarmupCosineLR,
    init_from_env,
    load_checkpoint,
    read_metrics,
)

pytestmark = pytest.mark.usefixtures("one_thread")

NUM_CLASSES = 3
IQ_SAMPLES = 16


@rfnet.models.register_model("test_engine_iq_mlp")
class IQMLP(nn.Module):
    """Complex64 IQ [B, N] → logits [B, classes], with dropout so resuming must restore the RNG."""

    arch = "test_engine_iq_mlp"

    def __init__(self, num_samples=IQ_SAMPLES, num_classes=NUM_CLASSES, hidden=32, dropout=0.3):
        super().__init__()
        self.config = {"num_samples": num_samples, "num_classes": num_classes, "hidden": hidden, "dropout": dropout}
        self.body = nn.Sequential(
            nn.Linear(2 * num_samples, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes)
        )

    def forward(self, iq: torch.Tensor) -> torch.Tensor:
        return self.body(torch.view_as_real(iq).flatten(1))


class TinyCNN(nn.Module):
    """Float images [B, 3, 8, 8] → logits; not saveable (no arch / config)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, NUM_CLASSES)

    def forward(self, x):
        return self.head(self.conv(x).relu().mean(dim=(2, 3)))


class IQDataset(Dataset):
    """(iq complex64 [N], label, snr_db): the class sets the tone frequency, so it is learnable."""

    def __init__(self, size: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, NUM_CLASSES, (size,), generator=g)
        t = torch.arange(IQ_SAMPLES)
        phase = torch.rand(size, 1, generator=g) * 6.28
        tone = torch.exp(1j * (2 * torch.pi * (self.labels[:, None] + 1) / 8 * t + phase))
        noise = torch.complex(torch.randn(size, IQ_SAMPLES, generator=g), torch.randn(size, IQ_SAMPLES, generator=g))
        self.iq = (tone + 0.3 * noise).to(torch.complex64)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.iq[index], self.labels[index], 10.0


def images(size: int, seed: int) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(size, 3, 8, 8, generator=g), torch.randint(0, NUM_CLASSES, (size,), generator=g))


def config(**overrides) -> TrainConfig:
    base = dict(epochs=3, batch_size=8, lr=3e-3, device="cpu", log_every=2, progress_bar=False)
    return TrainConfig(**{**base, **overrides})


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def fresh_model(dropout: float = 0.3) -> IQMLP:
    torch.manual_seed(1)
    return IQMLP(dropout=dropout)


TRAIN, VAL = IQDataset(48, seed=1), IQDataset(24, seed=2)


def test_fit_learns_and_writes_checkpoint_best_model_and_metrics(tmp_path):
    model = fresh_model()
    result = Trainer(model, TRAIN, VAL, config(epochs=6, lr=1e-2), tmp_path / "run").fit()

    assert result.epochs_run == 6 and not result.stopped_early
    assert result.best_accuracy > 0.8  # the tone frequency gives the class away
    records = read_metrics(result.paths["metrics"])
    val = [r for r in records if r["split"] == "val"]
    assert [r["epoch"] for r in val] == list(range(1, 7))
    assert max(r["accuracy"] for r in val) == result.best_accuracy
    assert val[result.best_epoch - 1]["accuracy"] == result.best_accuracy
    steps = [r for r in records if r["split"] == "train_step"]
    assert [r["step"] for r in steps] == list(range(2, 6 * 6 + 1, 2))  # 48 / 8 = 6 steps an epoch, log every 2
    for record in records:
        assert {"epoch", "step", "split", "loss", "accuracy", "lr", "examples_per_s", "time"} <= set(record)
    assert [r["examples"] for r in records if r["split"] == "train"] == [48.0] * 6

    best = rfnet.models.load(result.paths["best"])
    assert best.config == model.config
    trainer = Trainer(best, TRAIN, VAL, config(), tmp_path / "check")
    assert trainer.evaluate()["accuracy"] == pytest.approx(result.best_accuracy)

    state = load_checkpoint(result.paths["checkpoint"])
    assert state["epoch"] == 6 and state["global_step"] == 36 and state["best_epoch"] == result.best_epoch
    assert all(torch.equal(state["model"][k], v) for k, v in model.state_dict().items())
    assert TrainConfig.from_dict(state["config"]) == config(epochs=6, lr=1e-2)
    assert json.loads((tmp_path / "run" / "train_config.json").read_text())["lr"] == 1e-2


class InterruptedDataset(Dataset):
    """``dataset``, but reading item number ``stop_after`` raises KeyboardInterrupt (a run killed by Ctrl-C)."""

    def __init__(self, dataset: Dataset, stop_after: int):
        self.dataset, self.stop_after, self.reads = dataset, stop_after, 0

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        self.reads += 1
        if self.reads > self.stop_after:
            raise KeyboardInterrupt
        return self.dataset[index]


def logged(run: Path) -> list[dict]:
    """The metrics log without the fields that depend on wall-clock time."""
    records = read_metrics(run / "metrics.jsonl")
    return [{k: v for k, v in r.items() if k not in ("time", "examples_per_s")} for r in records]


def test_interrupted_and_resumed_run_ends_with_bit_identical_weights(tmp_path):
    """3 epochs straight == killed in epoch 2, then resumed (dropout, AdamW, cosine warm-up)."""
    settings = config(epochs=3, lr_schedule="cosine", warmup_epochs=0.5, weight_decay=0.01)
    straight = fresh_model()
    Trainer(straight, TRAIN, VAL, settings, tmp_path / "straight").fit()

    killed = InterruptedDataset(TRAIN, stop_after=len(TRAIN) + 30)  # dies in epoch 2, after logging a step
    with pytest.raises(KeyboardInterrupt):
        Trainer(fresh_model(), killed, VAL, settings, tmp_path / "resumed").fit()
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["epoch"] == 1
    assert max(r["epoch"] for r in logged(tmp_path / "resumed")) == 2
    torch.manual_seed(12345)  # whatever happens between the runs must not matter
    resumed = IQMLP()  # fresh weights: everything comes from the checkpoint
    result = Trainer(resumed, TRAIN, VAL, settings, tmp_path / "resumed", resume=True).fit()

    assert result.epochs_run == 3
    for key, value in weights(straight).items():
        assert torch.equal(resumed.state_dict()[key], value), key
    assert logged(tmp_path / "resumed") == logged(tmp_path / "straight")  # epoch 2's partial log was dropped


def test_run_killed_mid_epoch_resumes_from_its_last_step_checkpoint_bit_identically(tmp_path):
    settings = config(epochs=2, batch_size=4, grad_accum_steps=2, optimizer="sgd", lr=0.05, checkpoint_every_steps=2)
    straight = fresh_model()
    Trainer(straight, TRAIN, VAL, settings, tmp_path / "straight").fit()

    killed = InterruptedDataset(TRAIN, stop_after=len(TRAIN) + 30)  # epoch 2, micro-batch 8: step 4 of 6 done
    with pytest.raises(KeyboardInterrupt):
        Trainer(fresh_model(), killed, VAL, settings, tmp_path / "resumed").fit()
    state = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert (state["epoch"], state["batches_done"], state["global_step"]) == (1, 4, 8)
    resumed = IQMLP()
    Trainer(resumed, TRAIN, VAL, settings, tmp_path / "resumed", resume=True).fit()

    for key, value in weights(straight).items():
        assert torch.equal(resumed.state_dict()[key], value), key
    assert logged(tmp_path / "resumed") == logged(tmp_path / "straight")


def test_epochs_can_grow_on_resume_except_under_cosine(tmp_path):
    first = fresh_model()
    Trainer(first, TRAIN, VAL, config(epochs=1), tmp_path / "constant").fit()
    assert Trainer(first, TRAIN, VAL, config(epochs=2), tmp_path / "constant", resume=True).fit().epochs_run == 2
    Trainer(fresh_model(), TRAIN, VAL, config(epochs=1, lr_schedule="cosine"), tmp_path / "cosine").fit()
    with pytest.raises(ValueError, match="cosine_epochs: 1 -> 2"):
        Trainer(fresh_model(), TRAIN, VAL, config(epochs=2, lr_schedule="cosine"), tmp_path / "cosine", resume=True)


def test_resume_with_different_arguments_names_every_difference(tmp_path):
    Trainer(fresh_model(), TRAIN, VAL, config(epochs=1), tmp_path).fit()
    with pytest.raises(ValueError, match=r"checkpoint\.pt.*batch_size: 8 -> 16.*lr: 0\.003 -> 0\.01"):
        Trainer(fresh_model(), TRAIN, VAL, config(batch_size=16, lr=1e-2), tmp_path, resume=True)
    with pytest.raises(ValueError, match=r"model: .*'hidden': 32.*'hidden': 64"):
        Trainer(IQMLP(hidden=64), TRAIN, VAL, config(), tmp_path, resume=True)
    with pytest.raises(ValueError, match=r"train_examples: 48 -> 40"):
        Trainer(fresh_model(), IQDataset(40, seed=1), VAL, config(), tmp_path, resume=True)
    # more epochs, another device string or more logging are fine
    Trainer(fresh_model(), TRAIN, VAL, config(epochs=2, log_every=5, device="cpu:0"), tmp_path, resume=True)


def test_a_checkpoint_from_before_a_model_setting_existed_resumes_at_its_default(tmp_path):
    Trainer(fresh_model(), TRAIN, VAL, config(epochs=1), tmp_path).fit()
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    del state["fingerprint"]["model"]["config"]["dropout"]  # as written before IQMLP took a dropout
    torch.save(state, tmp_path / "checkpoint.pt")
    assert Trainer(fresh_model(), TRAIN, VAL, config(epochs=2), tmp_path, resume=True).fit().epochs_run == 2
    with pytest.raises(ValueError, match=r"model: .*'dropout': 0\.3.*'dropout': 0\.5"):
        Trainer(fresh_model(dropout=0.5), TRAIN, VAL, config(epochs=3), tmp_path, resume=True)
    state["fingerprint"]["model"]["config"]["width"] = 2  # a setting today's model does not take
    torch.save(state, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"model: .*'width': 2"):
        Trainer(fresh_model(), TRAIN, VAL, config(epochs=2), tmp_path, resume=True)


def test_missing_corrupt_and_existing_checkpoints_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"checkpoint\.pt: no checkpoint"):
        Trainer(fresh_model(), TRAIN, VAL, config(), tmp_path / "none", resume=True)
    run = tmp_path / "run"
    Trainer(fresh_model(), TRAIN, VAL, config(epochs=1), run).fit()
    with pytest.raises(ValueError, match="already exists: pass resume=True"):
        Trainer(fresh_model(), TRAIN, VAL, config(), run)
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"checkpoint\.pt: not a readable checkpoint"):
        Trainer(fresh_model(), TRAIN, VAL, config(), run, resume=True)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match=r"other\.pt: not an rfnet training checkpoint"):
        Trainer(fresh_model(), TRAIN, VAL, config(), run, resume=other)
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_gradient_accumulation_equals_one_larger_batch(tmp_path):
    one = fresh_model(dropout=0.0)
    Trainer(one, TRAIN, VAL, config(epochs=1, batch_size=16, optimizer="sgd", lr=0.1), tmp_path / "a").fit()
    accumulated = fresh_model(dropout=0.0)
    settings = config(epochs=1, batch_size=4, grad_accum_steps=4, optimizer="sgd", lr=0.1)
    Trainer(accumulated, TRAIN, VAL, settings, tmp_path / "b").fit()
    untouched = fresh_model(dropout=0.0)
    for key, value in one.state_dict().items():
        assert not torch.equal(value, untouched.state_dict()[key])
        torch.testing.assert_close(accumulated.state_dict()[key], value, rtol=1e-5, atol=1e-6)


def test_gradient_clipping_bounds_the_update(tmp_path):
    model = fresh_model(dropout=0.0)
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    one_batch = IQDataset(8, seed=3)
    settings = config(epochs=1, optimizer="sgd", momentum=0.0, lr=1.0, max_grad_norm=1e-3)
    Trainer(model, one_batch, VAL, settings, tmp_path).fit()
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert 0 < (after - before).norm() <= 1e-3 * (1 + 1e-4)


def test_early_stopping_stops_after_patience(tmp_path):
    # lr so small that accuracy cannot change: epoch 1 is the best, epochs 2 and 3 do not improve
    settings = config(epochs=10, lr=1e-12, early_stopping_patience=2)
    result = Trainer(fresh_model(), TRAIN, VAL, settings, tmp_path).fit()
    assert result.stopped_early and result.epochs_run == 3 and result.best_epoch == 1
    assert len([r for r in read_metrics(result.paths["metrics"]) if r["split"] == "val"]) == 3
    again = Trainer(fresh_model(), TRAIN, VAL, settings, tmp_path, resume=True)
    assert again.fit().epochs_run == 3  # a stopped run stays stopped


@pytest.mark.parametrize("monitor", ["accuracy", "loss"])
def test_monitor_picks_the_best_epoch_and_counts_patience(tmp_path, monitor):
    # A high learning rate makes validation loss and accuracy wander, so their best epochs can differ.
    settings = config(epochs=8, lr=0.5, optimizer="sgd", momentum=0.9, monitor=monitor, early_stopping_patience=3)
    result = Trainer(fresh_model(), TRAIN, VAL, settings, tmp_path).fit()
    val = [r for r in read_metrics(result.paths["metrics"]) if r["split"] == "val"]
    scores = [r["accuracy"] if monitor == "accuracy" else -r["loss"] for r in val]
    best = scores.index(max(scores)) + 1  # the first epoch with the best score
    assert result.best_epoch == best
    assert result.best_accuracy == val[best - 1]["accuracy"]
    assert result.epochs_run == min(8, best + 3) and result.stopped_early == (best + 3 < 8)


def test_monitor_must_be_accuracy_or_loss():
    with pytest.raises(ValueError, match="monitor"):
        TrainConfig(monitor="f1")


def optimizer_with(lrs: list[float]) -> torch.optim.SGD:
    return torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=lrs[0])


def test_plateau_divides_by_ten_at_most_three_times_and_keeps_group_ratios():
    optimizer = optimizer_with([0.01, 0.001])
    schedule = PlateauLR(optimizer, patience=1, decay=0.1, max_decays=3)
    lrs = []
    for accuracy in [0.1, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]:
        schedule.after_epoch(accuracy)
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-5, 1e-5, 1e-5, 1e-5])
    assert optimizer.param_groups[1]["lr"] == pytest.approx(1e-6)
    restored = PlateauLR(optimizer_with([0.01, 0.001]), patience=1, decay=0.1, max_decays=3)
    restored.load_state_dict(schedule.state_dict())
    assert restored.optimizer.param_groups[0]["lr"] == pytest.approx(1e-5)


def test_cosine_warms_up_then_decays_to_the_floor_and_step_decays_every_n_epochs():
    optimizer = optimizer_with([1.0])
    schedule = WarmupCosineLR(optimizer, total_steps=10, warmup_steps=2, min_ratio=0.1)
    lrs = [optimizer.param_groups[0]["lr"]]
    for _ in range(12):
        schedule.after_step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs[:3] == pytest.approx([0.5, 1.0, 1.0])
    assert all(a >= b for a, b in zip(lrs[2:], lrs[3:]))
    assert lrs[10] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.1)

    optimizer = optimizer_with([1.0])
    step = StepLR(optimizer, step_epochs=2, decay=0.5)
    seen = []
    for _ in range(5):
        step.after_epoch(0.0)
        seen.append(optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.25])


def test_bf16_autocast_on_cpu_and_auto_means_off_on_cpu(tmp_path):
    dtypes = {}
    for amp in ("bf16", "auto"):
        model = fresh_model()
        seen = []
        model.body[0].register_forward_hook(lambda module, args, out: seen.append(out.dtype))
        result = Trainer(model, TRAIN, VAL, config(epochs=1, amp=amp), tmp_path / amp).fit()
        assert result.best_accuracy >= 0
        dtypes[amp] = set(seen)
    assert dtypes == {"bf16": {torch.bfloat16}, "auto": {torch.float32}}


def test_channels_last_cnn_on_images_without_a_saveable_model(tmp_path):
    model = TinyCNN()
    result = Trainer(model, images(32, 1), images(16, 2), config(epochs=2, channels_last=True), tmp_path).fit()
    assert model.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert result.paths["best"].name == "best.pt"
    best = torch.load(result.paths["best"], weights_only=True)
    assert set(best) == set(model.state_dict())


def spectrogram_alexnet() -> rfnet.models.SpectrogramClassifier:
    """The model ``rfnet finetune`` trains (front end + paper AlexNet at its smallest, 67x67) on IQDataset's IQ."""
    torch.manual_seed(0)
    return rfnet.models.SpectrogramClassifier(
        ["a", "b", "c"], {"n_fft": 16, "hop_length": 2, "image_size": [67, 67]}, backbone="alexnet",
        backbone_config={"init": "he", "drop_rate": 0.0},
    )


@pytest.mark.parametrize("option", ["channels_last", pytest.param("compile", marks=pytest.mark.slow)])
def test_channels_last_and_compile_train_the_spectrogram_classifier_on_complex_iq(tmp_path, option):
    train, val = IQDataset(16, seed=1), IQDataset(8, seed=2)
    plain, optioned = spectrogram_alexnet(), spectrogram_alexnet()
    settings = dict(epochs=1, optimizer="sgd", lr=1e-3)
    Trainer(plain, train, val, config(**settings), tmp_path / "plain").fit()
    result = Trainer(optioned, train, val, config(**settings, **{option: True}), tmp_path / option).fit()
    assert result.paths["best"].name == "best"  # still the saveable classifier
    initial = spectrogram_alexnet().state_dict()
    for key, value in plain.state_dict().items():
        assert not torch.equal(value, initial[key]), f"{key} did not train"
        torch.testing.assert_close(optioned.state_dict()[key], value, rtol=1e-4, atol=1e-6, msg=key)
    if option == "channels_last":
        assert optioned.backbone.features.conv1.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.slow
def test_compiled_model_trains_like_the_eager_one(tmp_path):
    data, val = images(32, 1), images(8, 2)
    eager, compiled = TinyCNN(), TinyCNN()
    compiled.load_state_dict(eager.state_dict())
    Trainer(eager, data, val, config(epochs=1), tmp_path / "eager").fit()
    Trainer(compiled, data, val, config(epochs=1, compile=True), tmp_path / "compiled").fit()
    for key, value in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[key], value, rtol=1e-4, atol=1e-5)
    assert not any("_orig_mod" in key for key in load_checkpoint(tmp_path / "compiled" / "checkpoint.pt")["model"])


def test_non_finite_loss_is_reported_not_trained_on(tmp_path):
    bad = IQDataset(16, seed=4)
    bad.iq[3, 0] = complex(float("nan"), 0.0)
    with pytest.raises(ValueError, match="training loss became nan in epoch 1"):
        Trainer(fresh_model(), bad, VAL, config(epochs=1), tmp_path).fit()
    assert not (tmp_path / "checkpoint.pt").exists()


def test_bad_arguments_are_rejected_with_the_field_named(tmp_path):
    with pytest.raises(ValueError, match="TrainConfig.optimizer must be one of"):
        TrainConfig(optimizer="adam")
    with pytest.raises(ValueError, match="TrainConfig.grad_accum_steps must be a positive integer"):
        TrainConfig(grad_accum_steps=0)
    with pytest.raises(ValueError, match="val_data is empty"):
        Trainer(fresh_model(), TRAIN, IQDataset(0, seed=1), config(), tmp_path)
    with pytest.raises(ValueError, match="TrainConfig has no fields"):
        TrainConfig.from_dict({"epochs": 1, "learning_rate": 0.1})


def test_init_from_env_without_torchrun_is_a_single_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert init_from_env("cpu") == DistributedContext(device=torch.device("cpu"))


DDP_SCRIPT = """
import sys, torch
sys.path.insert(0, {tests!r})
from test_engine import TRAIN, VAL, config, fresh_model
from rfnet.train import Trainer, init_from_env

ctx = init_from_env("cpu")
model = fresh_model(dropout=0.0)
Trainer(model, TRAIN, VAL, config(epochs=2, batch_size=4, optimizer="sgd", lr=0.1), {out!r}, distributed=ctx).fit()
torch.save(model.state_dict(), {out!r} + f"/rank{{ctx.rank}}.pt")
ctx.close()
"""


@pytest.mark.slow
def test_ddp_two_gloo_ranks_agree_and_match_one_process_on_the_full_batch(tmp_path):
    out = tmp_path / "ddp"
    script = tmp_path / "ddp_run.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT.format(tests=str(Path(__file__).parent), out=str(out))))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", str(script)]
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]

    rank0, rank1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(rank0[key], rank1[key]) for key in rank0)
    records = read_metrics(out / "metrics.jsonl")
    assert [r["epoch"] for r in records if r["split"] == "val"] == [1, 2]  # written once, by rank 0
    assert [r["examples"] for r in records if r["split"] == "train"] == [48.0, 48.0]

    single = fresh_model(dropout=0.0)
    Trainer(single, TRAIN, VAL, config(epochs=2, batch_size=8, optimizer="sgd", lr=0.1), tmp_path / "single").fit()
    for key, value in single.state_dict().items():
        torch.testing.assert_close(rank0[key], value, rtol=1e-5, atol=1e-6)


def test_adversary_replaces_every_training_batch_but_not_validation(tmp_path):
    seen = []

    def silence(model, inputs, targets):
        seen.append((model.training, len(inputs)))
        return torch.zeros_like(inputs)

    attacked = fresh_model(dropout=0.0)
    trainer = Trainer(attacked, TRAIN, VAL, config(epochs=2, lr=1e-2), tmp_path / "a", adversary=silence)
    trainer.fit()
    assert seen == [(True, 8)] * (2 * len(TRAIN) // 8)

    # the same run on a dataset whose inputs are already zeros ends with the same weights
    zeros = TensorDataset(torch.zeros_like(TRAIN.iq), TRAIN.labels)
    plain = fresh_model(dropout=0.0)
    Trainer(plain, zeros, VAL, config(epochs=2, lr=1e-2), tmp_path / "b").fit()
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(attacked.state_dict()[key], value)
    # validation saw the real inputs: its loss differs from the loss on zeros
    zero_val = TensorDataset(torch.zeros_like(VAL.iq), VAL.labels)
    assert trainer.evaluate()["loss"] != pytest.approx(trainer.evaluate(zero_val)["loss"])


def literal_paper_sgd(params, grads_per_step, lrs, momentum=0.9, weight_decay=5e-4):
    """Krizhevsky et al.'s rule as printed: v <- m v - wd lr w - lr g; w <- w + v (no torch optimiser)."""
    weights = [p.detach().clone() for p in params]
    velocity = [torch.zeros_like(w) for w in weights]
    for grads, lr in zip(grads_per_step, lrs):
        for w, v, g in zip(weights, velocity, grads):
            v.mul_(momentum).sub_(weight_decay * lr * w).sub_(lr * g)
            w.add_(v)
    return weights


@pytest.mark.parametrize("update", ["paper", "torch"])
def test_paper_update_rule_survives_lr_drops_where_torch_sgd_does_not(update):
    g = torch.Generator().manual_seed(0)
    start = [torch.randn(4, 3, generator=g), torch.randn(3, generator=g)]
    grads = [[torch.randn_like(w) for w in start] for _ in range(6)]  # fixed gradients, one set per step
    lrs = [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]  # two drops by 10, as the plateau schedule makes them
    params = [nn.Parameter(w.clone()) for w in start]
    settings = TrainConfig(optimizer="sgd", sgd_update=update, lr=0.1, momentum=0.9, weight_decay=5e-4)
    optimizer = rfnet.train.build_optimizer(params, settings)
    schedule = PlateauLR(optimizer, patience=1, decay=0.1, max_decays=3)
    schedule.after_epoch(0.5)  # the best validation accuracy so far
    for step, grad in enumerate(grads):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(lrs[step])
        for p, gradient in zip(params, grad):
            p.grad = gradient.clone()
        optimizer.step()
        if step % 2 == 1:
            schedule.after_epoch(0.5)  # no improvement: the lr drops

    literal = literal_paper_sgd(start, grads, lrs)
    same = all(torch.allclose(p.detach(), w, rtol=1e-6, atol=1e-7) for p, w in zip(params, literal))
    assert same == (update == "paper")
    if update == "torch":  # torch's rule: identical before the first drop, so the drops make the difference
        first_two = literal_paper_sgd(start, grads[:2], lrs[:2])
        params_again = [nn.Parameter(w.clone()) for w in start]
        torch_sgd = torch.optim.SGD(params_again, lr=0.1, momentum=0.9, weight_decay=5e-4)
        for grad in grads[:2]:
            for p, gradient in zip(params_again, grad):
                p.grad = gradient.clone()
            torch_sgd.step()
        for p, w in zip(params_again, first_two):
            torch.testing.assert_close(p.detach(), w, rtol=1e-6, atol=1e-7)


def test_paper_update_rule_resumes_exactly_across_a_drop(tmp_path):
    """The lr the momentum buffers are in is optimiser state: a run resumed after a drop matches a straight one."""
    settings = config(epochs=3, optimizer="sgd", sgd_update="paper", lr=0.05, weight_decay=5e-4,
                      lr_schedule="step", lr_step_epochs=1, lr_decay_factor=0.1)
    straight = fresh_model()
    Trainer(straight, TRAIN, VAL, settings, tmp_path / "straight").fit()
    Trainer(fresh_model(), TRAIN, VAL, dataclasses.replace(settings, epochs=2), tmp_path / "resumed").fit()
    resumed = IQMLP()
    Trainer(resumed, TRAIN, VAL, settings, tmp_path / "resumed", resume=True).fit()
    lrs = [r["lr"] for r in read_metrics(tmp_path / "straight" / "metrics.jsonl") if r["split"] == "val"]
    assert lrs == pytest.approx([0.05, 0.005, 0.0005])
    for key, value in weights(straight).items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_biases_at_twice_the_lr_without_weight_decay_as_the_reference_code_trained():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2))
    settings = TrainConfig(optimizer="sgd", lr=0.01, weight_decay=5e-4, bias_lr_factor=2.0, bias_weight_decay=False)
    groups = rfnet.train.split_bias_groups([{"params": list(model.parameters())}], model, settings)
    optimizer = rfnet.train.build_optimizer(groups, settings)
    described = [(len(g["params"]), g["lr"], g["weight_decay"]) for g in optimizer.param_groups]
    assert described == [(2, 0.01, 5e-4), (2, 0.02, 0.0)]
    assert {id(p) for p in optimizer.param_groups[1]["params"]} == {id(model[0].bias), id(model[2].bias)}
    # a backbone / head split keeps its own lrs: each group's biases get twice that group's
    head = [{"params": list(model[0].parameters()), "lr": 1e-3}, {"params": list(model[2].parameters())}]
    lrs = [g.get("lr", settings.lr) for g in rfnet.train.split_bias_groups(head, model, settings)]
    assert lrs == [1e-3, 2e-3, 0.01, 0.02]


def test_trainer_applies_the_bias_options_to_its_default_groups(tmp_path):
    settings = config(epochs=1, optimizer="sgd", lr=0.01, weight_decay=5e-4, bias_lr_factor=2.0,
                      bias_weight_decay=False, lr_schedule="plateau")
    trainer = Trainer(fresh_model(), TRAIN, VAL, settings, tmp_path)
    assert [(g["lr"], g["weight_decay"]) for g in trainer.optimizer.param_groups] == [(0.01, 5e-4), (0.02, 0.0)]
    trainer.scheduler.factor = 0.1
    trainer.scheduler.apply()  # a plateau drop keeps the 2x ratio
    assert [g["lr"] for g in trainer.optimizer.param_groups] == pytest.approx([1e-3, 2e-3])


class FixedLogits(nn.Module):
    """Ignores its input's values: returns row ``i`` of ``table`` for input ``[i, ...]`` (index in element 0)."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = nn.Parameter(table)

    def forward(self, x):
        return self.table[x.flatten(1)[:, 0].long()]


def test_top5_accuracy_counts_the_true_class_among_the_five_best_scores(tmp_path):
    table = torch.tensor([[9.0, 8, 7, 6, 5, 4, 0], [0, 1, 2, 3, 4, 5, 9], [9, 8, 7, 6, 5, 4, 3]])
    inputs = torch.arange(3.0)[:, None]
    labels = torch.tensor([4, 0, 5])  # 5th best (top-5, not top-1); worst but one; 6th best (neither)
    trainer = Trainer(FixedLogits(table), TensorDataset(inputs, labels), TensorDataset(inputs, labels),
                      config(), tmp_path)
    metrics = trainer.evaluate()
    assert (metrics["accuracy"], metrics["top5_accuracy"]) == (0.0, pytest.approx(1 / 3))
    right = TensorDataset(inputs, torch.tensor([0, 6, 0]))
    assert (trainer.evaluate(right)["accuracy"], trainer.evaluate(right)["top5_accuracy"]) == (1.0, 1.0)


def test_multicrop_validation_scores_the_softmax_averaged_over_crops(tmp_path):
    model = TinyCNN()
    g = torch.Generator().manual_seed(0)
    crops, labels = torch.randn(6, 10, 3, 8, 8, generator=g), torch.randint(0, NUM_CLASSES, (6,), generator=g)
    trainer = Trainer(model, images(8, 1), TensorDataset(crops, labels), config(batch_size=4), tmp_path)
    metrics = trainer.evaluate()
    with torch.no_grad():
        probs = model(crops.flatten(0, 1)).softmax(-1).view(6, 10, NUM_CLASSES).mean(1)
    assert metrics["accuracy"] == pytest.approx((probs.argmax(1) == labels).double().mean().item())
    assert metrics["loss"] == pytest.approx(-probs[torch.arange(6), labels].log().mean().item(), rel=1e-5)
    single_crop = trainer.evaluate(TensorDataset(crops[:, 0], labels))["loss"]
    assert single_crop != pytest.approx(metrics["loss"])


def test_restore_best_puts_back_the_best_epochs_weights(tmp_path):
    model = fresh_model()
    trainer = Trainer(model, TRAIN, VAL, config(epochs=3, lr=1e-2), tmp_path)
    result = trainer.fit()
    best = weights(rfnet.models.load(result.paths["best"]))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    trainer.restore_best()
    for key, value in best.items():
        assert torch.equal(model.state_dict()[key], value), key
    with pytest.raises(FileNotFoundError, match="no best model yet"):
        Trainer(fresh_model(), TRAIN, VAL, config(), tmp_path / "fresh").restore_best()


class EpochSeeded(IQDataset):
    """Records the epochs it is told, as ImageNetFolder seeds its augmentation with them."""

    def __init__(self, size: int, seed: int):
        super().__init__(size, seed)
        self.epochs = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs.append(epoch)


def test_datasets_with_set_epoch_hear_each_epoch_before_it_starts(tmp_path):
    data = EpochSeeded(16, seed=1)
    Trainer(fresh_model(), data, VAL, config(epochs=2), tmp_path).fit()
    Trainer(fresh_model(), data, VAL, config(epochs=3), tmp_path, resume=True).fit()
    assert data.epochs == [0, 1, 2]
