"""The paper's ImageNet preprocessing on RGB ``[3, H, W]`` tensors from ``torchvision.io`` decoders.

Every image is first brought to 256x256: shorter side resized to 256 (bilinear, antialiased), then the
central 256x256 patch (Krizhevsky et al. 2012, section 2). Then:

- training (:func:`train_transform`): a ``crop_size`` crop (227 for the paper net ``alexnet``, 224 for
  ``conv1_padding=2`` / ``alexnet_tv``) at a uniformly random position inside the 256x256, mirrored
  with probability 1/2, PCA colour lighting (:mod:`rfnet.imagenet.lighting`), then normalised;
- evaluation (:func:`eval_transform`): the centre crop, or the paper's 10 crops: the four corners and
  the centre, then the same five of the mirrored image, stacked ``[10, 3, crop, crop]`` (torchvision's
  ``ten_crop`` order) for averaging the softmax.

Normalisation: ``(x - mean) / std`` with ``x`` on [0, 1]. The default is the per-channel ImageNet mean
and std, the same numbers the spectrogram front end uses (``Spectrogram(imagenet_normalize=True)``), so
a backbone trained here sees spectrograms on the same scale. The paper subtracted the per-pixel *mean
image* of the training set, on 0..255, and did not divide: ``std=(1/255,) * 3`` reproduces its scale
with a per-channel mean.

Inputs: ``uint8`` on 0..255 or float on [0, 1], on any device. Outputs: ``float32``.

Random draws (crop position, flip, lighting weights) come from a generator seeded by
``(seed, epoch, example index)``, so an example's augmentation does not depend on which DataLoader
worker or rank reads it, nor on what it read before: the condition for exact resume with workers in
:class:`rfnet.train.Trainer`. :class:`~rfnet.imagenet.folder.ImageNetFolder` passes the index and its
epoch (``set_epoch``). With ``seed=None`` draws come from torch's global generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torchvision.transforms.v2 import functional as F

from .normalization import IMAGENET_MEAN, IMAGENET_STD
from rfnet.seeding import seed_for

from .lighting import PCALighting

RESIZE = 256
PAPER_CROP = 227


@dataclass(frozen=True)
class CropDraws:
    """Per-example augmentation of a batch of ``B`` examples (CPU tensors).

    ``top``, ``left``: int64 ``[B]`` crop corner in the 256x256 image; ``flip``: bool ``[B]`` mirror
    left-right; ``alpha``: float32 ``[B, 3]`` lighting weights (``N(0, alpha_std)``; zeros for none).
    """

    top: torch.Tensor
    left: torch.Tensor
    flip: torch.Tensor
    alpha: torch.Tensor

    @classmethod
    def cat(cls, draws: Sequence[CropDraws]) -> CropDraws:
        return cls(*(torch.cat([getattr(d, name) for d in draws]) for name in ("top", "left", "flip", "alpha")))


def resize_center(image: torch.Tensor, size: int = RESIZE) -> torch.Tensor:
    """Shorter side to ``size`` (bilinear, antialiased), then the central ``size x size``.

    ``[..., H, W]`` -> ``[..., size, size]``, same dtype and device.
    """
    image = F.resize(image, [size], antialias=True)
    return F.center_crop(image, [size, size])


def crop_flip_light(
    images: torch.Tensor | Sequence[torch.Tensor],
    draws: CropDraws,
    crop_size: int,
    lighting: PCALighting | None,
    mean: Sequence[float],
    std: Sequence[float],
) -> torch.Tensor:
    """Crop ``images`` (``[B, 3, H, W]``, or ``B`` tensors ``[3, H, W]``) at ``draws``, mirror, add lighting,
    normalise: float32 ``[B, 3, crop, crop]``.

    Crop and mirror copy only the crop, in the input dtype (``uint8`` stays 1 byte per value); the
    conversion to [0, 1], lighting offset and normalisation are then one multiply-add per value,
    ``x * (1 / (255 std)) + (offset - mean) / std``. Runs on the images' device; ``draws`` on the CPU.
    """
    crops = torch.stack([
        image[:, top : top + crop_size, left : left + crop_size].flip(-1) if flip
        else image[:, top : top + crop_size, left : left + crop_size]
        for image, top, left, flip in zip(images, draws.top.tolist(), draws.left.tolist(), draws.flip.tolist())
    ])
    device = crops.device
    std_t = torch.tensor(std, device=device).view(1, 3, 1, 1)
    shift = -torch.tensor(mean, device=device).view(1, 3, 1, 1)
    if lighting is not None:
        shift = shift + lighting.offsets(draws.alpha.to(device))[:, :, None, None]
    scale = 1 / 255 if crops.dtype == torch.uint8 else 1.0
    return crops.float().mul_(scale / std_t).add_(shift / std_t)


def example_generator(seed: int, epoch: int, example: int) -> torch.Generator:
    """A CPU generator for one example's draws, a pure function of ``(seed, epoch, example)``."""
    return torch.Generator().manual_seed(seed_for(seed, epoch, example))


