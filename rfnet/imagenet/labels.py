"""ImageNet (ILSVRC-2012) labels: class index <-> WordNet id (wnid) <-> human-readable name, and the
validation ground truth in the two forms it is distributed in.

Class index order is the sorted wnids (``n01440764`` is 0, ``n15075141`` is 999), as every
``train/<wnid>/`` folder reader (torchvision's ``ImageFolder``, Caffe, timm) numbers them.

Files read (all plain text except ``meta.mat``):

- ``LOC_synset_mapping.txt`` (Kaggle) or ``synset_words.txt`` (Caffe): ``<wnid> <name>`` per line.
- ``LOC_val_solution.csv`` (Kaggle): header ``ImageId,PredictionString``, then
  ``ILSVRC2012_val_00000001,n01751748 x0 y0 x1 y1 [n01751748 ...]``: the image's class is the first wnid.
- devkit ``ILSVRC2012_validation_ground_truth.txt``: line ``i`` holds the ILSVRC2012_ID (1..1000) of
  ``ILSVRC2012_val_{i:08d}.JPEG``; ``meta.mat`` (MATLAB, read with ``scipy.io.loadmat``) maps
  ILSVRC2012_IDs to wnids and names. ILSVRC2012_IDs are *not* the sorted-wnid index.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SYNSET_MAPPING_FILES = ("LOC_synset_mapping.txt", "synset_words.txt")
LOC_SOLUTION_FILE = "LOC_val_solution.csv"
DEVKIT_GROUND_TRUTH_FILE = "ILSVRC2012_validation_ground_truth.txt"
DEVKIT_META_FILE = "meta.mat"
DEVKIT_DATA_DIR = Path("ILSVRC2012_devkit_t12") / "data"
SEARCH_LEVELS = 3
"""Label files are looked for in the data root and up to this many parent folders (the Kaggle archive
keeps them three levels above ``ILSVRC/Data/CLS-LOC``), each also in ``ILSVRC2012_devkit_t12/data``."""


@dataclass(frozen=True)
class ImageNetClasses:
    """Class index <-> wnid <-> name. ``wnids`` sorted; ``names[i]`` is the wnid itself when unknown."""

    wnids: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def from_wnids(cls, wnids: Iterable[str], names: dict[str, str] | None = None) -> ImageNetClasses:
        ordered = tuple(sorted(set(wnids)))
        names = names or {}
        return cls(ordered, tuple(names.get(wnid, wnid) for wnid in ordered))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {wnid: i for i, wnid in enumerate(self.wnids)})

    def __len__(self) -> int:
        return len(self.wnids)

    def __contains__(self, wnid: str) -> bool:
        return wnid in self._positions

    def index(self, wnid: str) -> int:
        """The class index of ``wnid`` (``KeyError`` if it is not a class here)."""
        return self._positions[wnid]


def find_label_file(root: str | os.PathLike, names: Sequence[str]) -> Path | None:
    """The first existing file called one of ``names`` in ``root``, its parents (see
    :data:`SEARCH_LEVELS`) or their ``ILSVRC2012_devkit_t12/data`` folders; ``None`` if none."""
    for folder in label_search_folders(root):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def label_search_folders(root: str | os.PathLike) -> list[Path]:
    """Where :func:`find_label_file` looks, nearest first."""
    root = Path(root).resolve()
    folders = []
    for folder in [root, *root.parents][: SEARCH_LEVELS + 1]:
        folders += [folder, folder / DEVKIT_DATA_DIR]
    return folders


def read_synset_mapping(path: str | os.PathLike) -> dict[str, str]:
    """``{wnid: name}`` from a ``<wnid> <name>`` per line file (``LOC_synset_mapping.txt``)."""
    path = Path(path)
    mapping = {}
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        wnid, _, name = line.strip().partition(" ")
        if not _looks_like_wnid(wnid):
            raise ValueError(f"{path}:{number}: expected '<wnid> <name>', got {line.strip()[:60]!r}")
        mapping[wnid] = name.strip() or wnid
    return mapping


def read_loc_solution(path: str | os.PathLike) -> dict[str, str]:
    """``{image stem: wnid}`` from Kaggle's ``LOC_val_solution.csv`` (the first wnid of each row)."""
    path = Path(path)
    truth = {}
    with open(path, newline="") as file:
        rows = csv.reader(file)
        header = next(rows, None)
        if header != ["ImageId", "PredictionString"]:
            raise ValueError(f"{path}: expected the header 'ImageId,PredictionString', got {header}")
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            words = row[1].split() if len(row) == 2 else []
            if not words or not _looks_like_wnid(words[0]):
                got = ",".join(row)[:80]
                raise ValueError(f"{path}:{number}: expected 'ImageId,<wnid> x0 y0 x1 y1 ...', got {got!r}")
            if row[0] in truth:
                raise ValueError(f"{path}:{number}: image {row[0]} is listed twice")
            truth[row[0]] = words[0]
    return truth


