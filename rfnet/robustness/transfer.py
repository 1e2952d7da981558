"""Transfer (black-box) attack: perturbations crafted with white-box access to a surrogate model, applied
to the target, which the attack never queries."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rfnet.robustness.attacks import PGD


@dataclass(frozen=True)
class Transfer:
    """``base``'s perturbation computed on ``surrogate`` (kept in eval mode); ``surrogate_name`` for the
    report."""

    surrogate: nn.Module
    surrogate_name: str
    base: object = PGD()
    name: str = "transfer"
    axis: str = "psr_db"
    kind: str = "transfer"

    def __post_init__(self) -> None:
        self.surrogate.eval()

    def params(self) -> dict:
        return {"surrogate": self.surrogate_name, "base_attack": self.base.name, **self.base.params()}

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        return self.base.perturbation(self.surrogate, iq, labels, budget_db, generator)
