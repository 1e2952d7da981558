"""The perturbation budget: how much power an attack or a jammer may add, enforced by the evaluator.

A budget is a ratio in dB on the power definition of :mod:`rfnet.dsp.power` (mean ``|x|^2`` per complex
sample, per example): PSR (perturbation-to-signal) for adversarial perturbations and noise, JSR
(jammer-to-signal) for jammers. An example ``x`` with budget ``r`` dB may receive any perturbation
``d`` with ``P(d) <= P(x) * 10 ** (r / 10)``; ``r = -inf`` allows nothing.

Attacks aim at their budget, but the evaluator does not trust them: :func:`enforce_budget` scales down
whatever exceeds the allowed power and measures the power ratio actually delivered.

A budget a user gives (``--psr``, ``--jsr``, ``--adv-psr``, ...) passes one rule, :func:`check_budget_db`:
a finite number of dB within :data:`BUDGET_LIMITS_DB`. A grid of them (``--psr -40:0:2``) is read by
:func:`parse_budget_grid`, which counts its points before making them.
"""

from __future__ import annotations

import math

import torch

from rfnet.dsp.power import db_to_ratio, per_example, ratio_to_db, signal_power

BUDGET_TOLERANCE = 1e-5
"""Relative excess of power over the budget that :func:`enforce_budget` lets through (float32 rounding)."""

BUDGET_LIMITS_DB = (-200.0, 200.0)
"""Budgets a user may give, dB, both ends included: a power ratio of 1e-20 to 1e20, beyond which a
perturbation is nothing or everything to float32 IQ (and 1e20 times a signal's power stays finite)."""

MAX_BUDGET_POINTS = 1000
"""Most budgets one grid may hold; each is a full sweep of the test set, so a grid larger than this is a
typing error (``-10:0:1e-9``), refused before it is built."""


def check_budget_db(value: float, option: str) -> float:
    """The one rule for a budget a user gives: a finite number of dB within :data:`BUDGET_LIMITS_DB`.
    Returns it as a float; ``ValueError`` naming ``option`` (e.g. ``"--adv-psr"``) otherwise."""
    low, high = BUDGET_LIMITS_DB
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{option} {value!r}: give a finite budget in dB within [{low:g}, {high:g}]")
    return float(value)


def check_budget_grid(budgets, option: str) -> tuple[float, ...]:
    """``budgets`` (dB) if they are 1 to :data:`MAX_BUDGET_POINTS` increasing values, each passing
    :func:`check_budget_db`; ``ValueError`` naming ``option`` otherwise."""
    budgets = tuple(budgets)
    if not budgets:
        raise ValueError(f"{option}: empty budget list")
    if len(budgets) > MAX_BUDGET_POINTS:
        raise ValueError(f"{option}: {len(budgets)} budgets, more than the {MAX_BUDGET_POINTS} a sweep may hold")
    checked = tuple(check_budget_db(value, option) for value in budgets)
    if any(later <= earlier for earlier, later in zip(checked, checked[1:])):
        raise ValueError(f"{option}: budgets must be increasing, got {list(checked)}")
    return checked


def parse_budget_grid(text: str, option: str) -> tuple[float, ...]:
    """``"start:stop:step"`` (dB, stop included) or a comma-separated list of dB values → increasing floats.

    The number of points of a range is counted before any is made, and more than
    :data:`MAX_BUDGET_POINTS` is refused; every value passes :func:`check_budget_db`. One ``ValueError``
    naming ``option`` for a malformed, empty, reversed, too fine or out-of-range grid.
    """
    usage = f"{option} {text!r}: give start:stop:step in dB (e.g. -40:0:2) or a list (-20,-10,0)"
    if ":" not in text:
        try:
            values = [float(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise ValueError(usage) from None
        return check_budget_grid(sorted(set(values)), option)
    try:
        start, stop, step = (float(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(usage) from None
    if not all(math.isfinite(part) for part in (start, stop, step)):
        raise ValueError(f"{option} {text}: start, stop and step must be finite")
    if step <= 0:
        raise ValueError(f"{option} {text}: the step must be positive")
    if stop < start:
        raise ValueError(f"{option} {text}: reversed range (stop {stop:g} < start {start:g}); write it low:high:step")
    check_budget_db(start, option)
    check_budget_db(stop, option)
    steps = (stop - start) / step  # inf for a subnormal step
    count = math.floor(steps + 1e-9) + 1 if math.isfinite(steps) else math.inf
    if count > MAX_BUDGET_POINTS:
        raise ValueError(f"{option} {text}: {count} budgets, more than the {MAX_BUDGET_POINTS} a sweep may hold; "
                         "use a coarser step")
    return check_budget_grid((round(start + i * step, 9) for i in range(count)), option)


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
