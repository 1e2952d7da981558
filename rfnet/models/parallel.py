"""The paper's two-GPU model parallelism: each device holds half the kernels of every layer.

Following Krizhevsky et al. (2012), section 3.2, and cuda-convnet2's ``layers-imagenet-2gpu-model.cfg``:
both towers see the image; conv2, conv4 and conv5 see only their own tower's maps; conv3 and every FC
layer see both towers' outputs. Activations cross between devices at exactly those four places (plus
the final gather of the logits), and nowhere else. Into fc6 go the 6x6 pooled maps, or, below the native
size where fc6 is folded with the pool (as in :class:`~rfnet.models.alexnet.AlexNetBackbone`), pool5's
smaller maps: 128 numbers per tower and example at 67x67 pixels instead of 4,608.

The grouped single-device :class:`~rfnet.models.alexnet.AlexNet` is the same function: every layer's
weights are the two towers' weights stacked along the output axis, which is how :meth:`from_single`
and :meth:`to_single` convert between the forms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
import torch.fx
from torch import nn

from .alexnet import (
    CONV_LAYERS, FC_LAYERS, POOLED_SIZE, AlexNet, AlexNetConfig, check_images, init_layer, min_input_size,
)
from .config import Configured, make_settings
from .layers import TowerLocalResponseNorm, folded_pool_linear, pool_fold_pays_for

LAYERS = CONV_LAYERS + FC_LAYERS
# Outputs per tower: half of the single-device widths 96/256/384/384/256 and 4096/4096.
TOWER_WIDTHS = {"conv1": 48, "conv2": 128, "conv3": 192, "conv4": 192, "conv5": 128, "fc6": 2048, "fc7": 2048}

torch.fx.wrap("check_images")  # one call in a torch.fx graph, as in alexnet.py


class AlexNetTower(nn.Module):
    """The half of AlexNet that one device holds; ``fc8_units`` of the logits are computed here."""

    def __init__(
        self, in_chans: int, fc8_units: int, drop_rate: float, alpha_over_n: bool, conv1_padding: int
    ) -> None:
        super().__init__()
        w = TOWER_WIDTHS
        self.conv1 = nn.Conv2d(in_chans, w["conv1"], 11, stride=4, padding=conv1_padding)
        self.norm1 = TowerLocalResponseNorm(towers=1, alpha_over_n=alpha_over_n)
        self.conv2 = nn.Conv2d(w["conv1"], w["conv2"], 5, padding=2)
        self.norm2 = TowerLocalResponseNorm(towers=1, alpha_over_n=alpha_over_n)
        self.conv3 = nn.Conv2d(2 * w["conv2"], w["conv3"], 3, padding=1)
        self.conv4 = nn.Conv2d(w["conv3"], w["conv4"], 3, padding=1)
        self.conv5 = nn.Conv2d(w["conv4"], w["conv5"], 3, padding=1)
        self.fc6 = nn.Linear(2 * w["conv5"] * POOLED_SIZE * POOLED_SIZE, w["fc6"])
        self.fc7 = nn.Linear(2 * w["fc6"], w["fc7"])
        self.fc8 = nn.Linear(2 * w["fc7"], fc8_units)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(POOLED_SIZE)
        self.dropout = nn.Dropout(drop_rate)

    def lower(self, image: torch.Tensor) -> torch.Tensor:
        """conv1 → conv2 on this tower's kernels: image ``[B, C, H, W]`` → own maps ``[B, 128, h, w]``."""
        x = self.pool(self.norm1(self.relu(self.conv1(image))))
        return self.pool(self.norm2(self.relu(self.conv2(x))))

    def upper(self, both_towers_maps: torch.Tensor) -> torch.Tensor:
        """conv3 (fed by both towers) → conv5 → pool5: ``[B, 256, h, w]`` → own maps ``[B, 128, 6, 6]``, or
        pool5's smaller map ``[B, 128, h', w']`` where fc6 reads it through its folded weight (``pool_fold_pays``)."""
        x = self.relu(self.conv3(both_towers_maps))
        maps = self.pool(self.relu(self.conv5(self.relu(self.conv4(x)))))
        return maps if pool_fold_pays_for(maps, POOLED_SIZE) else self.avgpool(maps)

    def hidden(self, layer: str, both_towers: torch.Tensor) -> torch.Tensor:
        """fc6 on both towers' maps ``[B, 256, h, w]`` (from :meth:`upper`) or fc7 on both towers' units
        ``[B, 4096]`` → this tower's half ``[B, 2048]``, after ReLU and dropout."""
        linear = getattr(self, layer)
        if layer == "fc7":
            units = linear(both_towers)
        elif pool_fold_pays_for(both_towers, POOLED_SIZE):
            units = folded_pool_linear(both_towers, linear, POOLED_SIZE)
        else:
            units = linear(torch.flatten(both_towers, 1))
        return self.dropout(self.relu(units))


