import dataclasses
import math

import pytest
import torch

from rfnet.dsp.channel import (ChannelConfig, apply_channel, apply_impairments, awgn, bounded_random_walk,
                               fading_gains, frequency_offset, multipath_fading, phase_noise, phase_offset)
from rfnet.dsp.interpolation import delay_paths, fractional_delay, interpolate, resample
from rfnet.dsp.power import ratio_to_db, signal_power


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def tone(frequency, samples, batch=1, delay=0.0):
    """exp(j*2*pi*f*(n - delay)), complex64 [batch, samples], computed in float64."""
    times = torch.arange(samples, dtype=torch.float64) - delay
    return torch.exp(2j * math.pi * frequency * times).to(torch.complex64).expand(batch, samples).contiguous()


def measured_frequency(iq):
    """Mean frequency (cycles/sample) from the phase step between neighbouring samples, per example."""
    return torch.angle(iq[:, 1:] * iq[:, :-1].conj()).double().mean(-1) / (2 * math.pi)


def unwrapped_phase(iq):
    steps = torch.angle(iq[:, 1:] * iq[:, :-1].conj()).double()
    return torch.cat([torch.zeros(iq.shape[0], 1, dtype=torch.float64), torch.cumsum(steps, -1)], -1)


def white(batch, samples, seed=0):
    return torch.randn(batch, samples, dtype=torch.complex64, generator=gen(seed))


# --- AWGN and SNR --------------------------------------------------------------------------------------

@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 7.0, 20.0])
def test_awgn_delivers_the_requested_snr(snr_db):
    signal = 3.0 * tone(0.05, 65536, batch=2)
    received = awgn(signal, snr_db, generator=gen())
    measured = ratio_to_db(signal_power(signal) / signal_power(received - signal))
    assert torch.allclose(measured, torch.full((2,), snr_db), atol=0.25)


def test_awgn_takes_one_snr_per_example():
    signal = white(4, 65536)
    snr_db = torch.tensor([-20.0, -3.0, 5.0, 30.0])
    received = awgn(signal, snr_db, generator=gen(1))
    measured = ratio_to_db(signal_power(signal) / signal_power(received - signal))
    torch.testing.assert_close(measured, snr_db, atol=0.25, rtol=0)


def test_apply_channel_measures_snr_on_the_received_signal_before_noise():
    signal = white(4, 65536)
    config = ChannelConfig.rml2018()
    snr_db = torch.tensor([-10.0, 0.0, 10.0, 20.0])
    impaired = apply_impairments(signal, config, generator=gen(3))
    received = apply_channel(signal, snr_db, config, generator=gen(3))
    measured = ratio_to_db(signal_power(impaired) / signal_power(received - impaired))
    torch.testing.assert_close(measured, snr_db, atol=0.25, rtol=0)
    # The fading did change the powers, so measuring after it is what made the SNR right.
    assert float((ratio_to_db(signal_power(impaired) / signal_power(signal))).abs().max()) > 0.5


def test_awgn_refuses_a_silent_example():
    iq = torch.ones(2, 16, dtype=torch.complex64)
    iq[0] = 0
    with pytest.raises(ValueError, match=r"zero power in example\(s\) \[0\]"):
        awgn(iq, 10.0, generator=gen())


# --- frequency, phase, phase noise ---------------------------------------------------------------------

def test_frequency_offset_shifts_by_the_requested_cfo_per_example():
    cfo = torch.tensor([-0.3, -0.01, 0.0, 0.0025, 0.2])
    shifted = frequency_offset(torch.ones(5, 4096, dtype=torch.complex64), cfo)
    torch.testing.assert_close(measured_frequency(shifted), cfo.double(), atol=1e-6, rtol=0)
    # Phase continuity over a long signal: compare with the exact phase ramp at the end.
    expected = tone(0.2, 65536)
    got = frequency_offset(torch.ones(1, 65536, dtype=torch.complex64), 0.2)
    assert float((got - expected).abs().max()) < 1e-4


def test_frequency_offset_follows_a_per_sample_frequency():
    ramp = torch.linspace(-0.05, 0.05, 2048, dtype=torch.float64).expand(3, 2048)
    shifted = frequency_offset(torch.ones(3, 2048, dtype=torch.complex64), ramp)
    steps = torch.angle(shifted[:, 1:] * shifted[:, :-1].conj()).double() / (2 * math.pi)
    torch.testing.assert_close(steps, ramp[:, :-1], atol=1e-5, rtol=0)


