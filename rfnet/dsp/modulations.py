"""Clean baseband modulated signals for every RadioML 2016.10a and 2018.01A class.

``modulate(name, num, length, generator=...)`` returns complex64 ``[num, length]``, each example at
unit average power (``mean |x|^2 == 1``), before any channel. Both naming schemes are accepted (see
``rfnet.dsp.classes``); every draw goes through the caller's ``torch.Generator`` and happens on its
device, so the same seed gives the same tensor.

How each family is made (all fully batched; per-example parameters are drawn from ``ModulationConfig``):

- Linear digital (ASK, PAM4, PSK, APSK, QAM): uniform random symbols -> constellation
  (``rfnet.dsp.constellations``) -> root-raised-cosine pulse shaping with per-example samples per
  symbol, roll-off and a random fractional symbol timing.
- ``OQPSK``: QPSK whose quadrature rail is delayed by half a symbol, RRC-shaped like the others; the
  envelope never drops to zero the way QPSK's does through the origin.
- Continuous-phase FSK, phase ``pi * h * sum_k a_k q(t - kT)`` with binary ``a_k``:
  ``GMSK`` (Gaussian frequency pulse, BT 0.3, h = 0.5); ``GFSK`` as GNU Radio's ``gfsk_mod`` in
  RadioML 2016 (BT 0.35, sensitivity 0.1 rad per sample, so h = 0.1 * sps / pi, about 0.25 at 8 sps);
  ``CPFSK`` as GNU Radio's ``cpfsk_bc(k=0.5)`` (rectangular frequency pulse, h = 0.5).
- Analog, driven by the speech-like source of ``rfnet.dsp.sources``: ``AM-DSB-WC`` ``1 + m s(t)``,
  ``AM-DSB-SC`` ``s(t)``, ``AM-SSB-SC`` the analytic (upper-sideband) signal ``s + j H{s}`` with the
  Hilbert transform done by FFT over a stretch longer than the window (see ``_audio``), ``AM-SSB-WC``
  ``1 + m (s + j H{s})``, ``FM``/``WBFM``
  ``exp(j 2 pi f_dev / f_s * cumsum s)`` (no pre-emphasis).

Every example gets a random carrier phase. The 2016 names generate the signal they were meant to be:
``AM-DSB`` = AM-DSB-WC, ``AM-SSB`` = AM-SSB-WC, ``QAM16``/``QAM64`` = 16QAM/64QAM, ``WBFM`` = FM, and
``PAM4`` bipolar 4-level PAM (unlike 4ASK's unipolar levels). The published 10a file's AM-SSB is noise
only; set ``rml2016_ssb_is_noise`` to reproduce that.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import torch

from rfnet.dsp.classes import MODULATIONS
from rfnet.dsp.constellations import CONSTELLATIONS, constellation
from rfnet.dsp.power import complex_gaussian_noise
from rfnet.dsp.pulses import (default_num_taps, gaussian_frequency_pulse, rectangular_pulse, rrc_taps,
                              shape_symbols)
from rfnet.dsp.sources import AudioSourceConfig, speech_like

__all__ = ["ModulationConfig", "modulate", "analytic_signal"]


@dataclasses.dataclass(frozen=True)
class ModulationConfig:
    """What ``modulate`` draws per example. A ``*_min``/``*_max`` pair is a uniform range (integers
    inclusive); equal ends fix the value. Defaults follow RadioML 2016.10a's generator."""

    samples_per_symbol_min: int = 8        # digital classes: samples per symbol (integers)
    samples_per_symbol_max: int = 8
    rolloff_min: float = 0.35              # RRC roll-off (excess bandwidth), in [0, 1]
    rolloff_max: float = 0.35
    rrc_span_symbols: int = 10             # RRC truncated to this many symbols
    frequency_pulse_span_symbols: int = 4  # GMSK/GFSK Gaussian frequency pulse length, symbols
    gmsk_bandwidth_time: float = 0.3       # BT of GMSK's Gaussian filter
    gmsk_modulation_index: float = 0.5     # h: phase turns by pi * h per symbol
    gfsk_bandwidth_time: float = 0.35
    gfsk_sensitivity_rad_per_sample: float = 0.1   # GNU Radio gfsk_mod sensitivity; h = sens * sps / pi
    cpfsk_modulation_index: float = 0.5    # GNU Radio cpfsk_bc's k
    sample_rate_hz: float = 200e3          # nominal sample rate: gives audio and FM deviation in Hz
    am_modulation_index_min: float = 0.5   # m in 1 + m s(t); |s| <= 1, so m <= 1 never over-modulates
    am_modulation_index_max: float = 1.0
    fm_deviation_hz_min: float = 75e3      # peak frequency deviation (broadcast FM: 75 kHz)
    fm_deviation_hz_max: float = 75e3
    audio: AudioSourceConfig = dataclasses.field(default_factory=AudioSourceConfig)
    rml2016_ssb_is_noise: bool = False     # True: "AM-SSB" is complex white noise, as in the 10a file

    def __post_init__(self) -> None:
        if not 1 <= self.samples_per_symbol_min <= self.samples_per_symbol_max:
            raise ValueError("need 1 <= samples_per_symbol_min <= samples_per_symbol_max, got "
                             f"{self.samples_per_symbol_min}, {self.samples_per_symbol_max}")
        if not 0 <= self.rolloff_min <= self.rolloff_max <= 1:
            raise ValueError(f"need 0 <= rolloff_min <= rolloff_max <= 1, got "
                             f"{self.rolloff_min}, {self.rolloff_max}")
        if self.rrc_span_symbols < 1 or self.frequency_pulse_span_symbols < 1:
            raise ValueError("pulse spans must be at least 1 symbol")
        if min(self.gmsk_bandwidth_time, self.gfsk_bandwidth_time) <= 0:
            raise ValueError("bandwidth-time products must be positive")
        if min(self.gmsk_modulation_index, self.gfsk_sensitivity_rad_per_sample,
               self.cpfsk_modulation_index) <= 0:
            raise ValueError("modulation indices and sensitivities must be positive")
        if not 0 <= self.am_modulation_index_min <= self.am_modulation_index_max:
            raise ValueError("need 0 <= am_modulation_index_min <= am_modulation_index_max")
        if not 0 < self.fm_deviation_hz_min <= self.fm_deviation_hz_max < self.sample_rate_hz / 2:
            raise ValueError("need 0 < fm_deviation_hz_min <= fm_deviation_hz_max < sample_rate_hz / 2")
        if self.sample_rate_hz <= 2 * self.audio.high_hz:
            raise ValueError(f"sample_rate_hz ({self.sample_rate_hz}) must exceed twice the audio "
                             f"band's upper edge ({self.audio.high_hz})")


