"""Chapters A and B: measurements that judge a galaxy spectrum, real or generated: the
cross-correlation redshift and r-value against templates (Tonry & Davis 1979) and the narrow
4000 A break Dn4000 (Balogh et al. 1999)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage

__all__ = [
    "CrossCorrelation",
    "DN4000_BLUE",
    "DN4000_RED",
    "best_template_redshift",
    "dn4000",
    "xcorr_redshift",
]


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
    match, and a featureless spectrum has r = 0. ``z_template`` is the template's own redshift
    (spDR2 headers: Z).
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
    # a featureless spectrum (no lines after the continuum is removed) correlates with nothing:
    # its r is 0, not 0/0
    r = mid / (np.sqrt(2) * sigma_a) if sigma_a > 0 else 0.0
    return CrossCorrelation(float(z), float(r), float(mid), lag)


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
    about 1.0-1.3 in young, star-forming populations to 1.8-2.2 in old, metal-rich ones. A
    spectrum whose mean blue-band flux is exactly 0 has no break: NaN (no warning).
    """
    from ..data.spectra_prep import _flux_ivar, _grid, _pixel_edges, band_means

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
    blue = mean[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(blue != 0, mean[:, 2] / np.where(blue != 0, blue, 1.0), np.nan)
