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
from rfnet.jobs.datasets import DataSpec, open_data
from rfnet.models import check_classes, load, read_config
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
            (default: the model's input length where it has one).
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
    from rfnet.jobs.finetune import read_run_record

    folder = Path(job.model)
    if not folder.is_dir():
        raise FileNotFoundError(f"--model {folder}: no such folder")
    run_record = None
    if (folder / "best").is_dir() and not (folder / "config.json").exists():
        run_record = read_run_record(folder)
        model_dir = folder / "best"
    else:
        model_dir = folder
        if folder.name == "best":
            run_record = read_run_record(folder.parent)
    read_config(model_dir)  # FileNotFoundError naming the folder when it is not a saved model
    model = load(model_dir)
    model_classes = list(getattr(model, "classes", []) or [])
    out = Path(job.out) if job.out else folder / EVALUATION_DIR

    data_spec = job.data
    run_data = run_record[0]["data_source"] if run_record else None
    if data_spec is None:
        if run_data is None:
            raise ValueError(f"--model {folder}: not a finetune run folder, so give --data")
        data_spec = run_data
    window = job.window_samples or (run_record[0]["num_samples"] if run_record else None)
    spec = DataSpec(data_spec, classes=job.classes, snr_range=job.snr_range,
                    window_samples=window or _input_length(model) or 128,
                    per_class_snr=job.per_class_snr, seed=job.seed)
    data = open_data(spec, out)
    if job.classes is None and sorted(data.classes) == sorted(model_classes) and list(data.classes) != model_classes:
        data = open_data(DataSpec(**{**spec.__dict__, "classes": tuple(model_classes)}), out)
    check_classes(model, data.classes)

    recorded = run_record[0] if run_record else None
    same_data = (recorded is not None and recorded["data_source"] == data.source
                 and recorded["num_examples"] == len(data) and job.classes is None and job.snr_range is None
                 and recorded["classes"] == list(data.classes))
    if same_data:
        splits = run_record[1]
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
    print(f"evaluated {model_dir} on {scope}")
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


def _input_length(model: nn.Module) -> int | None:
    config = getattr(model, "config", {}) or {}
    return config.get("num_samples")
