"""`TrainConfig`: every number a training run depends on, as one frozen dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

OPTIMIZERS = ("sgd", "adamw")
SGD_UPDATES = ("torch", "paper")
LR_SCHEDULES = ("constant", "cosine", "step", "plateau")
AMP_MODES = ("auto", "bf16", "off")
MONITORS = ("accuracy", "loss")

# Fields that may change between an interrupted run and its resumption: they do not change the
# arithmetic of a step (``epochs`` only extends or shortens the run).
RESUMABLE_CHANGES = frozenset(
    {"epochs", "device", "num_workers", "log_every", "compile", "progress_bar", "checkpoint_every_steps"}
)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimiser, schedule, precision, batching, stopping and logging.

    ``batch_size`` is the micro-batch one process sees per forward pass; one optimiser step consumes
    ``batch_size * grad_accum_steps * world_size`` examples. Epochs are numbered from 1.
    """

    epochs: int = 10
    batch_size: int = 64  # examples per micro-batch per process
    optimizer: str = "adamw"  # one of OPTIMIZERS
    lr: float = 1e-3  # base learning rate (a param group's own "lr" overrides it)
    weight_decay: float = 0.0  # L2 (sgd) / decoupled (adamw) weight decay
    momentum: float = 0.9  # sgd momentum
    nesterov: bool = False  # sgd Nesterov momentum
    sgd_update: str = "torch"  # sgd: "torch" (b <- m b + g; w <- w - lr b) or "paper" (v <- m v - lr g; w <- w + v)
    bias_lr_factor: float = 1.0  # biases train at this x their group's lr (cuda-convnet / Caffe AlexNet: 2)
    bias_weight_decay: bool = True  # False: no weight decay on biases (cuda-convnet / Caffe AlexNet)
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    lr_schedule: str = "constant"  # one of LR_SCHEDULES
    warmup_epochs: float = 0.0  # cosine: linear warm-up from 0 over this many epochs
    min_lr_ratio: float = 0.0  # cosine: final lr as a fraction of the base lr
    lr_step_epochs: int = 30  # step: multiply lr by lr_decay_factor every this many epochs
    lr_decay_factor: float = 0.1  # step / plateau: multiplier applied at each decay
    plateau_patience: int = 1  # plateau: epochs without a new best val accuracy before a decay
    plateau_max_decays: int | None = 3  # plateau: decay at most this many times (None: unlimited)
    grad_accum_steps: int = 1  # micro-batches accumulated per optimiser step
    max_grad_norm: float | None = None  # clip the global gradient L2 norm to this (None: no clipping)
    amp: str = "auto"  # "auto": bf16 autocast on CUDA, off on CPU; "bf16"; "off"
    channels_last: bool = False  # model and 4-D float inputs in channels_last memory format
    compile: bool = False  # torch.compile the model
    early_stopping_patience: int | None = None  # stop after this many epochs without a new best
    monitor: str = "accuracy"  # the validation metric that picks best/ and counts patience: "accuracy" or "loss"
    seed: int = 0  # seeds data order, dropout and every other random draw of the run
    device: str = "auto"  # "auto": cuda if available else cpu; or any torch device string
    num_workers: int = 0  # DataLoader worker processes
    log_every: int = 50  # write a train_step record every this many optimiser steps
    checkpoint_every_steps: int | None = None  # also checkpoint mid-epoch every this many optimiser steps
    progress_bar: bool = True  # show a tqdm bar (rank 0 only)

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("sgd_update", self.sgd_update, SGD_UPDATES)
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check_choice("amp", self.amp, AMP_MODES)
        _check_choice("monitor", self.monitor, MONITORS)
        for name in ("epochs", "batch_size", "grad_accum_steps", "log_every", "lr_step_epochs", "plateau_patience"):
            _check_positive_int(name, getattr(self, name))
        for name in ("early_stopping_patience", "plateau_max_decays", "checkpoint_every_steps"):
            if getattr(self, name) is not None:
                _check_positive_int(name, getattr(self, name))
        if self.num_workers < 0:
            raise ValueError(f"TrainConfig.num_workers must be >= 0, got {self.num_workers}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise ValueError(
                f"TrainConfig needs weight_decay >= 0 and 0 <= momentum < 1, got {self.weight_decay}, {self.momentum}"
            )
        if self.sgd_update == "paper" and (self.optimizer != "sgd" or self.nesterov):
            raise ValueError("TrainConfig.sgd_update='paper' needs optimizer='sgd' without Nesterov momentum")
        if not self.bias_lr_factor > 0:
            raise ValueError(f"TrainConfig.bias_lr_factor must be > 0, got {self.bias_lr_factor}")
        if not 0 < self.lr_decay_factor < 1:
            raise ValueError(f"TrainConfig.lr_decay_factor must be in (0, 1), got {self.lr_decay_factor}")
        if self.warmup_epochs < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(
                f"TrainConfig needs warmup_epochs >= 0 and 0 <= min_lr_ratio <= 1, "
                f"got {self.warmup_epochs}, {self.min_lr_ratio}"
            )
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"TrainConfig.max_grad_norm must be > 0 or None, got {self.max_grad_norm}")

    def to_dict(self) -> dict:
        """The fields as a plain dict (JSON-able; what checkpoints store)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields: dict) -> TrainConfig:
        """Rebuild from :meth:`to_dict`; unknown keys → ``ValueError`` naming them."""
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"TrainConfig has no fields {unknown}")
        return cls(**fields)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"TrainConfig.{name} must be one of {list(choices)}, got {value!r}")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
