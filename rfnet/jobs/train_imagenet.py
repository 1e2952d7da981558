"""``rfnet train-imagenet``: AlexNet on an ImageNet-layout folder with the paper's recipe.

    from rfnet.jobs.train_imagenet import ImageNetJob, train_imagenet
    outcome = train_imagenet(ImageNetJob(data="/data/ILSVRC2012", out="runs/alexnet"))

The recipe (Krizhevsky et al. 2012, section 5), as the defaults: SGD with momentum 0.9, weight decay
0.0005, batches of 128, learning rate 0.01 divided by 10 whenever the validation top-1 accuracy has not
improved for ``plateau_patience`` epochs, at most three times, 90 epochs. ``update_rule="paper"`` steps
with the paper's own rule (its velocity survives the drops, :class:`~rfnet.train.PaperSGD`);
``bias_lr_factor=2`` and ``bias_weight_decay=False`` are what the reference code (cuda-convnet, Caffe)
did. Data: the paper's preprocessing (:mod:`rfnet.imagenet.transforms`): random crops of the
256x256 image, mirrors and PCA lighting for training; the centre crop for validation each epoch; at the
end, the best epoch's model on the centre crop and on the 10-crop average.

Parallelism:

- ``model_parallel=2``: the paper's :class:`~rfnet.models.TwoTowerAlexNet`, tower ``i`` on ``devices[i]``.
- Data parallel: run under ``torchrun`` (one process per GPU, or per pair of GPUs with
  ``model_parallel=2``; any number of nodes). ``batch_size`` is the batch of one optimiser step over all
  processes, so every process takes ``batch_size / WORLD_SIZE``. Under torchrun each process's CUDA
  devices are shifted by ``LOCAL_RANK`` devices (``model_parallel`` of them per process): with the
  default ``devices``, local rank ``r`` holds its towers on ``cuda:2r`` and ``cuda:2r+1``.

The run folder (written by rank 0): ``job.json``, the engine's ``checkpoint.pt``, ``metrics.jsonl``
(top-1 and top-5 accuracy per epoch), ``train_config.json``, ``best/`` (the best epoch's model as the
single-device ``alexnet`` / ``alexnet_tv``: the backbone ``rfnet finetune --backbone OUT/best`` takes),
``summary.json`` (top-1 / top-5 error of ``best/`` on the centre crop and the 10-crop average) and
``learning_curves.png``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rfnet.data.atomic import atomic_output
from rfnet.imagenet.dali import DALI_HINT, DaliBatchPreprocess, dali_available
from rfnet.imagenet.folder import ImageNetFolder
from rfnet.imagenet.gpu import DeviceBatchPreprocess, EncodedImageNet, collate_encoded
from rfnet.imagenet.lighting import PCALighting
from rfnet.imagenet.transforms import RESIZE, eval_transform, train_transform
from rfnet.jobs.run_folder import JOB_FILE
from rfnet.models import TwoTowerAlexNet, create_model
from rfnet.models.alexnet import AlexNetConfig, AlexNetTV, native_input_size
from rfnet.train import DistributedContext, TrainConfig, Trainer, check_run_folder, init_from_env
from rfnet.train.curves import plot_learning_curves
from rfnet.train.placement import model_devices

MODELS = ("alexnet", "alexnet_tv")
PIPELINES = ("torchvision", "dali")
NATIVE_CROP = {"alexnet": native_input_size(AlexNetConfig().conv1_padding),
               "alexnet_tv": native_input_size(AlexNetTV.conv1_padding)}
SUMMARY_FILE = "summary.json"
CURVES_FILE = "learning_curves.png"


@dataclass(frozen=True)
class ImageNetJob:
    """Every setting of one ImageNet training run.

    Attributes:
        data: folder holding ``train/`` and ``val/`` (see :class:`~rfnet.imagenet.folder.ImageNetFolder`).
        out: the run folder.
        model: ``"alexnet"`` (the paper's, 227 crops; at ``crop_size=224`` conv1 pads 2) or ``"alexnet_tv"``.
        init: weight initialisation (``"paper"``, ``"caffe"``, ``"he"``, ``"torchvision"``).
        drop_rate: dropout after fc6 and fc7.
        crop_size: training / test crop side in pixels (default: the model's native 227 or 224).
        resize: side of the square every image is first brought to (the paper: 256).
        flip: mirror training crops left-right with probability 1/2.
        lighting: PCA colour lighting in training; ``pca_file`` a JSON eigen-decomposition (default: the
            published ImageNet values).
        epochs, batch_size: training length; examples per optimiser step over all processes.
        lr, momentum, weight_decay: SGD; ``update_rule`` ``"torch"`` or ``"paper"``.
        plateau_patience, lr_drops: divide the lr by 10 after this many epochs without a new best
            validation top-1, at most ``lr_drops`` times.
        bias_lr_factor, bias_weight_decay: biases' lr multiplier and whether they decay.
        model_parallel: 1, or 2 for the two-tower split over ``devices``.
        devices: the two devices of the split (of local rank 0 under torchrun).
        device: where a one-device model trains (``"auto"``: CUDA if available).
        amp, channels_last, compile: as :class:`~rfnet.train.TrainConfig`.
        num_workers: DataLoader worker processes per training process.
        decode_on_device: workers only read the JPEG bytes; the training device decodes (nvjpeg on a GPU),
            resizes and augments each batch (:mod:`rfnet.imagenet.gpu`). Same images as without.
        pipeline: ``"torchvision"`` (the default, as ``decode_on_device`` says) or ``"dali"``: the workers
            only read the JPEG bytes and NVIDIA DALI decodes (on the GPU's JPEG decoders), resizes and
            augments each batch (:mod:`rfnet.imagenet.dali`; ``pip install 'rfnet[gpu]'``). The same
            draws and geometry as torchvision's, to within a few grey levels of resampling.
        ten_crop: also report the 10-crop error of the best model at the end.
        checkpoint_every_steps: also checkpoint mid-epoch this often (optimiser steps).
        seed: seeds the weights, data order and augmentation.
        resume: continue the interrupted run in ``out``.
        progress: progress bars and per-epoch lines.
    """

    data: str
    out: str
    model: str = "alexnet"
    init: str = "paper"
    drop_rate: float = 0.5
    crop_size: int | None = None
    resize: int = RESIZE
    flip: bool = True
    lighting: bool = True
    pca_file: str | None = None
    epochs: int = 90
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    update_rule: str = "torch"
    plateau_patience: int = 1
    lr_drops: int = 3
    bias_lr_factor: float = 1.0
    bias_weight_decay: bool = True
    model_parallel: int = 1
    devices: tuple[str, ...] = ("cuda:0", "cuda:1")
    device: str = "auto"
    amp: str = "auto"
    channels_last: bool = False
    compile: bool = False
    num_workers: int = 8
    decode_on_device: bool = False
    pipeline: str = "torchvision"
    ten_crop: bool = True
    checkpoint_every_steps: int | None = None
    seed: int = 0
    resume: bool = False
    progress: bool = True

    @property
    def crop(self) -> int:
        return self.crop_size if self.crop_size is not None else NATIVE_CROP[self.model]


@dataclass(frozen=True)
class ImageNetOutcome:
    """What a run produced: the best epoch, the final errors (fractions) and where things are."""

    best_epoch: int
    errors: dict[str, dict[str, float]]  # {"center_crop" | "ten_crop": {"top1": ..., "top5": ...}}
    run_dir: Path
    best_dir: Path


def train_imagenet(job: ImageNetJob) -> ImageNetOutcome:
    """Train, keep the best epoch, and report its top-1 / top-5 error on the centre crop and 10 crops.

    Under torchrun every process calls this; rank 0 writes the files.
    """
    _check(job)
    out = Path(job.out)
    check_run_folder(out, job.resume)
    train, val, val_ten = _datasets(job)
    first_device = job.devices[0] if job.model_parallel == 2 else job.device
    ctx = init_from_env(first_device, devices_per_process=job.model_parallel)
    try:
        if job.batch_size % ctx.world_size:
            raise ValueError(f"--batch-size {job.batch_size} is not divisible by the {ctx.world_size} processes")
        model = build_model(job, len(train.classes), ctx)
        decoding, datasets = {}, (train, val, val_ten)
        if job.decode_on_device or job.pipeline == "dali":
            split = model_devices(model)
            device = ctx.device if split is None else split[0]
            decoding = device_decoding(train, val, val_ten, device, job.pipeline, job.batch_size // ctx.world_size)
            datasets = decoding["datasets"]
        trainer = Trainer(model, *datasets[:2], train_config(job, ctx.world_size), out, distributed=ctx,
                          resume=job.resume, collate_fn=decoding.get("collate_fn"),
                          prepare_batch=decoding.get("prepare_batch"))
        if ctx.is_main:
            _write_job(out, job, train)
        result = trainer.fit()
        trainer.restore_best()
        errors = {"center_crop": _errors(trainer.evaluate(datasets[1]))}
        if job.ten_crop:
            errors["ten_crop"] = _errors(trainer.evaluate(datasets[2]))
        if ctx.is_main:
            _write_summary(out, result.best_epoch, errors, job, result.paths["best"])
            plot_learning_curves(result.paths["metrics"], out / CURVES_FILE)
        ctx.barrier()
    finally:
        ctx.close()
    return ImageNetOutcome(result.best_epoch, errors, out, result.paths["best"])


def train_config(job: ImageNetJob, world_size: int) -> TrainConfig:
    """The engine's settings for ``job`` when ``world_size`` processes share each batch."""
    return TrainConfig(
        epochs=job.epochs, batch_size=job.batch_size // world_size, optimizer="sgd", lr=job.lr,
        momentum=job.momentum, weight_decay=job.weight_decay, sgd_update=job.update_rule,
        bias_lr_factor=job.bias_lr_factor, bias_weight_decay=job.bias_weight_decay, lr_schedule="plateau",
        plateau_patience=job.plateau_patience, lr_decay_factor=0.1, plateau_max_decays=job.lr_drops,
        amp=job.amp, channels_last=job.channels_last, compile=job.compile, seed=job.seed, device=job.device,
        num_workers=job.num_workers, checkpoint_every_steps=job.checkpoint_every_steps,
        progress_bar=job.progress,
    )  # fmt: skip


def build_model(job: ImageNetJob, num_classes: int, ctx: DistributedContext) -> nn.Module:
    """The seeded model; with ``model_parallel=2`` split over this process's two devices."""
    config = {"num_classes": num_classes, "init": job.init, "drop_rate": job.drop_rate}
    if job.model == "alexnet" and job.crop == 224:
        config["conv1_padding"] = 2  # 55x55 conv1 maps from 224, as torchvision and most ports do
    model = create_model(job.model, seed=job.seed, **config)  # the same weights on every rank
    if job.model_parallel == 1:
        return model
    return TwoTowerAlexNet.from_single(model, devices=process_devices(job.devices, ctx.local_rank, 2))


def device_decoding(
    train: ImageNetFolder,
    val: ImageNetFolder,
    val_ten: ImageNetFolder,
    device: torch.device,
    pipeline: str = "torchvision",
    batch_size: int | None = None,
) -> dict:
    """The Trainer arguments that decode and preprocess every batch on ``device``.

    ``datasets``: the three folders as undecoded ``(bytes, target, index)`` items; ``collate_fn``;
    ``prepare_batch``: ``(batch, dataset) -> (images on device, targets)`` with the folder's own transform,
    applied by torchvision (:class:`DeviceBatchPreprocess`) or by DALI (:class:`DaliBatchPreprocess`, for
    batches of at most ``batch_size``).
    """

    def preprocessor(folder: ImageNetFolder):
        if pipeline == "dali":
            return DaliBatchPreprocess(folder, folder.transform, device, batch_size)
        return DeviceBatchPreprocess(folder, folder.transform, device)

    datasets = tuple(EncodedImageNet(folder) for folder in (train, val, val_ten))
    preprocess = {id(d): preprocessor(d.folder) for d in datasets}

    def prepare_batch(batch, dataset):
        encoded, targets, indices = batch
        return preprocess[id(dataset)](encoded, indices), targets

    return {"datasets": datasets, "collate_fn": collate_encoded, "prepare_batch": prepare_batch}


def process_devices(devices: tuple[str, ...], local_rank: int, per_process: int) -> tuple[torch.device, ...]:
    """``devices`` of local rank 0, with CUDA indices shifted by ``local_rank * per_process`` for this rank."""
    placed = []
    for name in devices:
        device = torch.device(name)
        if device.type == "cuda":
            device = torch.device("cuda", (device.index or 0) + local_rank * per_process)
        placed.append(device)
    return tuple(placed)


def _check(job: ImageNetJob) -> None:
    if job.model not in MODELS:
        raise ValueError(f"--arch {job.model!r}: choose one of {list(MODELS)}")
    if job.model_parallel not in (1, 2):
        raise ValueError(f"--model-parallel {job.model_parallel}: 1 (one device) or 2 (the paper's two towers)")
    if job.model_parallel == 2 and job.model != "alexnet":
        raise ValueError(f"--model-parallel 2 splits the paper's 'alexnet' into two towers, not {job.model!r}")
    if job.model_parallel == 2 and len(job.devices) != 2:
        raise ValueError(f"--devices: --model-parallel 2 needs two devices, got {list(job.devices)}")
    if job.pipeline not in PIPELINES:
        raise ValueError(f"--pipeline {job.pipeline!r}: choose one of {list(PIPELINES)}")
    if job.pipeline == "dali" and not dali_available():
        raise ValueError(f"--pipeline dali: {DALI_HINT}")
    if job.update_rule not in ("torch", "paper"):
        raise ValueError(f"--update-rule {job.update_rule!r}: 'torch' or 'paper'")
    if job.crop > job.resize:
        raise ValueError(f"--crop-size {job.crop} is larger than --resize {job.resize}")


def _datasets(job: ImageNetJob) -> tuple[ImageNetFolder, ImageNetFolder, ImageNetFolder]:
    """Training (random crops, mirrors, lighting), centre-crop validation and 10-crop validation."""
    lighting = None
    if job.lighting:
        lighting = PCALighting.from_json(job.pca_file) if job.pca_file else PCALighting()
    augment = train_transform(job.crop, seed=job.seed, resize=job.resize, flip=job.flip, lighting=lighting)
    train = ImageNetFolder(job.data, "train", transform=augment)
    val = ImageNetFolder(job.data, "val", transform=eval_transform(job.crop, resize=job.resize))
    val_ten = ImageNetFolder(job.data, "val", transform=eval_transform(job.crop, ten_crop=True, resize=job.resize))
    return train, val, val_ten


def _errors(metrics: dict[str, float]) -> dict[str, float]:
    return {"top1": 1 - metrics["accuracy"], "top5": 1 - metrics["top5_accuracy"], "examples": metrics["examples"]}


def _write_job(out: Path, job: ImageNetJob, train: ImageNetFolder) -> None:
    record = {"job": dataclasses.asdict(job), "classes": train.classes, "class_names": train.class_names,
              "train_examples": len(train)}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_output(out / JOB_FILE) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n")


def _write_summary(out: Path, best_epoch: int, errors: dict, job: ImageNetJob, best: Path) -> None:
    record = {"best_epoch": best_epoch, "crop_size": job.crop, "errors": errors, "best_model": str(best)}
    with atomic_output(out / SUMMARY_FILE) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n")


def format_outcome(outcome: ImageNetOutcome) -> str:
    """A few lines for the terminal: the best epoch's top-1 / top-5 error and where the backbone is."""
    lines = [f"best epoch {outcome.best_epoch}"]
    for view, name in (("center_crop", "centre crop"), ("ten_crop", "10 crops")):
        if view in outcome.errors:
            e = outcome.errors[view]
            lines.append(f"val error, {name}: top-1 {100 * e['top1']:.2f}%, top-5 {100 * e['top5']:.2f}%")
    lines.append(f"backbone: {outcome.best_dir} (rfnet finetune --backbone {outcome.best_dir})")
    return "\n".join(lines)
