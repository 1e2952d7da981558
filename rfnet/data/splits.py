"""Train/validation/test splits that keep proportions (by class and SNR) or keep recordings whole."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or len(fractions) == 0 or (fractions < 0).any() or abs(fractions.sum() - 1) > 1e-6:
        raise ValueError(f"fractions {fractions.tolist()} must be non-negative and sum to 1")
    return fractions


def _cut_points(count: int, fractions: np.ndarray) -> np.ndarray:
    """Boundaries splitting ``count`` items by ``fractions``, rounded so the parts add up to ``count``."""
    return np.round(np.cumsum(fractions) * count).astype(np.int64)


def stratified_split(
    labels: np.ndarray,
    snrs: np.ndarray,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    seed: int,
) -> tuple[np.ndarray, ...]:
    """Split example indices so every (class, SNR) cell is divided by ``fractions``.

    Args:
        labels: int ``[N]``.
        snrs: ``[N]`` SNR per example (dB).
        fractions: share of each split, summing to 1 (e.g. train, validation, test).
        seed: same seed, same split.

    Returns:
        One sorted int64 index array per fraction; together they partition ``range(N)``.
    """
    labels, snrs = np.asarray(labels), np.asarray(snrs)
    if labels.shape != snrs.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and snrs {snrs.shape} must be 1-D and the same length")
    fractions = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    _, cell_of_example = np.unique(np.stack([labels, snrs]), axis=1, return_inverse=True)
    order = np.argsort(cell_of_example, kind="stable")
    cell_starts = np.flatnonzero(np.diff(cell_of_example[order], prepend=-1))
    for members in np.split(order, cell_starts[1:]):
        shuffled = rng.permutation(members)
        for part, piece in zip(parts, np.split(shuffled, _cut_points(len(members), fractions)[:-1])):
            part.append(piece)
    return tuple(np.sort(np.concatenate(part)).astype(np.int64) for part in parts)


def group_split(
    groups: np.ndarray,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    seed: int,
) -> tuple[np.ndarray, ...]:
    """Split example indices so that all examples of one group (e.g. one recording) land in one split.

    Windows cut from one recording are correlated; splitting by window would leak test data into
    training. Groups are shuffled, then assigned in turn by the share of examples they bring, so each
    split gets close to ``fractions`` of the examples (exactly, only if group sizes allow).

    Args:
        groups: ``[N]`` group id per example (any hashable numpy dtype).
        fractions: share of each split, summing to 1.
        seed: same seed, same split.

    Returns:
        One sorted int64 index array per fraction; together they partition ``range(N)``.
    """
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D, got shape {groups.shape}")
    fractions = _check_fractions(fractions)
    names, group_of_example, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    midpoints = (np.cumsum(sizes[order]) - sizes[order] / 2) / len(groups)
    split_of_group = np.empty(len(names), dtype=np.int64)
    split_of_group[order] = np.minimum(np.searchsorted(np.cumsum(fractions), midpoints), len(fractions) - 1)
    split_of_example = split_of_group[group_of_example]
    return tuple(np.flatnonzero(split_of_example == k).astype(np.int64) for k in range(len(fractions)))