SignalMaker = Callable[[int, int, ModulationConfig, torch.Generator], torch.Tensor]


# --- per-example draws -----------------------------------------------------------------------------

def _uniform(low: float, high: float, num: int, generator: torch.Generator) -> torch.Tensor:
    """float32 ``[num]`` uniform on ``[low, high)``."""
    return low + (high - low) * torch.rand(num, generator=generator, device=generator.device)


def _symbol_timing(num: int, cfg: ModulationConfig, generator: torch.Generator
                   ) -> tuple[int | torch.Tensor, torch.Tensor, int]:
    """Samples per symbol (an int when fixed, else int64 ``[num]``), a timing offset per example
    (float32 ``[num]`` samples, uniform over one symbol: ``[-sps/2, sps/2)``) and the smallest sps."""
    low, high = cfg.samples_per_symbol_min, cfg.samples_per_symbol_max
    if low == high:
        sps: int | torch.Tensor = low
        sps_float = torch.full((num,), float(low), device=generator.device)
    else:
        sps = torch.randint(low, high + 1, (num,), generator=generator, device=generator.device)
        sps_float = sps.float()
    delay = (torch.rand(num, generator=generator, device=generator.device) - 0.5) * sps_float
    return sps, delay, low


def _num_symbols(length: int, num_taps: int, sps_min: int) -> int:
    return -(-(length + num_taps - 1) // sps_min)


def _sps_float(sps: int | torch.Tensor) -> float | torch.Tensor:
    return sps.float() if isinstance(sps, torch.Tensor) else float(sps)


def _phasor(turns: torch.Tensor) -> torch.Tensor:
    """``exp(j*2*pi*turns)`` for float64 ``turns`` (cycles), reduced to less than a turn in float64
    before the float32 cosine and sine. Returns complex64 of the same shape."""
    angle = torch.frac(turns).float().mul_(2 * math.pi)
    return torch.complex(torch.cos(angle), torch.sin(angle))


# --- linear digital --------------------------------------------------------------------------------

def _rrc_for_batch(num: int, cfg: ModulationConfig, generator: torch.Generator):
    """Symbol timing (see ``_symbol_timing``), RRC roll-off per example and the RRC tap count."""
    sps, delay, sps_min = _symbol_timing(num, cfg, generator)
    rolloff = _uniform(cfg.rolloff_min, cfg.rolloff_max, num, generator)
    num_taps = default_num_taps(cfg.samples_per_symbol_max, cfg.rrc_span_symbols)
    return sps, delay, sps_min, rolloff, num_taps


def _linear(name: str, num: int, length: int, cfg: ModulationConfig,
            generator: torch.Generator) -> torch.Tensor:
    """Random symbols of constellation ``name``, RRC-shaped. complex64 ``[num, length]``."""
    sps, delay, sps_min, rolloff, num_taps = _rrc_for_batch(num, cfg, generator)
    taps = rrc_taps(rolloff, _sps_float(sps), cfg.rrc_span_symbols, delay_samples=delay,
                    num_taps=num_taps)
    points = constellation(name, torch.complex64, generator.device)
    count = _num_symbols(length, num_taps, sps_min)
    indices = torch.randint(0, points.numel(), (num, count), generator=generator, device=generator.device)
    return shape_symbols(points[indices], taps, sps, length)


def _oqpsk(num: int, length: int, cfg: ModulationConfig, generator: torch.Generator) -> torch.Tensor:
    """QPSK with the quadrature rail half a symbol behind the in-phase rail, RRC-shaped."""
    sps, delay, sps_min, rolloff, num_taps = _rrc_for_batch(num, cfg, generator)
    # the in-phase rail's offset in [-sps/2, 0), the quadrature rail's half a symbol later, so both stay
    # within the filter's room of +-sps/2; which rail leads is random anyway (random carrier phase)
    half = _sps_float(sps) / 2
    in_phase_delay = delay / 2 - half / 2
    rails = [rrc_taps(rolloff, _sps_float(sps), cfg.rrc_span_symbols, delay_samples=in_phase_delay + shift,
                      num_taps=num_taps) for shift in (0.0, half)]
    count = _num_symbols(length, num_taps, sps_min)
    bits = torch.randint(0, 2, (2, num, count), generator=generator, device=generator.device)
    levels = (2 * bits - 1).float() / math.sqrt(2)
    in_phase, quadrature = (shape_symbols(levels[i], rails[i], sps, length) for i in range(2))
    return torch.complex(in_phase, quadrature)


# --- continuous-phase FSK --------------------------------------------------------------------------

def _continuous_phase(num: int, length: int, cfg: ModulationConfig, generator: torch.Generator,
                      pulse: Callable[[float | torch.Tensor, torch.Tensor, int], torch.Tensor],
                      modulation_index: Callable[[float | torch.Tensor], float | torch.Tensor]
                      ) -> torch.Tensor:
    """Binary CPFSK with frequency pulse ``pulse(sps, delay, num_taps)`` (unit sum) and modulation
    index ``modulation_index(sps)``: each symbol turns the phase by ``+-pi * h``."""
    sps, delay, sps_min = _symbol_timing(num, cfg, generator)
    num_taps = default_num_taps(cfg.samples_per_symbol_max, cfg.frequency_pulse_span_symbols)
    taps = pulse(_sps_float(sps), delay, num_taps)
    count = _num_symbols(length, num_taps, sps_min)
    bits = torch.randint(0, 2, (num, count), generator=generator, device=generator.device)
    frequency = shape_symbols((2 * bits - 1).float(), taps, sps, length)
    h = torch.as_tensor(modulation_index(_sps_float(sps)), device=generator.device).reshape(-1, 1)
    return _phasor(torch.cumsum(frequency.double() * (h / 2), dim=1))


def _gmsk(num, length, cfg, generator):
    return _continuous_phase(
        num, length, cfg, generator,
        lambda sps, delay, taps: gaussian_frequency_pulse(
            cfg.gmsk_bandwidth_time, sps, cfg.frequency_pulse_span_symbols, delay_samples=delay,
            num_taps=taps),
        lambda sps: cfg.gmsk_modulation_index)


def _gfsk(num, length, cfg, generator):
    return _continuous_phase(
        num, length, cfg, generator,
        lambda sps, delay, taps: gaussian_frequency_pulse(
            cfg.gfsk_bandwidth_time, sps, cfg.frequency_pulse_span_symbols, delay_samples=delay,
            num_taps=taps),
        lambda sps: cfg.gfsk_sensitivity_rad_per_sample * sps / math.pi)


def _cpfsk(num, length, cfg, generator):
    return _continuous_phase(
        num, length, cfg, generator,
        lambda sps, delay, taps: rectangular_pulse(sps, delay_samples=delay, num_taps=taps),
        lambda sps: cfg.cpfsk_modulation_index)


# --- analog ----------------------------------------------------------------------------------------

def analytic_signal(x: torch.Tensor) -> torch.Tensor:
    """``x + j H{x}`` for real float ``[batch, samples]``, Hilbert transform by FFT: ``H{x}`` has the
    spectrum of ``x`` times ``-j * sign(f)`` (zero at DC and Nyquist), i.e. the analytic signal keeps
    the positive frequencies doubled and drops the negative ones. Returns complex ``[batch, samples]``."""
    samples = x.shape[-1]
    spectrum = torch.fft.rfft(x, dim=-1)
    weight = torch.full((spectrum.shape[-1],), -1j, dtype=spectrum.dtype, device=x.device)
    weight[0] = 0.0
    if samples % 2 == 0:
        weight[-1] = 0.0
    return torch.complex(x, torch.fft.irfft(spectrum * weight, n=samples, dim=-1))


def _audio(num: int, length: int, cfg: ModulationConfig, generator: torch.Generator, *,
           analytic: bool = False) -> torch.Tensor:
    """``num`` windows of the speech-like source ``s``, float32 ``[num, length]`` (``|s| <= 1``), or with
    ``analytic`` its analytic signal ``s + j H{s}``, complex64 (AM-SSB).

    The source is band-limited (and Hilbert-transformed) over a stretch of at least one period of its
    lowest frequency (``sample_rate_hz / audio.low_hz`` samples) and the window is cut from the middle.
    Done on the window alone, the FFTs would treat it as one period of a periodic signal and drop every
    component slower than the window: at 200 kS/s a 128-sample window lasts 0.64 ms, so speech below
    1.56 kHz (nearly all of its power) would vanish and AM windows would be a bare carrier.
    """
    stretch = max(length, math.ceil(cfg.sample_rate_hz / cfg.audio.low_hz))
    audio = speech_like(num, stretch, sample_rate_hz=cfg.sample_rate_hz, generator=generator, config=cfg.audio)
    if analytic:
        audio = analytic_signal(audio)
    start = (stretch - length) // 2
    return audio[:, start:start + length]


def _am_index(num: int, cfg: ModulationConfig, generator: torch.Generator) -> torch.Tensor:
    return _uniform(cfg.am_modulation_index_min, cfg.am_modulation_index_max, num, generator)[:, None]


def _am_dsb_wc(num, length, cfg, generator):
    audio = _audio(num, length, cfg, generator)
    return torch.complex(1 + _am_index(num, cfg, generator) * audio, torch.zeros_like(audio))


def _am_dsb_sc(num, length, cfg, generator):
    audio = _audio(num, length, cfg, generator)
    return torch.complex(audio, torch.zeros_like(audio))


def _am_ssb_wc(num, length, cfg, generator):
    return 1 + _am_index(num, cfg, generator) * _audio(num, length, cfg, generator, analytic=True)


def _am_ssb_sc(num, length, cfg, generator):
    return _audio(num, length, cfg, generator, analytic=True)


def _fm(num, length, cfg, generator):
    audio = _audio(num, length, cfg, generator)
    deviation = _uniform(cfg.fm_deviation_hz_min, cfg.fm_deviation_hz_max, num, generator)[:, None]
    step = deviation.double() / cfg.sample_rate_hz * audio.double()
    return _phasor(torch.cumsum(step, dim=1))


def _am_ssb_2016(num, length, cfg, generator):
    if cfg.rml2016_ssb_is_noise:
        return complex_gaussian_noise(num, length, 1.0, generator=generator)
    return _am_ssb_wc(num, length, cfg, generator)


_GENERATORS: dict[str, SignalMaker] = {
    **{name: functools.partial(_linear, name) for name in CONSTELLATIONS},
    "QAM16": functools.partial(_linear, "16QAM"),
    "QAM64": functools.partial(_linear, "64QAM"),
    "OQPSK": _oqpsk,
    "GMSK": _gmsk,
    "GFSK": _gfsk,
    "CPFSK": _cpfsk,
    "AM-DSB-WC": _am_dsb_wc,
    "AM-DSB-SC": _am_dsb_sc,
    "AM-DSB": _am_dsb_wc,
    "AM-SSB-WC": _am_ssb_wc,
    "AM-SSB-SC": _am_ssb_sc,
    "AM-SSB": _am_ssb_2016,
    "FM": _fm,
    "WBFM": _fm,
}


def modulate(name: str, num: int, length: int, *, generator: torch.Generator,
             config: ModulationConfig | None = None) -> torch.Tensor:
    """``num`` clean examples of modulation ``name``, complex64 ``[num, length]``, each at unit average
    power, on ``generator.device``.

    name: any of ``rfnet.dsp.classes.MODULATIONS`` (RadioML 2018.01A or 2016.10a names).
    length: samples per example. config: per-example parameter ranges (default ``ModulationConfig()``).
    Unknown name -> ``ValueError`` listing the known ones.
    """
    if not isinstance(name, str) or name not in MODULATIONS:
        raise ValueError(f"unknown modulation {name!r}; known: {', '.join(MODULATIONS)}")
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"num must be a positive int, got {num!r}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    cfg = config if config is not None else ModulationConfig()
    if not isinstance(cfg, ModulationConfig):
        raise ValueError(f"config must be a ModulationConfig, got {type(cfg).__name__}")

    signal = _GENERATORS[name](num, length, cfg, generator).to(torch.complex64)
    carrier_phase = _uniform(0, 2 * math.pi, num, generator)
    # One complex scale per example: the carrier phase over the rms (the power is the same rotated).
    rms = torch.linalg.vector_norm(torch.view_as_real(signal).reshape(num, -1), dim=1) / math.sqrt(length)
    scale = torch.polar(1 / rms.clamp_min(math.sqrt(torch.finfo(torch.float32).tiny)), carrier_phase)
    return signal * scale[:, None]
