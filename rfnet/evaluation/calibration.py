"""Calibration: expected calibration error, reliability bins and temperature scaling.

Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks") divides the logits by
one scalar ``T > 0`` fitted on held-out (validation) predictions; it changes confidences, never the
predicted class.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from scipy.optimize import minimize_scalar

DEFAULT_NUM_BINS = 15
TEMPERATURE_BOUNDS = (0.01, 100.0)
"""The search range of :func:`fit_temperature` (dimensionless)."""


class ReliabilityBins(NamedTuple):
    """Per confidence bin ``b`` of ``M`` equal-width bins over ``(0, 1]`` (float64 / int64 ``[M]``).

    ``accuracy`` and ``confidence`` are NaN in empty bins.
    """

    edges: torch.Tensor  # float64 [M + 1], 0 .. 1
    accuracy: torch.Tensor  # fraction of correct predictions in the bin
    confidence: torch.Tensor  # mean max-probability in the bin
    count: torch.Tensor  # examples in the bin


def _check(logits: torch.Tensor, labels: torch.Tensor) -> None:
    if logits.ndim != 2 or labels.shape != (logits.shape[0],) or logits.shape[0] == 0:
        raise ValueError(
            f"logits must be [N, C] and labels [N] with N > 0, got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    if not torch.isfinite(logits).all():
        raise ValueError("logits contain NaN or infinite values")


def reliability_bins(
    logits: torch.Tensor, labels: torch.Tensor, *, num_bins: int = DEFAULT_NUM_BINS, temperature: float = 1.0
) -> ReliabilityBins:
    """Bin examples by confidence ``max softmax(logits / temperature)``.

    Bin ``b`` (0-based) holds confidences in ``(b/M, (b+1)/M]``; a confidence of exactly 0 cannot occur.

    Args:
        logits: float ``[N, C]``.
        labels: int64 ``[N]``, true classes.
    """
    _check(logits, labels)
    if num_bins < 1:
        raise ValueError(f"num_bins must be >= 1, got {num_bins}")
    probabilities = torch.softmax(logits.double() / temperature, dim=1)
    confidence, predicted = probabilities.max(dim=1)
    correct = (predicted == labels).double()
    index = (torch.ceil(confidence * num_bins).long() - 1).clamp(0, num_bins - 1)
    count = torch.bincount(index, minlength=num_bins)
    denominator = count.double()  # 0 in empty bins: 0 / 0 gives the NaN documented above
    return ReliabilityBins(
        edges=torch.linspace(0.0, 1.0, num_bins + 1, dtype=torch.float64),
        accuracy=torch.bincount(index, weights=correct, minlength=num_bins) / denominator,
        confidence=torch.bincount(index, weights=confidence, minlength=num_bins) / denominator,
        count=count,
    )


def expected_calibration_error(
    logits: torch.Tensor, labels: torch.Tensor, *, num_bins: int = DEFAULT_NUM_BINS, temperature: float = 1.0
) -> float:
    """Expected calibration error (Naeini et al. 2015; Guo et al. 2017), a fraction in ``[0, 1]``.

    With confidence ``p_i = max_c softmax(logits_i / T)_c``, the examples are split into ``M`` equal-width
    bins ``B_b = {i : p_i in (b/M, (b+1)/M]}`` and

        ECE = sum_b (|B_b| / N) * | accuracy(B_b) - mean confidence(B_b) |

    (empty bins contribute 0). 0 means confidence matches accuracy in every bin.

    Args:
        logits: float ``[N, C]``.
        labels: int64 ``[N]``.
        num_bins: ``M``.
        temperature: ``T`` dividing the logits.
    """
    bins = reliability_bins(logits, labels, num_bins=num_bins, temperature=temperature)
    filled = bins.count > 0
    weights = bins.count[filled].double() / bins.count.sum()
    return (weights * (bins.accuracy[filled] - bins.confidence[filled]).abs()).sum().item()


def negative_log_likelihood(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> float:
    """Mean cross-entropy (nats) of ``softmax(logits / temperature)`` at the true labels."""
    _check(logits, labels)
    return torch.nn.functional.cross_entropy(logits.double() / temperature, labels).item()


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature ``T`` minimising :func:`negative_log_likelihood` on these (validation) predictions.

    A bounded 1-D search (Brent's method) over ``log T`` within :data:`TEMPERATURE_BOUNDS`; the NLL is
    convex in ``1/T``, so the search finds the global minimum. ``T > 1`` softens over-confident logits.

    Args:
        logits: float ``[N, C]``, validation logits.
        labels: int64 ``[N]``.
    """
    _check(logits, labels)
    logits64 = logits.double()

    def nll_at(log_t: float) -> float:
        return torch.nn.functional.cross_entropy(logits64 / math.exp(log_t), labels).item()

    low, high = (math.log(b) for b in TEMPERATURE_BOUNDS)
    result = minimize_scalar(nll_at, bounds=(low, high), method="bounded", options={"xatol": 1e-6})
    return math.exp(result.x)
