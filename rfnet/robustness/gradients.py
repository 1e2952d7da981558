"""Gradients of a classifier's loss with respect to its complex IQ input.

For a real loss ``L`` of complex input ``z = x + i y``, torch's autograd returns ``dL/dx + i dL/dy``:
the direction of steepest ascent in the IQ plane, so attacks step along it as they would along a real
gradient. Only the input's gradient is taken (``torch.autograd.grad``): parameter gradients are left
alone, so an attack can run inside a training step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class LossGradient:
    """What one backward pass gives an attack.

    gradient: complex64 ``[B, N]``, ``d loss_b / d iq_b`` (loss summed over examples, so each row is
        that example's own gradient whatever the batch).
    loss: float32 ``[B]``, each example's cross-entropy.
    correct: bool ``[B]``, whether the model's arg-max is the label.
    """

    gradient: torch.Tensor
    loss: torch.Tensor
    correct: torch.Tensor

    @property
    def zero(self) -> torch.Tensor:
        """bool ``[B]``: examples whose gradient is exactly zero (an attack cannot move them)."""
        return ~torch.view_as_real(self.gradient).flatten(1).ne(0).any(1)


def checked_logits(model: nn.Module, iq: torch.Tensor) -> torch.Tensor:
    """``model(iq)``, refusing anything but float logits ``[B, C]`` with ``C >= 2``."""
    logits = model(iq)
    if not (isinstance(logits, torch.Tensor) and logits.is_floating_point() and logits.dim() == 2
            and logits.shape[0] == iq.shape[0] and logits.shape[1] >= 2):
        got = f"{logits.dtype} {tuple(logits.shape)}" if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"the model must return float logits [batch, classes]; got {got}")
    return logits


def loss_gradient(model: nn.Module, iq: torch.Tensor, labels: torch.Tensor) -> LossGradient:
    """The cross-entropy gradient of each example with respect to its IQ samples.

    iq: complex64 ``[B, N]`` (not modified); labels: int64 ``[B]``. The model is used as it is (the
    evaluator puts it in eval mode).
    """
    point = iq.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = checked_logits(model, point)
        losses = F.cross_entropy(logits.float(), labels, reduction="none")
        (gradient,) = torch.autograd.grad(losses.sum(), point)
    return LossGradient(gradient.detach(), losses.detach(), logits.detach().argmax(1) == labels)
