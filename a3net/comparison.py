"""Comparing regressors with scikit-learn: a cross-validated table of photo-z and regression
scores with fit and predict times (what the hack built with PyCaret), and paired bootstrap
margins, so that "A beats B" comes with its noise.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold

from . import metrics

SCORE_COLUMNS = ("MAE", "MSE", "RMSE", "R2", "sigma_NMAD", "outlier_fraction", "bias")


def scores_row(z_true, z_pred) -> dict:
    """The comparison table's columns for one set of predictions (N,) against truth (N,)."""
    s = metrics.photoz_scores(z_true, z_pred)
    return {
        "MAE": s["mae"],
        "MSE": s["rmse"] ** 2,
        "RMSE": s["rmse"],
        "R2": s["r2"],
        "sigma_NMAD": s["sigma_nmad"],
        "outlier_fraction": s["outlier_fraction"],
        "bias": s["bias"],
    }


def _check_xy(X, y):
    n = len(X)
    y = np.asarray(y, dtype=float).ravel()
    if y.shape != (n,):
        raise ValueError(f"y must have one value per row of X ({n}), got shape {y.shape}.")
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinite values; drop those rows first.")
    return y


def _rows(X, idx):
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


def compare_regressors(
    models: dict, X, y, *, cv: int = 3, seed: int = 0, max_train: dict | None = None
) -> pd.DataFrame:
    """Cross-validate every estimator of ``models`` ({name: unfitted estimator}) on ``X`` (N, F)
    and ``y`` (N,) with the same ``cv`` shuffled folds; one row per model with the mean of each
    score over folds, its spread (``<score>_std``), and mean ``fit_s`` / ``predict_s`` [s].
    ``max_train`` ({name: n}) caps a slow model's training rows per fold (e.g. SVR).
    Sorted by MAE, as PyCaret's table is."""
    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict {name: scikit-learn estimator}.")
    y = _check_xy(X, y)
    if not isinstance(cv, int) or not 2 <= cv <= len(y):
        raise ValueError(f"cv must be an integer number of folds in [2, {len(y)}], got {cv!r}.")
    folds = list(KFold(cv, shuffle=True, random_state=seed).split(np.arange(len(y))))
    rng = np.random.default_rng(seed)
    rows = []
    for name, estimator in models.items():
        per_fold = []
        for train, test in folds:
            cap = (max_train or {}).get(name)
            if cap is not None and len(train) > cap:
                train = np.sort(rng.choice(train, cap, replace=False))
            model = clone(estimator)
            start = time.perf_counter()
            model.fit(_rows(X, train), y[train])
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred = model.predict(_rows(X, test))
            predict_s = time.perf_counter() - start
            per_fold.append({**scores_row(y[test], pred), "fit_s": fit_s, "predict_s": predict_s})
        frame = pd.DataFrame(per_fold)
        row = {"model": name, **frame.mean().to_dict()}
        row.update({f"{c}_std": frame[c].std(ddof=1) for c in SCORE_COLUMNS})
        rows.append(row)
    return pd.DataFrame(rows).set_index("model").sort_values("MAE")


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
