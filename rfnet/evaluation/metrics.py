"""Accuracy metrics of :class:`~rfnet.evaluation.predictions.Predictions`: overall, per SNR, per class,
confusion matrices. Accuracies are fractions in ``[0, 1]``; SNRs in dB."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from rfnet.evaluation.predictions import Predictions

DEFAULT_HIGH_SNR_DB = 10.0
"""Examples at SNR >= this (dB) count as "high SNR", as RadioML papers report."""


class AccuracyCount(NamedTuple):
    """Accuracy (fraction; NaN when ``count`` is 0) over ``count`` examples."""

    accuracy: float
    count: int


def overall_accuracy(predictions: Predictions) -> float:
    """Fraction of all examples classified correctly."""
    return predictions.correct.double().mean().item()


def accuracy_by_snr(predictions: Predictions) -> dict[float, AccuracyCount]:
    """Accuracy and example count at each distinct SNR, keys sorted ascending (dB)."""
    result = {}
    for snr in torch.unique(predictions.snrs).tolist():
        correct = predictions.correct[predictions.snrs == snr]
        result[snr] = AccuracyCount(correct.double().mean().item(), correct.numel())
    return result


def accuracy_by_class(predictions: Predictions) -> list[AccuracyCount]:
    """Per true class ``c`` (index = class), the fraction of class-``c`` examples predicted ``c`` (recall)."""
    result = []
    for c in range(predictions.num_classes):
        correct = predictions.correct[predictions.labels == c]
        accuracy = correct.double().mean().item() if correct.numel() else math.nan
        result.append(AccuracyCount(accuracy, correct.numel()))
    return result


def confusion_matrix(predictions: Predictions, *, min_snr_db: float | None = None) -> torch.Tensor:
    """int64 ``[C, C]`` counts: row = true class, column = predicted class.

    Args:
        min_snr_db: count only examples with SNR >= this (dB); ``None`` counts all.
    """
    keep = torch.ones(len(predictions), dtype=torch.bool)
    if min_snr_db is not None:
        keep = predictions.snrs >= min_snr_db
    c = predictions.num_classes
    flat = predictions.labels[keep] * c + predictions.predicted[keep]
    return torch.bincount(flat, minlength=c * c).reshape(c, c)


def row_normalize(counts: torch.Tensor) -> torch.Tensor:
    """float64 ``[C, C]``: each row of a confusion matrix divided by its sum (rows that sum to 0 stay 0)."""
    totals = counts.sum(dim=1, keepdim=True).double()
    return counts.double() / totals.clamp(min=1)


def mean_accuracy_at_or_above(predictions: Predictions, threshold_db: float = DEFAULT_HIGH_SNR_DB) -> float | None:
    """Mean over the distinct SNRs >= ``threshold_db`` of the per-SNR accuracy (the accuracy-vs-SNR curve
    averaged over its high-SNR points, each SNR weighted equally); ``None`` if no SNR reaches it."""
    points = [a.accuracy for snr, a in accuracy_by_snr(predictions).items() if snr >= threshold_db]
    return sum(points) / len(points) if points else None
