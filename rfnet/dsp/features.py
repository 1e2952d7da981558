"""Classical automatic-modulation-classification (AMC) features of complex baseband IQ, for a
feature-based reference classifier beside the neural networks.

``modulation_features(iq)`` maps complex64 ``[B, N]`` to float32 ``[B, F]``, one row per example, one
column per name in :data:`FEATURE_NAMES` (``F = 28``). Every example is first scaled to unit average
power (:func:`rfnet.dsp.power.to_unit_power`), so every feature is gain-invariant: ``modulation_features(g * iq)`` equals
``modulation_features(iq)`` up to rounding for any gain ``g > 0``. The arithmetic runs in float64 /
complex128, batched, on ``iq``'s device.

Notation, for one example after the scaling (``mean |x|^2 = 1``), ``n = 0 .. N-1``:

- moments ``M_pq = mean(x^(p-q) * conj(x)^q)``;
- amplitude ``a = |x|``, normalised amplitude ``a_n = a / mean(a)``, centred ``a_cn = a_n - 1``;
- "strong" samples: ``a_n > AMPLITUDE_THRESHOLD`` (weak samples have noise-dominated phase);
- instantaneous frequency ``f[n] = angle(x[n+1] * conj(x[n])) / (2 pi)`` (cycles / sample, in
  ``(-1/2, 1/2]``), kept where both samples are strong;
- non-linear phase ``phi_NL = angle(x * exp(-j (2 pi fbar n + phi0)))``: the instantaneous phase in
  ``(-pi, pi]`` after removing the carrier (``fbar``: mean ``f`` over strong pairs) and the mean phase
  (``phi0``: circular mean over strong samples), kept at strong samples;
- ``std``, ``skewness = m3 / m2^1.5`` and ``kurtosis = m4 / m2^2`` from the central moments ``m_k``.

Features, in column order:

- Cumulants of the complex envelope (Swami & Sadler, "Hierarchical digital modulation classification
  using cumulants", IEEE Trans. Commun. 48(3), 2000), magnitudes:
  ``abs_c20 = |M20|``; ``abs_c40 = |M40 - 3 M20^2|``; ``abs_c41 = |M41 - 3 M20 M21|``;
  ``abs_c42 = |M42 - |M20|^2 - 2 M21^2|``; ``abs_c60 = |M60 - 15 M20 M40 + 30 M20^3|``;
  ``abs_c61 = |M61 - 5 M21 M40 - 10 M20 M41 + 30 M20^2 M21|``;
  ``abs_c62 = |M62 - 6 M20 M42 - 8 M21 M41 - M22 M40 + 6 M20^2 M22 + 24 M21^2 M20|``;
  ``abs_c63 = |M63 - 9 M21 M42 + 12 M21^3 - 3 M20 M43 - 3 M22 M41 + 18 M20 M21 M22|``.
  ``C21 = M21 = 1`` after the scaling, so it is left out. Noiseless unit-power values (|C40|, |C42|):
  BPSK 2, 2; QPSK 1, 1; 8PSK 0, 1; PAM4 1.36, 1.36; 16QAM 0.68, 0.68; 64QAM 0.619, 0.619.
- Amplitude (Azzouz & Nandi, "Automatic identification of digital modulation types", Signal
  Processing 47, 1995): ``std_amplitude = std(a_cn)``; ``std_abs_amplitude = std(|a_cn|)``;
  ``skewness_amplitude``, ``kurtosis_amplitude`` of ``a_cn``; ``gamma_max = max_k |DFT(a_cn)[k]|^2 / N``;
  ``papr = max |x|^2`` (peak-to-average power); ``std_amplitude_rate = std(a_n[n+1] - a_n[n])``.
- Phase (Azzouz & Nandi): ``std_nonlinear_phase = std(phi_NL)`` (their sigma_dp),
  ``std_abs_nonlinear_phase = std(|phi_NL|)`` (sigma_ap), ``kurtosis_nonlinear_phase``.
- Frequency: ``std_frequency = std(f)``, ``std_abs_frequency = std(|f - mean f|)`` (sigma_af),
  ``kurtosis_frequency`` of ``f``.
- Spectral lines: ``line_xk = max |FFT(x^k)| / mean |FFT(x^k)|`` for ``k = 1, 2, 4, 8``. Raising to
  the power k strips M-ary phase modulation for M dividing k and leaves a tone (at k times the carrier
  offset): BPSK and PAM at k = 2, QPSK and square QAM at 4, 8PSK at 8; k = 1 sees an unmodulated
  carrier (AM with carrier, a silent FM transmitter).
- Spectrum shape, from the periodogram ``P[k] = |FFT(x)[k]|^2 / N`` at frequencies ``nu[k]`` (cycles /
  sample): ``spectral_flatness = exp(mean log P) / mean P`` (1 for white noise, towards 0 for a tone);
  ``rms_bandwidth = sqrt(sum P (nu - nu_c)^2 / sum P)`` about the centroid ``nu_c = sum P nu / sum P``;
  ``spectral_asymmetry = |P_upper - P_lower| / (P_upper + P_lower)`` with the powers above and below
  0 Hz (1 for single sideband, 0 for a symmetric spectrum).

An all-zero example gets finite features (``a_n = 1``, spectral flatness 1, every other feature 0),
never NaN.
"""

