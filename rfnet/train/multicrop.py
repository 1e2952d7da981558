"""Test-time multi-crop evaluation: the paper's 10 crops (4 corners + centre, and their mirrors)."""

from __future__ import annotations

import torch
from torch import nn


def crop_averaged_log_probs(model: nn.Module, crops: torch.Tensor) -> torch.Tensor:
    """The log of the softmax averaged over each example's crops.

    ``crops``: float ``[B, n, C, H, W]`` (n crops of each of B images) → float32 ``[B, classes]``.
    Being log-probabilities, the result works as logits: its arg-max is the averaged prediction and
    cross-entropy on it is the negative log of the averaged probability of the true class.
    """
    batch, n = crops.shape[:2]
    probs = model(crops.flatten(0, 1)).float().softmax(dim=-1).unflatten(0, (batch, n)).mean(dim=1)
    return probs.clamp_min(torch.finfo(torch.float32).tiny).log()
