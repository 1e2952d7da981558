"""The adversary of adversarial training (Madry et al. 2018): each training batch replaced by its
adversarial version, for :class:`rfnet.train.Trainer`'s ``adversary`` hook.

    trainer = Trainer(model, train, val, config, "run/", adversary=make_adversary("pgd", -10.0))

The perturbation is crafted with the model in eval mode (no dropout noise in the gradient, batch-norm
statistics untouched), its gradient taken with respect to the inputs only, the budget enforced as in
evaluation; the model goes back to train mode before the training step. Random draws (PGD's random start)
come from torch's global generator, which the engine seeds and checkpoints, so a resumed run repeats them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rfnet.robustness.budget import check_budget_db
from rfnet.robustness.perturb import apply_attack
from rfnet.robustness.registry import build_attack

ADVERSARIAL_TRAINING_ATTACKS = ("fgm", "fgsm", "pgd", "pgd_linf")


Adversary = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def make_adversary(attack: str, psr_db: float, *, pgd_steps: int = 5, pgd_step_size: float | None = None) -> Adversary:
    """``(model, iq, labels) -> iq + perturbation`` at PSR ``psr_db`` (dB) by ``attack``.

    iq: complex64 ``[B, N]``; labels int64 ``[B]``. ``pgd_steps`` / ``pgd_step_size`` configure PGD.
    """
    if attack not in ADVERSARIAL_TRAINING_ATTACKS:
        raise ValueError(f"--adv-train {attack!r}: choose one of {list(ADVERSARIAL_TRAINING_ATTACKS)}")
    check_budget_db(psr_db, "--adv-psr")
    method = build_attack(attack, pgd_steps=pgd_steps, pgd_step_size=pgd_step_size)

    def adversary(model: nn.Module, iq: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
        generator = torch.Generator(device=iq.device).manual_seed(seed)
        budget = torch.full((iq.shape[0],), float(psr_db), device=iq.device)
        return (iq + apply_attack(method, model, iq, labels, budget, generator)[0]).detach()

    return adversary
