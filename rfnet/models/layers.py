"""Layers AlexNet needs that torch does not ship in the paper's form, and the fold of its average pool into fc6."""

from __future__ import annotations

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable


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
        alpha_prime = self.alpha / self.size if self.alpha_over_n else self.alpha
        return tower_local_response_norm(x, self.towers, self.size, alpha_prime, self.beta, self.k)

    def extra_repr(self) -> str:
        return (
            f"towers={self.towers}, size={self.size}, alpha={self.alpha}, beta={self.beta}, "
            f"k={self.k}, alpha_over_n={self.alpha_over_n}"
        )


def tower_local_response_norm(
    x: torch.Tensor, towers: int, size: int, alpha_prime: float, beta: float, k: float
) -> torch.Tensor:
    """:class:`TowerLocalResponseNorm`'s forward: :func:`local_response_norm` of ``x`` (float ``[B, C, ...]``)
    within each of ``towers`` contiguous channel groups; ``ValueError`` if ``C`` does not split into them.

    One call in a ``torch.fx`` graph (registered with ``torch.fx.wrap``): it needs the channel count as a
    number and picks the hand-written backward by whether autograd records, so a traced model makes both
    choices when it runs, as the module does.
    """
    channels = x.shape[1]
    if channels % towers:
        raise ValueError(f"TowerLocalResponseNorm: {channels} channels cannot be split into {towers} towers")
    per_tower = x.unflatten(1, (towers, channels // towers)).flatten(0, 1)
    # The hand-written backward only where autograd records (TorchScript cannot hold a Python function).
    if torch.is_grad_enabled() and per_tower.requires_grad and not torch.jit.is_tracing():
        normed = _LocalResponseNorm.apply(per_tower, size, alpha_prime, beta, k)
    else:
        normed = local_response_norm(per_tower, size, alpha_prime, beta, k)[0]
    return normed.unflatten(0, (x.shape[0], towers)).flatten(1, 2)


torch.fx.wrap("tower_local_response_norm")


def channel_window_sum(t: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """``out[:, c] = t[:, c - before] + ... + t[:, c + after]`` along dim 1, channels past either end counting 0."""
    out = t.clone()
    channels = t.shape[1]
    for shift in range(1, min(before, channels - 1) + 1):
        out[:, shift:] += t[:, : channels - shift]
    for shift in range(1, min(after, channels - 1) + 1):
        out[:, : channels - shift] += t[:, shift:]
    return out


def local_response_norm(
    x: torch.Tensor, size: int, alpha_prime: float, beta: float, k: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """LRN across dim 1 of ``x`` (float ``[N, C, ...]``): ``(x * d ** -beta, d, d ** -beta)`` with
    ``d = k + alpha_prime * (sum of x ** 2 over channels c - size // 2 ... c + (size - 1) // 2)``,
    the window ``torch.nn.functional.local_response_norm`` takes (which uses ``alpha_prime = alpha / size``)."""
    d = channel_window_sum(x * x, size // 2, (size - 1) // 2).mul_(alpha_prime).add_(k)
    scale = d.pow(-beta)
    return x * scale, d, scale


class _LocalResponseNorm(torch.autograd.Function):
    """:func:`local_response_norm` with its gradient written out: on a CPU about 4x faster, forward and
    backward together, than autograd through ``torch.nn.functional.local_response_norm`` (whose average
    pool and power each record their own backward), and the same numbers to float rounding."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, size: int, alpha_prime: float, beta: float, k: float) -> torch.Tensor:
        normed, d, scale = local_response_norm(x, size, alpha_prime, beta, k)
        ctx.save_for_backward(x, d, scale)
        ctx.size, ctx.alpha_prime, ctx.beta = size, alpha_prime, beta
        return normed

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        # y_c = x_c s_c with s = d ** -beta, so dL/dx_i = g_i s_i - 2 beta alpha' x_i * sum of g_c x_c s_c / d_c
        # over the windows c that contain i (the forward window mirrored).
        x, d, scale = ctx.saved_tensors
        scaled = grad * scale
        spread = channel_window_sum(scaled * x / d, (ctx.size - 1) // 2, ctx.size // 2)
        return scaled - (2 * ctx.beta * ctx.alpha_prime) * x * spread, None, None, None, None


def adaptive_pool_matrix(
    height: int, width: int, size: int, dtype: torch.dtype | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """``adaptive_avg_pool2d(·, size)`` of one ``height x width`` map as a matrix ``[size * size, height * width]``.

    Row ``k`` holds the weights with which pooled cell ``k`` averages the input cells (both flattened
    row-major). Built by pooling the unit maps, so it is the pool's own arithmetic: where a pooled cell
    copies one input cell (maps smaller than ``size`` whose sides divide it) the entry is exactly 1.
    """
    cells = height * width
    units = torch.eye(cells, dtype=dtype, device=device).view(cells, 1, height, width)
    return F.adaptive_avg_pool2d(units, size).view(cells, size * size).T


def pool_fold_pays(height: int, width: int, size: int) -> bool:
    """Whether to fold the pool of a ``height x width`` map to ``size x size`` into the next linear layer.

    The fold (:func:`fold_adaptive_pool`) costs about two passes over the layer's weight per call and saves
    ``1 - height * width / size**2`` of the layer's product for every example, forward and backward. It
    pays where the map has at most a quarter of the pooled cells (a saving of 75% or more; AlexNet's pool5
    at 1x1 to 3x3, i.e. inputs of 67 to 162 pixels), and only where autograd records: a backward pass
    follows, whose products the fold also cuts. Without autograd (inference) a small batch loses: at
    batch 1 the unfolded layer is one pass over its weight (AlexNet's fc6 on one CPU thread: 10 ms
    unfolded, 18 ms for the fold), and the choice must not depend on the batch size, which exports leave open.
    """
    return torch.is_grad_enabled() and 4 * height * width <= size * size


def pool_fold_pays_for(maps: torch.Tensor, size: int) -> bool:
    """:func:`pool_fold_pays` for ``maps`` ``[B, C, h, w]``; ``False`` while ``torch.fx`` traces the model.

    A traced graph cannot branch on the map's size or on autograd at run time, so it keeps the plain
    pool → linear, which is the same function (the fold only saves work).
    """
    if isinstance(maps, torch.fx.Proxy):
        return False
    height, width = maps.shape[-2:]
    return pool_fold_pays(height, width, size)


def fold_adaptive_pool(weight: torch.Tensor, height: int, width: int, size: int) -> torch.Tensor:
    """The weight of ``linear(flatten(adaptive_avg_pool2d(maps, size), 1))`` as a linear layer on ``flatten(maps, 1)``.

    ``weight``: ``[out, C * size * size]``, acting on pooled maps flattened channel-major (as ``torch.flatten``
    lays out ``[B, C, size, size]``). Returns ``[out, C * height * width]``: ``weight`` times the pool's
    matrix (:func:`adaptive_pool_matrix`), channel by channel. Where the pool only copies cells (AlexNet's
    1x1 pool5 map copied 36 times) that is the sum of the weights of each cell's copies. Differentiable:
    the gradient reaches ``weight``.
    """
    pool = adaptive_pool_matrix(height, width, size, weight.dtype, weight.device)
    return (weight.reshape(-1, size * size) @ pool).view(weight.shape[0], -1)


def folded_pool_linear(maps: torch.Tensor, linear: nn.Linear, size: int) -> torch.Tensor:
    """``linear(flatten(adaptive_avg_pool2d(maps, size), 1))`` computed on the ``C * h * w`` numbers of ``maps``
    through the folded weight (:func:`fold_adaptive_pool`) instead of on their ``C * size * size`` pooled values.

    ``maps``: float ``[B, C, h, w]``; ``linear``: ``C * size * size`` inputs. Returns ``[B, out_features]``,
    the pooled computation's value up to float rounding. The folded weight is computed from ``linear.weight``
    on every call (gradients flow to it; nothing is cached), and ``linear`` itself, with any hook on it, is
    not called.
    """
    height, width = maps.shape[-2:]
    return F.linear(maps.flatten(1), fold_adaptive_pool(linear.weight, height, width, size), linear.bias)
