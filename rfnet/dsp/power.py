"""Power, power ratios in dB, complex Gaussian noise, and the argument checks the dsp modules share.

One definition of power is used everywhere in rfnet: the power of an example is the mean over its
samples of ``|x|^2`` ("power per complex sample"), in linear units of amplitude squared.

- SNR (signal-to-noise), JSR (jammer-to-signal) and PSR (perturbation-to-signal) are all ratios of two
  such powers in dB, e.g. ``SNR = 10 * log10(P_signal / P_noise)``.
- Noise is circular complex Gaussian with ``E|n|^2 = P_noise``: the real and the imaginary part are
  independent, each with variance ``P_noise / 2``.
- Powers are measured per example on the realised samples, so a ratio is exact for the example it is
  applied to, not only on average.

IQ is ``torch.complex64`` with shape ``[batch, samples]``. Per-example quantities (powers, dB values,
random parameters) are ``float32`` tensors of shape ``[batch]``.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "check_iq",
    "per_example",
    "per_example_or_sample",
    "uniform_per_example",
    "signal_power",
    "to_unit_power",
    "db_to_ratio",
    "ratio_to_db",
    "scale_to_ratio",
    "complex_gaussian_noise",
]


# --- argument checks -------------------------------------------------------------------------------

def check_iq(iq: torch.Tensor, name: str = "iq") -> None:
    """Raise ``ValueError`` unless ``iq`` is a finite complex64 tensor of shape ``[batch, samples]``."""
    if not isinstance(iq, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(iq).__name__}")
    if iq.dtype != torch.complex64:
        raise ValueError(f"{name} must have dtype torch.complex64, got {iq.dtype}")
    if iq.dim() != 2:
        raise ValueError(f"{name} must have shape [batch, samples], got shape {tuple(iq.shape)}")
    if iq.shape[0] == 0 or iq.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(iq.shape)}")
    # One reduction is enough: a NaN or an infinity makes the sum non-finite. Only then (or on the
    # overflow of absurdly large samples) look sample by sample.
    if not bool(torch.isfinite(torch.view_as_real(iq).sum())):
        if not bool(torch.isfinite(torch.view_as_real(iq)).all()):
            raise ValueError(f"{name} contains NaN or infinite samples")


def per_example(value: float | torch.Tensor, batch: int, name: str,
                device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A scalar or ``[batch]`` tensor as a finite real tensor of shape ``[batch]`` on ``device``
    (float32 unless ``dtype`` says otherwise; float64 keeps a Python float's full precision)."""
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise ValueError(f"{name} must be real, got dtype {value.dtype}")
        if value.dim() == 0:
            value = value.expand(batch)
        elif tuple(value.shape) != (batch,):
            raise ValueError(f"{name} must be a number or a tensor of shape [{batch}], "
                             f"got shape {tuple(value.shape)}")
        out = value.to(device=device, dtype=dtype)
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number or a tensor, got {value!r}") from None
        out = torch.full((batch,), number, dtype=dtype, device=device)
    if not bool(torch.isfinite(out).all()):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def per_example_or_sample(value: float | torch.Tensor, batch: int, samples: int, name: str,
                           device: torch.device) -> torch.Tensor:
    """A number, ``[batch]`` or ``[batch, samples]`` value as float64 ``[batch, 1 or samples]`` on ``device``:
    a per-example constant or a per-sample track (a drifting offset)."""
    if isinstance(value, torch.Tensor) and value.dim() == 2:
        if tuple(value.shape) != (batch, samples):
            raise ValueError(f"{name} must be a number or have shape [{batch}] or [{batch}, {samples}], "
                             f"got shape {tuple(value.shape)}")
        value = value.to(device=device, dtype=torch.float64) if not value.is_complex() else value
        # One sum finds a NaN or infinity (as in check_iq); only then look sample by sample.
        if value.is_complex() or (not bool(torch.isfinite(value.sum()))
                                  and not bool(torch.isfinite(value).all())):
            raise ValueError(f"{name} must be real and finite")
        return value
    return per_example(value, batch, name, device, torch.float64).unsqueeze(-1)


def uniform_per_example(low: float, high: float, batch: int, *, generator: torch.Generator,
                        device: torch.device | str | None = None) -> torch.Tensor:
    """``[batch]`` float32 draws uniform on ``[low, high)``, made on the generator's device."""
    draws = torch.rand(batch, generator=generator, device=generator.device, dtype=torch.float64)
    return (low + (high - low) * draws).to(device=device, dtype=torch.float32)


