"""Channel impairments on complex baseband IQ, batched in torch, with per-example random draws.

All functions take and return complex64 IQ of shape ``[batch, samples]`` and work on whatever device
the IQ is on. Random draws are made on the device of the ``torch.Generator`` the caller passes (pass a
CUDA generator for GPU IQ to keep the draws there) and moved to the IQ's device; same seed, same bytes.

Units. The stand-alone impairment functions take **normalised** frequencies, in cycles per sample
(a frequency in Hz divided by the sample rate, so the band is ``[-0.5, 0.5)``), delays in samples and
phases in radians. ``ChannelConfig`` is written in **Hz** with its ``sample_rate_hz``, the way radio
parameters are usually quoted; ``apply_impairments`` divides by the sample rate.

What ``apply_channel`` does, in this order (the physical order: propagation, then the receiver's
oscillator, then its sampling clock, then thermal noise):

1. multipath fading: Rayleigh or Rician paths at fractional delays with time-varying sum-of-sinusoids
   gains (Doppler); the path magnitudes are normalised to unit total power, so the average power is kept;
2. carrier frequency offset: a starting offset plus an optional bounded random walk;
3. carrier phase offset, uniform on ``[0, 2*pi)``;
4. phase noise: a Wiener (random-walk) phase with a Lorentzian linewidth;
5. sampling: timing offset and sample-rate offset by band-limited (windowed-sinc) interpolation;
6. AWGN at the requested SNR.

SNR is defined on the *received* signal before noise: the noise power of each example is the power
(mean ``|x|^2``, see ``rfnet.dsp.power``) of that example after steps 1-5, divided by the SNR ratio. So
the delivered SNR is the requested one even in a deep fade (a fade lowers the signal, and the noise with
it). GNU Radio's ``dynamic_channel_model``, used for RadioML 2016, instead adds noise of a fixed
*amplitude* ``10**(-snr/10)``, so its noise power is ``10**(-snr/5)`` and its labels are not true SNRs;
``ChannelConfig.rml2016()`` reproduces its impairments but not that flaw.

Fractional delays and clock offsets are band-limited interpolation (:mod:`rfnet.dsp.interpolation`):
samples needed from outside an example (a delayed path or a timing offset at its start, a faster clock
running past its end) are taken as the nearest edge sample, so no example gets a run of zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rfnet.dsp.interpolation import check_half_width, delayed_copies, resample_unchecked
from rfnet.dsp.power import (check_iq, complex_gaussian_noise, db_to_ratio, per_example, per_example_or_sample,
                             signal_power, uniform_per_example)

__all__ = [
    "ChannelConfig",
    "apply_channel",
    "apply_impairments",
    "awgn",
    "bounded_random_walk",
    "fading_gains",
    "frequency_offset",
    "multipath_fading",
    "phase_noise",
    "phase_offset",
]

FADING_GRID_CYCLES = 0.01
"""Largest turn (cycles) of any fading sinusoid between the samples its gains are computed at."""

FADING_KINDS = ("rayleigh", "rician")

IMPAIRMENT_CHUNK_SAMPLES = 2 ** 17
"""On a CPU, ``apply_impairments`` works through a batch this many complex samples (examples x samples)
at a time: its working set then stays in the caches (a batch of 256 examples of 1024 samples took 20 %
longer per example than two of 128)."""


# --- configuration ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChannelConfig:
    """Ranges and spreads of every channel impairment; each one is off at its zero / ``None`` value.

    Frequencies are in Hz, relative to ``sample_rate_hz``. A quantity with a ``_max`` is drawn per
    example uniformly on ``[-max, max]`` (offsets) or ``[0, max)`` (timing); a ``(low, high)`` pair is
    drawn uniformly on that interval.
    """

    sample_rate_hz: float = 1e6
    """The rate of the IQ samples, Hz; every other Hz value below is divided by it."""

    # receiver oscillator
    cfo_max_hz: float = 0.0
    """Carrier frequency offset at the first sample, uniform on [-max, max] Hz."""
    cfo_walk_std_hz: float = 0.0
    """Standard deviation of the CFO random walk's step per sample, Hz; reflected at +-cfo_max_hz."""
    random_phase: bool = False
    """Rotate each example by a carrier phase uniform on [0, 2*pi)."""
    phase_noise_linewidth_hz: tuple[float, float] = (0.0, 0.0)
    """Range of the oscillator's 3 dB (Lorentzian) linewidth, Hz. The phase is a random walk whose
    variance grows by 2*pi*linewidth/sample_rate rad^2 per sample."""

    # receiver sampling clock
    sro_max_hz: float = 0.0
    """Sample-rate offset at the first sample, uniform on [-max, max] Hz of the sample rate
    (50 Hz at 200 kHz is 250 ppm)."""
    sro_walk_std_hz: float = 0.0
    """Standard deviation of the SRO random walk's step per sample, Hz; reflected at +-sro_max_hz."""
    timing_offset_max_samples: float = 0.0
    """Delay of the sampling instants, uniform on [0, max) samples."""

    # propagation
    fading: str | None = None
    """None (no multipath), "rayleigh" or "rician" (line of sight on the first path)."""
    rician_k: float = 0.0
    """Rician K factor of the first path: line-of-sight power over diffuse power, linear (not dB)."""
    path_delays_samples: tuple[float, ...] = (0.0,)
    """Delay of each path, samples (fractional allowed, non-negative)."""
    path_magnitudes: tuple[float, ...] = (1.0,)
    """Amplitude of each path, linear; normalised so the squares sum to 1."""
    max_doppler_hz: float = 0.0
    """Maximum Doppler shift, Hz; 0 makes the fading static over an example."""
    num_sinusoids: int = 8
    """Sinusoids summed per path in the sum-of-sinusoids fading model."""

    interpolator_half_width: int = 8
    """Half the number of taps of the windowed-sinc interpolator (fractional delays, resampling)."""

    def __post_init__(self) -> None:
        def fail(field: str, problem: str) -> None:
            raise ValueError(f"ChannelConfig.{field} {problem}, got {getattr(self, field)!r}")

        numbers = ("sample_rate_hz", "cfo_max_hz", "cfo_walk_std_hz", "sro_max_hz", "sro_walk_std_hz",
                   "timing_offset_max_samples", "rician_k", "max_doppler_hz")
        for field in numbers:
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                fail(field, "must be a finite non-negative number")
        if self.sample_rate_hz == 0:
            fail("sample_rate_hz", "must be positive")
        if self.cfo_walk_std_hz > 0 and self.cfo_max_hz == 0:
            fail("cfo_max_hz", "must be positive when cfo_walk_std_hz is (it bounds the walk)")
        if self.sro_walk_std_hz > 0 and self.sro_max_hz == 0:
            fail("sro_max_hz", "must be positive when sro_walk_std_hz is (it bounds the walk)")
        if self.sro_max_hz >= self.sample_rate_hz / 2:
            fail("sro_max_hz", "must be well below the sample rate")
        low_high = self.phase_noise_linewidth_hz
        if (len(low_high) != 2 or not all(math.isfinite(v) for v in low_high)
                or not 0 <= low_high[0] <= low_high[1]):
            fail("phase_noise_linewidth_hz", "must be a (low, high) pair with 0 <= low <= high")
        if self.fading is not None and self.fading not in FADING_KINDS:
            fail("fading", f"must be None or one of {FADING_KINDS}")
        if self.fading == "rayleigh" and self.rician_k != 0:
            fail("rician_k", "must be 0 for Rayleigh fading")
        delays, magnitudes = self.path_delays_samples, self.path_magnitudes
        if len(delays) == 0 or len(delays) != len(magnitudes):
            fail("path_magnitudes", f"must have one entry per path delay ({len(delays)})")
        if not all(math.isfinite(d) and d >= 0 for d in delays):
            fail("path_delays_samples", "must be finite and non-negative")
        if not all(math.isfinite(m) and m >= 0 for m in magnitudes) or sum(magnitudes) == 0:
            fail("path_magnitudes", "must be finite, non-negative and not all zero")
        if not isinstance(self.num_sinusoids, int) or self.num_sinusoids < 1:
            fail("num_sinusoids", "must be a positive integer")
        if not isinstance(self.interpolator_half_width, int) or self.interpolator_half_width < 1:
            fail("interpolator_half_width", "must be a positive integer")

    @classmethod
    def clean(cls) -> "ChannelConfig":
        """No impairment at all: ``apply_channel`` adds AWGN only."""
        return cls()

    @classmethod
    def rml2016(cls) -> "ChannelConfig":
        """The channel RadioML 2016.10a was made with: GNU Radio's ``dynamic_channel_model(200e3,
        sro_std=0.01, sro_max=50, cfo_std=0.01, cfo_max=500, 8 sinusoids, fD=1, LOS, K=4,
        delays [0, 0.9, 1.7], mags [1, 0.8, 0.3], 8 taps)``.

        Differences, all deliberate: the SNR is a true SNR (see the module docstring); the offsets start
        anywhere in their bounds (RadioML cut its examples from long streams, by which time the bounded
        walks had spread over their range) and are reflected at the bounds instead of clipped; the path
        magnitudes are normalised to unit power (the SNR definition makes the overall gain irrelevant).
        """
        return cls(sample_rate_hz=200e3,
                   cfo_max_hz=500.0, cfo_walk_std_hz=0.01,
                   sro_max_hz=50.0, sro_walk_std_hz=0.01,
                   fading="rician", rician_k=4.0,
                   path_delays_samples=(0.0, 0.9, 1.7), path_magnitudes=(1.0, 0.8, 0.3),
                   max_doppler_hz=1.0, num_sinusoids=8,
                   interpolator_half_width=4)

    @classmethod
    def rml2018(cls) -> "ChannelConfig":
        """An over-the-air-like channel in the spirit of RadioML 2018.01A (whose exact channel is not
        published): a 1 MS/s receiver at a 900 MHz carrier.

        - CFO up to +-1 kHz (about 1 ppm of the carrier, a TCXO), drifting 0.05 Hz per sample;
        - random carrier phase; phase noise linewidth 0-10 Hz (up to 0.25 rad rms over 1024 samples);
        - sample clock off by up to +-20 ppm (20 Hz), sampling instants offset uniformly within a sample;
        - Rician fading, K = 3 on the first of three paths at 0, 0.6 and 1.5 samples (0-1.5 us delay
          spread) with magnitudes 1, 0.5, 0.25; 3 Hz maximum Doppler (walking pace at 900 MHz).
        """
        return cls(sample_rate_hz=1e6,
                   cfo_max_hz=1000.0, cfo_walk_std_hz=0.05,
                   random_phase=True, phase_noise_linewidth_hz=(0.0, 10.0),
                   sro_max_hz=20.0, timing_offset_max_samples=1.0,
                   fading="rician", rician_k=3.0,
                   path_delays_samples=(0.0, 0.6, 1.5), path_magnitudes=(1.0, 0.5, 0.25),
                   max_doppler_hz=3.0, num_sinusoids=8)


