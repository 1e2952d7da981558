"""Spectrogram front end: shapes, values against a direct numpy reference, orientation, gradients,
torch.compile, determinism, devices, configuration and bad input."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from rfnet.dsp.spectrogram import (CHANNEL_MAPPINGS, IMAGENET_MEAN, IMAGENET_STD, Spectrogram,
                                   SpectrogramConfig)


def random_iq(batch: int, samples: int, seed: int = 0, dtype=torch.complex64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, samples, generator=generator, dtype=dtype)


def tone(freq: float, samples: int, phase: float = 0.3) -> torch.Tensor:
    """A complex tone at ``freq`` cycles per sample, complex64 ``[1, samples]``."""
    n = np.arange(samples)
    return torch.from_numpy(np.exp(1j * (2 * np.pi * freq * n + phase))).to(torch.complex64)[None]


# --- a direct numpy reference: explicit DFT of windowed frames ---------------------------------------

def reference_window(name: str, n: int) -> np.ndarray:
    k = np.arange(n)
    cosine_terms = {"hann": (0.5, 0.5, 0.0), "hamming": (0.54, 0.46, 0.0),
                    "blackman": (0.42, 0.5, 0.08), "rectangular": (1.0, 0.0, 0.0)}[name]
    a0, a1, a2 = cosine_terms
    return a0 - a1 * np.cos(2 * np.pi * k / n) + a2 * np.cos(4 * np.pi * k / n)


def reference_stft(x: np.ndarray, cfg: SpectrogramConfig) -> np.ndarray:
    """complex ``[n_fft, frames]``, rows from the highest frequency down (DC-centred, flipped)."""
    n, hop = cfg.n_fft, cfg.hop_length
    if cfg.center:
        x = np.concatenate([np.zeros(n // 2), x, np.zeros(n // 2)])
    starts = range(0, len(x) - n + 1, hop)
    frames = np.stack([x[s:s + n] * reference_window(cfg.window, n) for s in starts], axis=1)
    k = np.arange(n)
    dft = np.exp(-2j * np.pi * np.outer(k, k) / n)  # DFT matrix: bin k, sample m
    spectrum = dft @ frames
    # Reorder bins by frequency, highest first: bin k has frequency k/n, wrapped to [-1/2, 1/2).
    freqs = np.where(k < (n + 1) // 2, k, k - n) / n
    return spectrum[np.argsort(-freqs, kind="stable")]


def reference_features(x: np.ndarray, cfg: SpectrogramConfig) -> np.ndarray:
    """float64 ``[C, n_fft, frames]``: the module docstring's steps 1-5, written out in numpy."""
    if cfg.channel_mapping == "powers":
        unit = x / np.sqrt(np.mean(np.abs(x) ** 2))
        return np.concatenate([reference_features(unit ** k, dataclasses.replace(
            cfg, channel_mapping="repeat", channels=1)) for k in cfg.powers])
    spec = reference_stft(x, cfg)
    power_db = 10 * np.log10(np.abs(spec) ** 2)
    rel = power_db - power_db.max()
    if cfg.channel_mapping == "repeat":
        return np.stack([np.clip(1 - rel / cfg.floor_db, 0, None)] * cfg.channels)
    if cfg.channel_mapping == "db_ranges":
        return np.stack([np.clip(1 - rel / (cfg.floor_db * (k + 1) / cfg.channels), 0, None)
                         for k in range(cfg.channels)])
    grey = np.clip(1 - rel / cfg.floor_db, 0, None)
    n = cfg.n_fft
    k = np.arange(n)
    row_freq = np.sort(np.where(k < (n + 1) // 2, k, k - n) / n)[::-1]
    cross = spec[:, 1:] * np.conj(spec[:, :-1]) * np.exp(-2j * np.pi * row_freq * cfg.hop_length)[:, None]
    deviation = np.angle(cross)
    deviation = np.concatenate([deviation[:, :1], deviation], axis=1)
    return np.stack([grey, (1 + grey * np.cos(deviation)) / 2, (1 + grey * np.sin(deviation)) / 2])


# --- shapes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [128, 1024])
@pytest.mark.parametrize("channels,mapping", [(1, "repeat"), (2, "db_ranges"), (3, "repeat"),
                                              (3, "db_ranges"), (3, "power_instfreq"), (3, "powers")])
def test_shapes_for_both_defaults(length, channels, mapping):
    cfg = SpectrogramConfig.for_length(length, channels=channels, channel_mapping=mapping)
    frontend = Spectrogram(cfg)
    images = frontend(random_iq(5, length))
    assert images.shape == (5, channels, *cfg.image_size)
    assert images.dtype == torch.float32
    assert frontend.features(random_iq(2, length)).shape == (2, channels, cfg.n_fft,
                                                              cfg.num_frames(length))


def test_native_size_when_image_size_is_none():
    cfg = SpectrogramConfig(n_fft=16, hop_length=4, image_size=None, center=False)
    assert Spectrogram(cfg)(random_iq(2, 128)).shape == (2, 3, 16, 1 + (128 - 16) // 4)


# --- values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", [
    SpectrogramConfig(n_fft=16, hop_length=2, window="hann", channel_mapping="repeat", channels=1),
    SpectrogramConfig(n_fft=32, hop_length=8, window="blackman", center=False, floor_db=-40.0),
    SpectrogramConfig(n_fft=15, hop_length=3, window="hamming", channel_mapping="db_ranges", channels=2),
    SpectrogramConfig(n_fft=16, hop_length=4, window="rectangular", channel_mapping="power_instfreq"),
    SpectrogramConfig(n_fft=16, hop_length=2, window="hann", channel_mapping="powers", powers=(1, 4, 8)),
    SpectrogramConfig(n_fft=8, hop_length=2, channel_mapping="powers", channels=2, powers=(2, 3)),
], ids=["hann-1ch", "blackman-nocenter", "hamming-odd-db-ranges", "rect-instfreq", "hann-powers",
        "powers-2ch"])
def test_features_match_numpy_reference(cfg):
    iq = random_iq(3, 128, seed=4)
    ours = Spectrogram(cfg).features(iq).double().numpy()
    for example in range(3):
        expected = reference_features(iq[example].numpy().astype(np.complex128), cfg)
        np.testing.assert_allclose(ours[example], expected, atol=2e-4)


def test_forward_at_native_size_equals_features():
    cfg = SpectrogramConfig(n_fft=16, hop_length=2, image_size=(16, 65))
    frontend = Spectrogram(cfg)
    iq = random_iq(2, 128)
    torch.testing.assert_close(frontend(iq), frontend.features(iq).contiguous())


@pytest.mark.parametrize("size", [(40, 100), (7, 30), (16, 64), (227, 227)])
def test_resize_is_bilinear_of_features(size):
    # Up- and downsampling, in each axis: the matrix resize equals F.interpolate's bilinear.
    frontend = Spectrogram(SpectrogramConfig(n_fft=16, hop_length=2, image_size=size))
    iq = random_iq(2, 128)
    expected = torch.nn.functional.interpolate(frontend.features(iq), size=size, mode="bilinear",
                                               align_corners=False)
    torch.testing.assert_close(frontend(iq), expected)
    assert 0.0 <= frontend(iq).min() and frontend(iq).max() <= 1.0


def test_normalised_to_unit_range_and_gain_invariant():
    frontend = Spectrogram(SpectrogramConfig(image_size=None, floor_db=-50.0))
    iq = random_iq(4, 128)
    features = frontend.features(iq)
    assert torch.allclose(features.amax(dim=(-3, -2, -1)), torch.ones(4))
    assert features.min() >= 0
    torch.testing.assert_close(frontend(iq * 1000), frontend(iq), atol=1e-5, rtol=0)
    torch.testing.assert_close(frontend(iq * 1e-3), frontend(iq), atol=1e-5, rtol=0)


@pytest.mark.parametrize("mapping", list(CHANNEL_MAPPINGS))
def test_every_mapping_is_gain_invariant(mapping):
    # From RadioML 2016.10a's scale (magnitudes summing to 1: 1/128 each) to large integer-like values.
    frontend = Spectrogram(SpectrogramConfig.for_length(128, channel_mapping=mapping, image_size=(67, 67)))
    iq = random_iq(3, 128)
    unit = frontend(iq)
    for gain in (1 / 128, 1e-3, 300.0):
        torch.testing.assert_close(frontend(iq * gain), unit, atol=1e-4, rtol=0)


def test_powers_of_an_all_zero_example_are_finite():
    frontend = Spectrogram(SpectrogramConfig(channel_mapping="powers", image_size=None))
    assert torch.equal(frontend.features(torch.zeros(1, 128, dtype=torch.complex64)),
                       torch.ones(1, 3, 16, 65))


def test_floor_clamps_to_zero():
    # A tone with a little noise: everything more than |floor_db| below the peak is exactly 0.
    frontend = Spectrogram(SpectrogramConfig(image_size=None, floor_db=-20.0, window="blackman"))
    iq = tone(0.25, 128) + 1e-4 * random_iq(1, 128)
    grey = frontend.features(iq)[0, 0]
    assert (grey == 0).float().mean() > 0.5
    assert grey.max() == 1


def test_imagenet_normalisation():
    plain = Spectrogram(SpectrogramConfig())
    normed = Spectrogram(SpectrogramConfig(imagenet_normalize=True))
    iq = random_iq(2, 128)
    mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
    std = torch.tensor(IMAGENET_STD)[:, None, None]
    torch.testing.assert_close(normed(iq), (plain(iq) - mean) / std)


# --- orientation: DC in the middle, positive frequencies up -----------------------------------------

@pytest.mark.parametrize("n_fft", [16, 15])
def test_dc_in_the_middle_positive_up(n_fft):
    frontend = Spectrogram(SpectrogramConfig(n_fft=n_fft, hop_length=4, image_size=None))
    centre = (n_fft - 1) // 2

    def peak_row(freq: float) -> int:
        return int(frontend.features(tone(freq, 256))[0, 0].mean(-1).argmax())

    assert peak_row(0.0) == centre
    assert peak_row(4 / n_fft) == centre - 4  # +f: above the centre row
    assert peak_row(-4 / n_fft) == centre + 4  # -f: below it


def test_tone_shows_up_in_the_resized_image_above_centre():
    frontend = Spectrogram(SpectrogramConfig.for_length(128))
    image = frontend(tone(0.2, 128))[0, 0]
    height = image.shape[0]
    assert int(image.mean(-1).argmax()) < height // 2 - height // 8
    image = frontend(tone(-0.2, 128))[0, 0]
    assert int(image.mean(-1).argmax()) > height // 2 + height // 8


def test_instfreq_is_signed_frequency_deviation():
    # A tone a quarter bin above a bin centre: the sine plane is above 0.5 on its peak bin, and
    # a quarter bin below: under 0.5.
    cfg = SpectrogramConfig(n_fft=16, hop_length=2, image_size=None, channel_mapping="power_instfreq")
    frontend = Spectrogram(cfg)
    centre = (16 - 1) // 2
    for sign in (1, -1):
        features = frontend.features(tone(3 / 16 + sign * 0.25 / 16, 128))[0]
        row = centre - 3
        assert int(features[0].mean(-1).argmax()) == row
        expected_sin = (1 + math.sin(2 * math.pi * sign * 0.25 / 16 * 2)) / 2
        assert abs(features[2, row, 20].item() - expected_sin) < 1e-3
        assert abs(features[1, row, 20].item() - (1 + math.cos(2 * math.pi * 0.25 / 16 * 2)) / 2) < 1e-3


# --- what the powers show: lines the magnitude cannot -------------------------------------------------

def psk_pair_accuracy(mapping: str, first: str, second: str, count: int = 200) -> float:
    """Nearest-centroid accuracy on the time-averaged planes ``[C, n_fft]`` of two modulations with the
    same root-raised-cosine pulse (random carrier phase, 20 dB SNR), trained on one half, tested on the
    other: how well the front end's image separates them, with no learning to hide behind."""
    from rfnet.dsp.modulations import modulate

    frontend = Spectrogram(SpectrogramConfig(image_size=None, channel_mapping=mapping))
    generator = torch.Generator().manual_seed(0)
    profiles = []
    for name in (first, second):
        clean = modulate(name, count, 128, generator=generator)
        phase = torch.rand(count, 1, generator=generator) * 2 * math.pi
        noise = 0.1 * random_iq(count, 128, seed=len(profiles) + 1) / math.sqrt(2)
        received = clean * torch.polar(torch.ones_like(phase), phase) + noise
        profiles.append(frontend.features(received.to(torch.complex64)).mean(-1).flatten(1))
    half = count // 2
    centroids = torch.stack([p[:half].mean(0) for p in profiles])
    correct = [(torch.cdist(p[half:], centroids).argmin(1) == label).float().mean()
               for label, p in enumerate(profiles)]
    return float(sum(correct) / 2)


def test_powers_separate_psk_orders_the_magnitude_cannot():
    # QPSK and 8PSK have the same power spectrum: the magnitude spectrogram is at chance; x ** 4 has a
    # line for QPSK only.
    assert psk_pair_accuracy("repeat", "QPSK", "8PSK") < 0.62
    assert psk_pair_accuracy("powers", "QPSK", "8PSK") > 0.85
    # BPSK is real, so its magnitude spectrogram is symmetric, which separates it in part; x ** 2's
    # line separates it outright.
    magnitude, powers = psk_pair_accuracy("repeat", "BPSK", "QPSK"), psk_pair_accuracy("powers", "BPSK", "QPSK")
    assert powers > 0.95 and powers > magnitude + 0.1


def test_powers_line_sits_at_k_times_the_carrier_offset():
    # BPSK with a carrier offset of one bin: u ** 2 is a line two bins above DC, u ** 4 four bins above.
    from rfnet.dsp.modulations import modulate

    frontend = Spectrogram(SpectrogramConfig(image_size=None, channel_mapping="powers", powers=(2, 4),
                                             channels=2))
    bpsk = modulate("BPSK", 20, 128, generator=torch.Generator().manual_seed(0))
    offset = tone(1 / 16, 128, phase=0.0)
    profile = frontend.features((bpsk * offset).to(torch.complex64)).mean(dim=(0, -1))  # [2, n_fft]
    centre = (16 - 1) // 2
    assert [int(row) for row in profile.argmax(-1)] == [centre - 2, centre - 4]


# --- gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mapping", list(CHANNEL_MAPPINGS))
def test_gradients_reach_the_iq(mapping):
    frontend = Spectrogram(SpectrogramConfig.for_length(128, channel_mapping=mapping,
                                                        imagenet_normalize=True))
    iq = random_iq(3, 128).requires_grad_(True)
    weights = torch.randn(3, 3, 227, 227, generator=torch.Generator().manual_seed(1))
    (frontend(iq) * weights).sum().backward()
    assert iq.grad is not None and iq.grad.dtype == torch.complex64
    assert torch.isfinite(torch.view_as_real(iq.grad)).all()
    assert (iq.grad.abs() > 0).float().mean() > 0.9


@pytest.mark.parametrize("mapping", ["repeat", "power_instfreq", "powers"])
def test_gradcheck_in_double(mapping):
    # A low floor keeps every bin above it (no clamp kinks) on this tiny noise example.
    cfg = SpectrogramConfig(n_fft=8, hop_length=4, image_size=(6, 5), floor_db=-200.0,
                            channel_mapping=mapping)
    frontend = Spectrogram(cfg)
    iq = random_iq(1, 16, seed=3, dtype=torch.complex128).requires_grad_(True)
    assert frontend(iq).dtype == torch.float64
    assert torch.autograd.gradcheck(frontend, (iq,), eps=1e-6, atol=1e-5)


# --- compile, determinism, device -------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("mapping", ["power_instfreq", "powers"])
def test_compiled_equals_eager(mapping):
    frontend = Spectrogram(SpectrogramConfig.for_length(128, channel_mapping=mapping, image_size=(32, 32)))
    iq = random_iq(4, 128)
    compiled = torch.compile(frontend)
    torch.testing.assert_close(compiled(iq), frontend(iq), atol=1e-5, rtol=1e-5)


def test_deterministic():
    frontend = Spectrogram(SpectrogramConfig.for_length(1024, channel_mapping="power_instfreq"))
    iq = random_iq(3, 1024)
    assert torch.equal(frontend(iq), frontend(iq))
    assert torch.equal(Spectrogram(frontend.config)(iq), frontend(iq))


def test_batch_independent():
    frontend = Spectrogram(SpectrogramConfig.for_length(128))
    iq = random_iq(4, 128)
    torch.testing.assert_close(frontend(iq)[2:3], frontend(iq[2:3]))


def test_output_on_input_device_and_no_state():
    frontend = Spectrogram(SpectrogramConfig.for_length(128))
    assert frontend.state_dict() == {}
    iq = random_iq(2, 128)
    assert frontend(iq).device == iq.device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_matches_cpu():
    frontend = Spectrogram(SpectrogramConfig.for_length(1024, channel_mapping="power_instfreq"))
    iq = random_iq(3, 1024)
    on_gpu = frontend.to("cuda")(iq.to("cuda"))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), frontend.to("cpu")(iq), atol=1e-4, rtol=1e-4)


