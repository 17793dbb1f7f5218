"""Train/test splits: random, stratified, and by group (all images of one object together).

Chapters D and G have several projections of each simulated cluster: a split that puts one
projection in training and another in the test set leaks the cluster, so ``group_split``,
``stratified_group_split``, ``train_val_test_split`` and ``group_kfold`` keep every group on one
side. Their fractions count groups (with equal projections per cluster, also images). The
stratified versions bin the groups' target value (one per group, e.g. log M500) in quantile bins
and keep each bin's share in every part, so that no part lacks the rare massive clusters.
Every function returns sorted int64 index arrays into the samples.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int, check_seed


def _check_fraction(test_fraction: float) -> float:
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}."
        )
    return float(test_fraction)


def random_split(n: int, test_fraction: float = 0.2, seed: int = 0):
    """Indices (train, test) of a seeded random split of ``n`` samples."""
    n = check_positive_int(n, "n", minimum=2)
    order = np.random.default_rng(check_seed(seed)).permutation(n)
    n_test = max(1, min(n - 1, int(round(_check_fraction(test_fraction) * n))))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def stratified_split(labels, test_fraction: float = 0.2, seed: int = 0):
    """Indices (train, test) that keep the share of every class of ``labels`` in both parts."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) < 2:
        raise ValueError(
            f"labels must be a 1-D array of at least 2 class labels, got shape {labels.shape}."
        )
    frac = _check_fraction(test_fraction)
    rng = np.random.default_rng(check_seed(seed))
    train, test = [], []
    for value in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == value))
        n_test = int(round(frac * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


# --- group-aware splits (chapters D and G) ---------------------------------------------------


def _check_groups(groups):
    """Unique groups and each sample's group number (inverse), for a 1-D ``groups``."""
    arr = np.asarray(groups)
    if arr.ndim != 1 or len(arr) < 2:
        raise ValueError(
            f"groups must be a 1-D array with one group label per sample (at least 2), got "
            f"shape {arr.shape}."
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError("groups contains NaN; give every sample a group label.")
    unique, inverse = np.unique(arr, return_inverse=True)
    if len(unique) < 2:
        raise ValueError("groups holds a single group; a split needs at least 2 groups.")
    return unique, inverse.ravel()


def _group_values(values, inverse, unique) -> np.ndarray:
    """One value per group (n_groups,), checking that all members of a group share it."""
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"values must be numbers, got {type(values).__name__}.") from None
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"values must be a 1-D array (one per sample), got shape {v.shape}.")
    if len(v) != len(inverse):
        raise ValueError(
            f"values and groups must have the same length, got {len(v)} and {len(inverse)}."
        )
    n_groups = len(unique)
    if not np.isfinite(v).all():
        raise ValueError("values contains NaN or infinite values; drop those samples first.")
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, inverse, v)
    np.maximum.at(hi, inverse, v)
    bad = np.flatnonzero(hi - lo > 1e-6 * np.maximum(1.0, np.abs(hi)))
    if bad.size:
        raise ValueError(
            f"values must be the same for all members of a group (one value per cluster), but "
            f"{bad.size} groups hold different values, e.g. group {unique[bad[0]]!r}."
        )
    return lo


