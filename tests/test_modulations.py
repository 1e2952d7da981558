"""Class lists, pulses, the speech-like source and ``modulate`` for every class."""

import math

import numpy as np
import pytest
import torch

from rfnet.dsp.classes import (MODULATIONS, RML2016_CLASSES, RML2016_TO_2018, RML2018_CLASSES,
                               RML2018_TO_2016)
from rfnet.dsp.modulations import ModulationConfig, analytic_signal, modulate
from rfnet.dsp.pulses import (fir_filter, gaussian_frequency_pulse, rectangular_pulse, rrc_taps,
                              shape_symbols, upsample)
from rfnet.dsp.sources import AudioSourceConfig, speech_like


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _power_spectrum(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Average periodogram over the batch, frequencies in cycles/sample from -1/2 to 1/2."""
    psd = torch.fft.fftshift(torch.fft.fft(x.to(torch.complex128), dim=1).abs().square().mean(0))
    freqs = torch.fft.fftshift(torch.fft.fftfreq(x.shape[1], dtype=torch.float64))
    return freqs.numpy(), psd.numpy()


def _occupied_bandwidth(x: torch.Tensor, fraction: float = 0.99) -> float:
    """Width of the centred band holding ``fraction`` of the power (cycles/sample)."""
    freqs, psd = _power_spectrum(x)
    widths = np.sort(np.abs(freqs))
    cumulative = np.cumsum(psd[np.argsort(np.abs(freqs))]) / psd.sum()
    return 2 * float(widths[np.searchsorted(cumulative, fraction)])


# --- class lists -----------------------------------------------------------------------------------

def test_class_lists():
    assert len(RML2018_CLASSES) == 24 and len(set(RML2018_CLASSES)) == 24
    assert RML2018_CLASSES[:4] == ("OOK", "4ASK", "8ASK", "BPSK")
    assert RML2018_CLASSES[-3:] == ("FM", "GMSK", "OQPSK")
    assert len(RML2016_CLASSES) == 11 and list(RML2016_CLASSES) == sorted(RML2016_CLASSES)
    assert set(MODULATIONS) == set(RML2018_CLASSES) | set(RML2016_CLASSES)
    assert len(MODULATIONS) == len(set(MODULATIONS))


def test_mappings_are_consistent_inverses():
    assert set(RML2016_TO_2018) == set(RML2016_CLASSES)
    assert set(RML2018_TO_2016) == set(RML2018_CLASSES)
    for old, new in RML2016_TO_2018.items():
        if new is not None:
            assert new in RML2018_CLASSES and RML2018_TO_2016[new] == old
    for new, old in RML2018_TO_2016.items():
        if old is not None:
            assert RML2016_TO_2018[old] == new
    assert RML2016_TO_2018["AM-DSB"] == "AM-DSB-WC" and RML2016_TO_2018["WBFM"] == "FM"
    assert RML2016_TO_2018["CPFSK"] is None and RML2016_TO_2018["GFSK"] is None


# --- pulses ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rolloff", [0.1, 0.25, 0.35, 0.5, 1.0])
def test_rrc_is_symmetric_unit_energy_and_squares_to_a_nyquist_pulse(rolloff):
    sps, span = 8, 32
    taps = rrc_taps(rolloff, sps, span).double()
    assert taps.shape == (span * sps + 1,)
    assert torch.allclose(taps, taps.flip(0), atol=1e-7)
    assert float(taps.square().sum()) == pytest.approx(1.0, abs=1e-6)
    raised_cosine = np.convolve(taps.numpy(), taps.numpy())
    centre = len(raised_cosine) // 2
    at_symbols = raised_cosine[centre % sps::sps]
    peak = raised_cosine[centre]
    others = np.delete(at_symbols, centre // sps)
    assert peak == pytest.approx(1.0, abs=1e-6)
    assert np.abs(others).max() < 5e-3            # zero crossings at symbol multiples, up to truncation


def test_rrc_taps_per_example_match_one_at_a_time():
    rolloff = torch.tensor([0.1, 0.35, 0.9])
    delay = torch.tensor([0.0, 1.5, -2.25])
    batch = rrc_taps(rolloff, 8, 10, delay_samples=delay, num_taps=97)
    for i in range(3):
        one = rrc_taps(float(rolloff[i]), 8, 10, delay_samples=float(delay[i]), num_taps=97)
        assert torch.allclose(batch[i], one, atol=1e-6)
    # a delayed pulse peaks ``delay`` samples after the centre
    late = rrc_taps(0.35, 8, 10, delay_samples=3.0, num_taps=97)
    assert int(late.argmax()) == 48 + 3


def test_frequency_pulses_have_unit_area():
    gaussian = gaussian_frequency_pulse(0.3, 8, 4)
    rect = rectangular_pulse(8)
    assert float(gaussian.sum()) == pytest.approx(1.0, abs=1e-6)
    assert torch.allclose(gaussian, gaussian.flip(0), atol=1e-6)
    assert float(rect.sum()) == pytest.approx(1.0) and int((rect > 0).sum()) == 8
    # a smaller BT spreads the pulse: lower peak
    assert float(gaussian_frequency_pulse(0.2, 8, 4).max()) < float(gaussian.max())


def test_shape_symbols_equals_upsample_then_filter():
    gen = _gen(3)
    symbols = torch.randn(5, 80, dtype=torch.complex64, generator=gen)
    taps = torch.randn(5, 41, generator=gen)
    sps = torch.tensor([2, 4, 4, 3, 2])
    shaped = shape_symbols(symbols, taps, sps, 100)
    for i in range(5):
        full = fir_filter(upsample(symbols[i:i + 1], int(sps[i]), 140), taps[i])
        assert torch.allclose(shaped[i], full[0, 40:140], atol=1e-5)
    with pytest.raises(ValueError, match="do not fill"):
        shape_symbols(symbols[:, :10], taps, sps, 100)


# --- digital classes -------------------------------------------------------------------------------

@pytest.mark.parametrize("sps,rolloff", [(4, 0.35), (8, 0.2), (8, 0.5), (16, 0.35)])
def test_occupied_bandwidth_matches_rrc_theory(sps, rolloff):
    cfg = ModulationConfig(samples_per_symbol_min=sps, samples_per_symbol_max=sps,
                           rolloff_min=rolloff, rolloff_max=rolloff)
    x = modulate("QPSK", 200, 2048, generator=_gen(), config=cfg)
    # theory: the PSD is a raised-cosine spectrum, flat to (1 - b)/(2 sps), zero beyond (1 + b)/(2 sps)
    f = np.linspace(0, 0.5, 200001)
    edge_low, edge_high = (1 - rolloff) / (2 * sps), (1 + rolloff) / (2 * sps)
    spectrum = np.where(f <= edge_low, 1.0, np.where(
        f <= edge_high, 0.5 * (1 + np.cos(np.pi * sps / rolloff * (f - edge_low))), 0.0))
    cumulative = np.cumsum(spectrum) / spectrum.sum()
    theory_99 = 2 * f[np.searchsorted(cumulative, 0.99)]
    assert _occupied_bandwidth(x, 0.99) == pytest.approx(theory_99, rel=0.04)
    freqs, psd = _power_spectrum(x)
    outside = psd[np.abs(freqs) > (1 + rolloff) / (2 * sps)].sum() / psd.sum()
    assert outside < 3e-3                         # only the truncated filter's sidelobes leak out


def test_per_example_rolloff_and_sps_are_randomised():
    cfg = ModulationConfig(samples_per_symbol_min=2, samples_per_symbol_max=16,
                           rolloff_min=0.1, rolloff_max=0.9)
    x = modulate("BPSK", 64, 2048, generator=_gen(), config=cfg)
    widths = [_occupied_bandwidth(x[i:i + 1], 0.9) for i in range(64)]
    assert max(widths) / min(widths) > 4          # sps spans 2..16, so bandwidth spans ~8x
    assert torch.allclose(x.abs().square().mean(1), torch.ones(64), atol=1e-5)


@pytest.mark.parametrize("name", ["GMSK", "CPFSK", "GFSK", "FM", "WBFM"])
def test_constant_envelope(name):
    x = modulate(name, 32, 1024, generator=_gen())
    assert torch.allclose(x.abs(), torch.ones_like(x.real), atol=1e-4)


def test_cpfsk_and_gfsk_phase_steps():
    cfg = ModulationConfig()
    steps = lambda x: (x[:, 1:] * x[:, :-1].conj()).angle().abs()
    cpfsk = steps(modulate("CPFSK", 16, 1024, generator=_gen(), config=cfg))
    # rectangular pulse: every sample turns the phase by exactly pi * h / sps
    assert torch.allclose(cpfsk, torch.full_like(cpfsk, math.pi * 0.5 / 8), atol=1e-4)
    gfsk = steps(modulate("GFSK", 16, 4096, generator=_gen(), config=cfg))
    # GNU Radio's sensitivity: at most 0.1 rad per sample, reached during runs of equal bits
    assert float(gfsk.max()) == pytest.approx(cfg.gfsk_sensitivity_rad_per_sample, rel=0.01)
    gmsk = steps(modulate("GMSK", 16, 4096, generator=_gen(), config=cfg))
    assert float(gmsk.max()) == pytest.approx(math.pi * 0.5 / 8, rel=0.01)


def test_oqpsk_envelope_avoids_zero_unlike_qpsk():
    qpsk = modulate("QPSK", 64, 1024, generator=_gen())
    oqpsk = modulate("OQPSK", 64, 1024, generator=_gen())
    assert float(qpsk.abs().min()) < 0.05
    assert float(oqpsk.abs().min()) > 0.25
    # the rails take turns: I changes sign around half a symbol away from Q (cross-correlation of the
    # sign changes peaks at a lag of sps / 2 = 4 samples)
    derotated = oqpsk * torch.exp(-1j * torch.angle((oqpsk ** 4).sum(1, keepdim=True)) / 4
                                  + 1j * math.pi / 4)
    flips_i = (derotated.real[:, 1:] * derotated.real[:, :-1] < 0).float()
    flips_q = (derotated.imag[:, 1:] * derotated.imag[:, :-1] < 0).float()
    lags = range(-8, 9)
    score = [float((flips_i[:, 8:-8] * flips_q[:, 8 + lag:flips_q.shape[1] - 8 + lag]).sum()) for lag in lags]
    best = list(lags)[int(np.argmax(score))]
    assert abs(abs(best) - 4) <= 1


# --- analog classes --------------------------------------------------------------------------------

def test_ssb_is_one_sided_and_dsb_is_two_sided():
    freqs, ssb = _power_spectrum(modulate("AM-SSB-SC", 64, 4096, generator=_gen()))
    _, dsb = _power_spectrum(modulate("AM-DSB-SC", 64, 4096, generator=_gen()))
    away_from_dc = np.abs(freqs) > 1e-3
    upper, lower = (freqs > 0) & away_from_dc, (freqs < 0) & away_from_dc
    assert ssb[lower].sum() < 1e-3 * ssb[upper].sum()
    assert dsb[lower].sum() == pytest.approx(dsb[upper].sum(), rel=0.1)
    _, ssb_wc = _power_spectrum(modulate("AM-SSB-WC", 64, 4096, generator=_gen()))
    assert ssb_wc[lower].sum() < 1e-3 * ssb_wc[upper].sum()


def test_short_analog_windows_keep_the_audio_slower_than_the_window():
    # 128 samples at 200 kS/s last 0.64 ms, less than a period of most of speech. The window is cut from
    # a longer stretch, so it holds a slice of a slow wave (a non-zero mean); band-limited on its own it
    # would be periodic with every slower component filtered away (zero mean: AM a bare carrier).
    x = modulate("AM-DSB-SC", 64, 128, generator=_gen())          # s(t) times the carrier phase
    offset = x.mean(1).abs() / x.abs().square().mean(1).sqrt()   # |mean s| / rms s
    assert float(offset.median()) > 0.3


def test_analytic_signal_of_a_cosine_is_a_phasor():
    n = torch.arange(256, dtype=torch.float64)
    phasor = analytic_signal(torch.cos(2 * math.pi * 10 * n / 256)[None])
    assert torch.allclose(phasor[0], torch.exp(2j * math.pi * 10 * n / 256), atol=1e-9)


def test_am_with_carrier_keeps_a_positive_envelope():
    x = modulate("AM-DSB-WC", 64, 1024, generator=_gen())
    carrier = x.mean(1, keepdim=True)
    derotated = x * carrier.conj() / carrier.abs()
    assert float(derotated.real.min()) >= 0           # 1 + m s(t) with m <= 1, |s| <= 1
    assert float(derotated.imag.abs().max()) < 1e-4


def test_rml2016_ssb_noise_option():
    noisy = modulate("AM-SSB", 16, 4096, generator=_gen(), config=ModulationConfig(rml2016_ssb_is_noise=True))
    freqs, psd = _power_spectrum(noisy)
    assert psd[freqs < -0.1].sum() == pytest.approx(psd[freqs > 0.1].sum(), rel=0.1)   # white


# --- the source ------------------------------------------------------------------------------------

def test_source_is_band_limited_and_bounded():
    cfg = AudioSourceConfig()
    audio = speech_like(8, 16000, sample_rate_hz=16000, generator=_gen(), config=cfg)
    assert audio.dtype == torch.float32 and audio.shape == (8, 16000)
    assert float(audio.abs().max()) <= 1.0
    spectrum = torch.fft.rfft(audio.double(), dim=1).abs().square()
    freqs = torch.fft.rfftfreq(16000, d=1 / 16000)
    outside = (freqs < cfg.low_hz) | (freqs > cfg.high_hz)
    assert float(spectrum[:, outside].sum() / spectrum.sum()) < 1e-10


def test_source_has_pauses_and_changes_over_time():
    audio = speech_like(4, 48000, sample_rate_hz=16000, generator=_gen())    # 3 s each
    frames = audio.double().reshape(4, -1, 320).square().mean(-1)             # 20 ms frames
    level_db = 10 * torch.log10(frames / frames.amax(1, keepdim=True))
    assert bool((level_db < -30).any(dim=1).all())           # every example has silences
    assert bool(((level_db > -6).sum(dim=1) >= 3).all())     # and loud syllables
    # not one stationary tone: the dominant frequency moves between loud frames
    spectra = torch.fft.rfft(audio.double().reshape(4, -1, 320), dim=-1).abs()
    peaks = spectra.argmax(-1)[level_db > -10]
    assert torch.unique(peaks).numel() >= 3


def test_source_level_and_validation():
    with pytest.raises(ValueError, match="sample_rate_hz"):
        speech_like(1, 100, sample_rate_hz=6000, generator=_gen())
    with pytest.raises(ValueError, match="pause_probability"):
        AudioSourceConfig(pause_probability=1.5)


# --- modulate: every class -------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODULATIONS)
def test_every_class_is_unit_power_complex64_and_deterministic(name):
    x = modulate(name, 6, 512, generator=_gen(7))
    assert x.dtype == torch.complex64 and x.shape == (6, 512)
    assert torch.isfinite(torch.view_as_real(x)).all()
    assert torch.allclose(x.abs().square().mean(1), torch.ones(6), atol=1e-5)
    assert torch.equal(x, modulate(name, 6, 512, generator=_gen(7)))
    assert not torch.equal(x, modulate(name, 6, 512, generator=_gen(8)))
    assert not torch.allclose(x[0], x[1])                    # examples differ from one another


def test_2016_aliases_generate_the_2018_signal():
    for old, new in [("QAM16", "16QAM"), ("QAM64", "64QAM"), ("WBFM", "FM"), ("AM-DSB", "AM-DSB-WC"),
                     ("AM-SSB", "AM-SSB-WC")]:
        assert torch.equal(modulate(old, 3, 256, generator=_gen()), modulate(new, 3, 256, generator=_gen()))
    assert not torch.equal(modulate("PAM4", 3, 256, generator=_gen()),
                           modulate("4ASK", 3, 256, generator=_gen()))


def test_random_phase_and_timing_differ_per_example():
    x = modulate("BPSK", 32, 1024, generator=_gen())
    phases = torch.angle((x ** 2).mean(1)) / 2           # BPSK: squaring removes the data
    assert float(torch.std(torch.remainder(phases, math.pi))) > 0.3


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="unknown modulation 'QAM8'.*OOK"):
        modulate("QAM8", 1, 16, generator=_gen())
    with pytest.raises(ValueError, match="num"):
        modulate("BPSK", 0, 16, generator=_gen())
    with pytest.raises(ValueError, match="length"):
        modulate("BPSK", 1, 0, generator=_gen())
    with pytest.raises(ValueError, match="generator"):
        modulate("BPSK", 1, 16, generator=0)
    with pytest.raises(ValueError, match="rolloff"):
        ModulationConfig(rolloff_min=0.5, rolloff_max=0.2)
    with pytest.raises(ValueError, match="samples_per_symbol"):
        ModulationConfig(samples_per_symbol_min=0)
