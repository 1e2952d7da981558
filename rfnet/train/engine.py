"""The one training loop: epochs of (accumulated, mixed-precision) steps, validation, checkpoints, resume.

Single process and DDP share this loop: a :class:`~rfnet.train.distributed.DistributedContext` with
``world_size > 1`` only changes the data shard, wraps the model in DistributedDataParallel and sums
metrics over ranks; rank 0 alone writes files and shows the bar.

A model split over devices (``model.devices``, see :mod:`rfnet.train.placement`) stays where it is,
is fed on its first device and saved in its single-device form.

Files in ``out_dir``: ``checkpoint.pt`` (everything to resume exactly; rewritten atomically after every
epoch), ``best/`` (:func:`rfnet.models.save` of the model with the best validation accuracy, or
``best.pt`` holding its state dict when the model is not saveable), ``metrics.jsonl`` (see
:mod:`rfnet.train.metrics`), ``train_config.json`` (the TrainConfig, for people).
"""

from __future__ import annotations

import contextlib
import json
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from rfnet.data.atomic import atomic_output
from rfnet.models import create_model, list_models
from rfnet.models import load as load_model
from rfnet.models import save as save_model
from rfnet.seeding import seed_for

from .checkpoint import capture_rng_state, load_checkpoint, mismatched_fields, restore_rng_state, save_checkpoint
from .config import TrainConfig
from .distributed import DistributedContext, resolve_device
from .loaders import train_loader, val_loader
from .metrics import MetricsLog, RunningMetrics
from .multicrop import crop_averaged_log_probs
from .optim import build_optimizer, build_scheduler, split_bias_groups
from .placement import load_single_device_form, model_devices, place, single_device_form

CHECKPOINT_FILE = "checkpoint.pt"
BEST_DIR = "best"
BEST_STATE_FILE = "best.pt"
METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "train_config.json"
GLOBAL_RNG_STREAM = 3  # seed_for(seed, GLOBAL_RNG_STREAM, rank) seeds dropout and other global draws