def _quantile_bins(group_values: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin label of each group in ``n_bins`` equal-count (quantile) bins of its value."""
    rank = np.empty(len(group_values), dtype=np.int64)
    rank[np.argsort(group_values, kind="stable")] = np.arange(len(group_values))
    return rank * n_bins // len(group_values)


def _choose_test_groups(group_values, n_test: int, n_bins: int, seed: int) -> np.ndarray:
    """Boolean mask of the ``n_test`` test groups, stratified in ``group_values``. Bins shrink
    until each holds 2 groups and both sides can hold one of each bin (below 2 bins: a plain
    random split)."""
    n_groups = len(group_values)
    bins = min(n_bins, n_groups // 2, n_test, n_groups - n_test)
    if bins < 2:
        return _random_test_groups(n_groups, n_test, seed)
    from sklearn.model_selection import StratifiedShuffleSplit

    labels = _quantile_bins(group_values, bins)
    split = StratifiedShuffleSplit(n_splits=1, test_size=n_test, random_state=seed)
    _, test = next(split.split(np.zeros((n_groups, 1)), labels))
    mask = np.zeros(n_groups, dtype=bool)
    mask[test] = True
    return mask


def _random_test_groups(n_groups: int, n_test: int, seed: int) -> np.ndarray:
    mask = np.zeros(n_groups, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n_groups)[:n_test]] = True
    return mask


def _check_seed(seed) -> int:
    return check_seed(seed)


def _next_seed(seed: int) -> int:
    """The seed of a second draw, still below 2**32 (scikit-learn's limit)."""
    return (seed + 1) % 2**32


def _n_test_groups(test_fraction: float, n_groups: int) -> int:
    return max(1, min(n_groups - 1, int(round(_check_fraction(test_fraction) * n_groups))))


def _members(mask_of_groups: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask_of_groups[inverse]).astype(np.int64)


def group_split(groups, test_fraction: float = 0.2, seed: int = 0):
    """Indices (train, test) of a seeded random split by group: all samples of a group (all
    projections of a cluster) on the same side. ``test_fraction`` counts groups."""
    unique, inverse = _check_groups(groups)
    seed = _check_seed(seed)
    test = _random_test_groups(len(unique), _n_test_groups(test_fraction, len(unique)), seed)
    return _members(~test, inverse), _members(test, inverse)


def stratified_group_split(
    values, groups, test_fraction: float = 0.2, n_bins: int = 10, seed: int = 0
):
    """Indices (train, test) split by group with similar distributions of ``values`` (N,).

    ``values`` is a continuous target with one value per group (e.g. log M500 of each
    cluster; ValueError otherwise). The groups are put in ``n_bins`` quantile bins of their
    value and split with scikit-learn's ``StratifiedShuffleSplit`` (as hack G did), so every
    bin keeps its share on both sides. With too few groups the bins are merged (down to a
    plain random group split). ``test_fraction`` counts groups.
    """
    unique, inverse = _check_groups(groups)
    gv = _group_values(values, inverse, unique)
    n_bins = check_positive_int(n_bins, "n_bins")
    n_test = _n_test_groups(test_fraction, len(unique))
    test = _choose_test_groups(gv, n_test, n_bins, _check_seed(seed))
    return _members(~test, inverse), _members(test, inverse)


def train_val_test_split(
    values,
    groups,
    fractions=(0.8, 0.1, 0.1),
    stratify: bool = True,
    n_bins: int = 10,
    seed: int = 0,
):
    """Indices (train, val, test) by group, in ``fractions`` of the groups (three positive
    numbers summing to 1), stratified in ``values`` (see ``stratified_group_split``) or, with
    ``stratify=False``, random (``values`` may then be None). Hack G compared the two
    (794:99:93 images random, 788:99:99 stratified)."""
    try:
        fr = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError):
        fr = np.array([np.nan])
    if fr.shape != (3,) or not np.isfinite(fr).all() or np.any(fr <= 0):
        raise ValueError(
            f"fractions must be three positive numbers (train, val, test), got {fractions!r}."
        )
    if abs(fr.sum() - 1) > 1e-6:
        raise ValueError(f"fractions must sum to 1, got {fractions!r} (sum {fr.sum():g}).")
    unique, inverse = _check_groups(groups)
    n_groups = len(unique)
    if n_groups < 3:
        raise ValueError(f"a three-way split needs at least 3 groups, got {n_groups}.")
    seed = _check_seed(seed)
    n_bins = check_positive_int(n_bins, "n_bins")
    n_test = int(np.clip(round(fr[2] * n_groups), 1, n_groups - 2))
    n_val = int(np.clip(round(fr[1] * n_groups), 1, n_groups - n_test - 1))
    if stratify:
        if values is None:
            raise ValueError("values is required with stratify=True (or pass stratify=False).")
        gv = _group_values(values, inverse, unique)
        test = _choose_test_groups(gv, n_test, n_bins, seed)
        rest = np.flatnonzero(~test)
        val_in_rest = _choose_test_groups(gv[rest], n_val, n_bins, _next_seed(seed))
    else:
        if values is not None:
            _group_values(values, inverse, unique)  # same checks, unused
        test = _random_test_groups(n_groups, n_test, seed)
        rest = np.flatnonzero(~test)
        val_in_rest = _random_test_groups(len(rest), n_val, _next_seed(seed))
    val = np.zeros(n_groups, dtype=bool)
    val[rest[val_in_rest]] = True
    train = ~(test | val)
    return _members(train, inverse), _members(val, inverse), _members(test, inverse)


def group_kfold(values, groups, n_splits: int = 5, stratify: bool = True, n_bins: int = 10,
                seed: int = 0):  # fmt: skip
    """K-fold cross-validation by group: a list of ``n_splits`` (train, test) index pairs in
    which every group is in exactly one test fold.

    ``stratify=True`` balances the quantile bins of ``values`` (one value per group) over the
    folds with scikit-learn's ``StratifiedGroupKFold`` (bins merged so that each holds at least
    ``n_splits`` groups); ``stratify=False`` deals the seeded-shuffled groups into folds of
    equal group counts (``values`` may then be None).
    """
    unique, inverse = _check_groups(groups)
    n_groups = len(unique)
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be a whole number of at least 2, got {n_splits!r}.")
    if n_splits > n_groups:
        raise ValueError(
            f"n_splits={n_splits} asks for more folds than clusters (groups): there are "
            f"{n_groups}; use at most {n_groups} folds."
        )
    seed = _check_seed(seed)
    n_bins = check_positive_int(n_bins, "n_bins")
    if stratify:
        if values is None:
            raise ValueError("values is required with stratify=True (or pass stratify=False).")
        gv = _group_values(values, inverse, unique)
        from sklearn.model_selection import StratifiedGroupKFold

        labels = _quantile_bins(gv, max(1, min(n_bins, n_groups // n_splits)))[inverse]
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        tests = [np.sort(t) for _, t in folds.split(np.zeros((len(inverse), 1)), labels, inverse)]
    else:
        if values is not None:
            _group_values(values, inverse, unique)
        order = np.random.default_rng(seed).permutation(n_groups)
        fold_of_group = np.empty(n_groups, dtype=np.int64)
        fold_of_group[order] = np.arange(n_groups) % n_splits
        tests = [np.flatnonzero(fold_of_group[inverse] == k) for k in range(n_splits)]
    everything = np.arange(len(inverse))
    return [(np.setdiff1d(everything, t).astype(np.int64), t.astype(np.int64)) for t in tests]
