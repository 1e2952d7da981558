"""The evaluator: a model's accuracy under an attack at each budget of a sweep, budgets enforced here.

Conventions (those of AutoAttack / RobustBench): the model is put in eval mode and must return logits;
examples it already misclassifies count as errors at every budget and are not attacked; every
perturbation goes through :func:`rfnet.robustness.budget.enforce_budget`, which clips it to the budget
and measures the PSR / JSR it delivered; the evaluator keeps each example's outcome, so the worst case
over several attacks is taken per example (:func:`worst_case`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from rfnet.robustness.gradients import checked_logits, loss_gradient
from rfnet.robustness.perturb import apply_attack
from rfnet.robustness.registry import ADVERSARIAL_ATTACKS, ATTACK_NAMES
from rfnet.seeding import seed_for


@dataclass(eq=False)  # compared by identity: the per-example tensor has no single truth value
class CurvePoint:
    """One budget of a sweep.

    db: the budget asked for (dB). accuracy: fraction of all examples still classified correctly.
    examples: examples evaluated; attacked: those correct on clean input (the others count as errors).
    delivered_db / delivered_db_min / delivered_db_max: mean, lowest and highest ratio delivered (dB),
        over attacked examples that received a non-zero perturbation (``None`` if none did).
    zero_perturbation: attacked examples that received nothing (e.g. their gradient was zero).
    correct: bool ``[examples]``, per-example outcome (kept for the worst case, not reported).
    """

    db: float
    accuracy: float
    examples: int
    attacked: int
    delivered_db: float | None
    delivered_db_min: float | None
    delivered_db_max: float | None
    zero_perturbation: int
    correct: torch.Tensor = field(repr=False)

    def to_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "correct"}


@dataclass(eq=False)
class Curve:
    """Accuracy of ``model`` against ``attack`` (of ``kind``) over budgets on ``axis`` (``psr_db``/``jsr_db``)."""

    model: str
    attack: str
    axis: str
    kind: str
    points: list[CurvePoint]

    def to_dict(self) -> dict:
        return {"model": self.model, "attack": self.attack, "axis": self.axis, "kind": self.kind,
                "points": [point.to_dict() for point in self.points]}

    def accuracy_at(self, db: float) -> float | None:
        return next((point.accuracy for point in self.points if point.db == db), None)


def batches(count: int, batch_size: int):
    """``(batch_index, slice)`` pairs covering ``range(count)``."""
    for index, start in enumerate(range(0, count, batch_size)):
        yield index, slice(start, min(start + batch_size, count))


@torch.no_grad()
def clean_correct(model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, batch_size: int) -> torch.Tensor:
    """bool ``[M]``: which examples ``model`` (put in eval mode) classifies correctly without attack."""
    model.eval()
    parts = [checked_logits(model, iq[rows]).argmax(1) == labels[rows] for _, rows in batches(len(labels), batch_size)]
    return torch.cat(parts)


def count_zero_gradients(model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, batch_size: int) -> int:
    """Examples whose loss gradient with respect to the input is exactly zero at the clean input."""
    model.eval()
    return sum(int(loss_gradient(model, iq[rows], labels[rows]).zero.sum())
               for _, rows in batches(len(labels), batch_size))


def sweep(model: nn.Module, model_name: str, attack, iq: torch.Tensor, labels: torch.Tensor,
          budgets_db, *, clean: torch.Tensor, batch_size: int, seed: int, progress=None) -> Curve:
    """``model``'s accuracy under ``attack`` at each budget of ``budgets_db`` (dB, finite).

    iq: complex64 ``[M, N]`` on the model's device (not modified); labels: int64 ``[M]``; clean: bool
    ``[M]`` from :func:`clean_correct`. Random draws come from generators seeded by ``(seed, attack,
    budget index, batch)``: the same for every model, so noise and jammers are identical across models.
    ``progress``: a tqdm bar advanced once per budget.
    """
    model.eval()
    targets = torch.nonzero(clean).flatten()
    stream = ATTACK_NAMES.index(attack.name) if attack.name in ATTACK_NAMES else len(ATTACK_NAMES)
    points = []
    for budget_index, db in enumerate(budgets_db):
        correct = clean.clone()
        delivered = []
        for batch_index, rows in batches(len(targets), batch_size):
            chosen = targets[rows]
            x, y = iq[chosen], labels[chosen]
            generator = torch.Generator(device=iq.device).manual_seed(
                seed_for(seed, stream, budget_index, batch_index))
            budget = torch.full((len(chosen),), float(db), device=iq.device)
            delta, delivered_now = apply_attack(attack, model, x, y, budget, generator)
            with torch.no_grad():
                correct[chosen] = checked_logits(model, x + delta).argmax(1) == y
            delivered.append(delivered_now)
        points.append(_point(float(db), correct, len(targets), torch.cat(delivered) if delivered else None))
        if progress is not None:
            progress.update(1)
    return Curve(model_name, attack.name, attack.axis, attack.kind, points)


def _point(db: float, correct: torch.Tensor, attacked: int, delivered: torch.Tensor | None) -> CurvePoint:
    finite = delivered[torch.isfinite(delivered)].double() if delivered is not None else torch.zeros(0)
    stats = (float(finite.mean()), float(finite.min()), float(finite.max())) if len(finite) else (None, None, None)
    return CurvePoint(db, float(correct.float().mean()), len(correct), attacked, *stats,
                      zero_perturbation=attacked - len(finite), correct=correct.cpu())


def worst_case(curves: list[Curve], attacks=ADVERSARIAL_ATTACKS, name: str = "worst_case") -> Curve | None:
    """Per example and budget, correct only if correct under every attack of ``curves`` named in
    ``attacks`` (one model's curves, PSR axis): the curve ``name``. ``None`` unless at least one such
    curve exists and all share the budgets; a single curve is returned as it is."""
    chosen = [curve for curve in curves if curve.attack in attacks and curve.axis == "psr_db"]
    if len(chosen) < 2:
        return chosen[0] if chosen else None
    budgets = [point.db for point in chosen[0].points]
    if any([point.db for point in curve.points] != budgets for curve in chosen):
        return None
    points = []
    for index, db in enumerate(budgets):
        correct = torch.stack([curve.points[index].correct for curve in chosen]).all(0)
        points.append(CurvePoint(db, float(correct.float().mean()), len(correct), chosen[0].points[index].attacked,
                                 None, None, None, 0, correct))
    return Curve(chosen[0].model, name, "psr_db", "worst-case", points)


def accuracy_under(model: nn.Module, attack, iq: torch.Tensor, labels: torch.Tensor, db: float, *,
                   clean: torch.Tensor, batch_size: int, seed: int) -> float:
    """Accuracy under ``attack`` at the single budget ``db`` (the self-checks' extra runs)."""
    if not math.isfinite(db):
        raise ValueError(f"budget must be finite, got {db}")
    curve = sweep(model, "", attack, iq, labels, [db], clean=clean, batch_size=batch_size, seed=seed)
    return curve.points[0].accuracy
