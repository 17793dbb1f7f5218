"""Regression and photometric-redshift scores (NumPy in, floats or pandas objects out).

Every score takes ``(y_true, y_pred, ...)`` in that order, as scikit-learn's do. Where
scikit-learn already has a metric, use it: ``sklearn.metrics.accuracy_score(y_true, y_pred)``,
``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(n_classes))``. This module keeps
what scikit-learn lacks: RMSE per column, a labelled RMSE table, the accuracy of the trivial
majority-class classifier, the photo-z statistics of chapter C
(``dz = (z_phot - z_spec) / (1 + z_spec)``: sigma_NMAD, outlier fraction, bias, PIT) and the
per-parameter scores of the cosmological parameters of chapters E and H.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_float_array

__all__ = [
    "NMAD",
    "OUTLIER_THRESHOLD",
    "majority_accuracy",
    "normalized_residuals",
    "outlier_fraction",
    "parameter_scores",
    "photoz_scores",
    "pit",
    "r2_per_parameter",
    "redshift_bias",
    "rmse",
    "rmse_table",
    "sigma_nmad",
]


def _pair(y_true, y_pred):
    t = as_float_array(y_true, "y_true")
    p = as_float_array(y_pred, "y_pred")
    if p.shape != t.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {t.shape} and {p.shape}."
        )
    return t, p


def rmse(y_true, y_pred, axis=0):
    """Root-mean-square error along ``axis``: per column of (N, K) arrays by default (K,),
    in the units of the targets; ``axis=None`` gives one float over all entries."""
    t, p = _pair(y_true, y_pred)
    return np.sqrt(np.mean((p - t) ** 2, axis=axis))


def rmse_table(y_true, y_pred, names) -> pd.Series:
    """RMSE of every column of (N, K) targets and predictions, as a Series indexed by ``names``
    (K labels)."""
    t, p = _pair(y_true, y_pred)
    if t.ndim != 2 or t.shape[1] != len(names):
        raise ValueError(
            f"y_true and y_pred must have shape (N, {len(names)}) to match names, got {t.shape}."
        )
    return pd.Series(rmse(t, p), index=list(names), name="rmse")


def majority_accuracy(y_train, y_test) -> float:
    """Accuracy on ``y_test`` (N,) of always predicting the most frequent class of ``y_train``:
    the trivial classifier that a real one must beat."""
    train, test = np.asarray(y_train), np.asarray(y_test)
    if train.ndim != 1 or test.ndim != 1 or not train.size or not test.size:
        raise ValueError(
            f"y_train and y_test must be non-empty 1-D label arrays, got shapes {train.shape} "
            f"and {test.shape}."
        )
    values, counts = np.unique(train, return_counts=True)
    return float(np.mean(test == values[np.argmax(counts)]))


NMAD = 1.4826  # makes the median absolute deviation the sd of a Gaussian
OUTLIER_THRESHOLD = 0.15  # |dz| above which a photo-z is a catastrophic outlier


def _redshift_pair(z_true, z_pred):
    t, p = _pair(np.ravel(z_true), np.ravel(z_pred))
    if np.any(t <= -1):
        raise ValueError("z_true must be above -1 (redshifts, with 1 + z > 0).")
    return t, p


def normalized_residuals(z_true, z_pred) -> np.ndarray:
    """``dz = (z_pred - z_true) / (1 + z_true)`` for (N,) redshifts: the photo-z error that
    sigma_NMAD, outlier fraction and bias summarise."""
    t, p = _redshift_pair(z_true, z_pred)
    return (p - t) / (1.0 + t)


def sigma_nmad(z_true, z_pred) -> float:
    """Normalised median absolute deviation, ``1.4826 median(|dz - median(dz)|)``: the
    Gaussian-equivalent scatter of dz, insensitive to catastrophic outliers."""
    dz = normalized_residuals(z_true, z_pred)
    return float(NMAD * np.median(np.abs(dz - np.median(dz))))


def outlier_fraction(z_true, z_pred, threshold: float = OUTLIER_THRESHOLD) -> float:
    """Fraction of galaxies with ``|dz| > threshold`` (0.15 by convention)."""
    return float(np.mean(np.abs(normalized_residuals(z_true, z_pred)) > threshold))


def redshift_bias(z_true, z_pred) -> float:
    """Median of dz: the systematic offset of the photo-z."""
    return float(np.median(normalized_residuals(z_true, z_pred)))


def _check_spread(t: np.ndarray, name: str, columns=None) -> None:
    """ValueError unless ``t`` (N,) or (N, P) has at least 2 rows and varies in every column:
    R^2 divides by the variance of the truth, undefined otherwise."""
    if len(t) < 2:
        raise ValueError(f"{name} has {len(t)} sample; R^2 needs at least 2 samples.")
    flat = t.reshape(len(t), -1)
    constant = np.flatnonzero(np.ptp(flat, axis=0) == 0)
    if constant.size:
        which = columns[constant[0]] if columns is not None else f"column {constant[0]}"
        raise ValueError(
            f"{name} is constant in {which}: R^2 (1 - MSE / variance of the truth) is undefined; "
            "score it on samples whose true values vary."
        )


def photoz_scores(z_true, z_pred) -> dict:
    """The photo-z summary of one method: sigma_NMAD, outlier fraction, bias (all in dz) and
    the plain regression errors MAE, RMSE (in z) and R2, as a dict of floats.

    Needs at least 2 galaxies whose true redshifts are not all equal (R2 is undefined
    otherwise: ValueError); NaN or infinite redshifts are refused."""
    t, p = _redshift_pair(z_true, z_pred)
    _check_spread(t, "z_true")
    resid = p - t
    return {
        "sigma_nmad": sigma_nmad(t, p),
        "outlier_fraction": outlier_fraction(t, p),
        "bias": redshift_bias(t, p),
        "mae": float(np.mean(np.abs(resid))),
        "rmse": float(np.sqrt(np.mean(resid**2))),
        "r2": float(1.0 - np.sum(resid**2) / np.sum((t - t.mean()) ** 2)),
    }


def pit(z_true, z_grid, pz) -> np.ndarray:
    """Probability integral transform: the CDF of each p(z) (N, Z) on ``z_grid`` (Z,) at the true
    redshift, (N,). Calibrated p(z) give PIT values uniform on [0, 1]: a U-shaped histogram
    means p(z) too narrow, a hump too wide. A true redshift below the grid gives 0, above it 1
    (the whole p(z) lies on one side); NaN redshifts are refused."""
    grid, pz = _floats(z_grid, "z_grid"), _floats(pz, "pz")
    t = np.ravel(_floats(z_true, "z_true"))
    if grid.ndim != 1 or grid.size < 2 or not np.isfinite(grid).all() or np.any(np.diff(grid) <= 0):
        raise ValueError(
            "z_grid must be a strictly increasing 1-D redshift grid of at least 2 finite values."
        )
    if t.size == 0 or not np.isfinite(t).all():
        raise ValueError("z_true must hold at least one redshift and no NaN or infinite values.")
    if pz.shape != (t.size, grid.size):
        raise ValueError(
            f"pz must have shape (N, Z) = ({t.size}, {grid.size}) to match z_true and z_grid, "
            f"got {pz.shape}."
        )
    if not np.isfinite(pz).all() or np.any(pz < 0):
        raise ValueError("pz must be finite and non-negative.")
    steps = 0.5 * (pz[:, 1:] + pz[:, :-1]) * np.diff(grid)
    cdf = np.concatenate([np.zeros((t.size, 1)), np.cumsum(steps, axis=1)], axis=1)
    total = cdf[:, -1:]
    if np.any(total <= 0):
        raise ValueError("every p(z) must have positive integral over z_grid.")
    cdf = cdf / total
    rows = np.arange(t.size)
    idx = np.clip(np.searchsorted(grid, t) - 1, 0, grid.size - 2)
    frac = np.clip((t - grid[idx]) / (grid[idx + 1] - grid[idx]), 0.0, 1.0)
    return cdf[rows, idx] + frac * (cdf[rows, idx + 1] - cdf[rows, idx])


def _floats(value, name: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}.") from None


def r2_per_parameter(y_true, y_pred) -> np.ndarray:
    """Coefficient of determination of every column of (N, P) arrays, (P,).

    Needs at least 2 samples and a truth that varies in every column (R^2 divides by its
    variance): ValueError otherwise, as for NaN or infinite values."""
    t, p = (a.astype(np.float64) for a in _pair(y_true, y_pred))
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    _check_spread(t, "y_true")
    return 1 - ((p - t) ** 2).mean(axis=0) / t.var(axis=0)


def parameter_scores(y_true, y_pred, names) -> pd.DataFrame:
    """One row per parameter: R2, RMSE, mean relative error |pred - true| / true and bias
    (mean of pred - true), for (N, P) arrays in physical units.

    Needs at least 2 samples, a truth that varies in every column (for R2) and no true value
    of 0 (for the relative error): ValueError otherwise."""
    t, p = (a.astype(np.float64) for a in _pair(y_true, y_pred))
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    if isinstance(names, str):
        names = [names]
    try:
        names = list(names)
    except TypeError:
        raise TypeError(f"names must be a list of parameter names, got {names!r}.") from None
    if len(names) != t.shape[1]:
        raise ValueError(f"names must give one name per column ({t.shape[1]}), got {names}.")
    _check_spread(t, "y_true", names)
    zero = np.flatnonzero((t == 0).any(axis=0))
    if zero.size:
        raise ValueError(
            f"y_true has true values of 0 for {names[zero[0]]}, where the relative error is "
            "undefined; score parameters in units where they are nonzero."
        )
    return pd.DataFrame(
        {
            "R2": r2_per_parameter(t, p),
            "RMSE": np.sqrt(((p - t) ** 2).mean(axis=0)),
            "relative error": (np.abs(p - t) / np.abs(t)).mean(axis=0),
            "bias": (p - t).mean(axis=0),
        },
        index=pd.Index(names, name="parameter"),
    )