# --- power -----------------------------------------------------------------------------------------

def signal_power(iq: torch.Tensor) -> torch.Tensor:
    """Power per complex sample of each example: ``mean(|x|^2)`` over samples.

    iq: complex64 ``[batch, samples]``. Returns float32 ``[batch]``.
    """
    check_iq(iq)
    # One flat row of squares per example: a reduction over view_as_real's trailing pair (re, im) is
    # about 10x slower on a CPU.
    return torch.view_as_real(iq).reshape(iq.shape[0], -1).square().sum(-1) / iq.shape[1]


def to_unit_power(iq: torch.Tensor) -> torch.Tensor:
    """Each example of complex ``[batch, samples]`` divided by ``sqrt(mean |x|^2)``, so its average power is 1.

    Same dtype, shape and device as ``iq``; differentiable; no input checks, so it runs inside
    ``torch.compile`` and in the models' forward passes. An all-zero example stays all zero (its power is
    clamped to the dtype's smallest normal number instead of dividing by 0).
    """
    power = (iq.real.square() + iq.imag.square()).mean(dim=1, keepdim=True)
    return iq * torch.rsqrt(power.clamp(min=torch.finfo(power.dtype).tiny))


def db_to_ratio(db: float | torch.Tensor) -> float | torch.Tensor:
    """Power ratio from dB: ``10 ** (db / 10)``. A float gives a float, a tensor a tensor."""
    if isinstance(db, torch.Tensor):
        return torch.pow(10.0, db / 10.0)
    return 10.0 ** (float(db) / 10.0)


def ratio_to_db(ratio: float | torch.Tensor) -> float | torch.Tensor:
    """dB from a power ratio: ``10 * log10(ratio)``. A float gives a float, a tensor a tensor."""
    if isinstance(ratio, torch.Tensor):
        return 10.0 * torch.log10(ratio)
    ratio = float(ratio)
    if ratio <= 0:
        raise ValueError(f"ratio must be positive to express in dB, got {ratio}")
    return 10.0 * math.log10(ratio)


def scale_to_ratio(x: torch.Tensor, reference: torch.Tensor,
                   ratio_db: float | torch.Tensor) -> torch.Tensor:
    """``x`` scaled per example so that ``P(x) / P(reference) == ratio_db`` (in dB).

    x, reference: complex64 ``[batch, samples]`` (lengths may differ: powers are per-sample means).
    ratio_db: a number or float ``[batch]``. Returns complex64 ``[batch, samples of x]``.
    An example of ``x`` with zero power cannot be scaled and raises ``ValueError``.
    """
    check_iq(x, "x")
    check_iq(reference, "reference")
    if x.shape[0] != reference.shape[0]:
        raise ValueError(f"x and reference must have the same batch size, "
                         f"got {x.shape[0]} and {reference.shape[0]}")
    ratio = db_to_ratio(per_example(ratio_db, x.shape[0], "ratio_db", x.device))
    power_x = signal_power(x)
    if not bool((power_x > 0).all()):
        bad = torch.nonzero(power_x <= 0).flatten().tolist()
        raise ValueError(f"x has zero power in example(s) {bad[:10]}; it cannot be scaled to a ratio")
    gain = torch.sqrt(signal_power(reference) * ratio / power_x)
    return x * gain.unsqueeze(-1)


def complex_gaussian_noise(batch: int, samples: int, power: float | torch.Tensor, *,
                           generator: torch.Generator,
                           device: torch.device | str | None = None) -> torch.Tensor:
    """Circular complex Gaussian noise with ``E|n|^2 = power`` per example.

    power: a non-negative number or float ``[batch]`` (linear units). Drawn on the generator's device,
    returned as complex64 ``[batch, samples]`` on ``device``.
    """
    power = per_example(power, batch, "power", device)
    if not bool((power >= 0).all()):
        raise ValueError("noise power must be non-negative")
    # torch's complex normal already has E|n|^2 = 1 (variance 1/2 in each of I and Q).
    unit = torch.randn(batch, samples, generator=generator, device=generator.device,
                       dtype=torch.complex64).to(device)
    return unit * torch.sqrt(power).unsqueeze(-1)
