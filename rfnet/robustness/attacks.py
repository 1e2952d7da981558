"""Attacks in the IQ domain: each gives a perturbation of complex baseband IQ within a power budget.

Every attack is an object with

- ``name``, ``axis`` (``"psr_db"``: the budget is a PSR; ``"jsr_db"``: a JSR) and ``kind``
  (``"white-box"``, ``"universal"``, ``"transfer"`` or ``"reference"`` for noise and jammers);
- ``params()``: its hyper-parameters, JSON-able, for the report;
- ``perturbation(model, iq, labels, budget_db, generator) -> delta``: ``iq`` complex64 ``[B, N]`` (never
  modified), ``labels`` int64 ``[B]``, ``budget_db`` float32 ``[B]`` (dB, finite), a ``torch.Generator``
  for any random draw; returns complex64 ``[B, N]``, aimed at ``P(delta) = P(iq) * 10 ** (budget_db / 10)``
  (:mod:`rfnet.robustness.budget`). The evaluator clips and measures what it delivers.

This module holds the gradient attacks on the loss of a white-box model — FGM (L2, the attack
Sadeghi & Larsson 2018 used on RadioML), FGSM (L-inf) and PGD (L2 or L-inf, random start, restarts, a
step schedule) — and the Gaussian-noise reference at the same power. The L-inf attacks bound each of
I and Q by ``eps = sqrt(allowed power / 2)``, the largest box inside the power budget, whose corners
spend exactly the budget.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from rfnet.dsp.power import complex_gaussian_noise
from rfnet.robustness.budget import allowed_power, scale_to_power
from rfnet.robustness.gradients import loss_gradient

NORMS = ("l2", "linf")
SCHEDULES = ("constant", "cosine")


def _linf_radius(iq: torch.Tensor, budget_db: torch.Tensor) -> torch.Tensor:
    """Per-component bound ``eps`` ``[B, 1]`` whose box corners have exactly the allowed power."""
    return torch.sqrt(allowed_power(iq, budget_db) / 2).unsqueeze(-1)


def _sign_step(gradient: torch.Tensor) -> torch.Tensor:
    """``sign(Re g) + i sign(Im g)``: the L-inf steepest-ascent direction, complex64 like ``gradient``."""
    return torch.view_as_complex(torch.sign(torch.view_as_real(gradient)).contiguous())


def _clamp_box(delta: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Each of I and Q of ``delta`` clamped to ``[-eps, eps]`` (``eps`` ``[B, 1]``)."""
    parts = torch.view_as_real(delta)
    bound = eps.unsqueeze(-1)
    return torch.view_as_complex(torch.maximum(torch.minimum(parts, bound), -bound).contiguous())


@dataclass(frozen=True)
class FGM:
    """Fast gradient method, L2: one step along the loss gradient, scaled to the whole budget."""

    name: str = "fgm"
    axis: str = "psr_db"
    kind: str = "white-box"

    def params(self) -> dict:
        return {"norm": "l2", "steps": 1}

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        gradient = loss_gradient(model, iq, labels).gradient
        return scale_to_power(gradient, allowed_power(iq, budget_db))


@dataclass(frozen=True)
class FGSM:
    """Fast gradient sign method, L-inf: ``eps * (sign(Re g) + i sign(Im g))``."""

    name: str = "fgsm"
    axis: str = "psr_db"
    kind: str = "white-box"

    def params(self) -> dict:
        return {"norm": "linf", "steps": 1}

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        gradient = loss_gradient(model, iq, labels).gradient
        return _linf_radius(iq, budget_db) * _sign_step(gradient)