from __future__ import annotations

import math

import torch

from rfnet.dsp.power import check_iq, to_unit_power

__all__ = ["AMPLITUDE_THRESHOLD", "FEATURE_NAMES", "SPECTRAL_LINE_POWERS", "modulation_features"]

AMPLITUDE_THRESHOLD = 0.5
"""Samples with normalised amplitude ``a_n`` above this are "strong" for the phase and frequency features.
Azzouz & Nandi use 1, which drops about half the samples of a noisy constant-envelope signal and every
sample of a noiseless one; 0.5 drops only the samples near zero, whose phase is noise."""

SPECTRAL_LINE_POWERS = (1, 2, 4, 8)
"""The powers ``k`` of the spectral-line features ``line_xk``."""

CUMULANT_NAMES = ("abs_c20", "abs_c40", "abs_c41", "abs_c42", "abs_c60", "abs_c61", "abs_c62", "abs_c63")
AMPLITUDE_NAMES = ("std_amplitude", "std_abs_amplitude", "skewness_amplitude", "kurtosis_amplitude",
                   "gamma_max", "papr", "std_amplitude_rate")
PHASE_NAMES = ("std_nonlinear_phase", "std_abs_nonlinear_phase", "kurtosis_nonlinear_phase")
FREQUENCY_NAMES = ("std_frequency", "std_abs_frequency", "kurtosis_frequency")
SPECTRUM_NAMES = tuple(f"line_x{k}" for k in SPECTRAL_LINE_POWERS) + (
    "spectral_flatness", "rms_bandwidth", "spectral_asymmetry")

FEATURE_NAMES = CUMULANT_NAMES + AMPLITUDE_NAMES + PHASE_NAMES + FREQUENCY_NAMES + SPECTRUM_NAMES
"""The column names of :func:`modulation_features`, in order (formulas in the module docstring)."""


def modulation_features(iq: torch.Tensor) -> torch.Tensor:
    """The :data:`FEATURE_NAMES` features of complex64 IQ ``[B, N]`` (``N >= 2``) as float32 ``[B, F]``.

    Raises ``ValueError`` for anything but a finite complex64 ``[B, N]`` tensor with ``N >= 2``.
    """
    check_iq(iq)
    if iq.shape[1] < 2:
        raise ValueError(f"iq must have at least 2 samples per example, got shape {tuple(iq.shape)}")
    x = to_unit_power(iq.to(torch.complex128))
    amplitude = x.abs()
    mean_amplitude = amplitude.mean(dim=1, keepdim=True)
    normalized = torch.where(mean_amplitude > 0, amplitude / mean_amplitude.clamp(min=_TINY), 1.0)
    strong = normalized > AMPLITUDE_THRESHOLD
    columns = (_cumulants(x) + _amplitude_features(x, normalized) + _phase_and_frequency_features(x, strong)
               + _spectrum_features(x))
    return torch.stack(columns, dim=1).to(torch.float32)


_TINY = torch.finfo(torch.float64).tiny
_FLOOR = 1e-12  # added to unit-power periodogram bins before the log (an empty bin would give -inf)


