"""Choose examples by class and SNR, and renumber labels to the chosen classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Selection:
    """Which examples of a file to keep and how to label them.

    Attributes:
        rows: int64 ``[M]``, indices into the file's examples, ascending.
        labels: int64 ``[M]``, the kept examples' labels as indices into ``classes``.
        classes: class names in label order.
    """

    rows: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]


def select_examples(
    source: str,
    file_classes: Sequence[str],
    file_labels: np.ndarray,
    snrs: np.ndarray,
    *,
    classes: Sequence[str] | None = None,
    snr_range: tuple[float, float] | None = None,
) -> Selection:
    """Keep examples whose class is in ``classes`` and whose SNR lies in ``snr_range`` (inclusive).

    Args:
        source: file name, for error messages.
        file_classes: the file's class names; ``file_labels`` index into them.
        file_labels: int ``[N]``.
        snrs: ``[N]``, SNR per example in dB.
        classes: names to keep, in the label order wanted; ``None`` keeps all in the file's order.
        snr_range: ``(low_db, high_db)``, both included; ``None`` keeps all.

    Raises:
        ValueError: an unknown class name, a reversed range, or nothing left to keep.
    """
    file_classes = tuple(file_classes)
    if classes is None:
        classes = file_classes
    classes = tuple(classes)
    unknown = [name for name in classes if name not in file_classes]
    if unknown:
        raise ValueError(f"{source}: unknown class(es) {unknown}; the file has {list(file_classes)}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"{source}: classes {list(classes)} name a class twice")
    relabel = np.full(len(file_classes), -1, dtype=np.int64)
    for new_label, name in enumerate(classes):
        relabel[file_classes.index(name)] = new_label
    keep = relabel[file_labels] >= 0
    if snr_range is not None:
        low, high = snr_range
        if low > high:
            raise ValueError(f"{source}: snr_range {snr_range} is reversed (low > high)")
        keep &= (snrs >= low) & (snrs <= high)
    rows = np.flatnonzero(keep).astype(np.int64)
    if rows.size == 0:
        raise ValueError(f"{source}: no examples match classes={list(classes)} snr_range={snr_range}")
    return Selection(rows=rows, labels=relabel[file_labels[rows]], classes=classes)
