"""Stratified (class, SNR) splits and whole-group splits."""

import numpy as np
import pytest

from rfnet.data.splits import group_split, stratified_split


def grid(classes=4, snrs=(-10, 0, 10), per_cell=50):
    labels = np.repeat(np.arange(classes), len(snrs) * per_cell)
    snr = np.tile(np.repeat(snrs, per_cell), classes)
    return labels, snr


def test_stratified_split_partitions_and_balances():
    labels, snrs = grid()
    parts = stratified_split(labels, snrs, (0.8, 0.1, 0.1), seed=0)
    joined = np.concatenate(parts)
    assert len(joined) == len(labels) and len(np.unique(joined)) == len(labels)  # no overlap, nothing lost
    for part, fraction in zip(parts, (0.8, 0.1, 0.1)):
        cells, counts = np.unique(np.stack([labels[part], snrs[part]]), axis=1, return_counts=True)
        assert cells.shape[1] == 4 * 3  # every (class, SNR) present
        np.testing.assert_array_equal(counts, round(50 * fraction))  # exact share of every cell


def test_stratified_split_is_seeded():
    labels, snrs = grid()
    first = stratified_split(labels, snrs, seed=1)
    again = stratified_split(labels, snrs, seed=1)
    other = stratified_split(labels, snrs, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_stratified_split_uneven_cells_sum_up():
    labels = np.array([0] * 7 + [1] * 3)
    snrs = np.zeros(10)
    parts = stratified_split(labels, snrs, (0.5, 0.5), seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))


def test_group_split_keeps_groups_whole():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), rng.integers(5, 15, 40))
    parts = group_split(groups, (0.7, 0.15, 0.15), seed=3)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(groups)))
    owners = [set(groups[p].tolist()) for p in parts]
    assert not (owners[0] & owners[1]) and not (owners[0] & owners[2]) and not (owners[1] & owners[2])
    shares = np.array([len(p) for p in parts]) / len(groups)
    np.testing.assert_allclose(shares, (0.7, 0.15, 0.15), atol=0.06)


@pytest.mark.parametrize("fractions", [(0.5, 0.6), (1.2, -0.2), ()])
def test_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        stratified_split(np.zeros(4), np.zeros(4), fractions, seed=0)
