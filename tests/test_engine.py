"""rfnet.train: the training engine — outputs, exact resume, accumulation, schedules, precision, DDP."""

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

NUM_CLASSES = 3
IQ_SAMPLES = 16


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one intra-op thread is fastest, and much faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
