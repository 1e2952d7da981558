"""``rfnet classify``: cut a SigMF recording into windows, classify each, write the predictions as annotations.

>>> from rfnet.jobs.classify import classify_recording, format_table
>>> result = classify_recording("capture.sigmf-meta", "run")   # a finetune run folder, or run/best
>>> print(format_table(result))           # start sample, start time (s), class, confidence
>>> result.output                          # capture.rfnet.sigmf-meta (+ .sigmf-data): IQ copied, one
...                                        # annotation per window

Window length: ``window`` if given (a raw-IQ baseline takes only its own), else what the model was trained on,
which the model records (``model.input_spec.num_samples``; for a model saved by an older rfnet see
:func:`rfnet.jobs.run_folder.open_model`, whose note the result carries). The model's training sample rate
comes from the model too (``sample_rate_hz``); a recording at another rate, or with either rate unknown, is
classified anyway, with a warning saying what was assumed (no resampling is done).

The output recording keeps the input's samples byte for byte (same ``core:datatype``), its global fields,
captures and annotations, and adds one annotation per window: ``core:label`` (the predicted class),
``core:generator``, ``rfnet:confidence`` (softmax probability of that class) and ``rfnet:model`` (the model's
architecture name); the global ``rfnet:classify`` records the model folder, its classes, window and hop.
It is written to temporary names and renamed (data first, then metadata), after ``sigmf`` validated it,
and never over the input.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sigmf
import torch
from sigmf.sigmffile import get_sigmf_filenames
from torch import nn

from rfnet import __version__
from rfnet.data.atomic import temporary_sibling
from rfnet.data.sigmf_io import SigMFRecording, open_sigmf
from rfnet.jobs.run_folder import open_model
from rfnet.train.distributed import resolve_device

CONFIDENCE_KEY = "rfnet:confidence"
MODEL_KEY = "rfnet:model"
CLASSIFY_KEY = "rfnet:classify"
_EXTENSION = {"name": "rfnet", "version": __version__, "optional": True}
#: Global / capture fields that describe the input's data file layout, not the samples we write.
_LAYOUT_GLOBAL_KEYS = ("core:sha512", "core:dataset", "core:metadata_only", "core:trailing_bytes")


@dataclass(frozen=True)
class WindowPrediction:
    """One classified window: samples ``[start, start + window)``; ``time_s`` is ``start`` / sample rate
    (NaN when the recording has no ``core:sample_rate``); ``confidence`` the class's softmax probability."""

    start: int
    time_s: float
    label: str
    confidence: float


@dataclass(frozen=True)
class ClassifyResult:
    """What :func:`classify_recording` did: the windows' predictions and the file it wrote.

    notes: assumptions made (where the window length came from when an old model does not record it).
    warnings: what the user should check: the sample rate differs from the model's, or either is unknown.
    """

    input: Path
    output: Path
    model: Path
    arch: str
    window: int
    hop: int
    sample_rate_hz: float | None
    predictions: tuple[WindowPrediction, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]


def sample_rate_warnings(trained_hz: float | None, recording_hz: float | None) -> list[str]:
    """Warnings (none when all is well) comparing the recording's sample rate with the model's training rate."""
    if recording_hz is None:
        return ["the recording has no core:sample_rate: times are not given and the sample rate "
                "cannot be checked against the model's"]
    if trained_hz is None:
        return [f"the model's training sample rate is unknown (no sample_rate_hz recorded with it); assuming "
                f"the recording's {recording_hz:g} Hz matches it"]
    if not math.isclose(trained_hz, recording_hz, rel_tol=1e-9):
        return [f"the recording's sample rate {recording_hz:g} Hz differs from the model's training "
                f"rate {trained_hz:g} Hz; classifying without resampling, as if it were {trained_hz:g} Hz"]
    return []


