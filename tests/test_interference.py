import math

import pytest
import torch

from rfnet.dsp.interference import (INTERFERENCE, add_interference, barrage, chirp, cochannel, partial_band,
                                    pulsed, tone)
from rfnet.dsp.power import ratio_to_db, signal_power


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def signal(batch=4, samples=4096, seed=1):
    return 2.0 * torch.randn(batch, samples, dtype=torch.complex64, generator=gen(seed))


def measured_jsr(received, clean):
    return ratio_to_db(signal_power(received - clean) / signal_power(clean))


def spectrum_power(x):
    """Power per DFT bin, [batch, samples], with the matching bin frequencies (cycles/sample)."""
    return torch.fft.fft(x).abs().square(), torch.fft.fftfreq(x.shape[-1])


KINDS_WITHOUT_MODULATIONS = [kind for kind in INTERFERENCE if kind != "cochannel"]


@pytest.mark.parametrize("kind", KINDS_WITHOUT_MODULATIONS)
@pytest.mark.parametrize("jsr_db", [-20.0, 0.0, 10.0])
def test_every_jammer_is_added_at_the_requested_jsr(kind, jsr_db):
    clean = signal()
    received = add_interference(clean, kind, jsr_db, generator=gen())
    assert received.shape == clean.shape and received.dtype == torch.complex64
    torch.testing.assert_close(measured_jsr(received, clean), torch.full((4,), jsr_db), atol=0.25, rtol=0)


@pytest.mark.parametrize("kind", KINDS_WITHOUT_MODULATIONS)
def test_every_jammer_takes_one_jsr_per_example_and_is_deterministic(kind):
    clean = signal()
    jsr_db = torch.tensor([-15.0, -3.0, 4.0, 25.0])
    a = add_interference(clean, kind, jsr_db, generator=gen(3))
    b = add_interference(clean, kind, jsr_db, generator=gen(3))
    c = add_interference(clean, kind, jsr_db, generator=gen(4))
    torch.testing.assert_close(measured_jsr(a, clean), jsr_db, atol=0.25, rtol=0)
    assert torch.equal(torch.view_as_real(a), torch.view_as_real(b))
    assert not torch.equal(a, c)


def test_tone_sits_at_its_frequency_and_drawn_frequencies_stay_in_range():
    clean = torch.zeros(3, 1024, dtype=torch.complex64)
    clean[:, 0] = 1  # a reference with power, and (almost) nothing in the band
    frequency = torch.tensor([-0.25, 0.0625, 0.375])  # on DFT bins of 1024
    jammer = tone(clean, 30.0, generator=gen(), frequency=frequency) - clean
    power, bins = spectrum_power(jammer)
    torch.testing.assert_close(bins[power.argmax(-1)], frequency)
    assert float((jammer.abs() - jammer.abs().mean(-1, keepdim=True)).abs().max()) < 1e-4  # constant envelope
    drawn = tone(signal(batch=64, samples=512), 0.0, generator=gen(), frequency_range=(0.1, 0.2)) \
        - signal(batch=64, samples=512)
    power, bins = spectrum_power(drawn)
    peaks = bins[power.argmax(-1)]
    assert float(peaks.min()) >= 0.1 - 1 / 512 and float(peaks.max()) <= 0.2 + 1 / 512
    assert len(peaks.unique()) > 10


def test_barrage_spreads_its_power_evenly_over_the_band():
    clean = signal(batch=8, samples=8192)
    power, bins = spectrum_power(barrage(clean, 0.0, generator=gen()) - clean)
    lower_half = power[:, bins < 0].sum(-1) / power.sum(-1)
    torch.testing.assert_close(lower_half, torch.full((8,), 0.5), atol=0.03, rtol=0)


def test_partial_band_noise_keeps_its_power_inside_its_band():
    clean = signal(batch=3, samples=4096)
    center = torch.tensor([-0.3, 0.0, 0.45])  # the last band wraps around +-0.5
    bandwidth = torch.tensor([0.1, 0.2, 0.15])
    jammer = partial_band(clean, 0.0, generator=gen(), center=center, bandwidth=bandwidth) - clean
    power, bins = spectrum_power(jammer)
    distance = torch.remainder(bins - center.unsqueeze(-1) + 0.5, 1.0) - 0.5
    inside = distance.abs() <= bandwidth.unsqueeze(-1) / 2 + 1e-6
    fraction_inside = (power * inside).sum(-1) / power.sum(-1)
    assert float(fraction_inside.min()) > 0.95
    # And it fills its band rather than sitting on one bin: half the band's bins carry power.
    occupied = ((power > 1e-3 * power.mean(-1, keepdim=True)) & inside).sum(-1)
    assert bool((occupied > 0.5 * inside.sum(-1)).all())


def test_partial_band_rejects_a_bandwidth_outside_the_band():
    with pytest.raises(ValueError, match="bandwidth"):
        partial_band(signal(), 0.0, generator=gen(), bandwidth=1.5)
    with pytest.raises(ValueError, match="center_range"):
        partial_band(signal(), 0.0, generator=gen(), center_range=(0.3, -0.3))


def test_chirp_sweeps_the_requested_band_linearly_every_period():
    clean = signal(batch=2, samples=4096)
    start, stop, period = -0.3, 0.2, 1024
    jammer = chirp(clean, 0.0, generator=gen(), start_frequency=start, stop_frequency=stop,
                   period=period) - clean
    frequency = torch.angle(jammer[:, 1:] * jammer[:, :-1].conj()).double() / (2 * math.pi)
    assert float(frequency.min()) == pytest.approx(start, abs=1e-3)
    assert float(frequency.max()) == pytest.approx(stop, abs=1e-3)
    slope = frequency[:, 1:] - frequency[:, :-1]
    rising = slope > 0
    assert bool((slope[rising] - (stop - start) / period).abs().max() < 1e-5)
    assert int((~rising).sum(-1).max()) <= 4096 // period  # one jump back per sweep