# --- helpers ---------------------------------------------------------------------------------------

def _randn(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Standard normal draws, float32 from the generator, returned as float64 for accumulation."""
    return torch.randn(shape, generator=generator, device=generator.device).to(device, torch.float64)


def _rand(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=generator.device,
                      dtype=torch.float64).to(device)


def _rotate(iq: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """``iq * exp(j*phase)``; phase float64 radians broadcastable to ``iq``, reduced to less than a turn
    in float64 before the float32 cosine and sine (``torch.polar`` is several times slower)."""
    angle = torch.frac(phase * (1 / (2 * math.pi))).float().mul_(2 * math.pi)
    return iq * torch.complex(torch.cos(angle), torch.sin(angle))


def bounded_random_walk(start: torch.Tensor, step_std: float, bound: float, samples: int, *,
                        generator: torch.Generator) -> torch.Tensor:
    """A Gaussian random walk per example, reflected into ``[-bound, bound]``.

    start: float ``[batch]`` (inside the bounds). step_std: standard deviation of each step.
    Returns float64 ``[batch, samples]``; the first sample is ``start``. Reflection (rather than
    clipping) keeps it a closed-form fold of a cumulative sum, so it is vectorised.
    """
    if not (math.isfinite(bound) and bound > 0 and math.isfinite(step_std) and step_std >= 0):
        raise ValueError(f"bound must be positive and step_std non-negative, got {bound!r}, {step_std!r}")
    batch = start.shape[0]
    steps = _randn((batch, samples), generator, start.device).mul_(step_std)
    steps[:, 0] = start.double()
    free = steps.cumsum_(dim=-1)
    lowest, highest = torch.aminmax(free)
    if -bound <= float(lowest) and float(highest) <= bound:  # the fold below would change nothing
        return free
    folded = torch.remainder(free + bound, 4 * bound)
    return bound - torch.abs(folded - 2 * bound)


# --- impairments -----------------------------------------------------------------------------------

def frequency_offset(iq: torch.Tensor, cfo: float | torch.Tensor) -> torch.Tensor:
    """Shift each example in frequency by ``cfo`` cycles per sample.

    cfo: a number, float ``[batch]``, or float ``[batch, samples]`` for the instantaneous frequency of
    each sample (a drifting offset): the phase at sample ``n`` is ``2*pi * sum_{k<n} cfo_k``, so a
    constant offset gives ``2*pi*cfo*n``. Phases are accumulated in float64.
    Returns complex64 ``[batch, samples]``.
    """
    check_iq(iq)
    return _rotate(iq, torch.cumsum(_frequency_offset_steps(cfo, *iq.shape, iq.device), dim=-1))


def _frequency_offset_steps(cfo: float | torch.Tensor, batch: int, samples: int, device: torch.device,
                            radians_per_unit: float = 2 * math.pi) -> torch.Tensor:
    """The phase ``frequency_offset`` turns by from each sample to the next, float64 ``[batch,
    samples]`` radians: ``2*pi*cfo_{n-1}`` into sample ``n``, 0 into the first (``radians_per_unit``
    replaces ``2*pi`` for a cfo in other units: ``2*pi / sample_rate`` for Hz)."""
    cfo = per_example_or_sample(cfo, batch, samples, "cfo", device)
    steps = torch.empty(batch, samples, device=device, dtype=torch.float64)
    steps[:, 0] = 0.0
    torch.mul(cfo[:, :samples - 1].expand(batch, samples - 1), radians_per_unit, out=steps[:, 1:])
    return steps


def phase_offset(iq: torch.Tensor, phase: float | torch.Tensor) -> torch.Tensor:
    """Rotate each example by ``phase`` radians (a number or float ``[batch]``)."""
    check_iq(iq)
    phase = per_example(phase, iq.shape[0], "phase", iq.device, torch.float64).unsqueeze(-1)
    return _rotate(iq, phase)


def phase_noise(iq: torch.Tensor, linewidth: float | torch.Tensor, *,
                generator: torch.Generator) -> torch.Tensor:
    """Multiply by ``exp(j*phi[n])`` with ``phi`` a Wiener process: an oscillator of 3 dB linewidth
    ``linewidth`` (cycles per sample, i.e. Hz / sample rate; a number or float ``[batch]``).

    ``phi[0] = 0`` and each step is Gaussian with variance ``2*pi*linewidth`` rad^2, so
    ``Var(phi[n]) = 2*pi*linewidth*n``. Returns complex64 ``[batch, samples]``.
    """
    check_iq(iq)
    steps = _phase_noise_steps(linewidth, *iq.shape, iq.device, generator=generator)
    return _rotate(iq, steps.double().cumsum_(dim=-1))


def _phase_noise_steps(linewidth: float | torch.Tensor, batch: int, samples: int, device: torch.device,
                       *, generator: torch.Generator) -> torch.Tensor:
    """The steps of the Wiener phase of ``phase_noise``: float32 ``[batch, samples]`` radians, the
    first 0 (accumulate them in float64)."""
    linewidth = per_example(linewidth, batch, "linewidth", device)
    if not bool((linewidth >= 0).all()):
        raise ValueError("linewidth must be non-negative")
    steps = torch.randn((batch, samples), generator=generator, device=generator.device).to(device)
    steps.mul_(torch.sqrt(2 * math.pi * linewidth).unsqueeze(-1))
    steps[:, 0] = 0.0
    return steps


def fading_gains(batch: int, paths: int, samples: int, *, max_doppler: float | torch.Tensor,
                 rician_k: float | torch.Tensor = 0.0, num_sinusoids: int = 8,
                 generator: torch.Generator, device: torch.device | str | None = None) -> torch.Tensor:
    """Time-varying complex gains of unit average power, one process per example and path.

    Each path's diffuse part is a sum of ``num_sinusoids`` unit phasors with random arrival angles
    ``a`` and phases ``p``, ``sum_m exp(j*(2*pi*max_doppler*cos(a_m)*n + p_m)) / sqrt(num_sinusoids)``
    (a Rayleigh process with Jakes' Doppler spectrum as the number of sinusoids grows). The first path
    adds a line of sight of the same form with one sinusoid: power ``K/(K+1)`` in it and ``1/(K+1)`` in
    the diffuse part, ``K = rician_k`` (linear; 0 gives Rayleigh).

    The sinusoids are evaluated every ``S`` samples, ``S`` the largest step over which the fastest one
    turns by at most ``FADING_GRID_CYCLES`` of a cycle, and linearly interpolated in between (each
    sinusoid off by at most 5e-4 of its amplitude); slow fading, the usual case, costs next to nothing.

    max_doppler: cycles per sample (Hz / sample rate), rician_k: linear, each a number or ``[batch]``.
    Returns complex64 ``[batch, paths, samples]``.
    """
    grid, step = _fading_grid(batch, paths, samples, max_doppler=max_doppler, rician_k=rician_k,
                              num_sinusoids=num_sinusoids, generator=generator, device=device)
    start, change = grid[..., :-1, None], (grid[..., 1:] - grid[..., :-1])[..., None]
    fraction = torch.arange(step, device=grid.device) / step
    return (start + change * fraction).flatten(-2)[..., :samples]


def _fading_grid(batch: int, paths: int, samples: int, *, max_doppler: float | torch.Tensor,
                 rician_k: float | torch.Tensor, num_sinusoids: int, generator: torch.Generator,
                 device: torch.device | str | None) -> tuple[torch.Tensor, int]:
    """The gains of ``fading_gains`` at samples ``0, S, 2S, ...`` (past the end), complex64
    ``[batch, paths, points]``, and the step ``S``."""
    if not isinstance(num_sinusoids, int) or num_sinusoids < 1:
        raise ValueError(f"num_sinusoids must be a positive integer, got {num_sinusoids!r}")
    doppler = per_example(max_doppler, batch, "max_doppler", device, torch.float64)
    k_factor = per_example(rician_k, batch, "rician_k", device, torch.float64)
    if not bool((doppler >= 0).all()) or not bool((k_factor >= 0).all()):
        raise ValueError("max_doppler and rician_k must be non-negative")
    device = doppler.device
    angles = _rand((batch, paths, num_sinusoids + 1, 1), generator, device) * (2 * math.pi)
    phases = _rand((batch, paths, num_sinusoids + 1, 1), generator, device) * (2 * math.pi)

    fastest = float(doppler.max())
    step = samples if fastest * samples <= FADING_GRID_CYCLES else max(1, int(FADING_GRID_CYCLES / fastest))
    grid = torch.arange((samples - 1) // step + 2, device=device, dtype=torch.float64) * step
    cycles = torch.remainder(doppler.view(batch, 1, 1, 1) * torch.cos(angles) * grid, 1.0)
    phasors = torch.polar(torch.ones((), device=device, dtype=torch.float32),
                          (2 * math.pi * cycles + phases).float())
    diffuse = phasors[:, :, :num_sinusoids].sum(dim=2) / math.sqrt(num_sinusoids)
    diffuse_gain = torch.sqrt(1.0 / (1.0 + k_factor)).float().unsqueeze(-1)
    los_gain = torch.sqrt(k_factor / (1.0 + k_factor)).float().unsqueeze(-1)
    first = diffuse_gain * diffuse[:, 0] + los_gain * phasors[:, 0, num_sinusoids]
    return torch.cat([first.unsqueeze(1), diffuse[:, 1:]], dim=1), step


def multipath_fading(iq: torch.Tensor, *, delays: tuple[float, ...], magnitudes: tuple[float, ...],
                     max_doppler: float | torch.Tensor = 0.0, rician_k: float | torch.Tensor = 0.0,
                     num_sinusoids: int = 8, generator: torch.Generator,
                     half_width: int = 8) -> torch.Tensor:
    """Pass each example through its own fading multipath channel.

    ``y[n] = sum_p m_p * g_p[n] * x(n - d_p)``: paths at ``delays`` (samples, fractional allowed,
    see ``delay_paths``), magnitudes ``magnitudes`` (linear, normalised here so that
    ``sum m_p^2 = 1``, which keeps the average power), gains ``g_p`` from ``fading_gains`` (Rician on
    the first path when ``rician_k > 0``). max_doppler: cycles per sample.
    Returns complex64 ``[batch, samples]``.
    """
    check_iq(iq)
    check_half_width(half_width)
    if len(delays) != len(magnitudes):
        raise ValueError(f"delays and magnitudes must be of equal length, "
                         f"got {len(delays)} and {len(magnitudes)}")
    if len(delays) == 0 or not all(math.isfinite(d) for d in delays):
        raise ValueError(f"delays must be a non-empty sequence of finite numbers, got {delays!r}")
    if not all(math.isfinite(m) and m >= 0 for m in magnitudes) or sum(magnitudes) == 0:
        raise ValueError(f"magnitudes must be finite, non-negative and not all zero, got {magnitudes}")
    return _multipath_fading(iq, delays, magnitudes, max_doppler, rician_k, num_sinusoids, generator,
                             half_width)


def _multipath_fading(iq: torch.Tensor, delays: tuple[float, ...], magnitudes: tuple[float, ...],
                      max_doppler: float | torch.Tensor, rician_k: float | torch.Tensor, num_sinusoids: int,
                      generator: torch.Generator, half_width: int) -> torch.Tensor:
    """``multipath_fading`` without the argument checks.

    Between two grid points of ``_fading_grid`` each gain is ``start + change * fraction``, so the sum
    over paths is ``sum_p start_p x_p + fraction * sum_p change_p x_p``: with slow fading (one grid
    step per example) ``start_p`` and ``change_p`` are one complex number per example and path, and
    the per-sample gains are never formed."""
    batch, samples = iq.shape
    norm = math.sqrt(sum(m * m for m in magnitudes))
    amplitude = torch.tensor([m / norm for m in magnitudes], device=iq.device).view(1, -1, 1)
    delayed = delayed_copies(iq, delays, half_width)
    grid, step = _fading_grid(batch, len(delays), samples, max_doppler=max_doppler, rician_k=rician_k,
                              num_sinusoids=num_sinusoids, generator=generator, device=iq.device)
    grid = grid * amplitude
    start, change = grid[..., :-1], grid[..., 1:] - grid[..., :-1]  # [batch, paths, steps]
    if start.shape[-1] > 1:
        start, change = (part.repeat_interleave(step, dim=-1)[..., :samples] for part in (start, change))
    level, slope = delayed[0] * start[:, 0], delayed[0] * change[:, 0]
    for path, copy in enumerate(delayed[1:], start=1):
        level.addcmul_(copy, start[:, path])
        slope.addcmul_(copy, change[:, path])
    fraction = torch.arange(samples, device=iq.device).remainder_(step) / step
    return level.addcmul_(slope, fraction)


def awgn(iq: torch.Tensor, snr_db: float | torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
    """Add circular complex Gaussian noise at ``snr_db`` (a number or float ``[batch]``) against the
    measured power of each example: ``P_noise = signal_power(iq) / 10**(snr_db/10)``.

    Returns complex64 ``[batch, samples]``. An all-zero example has no SNR and raises ``ValueError``.
    """
    check_iq(iq)
    batch, samples = iq.shape
    snr = per_example(snr_db, batch, "snr_db", iq.device)
    power = signal_power(iq)
    if not bool((power > 0).all()):
        bad = torch.nonzero(power <= 0).flatten().tolist()
        raise ValueError(f"iq has zero power in example(s) {bad[:10]}, so no SNR can be set")
    noise = complex_gaussian_noise(batch, samples, power / db_to_ratio(snr), generator=generator,
                                   device=iq.device)
    return iq + noise


def apply_impairments(iq: torch.Tensor, config: ChannelConfig, *,
                      generator: torch.Generator) -> torch.Tensor:
    """Every impairment of ``config`` except noise, with fresh per-example draws (see the module
    docstring for the order). iq: complex64 ``[batch, samples]``; returns the same shape and dtype."""
    check_iq(iq)
    if not isinstance(config, ChannelConfig):
        raise ValueError(f"config must be a ChannelConfig, got {type(config).__name__}")
    per_chunk = max(1, IMPAIRMENT_CHUNK_SAMPLES // iq.shape[1])
    if iq.shape[0] <= per_chunk or iq.device.type != "cpu":  # a GPU wants the whole batch at once
        return _impairments(iq, config, generator)
    return torch.cat([_impairments(part, config, generator) for part in iq.split(per_chunk)])


def _impairments(iq: torch.Tensor, config: ChannelConfig, generator: torch.Generator) -> torch.Tensor:
    """``apply_impairments`` of one chunk, without the argument checks."""
    batch, samples = iq.shape
    rate = config.sample_rate_hz
    half_width = config.interpolator_half_width
    device = iq.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return uniform_per_example(low, high, batch, generator=generator, device=device)

    out = iq
    if config.fading is not None:
        out = _multipath_fading(out, config.path_delays_samples, config.path_magnitudes,
                                config.max_doppler_hz / rate, config.rician_k, config.num_sinusoids,
                                generator, half_width)
    # The oscillator's three rotations (CFO, carrier phase, phase noise) add up to one phase, whose
    # steps from sample to sample are summed first and accumulated once, then applied in one
    # rotation; the draws are made in the same order as when applied one by one.
    steps = None  # float64 [batch, samples], radians
    if config.cfo_max_hz > 0:
        start = uniform(-config.cfo_max_hz, config.cfo_max_hz)
        cfo_hz = (bounded_random_walk(start, config.cfo_walk_std_hz, config.cfo_max_hz, samples,
                                      generator=generator)
                  if config.cfo_walk_std_hz > 0 else start)
        steps = _frequency_offset_steps(cfo_hz, batch, samples, device, 2 * math.pi / rate)
    carrier = uniform(0.0, 2 * math.pi) if config.random_phase else None
    low, high = config.phase_noise_linewidth_hz
    if high > 0:
        noise_steps = _phase_noise_steps(uniform(low, high) / rate, batch, samples, device,
                                         generator=generator)
        steps = noise_steps.double() if steps is None else steps.add_(noise_steps)
    if steps is not None:
        if carrier is not None:
            steps[:, 0] += carrier.double()
        out = _rotate(out, steps.cumsum_(dim=-1))
    elif carrier is not None:
        out = _rotate(out, carrier.double().unsqueeze(-1))
    if config.sro_max_hz > 0 or config.timing_offset_max_samples > 0:
        start = uniform(-config.sro_max_hz, config.sro_max_hz)
        sro_hz = (bounded_random_walk(start, config.sro_walk_std_hz, config.sro_max_hz, samples,
                                      generator=generator)
                  if config.sro_walk_std_hz > 0 else start)
        delay = uniform(0.0, config.timing_offset_max_samples)
        offset = sro_hz.double() / rate
        out = resample_unchecked(out, offset if offset.dim() == 2 else offset.unsqueeze(-1),
                        delay.double().unsqueeze(-1), half_width)
    return out


def apply_channel(iq: torch.Tensor, snr_db: float | torch.Tensor, config: ChannelConfig, *,
                  generator: torch.Generator) -> torch.Tensor:
    """The impairments of ``config`` (``apply_impairments``), then AWGN at ``snr_db`` (a number or
    float ``[batch]``) measured against each example's power after them.

    iq: complex64 ``[batch, samples]``. Returns complex64 ``[batch, samples]`` on the same device.
    """
    return awgn(apply_impairments(iq, config, generator=generator), snr_db, generator=generator)
