"""Band-limited interpolation of complex baseband IQ: values between samples, fractional delays and
resampling by a clock that runs fast, slow or drifting.

All functions take complex64 IQ of shape ``[batch, samples]`` and work on its device. Positions and
delays are in samples of the input; clock offsets are relative (``1e-4`` is 100 ppm). The interpolator is
a Kaiser-windowed sinc of ``2 * half_width`` taps, tabulated at ``SINC_TABLE_PHASES`` fractions of a
sample; samples needed from outside an example are its nearest edge sample, so nothing reads zeros.

The channel model (:mod:`rfnet.dsp.channel`) uses these for its timing offset, sample-rate offset and
multipath delays; they are useful on their own (e.g. aligning or re-timing recordings).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from rfnet.dsp.power import check_iq, per_example, per_example_or_sample

__all__ = [
    "check_half_width",
    "delay_paths",
    "delayed_copies",
    "fractional_delay",
    "interpolate",
    "resample",
    "resample_unchecked",
    "sinc_weights",
]

KAISER_BETA = 7.0
"""Shape of the Kaiser window on the interpolating sinc; with 16 taps (half width 8) a tone up to
0.35 cycles/sample is delayed with a maximum error below 1e-3 of its amplitude."""

SINC_TABLE_PHASES = 4096
"""Fractional positions the interpolator's weights are tabulated at (per sample)."""

SLICED_SHIFTS_MAX = 4
"""``interpolate`` reads its taps as plain slices (no gather) when the floor of the positions minus the
output index takes at most this many values over the batch (delays and clock offsets of a few samples)."""


def _exclusive_cumsum(values: torch.Tensor) -> torch.Tensor:
    """``out[..., n] = sum_{k<n} values[..., k]`` along the last axis (``out[..., 0] = 0``)."""
    return F.pad(torch.cumsum(values[..., :-1], dim=-1), (1, 0))


def check_half_width(half_width: int) -> None:
    if not isinstance(half_width, int) or half_width < 1:
        raise ValueError(f"half_width must be a positive integer, got {half_width!r}")


@functools.lru_cache(maxsize=8)
def _sinc_table(half_width: int) -> torch.Tensor:
    """float32 ``[2 * half_width, SINC_TABLE_PHASES + 1]``: column ``i`` holds the taps (at offsets
    ``1 - half_width ... half_width`` from the floor of the position) for the fractional part
    ``i / SINC_TABLE_PHASES``; each column sums to 1 (unit gain at DC). The whole-sample columns (0 and
    the last) are exactly one tap of 1, so a whole-sample delay is an exact shift."""
    offsets = torch.arange(1 - half_width, half_width + 1, dtype=torch.float64).unsqueeze(-1)
    fractions = torch.arange(SINC_TABLE_PHASES + 1, dtype=torch.float64) / SINC_TABLE_PHASES
    distance = offsets - fractions
    taper = torch.sqrt((1 - (distance / half_width) ** 2).clamp(min=0))
    window = torch.special.i0(KAISER_BETA * taper) / torch.special.i0(torch.tensor(KAISER_BETA))
    table = torch.sinc(distance) * window
    table = table / table.sum(dim=0, keepdim=True)
    table[:, 0] = (distance[:, 0] == 0).double()
    table[:, -1] = (distance[:, -1] == 0).double()
    return table.float()


@functools.lru_cache(maxsize=32)
def _relative_sinc_table(half_width: int, shifts: int, device: torch.device) -> torch.Tensor:
    """float32 ``[2 * half_width + shifts - 1, shifts * SINC_TABLE_PHASES + 1]``, the taps by position
    relative to the output index, kept on ``device`` (not copied there per call). Column ``c`` is for a
    position ``c / SINC_TABLE_PHASES`` samples after the lowest whole-sample offset ``L``
    (``shift = c // SINC_TABLE_PHASES`` whole samples and the remaining fraction); row ``j`` holds the
    weight of the sample ``L + 1 - half_width + j`` samples from the output index: tap ``j - shift`` of
    ``_sinc_table``, zero where there is no such tap."""
    table = _sinc_table(half_width)
    taps = table.shape[0]
    columns = torch.arange(shifts * SINC_TABLE_PHASES + 1)
    shift = torch.div(columns, SINC_TABLE_PHASES, rounding_mode="floor").clamp(max=shifts - 1)
    phase = columns - shift * SINC_TABLE_PHASES
    tap = torch.arange(taps + shifts - 1).unsqueeze(-1) - shift
    weights = table[tap.clamp(0, taps - 1), phase]
    return torch.where((tap >= 0) & (tap < taps), weights, torch.zeros(())).to(device)


def sinc_weights(fraction: torch.Tensor, half_width: int = 8) -> torch.Tensor:
    """Interpolation weights for fractional positions ``fraction`` in ``[0, 1]`` (any shape ``S``).

    Returns float32 ``[2 * half_width, *S]``: the weights of the samples at offsets
    ``1 - half_width ... half_width`` from the floor of the position. Looked up in a table of
    ``SINC_TABLE_PHASES`` fractions (timing error at most ``1 / (2 * SINC_TABLE_PHASES)`` sample).
    """
    check_half_width(half_width)
    table = _sinc_table(half_width).to(fraction.device)
    index = torch.round(fraction.double() * SINC_TABLE_PHASES).long()
    return torch.index_select(table, 1, index.reshape(-1)).view(2 * half_width, *index.shape)


