"""``rfnet evaluate``: a saved classifier on labelled IQ → ``metrics.json`` + RadioML-style figures.

    from rfnet.jobs.evaluate import EvaluateJob, evaluate
    metrics = evaluate(EvaluateJob(model="run/"))           # the run's own test split
    metrics = evaluate(EvaluateJob(model="run/best", data="other.h5", out="eval/"))

``model`` is a finetune run folder (its ``best/`` is evaluated) or a saved model folder. For a run folder
whose data is the data asked for (or when no data is given), the run's test split is evaluated and the
temperature is fitted on its validation split. Otherwise the whole dataset is used: a stratified
:data:`CALIBRATION_FRACTION` of it (seeded) fits the temperature and the rest is reported on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn
from torch.utils.data import Dataset

from rfnet.evaluation import accuracy_by_snr_table, accuracy_curve, fit_temperature, predict, write_report
from rfnet.jobs.datasets import DataSpec
from rfnet.jobs.run_folder import open_in_class_order, open_model
from rfnet.models import check_classes
from rfnet.train.distributed import resolve_device

CALIBRATION_FRACTION = 0.2
"""Share of a dataset (not from a run's split) held out to fit the temperature."""

EVALUATION_DIR = "evaluation"


@dataclass(frozen=True)
class EvaluateJob:
    """Settings of one evaluation.

    Attributes:
        model: a finetune run folder or a saved model folder.
        data: a ``--data`` spec (see :mod:`rfnet.jobs.datasets`); ``None``: the run's own data.
        out: report folder (default ``<run or model folder>/evaluation``).
        classes: class subset of the data, in the model's label order (default: the data's classes,
            reordered to the model's when they are the same names).
        snr_range: ``(low_db, high_db)`` kept.
        per_class_snr, seed: size and seed of a generated preset; window_samples: SigMF window length
            (default: the model's own input length, ``model.input_spec.num_samples``).
        batch_size, device, progress: how predictions run.
    """

    model: str
    data: str | None = None
    out: str | None = None
    classes: tuple[str, ...] | None = None
    snr_range: tuple[float, float] | None = None
    per_class_snr: int | None = None
    seed: int = 0
    window_samples: int | None = None
    batch_size: int = 256
    device: str = "auto"
    progress: bool = True


def evaluate(job: EvaluateJob) -> dict:
    """Run the evaluation, write the report, print a summary; return the metrics dict."""
    opened = open_model(job.model)
    model, record = opened.model, opened.run
    out = Path(job.out) if job.out else Path(job.model) / EVALUATION_DIR
    data_spec = job.data or (record.data_source if record else None)
    if data_spec is None:
        raise ValueError(f"--model {job.model}: not a finetune run folder, so give --data")
    spec = DataSpec(data_spec, classes=job.classes, snr_range=job.snr_range,
                    window_samples=opened.input_length(job.window_samples),
                    per_class_snr=job.per_class_snr, seed=job.seed)
    data = open_in_class_order(spec, model.classes, out)
    check_classes(model, data.classes)

    splits = record.splits_of(data) if record and job.classes is None and job.snr_range is None else None
    if splits is not None:
        calibration, test = data.subset(splits["validation"]), data.subset(splits["test"])
        scope = f"the run's test split ({len(splits['test'])} examples)"
    else:
        calibration_idx, test_idx = data.split(job.seed, (CALIBRATION_FRACTION, 1 - CALIBRATION_FRACTION))
        calibration, test = data.subset(calibration_idx), data.subset(test_idx)
        scope = (f"{len(test_idx)} examples of {data.source} (temperature fitted on the other "
                 f"{len(calibration_idx)})")
    name = model_name(model)
    metrics = evaluate_split(model, calibration, test, out, batch_size=job.batch_size,
                             device=resolve_device(job.device),
                             title=name, progress=job.progress)
    for note in opened.notes:
        print(f"note: {note}")
    print(f"evaluated {opened.folder} on {scope}")
    print(format_summary(metrics, name))
    print(f"report: {out}")
    return metrics


def evaluate_split(model: nn.Module, calibration: Dataset, test: Dataset, out: str | Path, *,
                   batch_size: int, device, title: str, progress: bool = True) -> dict:
    """Fit a temperature on ``calibration``'s predictions, write the report of ``test`` to ``out``."""
    fitted = predict(model, calibration, batch_size=batch_size, device=device, progress=progress)
    temperature = fit_temperature(fitted.logits, fitted.labels)
    predictions = predict(model, test, batch_size=batch_size, device=device, progress=progress)
    return write_report(predictions, list(model.classes), out, temperature=temperature, title=title)


def format_summary(metrics: dict, name: str) -> str:
    """Overall and high-SNR accuracy, calibration, and the accuracy-by-SNR table."""
    high = metrics["mean_accuracy_high_snr"]
    cal = metrics["calibration"]
    lines = [
        f"accuracy {100 * metrics['accuracy']:.1f}% over {metrics['num_examples']} examples; "
        + (f"mean {100 * high:.1f}% at SNR >= {metrics['high_snr_db']:g} dB" if high is not None
           else f"no examples at SNR >= {metrics['high_snr_db']:g} dB"),
        f"calibration: ECE {cal['ece']:.3f}; temperature {cal['temperature']:.3g} → ECE "
        f"{cal['ece_after_temperature']:.3f}",
        accuracy_by_snr_table({name: accuracy_curve(metrics)}, high_snr_db=metrics["high_snr_db"]),
    ]
    return "\n".join(lines)


def model_name(model: nn.Module) -> str:
    """A short name for titles: the backbone's arch for a spectrogram classifier, else the model's arch."""
    backbone = getattr(model, "backbone", None)
    return getattr(backbone, "arch", None) or getattr(model, "arch", type(model).__name__)

