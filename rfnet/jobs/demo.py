"""``rfnet demo``: the main job end to end on data it makes itself.

Generates a small RadioML-2016-style dataset (the ``rml2016`` preset: 11 classes, 128 samples, its channel
model, fewer SNRs and examples), trains the AlexNet spectrogram classifier and the RadioML ResNet (raw IQ,
O'Shea et al. 2018) on the same split, evaluates both on the same test split and prints their accuracy by
SNR side by side. Everything lands in one folder: ``data.h5``, one finetune run per model (``alexnet/``,
``radioml_resnet/``, each with ``best/`` and ``report/``), ``accuracy_vs_snr.png`` (all curves) and
``summary.txt`` (the table).

The baseline is the ResNet rather than VT-CNN2: it is the stronger published raw-IQ model, and on a CPU it
trains about ten times faster per example (early-stopped by its recipe in about a minute here, where
VT-CNN2's epochs took most of the demo's time), so the comparison fits the demo's budget.

:meth:`DemoConfig.default` fits 10 minutes on 2 CPU cores (8.5 measured on two free cores);
:meth:`DemoConfig.quick` is a few seconds' smoke test. Other presets and models make the same job a benchmark: ``benchmarks/accuracy.py`` runs it
on ``rml2016`` and ``rml2018`` with AlexNet, VT-CNN2 and the RadioML ResNet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rfnet.data.atomic import atomic_output
from rfnet.evaluation import compare_reports
from rfnet.jobs.datasets import DataSpec, generate_preset
from rfnet.jobs.finetune import ALEXNET_MODELS, DEFAULT_IMAGE_SIZE, MODELS, FinetuneJob, finetune
from rfnet.train.engine import CHECKPOINT_FILE

COMPARISON_FIGURE = "accuracy_vs_snr.png"
SUMMARY_FILE = "summary.txt"
MODEL_NAMES = {"alexnet": "AlexNet", "alexnet_tv": "AlexNet (torchvision layout)", "vtcnn2": "VT-CNN2",
               "radioml_resnet": "RadioML ResNet"}
PRESET_TITLES = {"rml2016": "RadioML-2016-style", "rml2018": "RadioML-2018-style"}


@dataclass(frozen=True)
class DemoConfig:
    """Size of the demo.

    Attributes:
        preset: the synthetic preset generated (``"rml2016"``: 128 samples, 11 classes; ``"rml2018"``:
            1024 samples, 24 classes).
        models: the models trained and compared, finetune ``--arch`` names, in table order.
        per_class_snr: examples per (class, SNR) cell of the generated data.
        snr_min_db, snr_max_db, snr_step_db: the SNR grid (dB, both ends included).
        classes: modulation names (``None``: the preset's 11).
        epochs: training epochs of the AlexNet models (``None``: AlexNet's recipe, 10); baseline_epochs:
            the most epochs of the raw-IQ baselines, which stop early as their recipe says (``None``: their
            recipe's cap, 100).
        batch_size, lr: examples per step and AdamW learning rate of every model (``None``: each model's
            recipe, :data:`rfnet.jobs.recipes.RECIPES`).
        image_size: spectrogram side in pixels (finetune's default, 67: the paper AlexNet's minimum).
        checkpoints: keep each run's ``checkpoint.pt`` (optimizer state; ~0.7 GB for AlexNet) so it can be
            resumed; off by default, since the demo's runs are finished and ``best/`` holds the model.
        normalization: per-example scaling of the generated data (``rfnet.data.synthetic.NORMALIZATIONS``);
            ``None``: the preset's own, the convention of the real files (``rml2016``: magnitudes summing to
            1, as RadioML 2016.10a; ``rml2018``: unit power). Every model is gain-invariant (the front end
            and the baselines scale each example themselves), so any convention trains alike.
        seed: data, split and training seed; device: where training runs.
    """

    preset: str = "rml2016"
    models: tuple[str, ...] = ("alexnet", "radioml_resnet")
    per_class_snr: int = 240
    snr_min_db: int = -10
    snr_max_db: int = 18
    snr_step_db: int = 4
    classes: tuple[str, ...] | None = None
    epochs: int | None = 5
    baseline_epochs: int | None = 30
    batch_size: int | None = None
    lr: float | None = None
    image_size: int = DEFAULT_IMAGE_SIZE
    normalization: str | None = None
    checkpoints: bool = False
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.preset not in PRESET_TITLES:
            raise ValueError(f"preset {self.preset!r}: choose one of {list(PRESET_TITLES)}")
        unknown = [model for model in self.models if model not in MODELS]
        if unknown or not self.models or len(set(self.models)) != len(self.models):
            raise ValueError(f"models {list(self.models)}: give distinct names from {list(MODELS)}")

    @classmethod
    def default(cls) -> DemoConfig:
        """The no-argument demo: within 10 minutes on 2 CPU cores."""
        return cls()

    @classmethod
    def quick(cls) -> DemoConfig:
        """A smoke-test size (seconds): 3 classes, 2 SNRs, 1 epoch each."""
        return cls(per_class_snr=10, snr_min_db=6, snr_max_db=18, snr_step_db=12,
                   classes=("BPSK", "QPSK", "AM-DSB"), epochs=1, baseline_epochs=1, batch_size=16)


def run_demo(config: DemoConfig, out: str | Path, *, progress: bool = True) -> str:
    """Run the demo into folder ``out`` (must not hold an earlier run); return the side-by-side table."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"--out {out}: folder is not empty; choose a new one")
    started = time.monotonic()
    spec = DataSpec(config.preset, classes=config.classes, per_class_snr=config.per_class_snr,
                    synth_snr_range=(config.snr_min_db, config.snr_max_db),
                    synth_snr_step_db=config.snr_step_db, synth_normalization=config.normalization,
                    seed=config.seed)
    data_file = generate_preset(spec, out)
    reports = {}
    for model in config.models:
        spectrogram = model in ALEXNET_MODELS
        epochs = config.epochs if spectrogram else config.baseline_epochs
        length = "its recipe's epochs" if epochs is None else f"{epochs} epoch(s)"
        print(f"\n== {MODEL_NAMES[model]}: {length} ==", flush=True)
        job = FinetuneJob(data=str(data_file), out=str(out / model), model=model, lr=config.lr,
                          epochs=epochs, batch_size=config.batch_size, classes=config.classes,
                          image_size=config.image_size if spectrogram else None,
                          device=config.device, seed=config.seed, progress=progress)
        outcome = finetune(job)
        if not config.checkpoints:
            (outcome.run_dir / CHECKPOINT_FILE).unlink(missing_ok=True)
        reports[MODEL_NAMES[model]] = outcome.metrics
    table = compare_reports(reports, out / COMPARISON_FIGURE, title="Demo: accuracy vs SNR (test split)")
    minutes = (time.monotonic() - started) / 60
    summary = (f"Test accuracy (%) by SNR, synthetic {PRESET_TITLES[config.preset]} data, "
               f"{config.per_class_snr} examples per class and SNR (80/10/10 split):\n{table}\n"
               f"({minutes:.1f} min)")
    with atomic_output(out / SUMMARY_FILE) as temporary:
        temporary.write_text(summary + "\n")
    return summary

