"""Comparison tables of regressors with scikit-learn: a cross-validated table of photo-z and
regression scores with fit and predict times (what hack C built with PyCaret)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold

from .._validation import check_seed
from .regression import photoz_scores

__all__ = ["SCORE_COLUMNS", "compare_regressors", "scores_row"]

SCORE_COLUMNS = ("MAE", "MSE", "RMSE", "R2", "sigma_NMAD", "outlier_fraction", "bias")


def scores_row(z_true, z_pred) -> dict:
    """The comparison table's columns for one set of predictions (N,) against truth (N,)."""
    s = photoz_scores(z_true, z_pred)
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
    seed = check_seed(seed)
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