class TrainTransform:
    """Random crop + mirror + PCA lighting + normalisation: ``[3, H, W]`` -> float32 ``[3, crop, crop]``.

    Use :func:`train_transform` to build one. Called as ``t(image, example=i, epoch=e)``: the draws are a
    function of ``(seed, e, i)`` (see the module docstring). :meth:`draw` and :meth:`apply_batch` are
    the two halves, for batched pipelines (:class:`rfnet.imagenet.gpu.DeviceBatchPreprocess`).
    """

    def __init__(
        self,
        crop_size: int = PAPER_CROP,
        seed: int | None = None,
        *,
        resize: int = RESIZE,
        flip: bool = True,
        lighting: PCALighting | None = PCALighting(),
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        if not 0 < crop_size <= resize:
            raise ValueError(f"crop_size must be in 1..{resize} (the resized image), got {crop_size}")
        self.crop_size, self.seed, self.resize, self.flip = crop_size, seed, resize, flip
        self.lighting, self.mean, self.std = lighting, tuple(mean), tuple(std)

    def __call__(self, image: torch.Tensor, example: int | None = None, epoch: int = 0) -> torch.Tensor:
        square = resize_center(image, self.resize)
        return self.apply_batch(square[None], self.draw([example], epoch))[0]

    def draw(self, examples: Sequence[int | None], epoch: int = 0) -> CropDraws:
        """The draws for ``examples`` (dataset indices) in ``epoch``; ``None`` entries use the global RNG."""
        return CropDraws.cat([self._draw_one(self._generator(example, epoch)) for example in examples])

    def apply_batch(self, squares: torch.Tensor | Sequence[torch.Tensor], draws: CropDraws) -> torch.Tensor:
        """Resized images ``[B, 3, 256, 256]`` (or ``B`` such images; any device) -> float32 ``[B, 3, crop, crop]``."""
        return crop_flip_light(squares, draws, self.crop_size, self.lighting, self.mean, self.std)

    def _generator(self, example: int | None, epoch: int) -> torch.Generator | None:
        if self.seed is None or example is None:
            return None
        return example_generator(self.seed, epoch, example)

    def _draw_one(self, generator: torch.Generator | None) -> CropDraws:
        span = self.resize - self.crop_size + 1
        top, left = torch.randint(0, span, (2, 1), generator=generator)
        flip = torch.rand(1, generator=generator) < 0.5 if self.flip else torch.zeros(1, dtype=torch.bool)
        alpha = torch.randn(1, 3, generator=generator)
        alpha = alpha * self.lighting.alpha_std if self.lighting is not None else torch.zeros(1, 3)
        return CropDraws(top, left, flip, alpha)

    def __repr__(self) -> str:
        return (
            f"TrainTransform(crop_size={self.crop_size}, seed={self.seed}, resize={self.resize}, flip={self.flip}, "
            f"lighting={self.lighting}, mean={self.mean}, std={self.std})"
        )


class EvalTransform:
    """Centre crop (``[3, crop, crop]``) or the 10 crops (``[10, 3, crop, crop]``), normalised, float32.

    The 10 crops, in torchvision's ``ten_crop`` order: top-left, top-right, bottom-left, bottom-right,
    centre, then the same five crops of the left-right mirrored image. Centre: corner at
    ``((256 - crop) // 2, (256 - crop) // 2)`` (of the mirrored image for the mirrored centre, which
    for an odd ``256 - crop`` sits one column off the unmirrored one).
    """

    def __init__(
        self,
        crop_size: int = PAPER_CROP,
        ten_crop: bool = False,
        *,
        resize: int = RESIZE,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        if not 0 < crop_size <= resize:
            raise ValueError(f"crop_size must be in 1..{resize} (the resized image), got {crop_size}")
        self.crop_size, self.ten_crop, self.resize = crop_size, ten_crop, resize
        self.mean, self.std = tuple(mean), tuple(std)
        self.draws = self._positions()

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        square = resize_center(image, self.resize)
        return self.apply_batch(square[None])[0]

    def apply_batch(self, squares: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        """``[B, 3, 256, 256]`` (or ``B`` such images) -> ``[B, 3, crop, crop]`` or ``[B, 10, 3, crop, crop]``."""
        views = len(self.draws.top)
        batch = [square for square in squares for _ in range(views)]  # views of each image, no copies
        draws = CropDraws.cat([self.draws] * len(squares))
        crops = crop_flip_light(batch, draws, self.crop_size, None, self.mean, self.std)
        return crops.unflatten(0, (len(squares), views)) if self.ten_crop else crops

    def _positions(self) -> CropDraws:
        far, centre = self.resize - self.crop_size, (self.resize - self.crop_size) // 2
        if not self.ten_crop:
            corners = [(centre, centre)]
        else:
            corners = [(0, 0), (0, far), (far, 0), (far, far), (centre, centre)]
        top, left = torch.tensor(corners).T
        flip = torch.zeros(len(corners), dtype=torch.bool)
        if self.ten_crop:
            # the same five crops of the mirrored image: a crop at column L there is column far - L here
            top, left, flip = top.repeat(2), torch.cat([left, far - left]), torch.cat([flip, ~flip])
        return CropDraws(top, left, flip, torch.zeros(len(top), 3))

    def __repr__(self) -> str:
        return (
            f"EvalTransform(crop_size={self.crop_size}, ten_crop={self.ten_crop}, resize={self.resize}, "
            f"mean={self.mean}, std={self.std})"
        )


def train_transform(crop_size: int = PAPER_CROP, seed: int | None = None, **options) -> TrainTransform:
    """The paper's training preprocessing (see :class:`TrainTransform` for ``options``)."""
    return TrainTransform(crop_size, seed, **options)


def eval_transform(crop_size: int = PAPER_CROP, ten_crop: bool = False, **options) -> EvalTransform:
    """The paper's test preprocessing: centre crop, or 10 crops with ``ten_crop=True``."""
    return EvalTransform(crop_size, ten_crop, **options)
