"""Bootstrap errors and paired bootstrap margins, so that "A beats B" comes with its noise:
resampling objects (galaxies) or whole groups (the maps of one simulation, the projections of
one cluster)."""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_difference", "bootstrap_error", "group_bootstrap"]


def bootstrap_difference(
    z_true, pred_a, pred_b, statistic, *, n_boot: int = 300, seed: int = 0
) -> tuple[float, float]:
    """``statistic(z_true, pred_a) - statistic(z_true, pred_b)`` on the same galaxies, and its
    standard error from ``n_boot`` paired bootstrap resamplings of the galaxies. A comparison
    holds when the difference is several standard errors away from zero."""
    t = np.asarray(z_true, dtype=float).ravel()
    a = np.asarray(pred_a, dtype=float).ravel()
    b = np.asarray(pred_b, dtype=float).ravel()
    if not (t.shape == a.shape == b.shape):
        raise ValueError(
            f"z_true, pred_a and pred_b must have the same length, got {t.size}, {a.size}, "
            f"{b.size}."
        )
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for k in range(n_boot):  # a few hundred resamplings; each is vectorised over galaxies
        idx = rng.integers(0, t.size, t.size)
        diffs[k] = statistic(t[idx], a[idx]) - statistic(t[idx], b[idx])
    return float(statistic(t, a) - statistic(t, b)), float(diffs.std(ddof=1))


def bootstrap_error(z_true, pred, statistic, *, n_boot: int = 300, seed: int = 0) -> float:
    """Standard error of ``statistic(z_true, pred)`` from ``n_boot`` bootstrap resamplings."""
    t = np.asarray(z_true, dtype=float).ravel()
    p = np.asarray(pred, dtype=float).ravel()
    if t.shape != p.shape:
        raise ValueError(f"z_true and pred must have the same length, got {t.size}, {p.size}.")
    rng = np.random.default_rng(seed)
    values = [statistic(t[idx], p[idx]) for idx in rng.integers(0, t.size, (n_boot, t.size))]
    return float(np.std(values, ddof=1))


def group_bootstrap(statistic, *arrays, groups, n_boot: int = 300, seed: int = 0):
    """``statistic(*arrays)`` and its standard error from resampling whole groups.

    ``arrays`` share their first axis with ``groups`` (e.g. the simulation id of every map):
    a resampling draws groups with replacement and keeps all rows of each, so rows that are not
    independent (the 15 maps of one simulation) are never split. Returns (value, error).
    """
    groups = np.asarray(groups).ravel()
    arrays = [np.asarray(a) for a in arrays]
    for a in arrays:
        if a.shape[0] != groups.size:
            raise ValueError(
                f"every array needs one row per entry of groups ({groups.size}), got {a.shape[0]}."
            )
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer of at least 2, got {n_boot!r}.")
    unique, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(unique.size))
    sizes = np.bincount(inverse, minlength=unique.size)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):  # a few hundred resamplings; each is vectorised over rows
        picked = rng.integers(0, unique.size, unique.size)
        rows = order[np.repeat(starts[picked], sizes[picked])
                     + _ranges_within(sizes[picked])]  # fmt: skip
        values.append(statistic(*(a[rows] for a in arrays)))
    return statistic(*arrays), np.std(np.asarray(values, dtype=float), axis=0, ddof=1)


def _ranges_within(sizes: np.ndarray) -> np.ndarray:
    """0..s-1 for every s in ``sizes``, concatenated."""
    ends = np.cumsum(sizes)
    return np.arange(ends[-1]) - np.repeat(ends - sizes, sizes)
