"""Classical AMC features: theoretical cumulants, spectral lines, gain invariance, shape and bad input."""

import pytest
import torch

from rfnet.dsp.constellations import constellation, map_symbols
from rfnet.dsp.features import FEATURE_NAMES, modulation_features
from rfnet.dsp.power import to_unit_power


def symbols(name: str, batch: int, length: int, seed: int = 0) -> torch.Tensor:
    """Noiseless unit-power constellation points, one symbol per sample, complex64 ``[batch, length]``."""
    generator = torch.Generator().manual_seed(seed)
    return map_symbols(name, torch.randint(0, constellation(name).numel(), (batch, length), generator=generator))


def column(features: torch.Tensor, name: str) -> torch.Tensor:
    return features[:, FEATURE_NAMES.index(name)]


@pytest.mark.parametrize("name,c40,c42", [("BPSK", 2, 2), ("QPSK", 1, 1), ("8PSK", 0, 1), ("PAM4", 1.36, 1.36),
                                          ("16QAM", 0.68, 0.68), ("64QAM", 0.619, 0.619)])
def test_cumulants_of_long_constellations_are_the_theoretical_ones(name, c40, c42):
    features = modulation_features(symbols(name, 2, 20_000))
    torch.testing.assert_close(column(features, "abs_c40"), torch.full((2,), float(c40)), atol=0.05, rtol=0)
    torch.testing.assert_close(column(features, "abs_c42"), torch.full((2,), float(c42)), atol=0.05, rtol=0)


def test_sixth_order_cumulant_separates_psk_orders():
    # |C63| = 16 for BPSK, 4 for QPSK and 8PSK (Swami & Sadler, Table I).
    expected = {"BPSK": 16.0, "QPSK": 4.0, "8PSK": 4.0}
    for name, value in expected.items():
        got = column(modulation_features(symbols(name, 1, 20_000)), "abs_c63")
        torch.testing.assert_close(got, torch.tensor([value]), atol=0.2, rtol=0)


def test_spectral_lines_appear_at_the_power_that_strips_the_phase():
    # x^2 of BPSK, x^4 of QPSK and x^8 of 8PSK are constant: one line holding all the energy (max / mean = N).
    # Below that power the spectrum is noise-like (max / mean a few).
    length = 256
    for name, power in (("BPSK", 2), ("QPSK", 4), ("8PSK", 8)):
        features = modulation_features(symbols(name, 4, length))
        assert torch.allclose(column(features, f"line_x{power}"), torch.tensor(float(length)), rtol=1e-4)
        for lower in (1, 2, 4):
            if lower < power:
                assert (column(features, f"line_x{lower}") < 10).all(), (name, lower)


def test_features_are_gain_invariant():
    iq = symbols("16QAM", 6, 128) + 0.3 * torch.randn(6, 128, dtype=torch.complex64,
                                                        generator=torch.Generator().manual_seed(1))
    reference = modulation_features(iq)
    for gain in (1 / 128, 1.0, 300.0):
        torch.testing.assert_close(modulation_features(iq * gain), reference, rtol=1e-4, atol=1e-4)


def test_constant_envelope_has_no_amplitude_spread_and_a_tone_no_bandwidth():
    tone = torch.polar(torch.ones(2, 128), 2 * torch.pi * 0.125 * torch.arange(128.0).expand(2, 128)).to(torch.complex64)
    features = modulation_features(tone)
    for name in ("std_amplitude", "std_nonlinear_phase", "std_frequency", "rms_bandwidth", "abs_c20"):
        assert column(features, name).abs().max() < 1e-4, name
    torch.testing.assert_close(column(features, "abs_c42"), torch.ones(2), rtol=1e-5, atol=1e-5)  # 1 - 0 - 2
    torch.testing.assert_close(column(features, "line_x1"), torch.full((2,), 128.0), rtol=1e-4, atol=0)
    torch.testing.assert_close(column(features, "spectral_asymmetry"), torch.ones(2), rtol=1e-6, atol=1e-6)


def test_shape_dtype_and_an_all_zero_example():
    iq = torch.cat([symbols("QPSK", 3, 128), torch.zeros(1, 128, dtype=torch.complex64)])
    features = modulation_features(iq)
    assert features.shape == (4, len(FEATURE_NAMES)) == (4, 28) and features.dtype == torch.float32
    assert torch.isfinite(features).all()
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_to_unit_power():
    iq = torch.cat([3 * symbols("16QAM", 2, 64), torch.zeros(1, 64, dtype=torch.complex64)])
    scaled = to_unit_power(iq)
    assert scaled.dtype == torch.complex64
    torch.testing.assert_close(scaled.abs().square().mean(dim=1), torch.tensor([1.0, 1.0, 0.0]))


@pytest.mark.parametrize("bad,message", [
    (torch.randn(2, 128), "complex64"),
    (torch.randn(2, 128, dtype=torch.complex128), "complex64"),
    (torch.randn(128, dtype=torch.complex64), r"\[batch, samples\]"),
    (torch.randn(2, 1, dtype=torch.complex64), "at least 2 samples"),
    (torch.full((1, 8), float("nan"), dtype=torch.complex64), "NaN"),
])
def test_bad_input_is_a_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        modulation_features(bad)