def _pad_edges(iq: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """``iq`` with its first sample repeated ``before`` times in front and its last ``after`` behind."""
    batch = iq.shape[0]
    return torch.cat([iq[:, :1].expand(batch, before), iq, iq[:, -1:].expand(batch, after)], dim=1)


def interpolate(iq: torch.Tensor, positions: torch.Tensor, *, half_width: int = 8) -> torch.Tensor:
    """Band-limited values of each example at fractional sample positions.

    iq: complex64 ``[batch, samples]``. positions: float ``[batch, outputs]`` in samples of ``iq``
    (float64 recommended for long signals). Uses a Kaiser-windowed sinc of ``2 * half_width`` taps
    (``sinc_weights``); the example is extended beyond its ends by repeating its edge samples.
    Returns complex64 ``[batch, outputs]``.
    """
    check_iq(iq)
    if positions.dim() != 2 or positions.shape[0] != iq.shape[0] or positions.is_complex():
        raise ValueError(f"positions must be real with shape [{iq.shape[0]}, outputs], "
                         f"got shape {tuple(positions.shape)}")
    check_half_width(half_width)
    positions = positions.to(device=iq.device, dtype=torch.float64)
    if not bool(torch.isfinite(positions.sum())) and not bool(torch.isfinite(positions).all()):
        raise ValueError("positions must be finite")
    return _interpolate(iq, positions, half_width)


def _interpolate(iq: torch.Tensor, positions: torch.Tensor, half_width: int) -> torch.Tensor:
    """``interpolate`` without the argument checks; positions float64 ``[batch, outputs]``."""
    batch, samples = iq.shape
    outputs = positions.shape[1]
    phases = SINC_TABLE_PHASES
    index = torch.arange(outputs, device=iq.device, dtype=torch.float64)
    # Beyond half_width samples outside the example every tap reads the repeated edge sample. Each
    # position is then held as a whole number of table steps from its output's index.
    relative = positions.clamp(-half_width, samples - 1 + half_width).sub_(index)
    steps = relative.mul_(phases).round_()
    lowest, highest = (int(value) for value in torch.aminmax(steps))
    steps = steps.to(torch.int32 if max(-lowest, highest) < 2 ** 31 else torch.int64)  # int32: faster
    lowest, highest = lowest // phases, highest // phases
    shifts = highest - lowest + 1
    if shifts <= SLICED_SHIFTS_MAX:
        # Delays and clock offsets of a few samples: row j of the relative table weights the samples
        # `first + j` after each output's index, a plain slice of the padded example.
        table = _relative_sinc_table(half_width, shifts, iq.device)
        columns = steps.sub_(lowest * phases).view(-1)
        first = lowest + 1 - half_width
        before, after = max(0, -first), max(0, outputs - samples + highest + half_width)

        def tap_values(planes: torch.Tensor, row: int) -> torch.Tensor:
            start = before + first + row
            return planes[..., start:start + outputs]
    else:
        table = _sinc_table(half_width).to(iq.device)
        columns = torch.remainder(steps, phases).view(-1)
        before = after = 2 * half_width
        # index in the padded example of each output's first tap, floor(position) + 1 - half_width
        first_tap = torch.div(steps, phases, rounding_mode="floor") + (index.long() + before + 1 - half_width)
        first_tap = first_tap.unsqueeze(1).expand(batch, 2, outputs)

        def tap_values(planes: torch.Tensor, row: int) -> torch.Tensor:
            # Gathering `first_tap` from the view that starts `row` samples later reads tap `row`.
            return torch.gather(planes[..., row:], 2, first_tap)
    # float32 [batch, 2 (real, imaginary), before + samples + after], the edge samples repeated
    rails = torch.view_as_real(iq).transpose(1, 2)
    planes = torch.cat([rails[..., :1].expand(batch, 2, before), rails,
                        rails[..., -1:].expand(batch, 2, after)], dim=-1)
    total = None
    for row, row_weights in enumerate(table):
        # One 1-D lookup per row (faster than one index_select across the 2-D table), weighting the
        # real and the imaginary plane alike.
        weight = torch.index_select(row_weights, 0, columns).view(batch, 1, outputs)
        if total is None:
            total = tap_values(planes, row) * weight
        else:
            total.addcmul_(tap_values(planes, row), weight)
    return torch.complex(total[:, 0], total[:, 1])


def fractional_delay(iq: torch.Tensor, delay: float | torch.Tensor, *,
                     half_width: int = 8) -> torch.Tensor:
    """Delay each example by ``delay`` samples (a number or float ``[batch]``, fractional allowed):
    ``y[n] = x(n - delay)``. Returns complex64 ``[batch, samples]``."""
    check_iq(iq)
    check_half_width(half_width)
    batch, samples = iq.shape
    delay = per_example(delay, batch, "delay", iq.device, torch.float64).unsqueeze(-1)
    times = torch.arange(samples, device=iq.device, dtype=torch.float64)
    return _interpolate(iq, times - delay, half_width)


def resample(iq: torch.Tensor, sample_rate_offset: float | torch.Tensor, *,
             delay: float | torch.Tensor = 0.0, half_width: int = 8) -> torch.Tensor:
    """Resample as a receiver whose sample clock runs ``1 + sample_rate_offset`` times too fast.

    sample_rate_offset: relative offset (``1e-4`` is 100 ppm), a number, float ``[batch]`` or, for a
    drifting clock, float ``[batch, samples]`` (the offset at each output sample). Output sample ``n``
    is the input at time ``-delay + sum_{k<n} 1 / (1 + offset_k)`` samples, so a tone at ``f`` cycles
    per sample comes out at ``f / (1 + offset)``. delay: timing offset, samples (number or ``[batch]``).
    Returns complex64 ``[batch, samples]`` (same length; the end is held at the last sample if a slow
    clock would run past it).
    """
    check_iq(iq)
    check_half_width(half_width)
    batch, samples = iq.shape
    offset = per_example_or_sample(sample_rate_offset, batch, samples, "sample_rate_offset", iq.device)
    if not float(offset.min()) > -0.5:
        raise ValueError("sample_rate_offset must be greater than -0.5")
    delay = per_example(delay, batch, "delay", iq.device, torch.float64).unsqueeze(-1)
    return resample_unchecked(iq, offset, delay, half_width)


def resample_unchecked(iq: torch.Tensor, offset: torch.Tensor, delay: torch.Tensor, half_width: int) -> torch.Tensor:
    """``resample`` without the argument checks; offset float64 ``[batch, 1 or samples]``, delay
    float64 ``[batch, 1]``."""
    step = 1.0 / (1.0 + offset)
    if step.shape[1] == 1:  # a steady clock: sample n at n * step
        times = torch.arange(iq.shape[1], device=iq.device, dtype=torch.float64) * step
    else:
        times = _exclusive_cumsum(step)
    return _interpolate(iq, times.sub_(delay), half_width)


def delay_paths(iq: torch.Tensor, delays: tuple[float, ...], *, half_width: int = 8) -> torch.Tensor:
    """Copies of each example delayed by each of ``delays`` (samples, the same for every example):
    ``out[:, p, n] = x(n - delays[p])``, the interpolation of ``interpolate`` done as one FIR filter
    per path (the delays are the same for every example, so each tap is one scaled, shifted copy of
    the whole batch). iq: complex64 ``[batch, samples]``; returns complex64 ``[batch, paths, samples]``.
    """
    check_iq(iq)
    check_half_width(half_width)
    if len(delays) == 0 or not all(math.isfinite(d) for d in delays):
        raise ValueError(f"delays must be a non-empty sequence of finite numbers, got {delays!r}")
    return torch.stack(delayed_copies(iq, delays, half_width), dim=1)


def delayed_copies(iq: torch.Tensor, delays: tuple[float, ...], half_width: int) -> list[torch.Tensor]:
    """``delay_paths`` without the argument checks, as one complex64 ``[batch, samples]`` per delay.
    Taps of weight exactly 0 are skipped, so a whole-sample delay is the example itself, shifted."""
    samples = iq.shape[1]
    margin, filters = _delay_filters(tuple(delays), half_width)
    padded = _pad_edges(iq, margin, margin)
    rails = torch.view_as_real(padded)  # float32 [batch, margin+samples+margin, 2]
    copies = []
    for taps in filters:
        if len(taps) == 1 and taps[0][1] == 1.0:
            offset = taps[0][0]
            copies.append(iq if offset == 0 else padded[:, margin + offset:margin + offset + samples].contiguous())
            continue
        (offset, weight), *rest = taps
        out = rails[:, margin + offset:margin + offset + samples] * weight
        for offset, weight in rest:
            out.add_(rails[:, margin + offset:margin + offset + samples], alpha=weight)
        copies.append(torch.view_as_complex(out))
    return copies


@functools.lru_cache(maxsize=32)
def _delay_filters(delays: tuple[float, ...], half_width: int
                   ) -> tuple[int, tuple[tuple[tuple[int, float], ...], ...]]:
    """Each delay's FIR filter as ``(sample offset, weight)`` pairs without the zero weights
    (``x(n - d) = sum_k w_k x[n + floor(-d) + 1 - half_width + k]``), and the largest offset."""
    shifts = [math.floor(-d) for d in delays]
    fractions = torch.tensor([-d - s for d, s in zip(delays, shifts)], dtype=torch.float64)
    weights = sinc_weights(fractions, half_width).T.tolist()  # [paths][2 * half_width]
    filters = tuple(tuple((shift + 1 - half_width + tap, weight) for tap, weight in enumerate(path_weights)
                          if weight != 0.0)
                    for shift, path_weights in zip(shifts, weights))
    return max(abs(offset) for taps in filters for offset, _ in taps), filters
