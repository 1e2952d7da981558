"""APGD: auto-PGD on the cross-entropy (Croce & Hein 2020, the first attack of AutoAttack), in the IQ domain.

PGD whose step size needs no tuning: the step starts at twice the budget's radius and is halved, per
example, at checkpoints where the last stretch of iterations rarely raised the loss or where neither the
step nor the best loss changed; after a halving the example restarts from its best point. Steps carry
momentum (0.75 of the new gradient step, 0.25 of the previous move). Budgets as in
:mod:`rfnet.robustness.attacks`: L2 on the power budget, or L-inf on the box ``eps = sqrt(allowed / 2)``.
Per example the result is the first misclassified iterate, else the one of highest loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from rfnet.robustness.attacks import NORMS, _clamp_box, _sign_step
from rfnet.robustness.budget import allowed_power, scale_to_power
from rfnet.robustness.gradients import loss_gradient

MOMENTUM = 0.75
SUCCESS_SHARE = 0.75  # a stretch where fewer than this share of steps raised the loss halves the step


def checkpoints(iterations: int) -> list[int]:
    """Iterations at which the step size is reconsidered: ``ceil(p_j * iterations)`` for ``p_0 = 0``,
    ``p_1 = 0.22``, ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)``."""
    fractions = [0.0, 0.22]
    while fractions[-1] < 1:
        fractions.append(fractions[-1] + max(fractions[-1] - fractions[-2] - 0.03, 0.06))
    return sorted({math.ceil(p * iterations) for p in fractions if 0 < p < 1})


@dataclass(frozen=True)
class APGD:
    """Auto-PGD with ``steps`` iterations, L2 (``norm="l2"``) or L-inf (``"linf"``)."""

    norm: str = "l2"
    steps: int = 20
    name: str = "apgd"
    axis: str = "psr_db"
    kind: str = "white-box"

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"apgd: norm must be one of {NORMS}, got {self.norm!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 2:
            raise ValueError(f"apgd: steps must be an integer >= 2, got {self.steps!r}")

    def params(self) -> dict:
        return {"norm": self.norm, "steps": self.steps, "momentum": MOMENTUM, "success_share": SUCCESS_SHARE,
                "checkpoints": checkpoints(self.steps)}

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        power = allowed_power(iq, budget_db)
        radius = torch.sqrt(power if self.norm == "l2" else power / 2)  # RMS (L2) or per-component (L-inf)
        step = 2 * radius
        marks = checkpoints(self.steps)

        def project(delta: torch.Tensor) -> torch.Tensor:
            if self.norm == "linf":
                return _clamp_box(delta, radius.unsqueeze(-1))
            over = torch.view_as_real(delta).square().sum(-1).mean(-1) > power
            return torch.where(over.unsqueeze(-1), scale_to_power(delta, power), delta)

        def move(gradient: torch.Tensor) -> torch.Tensor:
            if self.norm == "linf":
                return step.unsqueeze(-1) * _sign_step(gradient)
            return scale_to_power(gradient, step.square())

        delta = torch.zeros_like(iq)
        result = loss_gradient(model, iq, labels)
        best, best_loss, fooled = delta.clone(), result.loss.clone(), ~result.correct
        previous, current_loss = delta, result.loss
        successes = torch.zeros_like(best_loss)
        last_mark, step_at_mark, best_at_mark = 0, step.clone(), best_loss.clone()
        for iteration in range(self.steps):
            candidate = project(delta + move(result.gradient))
            if iteration > 0:
                candidate = project(delta + MOMENTUM * (candidate - delta) + (1 - MOMENTUM) * (delta - previous))
            previous, delta = delta, candidate
            result = loss_gradient(model, iq + delta, labels)
            successes += (result.loss > current_loss).float()
            current_loss = result.loss
            improved = ~fooled & (~result.correct | (result.loss > best_loss))
            best[improved], best_loss[improved] = delta[improved], result.loss[improved]
            fooled |= ~result.correct
            if bool(fooled.all()):
                break
            if iteration + 1 in marks:
                stalled = (successes < SUCCESS_SHARE * (iteration + 1 - last_mark)) | (
                    (step == step_at_mark) & (best_loss == best_at_mark))
                step_at_mark, best_at_mark = step.clone(), best_loss.clone()
                step = torch.where(stalled, step / 2, step)
                restart = stalled.unsqueeze(-1)
                delta = torch.where(restart, best, delta)
                previous = torch.where(restart, best, previous)
                if bool(stalled.any()):
                    result = loss_gradient(model, iq + delta, labels)
                    current_loss = result.loss
                successes.zero_()
                last_mark = iteration + 1
        return best
