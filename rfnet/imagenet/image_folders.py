"""Write small ImageNet-layout folders of real JPEG files, for tests, demos and benchmarks.

- :func:`write_procedural_imagenet`: a few classes of procedurally drawn images (stripes whose colour and
  orientation belong to the class, at a random phase and width, over a random background, with noise):
  learnable, yet every image different.
- :func:`write_digits_imagenet`: scikit-learn's handwritten digits (1797 8x8 images, shipped inside the
  package: no download), upscaled, ten classes.

Both write what :class:`~rfnet.imagenet.folder.ImageNetFolder` reads: ``train/<wnid>/*.JPEG``, ``val/``
flat with ``LOC_val_solution.csv`` (or the devkit's ground truth + ``meta.mat``) or in class folders,
and ``LOC_synset_mapping.txt``. Wnids are made up: ``n00000001``, ``n00000002``, ... Same seed, same
bytes. The folder appears complete or not at all (written beside it, then renamed).
"""

from __future__ import annotations

import math
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torchvision.io import encode_jpeg
from torchvision.transforms.v2 import functional as F

from rfnet.data.atomic import temporary_sibling_folder

from .labels import DEVKIT_DATA_DIR, DEVKIT_GROUND_TRUTH_FILE, DEVKIT_META_FILE, LOC_SOLUTION_FILE
from .jpeg import torchvision_io

GROUND_TRUTH_FORMS = ("loc", "devkit")
JPEG_QUALITY = 90


def fake_wnid(index: int) -> str:
    """The made-up wnid of class ``index`` (0-based): ``n00000001`` for 0."""
    return f"n{index + 1:08d}"


def write_procedural_imagenet(
    root: str | os.PathLike,
    num_classes: int = 4,
    train_per_class: int = 8,
    val_per_class: int = 4,
    size: int = 64,
    seed: int = 0,
    flat_val: bool = True,
    ground_truth: str = "loc",
) -> Path:
    """Write an ImageNet-layout folder of procedurally drawn JPEGs and return ``root``.

    Args:
        root: the folder to create (must not exist, or be empty).
        num_classes: classes ``n00000001`` ... (names ``"stripes <k>"``).
        train_per_class, val_per_class: images per class in each split.
        size: image height in pixels; widths vary per image from ``size`` to ``4/3 size``, so the
            shorter-side resize has work to do.
        seed: same seed, same bytes.
        flat_val: ``val/ILSVRC2012_val_%08d.JPEG`` in shuffled class order plus a ground-truth file, as
            ImageNet ships; ``False``: ``val/<wnid>/``.
        ground_truth: ``"loc"`` (Kaggle's ``LOC_val_solution.csv``) or ``"devkit"``
            (``ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt`` + ``meta.mat``, with
            ILSVRC2012_IDs in a shuffled order, as the real devkit's are not the sorted-wnid order).
    """
    if num_classes < 1 or train_per_class < 1 or val_per_class < 0 or size < 8:
        raise ValueError("need num_classes >= 1, train_per_class >= 1, val_per_class >= 0 and size >= 8")
    rng = np.random.default_rng(seed)
    names = [f"stripes {k}" for k in range(num_classes)]

    def draw(label: int) -> torch.Tensor:
        return _striped_image(label, num_classes, size, rng)

    train = [(k, draw(k)) for k in range(num_classes) for _ in range(train_per_class)]
    val = [(k, draw(k)) for k in range(num_classes) for _ in range(val_per_class)]
    return _write_folder(root, names, train, val, flat_val, ground_truth, rng)


def write_digits_imagenet(
    root: str | os.PathLike,
    size: int = 32,
    seed: int = 0,
    val_fraction: float = 0.2,
    flat_val: bool = True,
    ground_truth: str = "loc",
) -> Path:
    """Write scikit-learn's 1797 handwritten digits as a 10-class ImageNet-layout folder of ``size x size``
    RGB JPEGs (grey: white digits on black) and return ``root``.

    ``val_fraction`` of each class (rounded) goes to val, chosen by ``seed``; ``flat_val`` and
    ``ground_truth`` as in :func:`write_procedural_imagenet`. Class ``d`` is digit ``d`` (names ``"digit d"``).
    """
    from sklearn.datasets import load_digits

    if not 0 <= val_fraction < 1 or size < 8:
        raise ValueError(f"need 0 <= val_fraction < 1 and size >= 8, got {val_fraction}, {size}")
    digits = load_digits()
    pixels = torch.from_numpy(digits.images).float().mul(255 / 16)[:, None]  # [N, 1, 8, 8], 0..255
    images = F.resize(pixels, [size, size], antialias=True).round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(digits.target == digit))
        held_out = round(val_fraction * len(members))
        val += [(digit, images[i]) for i in members[:held_out]]
        train += [(digit, images[i]) for i in members[held_out:]]
    return _write_folder(root, [f"digit {d}" for d in range(10)], train, val, flat_val, ground_truth, rng)


