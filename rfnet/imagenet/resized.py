"""A pre-resized copy of an ImageNet folder, for disks that cannot stream full-size JPEGs fast enough.

Every image whose shorter side is longer than ``short_side`` is decoded, brought down to it (bilinear,
antialiased, the longer side floored as :func:`~rfnet.imagenet.transforms.resize_center` does) and
re-encoded as JPEG; smaller images and every other file (``LOC_val_solution.csv``, the devkit) are copied
byte for byte. The layout is the source's, so :class:`~rfnet.imagenet.folder.ImageNetFolder`, the
torchvision path and DALI read the copy unchanged.

With ``short_side=256`` (the paper's) the training pipeline's own resize then has nothing left to do and
the only change to what the network sees is one more JPEG encoding (quality 90); a larger ``short_side``
(up to 320) keeps room for a resize of the crops. ILSVRC-2012's training images average about 400x350
pixels and 110 KB, so a copy at 256 moves a bit over half the bytes and decodes faster.

    write_resized_copy("/data/ILSVRC2012", "/fast/ILSVRC2012-256", short_side=256)
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from torchvision.io import encode_jpeg
from torchvision.transforms.v2 import functional as F

from .image_folders import JPEG_QUALITY, new_folder
from .jpeg import is_image_name, read_rgb, torchvision_io

SHORT_SIDES = range(256, 321)
"""Shorter sides a copy may have: at least the paper's 256, and not so large that it saves little."""


def write_resized_copy(
    source: str | os.PathLike,
    out: str | os.PathLike,
    short_side: int = 256,
    quality: int = JPEG_QUALITY,
    workers: int | None = None,
) -> dict[str, int]:
    """Write the resized copy of ``source`` (holding ``train/`` and ``val/``) to the new folder ``out``.

    ``workers`` processes (default: the CPU count) share the images. The copy appears at ``out`` only when
    complete. Returns counts: ``images``, ``resized`` (the rest were copied), ``bytes_before``,
    ``bytes_after``. Raises ``ValueError`` for a ``short_side`` outside 256..320, an ``out`` that exists
    and is not empty, or an image that cannot be decoded (naming it); ``FileNotFoundError`` without
    ``source/train``.
    """
    source = Path(source)
    if short_side not in SHORT_SIDES:
        raise ValueError(f"short_side must be in {SHORT_SIDES.start}..{SHORT_SIDES.stop - 1}, got {short_side}")
    if not (source / "train").is_dir():
        raise FileNotFoundError(f"{source / 'train'}: no such folder (expected an ImageNet folder with train/)")
    files = sorted(path.relative_to(source) for path in source.rglob("*") if path.is_file())
    with new_folder(out) as folder:
        for directory in sorted({(folder / name).parent for name in files}):
            directory.mkdir(parents=True, exist_ok=True)
        jobs = [(source / name, folder / name, short_side, quality) for name in files]
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
            outcomes = list(pool.map(_copy_one, jobs, chunksize=64))
    images = [outcome for outcome in outcomes if outcome is not None]
    return {"images": len(images), "resized": sum(resized for resized, _, _ in images),
            "bytes_before": sum(before for _, before, _ in images), "bytes_after": sum(after for _, _, after in images)}


def _copy_one(job: tuple[Path, Path, int, int]) -> tuple[bool, int, int] | None:
    """Resize or copy one file; for an image, ``(resized, bytes before, bytes after)``."""
    source, target, short_side, quality = job
    if not is_image_name(source.name):
        shutil.copyfile(source, target)
        return None
    torch.set_num_threads(1)
    image = read_rgb(source)
    if min(image.shape[-2:]) <= short_side:
        shutil.copyfile(source, target)
        resized = False
    else:
        with torchvision_io():
            smaller = F.resize(image, [short_side], antialias=True)
            target.write_bytes(encode_jpeg(smaller, quality=quality).numpy().tobytes())
        resized = True
    return resized, source.stat().st_size, target.stat().st_size