def test_phase_offset_rotates_each_example():
    phase = torch.tensor([-3.0, 0.0, 0.5, 3.1])
    signal = white(4, 256)
    rotated = phase_offset(signal, phase)
    torch.testing.assert_close(torch.angle((rotated / signal).mean(-1)), phase, atol=1e-5, rtol=0)
    torch.testing.assert_close(signal_power(rotated), signal_power(signal))


def test_phase_noise_variance_grows_linearly_with_the_configured_linewidth():
    linewidth = 2e-4  # cycles/sample: variance 2*pi*linewidth rad^2 per sample
    noisy = phase_noise(torch.ones(3000, 1024, dtype=torch.complex64), linewidth, generator=gen())
    phase = unwrapped_phase(noisy)
    for n in (128, 512, 1023):
        assert float(phase[:, n].var()) == pytest.approx(2 * math.pi * linewidth * n, rel=0.1)
    assert float(noisy.abs().sub(1).abs().max()) < 1e-5  # phase only
    clean = torch.ones(2, 64, dtype=torch.complex64)
    assert torch.equal(phase_noise(clean, 0.0, generator=gen()), clean)


# --- interpolation: fractional delay, timing, sample-rate offset ----------------------------------------

@pytest.mark.parametrize("frequency", [0.02, 0.13, 0.3])
def test_fractional_delay_matches_an_exactly_delayed_tone(frequency):
    delays = torch.tensor([0.0, 0.25, 0.5, 0.91, 3.37, -1.6])
    delayed = fractional_delay(tone(frequency, 2048, batch=6), delays)
    for row, delay in enumerate(delays.tolist()):
        expected = tone(frequency, 2048, delay=delay)[0]
        assert float((delayed[row, 16:-16] - expected[16:-16]).abs().max()) < 2e-3


def test_fractional_delay_of_a_band_limited_signal_and_integer_shifts():
    # A sum of tones inside +-0.35 cycles/sample, delayed by 0.4 samples.
    frequencies = torch.linspace(-0.35, 0.35, 9).tolist()
    signal = sum(tone(f, 1024) for f in frequencies)
    expected = sum(tone(f, 1024, delay=0.4) for f in frequencies)
    error = (fractional_delay(signal, 0.4) - expected)[:, 16:-16].abs().max()
    assert float(error) < 1e-3 * float(signal.abs().max())
    # Whole-sample delays are exact shifts, with the first sample repeated in front.
    x = white(2, 64)
    shifted = fractional_delay(x, 3.0)
    torch.testing.assert_close(shifted[:, 3:], x[:, :-3])
    torch.testing.assert_close(shifted[:, :3], x[:, :1].expand(2, 3))


def test_resample_scales_a_tone_frequency_by_the_sample_rate_offset():
    offsets = torch.tensor([-2e-3, 0.0, 5e-4, 1e-2])
    resampled = resample(tone(0.1, 8192, batch=4), offsets)
    measured = measured_frequency(resampled[:, 32:-32])
    torch.testing.assert_close(measured, 0.1 / (1 + offsets.double()), atol=1e-7, rtol=0)


def test_resample_with_no_rate_offset_is_a_fractional_delay():
    x = white(3, 512)
    delay = torch.tensor([0.3, 1.0, 2.75])
    torch.testing.assert_close(resample(x, 0.0, delay=delay), fractional_delay(x, delay))


def test_interpolate_holds_the_edge_samples_far_outside_the_example():
    x = white(1, 32)
    out = interpolate(x, torch.tensor([[-100.0, 0.0, 31.0, 500.0]], dtype=torch.float64))
    torch.testing.assert_close(out, x[:, [0, 0, 31, 31]])


@pytest.mark.parametrize("positions", [
    [[-8.0, -8.0, -8.0, -8.0]],  # 4 whole-sample offsets from the output index (0 ... -3)
    [[33.25, 34.5, 35.75, 36.0]],  # past the end of the example, clamped
    [[0.25, 1.3, 2.4, 3.45], [-0.9, 0.2, 1.1, 2.2]],  # a fractional delay per example
    [[0.0, 6.5, 2.25, 9.0]],  # offsets 0 ... 6: too spread for slices, gathered either way
])
def test_interpolate_reads_its_taps_as_slices_or_by_gather_alike(monkeypatch, positions):
    import rfnet.dsp.interpolation as interpolation
    x = white(len(positions), 32)
    positions = torch.tensor(positions, dtype=torch.float64)
    default = interpolate(x, positions)
    monkeypatch.setattr(interpolation, "SLICED_SHIFTS_MAX", 0)  # always gather
    torch.testing.assert_close(default, interpolate(x, positions), atol=1e-6, rtol=0)


