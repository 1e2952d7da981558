"""Jammers and interferers added to complex baseband IQ at a jammer-to-signal ratio (JSR).

Every function here takes IQ (complex64 ``[batch, samples]``), a JSR in dB (a number or float
``[batch]``), a ``torch.Generator`` and its own parameters, and returns ``iq + jammer`` (complex64,
same shape). The jammer of each example is scaled so that ``P(jammer) / P(iq) = JSR`` exactly, with
``P`` the power per complex sample of ``rfnet.dsp.power`` (the mean of ``|x|^2`` over the whole
example), so JSR, SNR and PSR are comparable. For the pulsed jammer ``P(jammer)`` is by default its
average over the whole example, duty cycle included; ``power="peak"`` sets the power while it is on.

Frequencies are normalised, in cycles per sample (``[-0.5, 0.5)`` is the band); periods are in samples.
Parameters left at ``None`` are drawn per example, uniformly from the matching ``*_range``; a number
sets every example, a float ``[batch]`` tensor sets each. Every jammer also gets a random phase.

``INTERFERENCE`` maps each kind's name to its function; ``add_interference`` dispatches by name.
"""

from __future__ import annotations

import inspect
import math
from typing import Callable

import torch

from rfnet.dsp.channel import frequency_offset
from rfnet.dsp.power import (check_iq, complex_gaussian_noise, per_example, ratio_to_db, scale_to_ratio,
                             uniform_per_example)

__all__ = [
    "INTERFERENCE",
    "add_interference",
    "barrage",
    "chirp",
    "cochannel",
    "partial_band",
    "pulsed",
    "tone",
]

FULL_BAND = (-0.5, 0.5)
"""Every normalised frequency, cycles per sample."""

PULSED_CARRIERS = ("noise", "tone")
PULSED_POWER_REFERENCES = ("average", "peak")


# --- shared pieces ---------------------------------------------------------------------------------

