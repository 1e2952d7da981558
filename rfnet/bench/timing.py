"""Wall time of repeated calls: warm-up, many repeats, median and tail percentiles.

>>> timing = time_calls(lambda: model(iq), device="cpu", warmup=3, repeats=50, budget_s=5.0)
>>> timing.median_ms, timing.p90_ms, timing.p99_ms

On CPU each call is timed with ``time.perf_counter``. On CUDA each call is bracketed by two CUDA events
on the current stream and the device is synchronised once after the last call, so kernel launches are
not mistaken for the work (nor is a synchronisation after every call added to it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

MIN_REPEATS = 5
"""Calls always timed, whatever the time budget, so the percentiles rest on more than one number."""


@dataclass(frozen=True)
class Timing:
    """The wall times of the timed calls, in milliseconds, in call order."""

    times_ms: tuple[float, ...]

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100, linear interpolation between calls) in milliseconds."""
        return float(np.percentile(np.asarray(self.times_ms), q))

    @property
    def median_ms(self) -> float:
        return self.percentile(50)

    @property
    def p90_ms(self) -> float:
        return self.percentile(90)

    @property
    def p99_ms(self) -> float:
        return self.percentile(99)


def time_calls(
    call: Callable[[], object],
    *,
    device: str | torch.device = "cpu",
    warmup: int = 3,
    repeats: int = 50,
    budget_s: float = 5.0,
) -> Timing:
    """Call ``call()`` ``warmup`` times untimed, then time up to ``repeats`` calls.

    Timing stops early once the timed calls add up to ``budget_s`` seconds and at least
    :data:`MIN_REPEATS` (or ``repeats``, if fewer) have run, so a slow model is timed fewer times rather
    than for minutes. Raises ``ValueError`` for a non-positive ``repeats`` or a negative ``warmup``.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    cuda = torch.device(device).type == "cuda"
    for _ in range(warmup):
        call()
    minimum = min(MIN_REPEATS, repeats)
    if cuda:
        return _time_cuda(call, repeats, minimum, budget_s)
    times = []
    while len(times) < repeats and (len(times) < minimum or sum(times) < budget_s * 1e3):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return Timing(tuple(times))


def _time_cuda(call: Callable[[], object], repeats: int, minimum: int, budget_s: float) -> Timing:
    torch.cuda.synchronize()
    events = []
    began = time.perf_counter()
    while len(events) < repeats and (len(events) < minimum or time.perf_counter() - began < budget_s):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        call()
        end.record()
        events.append((start, end))
    torch.cuda.synchronize()
    return Timing(tuple(start.elapsed_time(end) for start, end in events))
