"""Chapters D and G: scores of galaxy-cluster mass estimates from the residuals
r = log10 M_pred - log10 M_true [dex]: bias, scatter (dex and percent), their run with mass."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_float_array
from .regression import NMAD

__all__ = ["binned_bias", "mass_bias_scatter"]


def _log_mass_residuals(log_m_true, log_m_pred) -> tuple[np.ndarray, np.ndarray]:
    """(true, residual pred - true) as float64 (N,); (N, 1) columns (``predict``) are flattened."""
    arrays = []
    for value, name in ((log_m_true, "log_m_true"), (log_m_pred, "log_m_pred")):
        as_float_array(np.ravel(value), name)  # the checks: numeric, non-empty, finite
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array of log10 masses (N,) or a column (N, 1), got shape "
                f"{arr.shape}."
            )
        arrays.append(arr)
    t, p = arrays
    if len(t) != len(p):
        raise ValueError(
            f"log_m_true and log_m_pred must have the same length, got {len(t)} and {len(p)}."
        )
    return t, p - t


def _residual_stats(r: np.ndarray) -> dict:
    med = float(np.median(r))
    return {
        "bias_dex": med,
        "mean_bias_dex": float(np.mean(r)),
        "scatter_dex": float(np.std(r)),
        "robust_scatter_dex": float(NMAD * np.median(np.abs(r - med))),
    }


def mass_bias_scatter(log_m_true, log_m_pred) -> dict:
    """Bias and scatter of log10 mass estimates, residuals r = log_m_pred - log_m_true [dex].

    Returns a dict of floats: ``n``; ``bias_dex`` = median(r) (the -0.02 dex of Ntampaka et al.
    2019); ``mean_bias_dex`` = mean(r); ``scatter_dex`` = sd(r) (population sd, ddof=0);
    ``scatter_percent`` = 100 ln(10) sd(r), the sd of ln M, i.e. of the fractional mass error
    dM / M to first order, the percentage that cluster papers quote (Ntampaka et al.'s 12%;
    10**sd - 1 would give 0.6 points more at 0.05 dex); ``robust_scatter_dex`` =
    1.4826 median(|r - median(r)|) (NMAD, insensitive to outliers); ``mse`` = mean(r^2), the
    "loss" the hack reported. Inputs: (N,) arrays or (N, 1) columns, finite, the same length.
    """
    _, r = _log_mass_residuals(log_m_true, log_m_pred)
    stats = _residual_stats(r)
    return {
        "n": int(r.size),
        "bias_dex": stats["bias_dex"],
        "mean_bias_dex": stats["mean_bias_dex"],
        "scatter_dex": stats["scatter_dex"],
        "scatter_percent": float(100 * np.log(10) * stats["scatter_dex"]),
        "robust_scatter_dex": stats["robust_scatter_dex"],
        "mse": float(np.mean(r**2)),
    }


def binned_bias(log_m_true, log_m_pred, edges) -> pd.DataFrame:
    """Bias and scatter of the residuals r = log_m_pred - log_m_true [dex] in bins of the TRUE
    mass: one row per bin [edges[k], edges[k+1]) (the last bin includes its upper edge), with
    columns ``lo``, ``hi``, ``n``, ``bias_dex`` (median r), ``mean_bias_dex``, ``scatter_dex``
    (sd of r) and ``robust_scatter_dex`` (NMAD); NaN where a bin is empty. Masses outside the
    edges are left out. A slope of ``bias_dex`` with mass is the regression to the mean that
    hack G saw at the high-mass end."""
    t, r = _log_mass_residuals(log_m_true, log_m_pred)
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or not np.isfinite(e).all() or np.any(np.diff(e) <= 0):
        raise ValueError(
            f"edges must be at least 2 finite, strictly increasing log10 masses, got {edges!r}."
        )
    k = np.searchsorted(e, t, side="right") - 1
    k[t == e[-1]] = e.size - 2
    rows = []
    for b in range(e.size - 1):
        rb = r[k == b]
        stats = _residual_stats(rb) if rb.size else dict.fromkeys(_residual_stats(r), np.nan)
        rows.append({"lo": e[b], "hi": e[b + 1], "n": int(rb.size), **stats})
    return pd.DataFrame(rows)
