"""Scores of redshift PDFs p(z) given on a grid: CRPS, credible intervals and their coverage,
and a calibration table (chapter C).

Every function takes p(z) as ``pz`` (N, Z), non-negative, on a strictly increasing ``z_grid``
(Z,); each row is normalised here (trapezoid rule), so unnormalised likelihoods are fine. The
CDF of a row is the one :func:`a3net.evaluation.pit` uses: the trapezoid integral of p(z) up to
each grid point, linear between grid points, 0 below the grid and 1 above it (all the
probability lies on the grid). CRPS, quantiles, intervals and PIT all read that same CDF, so
they agree with one another and with ``TemplateFitResult.percentile`` / ``.interval``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .regression import _floats, pit

__all__ = [
    "calibration_table",
    "crps",
    "interval_coverage",
    "pdf_intervals",
    "pdf_quantiles",
]


def _grid_and_pdf(z_grid, pz, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The checked grid (Z,) and p(z) (N, Z) as float64; ``n`` is the expected N if known."""
    grid, pz = _floats(z_grid, "z_grid"), _floats(pz, "pz")
    if grid.ndim != 1 or grid.size < 2 or not np.isfinite(grid).all() or np.any(np.diff(grid) <= 0):
        raise ValueError(
            "z_grid must be a strictly increasing 1-D redshift grid of at least 2 finite values."
        )
    rows = pz.shape[0] if pz.ndim == 2 else "N"
    if pz.ndim != 2 or pz.shape[1] != grid.size or pz.shape[0] == 0 or (n and rows != n):
        expected = f"({n if n else 'N'}, {grid.size})"
        raise ValueError(
            f"pz must have shape (N, Z) = {expected} to match "
            f"{'z_true and ' if n else ''}z_grid, got {pz.shape}."
        )
    if not np.isfinite(pz).all() or np.any(pz < 0):
        raise ValueError("pz must be finite and non-negative.")
    return grid, pz


def _cdf(grid: np.ndarray, pz: np.ndarray) -> np.ndarray:
    """CDF (N, Z) of every p(z) at the grid points: trapezoid integral, normalised to end at 1."""
    cdf = np.zeros_like(pz)
    cdf[:, 1:] = np.cumsum(0.5 * (pz[:, 1:] + pz[:, :-1]) * np.diff(grid), axis=1)
    total = cdf[:, -1:]
    if np.any(total <= 0):
        bad = int(np.flatnonzero(total[:, 0] <= 0)[0])
        raise ValueError(
            f"every p(z) must have positive integral over z_grid; row {bad} of pz is zero there."
        )
    return cdf / total


def _redshifts(z_true, name: str = "z_true") -> np.ndarray:
    t = np.ravel(_floats(z_true, name))
    if t.size == 0 or not np.isfinite(t).all():
        raise ValueError(f"{name} must hold at least one redshift and no NaN or infinite values.")
    return t


def crps(z_true, z_grid, pz) -> np.ndarray:
    """Continuous ranked probability score of every p(z), (N,), in units of z (lower is better).

    CRPS = integral over all z of (CDF(z) - H(z - z_true))**2 dz, with H the unit step: the
    integral of the squared distance between the predicted CDF and the CDF of the truth. It is
    computed exactly for the CDF described in the module (piecewise linear on the grid, 0 below
    and 1 above it) and the step at z_true: segment by segment, the integral of a linear
    function squared is ``h (a**2 + a b + b**2) / 3``. A point prediction z_p scores
    ``|z_p - z_true|``; a true redshift outside the grid adds its distance to the grid's end
    (the CDF is 0 or 1 there, and the step is the other), as the PIT puts it at 0 or 1.

    z_true (N,), z_grid (Z,) strictly increasing, pz (N, Z) non-negative (each row normalised
    here). NaN redshifts, negative or non-finite p(z) and rows of zero integral are refused.
    """
    t = _redshifts(z_true)
    grid, pz = _grid_and_pdf(z_grid, pz, t.size)
    cdf = _cdf(grid, pz)
    h = np.diff(grid)
    a, b = cdf[:, :-1], cdf[:, 1:]
    # Integral of F**2 over each segment, cumulated from the left end of the grid: below[:, k]
    # covers [z_0, z_k]; integral of (1 - F)**2 cumulated from the right: above[:, k] covers
    # [z_k, z_last].
    f2 = h * (a * a + a * b + b * b) / 3.0
    g2 = h * ((1 - a) ** 2 + (1 - a) * (1 - b) + (1 - b) ** 2) / 3.0
    zeros = np.zeros((t.size, 1))
    below = np.concatenate([zeros, np.cumsum(f2, axis=1)], axis=1)
    above = np.concatenate([np.cumsum(g2[:, ::-1], axis=1)[:, ::-1], zeros], axis=1)
    # The segment holding the (clipped) truth is split at it.
    tc = np.clip(t, grid[0], grid[-1])
    k = np.clip(np.searchsorted(grid, tc, side="right") - 1, 0, grid.size - 2)
    rows = np.arange(t.size)
    ak, bk = a[rows, k], b[rows, k]
    h1 = tc - grid[k]
    h2 = grid[k + 1] - tc
    c = ak + (bk - ak) * h1 / h[k]  # the CDF at the truth
    left = h1 * (ak * ak + ak * c + c * c) / 3.0
    right = h2 * ((1 - c) ** 2 + (1 - c) * (1 - bk) + (1 - bk) ** 2) / 3.0
    return below[rows, k] + left + right + above[rows, k + 1] + np.abs(t - tc)