def _given_or_drawn(value: float | torch.Tensor | None, value_range: tuple[float, float], name: str,
                    iq: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``value`` as float64 ``[batch]``, or uniform draws from ``value_range`` when it is ``None``."""
    batch = iq.shape[0]
    if value is not None:
        return per_example(value, batch, name, iq.device, torch.float64)
    low, high = _check_range(value_range, f"{name}_range")
    return uniform_per_example(low, high, batch, generator=generator, device=iq.device).double()


def _check_range(value_range: tuple[float, float], name: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of numbers, got {value_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name} must be a finite (low, high) pair with low <= high, got {value_range!r}")
    return low, high


def _random_phase_carrier(iq: torch.Tensor, frequency: torch.Tensor | float,
                          generator: torch.Generator) -> torch.Tensor:
    """Unit-amplitude complex exponentials, ``[batch, samples]``, at ``frequency`` (cycles per sample:
    a number, ``[batch]`` or an instantaneous ``[batch, samples]``), each from a random phase."""
    batch = iq.shape[0]
    phase = uniform_per_example(0.0, 2 * math.pi, batch, generator=generator, device=iq.device)
    start = torch.polar(torch.ones_like(phase), phase).unsqueeze(-1)
    return frequency_offset(start.expand_as(iq).contiguous(), frequency)


def _add_at_jsr(iq: torch.Tensor, jammer: torch.Tensor, jsr_db: float | torch.Tensor) -> torch.Tensor:
    return iq + scale_to_ratio(jammer, iq, jsr_db)


# --- the jammers -----------------------------------------------------------------------------------

def tone(iq: torch.Tensor, jsr_db: float | torch.Tensor, *, generator: torch.Generator,
         frequency: float | torch.Tensor | None = None,
         frequency_range: tuple[float, float] = FULL_BAND) -> torch.Tensor:
    """Continuous-wave jammer: one complex tone at ``frequency`` cycles per sample."""
    check_iq(iq)
    frequency = _given_or_drawn(frequency, frequency_range, "frequency", iq, generator)
    return _add_at_jsr(iq, _random_phase_carrier(iq, frequency, generator), jsr_db)


def barrage(iq: torch.Tensor, jsr_db: float | torch.Tensor, *,
            generator: torch.Generator) -> torch.Tensor:
    """Barrage jammer: white circular complex Gaussian noise across the whole band."""
    check_iq(iq)
    batch, samples = iq.shape
    noise = complex_gaussian_noise(batch, samples, 1.0, generator=generator, device=iq.device)
    return _add_at_jsr(iq, noise, jsr_db)


def partial_band(iq: torch.Tensor, jsr_db: float | torch.Tensor, *, generator: torch.Generator,
                 center: float | torch.Tensor | None = None,
                 bandwidth: float | torch.Tensor | None = None,
                 center_range: tuple[float, float] = (-0.4, 0.4),
                 bandwidth_range: tuple[float, float] = (0.05, 0.25)) -> torch.Tensor:
    """Partial-band noise jammer: Gaussian noise confined to ``center +- bandwidth / 2`` (cycles per
    sample; ``bandwidth`` is the fraction of the band, in ``(0, 1]``).

    The noise is shaped by zeroing the DFT bins outside the band (a brick-wall filter over the example),
    so all its power is in the band; the band wraps around +-0.5 as sampled spectra do. At least the
    bin nearest ``center`` is always kept.
    """
    check_iq(iq)
    batch, samples = iq.shape
    center = _given_or_drawn(center, center_range, "center", iq, generator)
    bandwidth = _given_or_drawn(bandwidth, bandwidth_range, "bandwidth", iq, generator)
    if not bool(((bandwidth > 0) & (bandwidth <= 1)).all()):
        raise ValueError("bandwidth must be in (0, 1] (a fraction of the band)")
    noise = complex_gaussian_noise(batch, samples, 1.0, generator=generator, device=iq.device)
    bins = torch.fft.fftfreq(samples, device=iq.device)
    distance = torch.remainder(bins - center.unsqueeze(-1) + 0.5, 1.0) - 0.5
    half_width = torch.clamp(bandwidth / 2, min=0.5 / samples).unsqueeze(-1)
    spectrum = torch.fft.fft(noise) * (distance.abs() <= half_width)
    return _add_at_jsr(iq, torch.fft.ifft(spectrum), jsr_db)


def chirp(iq: torch.Tensor, jsr_db: float | torch.Tensor, *, generator: torch.Generator,
          start_frequency: float | torch.Tensor = -0.4, stop_frequency: float | torch.Tensor = 0.4,
          period: int | None = None) -> torch.Tensor:
    """Linear chirp jammer: a tone swept linearly from ``start_frequency`` to ``stop_frequency``
    (cycles per sample) every ``period`` samples (sawtooth; default one sweep per example), starting
    at a random point of its sweep."""
    check_iq(iq)
    batch, samples = iq.shape
    period = samples if period is None else period
    if not isinstance(period, int) or period < 1:
        raise ValueError(f"period must be a positive number of samples, got {period!r}")
    start = per_example(start_frequency, batch, "start_frequency", iq.device, torch.float64).unsqueeze(-1)
    stop = per_example(stop_frequency, batch, "stop_frequency", iq.device, torch.float64).unsqueeze(-1)
    shift = uniform_per_example(0.0, period, batch, generator=generator, device=iq.device)
    times = torch.arange(samples, device=iq.device, dtype=torch.float64)
    sweep = torch.remainder((times + shift.double().unsqueeze(-1)) / period, 1.0)
    frequency = start + (stop - start) * sweep
    return _add_at_jsr(iq, _random_phase_carrier(iq, frequency, generator), jsr_db)


def pulsed(iq: torch.Tensor, jsr_db: float | torch.Tensor, *, generator: torch.Generator,
           duty_cycle: float | torch.Tensor = 0.25, period: int | torch.Tensor = 128,
           carrier: str = "noise", frequency: float | torch.Tensor | None = None,
           frequency_range: tuple[float, float] = FULL_BAND, power: str = "average") -> torch.Tensor:
    """Pulsed jammer: noise (``carrier="noise"``) or a tone (``"tone"``, at ``frequency``) switched on
    for ``round(duty_cycle * period)`` samples (at least one) of every ``period``, at a random point of
    its cycle.

    duty_cycle in ``(0, 1]`` and period (samples, at most the example length, so every example holds
    a pulse) are numbers or ``[batch]`` tensors. ``power="average"``: the JSR is the jammer's power
    averaged over the whole example, off-time included; ``power="peak"``: the power while it is on.
    """
    check_iq(iq)
    batch, samples = iq.shape
    if carrier not in PULSED_CARRIERS:
        raise ValueError(f"carrier must be one of {PULSED_CARRIERS}, got {carrier!r}")
    if power not in PULSED_POWER_REFERENCES:
        raise ValueError(f"power must be one of {PULSED_POWER_REFERENCES}, got {power!r}")
    duty_cycle = per_example(duty_cycle, batch, "duty_cycle", iq.device)
    if not bool(((duty_cycle > 0) & (duty_cycle <= 1)).all()):
        raise ValueError("duty_cycle must be in (0, 1]")
    period = per_example(period, batch, "period", iq.device)
    if not bool(((period >= 1) & (period <= samples) & (period == torch.round(period))).all()):
        raise ValueError(f"period must be a whole number of samples from 1 to {samples}")
    on_samples = torch.clamp(torch.round(duty_cycle * period), min=1).unsqueeze(-1)
    start = torch.floor(uniform_per_example(0.0, 1.0, batch, generator=generator, device=iq.device)
                        * period).unsqueeze(-1)
    times = torch.arange(samples, device=iq.device, dtype=torch.float32)
    gate = torch.remainder(times + start, period.unsqueeze(-1)) < on_samples

    if carrier == "noise":
        wave = complex_gaussian_noise(batch, samples, 1.0, generator=generator, device=iq.device)
    else:
        wave = _random_phase_carrier(
            iq, _given_or_drawn(frequency, frequency_range, "frequency", iq, generator), generator)
    jammer = wave * gate
    if power == "peak":
        # Power while on = average power / fraction of the example that is on.
        jsr_db = per_example(jsr_db, batch, "jsr_db", iq.device) + ratio_to_db(gate.float().mean(-1))
    return _add_at_jsr(iq, jammer, jsr_db)


def cochannel(iq: torch.Tensor, jsr_db: float | torch.Tensor, *, generator: torch.Generator,
              modulation: str = "QPSK", frequency: float | torch.Tensor | None = None,
              frequency_range: tuple[float, float] = (-0.05, 0.05), config=None) -> torch.Tensor:
    """Co-channel interferer: another modulated signal (``rfnet.dsp.modulations.modulate(modulation,
    ...)``, with its optional ``ModulationConfig`` ``config``) offset by ``frequency`` cycles per
    sample and given a random phase."""
    check_iq(iq)
    from rfnet.dsp.modulations import modulate  # imported here: modulations is the heavier module

    batch, samples = iq.shape
    frequency = _given_or_drawn(frequency, frequency_range, "frequency", iq, generator)
    signal = modulate(modulation, batch, samples, generator=generator, config=config).to(iq.device)
    carrier = _random_phase_carrier(iq, frequency, generator)
    return _add_at_jsr(iq, signal * carrier, jsr_db)


INTERFERENCE: dict[str, Callable[..., torch.Tensor]] = {
    "tone": tone,
    "barrage": barrage,
    "partial_band": partial_band,
    "chirp": chirp,
    "pulsed": pulsed,
    "cochannel": cochannel,
}
"""Each jammer kind's name → its function ``(iq, jsr_db, *, generator, **params) -> iq + jammer``."""


def add_interference(iq: torch.Tensor, kind: str, jsr_db: float | torch.Tensor, *,
                     generator: torch.Generator, **params) -> torch.Tensor:
    """``INTERFERENCE[kind](iq, jsr_db, generator=generator, **params)``, with a ``ValueError`` naming
    the known kinds, or the kind's parameters, when ``kind`` or a parameter is not one of them."""
    if kind not in INTERFERENCE:
        raise ValueError(f"unknown interference kind {kind!r}; known kinds: {', '.join(INTERFERENCE)}")
    jammer = INTERFERENCE[kind]
    try:
        inspect.signature(jammer).bind(iq, jsr_db, generator=generator, **params)
    except TypeError as error:
        accepted = [name for name in inspect.signature(jammer).parameters
                    if name not in ("iq", "jsr_db", "generator")]
        raise ValueError(f"bad parameters for interference {kind!r} ({error}); "
                         f"it accepts: {', '.join(accepted) or 'none'}") from None
    return jammer(iq, jsr_db, generator=generator, **params)
