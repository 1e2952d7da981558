"""Physical jammers as references for the attacks: each kind of :mod:`rfnet.dsp.interference` at a JSR.

A :class:`Jammer` has the attack interface of :mod:`rfnet.robustness.attacks` with ``axis="jsr_db"``: its
perturbation is the jammer waveform alone, at the JSR budget (same power definition as PSR), its random
parameters drawn per example from the generator. The pulsed jammer's period is the dsp default
(:data:`PULSED_PERIOD` samples) or the whole example when that is shorter, unless set.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch
from torch import nn

from rfnet.dsp.interference import INTERFERENCE, add_interference, pulsed

JAMMER_NAMES = tuple(INTERFERENCE)
"""tone, barrage, partial_band, chirp, pulsed, cochannel."""
PULSED_PERIOD = inspect.signature(pulsed).parameters["period"].default


@dataclass(frozen=True)
class Jammer:
    """Interference of kind ``name`` with keyword parameters ``options`` (the kind's defaults otherwise)."""

    name: str
    options: dict = field(default_factory=dict)
    axis: str = "jsr_db"
    kind: str = "reference"

    def __post_init__(self) -> None:
        if self.name not in INTERFERENCE:
            raise ValueError(f"unknown jammer {self.name!r}; known: {', '.join(JAMMER_NAMES)}")

    def params(self) -> dict:
        return {"interference": self.name, **self.options}

    def perturbation(self, model: nn.Module, iq: torch.Tensor, labels: torch.Tensor, budget_db: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
        options = dict(self.options)
        if self.name == "pulsed":
            options.setdefault("period", min(PULSED_PERIOD, iq.shape[1]))
        return add_interference(iq, self.name, budget_db, generator=generator, **options) - iq
