"""``rfnet finetune``: train a classifier on labelled IQ, keep the best model, and report on the test split.

    from rfnet.jobs.finetune import FinetuneJob, finetune
    outcome = finetune(FinetuneJob(data="rml2016", out="run", per_class_snr=50, epochs=2))

The run folder holds ``job.json`` (these settings and the data they resolved to), ``splits.npz`` (the
train / validation / test indices), the engine's ``checkpoint.pt``, ``best/`` and ``metrics.jsonl``, and
``report/`` (:func:`rfnet.evaluation.write_report` of the best model on the test split, with a
temperature fitted on the validation split). A preset is generated into ``data.h5`` there.

Learning rate, weight decay, batch size and epochs left ``None`` come from the model's
:class:`~rfnet.jobs.recipes.TrainingRecipe` (:data:`~rfnet.jobs.recipes.RECIPES`: AlexNet's fine-tuning
default, the RadioML papers' recipes for the baselines, with their early stopping); ``job.json`` records
the resolved values and the recipe.

``adv_train`` (``--adv-train pgd --adv-psr -10``) trains adversarially: every training batch is replaced by
its adversarial version at that PSR (:func:`rfnet.robustness.adversarial_training.make_adversary`);
validation and the test report stay clean (``rfnet robustness`` measures the defence).

Which model trains:

- ``--backbone scratch`` (default): a fresh model named by ``--model``. ``alexnet`` / ``alexnet_tv`` are
  spectrogram classifiers (front end + AlexNet) with He initialisation (``init="he"``, the scheme that
  leaves chance level fastest from scratch without batch norm);
  ``vtcnn2`` / ``radioml_resnet`` are the raw-IQ baselines. Fresh weights (a scratch model, a new head)
  are always drawn from ``seed``, so the same seed builds the same model.
- ``--backbone DIR`` holding a saved AlexNet (e.g. an ImageNet run's ``best/``): wrapped by
  :meth:`SpectrogramClassifier.from_backbone`, i.e. its fc8 replaced by a fresh head for the data's
  classes (spectrograms ImageNet-normalised, as by default).
- ``--backbone DIR`` holding a saved classifier (a previous run's ``best/``): training continues from it.
  If its classes are the data's (the data is labelled in the model's order when the names are the same)
  the head is kept; otherwise the head is reset
  to the data's classes (a note says so) and the backbone and front end are kept.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from rfnet.dsp.spectrogram import SpectrogramConfig
from rfnet.jobs.datasets import DataSpec, LabelledData
from rfnet.jobs.evaluate import evaluate_split, model_name
from rfnet.jobs.recipes import RECIPE_OPTIONS, RECIPES, TrainingRecipe
from rfnet.jobs.run_folder import REPORT_DIR, open_in_class_order, write_run_record
from rfnet.models import AlexNetBackbone, SpectrogramClassifier, check_classes, create_model, load, read_config
from rfnet.robustness.adversarial_training import make_adversary
from rfnet.seeding import torch_seeded
from rfnet.train import TrainConfig, Trainer, check_run_folder

ALEXNET_MODELS = ("alexnet", "alexnet_tv")
BASELINE_MODELS = ("vtcnn2", "radioml_resnet")
MODELS = ALEXNET_MODELS + BASELINE_MODELS
DEFAULT_IMAGE_SIZE = 67
"""Spectrogram image side in pixels: the smallest the paper AlexNet takes
(``rfnet.models.alexnet.min_input_size(0)``, which a test holds it to; alexnet_tv takes 63 and up). A literal,
so that ``rfnet finetune --help`` reads it without importing torch (:mod:`rfnet.cli.defaults`)."""


@dataclass(frozen=True)
class FinetuneJob:
    """Every setting of one fine-tuning run.

    Attributes:
        data: the ``--data`` spec (see :mod:`rfnet.jobs.datasets`).
        out: the run folder.
        backbone: ``"scratch"`` or a saved model folder (see the module docstring).
        model: one of :data:`MODELS`, for ``backbone="scratch"``.
        freeze_up_to: AlexNet layer (``conv1`` … ``fc7``) up to which the backbone is frozen.
        lr: base learning rate (AdamW); ``lr_backbone`` (conv1-fc7) and ``lr_head`` (fc8) override it for
            the AlexNet models.
        weight_decay: AdamW's decoupled weight decay.
        epochs, batch_size: training length (at most: the recipe may stop early) and micro-batch
            (examples).
        lr_schedule: ``"constant"`` or ``"cosine"`` (decay over ``epochs``).
            ``lr``, ``weight_decay``, ``epochs``, ``batch_size``, ``lr_schedule``: ``None`` takes the value
            of the model's recipe (:data:`rfnet.jobs.recipes.RECIPES`), filled in by :func:`resolve_recipe`.
        classes: class subset, in label order; snr_range: ``(low_db, high_db)`` kept for training.
        per_class_snr, synth_snr_range, synth_snr_step_db: size of a generated preset.
        window_samples: samples per window cut from SigMF recordings.
        image_size: spectrogram side in pixels (``None``: :data:`DEFAULT_IMAGE_SIZE`); the backbone refuses
            a side below its minimum.
        imagenet_normalize: ImageNet mean/std on the spectrogram: what ImageNet-trained backbones saw, and
            for AlexNet from scratch (no batch norm) centred inputs that leave chance level sooner.
        adv_train: adversarial training (:mod:`rfnet.robustness.adversarial_training`): each training batch
            replaced by its perturbation under this attack (``fgm``, ``fgsm``, ``pgd``, ``pgd_linf``) at PSR
            ``adv_psr_db`` dB, PGD with ``adv_steps`` steps; ``None``: plain training.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...; seed: seeds the split, the model and training.
        resume: continue the interrupted run in ``out``.
        progress: show progress bars.
    """

    data: str
    out: str
    backbone: str = "scratch"
    model: str = "alexnet"
    freeze_up_to: str | None = None
    lr: float | None = None
    lr_backbone: float | None = None
    lr_head: float | None = None
    weight_decay: float | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr_schedule: str | None = None
    classes: tuple[str, ...] | None = None
    snr_range: tuple[float, float] | None = None
    per_class_snr: int | None = None
    synth_snr_range: tuple[int, int] | None = None
    synth_snr_step_db: int | None = None
    window_samples: int = 128
    image_size: int | None = None
    imagenet_normalize: bool = True
    adv_train: str | None = None
    adv_psr_db: float = -10.0
    adv_steps: int = 5
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    progress: bool = True

    def data_spec(self) -> DataSpec:
        return DataSpec(self.data, classes=self.classes, snr_range=self.snr_range,
                        window_samples=self.window_samples, per_class_snr=self.per_class_snr,
                        synth_snr_range=self.synth_snr_range, synth_snr_step_db=self.synth_snr_step_db,
                        seed=self.seed)


@dataclass(frozen=True)
class FinetuneOutcome:
    """What a run produced: the engine's result, the test report's metrics and the paths."""

    best_accuracy: float  # validation accuracy of the best epoch (fraction)
    best_epoch: int
    metrics: dict  # rfnet.evaluation.compute_metrics of the best model on the test split
    run_dir: Path
    best_dir: Path
    report_dir: Path


def finetune(job: FinetuneJob) -> FinetuneOutcome:
    """Open and split the data, build the model, train it, and report on the test split."""
    if job.model not in MODELS:
        raise ValueError(f"--arch {job.model!r}: choose one of {list(MODELS)}")
    out = Path(job.out)
    check_run_folder(out, job.resume)
    adversary = make_adversary(job.adv_train, job.adv_psr_db, pgd_steps=job.adv_steps) if job.adv_train else None
    data = open_in_class_order(job.data_spec(), _saved_classes(job.backbone), out)
    train_idx, val_idx, test_idx = data.split(job.seed)
    model, note = build_model(job, data)
    if note:
        print(note, flush=True)
    job, recipe = resolve_recipe(job, model)
    groups = _param_groups(job, model)
    config = TrainConfig(epochs=job.epochs, batch_size=job.batch_size, optimizer="adamw", lr=job.lr,
                         lr_schedule=job.lr_schedule, weight_decay=job.weight_decay,
                         early_stopping_patience=recipe.early_stopping_patience, monitor=recipe.monitor,
                         seed=job.seed, device=job.device, progress_bar=job.progress)
    out.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(model, data.subset(train_idx), data.subset(val_idx), config, out,
                      param_groups=groups, resume=job.resume, adversary=adversary)
    write_run_record(out, run_record(job, recipe, data), (train_idx, val_idx, test_idx))
    result = trainer.fit()
    best = load(result.paths["best"])
    metrics = evaluate_split(best, data.subset(val_idx), data.subset(test_idx), out / REPORT_DIR,
                             batch_size=max(job.batch_size, 256), device=trainer.device, title=model_name(best),
                             progress=job.progress)
    return FinetuneOutcome(result.best_accuracy, result.best_epoch, metrics, out, result.paths["best"],
                           out / REPORT_DIR)


def resolve_recipe(job: FinetuneJob, model: nn.Module) -> tuple[FinetuneJob, TrainingRecipe]:
    """``job`` with its unset (``None``) recipe options taken from ``model``'s recipe, and that recipe.

    A baseline (``model.arch`` ``vtcnn2`` / ``radioml_resnet``) has its own; every spectrogram classifier
    (scratch AlexNet, a saved backbone or classifier) trains with AlexNet's.
    """
    recipe = RECIPES[model.arch] if model.arch in BASELINE_MODELS else RECIPES["alexnet"]
    unset = {name: getattr(recipe, name) for name in RECIPE_OPTIONS if getattr(job, name) is None}
    return dataclasses.replace(job, **unset), recipe


def build_model(job: FinetuneJob, data: LabelledData) -> tuple[nn.Module, str | None]:
    """The model to train and, when the saved model's head was replaced, a note saying so."""
    classes = list(data.classes)
    if job.backbone == "scratch":
        if job.model in BASELINE_MODELS:
            _check_alexnet_options(job, job.model)
            return create_model(job.model, seed=job.seed, classes=classes, num_samples=data.num_samples,
                                sample_rate_hz=data.sample_rate_hz), None
        with torch_seeded(job.seed):
            model = SpectrogramClassifier(classes, _frontend(job, data), backbone=job.model,
                                          backbone_config={"init": "he"}, num_samples=data.num_samples,
                                          sample_rate_hz=data.sample_rate_hz)
        return model, None
    folder = Path(job.backbone)
    if not folder.is_dir():
        raise FileNotFoundError(f"--backbone {folder}: no such folder (give a saved model folder or 'scratch')")
    arch = read_config(folder)["arch"]
    saved = load(folder)
    if isinstance(saved, AlexNetBackbone):
        with torch_seeded(job.seed):  # the fresh head
            model = SpectrogramClassifier.from_backbone(saved, classes, _frontend(job, data),
                                                        num_samples=data.num_samples,
                                                        sample_rate_hz=data.sample_rate_hz)
        return model, None
    if isinstance(saved, SpectrogramClassifier):
        if list(saved.classes) == classes:  # the same model, recording the length it now trains on
            return SpectrogramClassifier(classes, saved.frontend.config, backbone=saved.backbone,
                                         num_samples=data.num_samples,
                                         sample_rate_hz=data.sample_rate_hz or saved.sample_rate_hz), None
        with torch_seeded(job.seed):
            model = SpectrogramClassifier.from_backbone(saved.backbone, classes, saved.frontend.config,
                                                        num_samples=data.num_samples,
                                                        sample_rate_hz=data.sample_rate_hz)
        return model, (f"--backbone {folder}: its classes {list(saved.classes)} are not the data's {classes}; "
                       "keeping its backbone and front end, with a new head for the data's classes")
    if arch in BASELINE_MODELS:
        _check_alexnet_options(job, arch)
        check_classes(saved, classes)
        if saved.num_samples != data.num_samples:
            raise ValueError(f"--backbone {folder}: {arch} takes {saved.num_samples}-sample examples; "
                             f"the data's have {data.num_samples}")
        return saved, None
    raise ValueError(f"--backbone {folder}: a saved {arch!r}, not an AlexNet backbone or a classifier")