def test_resample_with_a_per_sample_offset_follows_it():
    x = white(2, 400)
    offsets = torch.tensor([3e-3, -2e-3])
    delay = torch.tensor([0.5, 0.25])
    steady = resample(x, offsets, delay=delay)
    torch.testing.assert_close(resample(x, offsets.unsqueeze(-1).expand(2, 400), delay=delay), steady,
                               atol=1e-5, rtol=0)
    # A clock that speeds up half way: the first half is the steady one.
    drifting = torch.cat([offsets.unsqueeze(-1).expand(2, 200), torch.full((2, 200), 5e-2)], dim=1)
    changed = resample(x, drifting, delay=delay)
    torch.testing.assert_close(changed[:, :200], steady[:, :200], atol=1e-5, rtol=0)
    assert float((changed[:, 220:380] - steady[:, 220:380]).abs().min()) > 1e-3


def test_bounded_random_walk_starts_where_asked_and_stays_in_bounds():
    start = torch.tensor([-1.0, 0.0, 0.9])
    walk = bounded_random_walk(start, 0.2, 1.0, 5000, generator=gen())
    torch.testing.assert_close(walk[:, 0], start.double())
    assert float(walk.abs().max()) <= 1.0
    assert float(walk.std(-1).min()) > 0.1  # it does move


# --- fading ---------------------------------------------------------------------------------------------

def test_rayleigh_power_is_exponential_with_unit_mean():
    power = fading_gains(20000, 1, 1, max_doppler=0.0, generator=gen())[:, 0, 0].abs().square()
    assert float(power.mean()) == pytest.approx(1.0, abs=0.03)
    for level in (0.1, 0.5, 1.0, 2.0, 3.0):
        assert float((power < level).float().mean()) == pytest.approx(1 - math.exp(-level), abs=0.025)


@pytest.mark.parametrize("k_factor", [1.0, 4.0, 10.0])
def test_rician_k_factor_is_recovered_from_the_power_moments(k_factor):
    power = fading_gains(20000, 1, 1, max_doppler=0.0, rician_k=k_factor,
                         generator=gen())[:, 0, 0].abs().square().double()
    assert float(power.mean()) == pytest.approx(1.0, abs=0.03)
    # For unit mean power, Var(P) = (1 + 2K) / (1 + K)^2, so sqrt(1 - Var) = K / (1 + K).
    root = math.sqrt(max(0.0, 1 - float(power.var() / power.mean() ** 2)))
    assert root / (1 - root) == pytest.approx(k_factor, rel=0.2)


def test_fading_autocorrelation_follows_jakes_bessel_function():
    doppler = 0.01
    gains = fading_gains(4000, 1, 200, max_doppler=doppler, generator=gen())[:, 0]
    for lag in (10, 20, 38, 60):
        correlation = float((gains[:, :-lag].conj() * gains[:, lag:]).mean().real)
        bessel = float(torch.special.bessel_j0(torch.tensor(2 * math.pi * doppler * lag)))
        assert correlation == pytest.approx(bessel, abs=0.05)
    static = fading_gains(3, 2, 50, max_doppler=0.0, generator=gen())
    torch.testing.assert_close(static, static[..., :1].expand_as(static))


def test_multipath_places_each_path_at_its_delay_and_keeps_average_power():
    impulse = torch.zeros(4, 64, dtype=torch.complex64)
    impulse[:, 20] = 1
    response = multipath_fading(impulse, delays=(0.0, 3.0, 7.0), magnitudes=(1.0, 0.5, 0.25),
                                generator=gen())
    nonzero = (response.abs() > 1e-6).nonzero()[:, 1].unique().tolist()
    assert nonzero == [20, 23, 27]
    x = white(2000, 256)
    faded = multipath_fading(x, delays=(0.0, 0.9, 1.7), magnitudes=(1.0, 0.8, 0.3), rician_k=4.0,
                             max_doppler=1e-4, generator=gen(1))
    assert float(signal_power(faded).mean() / signal_power(x).mean()) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("doppler", [1e-6, 2e-3])  # one fading step per example, and many
