"""Train/test splits: random and stratified (group-aware splits come with their chapters)."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int


def _check_fraction(test_fraction: float) -> float:
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}."
        )
    return float(test_fraction)


def random_split(n: int, test_fraction: float = 0.2, seed: int = 0):
    """Indices (train, test) of a seeded random split of ``n`` samples."""
    n = check_positive_int(n, "n", minimum=2)
    order = np.random.default_rng(seed).permutation(n)
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
    rng = np.random.default_rng(seed)
    train, test = [], []
    for value in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == value))
        n_test = int(round(frac * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