# --- configuration --------------------------------------------------------------------------------

def test_config_round_trips_through_json():
    cfg = SpectrogramConfig.for_length(1024, channels=2, channel_mapping="db_ranges")
    restored = SpectrogramConfig(**json.loads(json.dumps(dataclasses.asdict(cfg))))
    assert restored == cfg and isinstance(restored.image_size, tuple)


def test_for_length_defaults_differ_and_fit_the_length():
    short, long = SpectrogramConfig.for_length(128), SpectrogramConfig.for_length(1024)
    assert short != long
    assert short.n_fft <= 128 and long.n_fft <= 1024
    assert SpectrogramConfig.for_length(128, image_size=(227, 227)).image_size == (227, 227)


@pytest.mark.parametrize("kwargs,field", [
    (dict(n_fft=1), "n_fft"), (dict(hop_length=0), "hop_length"), (dict(window="gauss"), "window"),
    (dict(floor_db=10.0), "floor_db"), (dict(floor_db=float("nan")), "floor_db"),
    (dict(image_size=(64,)), "image_size"), (dict(image_size=(0, 64)), "image_size"),
    (dict(channel_mapping="rgb"), "channel_mapping"),
    (dict(channels=2, channel_mapping="power_instfreq"), "channels"), (dict(channels=4), "channels"),
    (dict(channels=1, imagenet_normalize=True), "imagenet_normalize"),
    (dict(powers=()), "powers"), (dict(powers=(1, 9)), "powers"), (dict(powers=(0,)), "powers"),
    (dict(powers=(2.0,)), "powers"), (dict(channel_mapping="powers", channels=2), "channels"),
])
def test_bad_config(kwargs, field):
    with pytest.raises(ValueError, match=f"SpectrogramConfig.{field}"):
        SpectrogramConfig(**kwargs)


def test_bad_for_length():
    with pytest.raises(ValueError, match="num_samples"):
        SpectrogramConfig.for_length(0)
    with pytest.raises(ValueError, match="shorter than the STFT window"):
        SpectrogramConfig.for_length(10)
    assert SpectrogramConfig.for_length(10, n_fft=8).n_fft == 8


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("iq,message", [
    (np.zeros((2, 128), dtype=np.complex64), "torch.Tensor"),
    (torch.zeros(2, 128), "complex64"),
    (torch.zeros(2, 128, 2), "complex64"),
    (torch.zeros(128, dtype=torch.complex64), r"\[batch, samples\]"),
    (torch.zeros(1, 2, 128, dtype=torch.complex64), r"\[batch, samples\]"),
    (torch.zeros(2, 10, dtype=torch.complex64), "fewer than one STFT window"),
    (torch.full((2, 128), float("nan"), dtype=torch.complex64), "NaN"),
])
def test_bad_input(iq, message):
    with pytest.raises(ValueError, match=message):
        Spectrogram(SpectrogramConfig.for_length(128))(iq)