def read_devkit_meta(path: str | os.PathLike) -> dict[int, tuple[str, str]]:
    """``{ILSVRC2012_ID: (wnid, name)}`` for the leaf synsets (``num_children == 0``) of devkit ``meta.mat``."""
    from scipy.io import loadmat

    path = Path(path)
    try:
        synsets = loadmat(path, squeeze_me=True)["synsets"]
        leaves = {
            int(entry["ILSVRC2012_ID"]): (str(entry["WNID"]), str(entry["words"]))
            for entry in synsets.ravel()
            if int(entry["num_children"]) == 0
        }
    except (KeyError, ValueError, TypeError, OSError) as err:
        raise ValueError(f"{path}: not an ILSVRC2012 devkit meta.mat (a 'synsets' struct array): {err}") from None
    return leaves


def read_devkit_ground_truth(
    path: str | os.PathLike, meta: dict[int, tuple[str, str]], meta_path: Path
) -> dict[str, str]:
    """``{image stem: wnid}`` from devkit ``ILSVRC2012_validation_ground_truth.txt`` (line ``i`` holds the
    ILSVRC2012_ID of ``ILSVRC2012_val_{i:08d}``), through ``meta`` from :func:`read_devkit_meta`."""
    path = Path(path)
    truth = {}
    for number, line in enumerate(_read_lines(path), start=1):
        text = line.strip()
        if not text:
            continue
        if not text.isdigit():
            raise ValueError(f"{path}:{number}: expected an ILSVRC2012_ID (an integer), got {text[:40]!r}")
        if int(text) not in meta:
            raise ValueError(f"{path}:{number}: ILSVRC2012_ID {text} is not a class in {meta_path}")
        truth[f"ILSVRC2012_val_{number:08d}"] = meta[int(text)][0]
    return truth


def find_val_ground_truth(root: str | os.PathLike) -> Path:
    """The ground truth of a flat val folder found from ``root`` (``LOC_val_solution.csv`` first, then the
    devkit's file); ``FileNotFoundError`` listing where it looked if there is none."""
    path = find_label_file(root, [LOC_SOLUTION_FILE, DEVKIT_GROUND_TRUTH_FILE])
    if path is None:
        searched = ", ".join(str(folder) for folder in label_search_folders(root))
        raise FileNotFoundError(
            f"{root}: no validation ground truth ({LOC_SOLUTION_FILE}, or {DEVKIT_GROUND_TRUTH_FILE} with "
            f"{DEVKIT_META_FILE} beside it) in {searched}; name it explicitly"
        )
    return path


def read_val_ground_truth(path: str | os.PathLike) -> dict[str, str]:
    """``{image stem: wnid}`` from ``LOC_val_solution.csv`` or the devkit's ground truth (+ ``meta.mat`` beside it)."""
    path = Path(path)
    if path.suffix == ".csv":
        return read_loc_solution(path)
    meta = path.with_name(DEVKIT_META_FILE)
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: the devkit's meta.mat must sit beside {path.name} (it maps IDs to wnids)")
    return read_devkit_ground_truth(path, read_devkit_meta(meta), meta)


def label_flat_val(names: Sequence[str], truth: dict[str, str], truth_file: Path, val_dir: Path) -> list[str]:
    """The wnid of each image file name in ``names`` (from a flat ``val_dir``), checking that ``truth``
    (read from ``truth_file``) labels exactly these images: ``ValueError`` naming the file otherwise."""
    stems = [name.rsplit(".", 1)[0] for name in names]
    unlabelled = [name for name, stem in zip(names, stems) if stem not in truth]
    if unlabelled or len(truth) != len(names):
        detail = f"; no entry for {len(unlabelled)} of them, e.g. {unlabelled[0]}" if unlabelled else ""
        raise ValueError(f"{truth_file}: labels {len(truth)} images but {val_dir} holds {len(names)}{detail}")
    return [truth[stem] for stem in stems]


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    return path.read_text().splitlines()


def _looks_like_wnid(text: str) -> bool:
    return len(text) == 9 and text[0] == "n" and text[1:].isdigit()
