"""Execution modes: the same model run eagerly, compiled, channels-last, in reduced precision, through CUDA
graphs, dynamically quantised or in ONNX Runtime — each as a callable ``iq -> logits``.

>>> run = prepare(model, "int8", "cpu", num_samples=128)     # or skip_reason(...) first
>>> logits = run(iq)                                          # complex64 [B, 128] -> [B, classes]

=============== ======= ==============================================================================
mode            devices what runs
=============== ======= ==============================================================================
eager           both    the model as it is
compile         both    ``torch.compile(model, dynamic=False)`` (inductor; compiled anew per batch size)
channels_last   both    a copy with 4-D weights and every ``Conv2d`` input in channels-last layout
bf16, fp16      CUDA    ``torch.autocast`` to that type (matrix products and convolutions in it)
cuda_graphs     CUDA    ``torch.compile(model, backend="cudagraphs", dynamic=False)``: the forward pass
                        captured as a CUDA graph and replayed (no kernel fusion)
int8            CPU     ``torch.ao.quantization.quantize_dynamic`` of every ``nn.Linear`` to int8 weights
                        (activations quantised per batch); convolutions stay float32
onnxruntime     both    the ONNX export (:mod:`rfnet.deploy.export`) in an ONNX Runtime session; a
                        spectrogram classifier's front end runs in PyTorch before it
=============== ======= ==============================================================================

Torch modes run under ``torch.inference_mode``. A mode that does not apply to a device or model is
reported by :func:`skip_reason` with why, rather than failing.
"""

from __future__ import annotations

import copy
import importlib.util
import warnings
from collections.abc import Callable

import torch
from torch import nn

from .store import MODES

GPU_ONLY_MODES = ("bf16", "fp16", "cuda_graphs")
CPU_ONLY_MODES = ("int8",)

Runner = Callable[[torch.Tensor], object]
"""Complex64 IQ ``[B, N]`` → the model's logits (a tensor, or a numpy array from ONNX Runtime)."""


def check_modes(modes: list[str] | tuple[str, ...]) -> None:
    """``ValueError`` naming the unknown modes, if any."""
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        raise ValueError(f"--modes: unknown {unknown}; choose from {list(MODES)}")


def skip_reason(mode: str, device: str | torch.device, model: nn.Module) -> str | None:
    """Why ``mode`` cannot run ``model`` on ``device`` (a sentence), or None when it can."""
    check_modes([mode])
    kind = torch.device(device).type
    if mode in GPU_ONLY_MODES and kind != "cuda":
        return f"{mode} runs on a CUDA device only"
    if mode in CPU_ONLY_MODES and kind != "cpu":
        return "dynamic int8 quantisation runs on the CPU only"
    if mode == "channels_last" and not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return f"{type(model).__name__} has no 2-D convolutions to lay out channels-last"
    if mode == "int8" and not any(isinstance(m, nn.Linear) for m in model.modules()):
        return f"{type(model).__name__} has no linear layers to quantise"
    if mode == "onnxruntime":
        missing = [name for name in ("onnxruntime", "onnx", "onnxscript") if importlib.util.find_spec(name) is None]
        if missing:
            return f"{', '.join(missing)} not installed (pip install 'rfnet[onnx]')"
        import onnxruntime

        if kind == "cuda" and "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            return "this onnxruntime has no CUDA execution provider (pip install onnxruntime-gpu)"
    if mode == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bfloat16 support"
    return None


def prepare(model: nn.Module, mode: str, device: str | torch.device, num_samples: int) -> Runner:
    """``model`` (already on ``device``, in eval mode) as a callable running in ``mode``.

    The caller's model is not changed (modes that alter weights or layout work on a copy). Raises
    ``ValueError`` when :func:`skip_reason` gives a reason.
    """
    reason = skip_reason(mode, device, model)
    if reason is not None:
        raise ValueError(f"mode {mode}: {reason}")
    if mode == "onnxruntime":
        return _onnxruntime(model, device, num_samples)
    if mode == "compile":
        forward = torch.compile(model, dynamic=False)
    elif mode == "cuda_graphs":
        forward = torch.compile(model, backend="cudagraphs", dynamic=False)
    elif mode == "channels_last":
        forward = _channels_last(model)
    elif mode == "int8":
        forward = _dynamic_int8(model)
    elif mode in ("bf16", "fp16"):
        return _autocast(model, torch.bfloat16 if mode == "bf16" else torch.float16)
    else:
        forward = model
    return _inference(forward)


def _inference(forward: Callable[[torch.Tensor], torch.Tensor]) -> Runner:
    def run(iq: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return forward(iq)

    return run


def _autocast(model: nn.Module, dtype: torch.dtype) -> Runner:
    def run(iq: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast(iq.device.type, dtype=dtype):
            return model(iq)

    return run


def _to_channels_last(module: nn.Module, args: tuple) -> tuple:
    return (args[0].contiguous(memory_format=torch.channels_last), *args[1:])


def _channels_last(model: nn.Module) -> nn.Module:
    copied = copy.deepcopy(model).to(memory_format=torch.channels_last)
    for module in copied.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_pre_hook(_to_channels_last)
    return copied


def _dynamic_int8(model: nn.Module) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def _onnxruntime(model: nn.Module, device: str | torch.device, num_samples: int) -> Runner:
    from rfnet.deploy.export import onnx_bytes, onnx_session

    model_bytes, plan = onnx_bytes(model, num_samples)
    session = onnx_session(model_bytes, device)

    def run(iq: torch.Tensor) -> object:
        with torch.inference_mode():
            inputs = plan.to_input(iq).cpu().numpy()
        return session.run(None, {plan.input_name: inputs})[0]

    return run
