"""Sort a flat ImageNet ``val/`` folder into ``val/<wnid>/`` class folders from its ground-truth file.

:func:`plan_val_folders` checks everything first: every image has a label, every label has its image,
no destination is taken by another file. Only then does :func:`apply_val_plan` move (or link, or copy)
anything, so bad input changes nothing. A move interrupted half-way is finished by running it again:
images already in their class folder count as done.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .labels import find_val_ground_truth, read_val_ground_truth
from .jpeg import is_image_name

MODES = ("move", "symlink", "hardlink", "copy")


@dataclass(frozen=True)
class ValPlan:
    """What :func:`apply_val_plan` will do: ``steps`` as ``(source, destination)``; ``done`` counts
    images already in place; ``per_class`` images per wnid (all of them, done ones included)."""

    val_dir: Path
    out_dir: Path
    ground_truth: Path
    steps: tuple[tuple[Path, Path], ...]
    done: int
    per_class: dict[str, int]

    def summary(self) -> str:
        return (
            f"{len(self.steps) + self.done} images in {len(self.per_class)} classes from {self.ground_truth}: "
            f"{len(self.steps)} to place under {self.out_dir}/<wnid>/, {self.done} already there"
        )


def plan_val_folders(
    val_dir: str | os.PathLike, ground_truth: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None
) -> ValPlan:
    """Plan sorting the flat ``val_dir`` into ``out_dir/<wnid>/`` (default ``val_dir`` itself).

    ``ground_truth``: ``LOC_val_solution.csv`` or the devkit's ground-truth file (``meta.mat`` beside
    it); default: found next to ``val_dir`` (see :mod:`rfnet.imagenet.labels`). Raises
    ``FileNotFoundError`` / ``ValueError`` naming the file for anything missing or inconsistent.
    """
    val_dir = Path(val_dir)
    if not val_dir.is_dir():
        raise FileNotFoundError(f"{val_dir}: no such folder")
    out_dir = Path(out_dir) if out_dir is not None else val_dir
    truth_file = Path(ground_truth) if ground_truth is not None else find_val_ground_truth(val_dir)
    truth = read_val_ground_truth(truth_file)
    flat = {
        name.rsplit(".", 1)[0]: name
        for name in os.listdir(val_dir)
        if is_image_name(name) and (val_dir / name).is_file()
    }
    unknown = sorted(set(flat) - set(truth))
    if unknown:
        raise ValueError(f"{truth_file}: has no entry for {len(unknown)} images of {val_dir}, e.g. {flat[unknown[0]]}")
    steps, done, missing = [], 0, []
    for stem, wnid in sorted(truth.items()):
        if stem in flat:
            source, destination = val_dir / flat[stem], out_dir / wnid / flat[stem]
            if destination.exists() or destination.is_symlink():
                raise ValueError(f"{destination}: already exists; will not overwrite it with {source}")
            steps.append((source, destination))
        elif _placed(out_dir / wnid, stem):
            done += 1
        else:
            missing.append(stem)
    if missing:
        raise FileNotFoundError(
            f"{val_dir}: {len(missing)} images named in {truth_file} are neither here nor in their class folder, "
            f"e.g. {missing[0]}"
        )
    return ValPlan(val_dir, out_dir, truth_file, tuple(steps), done, dict(sorted(Counter(truth.values()).items())))


def apply_val_plan(plan: ValPlan, mode: str = "move") -> None:
    """Carry out ``plan``: ``move`` (rename), ``symlink`` (absolute links), ``hardlink`` or ``copy``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    for folder in {destination.parent for _, destination in plan.steps}:
        folder.mkdir(parents=True, exist_ok=True)
    place = {
        "move": os.replace,
        "symlink": lambda source, destination: os.symlink(source.resolve(), destination),
        "hardlink": os.link,
        "copy": shutil.copy2,
    }[mode]
    for source, destination in plan.steps:
        place(source, destination)


def _placed(folder: Path, stem: str) -> bool:
    return folder.is_dir() and any(is_image_name(name) and name.rsplit(".", 1)[0] == stem for name in os.listdir(folder))
