"""A speech-like modulating source for the analog classes (AM, SSB, FM).

RadioML drew its analog sources from podcast audio; rfnet generates a stand-in with the traits that
matter for the modulated spectrum:

- band-limited to ``low_hz .. high_hz`` (telephone-like 100 Hz - 4 kHz by default), enforced exactly
  by an FFT mask over each example;
- voiced sound: a harmonic series on a pitch that glides (``pitch_min_hz .. pitch_max_hz``), whose
  harmonics fall off with a random spectral tilt (dB per octave), mixed with unvoiced (noise-like) sound
  in a random proportion per syllable;
- non-stationary: a syllable-like amplitude envelope, one ``sin**2`` bump per syllable of random length
  (``syllable_min_s .. syllable_max_s``) and loudness;
- pauses: a syllable is silent with probability ``pause_probability``; a quiet background
  (``background_db`` below the speech level) stays, as in a real recording.

Each example is an independent window, starting at a random time, of an endless utterance. Times and
frequencies are in seconds and Hz at a nominal sample rate ``sample_rate_hz``; with RadioML's 200 kHz a
1024-sample example lasts 5 ms, so most examples fall inside one syllable or pause.
"""

from __future__ import annotations

import dataclasses
import math

import torch

__all__ = ["AudioSourceConfig", "speech_like"]


@dataclasses.dataclass(frozen=True)
class AudioSourceConfig:
    """Parameters of ``speech_like``; every range is drawn uniformly per example (or per syllable)."""

    low_hz: float = 100.0                  # pass band, Hz
    high_hz: float = 4000.0
    pitch_min_hz: float = 80.0             # fundamental of voiced sound, Hz
    pitch_max_hz: float = 250.0
    pitch_glide_octaves_per_s: float = 1.0  # the pitch drifts by up to this many octaves per second
    tilt_min_db_per_octave: float = -12.0  # harmonic roll-off, dB per octave
    tilt_max_db_per_octave: float = -3.0
    syllable_min_s: float = 0.08           # syllable length, seconds
    syllable_max_s: float = 0.3
    pause_probability: float = 0.25        # chance that a syllable is silent
    loudness_min: float = 0.3              # syllable peak amplitude relative to the loudest
    background_db: float = -40.0           # background noise RMS relative to loud speech, dB

    def __post_init__(self) -> None:
        if not 0 <= self.low_hz < self.high_hz:
            raise ValueError(f"need 0 <= low_hz < high_hz, got {self.low_hz}, {self.high_hz}")
        if not 0 < self.pitch_min_hz <= self.pitch_max_hz:
            raise ValueError("need 0 < pitch_min_hz <= pitch_max_hz")
        if not self.tilt_min_db_per_octave <= self.tilt_max_db_per_octave:
            raise ValueError("need tilt_min_db_per_octave <= tilt_max_db_per_octave")
        if not 0 < self.syllable_min_s <= self.syllable_max_s:
            raise ValueError("need 0 < syllable_min_s <= syllable_max_s")
        if not 0 <= self.pause_probability < 1:
            raise ValueError(f"pause_probability must lie in [0, 1), got {self.pause_probability}")
        if not 0 < self.loudness_min <= 1:
            raise ValueError(f"loudness_min must lie in (0, 1], got {self.loudness_min}")


_WAVETABLE_SIZE = 512          # samples in one pitch period of the voiced waveform
_MAX_HARMONICS = _WAVETABLE_SIZE // 2 - 1
_CREST_FACTOR = 3.0            # peak / RMS of the loudest syllables: their RMS sits at 1/3 of full scale
_UNVOICED_RMS = 1.0


