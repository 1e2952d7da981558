"""An evaluation report: ``metrics.json`` plus figures, and side-by-side comparisons of several models."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

from rfnet.data.atomic import atomic_output
from rfnet.evaluation.calibration import DEFAULT_NUM_BINS, expected_calibration_error, reliability_bins
from rfnet.evaluation.figures import plot_accuracy_vs_snr, plot_confusion_matrix, plot_reliability
from rfnet.evaluation.metrics import (
    DEFAULT_HIGH_SNR_DB,
    accuracy_by_class,
    accuracy_by_snr,
    confusion_matrix,
    mean_accuracy_at_or_above,
    overall_accuracy,
    row_normalize,
)
from rfnet.evaluation.predictions import Predictions

METRICS_FILE = "metrics.json"
ACCURACY_FIGURE = "accuracy_vs_snr.png"
CONFUSION_ALL_FIGURE = "confusion_all.png"
CONFUSION_HIGH_SNR_FIGURE = "confusion_high_snr.png"
CALIBRATION_FIGURE = "calibration.png"


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def compute_metrics(
    predictions: Predictions,
    classes: Sequence[str],
    *,
    high_snr_db: float = DEFAULT_HIGH_SNR_DB,
    temperature: float | None = None,
    num_bins: int = DEFAULT_NUM_BINS,
    title: str | None = None,
) -> dict:
    """Every metric of the report as a JSON-able dict (accuracies are fractions; NaN written as null).

    Keys: ``title``, ``classes``, ``num_examples``, ``high_snr_db``, ``accuracy``,
    ``accuracy_by_snr`` (list of ``{snr_db, accuracy, count}``, SNR ascending),
    ``mean_accuracy_high_snr`` (mean of the per-SNR accuracies at SNR >= ``high_snr_db``; null if none),
    ``accuracy_by_class`` (list of ``{class, accuracy, count}``), ``confusion`` (``all`` and ``high_snr``,
    each ``{min_snr_db, counts [C][C], normalized [C][C]}``, rows true, columns predicted), and
    ``calibration`` (``num_bins``, ``ece``, ``temperature`` and ``ece_after_temperature`` — null when no
    temperature was given — and ``bins``: per confidence bin ``{low, high, count, accuracy, confidence}``).

    Args:
        classes: the ``C`` class names in label order; must match the number of logits.
        temperature: a temperature fitted on validation data (``fit_temperature``) to report ECE after.
    """
    classes = list(classes)
    if len(classes) != predictions.num_classes:
        raise ValueError(
            f"classes: {len(classes)} names given but the predictions score {predictions.num_classes} classes"
        )
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    confusion = {}
    for key, min_snr in (("all", None), ("high_snr", high_snr_db)):
        counts = confusion_matrix(predictions, min_snr_db=min_snr)
        confusion[key] = {
            "min_snr_db": min_snr,
            "counts": counts.tolist(),
            "normalized": row_normalize(counts).tolist(),
        }
    logits, labels = predictions.logits, predictions.labels
    bins = reliability_bins(logits, labels, num_bins=num_bins)
    return {
        "title": title,
        "classes": classes,
        "num_examples": len(predictions),
        "high_snr_db": high_snr_db,
        "accuracy": overall_accuracy(predictions),
        "accuracy_by_snr": [
            {"snr_db": snr, "accuracy": a.accuracy, "count": a.count} for snr, a in accuracy_by_snr(predictions).items()
        ],
        "mean_accuracy_high_snr": mean_accuracy_at_or_above(predictions, high_snr_db),
        "accuracy_by_class": [
            {"class": name, "accuracy": _finite_or_none(a.accuracy), "count": a.count}
            for name, a in zip(classes, accuracy_by_class(predictions))
        ],
        "confusion": confusion,
        "calibration": {
            "num_bins": num_bins,
            "ece": expected_calibration_error(logits, labels, num_bins=num_bins),
            "temperature": temperature,
            "ece_after_temperature": None
            if temperature is None
            else expected_calibration_error(logits, labels, num_bins=num_bins, temperature=temperature),
            "bins": [
                {
                    "low": low,
                    "high": high,
                    "count": count,
                    "accuracy": _finite_or_none(acc),
                    "confidence": _finite_or_none(conf),
                }
                for low, high, count, acc, conf in zip(
                    bins.edges[:-1].tolist(), bins.edges[1:].tolist(), bins.count.tolist(),
                    bins.accuracy.tolist(), bins.confidence.tolist(),
                )
            ],
        },
    }


def accuracy_curve(metrics: Mapping) -> dict[float, float]:
    """{SNR dB: accuracy} from a :func:`compute_metrics` dict (or a loaded ``metrics.json``)."""
    return {row["snr_db"]: row["accuracy"] for row in metrics["accuracy_by_snr"]}


def write_report(
    predictions: Predictions,
    classes: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    high_snr_db: float = DEFAULT_HIGH_SNR_DB,
    temperature: float | None = None,
    title: str | None = None,
) -> dict:
    """Write ``metrics.json`` (see :func:`compute_metrics`), ``accuracy_vs_snr.png``,
    ``confusion_all.png``, ``confusion_high_snr.png`` and ``calibration.png`` into ``out_dir``.

    All files are written to temporary names first and renamed only once every one is complete, so a
    failure leaves no partial output (earlier files of the same names stay as they were).
    ``metrics.json`` is renamed last. ``out_dir`` is created if missing. Returns the metrics dict.
    """
    metrics = compute_metrics(predictions, classes, high_snr_db=high_snr_db, temperature=temperature, title=title)

    def heading(text: str) -> str:
        return f"{title}: {text}" if title else text[0].upper() + text[1:]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:  # renames run in reverse order of entry, and only if nothing raised
        metrics_path = stack.enter_context(atomic_output(out / METRICS_FILE))
        plot_accuracy_vs_snr(
            {title or "model": accuracy_curve(metrics)},
            stack.enter_context(atomic_output(out / ACCURACY_FIGURE)),
            title=heading("classification accuracy vs SNR"),
        )
        for key, filename, label in (
            ("all", CONFUSION_ALL_FIGURE, "all SNRs"),
            ("high_snr", CONFUSION_HIGH_SNR_FIGURE, f"SNR >= {high_snr_db:g} dB"),
        ):
            plot_confusion_matrix(
                metrics["confusion"][key]["normalized"],
                classes,
                stack.enter_context(atomic_output(out / filename)),
                title=heading(f"confusion matrix ({label})"),
            )
        plot_reliability(
            reliability_bins(predictions.logits, predictions.labels, num_bins=metrics["calibration"]["num_bins"]),
            stack.enter_context(atomic_output(out / CALIBRATION_FIGURE)),
            title=heading(f"reliability (ECE {metrics['calibration']['ece']:.3f})"),
        )
        metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def accuracy_by_snr_table(
    results: Mapping[str, Mapping[float, float]], *, high_snr_db: float = DEFAULT_HIGH_SNR_DB
) -> str:
    """A text table of accuracy (percent) by SNR: one row per SNR, one column per model, and a last row
    with each model's mean accuracy over SNR >= ``high_snr_db`` (equal weight per SNR). A model without
    a value at some SNR shows ``-`` there.

    Args:
        results: model name → {SNR dB: accuracy fraction}, e.g. from :func:`accuracy_curve`.
    """
    if not results:
        raise ValueError("accuracy_by_snr_table: no models given")
    names = list(results)
    snrs = sorted({snr for curve in results.values() for snr in curve})
    first_header = "SNR (dB)"
    mean_label = f"mean >= {high_snr_db:g} dB"
    first_width = max(len(first_header), len(mean_label))
    widths = [max(len(n), 6) for n in names]

    def cell(value: float | None, width: int) -> str:
        return f"{'-' if value is None else f'{100 * value:.1f}':>{width}}"

    def row(label: str, values: list[float | None]) -> str:
        return "  ".join([f"{label:>{first_width}}"] + [cell(v, w) for v, w in zip(values, widths)])

    lines = ["  ".join([f"{first_header:>{first_width}}"] + [f"{n:>{w}}" for n, w in zip(names, widths)])]
    lines.append("-" * len(lines[0]))
    lines += [row(f"{snr:g}", [results[n].get(snr) for n in names]) for snr in snrs]
    lines.append("-" * len(lines[0]))
    means = []
    for n in names:
        high = [a for snr, a in results[n].items() if snr >= high_snr_db]
        means.append(sum(high) / len(high) if high else None)
    lines.append(row(mean_label, means))
    return "\n".join(lines)


def compare_reports(
    reports: Mapping[str, str | os.PathLike | Mapping],
    out_path: str | os.PathLike,
    *,
    high_snr_db: float = DEFAULT_HIGH_SNR_DB,
    title: str | None = None,
) -> str:
    """One accuracy-vs-SNR figure with every model's curve, written atomically to ``out_path`` (PNG);
    returns :func:`accuracy_by_snr_table` of the same curves.

    Args:
        reports: model name → a report folder (holding ``metrics.json``), a ``metrics.json`` path, or a
            metrics dict from :func:`write_report` / :func:`compute_metrics`.
    """
    curves = {name: accuracy_curve(_load_metrics(report)) for name, report in reports.items()}
    if not curves:
        raise ValueError("compare_reports: no reports given")
    with atomic_output(out_path) as temporary:
        plot_accuracy_vs_snr(curves, temporary, title=title or "Classification accuracy vs SNR")
    return accuracy_by_snr_table(curves, high_snr_db=high_snr_db)


def _load_metrics(report: str | os.PathLike | Mapping) -> Mapping:
    if isinstance(report, Mapping):
        return report
    path = Path(report)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no evaluation report here (expected {METRICS_FILE})")
    try:
        metrics = json.loads(path.read_text())
        accuracy_curve(metrics)
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not an rfnet metrics.json ({error})") from None
    return metrics
