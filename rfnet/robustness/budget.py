"""The perturbation budget: how much power an attack or a jammer may add, enforced by the evaluator.

A budget is a ratio in dB on the power definition of :mod:`rfnet.dsp.power` (mean ``|x|^2`` per complex
sample, per example): PSR (perturbation-to-signal) for adversarial perturbations and noise, JSR
(jammer-to-signal) for jammers. An example ``x`` with budget ``r`` dB may receive any perturbation
``d`` with ``P(d) <= P(x) * 10 ** (r / 10)``; ``r = -inf`` allows nothing.

Attacks aim at their budget, but the evaluator does not trust them: :func:`enforce_budget` scales down
whatever exceeds the allowed power and measures the power ratio actually delivered.
"""

from __future__ import annotations

import math

import torch

from rfnet.dsp.power import db_to_ratio, per_example, ratio_to_db, signal_power

BUDGET_TOLERANCE = 1e-5
"""Relative excess of power over the budget that :func:`enforce_budget` lets through (float32 rounding)."""


def allowed_power(iq: torch.Tensor, budget_db: float | torch.Tensor) -> torch.Tensor:
    """Perturbation power each example may receive: ``P(iq) * 10 ** (budget_db / 10)``.

    iq: complex64 ``[B, N]``; budget_db: a number (``-inf`` allowed: no power) or float ``[B]``.
    Returns float32 ``[B]`` (linear power units, as :func:`rfnet.dsp.power.signal_power`).
    """
    if not isinstance(budget_db, torch.Tensor) and float(budget_db) == -math.inf:
        return torch.zeros(iq.shape[0], device=iq.device)
    budget = per_example(budget_db, iq.shape[0], "budget_db", iq.device)
    return signal_power(iq) * db_to_ratio(budget)


def scale_to_power(direction: torch.Tensor, power: torch.Tensor) -> torch.Tensor:
    """``direction`` scaled per example to power ``power`` (float ``[B]``); zero rows stay zero.

    direction: complex64 ``[B, N]`` (or ``[N]``, broadcast over the batch). Returns complex64 ``[B, N]``.
    Rows are first divided by their largest component, so tiny (even subnormal) gradients scale without
    overflow.
    """
    rows = direction if direction.dim() == 2 else direction.unsqueeze(0)
    parts = torch.view_as_real(rows)
    peak = parts.abs().amax(dim=(-2, -1))
    nonzero = peak > 0
    # Divide I and Q as reals: complex division by a subnormal number underflows into NaN.
    unit_parts = parts / torch.where(nonzero, peak, torch.ones_like(peak))[:, None, None]
    unit = torch.view_as_complex(unit_parts.contiguous())
    current = unit_parts.square().sum(-1).mean(-1)  # >= 1 / N on non-zero rows
    gain = torch.where(nonzero, torch.sqrt(power / torch.where(nonzero, current, torch.ones_like(current))),
                       torch.zeros_like(current))
    return unit * gain.unsqueeze(-1)


def enforce_budget(iq: torch.Tensor, perturbation: torch.Tensor,
                   budget_db: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Clip a perturbation to its budget and measure what it delivers.

    iq, perturbation: complex64 ``[B, N]``. Rows whose power exceeds the budget (by more than
    :data:`BUDGET_TOLERANCE`) are scaled down onto it; rows within it are returned unchanged.
    Returns ``(perturbation', delivered_db)``: complex64 ``[B, N]`` and float32 ``[B]`` — the delivered
    ratio ``10 log10(P(perturbation') / P(iq))`` in dB, ``-inf`` where nothing was added.
    """
    if perturbation.shape != iq.shape:
        raise ValueError(f"perturbation shape {tuple(perturbation.shape)} differs from the input's "
                         f"{tuple(iq.shape)}")
    limit = allowed_power(iq, budget_db)
    power = signal_power(perturbation)
    over = power > limit * (1 + BUDGET_TOLERANCE)
    clipped = torch.where(over.unsqueeze(-1), scale_to_power(perturbation, limit), perturbation)
    return clipped, delivered_db(iq, clipped)


def delivered_db(iq: torch.Tensor, perturbation: torch.Tensor) -> torch.Tensor:
    """``10 log10(P(perturbation) / P(iq))`` per example, float32 ``[B]`` (``-inf`` for a zero row)."""
    return ratio_to_db(signal_power(perturbation) / signal_power(iq))
