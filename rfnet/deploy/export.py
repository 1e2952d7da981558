"""Export a classifier to a deployable file — ONNX or TorchScript — checked against PyTorch's outputs.

>>> from rfnet.deploy.export import export_model
>>> result = export_model(model, "model.onnx", "onnx", num_samples=128)
>>> result.max_abs_diff, result.input_description

What each format holds:

- **TorchScript** (``torch.jit.trace``): the whole model, front end included. Input complex64 IQ
  ``[batch, num_samples]`` (any batch, the exported ``num_samples``), output logits float32
  ``[batch, classes]``. Load with ``torch.jit.load``; no rfnet needed. The trace drops the input checks
  (shape, NaN) that the Python model makes. ``torch.jit`` is deprecated upstream but still works.
- **ONNX** (``torch.onnx.export(dynamo=True)``): ONNX has no complex tensors, so IQ goes in as float32
  ``[batch, num_samples, 2]`` (I and Q interleaved, the layout of RadioML 2018 files). A raw-IQ model
  (VT-CNN2, RadioML ResNet) is exported whole. A spectrogram classifier's front end does **not** export
  with torch 2.14 (the exporter has no complex ``pad`` for the STFT's centring, and the TorchScript-based
  exporter no ``view_as_complex``), so its ONNX file is the backbone on float32 images
  ``[batch, C, H, W]``: compute them with ``model.frontend(iq)`` in PyTorch first.

Either file records the class names (logit order), its input and the model's arch: ONNX in
``metadata_props`` ``rfnet:classes`` (a JSON list), ``rfnet:input``, ``rfnet:arch``; TorchScript in the
extra file ``rfnet.json`` (``{"classes", "input", "arch"}``). The file appears only after
the exported model, run on a batch of a different size from the one it was traced with, matched
PyTorch's logits within ``tolerance``; otherwise ``ValueError`` and no file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rfnet.data.atomic import atomic_output
from rfnet.models import SpectrogramClassifier

FORMATS = ("onnx", "torchscript")
DEFAULT_TOLERANCE = 1e-3
"""Largest absolute difference of logits allowed between the exported model and PyTorch."""
EXPORT_BATCH = 2
CHECK_BATCH = 3
"""Batch sizes traced with and checked with: different, so a batch size baked into the file shows."""
METADATA_FILE = "rfnet.json"


@dataclass(frozen=True)
class ExportResult:
    """An exported model file and how it compares with PyTorch.

    input_description: what the file takes (dtype and shape); front_end_included: False when the file
    starts at the spectrogram image (ONNX of a spectrogram classifier); max_abs_diff: largest absolute
    difference between its logits and PyTorch's on random IQ.
    """

    path: Path
    format: str
    input_description: str
    front_end_included: bool
    max_abs_diff: float


def random_iq(batch: int, num_samples: int, seed: int = 0, device: str | torch.device = "cpu") -> torch.Tensor:
    """Unit-power complex Gaussian noise, complex64 ``[batch, num_samples]``, the same for the same seed."""
    generator = torch.Generator().manual_seed(seed)
    iq = torch.randn(batch, num_samples, dtype=torch.complex64, generator=generator)
    return iq.to(device)


class InterleavedIQ(nn.Module):
    """``model`` on float32 ``[B, N, 2]`` (I, Q last) instead of complex64 ``[B, N]``, for formats without
    complex tensors."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, iq_pairs: torch.Tensor) -> torch.Tensor:
        return self.model(torch.view_as_complex(iq_pairs))


@dataclass(frozen=True)
class OnnxPlan:
    """What goes into an ONNX file for a model: the module, how IQ becomes its input, and a description."""

    module: nn.Module
    to_input: Callable[[torch.Tensor], torch.Tensor]
    input_name: str
    input_description: str
    front_end_included: bool


def onnx_plan(model: nn.Module, num_samples: int) -> OnnxPlan:
    """The part of ``model`` that exports to ONNX (see the module docstring) and its input."""
    if isinstance(model, SpectrogramClassifier):
        height, width = model.frontend(random_iq(1, num_samples)).shape[-2:]
        channels = model.frontend.config.channels
        return OnnxPlan(model.backbone, model.frontend, "images",
                        f"float32 images [batch, {channels}, {height}, {width}] from model.frontend(iq) "
                        "(the front end stays in PyTorch)", False)
    return OnnxPlan(InterleavedIQ(model), lambda iq: torch.view_as_real(iq).contiguous(), "iq",
                    f"float32 IQ [batch, {num_samples}, 2] (I, Q)", True)