def _uniform(low: float, high: float, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    draws = torch.rand(shape, generator=generator, device=generator.device)
    return low + (high - low) * draws


def _voiced(num: int, length: int, fs: float, cfg: AudioSourceConfig,
            generator: torch.Generator) -> torch.Tensor:
    """Harmonic series on a gliding pitch, float32 ``[num, length]`` at unit RMS.

    One period is built per example (random tilt and harmonic phases) as a wavetable and read out at the
    instantaneous pitch, so the cost does not grow with the number of harmonics.
    """
    device = generator.device
    pitch0 = torch.exp(_uniform(math.log(cfg.pitch_min_hz), math.log(cfg.pitch_max_hz), (num, 1), generator))
    glide = _uniform(-cfg.pitch_glide_octaves_per_s, cfg.pitch_glide_octaves_per_s, (num, 1), generator)
    seconds = torch.arange(length, dtype=torch.float32, device=device) / fs
    pitch = pitch0 * torch.exp2(glide * seconds)                       # Hz, [num, length]
    cycles = _uniform(0, 1, (num, 1), generator) + torch.cumsum(pitch / fs, dim=1)

    harmonic = torch.arange(1, _MAX_HARMONICS + 1, dtype=torch.float32, device=device)
    tilt = _uniform(cfg.tilt_min_db_per_octave, cfg.tilt_max_db_per_octave, (num, 1), generator)
    amplitude = 10 ** (tilt * torch.log2(harmonic) / 20)
    amplitude = amplitude * (harmonic * pitch.amax(1, keepdim=True) <= cfg.high_hz)
    phase = _uniform(0, 2 * math.pi, (num, _MAX_HARMONICS), generator)
    spectrum = torch.zeros(num, _WAVETABLE_SIZE // 2 + 1, dtype=torch.complex64, device=device)
    spectrum[:, 1:_MAX_HARMONICS + 1] = torch.polar(amplitude, phase)
    table = torch.fft.irfft(spectrum, n=_WAVETABLE_SIZE, dim=1, norm="forward")  # sum of 2 a_k cos
    table = table / (2 * amplitude.square().sum(1, keepdim=True)).clamp_min(1e-30).sqrt()

    table = torch.cat([table, table[:, :2]], dim=1)      # wrap-around, so index + 1 needs no modulo
    position = (cycles - cycles.floor()) * _WAVETABLE_SIZE
    left = position.long()
    weight = position - left
    return torch.lerp(torch.gather(table, 1, left), torch.gather(table, 1, left + 1), weight)


def _syllables(num: int, length: int, fs: float, cfg: AudioSourceConfig,
               generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Amplitude envelope in [0, 1] and voicing (share of voiced sound), float32 ``[num, length]``.

    The example starts at a random point inside a syllable; syllables are independent, so where the
    window sits in the utterance needs no other state.
    """
    device = generator.device
    syllable_s = _uniform(cfg.syllable_min_s, cfg.syllable_max_s, (num, 1), generator)
    position = (_uniform(0, 1, (num, 1), generator)
                + torch.arange(length, dtype=torch.float32, device=device) / (fs * syllable_s))
    index = position.long()                                           # syllable within the example
    count = int(index.max()) + 1
    loud = _uniform(cfg.loudness_min, 1, (num, count), generator)
    silent = torch.rand(num, count, generator=generator, device=device) < cfg.pause_probability
    loud = torch.where(silent, torch.zeros_like(loud), loud)
    voicing = _uniform(0.5, 1, (num, count), generator)
    envelope = torch.gather(loud, 1, index) * torch.sin(math.pi * (position - index)).square()
    return envelope, torch.gather(voicing, 1, index)


def speech_like(num: int, length: int, *, sample_rate_hz: float, generator: torch.Generator,
                config: AudioSourceConfig | None = None) -> torch.Tensor:
    """``num`` windows of a speech-like audio signal, float32 ``[num, length]``, ``|value| <= 1``.

    Loud syllables have an RMS near 1/3 of full scale; a window whose peak would pass 1 is scaled down
    to peak 1, and a window that holds only a pause stays quiet (it is not rescaled).
    sample_rate_hz: the nominal sample rate of the output (it fixes what Hz and seconds mean in
    samples); it must exceed twice ``config.high_hz``. Deterministic given the generator's state.
    """
    cfg = config or AudioSourceConfig()
    if num < 1 or length < 1:
        raise ValueError(f"num and length must be positive, got {num}, {length}")
    if sample_rate_hz <= 2 * cfg.high_hz:
        raise ValueError(f"sample_rate_hz ({sample_rate_hz}) must exceed twice high_hz ({cfg.high_hz})")
    device = generator.device
    voiced = _voiced(num, length, sample_rate_hz, cfg, generator)
    unvoiced = torch.randn(num, length, generator=generator, device=device) * _UNVOICED_RMS
    envelope, voicing = _syllables(num, length, sample_rate_hz, cfg, generator)
    background = torch.randn(num, length, generator=generator, device=device)
    audio = envelope * (voicing * voiced + (1 - voicing) * unvoiced)
    audio = (audio + 10 ** (cfg.background_db / 20) * background) / _CREST_FACTOR

    spectrum = torch.fft.rfft(audio, dim=1)
    freq_hz = torch.fft.rfftfreq(length, d=1 / sample_rate_hz, device=device)
    spectrum = spectrum * ((freq_hz >= cfg.low_hz) & (freq_hz <= cfg.high_hz))
    audio = torch.fft.irfft(spectrum, n=length, dim=1)
    return audio / audio.abs().amax(1, keepdim=True).clamp_min(1.0)