class TwoTowerAlexNet(Configured, nn.Module):
    """AlexNet split over two devices as in the paper; the same function as the grouped ``AlexNet``.

    ``devices`` may be two GPUs, one GPU twice, a GPU and the CPU, or ``("cpu", "cpu")``. Tower ``i``'s
    parameters live on ``devices[i]``; do not call ``.to()`` on the whole model, which would gather them.
    Input: float ``[B, in_chans, H, W]`` on any device; output: logits ``[B, num_classes]`` on ``devices[0]``.
    ``settings``: the fields of :class:`~rfnet.models.alexnet.AlexNetConfig`, as :class:`AlexNet` takes them,
    so :meth:`from_single` and :meth:`to_single` carry them over whole. Traces with ``torch.fx`` as ``AlexNet``
    does (the traced graph keeps fc6 unfolded).
    """

    arch = "alexnet_two_tower"

    def __init__(self, devices: Sequence[str | torch.device] = ("cpu", "cpu"), **settings) -> None:
        super().__init__()
        cfg = make_settings(AlexNetConfig, self.arch, settings)
        if len(devices) != 2:
            raise ValueError(f"TwoTowerAlexNet needs exactly two devices, got {list(devices)}")
        if cfg.num_classes < 2:
            raise ValueError(f"TwoTowerAlexNet splits fc8 over two towers: need num_classes >= 2, "
                             f"got {cfg.num_classes}")
        self.settings = cfg
        self.num_classes = cfg.num_classes
        self.in_chans = cfg.in_chans
        self.min_input_size = min_input_size(cfg.conv1_padding)
        self.devices = tuple(torch.device(d) for d in devices)
        fc8_split = (cfg.num_classes - cfg.num_classes // 2, cfg.num_classes // 2)
        self.towers = nn.ModuleList(
            AlexNetTower(cfg.in_chans, units, cfg.drop_rate, cfg.alpha_over_n, cfg.conv1_padding)
            for units in fc8_split
        )
        for tower in self.towers:
            for name in LAYERS:
                init_layer(name, getattr(tower, name), cfg.init)
        for tower, device in zip(self.towers, self.devices):
            tower.to(device)

    @staticmethod
    def _exchange(parts: Sequence[torch.Tensor], device: torch.device) -> torch.Tensor:
        """Both towers' activations joined on ``device`` (tower 0's first): the only cross-device copies."""
        return torch.cat([part.to(device, non_blocking=True) for part in parts], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = check_images(x, self.arch, self.in_chans, self.min_input_size)
        pairs = list(zip(self.towers, self.devices))
        maps = [tower.lower(x.to(device, non_blocking=True)) for tower, device in pairs]
        units = [tower.upper(self._exchange(maps, device)) for tower, device in pairs]
        for layer in ("fc6", "fc7"):
            units = [tower.hidden(layer, self._exchange(units, device)) for tower, device in pairs]
        logits = [tower.fc8(self._exchange(units, device)) for tower, device in pairs]
        return self._exchange(logits, self.devices[0])

    @classmethod
    def from_single(
        cls, model: AlexNet, devices: Sequence[str | torch.device] = ("cpu", "cpu")
    ) -> TwoTowerAlexNet:
        """Split a grouped single-device :class:`AlexNet` over ``devices``, weights included."""
        if not isinstance(model, AlexNet):
            raise TypeError(f"from_single needs the paper AlexNet ('alexnet'), got {type(model).__name__}")
        split = cls(devices, **dataclasses.asdict(model.settings))
        single_layers = dict(model.stages())
        with torch.no_grad():
            for name in LAYERS:
                halves = [getattr(tower, name) for tower in split.towers]
                for pname in ("weight", "bias"):
                    whole = getattr(single_layers[name], pname)
                    sizes = [getattr(half, pname).shape[0] for half in halves]
                    for half, part in zip(halves, torch.split(whole, sizes, dim=0)):
                        getattr(half, pname).copy_(part)
        return split

    def to_single(self, device: str | torch.device | None = None) -> AlexNet:
        """The grouped single-device :class:`AlexNet` with these weights, on ``device`` (default ``devices[0]``)."""
        device = self.devices[0] if device is None else torch.device(device)
        model = AlexNet(**dataclasses.asdict(self.settings)).to(device)
        single_layers = dict(model.stages())
        with torch.no_grad():
            for name in LAYERS:
                for pname in ("weight", "bias"):
                    halves = [getattr(getattr(tower, name), pname).to(device) for tower in self.towers]
                    getattr(single_layers[name], pname).copy_(torch.cat(halves, dim=0))
        return model
