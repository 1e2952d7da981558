"""Optimisers and learning-rate schedules built from a :class:`~rfnet.train.config.TrainConfig`.

Two forms of SGD with momentum (``TrainConfig.sgd_update``): torch's (``b <- m b + g + wd w``,
``w <- w - lr b``) and Krizhevsky et al.'s (``v <- m v - wd lr w - lr g``, ``w <- w + v``). They are the
same while the lr is constant (``v = -lr b``); :class:`PaperSGD` keeps them the same across lr changes.

A schedule sets each param group's lr to that group's base lr (``group["base_lr"]``, recorded when the
schedule is made) times one factor, so per-group learning rates (backbone vs. head) keep their ratio.
The engine calls ``after_step()`` after every optimiser step and ``after_epoch(val_accuracy)`` after
every validation; a custom schedule passed to the Trainer needs those two plus ``state_dict`` /
``load_state_dict`` (plain numbers only, so checkpoints load with ``weights_only=True``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from .config import TrainConfig


def build_optimizer(params: Iterable, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, Nesterov; torch's or the paper's update) or AdamW over ``params`` (tensors or group dicts).

    AdamW is torch's fused implementation: the same update to float rounding, one kernel over all
    parameters instead of a dozen element-wise passes over each (the default one allocates fc6-sized
    temporaries every step). On the CPU it makes an AlexNet fine-tuning step about 2x faster
    (``benchmarks/train_speed.py``).
    """
    if config.optimizer == "sgd":
        sgd = PaperSGD if config.sgd_update == "paper" else torch.optim.SGD
        return sgd(
            params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov, weight_decay=config.weight_decay
        )
    return torch.optim.AdamW(
        params, lr=config.lr, betas=(config.adam_beta1, config.adam_beta2), weight_decay=config.weight_decay,
        fused=True,
    )


class PaperSGD(torch.optim.SGD):
    """SGD whose momentum is the paper's velocity: ``v <- m v - wd lr w - lr g``; ``w <- w + v``.

    torch's SGD keeps a buffer ``b`` (``b <- m b + g + wd w``; ``w <- w - lr b``), i.e. ``v = -lr b``, which
    is the paper's rule only while ``lr`` stays put: after a drop from ``lr0`` to ``lr1`` torch's next
    step moves the weights by ``lr1 m b`` where the paper moves them by ``lr0 m b``. Before each step this
    optimiser rescales every group's buffers by ``lr0 / lr1`` whenever the group's lr has changed since
    the buffers were written (``group["buffer_lr"]``, saved with the optimiser's state), so the velocity
    carries over unchanged through any schedule. The arithmetic of each step is torch's own (foreach).
    """

    def __init__(self, params, **kwargs) -> None:
        super().__init__(params, **kwargs)
        for group in self.param_groups:
            group.setdefault("buffer_lr", group["lr"])

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            if group["lr"] == group["buffer_lr"]:
                continue
            if not group["lr"] > 0:
                raise ValueError(f"the paper's update rule needs a positive learning rate, got {group['lr']}")
            by_device: dict[torch.device, list[torch.Tensor]] = {}  # a split model's buffers live on two devices
            for p in group["params"]:
                if self.state[p].get("momentum_buffer") is not None:
                    by_device.setdefault(p.device, []).append(self.state[p]["momentum_buffer"])
            for buffers in by_device.values():
                torch._foreach_mul_(buffers, group["buffer_lr"] / group["lr"])
            group["buffer_lr"] = group["lr"]
        return super().step(closure)


def split_bias_groups(groups: list[dict], model: nn.Module, config: TrainConfig) -> list[dict]:
    """Each param group split into weights and biases; biases get ``bias_lr_factor`` x the group's lr
    and, unless ``config.bias_weight_decay``, no weight decay (what cuda-convnet and Caffe's AlexNet did).

    ``groups``: dicts with ``params`` and optional ``lr`` / ``weight_decay`` (default: ``config``'s).
    Biases are the parameters whose name in ``model`` ends in ``bias``. Empty groups are dropped.
    """
    names = {id(param): name for name, param in model.named_parameters()}
    split = []
    for group in groups:
        params = list(group["params"])
        biases = [p for p in params if names.get(id(p), "").endswith("bias")]
        weights = [p for p in params if not names.get(id(p), "").endswith("bias")]
        bias_group = {**group, "params": biases, "lr": group.get("lr", config.lr) * config.bias_lr_factor}
        if not config.bias_weight_decay:
            bias_group["weight_decay"] = 0.0
        split += [g for g in ({**group, "params": weights}, bias_group) if g["params"]]
    return split