def _metadata(model: nn.Module, input_description: str) -> dict:
    """What a deployed file says about itself: ``classes`` (logit order), ``input`` and ``arch``."""
    return {"classes": list(getattr(model, "classes", [])), "input": input_description,
            "arch": getattr(model, "arch", type(model).__name__)}


def onnx_bytes(model: nn.Module, num_samples: int) -> tuple[bytes, OnnxPlan]:
    """The serialised ONNX model (dynamic batch, metadata included) of ``onnx_plan(model, num_samples)``."""
    plan = onnx_plan(model, num_samples)
    example = plan.to_input(random_iq(EXPORT_BATCH, num_samples, device=_device_of(model)))
    batch = torch.export.Dim("batch")
    shapes = ({0: batch},)
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(plan.module.eval(), (example,), dynamo=True, dynamic_shapes=shapes,
                                    input_names=[plan.input_name], output_names=["logits"], verbose=False)
    proto = program.model_proto
    for key, value in _metadata(model, plan.input_description).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = f"rfnet:{key}", value if isinstance(value, str) else json.dumps(value)
    return proto.SerializeToString(), plan


def onnx_session(model_bytes: bytes, device: str | torch.device = "cpu"):
    """An ``onnxruntime.InferenceSession`` of the model (bytes or a file name), on CUDA when ``device`` is
    and ORT has its CUDA execution provider, else on the CPU.

    Raises ``ImportError`` when onnxruntime is not installed (``pip install 'rfnet[onnx]'``).
    """
    import onnxruntime

    providers = ["CPUExecutionProvider"]
    if torch.device(device).type == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return onnxruntime.InferenceSession(model_bytes, providers=providers)


def _device_of(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _max_abs_diff(got: torch.Tensor | np.ndarray, expected: torch.Tensor) -> float:
    got = torch.as_tensor(got).to(expected.device, expected.dtype)
    if got.shape != expected.shape:
        raise ValueError(f"the exported model gives logits of shape {tuple(got.shape)}, "
                         f"PyTorch {tuple(expected.shape)}")
    return float((got - expected).abs().max())


def _export_onnx(model: nn.Module, num_samples: int, temporary: Path, iq: torch.Tensor) -> tuple[float, OnnxPlan]:
    model_bytes, plan = onnx_bytes(model, num_samples)
    temporary.write_bytes(model_bytes)
    session = onnx_session(str(temporary), iq.device)
    with torch.no_grad():
        inputs = plan.to_input(iq).cpu().numpy()
        got = session.run(None, {plan.input_name: inputs})[0]
        return _max_abs_diff(got, model(iq)), plan


def _export_torchscript(model: nn.Module, num_samples: int, temporary: Path, iq: torch.Tensor) -> float:
    example = random_iq(EXPORT_BATCH, num_samples, device=iq.device)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on the Python-side checks it drops, jit deprecation
        traced = torch.jit.trace(model, (example,), check_trace=False)
        extra = {METADATA_FILE: json.dumps(_metadata(model, torchscript_input(num_samples)))}
        torch.jit.save(traced, str(temporary), _extra_files=extra)
        reloaded = torch.jit.load(str(temporary), map_location=iq.device)
        return _max_abs_diff(reloaded(iq), model(iq))


def torchscript_input(num_samples: int) -> str:
    return f"complex64 IQ [batch, {num_samples}]"


def export_model(
    model: nn.Module,
    path: str | os.PathLike,
    fmt: str,
    num_samples: int,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ExportResult:
    """Write ``model`` (a classifier on complex64 IQ ``[B, num_samples]``) as ``fmt`` to ``path``.

    Raises ``ValueError`` for an unknown format, or when the exported model's logits differ from
    PyTorch's by more than ``tolerance`` (nothing is written then); ``FileNotFoundError`` when the output
    folder does not exist; ``ImportError`` for ONNX without the ``onnx`` extra installed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: choose one of {list(FORMATS)}")
    model = model.eval()
    iq = random_iq(CHECK_BATCH, num_samples, seed=1, device=_device_of(model))
    with atomic_output(path, suffix=f".{fmt}") as temporary:
        if fmt == "onnx":
            difference, plan = _export_onnx(model, num_samples, temporary, iq)
            described, included = plan.input_description, plan.front_end_included
        else:
            difference = _export_torchscript(model, num_samples, temporary, iq)
            described, included = torchscript_input(num_samples), True
        if not difference <= tolerance:
            raise ValueError(f"{path}: the exported {fmt} model differs from PyTorch by up to {difference:.3g} "
                             f"(tolerance {tolerance:g}); not written")
    return ExportResult(Path(path), fmt, described, included, difference)
