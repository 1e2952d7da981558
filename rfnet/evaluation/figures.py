"""Report figures in the style of the RadioML papers (O'Shea et al.), rendered off-screen to PNG.

Each function draws one figure and saves it as PNG to the path given (the caller chooses the name and
makes the write atomic). Figures are built with ``matplotlib.figure.Figure`` (the Agg canvas), not
pyplot: nothing opens a window, no global backend is switched, nothing is left registered in pyplot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from rfnet.evaluation.calibration import ReliabilityBins

DPI = 150
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _save(figure: Figure, path: str | os.PathLike) -> None:
    figure.savefig(path, format="png", dpi=DPI, bbox_inches="tight")


def plot_accuracy_vs_snr(
    curves: Mapping[str, Mapping[float, float]], path: str | os.PathLike, *, title: str | None = None
) -> None:
    """Classification accuracy (0..1) against SNR (dB), one marked line per model.

    Args:
        curves: model name → {SNR dB: accuracy}.
        path: PNG to write.
        title: figure title (default "Classification accuracy vs SNR").
    """
    figure = Figure(figsize=(7, 4.5))
    axes = figure.subplots()
    for i, (name, curve) in enumerate(curves.items()):
        snrs = sorted(curve)
        axes.plot(snrs, [curve[s] for s in snrs], marker=MARKERS[i % len(MARKERS)], label=name, clip_on=False)
    axes.set_xlabel("Signal to noise ratio (dB)")
    axes.set_ylabel("Classification accuracy")
    axes.set_ylim(0.0, 1.0)
    axes.grid(True, linestyle=":")
    axes.set_title(title or "Classification accuracy vs SNR")
    if len(curves) > 1:
        axes.legend(loc="lower right")
    _save(figure, path)


def plot_confusion_matrix(
    normalized: np.ndarray | Sequence[Sequence[float]], classes: Sequence[str], path: str | os.PathLike, *, title: str
) -> None:
    """A row-normalised confusion matrix (rows true, columns predicted, values 0..1) in Blues, with
    class names on both axes and a colour bar, as in O'Shea et al.'s figures.

    Args:
        normalized: float ``[C, C]``.
        classes: the ``C`` class names in index order.
    """
    size = max(5.0, 0.35 * len(classes) + 2.5)
    figure = Figure(figsize=(size, size))
    axes = figure.subplots()
    image = axes.imshow(normalized, interpolation="nearest", cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = np.arange(len(classes))
    axes.set_xticks(ticks, list(classes), rotation=45, ha="right", rotation_mode="anchor")
    axes.set_yticks(ticks, list(classes))
    axes.set_xlabel("Predicted label")
    axes.set_ylabel("True label")
    axes.set_title(title)
    _save(figure, path)


def plot_reliability(bins: ReliabilityBins, path: str | os.PathLike, *, title: str) -> None:
    """Reliability diagram: accuracy per confidence bin as bars against the diagonal of perfect
    calibration (empty bins drawn as no bar)."""
    edges = bins.edges.numpy()
    width = np.diff(edges)
    accuracy = np.nan_to_num(bins.accuracy.numpy(), nan=0.0)
    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    axes.bar(edges[:-1], accuracy, width=width, align="edge", edgecolor="black", label="Accuracy")
    axes.plot([0, 1], [0, 1], linestyle="--", color="gray", label="Perfect calibration")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("Confidence")
    axes.set_ylabel("Accuracy")
    axes.grid(True, linestyle=":")
    axes.legend(loc="upper left")
    axes.set_title(title)
    _save(figure, path)