def output_path(input_path: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Where the annotated copy goes: ``out``, or ``<input stem>.rfnet.sigmf-meta`` next to the input.

    ``out`` ending in ``.sigmf`` gives an archive, anything else a ``.sigmf-meta``/``.sigmf-data`` pair.
    Raises ``ValueError`` when the output would replace (or share a name with) the input's files.
    """
    inputs = get_sigmf_filenames(Path(input_path))
    if out is None:
        return inputs["meta_fn"].with_name(f"{inputs['base_fn'].name}.rfnet.sigmf-meta")
    out = Path(out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: output folder {out.parent} does not exist")
    outputs = get_sigmf_filenames(out)
    input_files = [inputs[k] for k in ("meta_fn", "data_fn", "archive_fn")]
    output_files = [outputs[k] for k in ("meta_fn", "data_fn", "archive_fn")]
    same = outputs["base_fn"].resolve() == inputs["base_fn"].resolve() or any(
        a.exists() and b.exists() and os.path.samefile(a, b) for a in input_files for b in output_files)
    if same:
        raise ValueError(f"--out {out}: that is the input recording {input_path}; "
                         "choose another name (the input is never overwritten)")
    return out if out.name.endswith(".sigmf") else outputs["meta_fn"]


def _window_starts(num_samples: int, window: int, hop: int) -> np.ndarray:
    return np.arange(0, num_samples - window + 1, hop, dtype=np.int64)


@torch.inference_mode()
def predict_windows(
    model: nn.Module,
    recording: SigMFRecording,
    window: int,
    hop: int,
    *,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify windows ``[s, s + window)`` for ``s = 0, hop, 2 hop, ...`` (all wholly inside the recording).

    Returns ``(starts int64 [M], labels int64 [M], confidences float32 [M])``; ``progress(done, total)``
    is called after each batch with the windows it classified and the total number of windows.
    Raises ``ValueError`` when a window holds NaN or Inf samples.
    """
    device = next(model.parameters()).device
    starts = _window_starts(recording.num_samples, window, hop)
    labels, confidences = [], []
    for first in range(0, len(starts), batch_size):
        batch = starts[first:first + batch_size]
        span = recording.read(int(batch[0]), int(batch[-1] - batch[0]) + window)
        iq = span.unfold(0, window, hop) if hop <= window else torch.stack(
            [span[s:s + window] for s in (batch - batch[0]).tolist()])
        probabilities = torch.softmax(model(iq.contiguous().to(device)).float(), dim=1)
        confidence, label = probabilities.max(dim=1)
        labels.append(label.cpu().numpy())
        confidences.append(confidence.cpu().numpy())
        if progress is not None:
            progress(len(batch), len(starts))
    return starts, np.concatenate(labels).astype(np.int64), np.concatenate(confidences).astype(np.float32)


def _annotated_metadata(recording: SigMFRecording, predictions: list[dict], classify_info: dict) -> dict:
    global_info = {k: v for k, v in recording.global_info.items() if k not in _LAYOUT_GLOBAL_KEYS}
    extensions = [e for e in global_info.get("core:extensions", []) if e.get("name") != "rfnet"]
    global_info["core:extensions"] = extensions + [_EXTENSION]
    global_info[CLASSIFY_KEY] = classify_info
    captures = [{k: v for k, v in c.items() if k != "core:header_bytes"} for c in recording.captures]
    annotations = [dict(a.metadata) for a in recording.annotations] + predictions
    annotations.sort(key=lambda a: a["core:sample_start"])  # stable: the input's own annotations first
    return {"global": global_info, "captures": captures, "annotations": annotations}


def write_annotated_copy(recording: SigMFRecording, path: Path, predictions: list[dict], classify_info: dict) -> Path:
    """Write ``recording``'s samples and metadata plus ``predictions`` (annotation dicts) to ``path``.

    ``path`` ends in ``.sigmf`` (archive) or ``.sigmf-meta`` (pair). Validated with ``sigmf`` before any
    file appears under its final name; data renamed first, then metadata. Returns the metadata / archive path.
    """
    names = get_sigmf_filenames(path)
    data_temporary = temporary_sibling(names["data_fn"], suffix=".sigmf-data")
    final_temporary = None
    try:
        recording.copy_sample_bytes(data_temporary)
        handle = sigmf.SigMFFile(metadata=_annotated_metadata(recording, predictions, classify_info),
                                 data_file=data_temporary)
        handle.validate()
        if path.name.endswith(".sigmf"):
            final_temporary = temporary_sibling(names["archive_fn"])
            with open(final_temporary, "wb") as archive:
                handle.archive(name=names["base_fn"].name, fileobj=archive)
            os.replace(final_temporary, names["archive_fn"])
            return names["archive_fn"]
        final_temporary = temporary_sibling(names["meta_fn"])
        with open(final_temporary, "w", encoding="utf-8") as meta:
            handle.dump(meta)
            meta.write("\n")
        os.replace(data_temporary, names["data_fn"])
        os.replace(final_temporary, names["meta_fn"])
        return names["meta_fn"]
    finally:
        for temporary in (data_temporary, final_temporary):
            if temporary is not None:
                temporary.unlink(missing_ok=True)


def classify_recording(
    recording_path: str | os.PathLike,
    model_dir: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    window: int | None = None,
    hop: int | None = None,
    batch_size: int = 256,
    device: str | torch.device = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> ClassifyResult:
    """Classify ``recording_path`` window by window with the model saved in ``model_dir``; write the annotated copy.

    Args:
        recording_path: ``x.sigmf-meta`` (or ``x.sigmf-data``, ``x``) or a ``x.sigmf`` archive.
        model_dir: a folder written by :func:`rfnet.models.save` (e.g. ``run/best``) or a finetune run
            folder (``run``; its ``best/`` is used).
        out: output ``.sigmf-meta`` or ``.sigmf`` (default ``<input stem>.rfnet.sigmf-meta`` beside the input).
        window: samples per window (default: the model's own length; see the module docstring).
        hop: samples between window starts (default ``window``: back to back, no overlap).
        batch_size: windows per forward pass.
        device: where the model runs (``"auto"``: cuda if available, else cpu).
        progress: ``progress(done, total)`` after each batch: windows it classified, windows in all.

    Raises:
        FileNotFoundError: no such recording or model folder, or no output folder.
        ValueError: a corrupt model, a recording shorter than one window, NaN/Inf samples, a bad
            argument, or an output that would replace the input.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"--batch-size must be a positive int, got {batch_size!r}")
    if hop is not None and (isinstance(hop, bool) or not isinstance(hop, int) or hop < 1):
        raise ValueError(f"--hop must be a positive number of samples, got {hop!r}")
    destination = output_path(recording_path, out)
    recording = open_sigmf(recording_path)
    saved = open_model(model_dir, resolve_device(device))
    length = saved.input_length(window)
    hop = length if hop is None else hop
    if recording.num_samples < length:
        raise ValueError(f"{recording_path}: {recording.num_samples} samples, shorter than one "
                         f"{length}-sample window of model {saved.arch!r}")
    warnings = sample_rate_warnings(saved.model.input_spec.sample_rate_hz, recording.sample_rate_hz)
    notes = list(saved.notes) if window is None else []
    starts, labels, confidences = predict_windows(saved.model, recording, length, hop, batch_size=batch_size,
                                                  progress=progress)
    rate = recording.sample_rate_hz
    classes = list(saved.model.classes)
    predictions = tuple(
        WindowPrediction(int(s), float(s) / rate if rate else math.nan, classes[k], float(c))
        for s, k, c in zip(starts.tolist(), labels.tolist(), confidences.tolist()))
    generator = f"rfnet {__version__} classify"
    annotations = [{"core:sample_start": p.start, "core:sample_count": length, "core:label": p.label,
                    "core:generator": generator, CONFIDENCE_KEY: p.confidence, MODEL_KEY: saved.arch}
                   for p in predictions]
    classify_info = {"model": str(saved.folder), "arch": saved.arch, "classes": classes,
                     "window_samples": length, "hop_samples": hop}
    written = write_annotated_copy(recording, destination, annotations, classify_info)
    return ClassifyResult(input=Path(recording_path), output=written, model=saved.folder, arch=saved.arch,
                          window=length, hop=hop, sample_rate_hz=rate, predictions=predictions,
                          notes=tuple(notes), warnings=tuple(warnings))


def format_table(result: ClassifyResult) -> str:
    """The predictions as a text table: start sample, start time in seconds, class, confidence."""
    width = max([len("class")] + [len(p.label) for p in result.predictions])
    rate = result.sample_rate_hz
    decimals = max(3, math.ceil(-math.log10(result.hop / rate)) + 3) if rate else 0  # hop to 3 digits
    lines = [f"{'start':>10}  {'time_s':>12}  {'class':<{width}}  confidence"]
    for p in result.predictions:
        time = "-" if math.isnan(p.time_s) else f"{p.time_s:.{decimals}f}"
        lines.append(f"{p.start:>10}  {time:>12}  {p.label:<{width}}  {p.confidence:10.4f}")
    return "\n".join(lines)
