"""Spectrogram front end: complex baseband IQ to the image a CNN backbone takes.

``Spectrogram(config)`` is an ``nn.Module`` mapping complex64 IQ ``[B, N]`` to float32 images
``[B, C, H, W]``, in torch only (no numpy), batched, on the input's device, differentiable from the image
back to the IQ samples and usable under ``torch.compile``. The steps:

1. **Two-sided STFT** of the complex baseband (``torch.stft``, ``onesided=False``): window of ``n_fft``
   samples (``window``: hann, hamming, blackman or rectangular, periodic as ``scipy.signal.get_window``
   makes them), one frame every ``hop_length`` samples. With ``center=True`` the signal is padded with
   ``n_fft // 2`` zeros at each end (as ``scipy.signal.stft``'s default ``boundary="zeros"``) so there are
   ``1 + N // hop_length`` frames; with ``center=False`` there are ``1 + (N - n_fft) // hop_length``.
2. **DC in the middle, positive frequencies up**: the frequency axis is fftshifted and flipped, so image
   row 0 is the highest frequency (just below +fs/2), row ``(n_fft - 1) // 2`` is DC and the last row is
   -fs/2. A tone at +f appears above the centre row, one at -f below it. Columns are time, left to right.
3. **Power in dB relative to the example's peak** (``10 log10 |X|^2`` minus its maximum over the
   example), clamped at ``floor_db`` (a negative number: the dynamic range kept). The scaling of the STFT
   and the gain of the input therefore do not matter.
4. **Per-example normalisation** to ``[0, 1]``: 0 at (and below) the floor, 1 at the peak. An all-zero
   example has no peak to refer to and comes out as 1 everywhere.
5. **Channel mapping** (``channel_mapping``) to ``channels`` planes:
   - ``"repeat"`` (1, 2 or 3 channels): the normalised power, repeated;
   - ``"db_ranges"`` (1, 2 or 3): channel ``k`` (of ``C``) keeps the top ``floor_db * (k + 1) / C`` dB, so
     with ``floor_db=-60`` and 3 channels the planes show the top 20, 40 and 60 dB: three contrasts;
   - ``"power_instfreq"`` (3): the normalised power ``p`` and the instantaneous frequency of each bin as a
     unit vector weighted by ``p``: ``(1 + p cos d) / 2`` and ``(1 + p sin d) / 2``, where ``d`` is the
     phase advance of the bin from the previous frame minus the advance of the bin's centre frequency
     (the phase-vocoder frequency deviation, ``2 pi (f - f_bin) hop_length`` for a tone at ``f``). Bins
     near the floor are mid-grey (0.5) there, whatever their noisy phase. The first frame repeats the
     second's deviation.
   - ``"powers"`` (1, 2 or 3; one per entry of ``powers``): channel ``c`` is the normalised power of the
     STFT of ``u ** powers[c]``, where ``u`` is the example scaled to unit mean power. Raising the
     signal to the M-th power strips M-ary phase modulation and leaves a spectral line at M times the
     carrier offset (near DC here): BPSK and PAM at ``x ** 2``, QPSK and square QAM at ``x ** 4``, 8PSK at
     ``x ** 8``. Linear modulations with one pulse shape have the same magnitude spectrogram; their
     power spectrograms differ, so the default ``(1, 2, 4)`` shows AlexNet what separates them. Each
     plane is referred to its own peak (steps 3-4), so the mapping is gain-invariant like the others.
6. **Resize** to ``image_size`` ``(H, W)`` by bilinear interpolation (``align_corners=False``, no
   antialiasing: the defaults only ever upsample); ``image_size=None`` keeps the STFT's own size
   ``(n_fft, frames)``.
7. **ImageNet normalisation** (``imagenet_normalize``, 3 channels only): ``(x - mean) / std`` with the
   ImageNet RGB mean and std, for backbones pretrained on ImageNet.

``SpectrogramConfig.for_length(128)`` and ``for_length(1024)`` give the defaults for RadioML 2016 and 2018
signals, chosen by the ablation in ``benchmarks/frontend_ablation.py`` (results in
``benchmarks/RESULTS.md``, section "Spectrogram front end").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from rfnet.dsp.power import check_iq, to_unit_power
from rfnet.imagenet.normalization import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["CHANNEL_MAPPINGS", "DEFAULTS_BY_LENGTH", "DEFAULT_IMAGE_SIZE", "IMAGENET_MEAN", "IMAGENET_STD",
           "MAX_POWER", "WINDOWS", "Spectrogram", "SpectrogramConfig", "bilinear_matrix", "integer_power",
           "make_window"]

WINDOWS = ("hann", "hamming", "blackman", "rectangular")

CHANNEL_MAPPINGS: dict[str, tuple[int, ...]] = {
    "repeat": (1, 2, 3),
    "db_ranges": (1, 2, 3),
    "power_instfreq": (3,),
    "powers": (1, 2, 3),
}
"""Channel mapping name -> the channel counts it can produce."""

MAX_POWER = 8
"""Highest exponent ``SpectrogramConfig.powers`` takes (8PSK's line appears at ``x ** 8``)."""

DEFAULT_IMAGE_SIZE = (227, 227)
"""``(height, width)`` of the front end's image unless set: the paper AlexNet's native input
(``rfnet.models.alexnet.native_input_size(0)``). The jobs pass a smaller one on a CPU."""


@dataclass(frozen=True)
class SpectrogramConfig:
    """Every setting of the spectrogram front end (JSON-able through ``dataclasses.asdict``).

    n_fft: window and FFT length in samples (frequency bins of the image before resizing).
    hop_length: samples between the starts of consecutive frames.
    window: one of ``WINDOWS``.
    center: pad ``n_fft // 2`` zeros at both ends so frames are centred on samples ``0, hop, 2 hop, ...``.
    floor_db: lowest power kept, in dB relative to each example's peak (negative).
    image_size: ``(height, width)`` of the output in pixels, or ``None`` for the STFT's own
        ``(n_fft, frames)``. Height is frequency, width time.
    channels: planes in the output (1, 2 or 3).
    channel_mapping: one of ``CHANNEL_MAPPINGS``; see the module docstring.
    imagenet_normalize: subtract the ImageNet mean and divide by its std (``channels == 3`` only).
    powers: exponents (ints 1-8) of the signal powers whose spectrograms fill the channels, one per
        channel, for ``channel_mapping="powers"`` (other mappings ignore it).
    """

    n_fft: int = 16
    hop_length: int = 2
    window: str = "rectangular"
    center: bool = True
    floor_db: float = -60.0
    image_size: tuple[int, int] | None = DEFAULT_IMAGE_SIZE
    channels: int = 3
    channel_mapping: str = "repeat"
    imagenet_normalize: bool = False
    powers: tuple[int, ...] = (1, 2, 4)

    def __post_init__(self) -> None:
        def fail(field: str, problem: str) -> None:
            raise ValueError(f"SpectrogramConfig.{field} {problem}, got {getattr(self, field)!r}")

        def positive_int(value) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value > 0

        if not positive_int(self.n_fft) or self.n_fft < 2:
            fail("n_fft", "must be an int >= 2")
        if not positive_int(self.hop_length):
            fail("hop_length", "must be a positive int")
        if self.window not in WINDOWS:
            fail("window", f"must be one of {WINDOWS}")
        if not isinstance(self.center, bool):
            fail("center", "must be a bool")
        if (isinstance(self.floor_db, bool) or not isinstance(self.floor_db, (int, float))
                or not math.isfinite(self.floor_db) or self.floor_db >= 0):
            fail("floor_db", "must be a finite negative number of dB")
        if self.image_size is not None:
            # JSON gives lists back: store the size as a tuple either way.
            if (not isinstance(self.image_size, (tuple, list)) or len(self.image_size) != 2
                    or not all(positive_int(side) for side in self.image_size)):
                fail("image_size", "must be None or two positive ints (height, width)")
            object.__setattr__(self, "image_size", tuple(self.image_size))
        if self.channel_mapping not in CHANNEL_MAPPINGS:
            fail("channel_mapping", f"must be one of {tuple(CHANNEL_MAPPINGS)}")
        if self.channels not in CHANNEL_MAPPINGS[self.channel_mapping]:
            fail("channels", f"must be one of {CHANNEL_MAPPINGS[self.channel_mapping]} for "
                             f"channel_mapping={self.channel_mapping!r}")
        # JSON gives lists back: store the powers as a tuple either way.
        if (not isinstance(self.powers, (tuple, list)) or not self.powers
                or not all(positive_int(k) and k <= MAX_POWER for k in self.powers)):
            fail("powers", f"must be a non-empty sequence of ints from 1 to {MAX_POWER}")
        object.__setattr__(self, "powers", tuple(self.powers))
        if self.channel_mapping == "powers" and len(self.powers) != self.channels:
            fail("channels", f"must equal len(powers) = {len(self.powers)} for channel_mapping='powers'")
        if not isinstance(self.imagenet_normalize, bool):
            fail("imagenet_normalize", "must be a bool")
        if self.imagenet_normalize and self.channels != 3:
            fail("imagenet_normalize", "needs channels == 3 (ImageNet statistics are RGB)")

    @classmethod
    def for_length(cls, num_samples: int, **overrides) -> "SpectrogramConfig":
        """Defaults for signals of ``num_samples`` samples: ``DEFAULTS_BY_LENGTH`` for RadioML 2016 (128)
        and RadioML 2018 (1024) lengths (other lengths take the nearer of the two, on a log scale).
        ``overrides`` replace single fields (e.g. ``image_size=(67, 67)``). A signal shorter than the
        window is a ``ValueError``."""
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        nearest = min(DEFAULTS_BY_LENGTH, key=lambda length: abs(math.log(num_samples / length)))
        config = cls(**{**DEFAULTS_BY_LENGTH[nearest], **overrides})
        if num_samples < config.n_fft:
            raise ValueError(f"num_samples={num_samples} is shorter than the STFT window "
                             f"(n_fft={config.n_fft}); pass a smaller n_fft")
        return config

    def num_frames(self, num_samples: int) -> int:
        """STFT frames (image columns before resizing) for signals of ``num_samples`` samples."""
        if self.center:
            return 1 + num_samples // self.hop_length
        return 1 + (num_samples - self.n_fft) // self.hop_length


DEFAULTS_BY_LENGTH: dict[int, dict] = {
    # Chosen by benchmarks/frontend_ablation.py with the real AlexNet and rfnet finetune's recipe (128: the
    # rml2016 preset; 1024: --preset rml2018): the channel mapping, and a check of n_fft, hop and window,
    # which the earlier small-CNN ablation had picked (tables and commands in benchmarks/RESULTS.md,
    # "Spectrogram front end"). image_size is the config's own default (DEFAULT_IMAGE_SIZE), not set here.
    128: dict(n_fft=16, hop_length=2, window="rectangular", channel_mapping="powers", powers=(1, 2, 4)),
    1024: dict(n_fft=64, hop_length=8, window="blackman", channel_mapping="powers", powers=(1, 2, 4)),
}
"""Signal length (samples) -> the ``SpectrogramConfig`` fields ``for_length`` sets."""


def make_window(name: str, length: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Periodic window ``[length]`` (the DFT-even form ``scipy.signal.get_window`` returns)."""
    if name == "rectangular":
        return torch.ones(length, dtype=dtype)
    makers = {"hann": torch.hann_window, "hamming": torch.hamming_window,
              "blackman": torch.blackman_window}
    return makers[name](length, periodic=True, dtype=dtype)


def integer_power(iq: torch.Tensor, exponent: int) -> torch.Tensor:
    """``iq ** exponent`` (a positive int) by repeated complex products, which autograd and
    ``torch.compile`` take as they do any product."""
    result = iq
    for _ in range(exponent - 1):
        result = result * iq
    return result


def _check_input(iq: torch.Tensor, n_fft: int) -> None:
    """``ValueError`` unless ``iq`` is complex ``[batch, samples]`` with at least ``n_fft`` samples and
    (outside ``torch.compile``, where the check would split the graph) no NaN or infinity."""
    if not isinstance(iq, torch.Tensor):
        raise ValueError(f"iq must be a torch.Tensor, got {type(iq).__name__}")
    if iq.dtype not in (torch.complex64, torch.complex128):
        raise ValueError(f"iq must have dtype torch.complex64 (complex128 for float64 work), "
                         f"got {iq.dtype}")
    if iq.dim() != 2:
        raise ValueError(f"iq must have shape [batch, samples], got shape {tuple(iq.shape)}")
    if iq.shape[-1] < n_fft:
        raise ValueError(f"iq has {iq.shape[-1]} samples per example, fewer than one STFT window "
                         f"(n_fft={n_fft})")
    if not torch.compiler.is_compiling():
        check_iq(iq.to(torch.complex64) if iq.dtype != torch.complex64 else iq)


def bilinear_matrix(size_in: int, size_out: int, *, dtype: torch.dtype = torch.float32,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """Weights ``[size_out, size_in]`` of 1-D linear resizing with half-pixel centres
    (``align_corners=False``, sources below 0 clamped to 0, no antialiasing): the rule of
    ``F.interpolate(mode="bilinear")``, which is separable, so ``rows @ image @ cols.T`` equals it."""
    source = ((torch.arange(size_out, dtype=torch.float64, device=device) + 0.5) * (size_in / size_out)
              - 0.5).clamp_min(0)
    lower = source.floor().long()
    upper = (lower + 1).clamp_max(size_in - 1)
    frac = (source - lower).to(dtype)
    columns = torch.arange(size_in, device=device)
    return ((columns == lower[:, None]) * (1 - frac)[:, None]
            + (columns == upper[:, None]) * frac[:, None])


class Spectrogram(nn.Module):
    """Complex IQ ``[B, N]`` (complex64; complex128 gives float64) -> float32 image ``[B, C, H, W]``.

    See the module docstring for the steps. ``stft`` and ``features`` expose the intermediate results:
    the DC-centred complex STFT ``[B, n_fft, frames]`` and the mapped channels before resizing and
    ImageNet normalisation ``[B, C, n_fft, frames]``.

    Internally the STFT stays in FFT bin order (DC first) up to the resize: the reordering of the rows
    (fftshift and flip) is folded into the row-resizing matrix, and the resize is two small matrix
    products (``rows @ planes @ cols``), which on a CPU are several times faster than
    ``F.interpolate`` on these small images and give the same numbers. With ``channel_mapping="repeat"``
    one plane is computed and resized and then repeated.
    """

    def __init__(self, config: SpectrogramConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else SpectrogramConfig()
        if not isinstance(self.config, SpectrogramConfig):
            raise ValueError(f"config must be a SpectrogramConfig, got {type(self.config).__name__}")
        cfg = self.config
        # Derived constants, not learnt state: non-persistent buffers follow .to(device) but stay out
        # of the state dict.
        self.register_buffer("window", make_window(cfg.window, cfg.n_fft), persistent=False)
        # Image row r shows FFT bin row_bins[r]: highest frequency first, -fs/2 last.
        bin_freq = torch.fft.fftfreq(cfg.n_fft, dtype=torch.float64)  # cycles per sample
        row_bins = torch.argsort(bin_freq, descending=True, stable=True)
        self.register_buffer("row_bins", row_bins, persistent=False)
        height = cfg.image_size[0] if cfg.image_size is not None else cfg.n_fft
        resize = bilinear_matrix(cfg.n_fft, height, dtype=torch.float64)
        rows = torch.zeros(height, cfg.n_fft, dtype=torch.float64)
        rows[:, row_bins] = resize  # reorder and resize in one matrix: [height, FFT bins]
        self.register_buffer("rows", rows.to(torch.float32), persistent=False)
        # The phase each bin's centre frequency advances by in one hop, as a unit complex number
        # (real, imaginary) to take out of the frame-to-frame phase: [n_fft, 1, 2].
        advance = -2 * math.pi * bin_freq * cfg.hop_length
        self.register_buffer("bin_advance", torch.stack([advance.cos(), advance.sin()], -1)
                             .to(torch.float32)[:, None, :], persistent=False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN)[:, None, None], persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD)[:, None, None], persistent=False)
        self._column_matrices: dict[tuple, torch.Tensor] = {}

    def stft(self, iq: torch.Tensor) -> torch.Tensor:
        """Two-sided STFT with rows ordered from the highest frequency down to -fs/2 (DC at row
        ``(n_fft - 1) // 2``).

        iq: complex ``[B, N]``. Returns complex ``[B, n_fft, frames]``.
        """
        return self._stft_bins(iq)[:, self.row_bins.to(iq.device)]

    def _stft_bins(self, iq: torch.Tensor) -> torch.Tensor:
        """STFT in FFT bin order (DC first): complex ``[B, n_fft, frames]``."""
        cfg = self.config
        window = self.window.to(device=iq.device, dtype=iq.real.dtype)
        return torch.stft(iq, cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.n_fft,
                          window=window, center=cfg.center, pad_mode="constant", normalized=False,
                          onesided=False, return_complex=True)

    def _planes(self, iq: torch.Tensor) -> torch.Tensor:
        """The distinct planes of the channel mapping in FFT bin order, in ``[0, 1]``:
        float ``[B, P, n_fft, frames]`` (P = 1 for "repeat", else ``channels``)."""
        cfg = self.config
        # Real and imaginary planes from here on: torch.compile generates code for real ops only.
        if cfg.channel_mapping == "powers":
            unit = to_unit_power(iq)
            signals = torch.stack([integer_power(unit, k) for k in cfg.powers], dim=1)  # [B, P, N]
            spec = torch.view_as_real(self._stft_bins(signals.flatten(0, 1))).unflatten(0, signals.shape[:2])
        else:
            spec = torch.view_as_real(self._stft_bins(iq))
        real, imag = spec.unbind(-1)
        power = real * real + imag * imag
        log_power = torch.log10(power.clamp_min(torch.finfo(power.dtype).tiny))
        log_peak = log_power.amax(dim=(-2, -1), keepdim=True)

        def normalised(floor_db: float) -> torch.Tensor:
            # 1 + (dB - peak dB) / |floor|, clamped at 0: one multiply-add and a clamp.
            scale = -10.0 / floor_db
            return torch.add(1 - scale * log_peak, log_power, alpha=scale).clamp_min(0)

        if cfg.channel_mapping == "repeat":
            return normalised(cfg.floor_db).unsqueeze(1)
        if cfg.channel_mapping == "powers":  # one plane per power, each referred to its own peak
            return normalised(cfg.floor_db)
        if cfg.channel_mapping == "db_ranges":
            return torch.stack([normalised(cfg.floor_db * (k + 1) / cfg.channels)
                                for k in range(cfg.channels)], dim=1)
        # power_instfreq
        grey = normalised(cfg.floor_db)
        return torch.stack([grey, *self._instfreq_planes(spec, grey)], dim=1)

    def _instfreq_planes(self, spec: torch.Tensor, grey: torch.Tensor) -> list[torch.Tensor]:
        """``(1 + p cos d) / 2`` and ``(1 + p sin d) / 2`` for the frequency deviation ``d`` of each
        bin (see the module docstring), float ``[B, n_fft, frames]`` each.
        spec: real ``[B, n_fft, frames, 2]`` in FFT bin order."""
        # z = X[t] conj(X[t-1]), rotated back by the bin centre's advance.
        current, previous = spec[..., 1:, :], spec[..., :-1, :]
        cross_re = current[..., 0] * previous[..., 0] + current[..., 1] * previous[..., 1]
        cross_im = current[..., 1] * previous[..., 0] - current[..., 0] * previous[..., 1]
        advance = self.bin_advance.to(device=spec.device, dtype=spec.dtype)
        dev_re = cross_re * advance[..., 0] - cross_im * advance[..., 1]
        dev_im = cross_re * advance[..., 1] + cross_im * advance[..., 0]
        magnitude = torch.sqrt(dev_re.square() + dev_im.square() + torch.finfo(dev_re.dtype).tiny)
        cos_d, sin_d = dev_re / magnitude, dev_im / magnitude
        # The first frame has no predecessor: repeat the second frame's deviation.
        cos_d = torch.cat([cos_d[..., :1], cos_d], dim=-1)
        sin_d = torch.cat([sin_d[..., :1], sin_d], dim=-1)
        return [(1 + grey * cos_d) / 2, (1 + grey * sin_d) / 2]

    def features(self, iq: torch.Tensor) -> torch.Tensor:
        """The mapped channels at the STFT's own size, rows DC-centred, in ``[0, 1]``:
        float ``[B, C, n_fft, frames]``."""
        _check_input(iq, self.config.n_fft)
        planes = self._planes(iq)[:, :, self.row_bins.to(iq.device)]
        return planes.expand(-1, self.config.channels, -1, -1)

    def _column_matrix(self, frames: int, width: int, like: torch.Tensor) -> torch.Tensor:
        """``[frames, width]`` time-resizing weights in ``like``'s dtype and device, cached per
        (frames, dtype, device) in eager mode (the cache saves a dozen small ops per call; under
        ``torch.compile`` the matrix is built in the graph instead)."""
        if torch.compiler.is_compiling():
            return bilinear_matrix(frames, width, dtype=like.dtype, device=like.device).T
        key = (frames, width, like.dtype, like.device)
        if key not in self._column_matrices:
            self._column_matrices[key] = bilinear_matrix(frames, width, dtype=like.dtype,
                                                         device=like.device).T
        return self._column_matrices[key]

    def forward(self, iq: torch.Tensor) -> torch.Tensor:
        """iq: complex64 ``[B, N]`` with ``N >= n_fft`` -> float32 ``[B, C, H, W]`` on ``iq.device``."""
        cfg = self.config
        _check_input(iq, cfg.n_fft)
        planes = self._planes(iq)
        frames = planes.shape[-1]
        width = cfg.image_size[1] if cfg.image_size is not None else frames
        image = self.rows.to(planes) @ planes
        if width != frames:
            image = image @ self._column_matrix(frames, width, planes)
        image = image.expand(-1, cfg.channels, -1, -1)
        if cfg.imagenet_normalize:
            image = (image - self.mean.to(image)) / self.std.to(image)
        return image.contiguous()
