"""Putting a state dict into a model: key and shape checks with readable errors, input-channel adaptation."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn


def adapt_input_conv(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """Turn first-conv weights made for RGB into weights for ``in_chans`` input channels.

    ``weight`` is ``[out, 3, kh, kw]``. For one channel the RGB kernels are summed, so a grey image
    that repeats one plane three times gives the same response as before. For other counts the RGB
    kernels are tiled along the channel axis, cut to ``in_chans`` and scaled by ``3 / in_chans`` so the
    expected response to inputs of equal statistics keeps its size (the rule timm uses).
    """
    if weight.dim() != 4:
        raise ValueError(f"expected conv weights [out, in, kh, kw], got shape {tuple(weight.shape)}")
    have = weight.shape[1]
    if in_chans == have:
        return weight
    if have != 3:
        raise ValueError(f"can only adapt 3-channel conv weights, these have {have} input channels")
    if in_chans == 1:
        return weight.sum(dim=1, keepdim=True)
    tiled = weight.repeat(1, math.ceil(in_chans / 3), 1, 1)[:, :in_chans]
    return tiled * (3 / in_chans)


def load_checked_state_dict(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    source: str,
    input_conv_key: str | None = None,
) -> None:
    """Load ``state_dict`` into ``model`` exactly, or raise one ``ValueError`` that names what does not fit.

    ``source`` names where the weights came from (a path, "state dict") for the message. When
    ``input_conv_key`` is given and the weights there are RGB while the model takes 1 or 2 channels,
    they are adapted with :func:`adapt_input_conv` first.
    """
    expected = model.state_dict()
    state = dict(state_dict)
    if input_conv_key is not None and input_conv_key in state and input_conv_key in expected:
        want = expected[input_conv_key].shape[1]
        if state[input_conv_key].dim() == 4 and state[input_conv_key].shape[1] == 3 != want:
            state[input_conv_key] = adapt_input_conv(state[input_conv_key], want)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = [
        f"{key}: file {tuple(state[key].shape)} vs model {tuple(expected[key].shape)}"
        for key in expected
        if key in state and tuple(state[key].shape) != tuple(expected[key].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    if wrong_shape:
        problems.append(f"mismatched shapes [{'; '.join(wrong_shape)}]")
    if problems:
        raise ValueError(
            f"weights from {source} do not fit {type(model).__name__}: " + ", ".join(problems)
        )
    model.load_state_dict(state)