def test_multipath_fading_is_the_sum_of_faded_delayed_paths(doppler):
    # y[n] = sum_p m_p g_p[n] x(n - d_p), with the gains of fading_gains drawn from the same seed.
    x = white(5, 700)
    delays, magnitudes = (0.0, 0.6, 1.5, 4.0), (1.0, 0.5, 0.25, 0.1)
    faded = multipath_fading(x, delays=delays, magnitudes=magnitudes, max_doppler=doppler, rician_k=3.0,
                             generator=gen(4))
    gains = fading_gains(5, 4, 700, max_doppler=doppler, rician_k=3.0, generator=gen(4))
    amplitude = torch.tensor(magnitudes) / torch.tensor(magnitudes).square().sum().sqrt()
    expected = (delay_paths(x, delays) * gains * amplitude.view(1, 4, 1)).sum(dim=1)
    torch.testing.assert_close(faded, expected, atol=1e-5, rtol=0)


def test_delay_paths_equals_one_fractional_delay_per_path():
    x = white(3, 300)
    delays = (0.0, 0.9, 1.7, 6.25)
    stacked = torch.stack([fractional_delay(x, d) for d in delays], dim=1)
    torch.testing.assert_close(delay_paths(x, delays), stacked, atol=1e-5, rtol=0)


# --- the whole channel ----------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", ["clean", "rml2016", "rml2018"])
def test_presets_keep_shape_dtype_and_are_deterministic(preset):
    config = getattr(ChannelConfig, preset)()
    x = white(7, 333)
    a = apply_channel(x, 5.0, config, generator=gen(11))
    b = apply_channel(x, 5.0, config, generator=gen(11))
    c = apply_channel(x, 5.0, config, generator=gen(12))
    assert a.shape == x.shape and a.dtype == torch.complex64
    assert torch.equal(torch.view_as_real(a), torch.view_as_real(b))
    assert not torch.equal(a, c)
    one = apply_channel(x[:1], 5.0, config, generator=gen(11))
    assert one.shape == (1, 333) and one.dtype == torch.complex64


def test_a_large_batch_is_impaired_chunk_by_chunk(monkeypatch):
    import rfnet.dsp.channel as channel

    monkeypatch.setattr(channel, "IMPAIRMENT_CHUNK_SAMPLES", 3 * 200)  # 3 examples at a time
    x = white(7, 200)
    config = ChannelConfig.rml2018()
    whole = apply_impairments(x, config, generator=gen(5))
    generator = gen(5)
    parts = [apply_impairments(x[start:start + 3], config, generator=generator) for start in (0, 3, 6)]
    assert torch.equal(torch.view_as_real(whole), torch.view_as_real(torch.cat(parts)))


def test_rml2016_preset_mirrors_the_gnu_radio_dynamic_channel_model():
    config = ChannelConfig.rml2016()
    assert config.sample_rate_hz == 200e3
    assert (config.sro_walk_std_hz, config.sro_max_hz) == (0.01, 50.0)
    assert (config.cfo_walk_std_hz, config.cfo_max_hz) == (0.01, 500.0)
    assert (config.num_sinusoids, config.max_doppler_hz) == (8, 1.0)
    assert (config.fading, config.rician_k) == ("rician", 4.0)
    assert config.path_delays_samples == (0.0, 0.9, 1.7)
    assert config.path_magnitudes == (1.0, 0.8, 0.3)
    assert 2 * config.interpolator_half_width == 8


def test_clean_config_adds_only_noise():
    x = white(2, 128)
    assert torch.equal(apply_impairments(x, ChannelConfig.clean(), generator=gen()), x)


def test_config_cfo_and_sro_stay_within_their_bounds():
    rate, cfo_hz, sro_hz = 1e6, 2000.0, 500.0
    x = tone(0.1, 4096, batch=64)
    only_cfo = ChannelConfig(sample_rate_hz=rate, cfo_max_hz=cfo_hz, cfo_walk_std_hz=1.0)
    shift = measured_frequency(apply_impairments(x, only_cfo, generator=gen())) - 0.1
    assert float(shift.abs().max()) <= cfo_hz / rate
    assert float(shift.std()) > 0.2 * cfo_hz / rate  # drawn per example, spread over the range
    only_sro = ChannelConfig(sample_rate_hz=rate, sro_max_hz=sro_hz)
    factor = 0.1 / measured_frequency(apply_impairments(x, only_sro, generator=gen())[:, 32:-32])
    assert float((factor - 1).abs().max()) <= sro_hz / rate * 1.001
    assert float((factor - 1).std()) > 0.2 * sro_hz / rate