def _cumulants(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """|C20|, |C40|, |C41|, |C42|, |C60|, |C61|, |C62|, |C63| of unit-power ``x`` (float64 ``[B]`` each)."""
    conj = x.conj()

    def moment(p: int, q: int) -> torch.Tensor:  # M_pq = mean(x^(p-q) conj(x)^q)
        return (x ** (p - q) * conj**q).mean(dim=1)

    m20, m21, m22 = moment(2, 0), moment(2, 1), moment(2, 2)
    m40, m41, m42, m43 = moment(4, 0), moment(4, 1), moment(4, 2), moment(4, 3)
    m60, m61, m62, m63 = moment(6, 0), moment(6, 1), moment(6, 2), moment(6, 3)
    c40 = m40 - 3 * m20**2
    c41 = m41 - 3 * m20 * m21
    c42 = m42 - m20.abs() ** 2 - 2 * m21**2
    c60 = m60 - 15 * m20 * m40 + 30 * m20**3
    c61 = m61 - 5 * m21 * m40 - 10 * m20 * m41 + 30 * m20**2 * m21
    c62 = m62 - 6 * m20 * m42 - 8 * m21 * m41 - m22 * m40 + 6 * m20**2 * m22 + 24 * m21**2 * m20
    c63 = m63 - 9 * m21 * m42 + 12 * m21**3 - 3 * m20 * m43 - 3 * m22 * m41 + 18 * m20 * m21 * m22
    return tuple(c.abs() for c in (m20, c40, c41, c42, c60, c61, c62, c63))


def _amplitude_features(x: torch.Tensor, normalized: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """std, std of |.|, skewness, kurtosis of ``a_cn``; gamma_max; PAPR; std of the amplitude's steps."""
    centred = normalized - 1
    m2, m3, m4 = _central_moments(centred)
    samples = x.shape[1]
    gamma_max = torch.fft.fft(centred, dim=1).abs().square().amax(dim=1) / samples
    papr = (x.real.square() + x.imag.square()).amax(dim=1)
    rate = _central_moments(normalized.diff(dim=1))[0].sqrt()
    return (m2.sqrt(), _central_moments(centred.abs())[0].sqrt(), m3 / m2.pow(1.5).clamp(min=_TINY),
            m4 / m2.square().clamp(min=_TINY), gamma_max, papr, rate)


def _phase_and_frequency_features(x: torch.Tensor, strong: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """std, std of |.|, kurtosis of the non-linear phase; std, std of |f - mean f|, kurtosis of f."""
    pairs = strong[:, 1:] & strong[:, :-1]
    frequency = torch.angle(x[:, 1:] * x[:, :-1].conj()) / (2 * math.pi)
    carrier = _masked_mean(frequency, pairs)
    n = torch.arange(x.shape[1], device=x.device, dtype=torch.float64)
    derotated = x * torch.polar(torch.ones_like(n), -2 * math.pi * carrier[:, None] * n)
    mean_phase = torch.angle((derotated * strong).sum(dim=1, keepdim=True))
    phase = torch.angle(derotated * torch.polar(torch.ones_like(mean_phase), -mean_phase))
    p2, _, p4 = _central_moments(phase, strong)
    f2, _, f4 = _central_moments(frequency, pairs)
    deviation = (frequency - carrier[:, None]).abs()
    return (p2.sqrt(), _central_moments(phase.abs(), strong)[0].sqrt(), p4 / p2.square().clamp(min=_TINY),
            f2.sqrt(), _central_moments(deviation, pairs)[0].sqrt(), f4 / f2.square().clamp(min=_TINY))


def _spectrum_features(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """line_x1, line_x2, line_x4, line_x8; spectral flatness, RMS bandwidth, |asymmetry about 0 Hz|."""
    lines = []
    for k in SPECTRAL_LINE_POWERS:
        magnitude = torch.fft.fft(x**k, dim=1).abs()
        lines.append(magnitude.amax(dim=1) / magnitude.mean(dim=1).clamp(min=_TINY))
    samples = x.shape[1]
    power = torch.fft.fft(x, dim=1).abs().square() / samples
    total = power.sum(dim=1).clamp(min=_TINY)
    flatness = torch.exp(torch.log(power + _FLOOR).mean(dim=1)) / (total / samples + _FLOOR)
    nu = torch.fft.fftfreq(samples, device=x.device, dtype=torch.float64)
    centroid = (power * nu).sum(dim=1) / total
    bandwidth = ((power * (nu - centroid[:, None]).square()).sum(dim=1) / total).sqrt()
    upper, lower = (power * (nu > 0)).sum(dim=1), (power * (nu < 0)).sum(dim=1)
    asymmetry = (upper - lower).abs() / (upper + lower).clamp(min=_TINY)
    return (*lines, flatness, bandwidth, asymmetry)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over dim 1 of ``values`` where ``mask`` holds (0 where it never does)."""
    return (values * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def _central_moments(values: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
    """Second, third and fourth central moments over dim 1 of real ``values`` ``[B, L]`` (where ``mask``
    holds, if given; 0 for a row with no sample kept)."""
    if mask is None:
        mask = torch.ones_like(values, dtype=torch.bool)
    centred = (values - _masked_mean(values, mask)[:, None]) * mask
    return tuple(_masked_mean(centred**k, mask) for k in (2, 3, 4))
