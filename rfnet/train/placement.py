"""Where a model's parameters live: one device (the Trainer moves it there) or several (it stays put).

A model split over devices, like the paper's :class:`~rfnet.models.TwoTowerAlexNet`, says so with a
``devices`` attribute (a sequence of torch devices; its parameters already live there). It takes its
input on ``devices[0]`` and returns its logits there. Such a model is saved in its single-device form,
``to_single(device)``, and refilled from one with ``type(model).from_single(single, devices)``.
"""

from __future__ import annotations

import torch
from torch import nn


def model_devices(model: nn.Module) -> tuple[torch.device, ...] | None:
    """The devices a split model declares (``model.devices``), or ``None`` for a one-device model."""
    devices = getattr(model, "devices", None)
    return None if devices is None else tuple(torch.device(d) for d in devices)


def place(model: nn.Module, device: torch.device) -> torch.device:
    """Move a one-device model to ``device``; leave a split model where it is. Returns the input device."""
    devices = model_devices(model)
    if devices is None:
        model.to(device)
        return device
    return devices[0]


def single_device_form(model: nn.Module) -> nn.Module:
    """What to save: ``model.to_single("cpu")`` for a split model, else ``model`` itself."""
    return model.to_single("cpu") if model_devices(model) is not None else model


def load_single_device_form(model: nn.Module, single: nn.Module) -> None:
    """Copy the weights of ``single`` (as :func:`single_device_form` gave) into ``model``, in place."""
    if model_devices(model) is not None:
        single = type(model).from_single(single, devices=model.devices)
    model.load_state_dict(single.state_dict())