def test_pulsed_jammer_is_on_for_its_duty_cycle():
    clean = signal(batch=6, samples=4096)
    duty = torch.tensor([0.05, 0.1, 0.25, 0.5, 0.75, 1.0])
    jammer = pulsed(clean, 0.0, generator=gen(), duty_cycle=duty, period=256) - clean
    on = jammer.abs() > 1e-6 * jammer.abs().max(-1, keepdim=True).values
    torch.testing.assert_close(on.float().mean(-1), duty, atol=1 / 256, rtol=0)
    # Pulses repeat with the period: the gate is periodic.
    assert torch.equal(on[:, 256:], on[:, :-256])


@pytest.mark.parametrize("carrier", ["noise", "tone"])
def test_pulsed_jsr_is_average_power_by_default_and_peak_on_request(carrier):
    clean = signal(batch=2, samples=4096)
    duty = 0.25
    average = pulsed(clean, 0.0, generator=gen(), duty_cycle=duty, period=128, carrier=carrier) - clean
    peak = pulsed(clean, 0.0, generator=gen(), duty_cycle=duty, period=128, carrier=carrier,
                  power="peak") - clean
    torch.testing.assert_close(measured_jsr(average + clean, clean), torch.zeros(2), atol=0.25, rtol=0)
    on = peak.abs() > 0
    power_while_on = (peak.abs().square() * on).sum(-1) / on.sum(-1)
    torch.testing.assert_close(ratio_to_db(power_while_on / signal_power(clean)), torch.zeros(2),
                               atol=0.25, rtol=0)
    torch.testing.assert_close(measured_jsr(peak + clean, clean), torch.full((2,), ratio_to_db(duty)),
                               atol=0.25, rtol=0)


@pytest.mark.parametrize("params, problem", [
    ({"duty_cycle": -0.1}, "duty_cycle"),
    ({"duty_cycle": 0.0}, "duty_cycle"),
    ({"duty_cycle": 1.5}, "duty_cycle"),
    ({"period": 10_000}, "period"),
    ({"period": 12.5}, "period"),
    ({"carrier": "sawtooth"}, "carrier"),
    ({"power": "rms"}, "power"),
])
def test_pulsed_rejects_bad_parameters(params, problem):
    with pytest.raises(ValueError, match=problem):
        pulsed(signal(), 0.0, generator=gen(), **params)


def test_add_interference_dispatches_and_rejects_unknown_kinds_and_parameters():
    clean = signal()
    direct = tone(clean, 3.0, generator=gen(), frequency=0.1)
    dispatched = add_interference(clean, "tone", 3.0, generator=gen(), frequency=0.1)
    assert torch.equal(direct, dispatched)
    with pytest.raises(ValueError, match="known kinds: tone, barrage"):
        add_interference(clean, "laser", 0.0, generator=gen())
    with pytest.raises(ValueError, match="it accepts: frequency, frequency_range"):
        add_interference(clean, "tone", 0.0, generator=gen(), bandwidth=0.1)


def test_jammers_reject_bad_iq_and_jsr():
    clean = signal()
    with pytest.raises(ValueError, match="complex64"):
        barrage(clean.to(torch.complex128), 0.0, generator=gen())
    with pytest.raises(ValueError, match="batch, samples"):
        barrage(clean[0], 0.0, generator=gen())
    bad = clean.clone()
    bad[1, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        tone(bad, 0.0, generator=gen())
    with pytest.raises(ValueError, match="ratio_db"):
        barrage(clean, float("inf"), generator=gen())
    with pytest.raises(ValueError, match="ratio_db"):
        barrage(clean, torch.zeros(3), generator=gen())


def test_cochannel_interferer_is_a_modulated_signal_at_its_offset_and_jsr():
    pytest.importorskip("rfnet.dsp.modulations")
    clean = signal(batch=4, samples=4096)
    jsr_db = torch.tensor([-10.0, 0.0, 5.0, 10.0])
    offset = torch.tensor([-0.1, 0.0, 0.05, 0.2])
    received = cochannel(clean, jsr_db, generator=gen(), modulation="QPSK", frequency=offset)
    torch.testing.assert_close(measured_jsr(received, clean), jsr_db, atol=0.25, rtol=0)
    # Its spectrum is centred on the offset (QPSK's own spectrum is symmetric about 0).
    power, bins = spectrum_power(received - clean)
    centroid = (power * bins).sum(-1) / power.sum(-1)
    torch.testing.assert_close(centroid, offset, atol=0.02, rtol=0)
    # And it is not noise: a QPSK signal's fourth power has a strong spectral line; noise's has none.
    fourth = torch.fft.fft(((received - clean) * torch.exp(
        -2j * math.pi * offset.unsqueeze(-1) * torch.arange(4096))) ** 4).abs()
    assert bool((fourth.max(-1).values > 20 * fourth.mean(-1)).all())
    again = cochannel(clean, jsr_db, generator=gen(), modulation="QPSK", frequency=offset)
    assert torch.equal(received, again)


@pytest.mark.parametrize("kind", KINDS_WITHOUT_MODULATIONS)
def test_gradients_flow_through_every_jammer(kind):
    clean = signal(batch=2, samples=256).requires_grad_()
    add_interference(clean, kind, 0.0, generator=gen()).abs().sum().backward()
    assert bool(torch.isfinite(torch.view_as_real(clean.grad)).all())
    assert float(clean.grad.abs().sum()) > 0
