"""Universal adversarial perturbation (UAP): one perturbation for every input.

Crafted on training data by stochastic gradient ascent on the loss (in the spirit of Shafahi et al. 2020,
"Universal Adversarial Training"): a single direction ``v`` (complex64 ``[N]``, unit power) is added to
every example of a batch, scaled to that example's budget, and ``v`` moves along the sum of the examples'
normalised loss gradients, then back to unit power. The same ``v`` is then applied,
unchanged, to test data: per example only its gain follows the PSR asked for, as a jammer's does at a
JSR. Sadeghi & Larsson (2018) craft theirs from per-input perturbations by PCA; any fixed direction is
within the threat model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rfnet.robustness.budget import allowed_power, scale_to_power
from rfnet.robustness.gradients import loss_gradient


def craft_universal(model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: float, *,
                    epochs: int = 5, batch_size: int = 64, step_size: float = 0.3,
                    generator: torch.Generator) -> torch.Tensor:
    """A unit-power universal direction, complex64 ``[N]``, crafted on ``iq`` (complex64 ``[M, N]``, the
    training data) with labels int64 ``[M]`` at PSR ``budget_db``.

    ``epochs`` passes over the data in batches of ``batch_size`` (shuffled by ``generator``). Each step
    adds the batch's per-example loss gradients at the current perturbation, each normalised to unit
    power so every example has an equal vote, normalises their sum, moves ``v`` by ``step_size`` (times
    its unit norm) along it and rescales ``v`` to unit power. ``v`` starts at zero, so the first step is the
    first batch's gradient direction. The model is used as it is (put it in eval mode first); its
    parameters get no gradient.
    """
    if epochs < 1 or batch_size < 1 or not step_size > 0:
        raise ValueError("craft_universal: epochs and batch_size must be positive, step_size > 0")
    direction = torch.zeros(1, iq.shape[1], dtype=iq.dtype, device=iq.device)
    unit = torch.ones(1, device=iq.device)
    for _ in range(epochs):
        order = torch.randperm(iq.shape[0], generator=generator, device=generator.device).to(iq.device)
        for start in range(0, iq.shape[0], batch_size):
            rows = order[start:start + batch_size]
            batch = iq[rows]
            perturbed = batch + scale_to_power(direction, allowed_power(batch, budget_db))
            gradients = loss_gradient(model, perturbed, labels[rows]).gradient
            votes = scale_to_power(gradients, unit.expand(len(rows))).sum(0, keepdim=True)
            if not bool(torch.view_as_real(votes).ne(0).any()):
                continue
            direction = scale_to_power(direction + scale_to_power(votes, unit * step_size**2), unit)
    return direction[0]


@dataclass(frozen=True)
class UniversalPerturbation:
    """Adds the fixed ``direction`` (complex64 ``[N]``), scaled to each example's PSR budget."""

    direction: torch.Tensor
    crafted: dict
    name: str = "uap"
    axis: str = "psr_db"
    kind: str = "universal"

    def params(self) -> dict:
        return dict(self.crafted)

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        if iq.shape[1] != self.direction.shape[0]:
            raise ValueError(f"uap: the perturbation has {self.direction.shape[0]} samples, the input "
                             f"{iq.shape[1]}")
        return scale_to_power(self.direction.to(iq.device), allowed_power(iq, budget_db))
