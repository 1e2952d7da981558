"""AlexNet as Krizhevsky, Sutskever & Hinton built it (NIPS 2012), and torchvision's single-tower layout.

Both share a timm-style backbone API (:class:`AlexNetBackbone`): ``forward_features``, ``forward_head``,
``num_features``, ``reset_classifier``, ``freeze`` and ``forward_intermediates`` (timm's signature and
return type), with layers named as in the paper: ``conv1 relu1 norm1 pool1 conv2 ... pool5 avgpool fc6
relu6 drop6 fc7 relu7 drop7 fc8``; ``layer_outputs`` returns any of them by name.

Both trace with ``torch.fx.symbolic_trace`` and torchvision's ``create_feature_extractor``: the input
check is one call in the graph (``torch.fx.wrap``), and the traced graph keeps the unfolded fc6 below.

Below the native size pool5's map is smaller than 6x6 and the average pool only copies it (1x1 at 67x67
pixels: 256 numbers copied 36 times into fc6's 9,216 inputs). ``forward`` then folds the pool into fc6
where autograd records (:func:`~rfnet.models.layers.folded_pool_linear`): the same function at a fraction
of fc6's cost, with the same parameters and state dict.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.fx
from torch import nn

from .config import Configured, make_settings
from .layers import TowerLocalResponseNorm, folded_pool_linear, pool_fold_pays_for
from .registry import register_model
from .weights import load_checked_state_dict

PAPER_INPUT_SIZE = 224  # the input side the paper states (section 3.5)
FEATURE_CHANNELS = 256
POOLED_SIZE = 6
HIDDEN_UNITS = 4096
CONV_LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5")
FC_LAYERS = ("fc6", "fc7", "fc8")

# Initialisations as data: per-layer weight std (weights ~ N(0, std)) and bias constant.
# "paper": section 5 of the paper. "caffe": BVLC's bvlc_alexnet, whose readme reports that biases
# of 1 gave a flat loss; it uses 0.1 and std 0.005 for fc6/fc7.
INIT_SCHEMES: dict[str, dict[str, tuple[float, float]]] = {
    "paper": {
        name: (0.01, 1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0)
        for name in CONV_LAYERS + FC_LAYERS
    },
    "caffe": {
        name: (
            0.005 if name in ("fc6", "fc7") else 0.01,
            0.1 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0,
        )
        for name in CONV_LAYERS + FC_LAYERS
    },
}


def init_layer(name: str, layer: nn.Module, scheme: str) -> None:
    """Initialise one conv / fc layer called ``name`` (``conv1`` … ``fc8``) with an :data:`INIT_SCHEMES` entry.

    ``scheme="torchvision"`` leaves PyTorch's default initialisation, which torchvision's AlexNet uses.
    ``scheme="he"`` is He et al. (2015) normal initialisation, weights N(0, 2 / fan_in) and biases 0, with
    fc8 at N(0, 0.01) so the first logits are small: without batch norm it is the scheme that leaves
    chance level fastest when AlexNet is trained from scratch on a short budget (``rfnet finetune``).
    """
    if scheme == "torchvision":
        return
    if scheme == "he":
        fan_in = layer.weight[0].numel()
        std, bias = (0.01 if name == "fc8" else math.sqrt(2.0 / fan_in)), 0.0
    elif scheme in INIT_SCHEMES:
        std, bias = INIT_SCHEMES[scheme][name]
    else:
        raise ValueError(f"unknown init {scheme!r}; choose from {sorted(INIT_SCHEMES) + ['he', 'torchvision']}")
    nn.init.normal_(layer.weight, mean=0.0, std=std)
    nn.init.constant_(layer.bias, bias)


@dataclass(frozen=True)
class AlexNetConfig:
    """Settings of the paper's AlexNet, on one device (:class:`AlexNet`) or split over two
    (:class:`~rfnet.models.parallel.TwoTowerAlexNet`); the keywords both constructors take.

    num_classes: outputs of fc8 (0: no fc8, ``forward`` gives fc7's 4096 features).
    in_chans: input image channels.
    drop_rate: dropout probability on the outputs of fc6 and fc7.
    init: weight initialisation (:func:`init_layer`: ``"paper"``, ``"caffe"``, ``"he"``, ``"torchvision"``).
    alpha_over_n: LRN's alpha convention (:class:`~rfnet.models.layers.TowerLocalResponseNorm`).
    conv1_padding: zero padding of conv1 (0: native input 227x227; 2: 224x224, as torchvision pads).
    """

    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.5
    init: str = "paper"
    alpha_over_n: bool = True
    conv1_padding: int = 0


@dataclass(frozen=True)
class AlexNetTVConfig:
    """Settings of torchvision's single-tower AlexNet (:class:`AlexNetTV`); fields as :class:`AlexNetConfig`'s
    (conv1 always pads 2, as torchvision's does)."""

    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.5
    init: str = "torchvision"


def native_input_size(conv1_padding: int) -> int:
    """Square input (pixels) for which conv1 (11x11 / 4) gives the paper's 55x55 maps and pool5 is 6x6: the
    paper's stated 224 where that works (conv1 padding 2, as torchvision pads), else the smallest side that
    does, 227 - 2 x padding (227 unpadded, what Caffe crops). conv1's stride leaves 4 sides per map size."""
    smallest = 227 - 2 * conv1_padding
    return PAPER_INPUT_SIZE if smallest <= PAPER_INPUT_SIZE < smallest + 4 else smallest


def min_input_size(conv1_padding: int) -> int:
    """Smallest square input (pixels) whose maps survive conv1 (11x11 / 4) and three 3x3 / 2 poolings.

    pool5 needs >= 3 rows, so pool2 must give >= 3 (needs >= 7 in), pool1 >= 7 (needs >= 15 in),
    so conv1 must give >= 15 rows: (H + 2 * pad - 11) // 4 + 1 >= 15.
    """
    return 11 + 4 * 14 - 2 * conv1_padding


def check_images(x: torch.Tensor, arch: str, in_chans: int, min_size: int) -> torch.Tensor:
    """Raise ``ValueError`` stating the expected shape unless ``x`` is float ``[B, in_chans, H, W]``, H, W >= min_size.

    Returns ``x``: the models pass their input through it, so in a ``torch.fx`` graph (where this function is
    one call, registered with ``torch.fx.wrap``) the check stays on the data path and still runs.
    """
    if x.dim() != 4 or x.shape[1] != in_chans or min(x.shape[-2:]) < min_size or not x.is_floating_point():
        raise ValueError(
            f"{arch} expects float images [B, {in_chans}, H, W] with H, W >= {min_size}; "
            f"got {x.dtype} {tuple(x.shape)}"
        )
    return x


torch.fx.wrap("check_images")


class AlexNetBackbone(Configured, nn.Module):
    """The backbone API both AlexNet layouts share.

    Subclasses build ``features`` (convs and pools), ``classifier`` (fc6 … fc8, dropout included) and
    name their children in ``feature_names`` / ``classifier_names`` in forward order.

    Shapes: images float ``[B, in_chans, H, W]`` with ``H, W >= min_input_size`` (``native_input_size`` is the
    size the paper's shapes are given for);
    ``forward_features`` → ``[B, 256, 6, 6]`` (adaptive average pooling makes it 6x6 for any input
    size; at the native size the pooling is the identity); ``forward_head`` → logits ``[B, num_classes]``.

    ``forward`` (and ``layer_outputs`` from fc6 on) compute ``forward_head(forward_features(x))``,
    but where pool5's map is small (1x1 to 3x3, inputs of 67 to 162 pixels for the paper's layout) and
    autograd records (training, or an attack's input gradient; see
    :func:`~rfnet.models.layers.pool_fold_pays`) fc6 reads that map through its weight folded with the
    pool (:func:`~rfnet.models.layers.folded_pool_linear`), computed from ``fc6.weight`` on each call:
    equal up to float rounding, gradients flow to the real 4096 x 9216 weight, the state dict is
    unchanged, and fc6 costs 1/36 (1x1) to 1/4 (3x3) of its pooled product. Inference without autograd
    (``torch.no_grad``, ``inference_mode``, exports) keeps the unfolded fc6, cheaper at batch 1. No fold
    when dropout acts on fc6's input in training (torchvision's layout: each of the pooled copies gets its
    own mask, which the fold cannot reproduce), nor when a forward hook watches ``avgpool`` or fc6 (the
    folded path calls neither), nor in a ``torch.fx`` graph (which cannot choose at run time).

    ``forward_intermediates`` follows timm's contract; its ``indices`` count the five conv stages, each
    taken where it leaves its last layer before pooling (``intermediate_names``).
    """

    arch: str
    feature_names: tuple[str, ...]
    classifier_names: tuple[str, ...]
    input_conv_key: str
    intermediate_names: tuple[str, ...]  # what forward_intermediates' indices 0 … 4 select

    num_features = FEATURE_CHANNELS * POOLED_SIZE * POOLED_SIZE  # 9216: flattened forward_features
    head_hidden_size = HIDDEN_UNITS  # width of the pre-logits (fc7) output

    def __init__(self, settings: AlexNetConfig | AlexNetTVConfig, conv1_padding: int) -> None:
        super().__init__()
        if settings.num_classes < 0 or settings.in_chans < 1:
            raise ValueError(f"need num_classes >= 0 and in_chans >= 1, got {settings.num_classes}, "
                             f"{settings.in_chans}")
        self.settings = settings
        self.num_classes = settings.num_classes
        self.in_chans = settings.in_chans
        self.init = settings.init
        self.min_input_size = min_input_size(conv1_padding)
        self.native_input_size = native_input_size(conv1_padding)
        self.avgpool = nn.AdaptiveAvgPool2d(POOLED_SIZE)

    # ---- what subclasses build ------------------------------------------------------------
    features: nn.Sequential
    classifier: nn.Sequential

    def _init_weights(self) -> None:
        layers = dict(self.stages())
        for name in CONV_LAYERS + FC_LAYERS:
            init_layer(name, layers[name], self.init)

    # ---- walking the network by layer name ----------------------------------------------------
    def stages(self) -> Iterator[tuple[str, nn.Module]]:
        """Every layer as ``(paper name, module)``, in forward order."""
        yield from zip(self.feature_names, self.features.children(), strict=True)
        yield "avgpool", self.avgpool
        yield from zip(self.classifier_names, self.classifier.children(), strict=True)

    @property
    def layer_names(self) -> list[str]:
        return [name for name, _ in self.stages()]

    def _check_layer(self, name: str) -> None:
        if name not in self.layer_names:
            raise ValueError(f"{self.arch} has no layer {name!r}; layers are {self.layer_names}")

    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        """``ValueError`` naming the expected shape when ``x`` cannot go through the network; else ``x`` itself."""
        return check_images(x, self.arch, self.in_chans, self.min_input_size)

    # ---- the timm-style API ---------------------------------------------------------------
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, in_chans, H, W]`` → feature maps ``[B, 256, 6, 6]``."""
        x = self.check_input(x)
        return self.avgpool(self.features(x))

    def forward_head(self, features: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Feature maps ``[B, 256, 6, 6]`` → logits ``[B, num_classes]`` (or fc7's ``[B, 4096]`` if ``pre_logits``)."""
        flat = torch.flatten(features, 1)
        if pre_logits:
            return self.classifier[:-1](flat)
        return self.classifier(flat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, in_chans, H, W]`` → logits ``[B, num_classes]``, through the fold where it applies."""
        x = self.check_input(x)
        maps = self.features(x)
        if not self._fc6_folds(maps):
            return self.forward_head(self.avgpool(maps))
        fc6_index = self.classifier_names.index("fc6")
        x = folded_pool_linear(maps, self.classifier[fc6_index], POOLED_SIZE)
        for layer in list(self.classifier)[fc6_index + 1 :]:
            x = layer(x)
        return x

    def _fc6_folds(self, maps: torch.Tensor) -> bool:
        """Whether fc6 reads pool5's ``maps`` ``[B, 256, h, w]`` through its folded weight (see the class docstring)."""
        fc6_index = self.classifier_names.index("fc6")
        fc6 = self.classifier[fc6_index]
        input_dropped = any(layer.training and layer.p > 0 for layer in list(self.classifier)[:fc6_index])
        watched = any(layer._forward_hooks or layer._forward_pre_hooks for layer in (self.avgpool, fc6))
        return pool_fold_pays_for(maps, POOLED_SIZE) and not input_dropped and not watched

    def reset_classifier(self, num_classes: int) -> None:
        """Replace fc8 with a fresh ``4096 → num_classes`` layer (an identity when ``num_classes`` is 0)."""
        if num_classes:
            fc8 = nn.Linear(HIDDEN_UNITS, num_classes)
            init_layer("fc8", fc8, self.init)
        else:
            fc8 = nn.Identity()
        device = next(self.parameters()).device
        self.classifier[-1] = fc8.to(device)
        self.num_classes = num_classes
        self.settings = dataclasses.replace(self.settings, num_classes=num_classes)

    def freeze(self, up_to: str | None) -> list[str]:
        """Stop training every layer up to and including ``up_to`` (a layer name); train all the others.

        ``freeze(None)`` trains everything. Returns the names of the frozen parameters.
        """
        if up_to is not None:
            self._check_layer(up_to)
        frozen_layers = set()
        if up_to is not None:
            for name, _ in self.stages():
                frozen_layers.add(name)
                if name == up_to:
                    break
        frozen = []
        for name, module in self.stages():
            for pname, param in module.named_parameters():
                param.requires_grad_(name not in frozen_layers)
                if name in frozen_layers:
                    frozen.append(f"{name}.{pname}")
        return frozen

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | Sequence[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """timm's ``forward_intermediates``: the conv stages' maps for images ``x`` ``[B, in_chans, H, W]``.

        The five stages are the conv layers, each taken where it leaves its last layer before pooling
        (``intermediate_names``: ``norm1 norm2 relu3 relu4 relu5`` in the paper's layout, ``relu1`` …
        ``relu5`` in torchvision's): ``[B, C, h, w]`` with C = 96/256/384/384/256 (64/192/384/256/256) and
        h, w about 1/4, 1/8, 1/16, 1/16, 1/16 of the input's. ``indices``: ``None`` all five, an int ``n`` the
        last ``n``, a sequence the stages at those positions (negative from the end); they come back in
        forward order.

        Returns ``(final, intermediates)``, ``final`` being ``forward_features(x)`` (``[B, 256, 6, 6]``), or
        only the list if ``intermediates_only``. ``stop_early`` stops after the last stage asked for; ``final``
        is then that stage's output. AlexNet has no final norm layer, so ``norm`` changes nothing; only
        ``output_fmt="NCHW"`` exists. For fc6 … fc8 or any layer by name, see :meth:`layer_outputs`.
        """
        if output_fmt != "NCHW":
            raise ValueError(f"{self.arch}: output_fmt must be 'NCHW', got {output_fmt!r}")
        take = take_indices(len(self.intermediate_names), indices)
        x = self.check_input(x)
        wanted = {self.intermediate_names[i] for i in take}
        last = self.intermediate_names[max(take)] if stop_early or intermediates_only else None
        intermediates = []
        for name, layer in zip(self.feature_names, self.features.children(), strict=True):
            x = layer(x)
            if name in wanted:
                intermediates.append(x)
            if name == last:
                break
        if intermediates_only:
            return intermediates
        return (x if stop_early else self.avgpool(x)), intermediates

    def layer_outputs(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Outputs of the named layers (e.g. ``["conv1", "pool5", "fc7"]``, see ``layer_names``) for images ``x``.

        Conv-side outputs are ``[B, C, H, W]``; from ``fc6`` on they are ``[B, units]``, computed as
        ``forward`` computes them (fc6 through the fold where it applies). The forward pass stops after
        the last layer asked for.
        """
        for name in layers:
            self._check_layer(name)
        x = self.check_input(x)
        wanted = set(layers)
        out: dict[str, torch.Tensor] = {}
        maps = x  # pool5's output, once computed
        for name, module in self.stages():
            if name == self.classifier_names[0]:
                x = torch.flatten(x, 1)
            if name == "fc6" and self._fc6_folds(maps):
                x = folded_pool_linear(maps, module, POOLED_SIZE)
            else:
                x = module(x)
            if name == "pool5":
                maps = x
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out


def take_indices(count: int, indices: int | Sequence[int] | None) -> list[int]:
    """Positions ``0 … count - 1`` that timm's ``indices`` select, sorted: ``None`` all, an int ``n`` the last ``n``,
    a sequence those positions (negative ones from the end); ``ValueError`` naming the range otherwise."""
    if indices is None:
        return list(range(count))
    if isinstance(indices, int):
        if not 0 < indices <= count:
            raise ValueError(f"indices={indices}: the last n stages need 1 <= n <= {count}")
        return list(range(count - indices, count))
    chosen = set()
    for i in indices:
        if not -count <= i < count:
            raise ValueError(f"stage index {i} is out of range: {count} stages, -{count} <= index < {count}")
        chosen.add(i % count)
    if not chosen:
        raise ValueError("indices is empty: ask for at least one stage")
    return sorted(chosen)


@register_model("alexnet")
class AlexNet(AlexNetBackbone):
    """The paper's AlexNet on one device, its two GPUs' halves kept as two groups.

    conv1 96@11x11/4 → ReLU → LRN → max-pool 3/2 → conv2 256@5x5 pad 2 (2 groups) → ReLU → LRN → pool →
    conv3 384@3x3 (all 256 maps in) → conv4 384@3x3 (2 groups) → conv5 256@3x3 (2 groups) → pool →
    fc6 4096 → ReLU → dropout → fc7 4096 → ReLU → dropout → fc8. 60,965,224 parameters at 1000 classes.

    **Input size.** The paper says 224x224, but (224 - 11) / 4 + 1 is not an integer: the 55x55 conv1
    maps it reports need 227x227 input, which is what Caffe crops. So 227 is the native size here
    (``conv1_padding=0``). For 224 inputs, build with ``conv1_padding=2`` as torchvision and most
    ports do: conv1 then gives 55x55 maps from 224 and every later shape is the paper's. Without the
    padding a 224 input still works (54x54 conv1 maps, 5x5 after pool5, stretched to 6x6 by the
    adaptive average pooling), as does any size from ``min_input_size`` (67) up.

    **LRN** runs per tower (see :class:`TowerLocalResponseNorm`); ``alpha_over_n`` picks the
    convention for alpha (default: the code's, alpha / n).

    **Initialisation** (``init``): ``"paper"`` (default) — weights N(0, 0.01), biases 1 in conv2, conv4,
    conv5, fc6, fc7 and 0 elsewhere; ``"caffe"`` — biases 0.1 there and std 0.005 for fc6/fc7.
    Which trains, in our runs (``benchmarks/init_trains.py``; figures in ``benchmarks/RESULTS.md``):
    with the paper's SGD (lr 0.01, momentum 0.9, weight decay 5e-4, dropout) for 400 steps on a
    small 10-class image task, **neither does**: ``"paper"`` first blows the loss up (≈5 against
    ln 10 = 2.3; the biases of 1 make large pre-activations) and then sits at chance, as Caffe
    reported; ``"caffe"`` sits at chance throughout. PyTorch's default (``init="torchvision"``) is
    the one that learned (loss 1.06, 57% accuracy). Both Gaussian schemes are known to need many
    thousands of steps before the loss leaves its plateau; for short fine-tuning budgets use
    ``init="torchvision"``.

    **Dropout** (p = ``drop_rate``) acts on the outputs of fc6 and fc7, as in the paper, so fc6's fold
    with the pool (inputs of 67 to 162 pixels; see :class:`AlexNetBackbone`) is the same function in
    training too.
    """

    arch = "alexnet"
    feature_names = (
        "conv1", "relu1", "norm1", "pool1",
        "conv2", "relu2", "norm2", "pool2",
        "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5",
    )  # fmt: skip
    classifier_names = ("fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8")
    input_conv_key = "features.conv1.weight"
    intermediate_names = ("norm1", "norm2", "relu3", "relu4", "relu5")

    def __init__(self, **settings) -> None:
        """``settings``: fields of :class:`AlexNetConfig` (``num_classes=1000``, ``init="paper"``, ...)."""
        cfg = make_settings(AlexNetConfig, self.arch, settings)
        super().__init__(cfg, cfg.conv1_padding)
        in_chans, num_classes, drop_rate = cfg.in_chans, cfg.num_classes, cfg.drop_rate
        alpha_over_n, conv1_padding = cfg.alpha_over_n, cfg.conv1_padding
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_chans, 96, 11, stride=4, padding=conv1_padding),
            relu1=nn.ReLU(),
            norm1=TowerLocalResponseNorm(towers=2, alpha_over_n=alpha_over_n),
            pool1=nn.MaxPool2d(3, stride=2),
            conv2=nn.Conv2d(96, 256, 5, padding=2, groups=2),
            relu2=nn.ReLU(),
            norm2=TowerLocalResponseNorm(towers=2, alpha_over_n=alpha_over_n),
            pool2=nn.MaxPool2d(3, stride=2),
            conv3=nn.Conv2d(256, 384, 3, padding=1),
            relu3=nn.ReLU(),
            conv4=nn.Conv2d(384, 384, 3, padding=1, groups=2),
            relu4=nn.ReLU(),
            conv5=nn.Conv2d(384, 256, 3, padding=1, groups=2),
            relu5=nn.ReLU(),
            pool5=nn.MaxPool2d(3, stride=2),
        ))  # fmt: skip
        self.classifier = nn.Sequential(OrderedDict(
            fc6=nn.Linear(self.num_features, HIDDEN_UNITS),
            relu6=nn.ReLU(),
            drop6=nn.Dropout(drop_rate),
            fc7=nn.Linear(HIDDEN_UNITS, HIDDEN_UNITS),
            relu7=nn.ReLU(),
            drop7=nn.Dropout(drop_rate),
            fc8=nn.Linear(HIDDEN_UNITS, num_classes) if num_classes else nn.Identity(),
        ))  # fmt: skip
        self._init_weights()


@register_model("alexnet_tv")
class AlexNetTV(AlexNetBackbone):
    """torchvision's AlexNet: one tower of 64/192/384/256/256 kernels, no LRN, 61,100,840 parameters.

    The "one weird trick" variant (Krizhevsky 2014) that ``torchvision.models.alexnet`` ships. Its
    state-dict keys are torchvision's (``features.0.weight`` … ``classifier.6.bias``), so torchvision's
    weight file loads with :func:`load_torchvision_weights`. Native input 224x224 (conv1 pads 2);
    any size from 63 up works. Dropout acts on the inputs of fc6 and fc7, as torchvision has it, so
    in training (with ``drop_rate > 0``) fc6 is not folded with the pool (see :class:`AlexNetBackbone`).
    ``init="torchvision"`` (default) keeps PyTorch's default initialisation, as torchvision does.
    """

    arch = "alexnet_tv"
    feature_names = (
        "conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
        "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5",
    )  # fmt: skip
    classifier_names = ("drop6", "fc6", "relu6", "drop7", "fc7", "relu7", "fc8")
    input_conv_key = "features.0.weight"
    intermediate_names = ("relu1", "relu2", "relu3", "relu4", "relu5")

    conv1_padding = 2

    def __init__(self, **settings) -> None:
        """``settings``: fields of :class:`AlexNetTVConfig` (``num_classes=1000``, ``init="torchvision"``, ...)."""
        cfg = make_settings(AlexNetTVConfig, self.arch, settings)
        super().__init__(cfg, self.conv1_padding)
        in_chans, num_classes, drop_rate = cfg.in_chans, cfg.num_classes, cfg.drop_rate
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 64, 11, stride=4, padding=self.conv1_padding),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(drop_rate),
            nn.Linear(self.num_features, HIDDEN_UNITS),
            nn.ReLU(),
            nn.Dropout(drop_rate),
            nn.Linear(HIDDEN_UNITS, HIDDEN_UNITS),
            nn.ReLU(),
            nn.Linear(HIDDEN_UNITS, num_classes) if num_classes else nn.Identity(),
        )
        self._init_weights()


def load_torchvision_weights(
    model: AlexNetTV, path_or_state_dict: str | Path | Mapping[str, torch.Tensor]
) -> AlexNetTV:
    """Load a torchvision AlexNet state dict (a ``.pth`` file or a dict) into ``model``; nothing is downloaded.

    The file is read with ``torch.load(weights_only=True)``. A model built for 1 or 2 input channels
    gets conv1 adapted from the RGB weights. The head must fit: build with ``num_classes=1000``, load,
    then ``reset_classifier(n)`` to fine-tune on ``n`` classes.
    """
    if not isinstance(model, AlexNetTV):
        raise TypeError(f"torchvision weights fit the 'alexnet_tv' layout, not {type(model).__name__}")
    if isinstance(path_or_state_dict, Mapping):
        state, source = path_or_state_dict, "state dict"
    else:
        source = str(path_or_state_dict)
        if not Path(source).is_file():
            raise FileNotFoundError(f"{source}: no such weight file")
        try:
            state = torch.load(source, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ValueError(f"{source}: not a readable torch weight file ({err})") from None
        if not isinstance(state, Mapping):
            raise ValueError(f"{source}: expected a state dict, found {type(state).__name__}")
    load_checked_state_dict(model, state, source, input_conv_key=model.input_conv_key)
    return model
