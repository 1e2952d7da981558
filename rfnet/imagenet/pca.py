"""The RGB colour statistics of an ImageNet training set: mean, covariance and its eigen-decomposition.

What ``rfnet imagenet-pca`` computes for the PCA lighting augmentation
(:mod:`rfnet.imagenet.lighting`): the 3x3 covariance of RGB pixel values on [0, 1] over every
pixel of a random sample of training images, and its eigenvalues (descending) and unit eigenvectors
(columns; each signed so its largest-magnitude entry is positive; the lighting does not care, as
``alpha`` is symmetric). Images larger than ``max_side`` on the shorter side are first reduced to it
(bilinear, antialiased), as training sees them; smaller ones are used as they are.

Sums are kept in float64, about a shift of 0.5, so a billion pixels lose no precision.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision.transforms.v2 import functional as F

from .folder import ImageNetFolder
from .lighting import write_pca_json

SHIFT = 0.5  # pixels are summed as (x - SHIFT) to keep float64 sums of squares well conditioned


@dataclass(frozen=True)
class ColourStatistics:
    """``mean`` [3], ``covariance`` [3, 3] (unbiased, over pixels), ``eigval`` [3] descending, ``eigvec``
    [3, 3] with eigenvectors as columns (float64); ``images`` and ``pixels`` counted."""

    mean: torch.Tensor
    covariance: torch.Tensor
    eigval: torch.Tensor
    eigvec: torch.Tensor
    images: int
    pixels: int


class RGBMoments:
    """Running pixel count, sum and sum of outer products of RGB values on [0, 1] (float64)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = torch.zeros(3, dtype=torch.float64)
        self.outer = torch.zeros(3, 3, dtype=torch.float64)
        self.images = 0

    def add(self, image: torch.Tensor) -> None:
        """Add every pixel of an RGB image ``[3, H, W]`` (``uint8`` 0..255 or float on [0, 1])."""
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError(f"expected an RGB image [3, H, W], got shape {tuple(image.shape)}")
        scale = 255.0 if image.dtype == torch.uint8 else 1.0
        pixels = image.reshape(3, -1).to(torch.float64).div_(scale).sub_(SHIFT)
        self.count += pixels.shape[1]
        self.total += pixels.sum(dim=1)
        self.outer += pixels @ pixels.T
        self.images += 1

    def statistics(self) -> ColourStatistics:
        if self.count < 2:
            raise ValueError("need at least 2 pixels for a covariance")
        centred_mean = self.total / self.count
        covariance = (self.outer - self.count * torch.outer(centred_mean, centred_mean)) / (self.count - 1)
        eigval, eigvec = torch.linalg.eigh(covariance)
        eigval, eigvec = eigval.flip(0), eigvec.flip(1)
        largest = eigvec.gather(0, eigvec.abs().argmax(dim=0, keepdim=True))
        eigvec = eigvec * torch.sign(largest)
        return ColourStatistics(centred_mean + SHIFT, covariance, eigval, eigvec, self.images, self.count)


def rgb_statistics(images: Iterable[torch.Tensor]) -> ColourStatistics:
    """Colour statistics over every pixel of ``images`` (RGB ``[3, H, W]``, ``uint8`` or float on [0, 1])."""
    moments = RGBMoments()
    for image in images:
        moments.add(image)
    return moments.statistics()


class ShorterSideAtMost:
    """Reduce an image whose shorter side exceeds ``size`` to ``size`` (bilinear, antialiased); else keep it."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return F.resize(image, [self.size], antialias=True) if min(image.shape[-2:]) > self.size else image


def sample_indices(count: int, max_images: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``min(count, max_images)`` examples drawn without replacement (all if ``None``)."""
    if max_images is None or max_images >= count:
        return np.arange(count)
    if max_images < 1:
        raise ValueError(f"max_images must be >= 1, got {max_images}")
    return np.sort(np.random.default_rng(seed).choice(count, size=max_images, replace=False))


def imagenet_colour_statistics(
    root: str | os.PathLike,
    max_images: int | None = None,
    *,
    seed: int = 0,
    max_side: int = 256,
    workers: int = 0,
    progress: Callable[[int], object] | None = None,
) -> ColourStatistics:
    """Colour statistics of ``max_images`` random images (default all) of ``root/train``.

    ``progress(n)`` is called after each image (a tqdm bar's ``update``); ``workers`` DataLoader
    processes decode in parallel (the result does not depend on it).
    """
    dataset = ImageNetFolder(root, "train", transform=ShorterSideAtMost(max_side))
    chosen = Subset(_ErrorsAsValues(dataset), sample_indices(len(dataset), max_images, seed).tolist())
    loader = DataLoader(chosen, batch_size=None, num_workers=workers)
    moments = RGBMoments()
    for image, error in loader:
        if error is not None:
            raise ValueError(error)
        moments.add(image)
        if progress is not None:
            progress(1)
    return moments.statistics()


class _ErrorsAsValues(Dataset):
    """Items ``(image, None)``, or ``(None, message)`` for an unreadable image: a worker's error then
    reaches the user as its one-line message, not wrapped in the worker's traceback."""

    def __init__(self, folder: ImageNetFolder) -> None:
        self.folder = folder

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> tuple[torch.Tensor | None, str | None]:
        try:
            return self.folder[index][0], None
        except ValueError as err:
            return None, str(err)


def write_colour_statistics(path: str | os.PathLike, stats: ColourStatistics, **provenance) -> None:
    """Write ``stats`` as the JSON :meth:`~rfnet.imagenet.lighting.PCALighting.from_json` reads
    (``eigval``, ``eigvec``), with ``mean``, ``std``, ``covariance``, counts and ``provenance`` beside."""
    write_pca_json(
        Path(path),
        stats.eigval.tolist(),
        stats.eigvec.tolist(),
        mean=stats.mean.tolist(),
        std=stats.covariance.diagonal().sqrt().tolist(),
        covariance=stats.covariance.tolist(),
        images=stats.images,
        pixels=stats.pixels,
        units="RGB on [0, 1]; eigvec columns are eigenvectors",
        **provenance,
    )