def pdf_quantiles(z_grid, pz, q) -> np.ndarray:
    """Redshifts below which each p(z) holds fraction(s) ``q`` (scalar or (Q,) in [0, 1]): the
    inverse of the piecewise-linear CDF, shape (N,) for a scalar ``q``, (N, Q) otherwise.

    The same rule as ``TemplateFitResult.percentile`` (the first grid segment where the CDF
    reaches q, linear inside it), as a function of (z_grid (Z,), pz (N, Z)) for any p(z).
    """
    qs = np.atleast_1d(_floats(q, "q"))
    if qs.ndim != 1 or qs.size == 0 or not np.all((qs >= 0) & (qs <= 1)):
        raise ValueError(f"q must be a fraction (or 1-D array of fractions) in [0, 1], got {q}.")
    grid, pz = _grid_and_pdf(z_grid, pz)
    cdf = _cdf(grid, pz)
    rows = np.arange(len(cdf))
    out = np.empty((len(cdf), qs.size))
    for j, qj in enumerate(qs):  # a loop over the requested fractions, not over galaxies
        k = np.clip((cdf < qj).sum(axis=1), 1, grid.size - 1)
        c0, c1 = cdf[rows, k - 1], cdf[rows, k]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(c1 > c0, (qj - c0) / (c1 - c0), 0.0)
        out[:, j] = grid[k - 1] + np.clip(frac, 0, 1) * (grid[k] - grid[k - 1])
    return out[:, 0] if np.ndim(q) == 0 else out


def _level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.number)):
        raise TypeError(f"level must be a probability in (0, 1), got {level!r}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be a probability in (0, 1), got {level}.")
    return float(level)


def pdf_intervals(z_grid, pz, level: float = 0.68) -> tuple[np.ndarray, np.ndarray]:
    """Central credible interval (z_lo, z_hi), each (N,), holding ``level`` of every p(z): its
    (1 - level) / 2 and (1 + level) / 2 quantiles (:func:`pdf_quantiles`), as
    ``TemplateFitResult.interval`` gives them for a template fit."""
    level = _level(level)
    lo_hi = pdf_quantiles(z_grid, pz, [(1 - level) / 2, (1 + level) / 2])
    return lo_hi[:, 0], lo_hi[:, 1]


def interval_coverage(z_true, lo, hi) -> float:
    """Fraction of the true redshifts z_true (N,) inside their intervals [lo, hi] (each (N,),
    ends included). A calibrated 68% interval covers about 0.68 of the galaxies."""
    t = _redshifts(z_true)
    low, high = np.ravel(_floats(lo, "lo")), np.ravel(_floats(hi, "hi"))
    if low.shape != t.shape or high.shape != t.shape:
        raise ValueError(
            f"lo and hi must have the shape of z_true {t.shape}, got {low.shape} and {high.shape}."
        )
    if np.isnan(low).any() or np.isnan(high).any() or np.any(low > high):
        raise ValueError("lo and hi must hold no NaN and satisfy lo <= hi in every row.")
    return float(np.mean((t >= low) & (t <= high)))


def calibration_table(z_true, z_grid, pz, levels=(0.68, 0.95)) -> pd.Series:
    """How well calibrated N redshift PDFs are, as a Series of floats:

    ``coverage_<100 level>`` (e.g. ``coverage_68``): fraction of z_true inside the central
    credible interval at each of ``levels`` (:func:`pdf_intervals`), to compare with the level;
    ``crps_mean``: mean CRPS (:func:`crps`, units of z); ``pit_ks``: the Kolmogorov-Smirnov
    distance of the PIT values (:func:`a3net.evaluation.pit`) from the uniform distribution (0
    for perfect calibration; about 1 / sqrt(N) from noise alone); ``n``: the number of PDFs.
    """
    t = _redshifts(z_true)
    grid, pz = _grid_and_pdf(z_grid, pz, t.size)
    levels = [_level(lv) for lv in np.atleast_1d(np.asarray(levels, dtype=object))]
    out = {}
    for level in levels:
        lo, hi = pdf_intervals(grid, pz, level)
        out[f"coverage_{100 * level:g}"] = interval_coverage(t, lo, hi)
    out["crps_mean"] = float(np.mean(crps(t, grid, pz)))
    out["pit_ks"] = float(stats.kstest(pit(t, grid, pz), "uniform").statistic)
    out["n"] = float(t.size)
    return pd.Series(out, name="calibration")
