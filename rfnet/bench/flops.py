"""FLOPs of a forward pass and the peak FLOP/s a device could reach, for "fraction of peak".

FLOPs are what ``torch.utils.flop_counter.FlopCounterMode`` counts: matrix products and convolutions (a
multiply-add is 2 FLOPs). The front end's STFT and element-wise work are not counted, so for a spectrogram
classifier the count is that of its resize matrices and its backbone.

The peak is, for a GPU in :data:`GPU_PEAK_TFLOPS`, NVIDIA's datasheet figure for dense math in the mode's
compute type; for any other device it is *measured*: the best rate of a large square matrix product
on this device, a ceiling that real models do not reach but a fair yardstick across modes and machines.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .timing import time_calls

GPU_PEAK_TFLOPS: dict[str, dict[str, float]] = {
    # name pattern (searched in torch.cuda.get_device_name): dense TFLOP/s by compute type (datasheets)
    r"H200": {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4},
    r"H100.*PCIe": {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0, "fp16": 756.0},
    r"H100": {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4},  # SXM5
    r"A100": {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0},
    r"V100": {"fp32": 15.7, "fp16": 125.0},
    r"\bT4\b": {"fp32": 8.1, "fp16": 65.0},
}
"""Peak TFLOP/s of known GPUs, dense (no structured sparsity), by compute type; first matching name wins."""

MEASURED_MATMUL_SIDE = {"cpu": 1024, "cuda": 8192}
"""Side of the square matrices multiplied to measure a peak, per device type."""


@dataclass(frozen=True)
class Peak:
    """A device's peak rate: FLOP/s and where the figure comes from (a datasheet, or a measurement)."""

    flops_per_s: float
    source: str


def count_flops(model: nn.Module, example: torch.Tensor) -> float | None:
    """FLOPs of ``model(example)`` per example (the batch's total over its size), or None when nothing
    countable ran (a model of element-wise ops only)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(example)
    total = counter.get_total_flops()
    return total / example.shape[0] if total > 0 else None


def compute_type(mode: str, device: str | torch.device) -> str:
    """The arithmetic a mode runs its matrix products in: ``"bf16"``, ``"fp16"``, ``"tf32"`` (fp32 modes on
    a GPU where cuDNN may use TF32, torch's default) or ``"fp32"``."""
    if mode in ("bf16", "fp16"):
        return mode
    if torch.device(device).type == "cuda" and torch.backends.cudnn.allow_tf32:
        return "tf32"
    return "fp32"


def device_peak(device: str | torch.device, compute: str = "fp32") -> Peak:
    """The peak FLOP/s of ``device`` in ``compute`` (see :func:`compute_type`): a datasheet figure for a GPU
    in :data:`GPU_PEAK_TFLOPS`, else measured (cached per device and compute type for the process)."""
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for pattern, peaks in GPU_PEAK_TFLOPS.items():
            if re.search(pattern, name):
                key = compute if compute in peaks else "fp32" if compute == "tf32" else None
                if key is not None:
                    return Peak(peaks[key] * 1e12, f"datasheet peak of {name}, dense {key}")
    return _measured_peak(str(device), compute)


@functools.lru_cache(maxsize=None)
def _measured_peak(device: str, compute: str) -> Peak:
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(compute, torch.float32)
    side = MEASURED_MATMUL_SIDE[torch.device(device).type]
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(side, side, device=device, dtype=dtype, generator=generator)
    b = torch.randn(side, side, device=device, dtype=dtype, generator=generator)
    timing = time_calls(lambda: torch.mm(a, b), device=device, warmup=2, repeats=10, budget_s=1.0)
    best_s = min(timing.times_ms) / 1e3
    return Peak(2 * side**3 / best_s, f"measured: best {side}x{side} {str(dtype).removeprefix('torch.')} "
                                      f"matrix product on this {torch.device(device).type}")