@pytest.mark.parametrize("changes, field", [
    ({"cfo_max_hz": -1.0}, "cfo_max_hz"),
    ({"cfo_walk_std_hz": 1.0}, "cfo_max_hz"),
    ({"sample_rate_hz": 0.0}, "sample_rate_hz"),
    ({"fading": "nakagami"}, "fading"),
    ({"fading": "rayleigh", "rician_k": 2.0}, "rician_k"),
    ({"path_delays_samples": (0.0, 1.0)}, "path_magnitudes"),
    ({"path_delays_samples": (-1.0,)}, "path_delays_samples"),
    ({"phase_noise_linewidth_hz": (5.0, 1.0)}, "phase_noise_linewidth_hz"),
    ({"num_sinusoids": 0}, "num_sinusoids"),
    ({"interpolator_half_width": 0}, "interpolator_half_width"),
    ({"timing_offset_max_samples": float("nan")}, "timing_offset_max_samples"),
])
def test_config_rejects_bad_values_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=f"ChannelConfig.{field}"):
        dataclasses.replace(ChannelConfig(), **changes)


def test_bad_arguments_raise_value_errors():
    x = white(2, 64)
    config = ChannelConfig.rml2018()
    with pytest.raises(ValueError, match="complex64"):
        apply_channel(x.to(torch.complex128), 0.0, config, generator=gen())
    with pytest.raises(ValueError, match="batch, samples"):
        apply_channel(x[0], 0.0, config, generator=gen())
    bad = x.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        apply_channel(bad, 0.0, config, generator=gen())
    with pytest.raises(ValueError, match="snr_db"):
        apply_channel(x, float("nan"), config, generator=gen())
    with pytest.raises(ValueError, match="snr_db"):
        apply_channel(x, torch.zeros(3), config, generator=gen())
    with pytest.raises(ValueError, match="ChannelConfig"):
        apply_channel(x, 0.0, {"fading": "rician"}, generator=gen())
    with pytest.raises(ValueError, match="sample_rate_offset"):
        resample(x, -0.9)
    with pytest.raises(ValueError, match="half_width"):
        fractional_delay(x, 0.5, half_width=0)
    with pytest.raises(ValueError, match="linewidth"):
        phase_noise(x, -1.0, generator=gen())
    with pytest.raises(ValueError, match="magnitudes"):
        multipath_fading(x, delays=(0.0, 1.0), magnitudes=(1.0,), generator=gen())
    with pytest.raises(ValueError, match="cfo"):
        frequency_offset(x, torch.zeros(2, 5))


def test_slow_fading_computed_on_a_coarse_grid_matches_every_sample(monkeypatch):
    import rfnet.dsp.channel as channel

    coarse = fading_gains(4, 3, 5000, max_doppler=2e-5, rician_k=2.0, generator=gen())
    monkeypatch.setattr(channel, "FADING_GRID_CYCLES", 0.0)  # every sample computed exactly
    exact = fading_gains(4, 3, 5000, max_doppler=2e-5, rician_k=2.0, generator=gen())
    assert float((coarse - exact).abs().max()) < 2e-3
    assert float((exact[..., -1] - exact[..., 0]).abs().min()) > 1e-2  # the gains did move


@pytest.mark.parametrize("preset", ["rml2016", "rml2018"])
def test_gradients_flow_through_the_channel(preset):
    # The robustness attacks differentiate through the channel.
    x = white(3, 128).requires_grad_()
    apply_channel(x, 10.0, getattr(ChannelConfig, preset)(), generator=gen()).abs().sum().backward()
    assert x.grad is not None and bool(torch.isfinite(torch.view_as_real(x.grad)).all())
    assert float(x.grad.abs().sum()) > 0
    # d/dx[k] of sum_n w[n] * x(n - 0.5) is w interpolated at k + 0.5: k + 0.5 for the ramp w[n] = n.
    x = torch.zeros(1, 64, dtype=torch.complex64, requires_grad=True)
    ramp = torch.arange(64.0)
    (fractional_delay(x, 0.5).real * ramp).sum().backward()
    torch.testing.assert_close(x.grad.real[0, 10:-10], ramp[10:-10] + 0.5, atol=0.02, rtol=0)
