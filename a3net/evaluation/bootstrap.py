"""Bootstrap errors and paired bootstrap margins, so that "A beats B" comes with its noise:
resampling objects (galaxies) or whole groups (the maps of one simulation, the projections of
one cluster)."""

from __future__ import annotations

import numpy as np

from .._validation import check_seed

__all__ = ["bootstrap_difference", "bootstrap_error", "group_bootstrap"]


def bootstrap_difference(
    z_true, pred_a, pred_b, statistic, *, n_boot: int = 300, seed: int = 0
) -> tuple[float, float]:
    """``statistic(z_true, pred_a) - statistic(z_true, pred_b)`` on the same galaxies, and its
    standard error from ``n_boot`` paired bootstrap resamplings of the galaxies. A comparison
    holds when the difference is several standard errors away from zero."""
    t, a, b = _vector(z_true, "z_true"), _vector(pred_a, "pred_a"), _vector(pred_b, "pred_b")
    if not (t.shape == a.shape == b.shape):
        raise ValueError(
            f"z_true, pred_a and pred_b must have the same length, got {t.size}, {a.size}, "
            f"{b.size}."
        )
    n_boot, rng = _resampling(n_boot, seed, t.size)
    diffs = np.empty(n_boot)
    for k in range(n_boot):  # a few hundred resamplings; each is vectorised over galaxies
        idx = rng.integers(0, t.size, t.size)
        diffs[k] = statistic(t[idx], a[idx]) - statistic(t[idx], b[idx])
    return float(statistic(t, a) - statistic(t, b)), float(diffs.std(ddof=1))


def bootstrap_error(z_true, pred, statistic, *, n_boot: int = 300, seed: int = 0) -> float:
    """Standard error of ``statistic(z_true, pred)`` from ``n_boot`` bootstrap resamplings."""
    t, p = _vector(z_true, "z_true"), _vector(pred, "pred")
    if t.shape != p.shape:
        raise ValueError(f"z_true and pred must have the same length, got {t.size}, {p.size}.")
    n_boot, rng = _resampling(n_boot, seed, t.size)
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
    unique, inverse = np.unique(groups, return_inverse=True)
    n_boot, rng = _resampling(n_boot, seed, unique.size, "groups")
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(unique.size))
    sizes = np.bincount(inverse, minlength=unique.size)
    values = []
    for _ in range(n_boot):  # a few hundred resamplings; each is vectorised over rows
        picked = rng.integers(0, unique.size, unique.size)
        rows = order[np.repeat(starts[picked], sizes[picked])
                     + _ranges_within(sizes[picked])]  # fmt: skip
        values.append(statistic(*(a[rows] for a in arrays)))
    return statistic(*arrays), np.std(np.asarray(values, dtype=float), axis=0, ddof=1)


def _vector(values, name: str) -> np.ndarray:
    """``values`` as a finite float64 vector; TypeError or ValueError naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(values).__name__}.") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop those rows first.")
    return arr


def _resampling(n_boot, seed, n: int, what: str = "rows"):
    """``n_boot`` checked (a whole number of at least 2) and the generator of ``seed``; ``n``
    rows or groups (at least 2) to resample."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be a whole number of at least 2, got {n_boot!r}.")
    if n < 2:
        raise ValueError(f"a bootstrap needs at least 2 {what} to resample, got {n}.")
    return int(n_boot), np.random.default_rng(check_seed(seed))


def _ranges_within(sizes: np.ndarray) -> np.ndarray:
    """0..s-1 for every s in ``sizes``, concatenated."""
    ends = np.cumsum(sizes)
    return np.arange(ends[-1]) - np.repeat(ends - sizes, sizes)
