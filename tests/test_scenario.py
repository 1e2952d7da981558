"""rfnet.dsp.scenario: one described signal, with SNR and JSR both measured against the received signal."""

import pytest
import torch

from rfnet.dsp import ChannelConfig
from rfnet.dsp.power import ratio_to_db, signal_power
from rfnet.dsp.scenario import Scenario, make_signal


def test_same_scenario_same_samples_and_the_seed_matters():
    scenario = Scenario("QPSK", 256, snr_db=5.0, channel=ChannelConfig.rml2018(), interference="tone", jsr_db=-3.0)
    first = make_signal(scenario, num=3)
    assert first.dtype == torch.complex64 and first.shape == (3, 256)
    assert torch.equal(first, make_signal(scenario, num=3))
    assert not torch.equal(first, make_signal(Scenario("QPSK", 256, snr_db=5.0, channel=ChannelConfig.rml2018(),
                                                       interference="tone", jsr_db=-3.0, seed=1), num=3))


def test_noise_and_jammer_are_at_the_requested_ratios_to_the_received_signal():
    base = dict(modulation="BPSK", num_samples=4096, snr_db=10.0, seed=4)
    noisy = make_signal(Scenario(**base), num=4)
    jammed = make_signal(Scenario(**base, interference="barrage", jsr_db=-6.0), num=4)
    clean = make_signal(Scenario(**{**base, "snr_db": 300.0}), num=4)  # the same draws, noise ~1e-30
    # AWGN has E|n|^2 at the SNR (4096 samples: within 0.2 dB); the jammer is scaled exactly, and adds
    # to the same noisy signal (the noise does not change).
    assert ratio_to_db(signal_power(noisy - clean) / signal_power(clean)) == pytest.approx(-10.0, abs=0.2)
    assert ratio_to_db(signal_power(jammed - noisy) / signal_power(clean)) == pytest.approx(-6.0, abs=1e-3)


def test_jammer_parameters_pass_through_and_bad_ones_are_errors():
    tone = make_signal(Scenario("BPSK", 1024, snr_db=300.0, interference="tone", jsr_db=20.0,
                                interference_params={"frequency": 0.25}))
    peak = torch.fft.fftfreq(1024)[torch.fft.fft(tone[0]).abs().argmax()]
    assert float(peak) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="frequency_range"):
        make_signal(Scenario("BPSK", interference="tone", interference_params={"width": 3}))
    with pytest.raises(ValueError, match="unknown modulation 'QPSKK'"):
        make_signal(Scenario("QPSKK"))
