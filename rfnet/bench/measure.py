"""Measure one model in several modes at several batch sizes: :class:`Measurement` rows and what was skipped.

>>> subject = Subject.for_iq(model, name="alexnet", num_samples=128)
>>> outcome = measure(subject, ["eager", "int8"], [1, 64], "cpu")
>>> outcome.measurements, outcome.skipped
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .flops import Peak, compute_type, count_flops, device_peak
from .machine import describe_machine, software_versions
from .modes import check_modes, prepare, skip_reason
from .store import Measurement
from .timing import time_calls

RUN_ERRORS = (RuntimeError, ImportError, NotImplementedError)
"""Errors a mode may raise while preparing or running (a compiler or runtime that cannot take the model):
reported as that mode's failure, not raised."""


@dataclass(frozen=True)
class Subject:
    """A model to measure and how to make its input.

    model: in eval mode, on the device it is measured on. make_input: batch size → input tensor on that
    device (complex64 IQ ``[B, N]`` for rfnet classifiers). num_samples: N, which ONNX export needs.
    name: display name; arch: registry name; path: the folder it came from (``""`` if none).
    """

    model: nn.Module
    name: str
    arch: str
    path: str
    make_input: Callable[[int], torch.Tensor]
    num_samples: int | None = None

    @classmethod
    def for_iq(cls, model: nn.Module, name: str, num_samples: int, path: str = "", seed: int = 0) -> "Subject":
        """A classifier of complex64 IQ ``[B, num_samples]``, fed unit-power complex Gaussian noise (the
        time does not depend on what the samples are)."""
        from rfnet.deploy.export import random_iq

        device = next(model.parameters()).device

        def make_input(batch: int) -> torch.Tensor:
            return random_iq(batch, num_samples, seed=seed, device=device)

        return cls(model.eval(), name, getattr(model, "arch", type(model).__name__), path, make_input, num_samples)


@dataclass(frozen=True)
class Skipped:
    """A mode (at one batch size, or at all of them when ``batch_size`` is None) that was not measured."""

    model: str
    mode: str
    batch_size: int | None
    reason: str


@dataclass
class BenchOutcome:
    """Rows measured, modes skipped (with why), the peaks the fractions of peak refer to, and notes on
    what was assumed."""

    measurements: list[Measurement] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    peaks: dict[str, Peak] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: "BenchOutcome") -> None:
        self.measurements += other.measurements
        self.skipped += other.skipped
        self.peaks.update(other.peaks)
        self.notes += other.notes


def check_batch_sizes(batch_sizes: Sequence[int]) -> None:
    if not batch_sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in batch_sizes):
        raise ValueError(f"--batch-sizes must be positive integers, got {list(batch_sizes)}")


def measure(
    subject: Subject,
    modes: Sequence[str],
    batch_sizes: Sequence[int],
    device: str | torch.device,
    *,
    warmup: int = 3,
    repeats: int = 50,
    budget_s: float = 5.0,
    progress: Callable[[str], None] | None = None,
) -> BenchOutcome:
    """Time ``subject`` in each mode at each batch size on ``device`` (see :func:`rfnet.bench.time_calls`
    for ``warmup``, ``repeats`` and ``budget_s``).

    ``progress(label)`` is called after each (mode, batch size) point, measured or skipped.
    """
    check_modes(list(modes))
    check_batch_sizes(list(batch_sizes))
    device = torch.device(device)
    outcome = BenchOutcome()
    machine, versions = describe_machine(device), software_versions()
    flops = count_flops(subject.model, subject.make_input(1))
    for mode in modes:
        runner, reason = None, skip_reason(mode, device, subject.model)
        if reason is None:
            try:
                runner = prepare(subject.model, mode, device, subject.num_samples)
            except RUN_ERRORS as err:
                reason = f"failed to prepare: {_one_line(err)}"
        if runner is None:
            outcome.skipped.append(Skipped(subject.name, mode, None, reason))
            for batch in batch_sizes:
                _report(progress, subject, mode, batch)
            continue
        peak = None
        if flops is not None:
            compute = compute_type(mode, device)
            peak = outcome.peaks.setdefault(compute, device_peak(device, compute))
        for batch in batch_sizes:
            iq = subject.make_input(batch)
            try:
                timing = time_calls(lambda: runner(iq), device=device, warmup=warmup, repeats=repeats,
                                    budget_s=budget_s)
            except RUN_ERRORS as err:
                outcome.skipped.append(Skipped(subject.name, mode, batch, f"failed: {_one_line(err)}"))
            else:
                rate = batch / (timing.median_ms / 1e3)
                fraction = flops * rate / peak.flops_per_s if peak is not None else None
                outcome.measurements.append(Measurement(
                    model=subject.name, model_path=subject.path, arch=subject.arch, mode=mode, device=device.type,
                    batch_size=batch, median_ms=timing.median_ms, p90_ms=timing.p90_ms, p99_ms=timing.p99_ms,
                    examples_per_s=rate, flops_per_example=flops, peak_fraction=fraction, machine=machine,
                    versions=versions))
            _report(progress, subject, mode, batch)
    return outcome


def _report(progress: Callable[[str], None] | None, subject: Subject, mode: str, batch: int) -> None:
    if progress is not None:
        progress(f"{subject.name} {mode} b{batch}")


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"[:300]