@dataclass(frozen=True)
class PGD:
    """Projected gradient descent (Madry et al. 2018) on the cross-entropy, L2 or L-inf.

    Attributes:
        norm: ``"l2"`` (steps along the normalised gradient, projected onto the power budget) or
            ``"linf"`` (sign steps, clamped to the box of :func:`_linf_radius`).
        steps: gradient steps per restart.
        restarts: independent runs; each example keeps its worst case over all of them.
        step_size: step length as a fraction of the budget's radius (L2: of ``sqrt(allowed power)``;
            L-inf: of ``eps``). The default ``2.5 / steps`` is Madry et al.'s rule.
        schedule: ``"constant"`` or ``"cosine"`` (step length decays to zero over the steps).
        random_start: start each restart from a random point of the budget (else restart 0 starts at
            the clean input and only later restarts are random).

    Per example the result is the first iterate that is misclassified, else the one of highest loss;
    examples already misclassified are not stepped further (that saves most of the work at high budgets).
    """

    norm: str = "l2"
    steps: int = 10
    restarts: int = 1
    step_size: float | None = None
    schedule: str = "constant"
    random_start: bool = True
    name: str = "pgd"
    axis: str = "psr_db"
    kind: str = "white-box"

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"pgd: norm must be one of {NORMS}, got {self.norm!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"pgd: schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        for field in ("steps", "restarts"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"pgd: {field} must be a positive integer, got {value!r}")
        if self.step_size is not None and not (math.isfinite(self.step_size) and self.step_size > 0):
            raise ValueError(f"pgd: step_size must be a positive number, got {self.step_size!r}")

    def params(self) -> dict:
        params = {k: v for k, v in asdict(self).items() if k not in ("name", "axis", "kind")}
        params["step_size"] = self.relative_step
        return params

    @property
    def relative_step(self) -> float:
        return self.step_size if self.step_size is not None else 2.5 / self.steps

    def step_length(self, step: int) -> float:
        """Fraction of the radius moved at ``step`` (0-based) under the schedule."""
        if self.schedule == "cosine":
            return self.relative_step * 0.5 * (1 + math.cos(math.pi * step / self.steps))
        return self.relative_step

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        power = allowed_power(iq, budget_db)
        best = torch.zeros_like(iq)
        best_loss = torch.full((iq.shape[0],), -math.inf, device=iq.device)
        fooled = torch.zeros(iq.shape[0], dtype=torch.bool, device=iq.device)
        for restart in range(self.restarts):
            start = self._start(iq, power, generator) if (self.random_start or restart > 0) else torch.zeros_like(iq)
            self._run(model, iq, labels, power, start, best, best_loss, fooled)
        return best

    def _start(self, iq: torch.Tensor, power: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch, samples = iq.shape
        if self.norm == "l2":
            direction = complex_gaussian_noise(batch, samples, 1.0, generator=generator, device=iq.device)
            fraction = torch.rand(batch, generator=generator, device=generator.device).to(iq.device)
            return scale_to_power(direction, power * fraction.square())
        eps = torch.sqrt(power / 2).unsqueeze(-1).unsqueeze(-1)
        box = torch.rand(batch, samples, 2, generator=generator, device=generator.device).to(iq.device)
        return torch.view_as_complex(((2 * box - 1) * eps).contiguous())

    def _run(self, model, iq, labels, power, delta, best, best_loss, fooled) -> None:
        """One restart from ``delta``; updates ``best``, ``best_loss`` and ``fooled`` in place."""
        for step in range(self.steps + 1):
            active = torch.nonzero(~fooled).flatten()
            if active.numel() == 0:
                return
            current = delta[active]
            result = loss_gradient(model, iq[active] + current, labels[active])
            better = ~result.correct | (result.loss > best_loss[active])
            chosen = active[better]
            best[chosen] = current[better]
            best_loss[chosen] = result.loss[better]
            fooled[active] |= ~result.correct
            if step < self.steps:
                delta[active] = self._step(current, result.gradient, power[active], self.step_length(step))

    def _step(self, delta: torch.Tensor, gradient: torch.Tensor, power: torch.Tensor, length: float) -> torch.Tensor:
        if self.norm == "l2":
            moved = delta + scale_to_power(gradient, power * length**2)
            over = torch.view_as_real(moved).square().sum(-1).mean(-1) > power
            return torch.where(over.unsqueeze(-1), scale_to_power(moved, power), moved)
        eps = torch.sqrt(power / 2).unsqueeze(-1)
        return _clamp_box(delta + length * eps * _sign_step(gradient), eps)


@dataclass(frozen=True)
class GaussianNoise:
    """The reference: circular complex Gaussian noise at exactly the budget's power (per example)."""

    name: str = "noise"
    axis: str = "psr_db"
    kind: str = "reference"

    def params(self) -> dict:
        return {"distribution": "circular complex Gaussian"}

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        noise = complex_gaussian_noise(*iq.shape, 1.0, generator=generator, device=iq.device)
        return scale_to_power(noise, allowed_power(iq, budget_db))