def _saved_classes(backbone: str) -> list[str]:
    """The class names of a saved model folder, if it is one and has them (to label the data alike), else []."""
    if backbone == "scratch" or not (Path(backbone) / "config.json").is_file():
        return []
    classes = read_config(backbone)["config"].get("classes")
    return list(classes) if isinstance(classes, list) else []


def _frontend(job: FinetuneJob, data: LabelledData) -> SpectrogramConfig:
    side = DEFAULT_IMAGE_SIZE if job.image_size is None else job.image_size
    return SpectrogramConfig.for_length(data.num_samples, image_size=(side, side),
                                        imagenet_normalize=job.imagenet_normalize)


def _check_alexnet_options(job: FinetuneJob, model: str) -> None:
    given = [flag for flag, value in (("--freeze-up-to", job.freeze_up_to), ("--lr-backbone", job.lr_backbone),
                                      ("--lr-head", job.lr_head), ("--image-size", job.image_size))
             if value is not None]
    if given:
        raise ValueError(f"{', '.join(given)} apply to the AlexNet models only, not to {model}")


def _param_groups(job: FinetuneJob, model: nn.Module) -> list[dict] | None:
    if not isinstance(model, SpectrogramClassifier):
        return None
    model.freeze(job.freeze_up_to)
    groups = model.param_groups({"features": job.lr_backbone or job.lr, "head": job.lr_head or job.lr})
    if not groups:
        raise ValueError(f"--freeze-up-to {job.freeze_up_to}: nothing left to train")
    return groups


def run_record(job: FinetuneJob, recipe: TrainingRecipe, data: LabelledData) -> dict:
    """What ``job.json`` holds: the settings with the recipe's values filled in, the recipe, the data source,
    its classes and sizes."""
    return {"job": dataclasses.asdict(job), "recipe": dataclasses.asdict(recipe), "data_source": data.source,
            "classes": list(data.classes), "num_examples": len(data), "num_samples": data.num_samples}


def format_outcome(outcome: FinetuneOutcome) -> str:
    """A few lines for the terminal: best epoch, test accuracy overall and at high SNR, where things are."""
    m = outcome.metrics
    high = m["mean_accuracy_high_snr"]
    high_text = "n/a" if high is None or (isinstance(high, float) and math.isnan(high)) else f"{100 * high:.1f}%"
    return (f"best epoch {outcome.best_epoch}: validation accuracy {100 * outcome.best_accuracy:.1f}%\n"
            f"test accuracy {100 * m['accuracy']:.1f}% overall, {high_text} at SNR >= {m['high_snr_db']:g} dB "
            f"({m['num_examples']} examples)\n"
            f"best model: {outcome.best_dir}\nreport: {outcome.report_dir}")
