import math

import pytest
import torch

from rfnet.dsp.power import (check_iq, complex_gaussian_noise, db_to_ratio, per_example, ratio_to_db,
                             scale_to_ratio, signal_power, uniform_per_example)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_signal_power_is_mean_squared_magnitude_per_example():
    amplitudes = torch.tensor([0.5, 1.0, 3.0])
    phases = torch.rand(3, 100, generator=gen()) * 2 * math.pi
    iq = torch.polar(amplitudes.unsqueeze(-1).expand(3, 100), phases)
    power = signal_power(iq)
    assert power.dtype == torch.float32 and power.shape == (3,)
    torch.testing.assert_close(power, amplitudes**2)


def test_db_and_ratio_round_trip_for_floats_and_tensors():
    assert db_to_ratio(10.0) == pytest.approx(10.0)
    assert db_to_ratio(-3.0) == pytest.approx(0.501187, rel=1e-5)
    assert ratio_to_db(100.0) == pytest.approx(20.0)
    db = torch.tensor([-20.0, 0.0, 7.5])
    torch.testing.assert_close(ratio_to_db(db_to_ratio(db)), db)
    with pytest.raises(ValueError, match="positive"):
        ratio_to_db(0.0)


def test_scale_to_ratio_sets_the_power_ratio_exactly():
    x = torch.randn(4, 1000, dtype=torch.complex64, generator=gen(1)) * 0.1
    reference = torch.randn(4, 500, dtype=torch.complex64, generator=gen(2)) * 5
    ratio_db = torch.tensor([-10.0, 0.0, 3.0, 20.0])
    scaled = scale_to_ratio(x, reference, ratio_db)
    measured = ratio_to_db(signal_power(scaled) / signal_power(reference))
    torch.testing.assert_close(measured, ratio_db, atol=1e-4, rtol=0)
    # The scale is a positive real gain: the waveform's shape is untouched.
    gain = scaled / x
    assert float((gain.imag.abs() / gain.real).max()) < 1e-5
    assert float(gain.real.min()) > 0


def test_scale_to_ratio_rejects_a_silent_example_and_mismatched_batches():
    x = torch.randn(2, 10, dtype=torch.complex64, generator=gen())
    x[1] = 0
    with pytest.raises(ValueError, match="zero power"):
        scale_to_ratio(x, torch.ones(2, 10, dtype=torch.complex64), 0.0)
    with pytest.raises(ValueError, match="batch size"):
        scale_to_ratio(torch.ones(3, 10, dtype=torch.complex64),
                       torch.ones(2, 10, dtype=torch.complex64), 0.0)


def test_complex_noise_is_circular_with_the_requested_power():
    power = torch.tensor([0.1, 1.0, 4.0])
    noise = complex_gaussian_noise(3, 65536, power, generator=gen())
    assert noise.dtype == torch.complex64 and noise.shape == (3, 65536)
    torch.testing.assert_close(signal_power(noise), power, rtol=0.03, atol=0)
    # Half the power in each of I and Q, and no correlation between them (E[n^2] = 0).
    torch.testing.assert_close(noise.real.var(-1), power / 2, rtol=0.03, atol=0)
    torch.testing.assert_close(noise.imag.var(-1), power / 2, rtol=0.03, atol=0)
    assert float(((noise * noise).mean(-1).abs() / power).max()) < 0.03


def test_noise_and_uniform_draws_are_deterministic_per_seed():
    a = complex_gaussian_noise(2, 64, 1.0, generator=gen(5))
    b = complex_gaussian_noise(2, 64, 1.0, generator=gen(5))
    c = complex_gaussian_noise(2, 64, 1.0, generator=gen(6))
    assert torch.equal(torch.view_as_real(a), torch.view_as_real(b))
    assert not torch.equal(a, c)
    draws = uniform_per_example(-2.0, 3.0, 1000, generator=gen(7))
    assert draws.dtype == torch.float32 and draws.shape == (1000,)
    assert float(draws.min()) >= -2.0 and float(draws.max()) < 3.0
    assert torch.equal(draws, uniform_per_example(-2.0, 3.0, 1000, generator=gen(7)))


@pytest.mark.parametrize("bad, problem", [
    (torch.ones(2, 8, dtype=torch.complex128), "complex64"),
    (torch.ones(2, 8), "complex64"),
    (torch.ones(8, dtype=torch.complex64), r"\[batch, samples\]"),
    (torch.ones(2, 3, 8, dtype=torch.complex64), r"\[batch, samples\]"),
    (torch.ones(0, 8, dtype=torch.complex64), "empty"),
    ([1.0, 2.0], "torch.Tensor"),
])
def test_check_iq_names_the_problem(bad, problem):
    with pytest.raises(ValueError, match=problem):
        check_iq(bad)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_check_iq_rejects_non_finite_samples(value):
    iq = torch.ones(2, 8, dtype=torch.complex64)
    iq[1, 3] = complex(value, 0.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_iq(iq, "received")


def test_per_example_broadcasts_and_validates():
    torch.testing.assert_close(per_example(2.5, 3, "x"), torch.full((3,), 2.5))
    torch.testing.assert_close(per_example(torch.tensor(1.0), 2, "x"), torch.ones(2))
    torch.testing.assert_close(per_example(torch.tensor([1, 2]), 2, "x"), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"snr_db .*shape \[3\]"):
        per_example(torch.zeros(2), 3, "snr_db")
    with pytest.raises(ValueError, match="finite"):
        per_example(float("nan"), 3, "snr_db")
    with pytest.raises(ValueError, match="number"):
        per_example("ten", 3, "snr_db")
