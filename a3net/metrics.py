"""Metrics used across the chapters (NumPy in, floats or pandas objects out).

Every metric takes ``(y_true, y_pred, ...)`` in that order, as scikit-learn's do. Where
scikit-learn already has a metric, use it: ``sklearn.metrics.accuracy_score(y_true, y_pred)``,
``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(n_classes))``. This module
keeps only what scikit-learn lacks: RMSE per column, a labelled RMSE table, the accuracy of
the trivial majority-class classifier, and the photometric-redshift statistics of chapter C
(``dz = (z_phot - z_spec) / (1 + z_spec)``; sigma_NMAD, outlier fraction, bias, PIT), the
cluster-mass and cosmological-parameter scores of chapters D, E, G and H, and the
cross-correlation redshift and r-value of spectra against templates (Tonry & Davis 1979).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage
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


# Chapters D and G: galaxy-cluster masses, residuals r = log10 M_pred - log10 M_true [dex].

NMAD = 1.4826  # makes the median absolute deviation the sd of a Gaussian


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


def r2_per_parameter(y_true, y_pred) -> np.ndarray:
    """Coefficient of determination of every column of (N, P) arrays, (P,)."""
    t, p = (a.astype(np.float64) for a in _pair(y_true, y_pred))
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    return 1 - ((p - t) ** 2).mean(axis=0) / t.var(axis=0)


def parameter_scores(y_true, y_pred, names) -> pd.DataFrame:
    """One row per parameter: R2, RMSE, mean relative error |pred - true| / true and bias
    (mean of pred - true), for (N, P) arrays in physical units."""
    t, p = (a.astype(np.float64) for a in _pair(y_true, y_pred))
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    names = list(names)
    if len(names) != t.shape[1]:
        raise ValueError(f"names must give one name per column ({t.shape[1]}), got {names}.")
    return pd.DataFrame(
        {
            "R2": r2_per_parameter(t, p),
            "RMSE": np.sqrt(((p - t) ** 2).mean(axis=0)),
            "relative error": (np.abs(p - t) / np.abs(t)).mean(axis=0),
            "bias": (p - t).mean(axis=0),
        },
        index=pd.Index(names, name="parameter"),
    )


# ----------------------------------------------------------------------------- spectra (A/B)


class CrossCorrelation(NamedTuple):
    """Result of :func:`xcorr_redshift`: redshift, Tonry & Davis r-value, normalised peak height
    and the lag of the peak [pixels of the log-lambda grid]."""

    z: float
    r: float
    peak: float
    lag: float


def _log_grid_step(loglam: np.ndarray, name: str) -> float:
    if loglam.ndim != 1 or loglam.size < 16 or not np.all(np.isfinite(loglam)):
        raise ValueError(f"{name} must be a finite 1-D log10(lambda) grid of 16 or more pixels.")
    step = np.diff(loglam)
    if np.any(step <= 0):
        raise ValueError(f"{name} must increase; sort the spectrum by wavelength first.")
    if np.ptp(step) > 0.02 * step.mean():  # float32 grids jitter by about 0.2%
        raise ValueError(
            f"{name} must be evenly spaced in log10(lambda) (steps from {step.min():.3g} to "
            f"{step.max():.3g}); resample it onto a log-lambda grid first."
        )
    return float(step.mean())


def _flatten(flux: np.ndarray, good: np.ndarray, width: int) -> np.ndarray:
    """Flux minus its running-median continuum, zero where not ``good``, tapered at both ends
    and scaled to unit rms: the input of the cross-correlation."""
    idx = np.arange(flux.size)
    filled = np.interp(idx, idx[good], flux[good]) if good.any() else np.zeros_like(flux)
    line = filled - ndimage.median_filter(filled, size=width, mode="nearest")
    line[~good] = 0.0
    taper = max(1, flux.size // 20)
    window = np.ones(flux.size)
    ramp = 0.5 * (1 - np.cos(np.pi * np.arange(taper) / taper))
    window[:taper], window[-taper:] = ramp, ramp[::-1]
    line *= window
    rms = np.sqrt(np.mean(line**2))
    return line / rms if rms > 0 else line


def xcorr_redshift(
    loglam,
    flux,
    template_loglam,
    template_flux,
    *,
    ivar=None,
    z_template: float = 0.0,
    z_range=(-0.01, 1.0),
    continuum_width: int = 151,
) -> CrossCorrelation:
    """Redshift of a spectrum by cross-correlation with a template (Tonry & Davis 1979).

    Both are on log10(lambda) grids [A] with the same step (SDSS: 1e-4). Each is reduced to its
    lines (flux minus a running median over ``continuum_width`` pixels, masked where ``ivar`` is
    0, tapered, unit rms); a redshift is a shift of the lines along log lambda. The peak of the
    cross-correlation within ``z_range`` is refined by a parabola through its three highest
    points. r = h / (sqrt(2) sigma_a): h is the normalised peak height and sigma_a the rms of
    the antisymmetric part of the correlation about the peak; r above about 3 marks a reliable
    match. ``z_template`` is the template's own redshift (spDR2 headers: Z).
    """
    loglam = np.asarray(loglam, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    t_loglam = np.asarray(template_loglam, dtype=np.float64)
    t_flux = np.asarray(template_flux, dtype=np.float64)
    step = _log_grid_step(loglam, "loglam")
    t_step = _log_grid_step(t_loglam, "template_loglam")
    if abs(step - t_step) > 1e-3 * step:
        raise ValueError(
            f"the spectrum's log-lambda step ({step:.4g}) and the template's ({t_step:.4g}) "
            "differ; resample one onto the other's step first."
        )
    if flux.shape != loglam.shape or t_flux.shape != t_loglam.shape:
        raise ValueError("flux and loglam (and template_flux and template_loglam) must match.")
    ivar = np.ones_like(flux) if ivar is None else np.asarray(ivar, dtype=np.float64)
    if ivar.shape != flux.shape:
        raise ValueError(f"ivar must have the shape of flux {flux.shape}, got {ivar.shape}.")
    good = (ivar > 0) & np.isfinite(flux)
    if good.sum() < 16:
        raise ValueError("the spectrum has fewer than 16 pixels with ivar > 0; nothing to fit.")
    g = _flatten(flux, good, continuum_width)
    t = _flatten(t_flux, np.isfinite(t_flux), continuum_width)
    n = g.size + t.size
    corr = np.fft.irfft(np.fft.rfft(g, n) * np.conj(np.fft.rfft(t, n)), n) / g.size
    lags = np.arange(n)
    lags[lags >= g.size] -= n  # corr[m] = sum_j g[j + m] t[j]
    # log10(1 + z) = loglam[0] - template_loglam[0] + m * step + log10(1 + z_template)
    offset = loglam[0] - t_loglam[0] + np.log10(1 + z_template)
    lo, hi = (np.log10(1 + np.asarray(z_range, dtype=float)) - offset) / step
    allowed = (lags >= lo) & (lags <= hi)
    if not allowed.any():
        raise ValueError(f"z_range {tuple(z_range)} leaves no overlap of spectrum and template.")
    best = np.flatnonzero(allowed)[np.argmax(corr[allowed])]
    lag = float(lags[best])
    left, mid, right = corr[best - 1], corr[best], corr[(best + 1) % n]
    curvature = left - 2 * mid + right
    if curvature < 0:
        lag += 0.5 * (left - right) / curvature
    half = min(200, g.size // 4)
    around = (best + np.arange(1, half)) % n, (best - np.arange(1, half)) % n
    sigma_a = np.sqrt(np.mean((corr[around[0]] - corr[around[1]]) ** 2) / 2)
    z = 10 ** (offset + lag * step) - 1
    return CrossCorrelation(float(z), float(mid / (np.sqrt(2) * sigma_a)), float(mid), lag)


def best_template_redshift(loglam, flux, templates, *, ivar=None, z_range=(-0.01, 1.0)):
    """:func:`xcorr_redshift` against every template of ``templates`` (a dict name ->
    (template_loglam, template_flux, z_template)); a DataFrame sorted by r, best first."""
    if not templates:
        raise ValueError("templates is empty; pass name -> (loglam, flux, z_template).")
    rows = {
        name: xcorr_redshift(
            loglam, flux, t_loglam, t_flux, ivar=ivar, z_template=z_t, z_range=z_range
        )._asdict()
        for name, (t_loglam, t_flux, z_t) in templates.items()
    }
    return pd.DataFrame(rows).T.sort_values("r", ascending=False)


DN4000_BLUE = (3850.0, 3950.0)
DN4000_RED = (4000.0, 4100.0)


def dn4000(loglam, flux, *, ivar=None) -> np.ndarray:
    """The narrow 4000 A break (Balogh et al. 1999) of rest-frame spectra, (N,) float64.

    Dn4000 = <f_nu> over 4000-4100 A / <f_nu> over 3850-3950 A, with f_nu proportional to
    f_lambda lambda^2 and each mean the flux-conserving average over the band (pixels are
    intervals with edges halfway between the centres ``loglam`` = log10(lambda/A), (L,) or
    (N, L)). ``flux`` (N, L) or (L,) f_lambda; pixels with ``ivar`` 0 are left out. It rises from
    about 1.0-1.3 in young, star-forming populations to 1.8-2.2 in old, metal-rich ones.
    """
    from .data.spectra_prep import _flux_ivar, _grid, _pixel_edges, band_means

    f = np.asarray(flux, dtype=np.float64)
    f = f[None] if f.ndim == 1 else f
    iv = np.ones_like(f) if ivar is None else ivar
    f, iv = _flux_ivar(f, iv)
    grid = _grid(loglam, f.shape[0])
    if grid.shape[-1] != f.shape[1]:
        raise ValueError(
            f"loglam has {grid.shape[-1]} pixels but flux has {f.shape[1]}; they must match."
        )
    edges = _pixel_edges(grid)
    if np.any(edges[..., 0] > np.log10(DN4000_BLUE[0])) or np.any(
        edges[..., -1] < np.log10(DN4000_RED[1])
    ):
        raise ValueError(
            "loglam must cover 3850-4100 A in the rest frame for Dn4000; shift the spectra "
            "to the rest frame first (a3net.data.spectra_prep.to_rest_frame)."
        )
    lam = 10.0 ** np.broadcast_to(grid, f.shape)
    fnu = f * lam**2
    q = np.where(iv > 0, 1.0, 0.0)
    band_edges = np.log10([DN4000_BLUE[0], DN4000_BLUE[1], DN4000_RED[0], DN4000_RED[1]])
    mean, covered, _ = band_means(grid, fnu, q, band_edges)
    if np.any(covered[:, [0, 2]] <= 0):
        raise ValueError("some spectra have no pixel with ivar > 0 in a Dn4000 band.")
    return mean[:, 2] / mean[:, 0]


# ----------------------------------------------------------------------------- Frechet distance


def _features(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (N, D) (one feature vector per row), got {arr.shape}."
        )
    if arr.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples for a covariance, got {arr.shape[0]}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop those samples first.")
    return arr


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via eigh (negative eigenvalues
    from round-off clipped to 0)."""
    vals, vecs = np.linalg.eigh(0.5 * (c + c.T))
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def frechet_gaussian(mu_a, cov_a, mu_b, cov_b) -> float:
    """Frechet (2-Wasserstein squared) distance of two Gaussians:
    |mu_a - mu_b|^2 + Tr(Ca + Cb - 2 (Ca^1/2 Cb Ca^1/2)^1/2).

    The symmetric form (Ca^1/2 Cb Ca^1/2)^1/2 has the trace of (Ca Cb)^1/2 but is symmetric, so
    its eigenvalues come from eigh and tiny negative ones (round-off) are clipped; sqrtm of the
    non-symmetric product is unstable for near-singular covariances."""
    mu_a, mu_b = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (mu_a, mu_b))
    ca, cb = (np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in (cov_a, cov_b))
    d = mu_a.size
    if mu_b.shape != (d,) or ca.shape != (d, d) or cb.shape != (d, d):
        raise ValueError(
            f"means and covariances must have shapes (D,) and (D, D) with one D, got "
            f"{mu_a.shape}, {ca.shape}, {mu_b.shape}, {cb.shape}."
        )
    root = _sqrt_psd(ca)
    middle = root @ cb @ root
    eig = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    trace_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    value = ((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * trace_sqrt
    return float(max(value, 0.0))


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance (as FID, Heusel et al. 2017) between two sets of feature vectors (Na, D)
    and (Nb, D): that of the Gaussians with the sets' means and covariances
    (:func:`frechet_gaussian`). 0 for identical sets; symmetric; in squared feature units.

    It is biased upwards by the finite sample sizes (roughly proportional to 1/Na + 1/Nb): compare
    scores only between sets of equal sizes, against :meth:`FrechetScore.floor`."""
    a = _features(features_a, "features_a")
    b = _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features_a and features_b must have the same number of features, got "
            f"{a.shape[1]} and {b.shape[1]}."
        )
    return frechet_gaussian(
        a.mean(axis=0), np.cov(a, rowvar=False), b.mean(axis=0), np.cov(b, rowvar=False)
    )


class SpectrumFeatures:
    """A fixed feature space for spectra: the first ``n_components`` principal components of
    real training spectra (N, B).

    ``fit(x)`` learns the mean and the components (eigenvectors of the covariance, signs fixed
    so that each component's largest loading is positive: the same data give the same
    features). ``transform(x)`` -> (N, n_components) float64 coefficients, divided by the
    component's standard deviation in the training set when ``whiten`` (the default: every
    component then counts equally in a Frechet distance, instead of the first one, the overall
    slope, dominating it)."""

    def __init__(self, n_components: int = 16, *, whiten: bool = True):
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
            raise TypeError(f"n_components must be a whole number, got {n_components!r}.")
        if n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}.")
        self.n_components = int(n_components)
        self.whiten = bool(whiten)

    def fit(self, x) -> SpectrumFeatures:
        x = _features(x, "x")
        if self.n_components > min(x.shape):
            raise ValueError(
                f"n_components ({self.n_components}) must not exceed the number of spectra or "
                f"bins of x {x.shape}."
            )
        self.mean_ = x.mean(axis=0)
        vals, vecs = np.linalg.eigh(np.cov(x, rowvar=False))
        order = np.argsort(vals)[::-1][: self.n_components]
        comps = vecs[:, order].T
        sign = np.sign(comps[np.arange(comps.shape[0]), np.abs(comps).argmax(axis=1)])
        self.components_ = comps * sign[:, None]
        self.explained_variance_ = np.clip(vals[order], 0, None)
        self.scale_ = (
            np.sqrt(np.where(self.explained_variance_ > 0, self.explained_variance_, 1.0))
            if self.whiten
            else np.ones(self.n_components)
        )
        return self

    def transform(self, x) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise ValueError("SpectrumFeatures is not fitted; call fit(real_spectra) first.")
        x = _features(x, "x")
        if x.shape[1] != self.mean_.size:
            raise ValueError(
                f"x must have {self.mean_.size} bins like the training spectra, got {x.shape[1]}."
            )
        return ((x - self.mean_) @ self.components_.T) / self.scale_


class FrechetScore:
    """Frechet distance between sets of spectra in a PCA feature space fitted on real training
    spectra ``real_train`` (N, B) (:class:`SpectrumFeatures`).

    ``distance(a, b)``: the Frechet distance of two sets of spectra. ``floor(real)``: the noise
    floor, the distance between two disjoint random halves of real spectra, mean and std over
    ``n_repeats`` splits. Sample-size bias: the distance between sets of size n/2 is larger than
    between sets of size n (the sampling noise of the means and covariances adds roughly
    1/n_a + 1/n_b), so a perfect generator compared with a real set of size n scores below the
    half-vs-half floor; compare a generator with real spectra using sets of size n/2 each to
    read its score against the floor.
    """

    def __init__(self, real_train, n_components: int = 16, *, whiten: bool = True):
        self.features = SpectrumFeatures(n_components, whiten=whiten).fit(real_train)

    def transform(self, x) -> np.ndarray:
        return self.features.transform(x)

    def distance(self, a, b) -> float:
        return frechet_distance(self.transform(a), self.transform(b))

    def floor(self, real, n_repeats: int = 10, seed: int = 0) -> tuple[float, float]:
        feats = self.transform(real)
        n = feats.shape[0]
        if n < 4:
            raise ValueError(f"real needs at least 4 spectra for two halves, got {n}.")
        if (
            isinstance(n_repeats, bool)
            or not isinstance(n_repeats, (int, np.integer))
            or (n_repeats < 1)
        ):
            raise ValueError(f"n_repeats must be a whole number >= 1, got {n_repeats!r}.")
        rng = np.random.default_rng(seed)
        half = n // 2
        values = []
        for _ in range(n_repeats):
            perm = rng.permutation(n)
            values.append(frechet_distance(feats[perm[:half]], feats[perm[half : 2 * half]]))
        return float(np.mean(values)), float(np.std(values))
