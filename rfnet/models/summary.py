"""Per-layer output shapes, parameter counts and multiply-accumulates (MACs) of a model."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LayerRow:
    """One conv / linear layer: ``name``, ``output`` shape (no batch), ``params``, ``macs`` per image."""

    name: str
    output: tuple[int, ...]
    params: int
    macs: int


def _macs(module: nn.Module, output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output[0].numel() * (module.in_channels // module.groups) * kh * kw
    return module.in_features * module.out_features


def summarize(model: nn.Module, input_shape: tuple[int, int, int]) -> list[LayerRow]:
    """Run one image of ``input_shape`` ``(C, H, W)`` through ``model`` and describe each conv / linear layer.

    Runs one zero image on the model's device, in eval mode; a model built on the ``meta`` device
    (``with torch.device("meta"): create_model(...)``) is described without allocating memory.
    """
    rows: list[LayerRow] = []
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            params = sum(p.numel() for p in module.parameters())

            def record(mod, _inputs, output, name=name, params=params):
                rows.append(LayerRow(name, tuple(output.shape[1:]), params, _macs(mod, output)))

            hooks.append(module.register_forward_hook(record))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return rows


def format_summary(rows: list[LayerRow]) -> str:
    """A plain-text table of ``rows`` with totals."""
    lines = [f"{'layer':<24} {'output':>16} {'params':>14} {'MACs':>15}"]
    for row in rows:
        shape = "x".join(str(n) for n in row.output)
        lines.append(f"{row.name:<24} {shape:>16} {row.params:>14,} {row.macs:>15,}")
    lines.append(f"{'total':<24} {'':>16} {sum(r.params for r in rows):>14,} {sum(r.macs for r in rows):>15,}")
    return "\n".join(lines)
