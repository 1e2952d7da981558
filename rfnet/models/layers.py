"""Layers AlexNet needs that torch does not ship in the paper's form."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TowerLocalResponseNorm(nn.Module):
    """Local response normalisation across channels, run separately inside each tower.

    For activity ``a[c]`` of map ``c`` at one position, with ``N`` maps per tower::

        b[c] = a[c] / (k + alpha' * sum_{j = max(0, c - n//2)}^{min(N - 1, c + n//2)} a[j] ** 2) ** beta

    ``alpha_over_n=True`` (default) uses ``alpha' = alpha / n``: the convention of the code the paper's
    numbers came from (cuda-convnet), of Caffe (``alpha_over_size``) and of ``torch.nn.LocalResponseNorm``.
    ``alpha_over_n=False`` uses ``alpha' = alpha``, the formula as printed in the paper's section 3.3.
    With the paper's ``alpha = 1e-4`` and ``n = 5`` the two differ by a factor of 5 in ``alpha'``.

    In the paper each GPU normalises only its own maps, so the channels are cut into ``towers``
    contiguous groups and windows never cross a group boundary: the first LRN of the paper net sees two
    groups of 48 maps, the second two groups of 128.

    Input and output: float ``[B, C, H, W]``, ``C`` divisible by ``towers``.
    """

    def __init__(
        self,
        towers: int = 2,
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 2.0,
        alpha_over_n: bool = True,
    ) -> None:
        super().__init__()
        if towers < 1 or size < 1:
            raise ValueError(f"towers and size must be >= 1, got towers={towers}, size={size}")
        self.towers = towers
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.alpha_over_n = alpha_over_n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        if channels % self.towers:
            raise ValueError(
                f"{type(self).__name__}: {channels} channels cannot be split into {self.towers} towers"
            )
        # F.local_response_norm divides alpha by size, which is the code's convention.
        alpha = self.alpha if self.alpha_over_n else self.alpha * self.size
        per_tower = x.unflatten(1, (self.towers, channels // self.towers)).flatten(0, 1)
        normed = F.local_response_norm(per_tower, self.size, alpha=alpha, beta=self.beta, k=self.k)
        return normed.unflatten(0, (x.shape[0], self.towers)).flatten(1, 2)

    def extra_repr(self) -> str:
        return (
            f"towers={self.towers}, size={self.size}, alpha={self.alpha}, beta={self.beta}, "
            f"k={self.k}, alpha_over_n={self.alpha_over_n}"
        )
