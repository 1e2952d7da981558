"""One attack or jammer applied to one batch, budget enforced: :func:`perturb` (by name, the library entry
point) and :func:`apply_attack` (a built attack; what the sweep, ``perturb`` and adversarial training share)."""

from __future__ import annotations

import math

import torch
from torch import nn

from rfnet.dsp.power import check_iq, per_example
from rfnet.robustness.budget import enforce_budget
from rfnet.robustness.registry import PER_INPUT_ATTACKS, JSR_ATTACKS, build_attack

PERTURB_NAMES = PER_INPUT_ATTACKS + ("noise",) + JSR_ATTACKS


def perturb(name: str, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor,
            budget_db: float | torch.Tensor, *, seed: int = 0, **attack_options) -> torch.Tensor:
    """``iq`` plus the perturbation of attack or jammer ``name`` at ``budget_db``.

    name: one of :data:`PERTURB_NAMES` — fgm, fgsm, pgd (L2), pgd_linf, apgd (L2), apgd_linf, noise
        (budget is a PSR) or a
        jammer: tone, barrage, partial_band, chirp, pulsed, cochannel (budget is a JSR).
    model: complex64 IQ → logits (used, in eval mode, by the gradient attacks; its mode is restored).
    iq: complex64 ``[B, N]`` (never modified); labels: int64 ``[B]``.
    budget_db: dB, a number or float ``[B]``; ``-inf`` returns an unchanged copy of ``iq``.
    seed: seeds every random draw (random starts, noise, jammer parameters).
    attack_options: ``pgd_steps``, ``pgd_restarts``, ``pgd_step_size``, ``pgd_schedule``, ``apgd_steps``.
    Returns complex64 ``[B, N]``; the perturbation's power never exceeds the budget.
    """
    if name not in PERTURB_NAMES:
        raise ValueError(f"perturb: unknown attack {name!r}; known: {', '.join(PERTURB_NAMES)}")
    check_iq(iq)
    if not isinstance(budget_db, torch.Tensor) and float(budget_db) == -math.inf:
        return iq.clone()
    budget = per_example(budget_db, iq.shape[0], "budget_db", iq.device)
    attack = build_attack(name, **attack_options)
    labels = torch.as_tensor(labels, device=iq.device).long()
    generator = torch.Generator(device=iq.device).manual_seed(seed)
    return iq + apply_attack(attack, model, iq, labels, budget, generator)[0]


def apply_attack(attack, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``attack``'s perturbation of ``iq``, crafted with ``model`` in eval mode (no dropout noise in the
    gradient, batch-norm statistics untouched; its mode is restored), then held to the budget.

    attack: a built attack or jammer (:func:`rfnet.robustness.registry.build_attack`). iq: complex64
    ``[B, N]``; labels: int64 ``[B]``; budget_db: float ``[B]`` (PSR or JSR, dB); generator: every random
    draw. Returns ``(delta, delivered_db)``: complex64 ``[B, N]`` and float ``[B]`` as
    :func:`rfnet.robustness.budget.enforce_budget` gives them.
    """
    was_training = model.training
    model.eval()
    try:
        delta = attack.perturbation(model, iq, labels, budget_db, generator)
    finally:
        model.train(was_training)
    return enforce_budget(iq, delta, budget_db)