# -- drawing ------------------------------------------------------------------------------------------


def _striped_image(label: int, num_classes: int, height: int, rng: np.random.Generator) -> torch.Tensor:
    """RGB ``uint8 [3, height, width]``: stripes of the class's hue and angle over a random dark background."""
    width = int(rng.integers(height, height * 4 // 3 + 1))
    angle = math.pi * label / num_classes + rng.normal(0, 0.05)
    period = height / rng.uniform(3, 5)
    y, x = np.mgrid[0:height, 0:width]
    phase = rng.uniform(0, 2 * math.pi)
    wave = np.sin(2 * math.pi * (x * math.cos(angle) + y * math.sin(angle)) / period + phase)
    stripe = (wave > 0)[..., None]
    colour = _hue_to_rgb(label / num_classes) * rng.uniform(180, 255)
    background = rng.uniform(0, 80, size=3)
    image = np.where(stripe, colour, background) + rng.normal(0, 12, size=(height, width, 3))
    return torch.from_numpy(np.clip(image, 0, 255).round().astype(np.uint8)).permute(2, 0, 1).contiguous()


def _hue_to_rgb(hue: float) -> np.ndarray:
    """A fully saturated colour for ``hue`` in [0, 1), as RGB weights in [0, 1]."""
    return np.clip(np.abs((hue * 6 + np.array([0.0, 4.0, 2.0])) % 6 - 3) - 1, 0, 1)


# -- writing ------------------------------------------------------------------------------------------


def _write_folder(root, names, train, val, flat_val, ground_truth, rng) -> Path:
    """Write ``train`` and ``val`` (lists of ``(class, uint8 [3, H, W])``) under a new folder ``root``."""
    if ground_truth not in GROUND_TRUTH_FORMS:
        raise ValueError(f"ground_truth must be one of {GROUND_TRUTH_FORMS}, got {ground_truth!r}")
    wnids = [fake_wnid(k) for k in range(len(names))]
    with new_folder(root) as folder:
        (folder / "LOC_synset_mapping.txt").write_text("".join(f"{w} {n}\n" for w, n in zip(wnids, names)))
        counters = [0] * len(names)
        for label, image in train:
            counters[label] += 1
            _write_jpeg(folder / "train" / wnids[label] / f"{wnids[label]}_{counters[label]}.JPEG", image)
        order = rng.permutation(len(val))  # ImageNet's val files are not grouped by class
        labels = [val[i][0] for i in order]
        for number, i in enumerate(order, start=1):
            name = f"ILSVRC2012_val_{number:08d}.JPEG"
            label, image = val[i]
            _write_jpeg(folder / "val" / (name if flat_val else f"{wnids[label]}/{name}"), image)
        if flat_val and ground_truth == "loc":
            _write_loc_solution(folder / LOC_SOLUTION_FILE, [wnids[k] for k in labels])
        elif flat_val:
            _write_devkit(folder / DEVKIT_DATA_DIR, wnids, names, labels, rng)
    return Path(root)


def _write_loc_solution(path: Path, wnids: list[str]) -> None:
    rows = [f"ILSVRC2012_val_{n:08d},{w} 0 0 10 10\n" for n, w in enumerate(wnids, start=1)]
    path.write_text("ImageId,PredictionString\n" + "".join(rows))


def _write_devkit(folder: Path, wnids: list[str], names: list[str], labels: list[int], rng) -> None:
    """Devkit ground truth and ``meta.mat``, ILSVRC2012_IDs 1..K assigned to classes in a shuffled order."""
    from scipy.io import savemat

    folder.mkdir(parents=True)
    ids = rng.permutation(len(wnids)) + 1  # ids[k]: the ILSVRC2012_ID of class k
    synsets = np.zeros(len(wnids), dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("num_children", "O")])
    for k in range(len(wnids)):
        synsets[k] = (int(ids[k]), wnids[k], names[k], 0)
    savemat(folder / DEVKIT_META_FILE, {"synsets": synsets})
    (folder / DEVKIT_GROUND_TRUTH_FILE).write_text("".join(f"{ids[k]}\n" for k in labels))


def _write_jpeg(path: Path, image: torch.Tensor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with torchvision_io():
        encoded = encode_jpeg(image, quality=JPEG_QUALITY)
    path.write_bytes(encoded.numpy().tobytes())


@contextmanager
def new_folder(root: str | os.PathLike):
    """Yield a temporary folder beside ``root`` (permissions following the umask; a killed run's leftover is
    swept by the next write there); on success it becomes ``root``, on failure it is removed."""
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ValueError(f"{root}: already exists and is not an empty folder")
    root.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling_folder(root)
    try:
        yield temporary
        if root.exists():
            root.rmdir()
        os.replace(temporary, root)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise

