"""Group-aware splits: no cluster on two sides, the asked sizes, mass stratification that works,
determinism and clear errors (random_split and stratified_split: test_core.py)."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from a3net.data.splits import (
    group_kfold,
    group_split,
    random_split,
    stratified_group_split,
    train_val_test_split,
)

N_CLUSTERS, PROJECTIONS = 100, 5


def catalogue(n_clusters=N_CLUSTERS, projections=PROJECTIONS, seed=0):
    """log M500 of a steep mass function (few massive clusters), one row per projection,
    shuffled so that a cluster's rows are not adjacent."""
    rng = np.random.default_rng(seed)
    log_m = 13.5 + np.minimum(rng.exponential(0.3, n_clusters), 1.5)
    groups = np.repeat(np.arange(n_clusters), projections)
    order = rng.permutation(len(groups))
    return log_m[groups][order], groups[order]


def groups_of(idx, groups):
    return set(groups[idx].tolist())


def check_partition(parts, groups):
    """The parts cover every sample once and no group sits in two parts."""
    everything = np.sort(np.concatenate(parts))
    np.testing.assert_array_equal(everything, np.arange(len(groups)))
    sets = [groups_of(p, groups) for p in parts]
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            assert not sets[i] & sets[j]
    for p in parts:
        assert p.dtype == np.int64 and np.all(np.diff(p) > 0)


def group_values(idx, values, groups):
    _, first = np.unique(groups[idx], return_index=True)
    return values[idx][first]


def test_group_split_keeps_clusters_together():
    values, groups = catalogue()
    train, test = group_split(groups, 0.2, seed=3)
    check_partition([train, test], groups)
    assert len(groups_of(test, groups)) == 20 and len(test) == 20 * PROJECTIONS
    again = group_split(groups, 0.2, seed=3)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(group_split(groups, 0.2, seed=4)[1], test)
    names = np.array([f"halo{g}" for g in groups])  # any labels
    np.testing.assert_array_equal(group_split(names, 0.2, seed=3)[1].size, 100)


def test_stratified_group_split_keeps_each_mass_decile_share():
    values, groups = catalogue()
    train, test = stratified_group_split(values, groups, 0.2, n_bins=10, seed=0)
    check_partition([train, test], groups)
    test_masses = group_values(test, values, groups)
    all_masses = np.sort(group_values(np.arange(len(groups)), values, groups))
    deciles = np.searchsorted(all_masses, test_masses) // 10  # rank decile of each test cluster
    np.testing.assert_array_equal(np.bincount(deciles, minlength=10), np.full(10, 2))


def test_stratification_brings_the_mass_distributions_closer():
    values, groups = catalogue(seed=1)

    def ks(split):
        train, test = split
        return ks_2samp(group_values(train, values, groups), group_values(test, values, groups))[0]

    seeds = range(20)
    random = np.mean([ks(group_split(groups, 0.2, seed=s)) for s in seeds])
    strat = np.mean([ks(stratified_group_split(values, groups, 0.2, seed=s)) for s in seeds])
    assert strat < 0.6 * random, (strat, random)


def test_stratified_split_falls_back_with_few_clusters():
    values, groups = catalogue(n_clusters=4, projections=2)
    train, test = stratified_group_split(values, groups, 0.25, n_bins=10, seed=0)
    check_partition([train, test], groups)
    assert len(groups_of(test, groups)) == 1
    values, groups = catalogue(n_clusters=7, projections=3)
    check_partition(list(stratified_group_split(values, groups, 0.3, n_bins=10)), groups)


def test_train_val_test_split_sizes_and_stratification():
    values, groups = catalogue()
    for stratify in (True, False):
        parts = train_val_test_split(values, groups, (0.8, 0.1, 0.1), stratify=stratify, seed=2)
        check_partition(list(parts), groups)
        assert [len(groups_of(p, groups)) for p in parts] == [80, 10, 10]
        again = train_val_test_split(values, groups, (0.8, 0.1, 0.1), stratify=stratify, seed=2)
        for a, b in zip(parts, again, strict=True):
            np.testing.assert_array_equal(a, b)
    train, val, test = train_val_test_split(values, groups, stratify=True)
    top = np.sort(group_values(np.arange(len(groups)), values, groups))[-10:]
    for part in (val, test):  # stratified: each holds one of the ten most massive clusters
        assert np.isin(group_values(part, values, groups), top).sum() == 1
    parts = train_val_test_split(None, groups, (0.6, 0.2, 0.2), stratify=False)
    assert [len(groups_of(p, groups)) for p in parts] == [60, 20, 20]


def test_train_val_test_split_stratified_parts_are_closer_in_mass():
    values, groups = catalogue(seed=2)

    def spread(parts):
        medians = [np.median(group_values(p, values, groups)) for p in parts]
        return np.ptp(medians)

    seeds = range(15)
    random = np.mean([spread(train_val_test_split(values, groups, stratify=False, seed=s))
                      for s in seeds])  # fmt: skip
    strat = np.mean([spread(train_val_test_split(values, groups, seed=s)) for s in seeds])
    assert strat < 0.6 * random, (strat, random)


@pytest.mark.parametrize("stratify", [True, False])
def test_group_kfold_puts_every_cluster_in_one_test_fold(stratify):
    values, groups = catalogue()
    folds = group_kfold(values, groups, n_splits=5, stratify=stratify, seed=0)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tested), np.arange(len(groups)))
    for train, test in folds:
        check_partition([train, test], groups)
        assert len(groups_of(test, groups)) == 20
    again = group_kfold(values, groups, n_splits=5, stratify=stratify, seed=0)
    for (_, a), (_, b) in zip(folds, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_stratified_kfold_balances_the_folds_in_mass():
    values, groups = catalogue(seed=3)

    def spread(folds):
        return np.ptp([np.median(group_values(t, values, groups)) for _, t in folds])

    seeds = range(10)
    random = np.mean([spread(group_kfold(values, groups, stratify=False, seed=s)) for s in seeds])
    strat = np.mean([spread(group_kfold(values, groups, seed=s)) for s in seeds])
    assert strat < 0.6 * random, (strat, random)


def test_splits_reject_bad_input():
    values, groups = catalogue(n_clusters=6, projections=2)
    with pytest.raises(ValueError, match="more folds than clusters"):
        group_kfold(values, groups, n_splits=7)
    with pytest.raises(ValueError, match="n_splits must be a whole number of at least 2"):
        group_kfold(values, groups, n_splits=1)
    with pytest.raises(ValueError, match="values and groups must have the same length, got 11"):
        stratified_group_split(values[:-1], groups)
    bad = values.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="values contains NaN"):
        train_val_test_split(bad, groups)
    mixed = values.copy()
    mixed[np.flatnonzero(groups == groups[0])[0]] += 0.1
    with pytest.raises(ValueError, match="same for all members of a group"):
        stratified_group_split(mixed, groups)
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        train_val_test_split(values, groups, (0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="fractions must be three positive numbers"):
        train_val_test_split(values, groups, (0.9, 0.1))
    with pytest.raises(ValueError, match="values is required with stratify=True"):
        train_val_test_split(None, groups)
    with pytest.raises(ValueError, match="at least 2 groups"):
        group_split(np.zeros(5))
    with pytest.raises(ValueError, match="test_fraction must be a number strictly between"):
        group_split(groups, 1.0)


def test_seeds_are_checked_and_the_largest_one_works():
    groups = np.repeat(np.arange(12), 2)
    values = np.repeat(np.linspace(13.5, 15.0, 12), 2)
    for stratify in (True, False):
        parts = train_val_test_split(values, groups, stratify=stratify, seed=2**32 - 1)
        assert sum(len(p) for p in parts) == len(groups)
    for bad, error in ((-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("0", TypeError)):
        with pytest.raises(error, match=r"\[0, 2\*\*32\)"):
            group_split(groups, seed=bad)
        with pytest.raises(error, match=r"\[0, 2\*\*32\)"):
            random_split(10, seed=bad)
