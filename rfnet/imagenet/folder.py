"""ILSVRC-2012 as users have it on disk, as a map-style dataset of ``(image, class index)``.

Layout (``root`` is the folder holding ``train/`` and ``val/``; for Kaggle's archive that is
``ILSVRC/Data/CLS-LOC``)::

    root/train/<wnid>/*.JPEG                         1000 class folders
    root/val/<wnid>/*.JPEG                           val in class folders, or
    root/val/ILSVRC2012_val_00000001.JPEG ...        flat, with a ground-truth file:
        LOC_val_solution.csv                           (Kaggle), or
        ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt + meta.mat   (devkit)
    LOC_synset_mapping.txt or synset_words.txt       class names (optional)

Label files are found in ``root`` or up to three folders above it (see
:mod:`rfnet.imagenet.labels`), or passed explicitly. Classes are the sorted wnids of
``train/``'s folders (else of the synset mapping or devkit file, else of ``val/``'s folders), so
train and val share one index. ``datasets/reorganize_imagenet_val.py`` turns a flat ``val/`` into
class folders once, if you prefer.

Errors name the file or folder: a missing split folder, an empty class folder, a ground-truth file
that names unknown wnids or a different set of images than ``val/`` holds, and (when read) a
truncated or corrupt image.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .labels import (
    DEVKIT_META_FILE,
    SYNSET_MAPPING_FILES,
    ImageNetClasses,
    find_label_file,
    find_val_ground_truth,
    label_flat_val,
    read_devkit_meta,
    read_synset_mapping,
    read_val_ground_truth,
)
from .transforms import TrainTransform
from .jpeg import decode_rgb, is_image_name, read_encoded

SPLITS = ("train", "val")


class ImageNetFolder(Dataset):
    """ImageNet ``split`` under ``root`` as ``(image, class index)`` pairs.

    Args:
        root: folder holding ``train/`` and/or ``val/``.
        split: ``"train"`` or ``"val"``.
        transform: applied to the decoded RGB ``uint8 [3, H, W]`` image. A
            :class:`~rfnet.imagenet.transforms.TrainTransform` is called with the example's index
            and the dataset's epoch (:meth:`set_epoch`), so its random draws are per-example seeded.
            ``None``: the item is the decoded ``uint8`` image.
        ground_truth: a flat ``val/``'s labels, ``LOC_val_solution.csv`` or the devkit's
            ``ILSVRC2012_validation_ground_truth.txt`` (``meta.mat`` beside it); default: found.
        synset_mapping: ``LOC_synset_mapping.txt`` / ``synset_words.txt`` for names; default: found.

    Attributes: ``classes`` (wnids in index order), ``class_names`` (names; the wnid when unknown),
    ``class_to_idx``, ``targets`` (int64 numpy array), ``split_dir``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        transform=None,
        *,
        ground_truth: str | os.PathLike | None = None,
        synset_mapping: str | os.PathLike | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.root, self.split, self.transform = Path(root), split, transform
        self.split_dir = self.root / split
        if not self.split_dir.is_dir():
            raise FileNotFoundError(
                f"{self.split_dir}: no such folder (expected ImageNet's layout: {self.root}/train/<wnid>/*.JPEG "
                f"and {self.root}/val/)"
            )
        self.label_files: dict[str, Path] = {}
        self.class_index = self._read_classes(synset_mapping)
        if split == "train" or _class_folders(self.split_dir):
            files, targets = self._scan_class_folders()
        else:
            files, targets = self._scan_flat_val(ground_truth)
        # numpy byte strings, not Python lists: no per-item refcounts for forked workers to copy
        self._files = np.array(files, dtype=np.bytes_)
        self.targets = np.array(targets, dtype=np.int64)
        self.epoch = 0

    # -- the dataset ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = decode_rgb(self.encoded(index), self.path(index))
        if isinstance(self.transform, TrainTransform):
            image = self.transform(image, example=index, epoch=self.epoch)
        elif self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])

    def path(self, index: int) -> Path:
        """The image file of example ``index``."""
        return self.split_dir / os.fsdecode(self._files[index])

    def encoded(self, index: int) -> torch.Tensor:
        """The undecoded file bytes of example ``index``, 1-D ``uint8`` (for batched GPU decoding)."""
        return read_encoded(self.path(index))

    def set_epoch(self, epoch: int) -> None:
        """Epoch (0-based) that seeds a :class:`TrainTransform`'s per-example draws; call before each epoch."""
        self.epoch = int(epoch)

    @property
    def classes(self) -> list[str]:
        return list(self.class_index.wnids)

    @property
    def class_names(self) -> list[str]:
        return list(self.class_index.names)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {wnid: i for i, wnid in enumerate(self.class_index.wnids)}

    def __repr__(self) -> str:
        return (
            f"ImageNetFolder({str(self.root)!r}, split={self.split!r}, {len(self)} images, "
            f"{len(self.class_index)} classes, transform={self.transform!r})"
        )

    # -- reading the layout --------------------------------------------------------------------------

    def _read_classes(self, synset_mapping) -> ImageNetClasses:
        names: dict[str, str] = {}
        mapping = Path(synset_mapping) if synset_mapping else find_label_file(self.root, SYNSET_MAPPING_FILES)
        meta = find_label_file(self.root, [DEVKIT_META_FILE])
        if mapping is not None:
            names = read_synset_mapping(mapping)
            self.label_files["synset_mapping"] = mapping
        elif meta is not None:
            names = {wnid: name for wnid, name in read_devkit_meta(meta).values()}
            self.label_files["meta"] = meta
        train_dir = self.root / "train"
        if train_dir.is_dir():
            wnids = _class_folders(train_dir)
            if not wnids:
                raise ValueError(f"{train_dir}: no class folders (expected {train_dir}/<wnid>/*.JPEG)")
        elif names:
            wnids = sorted(names)
        else:
            wnids = _class_folders(self.split_dir)
            if not wnids:
                raise FileNotFoundError(
                    f"{self.root}: no train/ folder and no class names file ({' or '.join(SYNSET_MAPPING_FILES)}), "
                    "so the class list is unknown"
                )
        return ImageNetClasses.from_wnids(wnids, names)

    def _scan_class_folders(self) -> tuple[list[str], list[int]]:
        files, targets = [], []
        loose = [name for name in os.listdir(self.split_dir) if is_image_name(name)]
        if loose:
            hint = (
                "a half-reorganised val? finish it with datasets/reorganize_imagenet_val.py"
                if self.split == "val" else "training images belong in train/<wnid>/"
            )
            raise ValueError(
                f"{self.split_dir}: holds both class folders and {len(loose)} loose images (e.g. {loose[0]}); {hint}"
            )
        for wnid in _class_folders(self.split_dir):
            folder = self.split_dir / wnid
            if wnid not in self.class_index:
                raise ValueError(f"{folder}: class {wnid} is not one of the {len(self.class_index)} training classes")
            names = sorted(entry.name for entry in os.scandir(folder) if is_image_name(entry.name) and entry.is_file())
            if not names:
                raise ValueError(f"{folder}: class folder holds no images (*.JPEG, *.jpg, *.png)")
            files += [f"{wnid}/{name}" for name in names]
            targets += [self.class_index.index(wnid)] * len(names)
        return files, targets

    def _scan_flat_val(self, ground_truth) -> tuple[list[str], list[int]]:
        names = sorted(entry.name for entry in os.scandir(self.split_dir) if is_image_name(entry.name))
        if not names:
            raise ValueError(f"{self.split_dir}: no images and no class folders")
        truth_file = Path(ground_truth) if ground_truth else find_val_ground_truth(self.root)
        self.label_files["ground_truth"] = truth_file
        wnids = label_flat_val(names, read_val_ground_truth(truth_file), truth_file, self.split_dir)
        unknown = sorted({wnid for wnid in wnids if wnid not in self.class_index})
        if unknown:
            raise ValueError(
                f"{truth_file}: names {len(unknown)} wnids that are not training classes, e.g. {unknown[0]}"
            )
        return names, [self.class_index.index(wnid) for wnid in wnids]


def _class_folders(folder: Path) -> list[str]:
    """Sorted names of the sub-folders of ``folder``."""
    return sorted(entry.name for entry in os.scandir(folder) if entry.is_dir())
