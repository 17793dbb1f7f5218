"""Metrics used across the chapters (NumPy in, floats or pandas objects out).

Every metric takes ``(y_true, y_pred, ...)`` in that order, as scikit-learn's do. Where
scikit-learn already has a metric, use it: ``sklearn.metrics.accuracy_score(y_true, y_pred)``,
``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(n_classes))``. This module
keeps only what scikit-learn lacks: RMSE per column, a labelled RMSE table, the accuracy of
the trivial majority-class classifier, and the photometric-redshift statistics of chapter C
(``dz = (z_phot - z_spec) / (1 + z_spec)``; sigma_NMAD, outlier fraction, bias, PIT).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ._validation import as_float_array


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
    return float(1.4826 * np.median(np.abs(dz - np.median(dz))))


def outlier_fraction(z_true, z_pred, threshold: float = OUTLIER_THRESHOLD) -> float:
    """Fraction of galaxies with ``|dz| > threshold`` (0.15 by convention)."""
    return float(np.mean(np.abs(normalized_residuals(z_true, z_pred)) > threshold))


def redshift_bias(z_true, z_pred) -> float:
    """Median of dz: the systematic offset of the photo-z."""
    return float(np.median(normalized_residuals(z_true, z_pred)))


def photoz_scores(z_true, z_pred) -> dict:
    """The photo-z summary of one method: sigma_NMAD, outlier fraction, bias (all in dz) and
    the plain regression errors MAE, RMSE (in z) and R2, as a dict of floats."""
    t, p = _redshift_pair(z_true, z_pred)
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
    means p(z) too narrow, a hump too wide."""
    grid = np.asarray(z_grid, dtype=float)
    pz = np.asarray(pz, dtype=float)
    t = np.ravel(np.asarray(z_true, dtype=float))
    if grid.ndim != 1 or np.any(np.diff(grid) <= 0):
        raise ValueError("z_grid must be a strictly increasing 1-D redshift grid.")
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


# Chapter F: how well can a ring's centre and radius be measured at all?


def _check_ring_widths(thickness, deformation):
    t = np.asarray(as_float_array(np.atleast_1d(thickness), "thickness"), np.float64)
    d = np.asarray(as_float_array(np.atleast_1d(deformation), "deformation"), np.float64)
    if np.any(t <= 0):
        raise ValueError("thickness must be positive (the Gaussian spot width, px).")
    if np.any(d < 0):
        raise ValueError("deformation must be non-negative (the half-width d of U(-d, d), px).")
    try:
        return np.broadcast_arrays(t, d)
    except ValueError:
        raise ValueError(
            f"thickness and deformation must broadcast together, got shapes {t.shape} and "
            f"{d.shape}."
        ) from None


def ring_fisher_information(thickness, deformation, *, n_points: int = 2001) -> np.ndarray:
    """Fisher information [px^-2] of one hit's radial position about the ring radius.

    A hit lands at radius R + U(-d, d) (``deformation`` d, px) blurred by a Gaussian of sd t
    (``thickness``, px), so its offset r from R has the density
    p(r) = [Phi((r + d) / t) - Phi((r - d) / t)] / (2 d), and I = integral p'(r)^2 / p(r) dr,
    integrated numerically (to better than 0.1%) on grids that resolve the two edges at +-d.
    Broadcasts over arrays of t and d; returns float64 of the broadcast shape. Limits: d = 0 gives
    the Gaussian 1 / t^2; t << d gives about 0.903 / (t d) (a sharp-edged uniform density carries
    unbounded information). For comparison the variance is t^2 + d^2 / 3.
    """
    t, d = _check_ring_widths(thickness, deformation)
    shape = np.broadcast_shapes(np.shape(thickness), np.shape(deformation))
    t, d = t.ravel(), d.ravel()
    # p is even in r: integrate over r >= 0 and double. Grid A covers the flat top [0, d - 10 t],
    # grid B the edge [max(d - 10 t, 0), d + 10 t], both with n_points nodes per element.
    s = np.linspace(0.0, 1.0, n_points)
    edge = np.maximum(d - 10 * t, 0.0)
    r = np.concatenate(
        [edge[:, None] * s, edge[:, None] + (d + 10 * t - edge)[:, None] * s], axis=1
    )
    tt, dd = t[:, None], d[:, None]
    gauss = dd < 1e-6 * tt
    dd = np.where(gauss, 1.0, dd)  # d ~ 0 would divide 0 by 0: those rows get 1 / t^2 below
    # Upper-tail form Q(z) = ndtr(-z) keeps p accurate far in the tails (no 1 - 1 cancellation).
    p = (ndtr(-(r - dd) / tt) - ndtr(-(r + dd) / tt)) / (2 * dd)
    dp = (np.exp(-0.5 * ((r + dd) / tt) ** 2) - np.exp(-0.5 * ((r - dd) / tt) ** 2)) / (
        2 * dd * tt * np.sqrt(2 * np.pi)
    )
    integrand = np.divide(dp**2, p, out=np.zeros_like(p), where=p > 0)
    info = 2 * np.trapezoid(integrand, r, axis=1)
    info = np.where(gauss[:, 0], 1.0 / t**2, info)
    return info.reshape(shape)


def circle_cramer_rao(photons, thickness, deformation) -> pd.DataFrame:
    """Cramer-Rao lower bounds [px] on the standard deviations of a ring's centre and radius.

    For N = ``photons`` hits at uniform azimuth phi_k, each at radial offset r_k from the circle
    with density p (see ``ring_fisher_information``: Fisher information I per hit), the hit's
    log-likelihood depends on (x0, y0, R) through r_k = |hit_k - (x0, y0)| - R, whose gradient is
    -(cos phi_k, sin phi_k, 1). The information matrix is therefore
    F = I sum_k (cos phi_k, sin phi_k, 1) (cos phi_k, sin phi_k, 1)^T, whose average over uniform
    azimuths is N I diag(1/2, 1/2, 1): var(x0) = var(y0) = 2 / (N I) and var(R) = 1 / (N I).

    This bounds an estimator that sees the hit positions with resolution t (``thickness``);
    noise hits and pixelisation are ignored, so a fit to pixel images can only do worse. Inputs
    broadcast together; returns a DataFrame (one row per element) with columns x, y, radius.
    """
    n = np.asarray(as_float_array(np.atleast_1d(photons), "photons"), np.float64)
    if np.any(n <= 0):
        raise ValueError("photons must be positive (the number of hits on the ring).")
    info = ring_fisher_information(thickness, deformation)
    try:
        n, info = np.broadcast_arrays(n, info)
    except ValueError:
        raise ValueError(
            f"photons, thickness and deformation must broadcast together, got shapes "
            f"{np.shape(photons)}, {np.shape(thickness)} and {np.shape(deformation)}."
        ) from None
    centre = np.sqrt(2.0 / (n * info)).ravel()
    return pd.DataFrame({"x": centre, "y": centre, "radius": np.sqrt(1.0 / (n * info)).ravel()})
