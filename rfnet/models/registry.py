"""Model names → builders, so a saved config can rebuild its model with no other arguments."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from rfnet.seeding import torch_seeded

_MODELS: dict[str, type[nn.Module]] = {}


def register_model(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator: make ``create_model(name, **config)`` build this class."""

    def add(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _MODELS:
            raise ValueError(f"model name {name!r} is already registered to {_MODELS[name].__name__}")
        _MODELS[name] = cls
        return cls

    return add


def list_models() -> list[str]:
    """The names ``create_model`` accepts."""
    return sorted(_MODELS)


def create_model(name: str, seed: int | None = None, **config) -> nn.Module:
    """Build the model registered as ``name`` with keyword ``config`` (e.g. ``num_classes=11, in_chans=1``).

    With ``seed`` its starting weights are drawn from that seed alone (and torch's global generator is left
    as it was); without, from torch's global generator.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; available: {list_models()}")
    if seed is None:
        return _MODELS[name](**config)
    with torch_seeded(seed):
        return _MODELS[name](**config)