OptimizerFactory = Callable[[Iterable, TrainConfig], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer, TrainConfig, int], object]
Adversary = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
BatchPreparer = Callable[[object, object], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class TrainResult:
    """What :meth:`Trainer.fit` achieved.

    ``best_epoch``: the best epoch (1-based) by ``TrainConfig.monitor`` (highest validation accuracy, or
    lowest validation loss); ``best_accuracy``: that epoch's validation accuracy (fraction);
    ``epochs_run``: epochs completed, resumed ones included; ``paths``: ``out_dir``, ``checkpoint``,
    ``best`` and ``metrics``.
    """

    best_accuracy: float
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    paths: dict[str, Path]


class Trainer:
    """Train ``model`` on ``train_data``, validate on ``val_data`` every epoch, keep the best.

    Args:
        model: maps a batch of inputs to logits ``[B, C]`` (float). A model split over devices (with a
            ``devices`` attribute, like :class:`~rfnet.models.TwoTowerAlexNet`) keeps its placement and
            gets its inputs on ``devices[0]``; under DDP that must be the process's device.
        train_data, val_data: map-style datasets of tuples ``(input, target, *extras)``; ``target`` an
            integer class index. Inputs may be complex64 IQ ``[N]`` or float images ``[C, H, W]``;
            validation inputs may also be crops ``[n, C, H, W]``, scored by the softmax averaged over
            the ``n`` crops (:func:`~rfnet.train.multicrop.crop_averaged_log_probs`). A
            ``train_data.set_epoch(epoch)`` method, if any, is called with the 0-based epoch before each
            epoch (:class:`~rfnet.imagenet.folder.ImageNetFolder` seeds its augmentation with it).
        config: the :class:`TrainConfig`.
        out_dir: folder for the checkpoint, best model and metrics (created).
        param_groups: optimiser param groups (e.g. a lower lr for the backbone); default: every
            parameter that requires grad, at ``config.lr``. ``config.bias_lr_factor`` and
            ``config.bias_weight_decay`` then split each group's biases off
            (:func:`~rfnet.train.optim.split_bias_groups`).
        loss_fn: ``(logits, targets) -> mean loss``; default cross-entropy.
        collate_fn: passed to the DataLoaders.
        distributed: from :func:`~rfnet.train.distributed.init_from_env`; default single process on
            ``config.device``.
        resume: ``True`` continues from ``out_dir/checkpoint.pt``, a path from that file. Arguments that
            change a step's arithmetic must match the checkpoint's, or ``ValueError`` lists them.
            The resumed run ends with the same weights as an uninterrupted one, also from a mid-epoch
            checkpoint (``config.checkpoint_every_steps``), provided any random transforms in DataLoader
            workers (``num_workers > 0``) draw from per-example seeds rather than a worker's own stream.
        optimizer_factory: ``(params, config) -> Optimizer``; default :func:`~rfnet.train.optim.build_optimizer`.
        scheduler_factory: ``(optimizer, config, steps_per_epoch) -> schedule`` with ``after_step()``,
            ``after_epoch(val_accuracy)``, ``state_dict()``, ``load_state_dict()``; default
            :func:`~rfnet.train.optim.build_scheduler`.
        adversary: for adversarial training, ``(model, inputs, targets) -> inputs'``: each training
            micro-batch is replaced by what it returns before the forward pass (validation is not).
            ``model`` is the bare model (not compiled, not DDP-wrapped), in train mode; the adversary
            may switch it to eval mode but must switch it back, and must leave parameter gradients alone
            (take gradients with ``torch.autograd.grad`` with respect to the inputs only).
        prepare_batch: ``(batch, dataset) -> (inputs, targets)`` for loaders whose batches are not
            ``(inputs, targets, *extras)`` tensors, e.g. undecoded JPEG bytes that the device decodes
            (:mod:`rfnet.imagenet.gpu`); ``dataset`` is the one the batch came from. The engine then
            moves what it returns to the input device.
    """

    def __init__(
        self,
        model: nn.Module,
        train_data,
        val_data,
        config: TrainConfig,
        out_dir: str | Path,
        *,
        param_groups: list[dict] | None = None,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        collate_fn: Callable | None = None,
        distributed: DistributedContext | None = None,
        resume: bool | str | Path = False,
        optimizer_factory: OptimizerFactory | None = None,
        scheduler_factory: SchedulerFactory | None = None,
        adversary: Adversary | None = None,
        prepare_batch: BatchPreparer | None = None,
    ) -> None:
        self.config = config
        self.train_data, self.val_data = train_data, val_data
        sizes = {"train_data": _dataset_size(train_data, "train_data"), "val_data": _dataset_size(val_data, "val_data")}
        self.ctx = distributed or DistributedContext(device=resolve_device(config.device))
        split_devices = model_devices(model)
        if split_devices is not None and self.ctx.is_distributed and split_devices[0] != self.ctx.device:
            raise ValueError(
                f"the model's first device {split_devices[0]} is not this process's device {self.ctx.device}: "
                "under DDP a split model takes its input on the process's device"
            )
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()
        self.collate_fn = collate_fn
        self.adversary = adversary
        self.prepare_batch = prepare_batch
        self.out_dir = Path(out_dir)
        self.paths = {
            "out_dir": self.out_dir,
            "checkpoint": self.out_dir / CHECKPOINT_FILE,
            "best": self.out_dir / (BEST_DIR if _saveable(model) else BEST_STATE_FILE),
            "metrics": self.out_dir / METRICS_FILE,
        }

        self.device = place(model, self.ctx.device)  # where inputs, targets and logits live
        self.model = model
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        trainable = [p for p in model.parameters() if p.requires_grad]
        groups = param_groups if param_groups is not None else [{"params": trainable}]
        if config.bias_lr_factor != 1 or not config.bias_weight_decay:
            groups = split_bias_groups(groups, model, config)
        self.optimizer = (optimizer_factory or build_optimizer)(groups, config)
        self.fingerprint = self._fingerprint(sizes)
        micro_batches = math.ceil(math.ceil(sizes["train_data"] / self.ctx.world_size) / config.batch_size)
        self.steps_per_epoch = math.ceil(micro_batches / config.grad_accum_steps)
        self.scheduler = (scheduler_factory or build_scheduler)(self.optimizer, config, self.steps_per_epoch)

        # forward_model evaluates; network (the same, wrapped in DDP when distributed) trains.
        self.forward_model: nn.Module = torch.compile(self.model) if config.compile else self.model
        self.network: nn.Module = self.forward_model
        if self.ctx.is_distributed:
            # a module on several devices (or on the CPU) takes no device_ids
            one_cuda_device = self.device.type == "cuda" and split_devices is None
            device_ids = [self.device.index] if one_cuda_device else None
            self.network = DistributedDataParallel(self.forward_model, device_ids=device_ids)
        self.autocast_dtype = _autocast_dtype(config.amp, self.device)

        self.epoch = 0  # epochs completed
        self.global_step = 0  # optimiser steps taken
        self.best_score = -math.inf  # the monitored metric of the best epoch, higher is better
        self.best_accuracy = -math.inf
        self.best_epoch = 0
        self.epochs_without_improvement = 0
        self.batches_done = 0  # micro-batches of the unfinished epoch already trained on (mid-epoch resume)
        self.epoch_metrics, self.window_metrics = RunningMetrics(self.device), RunningMetrics(self.device)
        self.saved_ranks: list[dict] | None = None  # per-rank RNG and metric sums from a checkpoint
        self.log = MetricsLog(self.paths["metrics"], enabled=self.ctx.is_main)
        if resume:
            source = self.paths["checkpoint"] if resume is True else Path(resume)
            self._load(source)
        elif self.paths["checkpoint"].exists():
            raise ValueError(
                f"{self.paths['checkpoint']} already exists: pass resume=True to continue that run, "
                "or choose another out_dir"
            )

    # -- public -------------------------------------------------------------------------------------

    def fit(self) -> TrainResult:
        """Run the remaining epochs (all of them on a fresh start) and return the :class:`TrainResult`."""
        if self.ctx.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            with atomic_output(self.out_dir / CONFIG_FILE) as temporary:
                temporary.write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        self.log.truncate(self.log.records)
        if self.saved_ranks is None:
            _seed_everything(seed_for(self.config.seed, GLOBAL_RNG_STREAM, self.ctx.rank))
        else:
            saved = self.saved_ranks[self.ctx.rank]
            restore_rng_state(saved["rng"])
            self.epoch_metrics.reset(saved["epoch_sums"])
            self.window_metrics.reset(saved["window_sums"])
        while self.epoch < self.config.epochs and not self.stopped_early:
            self._train_epoch(self.epoch + 1)
            val = self.evaluate()
            self.epoch += 1
            self.log.write(epoch=self.epoch, step=self.global_step, split="val", lr=self._lr(), **val)
            self._report_epoch(val)
            self._after_validation(val)
        self.ctx.barrier()
        return TrainResult(self.best_accuracy, self.best_epoch, self.epoch, self.stopped_early, dict(self.paths))

    @torch.no_grad()
    def evaluate(self, dataset=None) -> dict[str, float]:
        """``loss``, ``accuracy``, ``top5_accuracy``, ``examples``, ``examples_per_s`` on ``dataset``
        (default ``val_data``). Inputs ``[B, n, C, H, W]`` are n crops per example, scored by their
        averaged softmax. Summed over ranks: every rank must call it.
        """
        dataset = self.val_data if dataset is None else dataset
        loader = val_loader(
            dataset,
            self.config.batch_size,
            self.ctx,
            num_workers=self.config.num_workers,
            collate_fn=self.collate_fn,
        )
        network = self.forward_model  # not through DDP: ranks may hold unequal shares of val_data
        network.eval()
        metrics = RunningMetrics(self.device)
        for batch in loader:
            inputs, targets = self._to_device(batch, dataset)
            with self._autocast():
                multicrop = inputs.dim() == 5
                logits = crop_averaged_log_probs(network, inputs) if multicrop else network(inputs)
                loss = self.loss_fn(logits, targets)
            metrics.add(logits, targets, loss)
        return metrics.summary(self.ctx)

    def restore_best(self) -> None:
        """Put the best epoch's weights (``best/`` or ``best.pt``, as rank 0 wrote them) back into the model.

        Rank 0 reads them and sends them to the other ranks, so their disks need not hold the run folder:
        every rank must call it. Raises ``FileNotFoundError`` before any epoch has finished.
        """
        if self.ctx.is_main:
            best = self.paths["best"]
            if not best.exists():
                raise FileNotFoundError(f"{best}: no best model yet (no epoch has finished)")
            if best.name == BEST_STATE_FILE:
                self.model.load_state_dict(torch.load(best, map_location="cpu", weights_only=True))
            else:
                load_single_device_form(self.model, load_model(best))
        self.ctx.broadcast_state(self.model)

    @property
    def stopped_early(self) -> bool:
        patience = self.config.early_stopping_patience
        return patience is not None and self.epochs_without_improvement >= patience

    # -- one epoch ----------------------------------------------------------------------------------

    def _train_epoch(self, epoch: int) -> None:
        """Train epoch ``epoch`` (1-based) from micro-batch ``self.batches_done`` on."""
        config, skip = self.config, self.batches_done
        if hasattr(self.train_data, "set_epoch"):  # datasets whose augmentation is seeded per (epoch, example)
            self.train_data.set_epoch(epoch - 1)
        loader = train_loader(
            self.train_data,
            config.batch_size,
            config.seed,
            epoch - 1,
            self.ctx,
            num_workers=config.num_workers,
            collate_fn=self.collate_fn,
            skip_batches=skip,
        )
        micro_batches = skip + len(loader)
        self.network.train()
        if skip == 0:
            self.epoch_metrics.reset()
            self.window_metrics.reset()
        epoch_metrics, window = self.epoch_metrics, self.window_metrics
        bar = tqdm(
            total=micro_batches,
            initial=skip,
            desc=f"epoch {epoch}/{config.epochs}",
            unit="batch",
            disable=not (config.progress_bar and self.ctx.is_main),
        )
        self.optimizer.zero_grad(set_to_none=True)
        for index, batch in enumerate(loader, start=skip):
            inputs, targets = self._to_device(batch, self.train_data)
            if self.adversary is not None:
                inputs = self.adversary(self.model, inputs, targets).detach()
            group_start = index - index % config.grad_accum_steps
            group_size = min(config.grad_accum_steps, micro_batches - group_start)
            steps_now = index - group_start == group_size - 1
            with self._gradient_sync(steps_now):
                with self._autocast():
                    logits = self.network(inputs)
                    loss = self.loss_fn(logits, targets)
                (loss / group_size).backward()
            epoch_metrics.add(logits, targets, loss)
            window.add(logits, targets, loss)
            if steps_now:
                lr = self._lr()
                self._optimizer_step()
                if self.global_step % config.log_every == 0:
                    summary = self._checked(window.summary(self.ctx), epoch)
                    self.log.write(epoch=epoch, step=self.global_step, split="train_step", lr=lr, **summary)
                    bar.set_postfix(_postfix(summary))
                    window.reset()
                every = config.checkpoint_every_steps
                if every is not None and self.global_step % every == 0 and index + 1 < micro_batches:
                    self.batches_done = index + 1
                    self._save_checkpoint()
            bar.update(1)
        self.batches_done = 0
        summary = self._checked(epoch_metrics.summary(self.ctx), epoch)
        bar.set_postfix(_postfix(summary))
        bar.close()
        self.log.write(epoch=epoch, step=self.global_step, split="train", lr=self._lr(), **summary)
        self.train_summary = summary

    def _report_epoch(self, val: dict[str, float]) -> None:
        """One line per epoch under the bar (rank 0, when the bar is on)."""
        if not (self.config.progress_bar and self.ctx.is_main):
            return
        train = self.train_summary
        best = " (best)" if self._score(val) > self.best_score else ""
        tqdm.write(
            f"epoch {self.epoch}/{self.config.epochs}: train loss {train['loss']:.4f} acc {train['accuracy']:.4f}"
            f" | val loss {val['loss']:.4f} acc {val['accuracy']:.4f} top-5 {val['top5_accuracy']:.4f}{best}"
            f" | {train['examples_per_s']:.0f} examples/s | lr {self._lr():.3g}"
        )

    def _optimizer_step(self) -> None:
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.after_step()
        self.global_step += 1

    def _score(self, val: dict[str, float]) -> float:
        """The monitored validation metric of an epoch, as a score where higher is better."""
        return val["accuracy"] if self.config.monitor == "accuracy" else -val["loss"]

    def _after_validation(self, val: dict[str, float]) -> None:
        score = self._score(val)
        if score > self.best_score:
            self.best_score, self.best_accuracy = score, val["accuracy"]
            self.best_epoch, self.epochs_without_improvement = self.epoch, 0
            if self.ctx.is_main:
                self._save_best()
        else:
            self.epochs_without_improvement += 1
        self.scheduler.after_epoch(val["accuracy"])
        self._save_checkpoint()

    # -- state --------------------------------------------------------------------------------------

    def _save_checkpoint(self) -> None:
        """Gather every rank's RNG states and running sums; rank 0 writes ``checkpoint.pt``."""
        ranks = self.ctx.all_gather_object(
            {
                "rng": capture_rng_state(),
                "epoch_sums": self.epoch_metrics.sums.cpu(),
                "window_sums": self.window_metrics.sums.cpu(),
            }
        )
        if self.ctx.is_main:
            save_checkpoint(self._state(ranks), self.paths["checkpoint"])

    def _state(self, ranks: list[dict]) -> dict:
        return {
            "config": self.config.to_dict(),
            "fingerprint": self.fingerprint,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_score": self.best_score,
            "best_accuracy": self.best_accuracy,
            "best_epoch": self.best_epoch,
            "epochs_without_improvement": self.epochs_without_improvement,
            "batches_done": self.batches_done,
            "ranks": ranks,
            "data_order": {"seed": self.config.seed, "epoch": self.epoch, "batches_done": self.batches_done},
            "metrics_records": self.log.records,
        }

    def _load(self, path: Path) -> None:
        state = load_checkpoint(path)
        saved = state["fingerprint"]
        if saved.get("model") != self.fingerprint["model"]:
            saved = {**saved, "model": _as_rebuilt_today(saved.get("model"))}
        differences = mismatched_fields(saved, self.fingerprint)
        if differences:
            raise ValueError(
                f"{path}: cannot resume, the run was started with different arguments "
                f"(checkpoint -> now): {'; '.join(differences)}"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        self.best_score, self.best_accuracy = state["best_score"], state["best_accuracy"]
        self.best_epoch = state["best_epoch"]
        self.epochs_without_improvement = state["epochs_without_improvement"]
        self.batches_done = state["batches_done"]
        self.saved_ranks = state["ranks"]
        self.log.records = state["metrics_records"]

    def _fingerprint(self, sizes: dict[str, int]) -> dict:
        """What must match between a checkpoint and the run resuming it (TrainConfig fields included)."""
        model = self.model
        if _saveable(model):
            # through JSON, as a saved model's config comes back (tuples as lists)
            described = {"arch": model.arch, "config": json.loads(json.dumps(model.config))}
        else:
            described = {"class": type(model).__name__, "parameters": sum(p.numel() for p in model.parameters())}
        groups = [
            {key: value for key, value in group.items() if key != "params"} | {"tensors": len(group["params"])}
            for group in self.optimizer.param_groups
        ]
        return {
            **self.config.to_dict(),
            "model": described,
            "train_examples": sizes["train_data"],
            "val_examples": sizes["val_data"],
            "world_size": self.ctx.world_size,
            # a cosine schedule spans all epochs, so for it the epoch count must match too
            "cosine_epochs": self.config.epochs if self.config.lr_schedule == "cosine" else None,
            "optimizer_class": type(self.optimizer).__name__,
            "param_groups": groups,
        }

    def _save_best(self) -> None:
        if _saveable(self.model):
            save_model(single_device_form(self.model), self.paths["best"])
        else:
            with atomic_output(self.paths["best"]) as temporary:
                torch.save(self.model.state_dict(), temporary)

    # -- helpers ------------------------------------------------------------------------------------

    def _to_device(self, batch, dataset) -> tuple[torch.Tensor, torch.Tensor]:
        if self.prepare_batch is not None:
            batch = self.prepare_batch(batch, dataset)
        elif not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("datasets must yield tuples (input, target, *extras)")
        non_blocking = self.device.type == "cuda"
        inputs = batch[0].to(self.device, non_blocking=non_blocking)
        if self.config.channels_last and inputs.dim() == 4 and inputs.is_floating_point():
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return inputs, batch[1].to(self.device, non_blocking=non_blocking)

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _gradient_sync(self, sync: bool):
        """DDP: skip the all-reduce on micro-batches that only accumulate."""
        if sync or not isinstance(self.network, DistributedDataParallel):
            return contextlib.nullcontext()
        return self.network.no_sync()

    def _lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def _checked(self, summary: dict[str, float], epoch: int) -> dict[str, float]:
        if not math.isfinite(summary["loss"]):
            raise ValueError(
                f"training loss became {summary['loss']} in epoch {epoch} "
                f"(step {self.global_step}, lr {self._lr():g}): "
                "lower the learning rate or check the data for NaN / inf"
            )
        return summary


def _dataset_size(dataset, name: str) -> int:
    try:
        size = len(dataset)
    except TypeError:
        raise ValueError(f"{name} must be a map-style dataset with a length, got {type(dataset).__name__}") from None
    if size == 0:
        raise ValueError(f"{name} is empty")
    return size


def _as_rebuilt_today(described):
    """A checkpoint's ``{"arch", "config"}`` model description as today's code rebuilds it, so settings a model
    gained since the checkpoint was written compare at their defaults and an upgrade alone does not refuse a
    resume; a description that does not rebuild is returned as it was saved (and reported as a difference)."""
    try:
        model = create_model(described["arch"], seed=0, **described["config"])  # seed: the global RNG is kept
    except (KeyError, TypeError, ValueError):
        return described
    return {"arch": described["arch"], "config": json.loads(json.dumps(model.config))}


def _saveable(model: nn.Module) -> bool:
    """Whether :func:`rfnet.models.save` takes the model's single-device form (a registered arch and a config)."""
    if model_devices(model) is not None:  # saved through to_single(): the plain AlexNet
        return True
    return hasattr(model, "arch") and hasattr(model, "config") and model.arch in list_models()


def _autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """bf16 for ``"bf16"`` (CPU or CUDA) and for ``"auto"`` on CUDA; otherwise no autocast."""
    if amp == "bf16" or (amp == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def _seed_everything(seed: int) -> None:
    """Seed the global generators that layers like dropout draw from (python, numpy, torch, CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _postfix(summary: dict[str, float]) -> dict[str, str]:
    return {
        "loss": f"{summary['loss']:.4f}",
        "acc": f"{summary['accuracy']:.3f}",
        "ex/s": f"{summary['examples_per_s']:.0f}",
    }
