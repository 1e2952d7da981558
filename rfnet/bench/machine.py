"""What a measurement ran on: a one-line machine description and the software versions."""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

import torch

VERSIONED_PACKAGES = ("torchvision", "torchaudio", "numpy", "onnxruntime")
"""Packages whose versions a measurement records when they are installed."""


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``, else the architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_machine(device: str | torch.device) -> str:
    """``"<GPU name>, CUDA <version>"`` for a CUDA device; ``"<CPU model>, <n> threads"`` for the CPU,
    n being the threads torch computes with (``torch.get_num_threads()``)."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}"
    return f"{cpu_name()}, {torch.get_num_threads()} threads"


def software_versions() -> dict[str, str]:
    """``{"rfnet", "python", "torch" (with its build tag, e.g. ``2.14.1+cu130``) and each installed package
    of VERSIONED_PACKAGES}`` → version strings."""
    from rfnet import __version__

    versions = {"rfnet": __version__, "python": platform.python_version(), "torch": torch.__version__}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