class LRSchedule:
    """Base: a constant learning rate (factor 1). Subclasses change :attr:`factor` and call :meth:`apply`."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("base_lr", group["lr"])
        self.factor = 1.0
        self.apply()

    def apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = group["base_lr"] * self.factor

    def after_step(self) -> None:
        """Called after each optimiser step."""

    def after_epoch(self, val_accuracy: float) -> None:
        """Called after each epoch's validation with its accuracy (fraction in [0, 1])."""

    def state_dict(self) -> dict:
        return {"factor": self.factor}

    def load_state_dict(self, state: dict) -> None:
        self.factor = float(state["factor"])
        self.apply()


class WarmupCosineLR(LRSchedule):
    """Linear warm-up from 0 over ``warmup_steps``, then cosine from 1 down to ``min_ratio`` at ``total_steps``."""

    def __init__(self, optimizer, total_steps: int, warmup_steps: int, min_ratio: float) -> None:
        self.total_steps, self.warmup_steps, self.min_ratio = total_steps, warmup_steps, min_ratio
        self.step_count = 0
        super().__init__(optimizer)
        self._update()

    def _update(self) -> None:
        step = self.step_count
        if step < self.warmup_steps:
            self.factor = (step + 1) / self.warmup_steps
        else:
            progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
            self.factor = self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        self.apply()

    def after_step(self) -> None:
        self.step_count += 1
        self._update()

    def state_dict(self) -> dict:
        return {"step_count": self.step_count}

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step_count"])
        self._update()


class StepLR(LRSchedule):
    """Multiply the lr by ``decay`` every ``step_epochs`` epochs."""

    def __init__(self, optimizer, step_epochs: int, decay: float) -> None:
        self.step_epochs, self.decay = step_epochs, decay
        self.epochs_done = 0
        super().__init__(optimizer)

    def after_epoch(self, val_accuracy: float) -> None:
        self.epochs_done += 1
        self.factor = self.decay ** (self.epochs_done // self.step_epochs)
        self.apply()

    def state_dict(self) -> dict:
        return {"epochs_done": self.epochs_done, "factor": self.factor}

    def load_state_dict(self, state: dict) -> None:
        self.epochs_done = int(state["epochs_done"])
        super().load_state_dict(state)


class PlateauLR(LRSchedule):
    """Multiply the lr by ``decay`` when validation accuracy has not improved for ``patience`` epochs.

    Krizhevsky et al. (2012): "divide the learning rate by 10 when the validation error rate stopped
    improving with the current learning rate" — three times in all (``max_decays``; None = no limit).
    """

    def __init__(self, optimizer, patience: int, decay: float, max_decays: int | None) -> None:
        self.patience, self.decay, self.max_decays = patience, decay, max_decays
        self.best_accuracy = -math.inf
        self.epochs_since_best = 0
        self.decays = 0
        super().__init__(optimizer)

    def after_epoch(self, val_accuracy: float) -> None:
        if val_accuracy > self.best_accuracy:
            self.best_accuracy, self.epochs_since_best = val_accuracy, 0
            return
        self.epochs_since_best += 1
        if self.epochs_since_best >= self.patience and (self.max_decays is None or self.decays < self.max_decays):
            self.decays += 1
            self.epochs_since_best = 0
            self.factor = self.decay**self.decays
            self.apply()

    def state_dict(self) -> dict:
        return {
            "best_accuracy": self.best_accuracy,
            "epochs_since_best": self.epochs_since_best,
            "decays": self.decays,
            "factor": self.factor,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best_accuracy = float(state["best_accuracy"])
        self.epochs_since_best = int(state["epochs_since_best"])
        self.decays = int(state["decays"])
        super().load_state_dict(state)


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int) -> LRSchedule:
    """The schedule ``config.lr_schedule`` names; ``steps_per_epoch`` counts optimiser steps."""
    if config.lr_schedule == "cosine":
        return WarmupCosineLR(
            optimizer,
            total_steps=config.epochs * steps_per_epoch,
            warmup_steps=round(config.warmup_epochs * steps_per_epoch),
            min_ratio=config.min_lr_ratio,
        )
    if config.lr_schedule == "step":
        return StepLR(optimizer, config.lr_step_epochs, config.lr_decay_factor)
    if config.lr_schedule == "plateau":
        return PlateauLR(optimizer, config.plateau_patience, config.lr_decay_factor, config.plateau_max_decays)
    return LRSchedule(optimizer)
