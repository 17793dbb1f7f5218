"""Preprocessing of galaxy spectra (chapters A/B), as hack A did it, vectorised NumPy.

The chain :func:`preprocess` runs: :func:`clean_spectra` (drop unphysical or empty records and
report why), :func:`to_rest_frame` (shift each spectrum by its redshift), :func:`common_range`
(keep the rest-frame interval every spectrum covers), :func:`resample` (flux-conserving rebinning
onto one evenly log-spaced grid, inverse variance propagated) and :func:`normalise` (divide each
spectrum by its mean flux in a line-free window).

Conventions: ``loglam`` = log10(lambda / A); flux f_lambda in 1e-17 erg/s/cm2/A, (N, L); ``ivar``
its inverse variance (N, L), 0 = no data; labels a DataFrame with columns z, age [Gyr],
metallicity [mass fraction] and smass [Msun]. Arrays come back float32, grids float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "CLEANING_REASONS",
    "RestFrameSpectra",
    "band_means",
    "clean_spectra",
    "common_range",
    "normalise",
    "preprocess",
    "resample",
    "to_rest_frame",
]

LABEL_COLUMNS = ("z", "age", "metallicity", "smass")
_CHUNK = 1024  # spectra per pass of the resampler (bounds the float64 temporaries)


class RestFrameSpectra(NamedTuple):
    """Preprocessed spectra: ``loglam`` (B,) float64 rest-frame log10(lambda/A), evenly spaced;
    ``flux`` (N, B) float32 normalised; ``ivar`` (N, B) float32 (in normalised units);
    ``labels`` DataFrame; ``norm`` (N,) float32, the factor the rest-frame flux was divided by."""

    loglam: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    labels: pd.DataFrame
    norm: np.ndarray


CLEANING_REASONS = {
    "negative z": "redshift below 0",
    "negative age, metallicity or smass": "age, metallicity or stellar mass below 0",
    "smass above max_smass": "stellar mass above max_smass (default 1e13 Msun)",
    "label above physical limit": "z above max_z, age above max_age Gyr or metallicity above 1",
    "NaN label": "z, age, metallicity or smass is NaN or infinite",
    "bad flux or ivar": "NaN/infinite flux where ivar > 0, or NaN/infinite/negative ivar",
    "no data": "ivar is 0 at every pixel",
}
"""The reasons :func:`clean_spectra` removes a record for, in the order it tests them (hack A's
three first), each with a short description."""


# ----------------------------------------------------------------------------- checks


def _grid(loglam, n: int | None = None, name: str = "loglam") -> np.ndarray:
    """``loglam`` as float64 (L,) or (N, L), finite and strictly increasing along its last axis."""
    try:
        arr = np.asarray(loglam, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array of log10(lambda/A).") from None
    if arr.ndim not in (1, 2) or arr.shape[-1] < 2:
        raise ValueError(f"{name} must have shape (L,) or (N, L) with L >= 2, got {arr.shape}.")
    if arr.ndim == 2 and n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but flux has {n}; they must match.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; pass a finite grid.")
    if np.any(np.diff(arr, axis=-1) <= 0):
        raise ValueError(f"{name} must increase strictly; sort each spectrum by wavelength.")
    return arr


def _flux_ivar(flux, ivar, n_pix: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``flux`` and ``ivar`` as (N, L) float arrays (float32 stays float32); ivar >= 0 and
    finite, flux finite where ivar > 0 (where ivar is 0 a non-finite flux is set to 0)."""
    out = []
    for value, name in ((flux, "flux"), (ivar, "ivar")):
        try:
            arr = np.asarray(value)
            if arr.dtype not in (np.float32, np.float64):
                arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a numeric array (N, L).") from None
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError(f"{name} must have shape (N, L) with N >= 1, got {arr.shape}.")
        out.append(arr)
    f, iv = out
    if f.shape != iv.shape:
        raise ValueError(f"flux {f.shape} and ivar {iv.shape} must have the same shape.")
    if n_pix is not None and f.shape[1] != n_pix:
        raise ValueError(
            f"loglam has {n_pix} pixels but flux and ivar have {f.shape[1]}; they must match."
        )
    if not np.isfinite(iv).all() or (iv < 0).any():
        raise ValueError("ivar must be finite and >= 0 (0 = no data); run clean_spectra first.")
    finite = np.isfinite(f)
    if not finite.all():
        if (~finite & (iv > 0)).any():
            raise ValueError(
                "flux is NaN or infinite at pixels with ivar > 0; set ivar to 0 there or run "
                "clean_spectra first."
            )
        f = np.where(finite, f, 0.0).astype(f.dtype)
    return f, iv


def _pixel_edges(loglam: np.ndarray) -> np.ndarray:
    """Edges (..., L + 1) halfway between the centres ``loglam`` (..., L); the outer edges half a
    neighbouring step beyond the first and last centre."""
    mid = 0.5 * (loglam[..., 1:] + loglam[..., :-1])
    first = loglam[..., :1] - 0.5 * (loglam[..., 1:2] - loglam[..., :1])
    last = loglam[..., -1:] + 0.5 * (loglam[..., -1:] - loglam[..., -2:-1])
    return np.concatenate([first, mid, last], axis=-1)


# ----------------------------------------------------------------------------- cleaning


def _label_frame(labels, n: int) -> pd.DataFrame:
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(f"labels must be a pandas DataFrame, got {type(labels).__name__}.")
    missing = [c for c in LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lacks the columns {missing}; it needs {list(LABEL_COLUMNS)}.")
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} rows but flux has {n}; they must match.")
    return labels


def _subset(spectra, keep: np.ndarray):
    """The records ``keep`` (bool (N,)) of a GalaxySpectra-like NamedTuple: every per-spectrum
    field (arrays and DataFrames with N rows; loglam only when it is (N, L)) is indexed."""
    n = keep.size
    changes = {}
    for name in spectra._fields:
        value = getattr(spectra, name)
        if isinstance(value, pd.DataFrame) and len(value) == n:
            changes[name] = value.iloc[np.flatnonzero(keep)].reset_index(drop=True)
        elif isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
            if name == "loglam" and value.ndim == 1:
                continue
            changes[name] = value[keep]
    return spectra._replace(**changes)


def _check_spectra(spectra):
    for field in ("loglam", "flux", "ivar", "labels"):
        if not hasattr(spectra, field):
            raise TypeError(
                f"spectra must have the fields loglam, flux, ivar and labels (a GalaxySpectra), "
                f"got {type(spectra).__name__} without {field!r}."
            )
    if not hasattr(spectra, "_replace"):
        raise TypeError("spectra must be a NamedTuple such as GalaxySpectra (with _replace).")


def clean_spectra(
    spectra, *, max_smass: float = 1e13, max_z: float = 7.0, max_age: float = 14.0
) -> tuple:
    """Remove the records hack A found unusable; returns (cleaned spectra, report).

    ``spectra`` is a GalaxySpectra-like NamedTuple (loglam, flux (N, L), ivar (N, L), labels
    DataFrame with z, age [Gyr], metallicity, smass [Msun]; further per-spectrum fields such as
    and_mask or truth are subset too). Removed, tested in this order (:data:`CLEANING_REASONS`):
    negative z; negative age, metallicity or smass; smass above ``max_smass``; a label above its
    physical limit (z > ``max_z``, age > ``max_age`` Gyr, older than the Universe, or
    metallicity > 1, a mass fraction); a NaN label; NaN/infinite flux where ivar > 0 or a
    NaN/negative ivar; ivar 0 everywhere. Each record is counted once, under the first reason it
    meets. The report is a DataFrame indexed by reason with columns ``count`` and
    ``description``; ``report.attrs`` holds ``n_in`` and ``n_kept``. Labels come back with a
    fresh 0..n-1 index, aligned with the arrays.
    """
    _check_spectra(spectra)
    flux = np.asarray(spectra.flux)
    ivar = np.asarray(spectra.ivar)
    if flux.ndim != 2 or flux.shape != ivar.shape:
        raise ValueError(
            f"spectra.flux and spectra.ivar must be (N, L) arrays of one shape, got "
            f"{flux.shape} and {ivar.shape}."
        )
    labels = _label_frame(spectra.labels, flux.shape[0])
    lab = {c: labels[c].to_numpy(dtype=np.float64) for c in LABEL_COLUMNS}
    with np.errstate(invalid="ignore"):
        finite_ivar = np.isfinite(ivar)
        good = finite_ivar & (ivar > 0)
        tests = {
            "negative z": lab["z"] < 0,
            "negative age, metallicity or smass": (lab["age"] < 0)
            | (lab["metallicity"] < 0)
            | (lab["smass"] < 0),
            "smass above max_smass": lab["smass"] > max_smass,
            "label above physical limit": (lab["z"] > max_z)
            | (lab["age"] > max_age)
            | (lab["metallicity"] > 1),
            "NaN label": ~np.all([np.isfinite(v) for v in lab.values()], axis=0),
            "bad flux or ivar": (~finite_ivar | (ivar < 0)).any(axis=1)
            | (good & ~np.isfinite(flux)).any(axis=1),
            "no data": ~good.any(axis=1),
        }
    removed = np.zeros(flux.shape[0], dtype=bool)
    counts = []
    for hit in tests.values():
        new = hit & ~removed
        counts.append(int(new.sum()))
        removed |= new
    report = pd.DataFrame(
        {"count": counts, "description": list(CLEANING_REASONS.values())},
        index=pd.Index(list(CLEANING_REASONS), name="reason"),
    )
    report.attrs.update(n_in=int(flux.shape[0]), n_kept=int((~removed).sum()))
    return _subset(spectra, ~removed), report


# ----------------------------------------------------------------------------- rest frame


def to_rest_frame(loglam, flux, ivar, z) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shift spectra to their rest frames: (rest_loglam (N, L) float64, flux, ivar float32).

    log10 lambda_rest = log10 lambda_obs - log10(1 + z); f_lambda,rest = f_lambda,obs (1 + z)
    and ivar / (1 + z)^2. This is the flux-density convention (the same photons spread over a
    1 + z times narrower wavelength interval); the luminosity-distance dimming is not undone,
    the normalisation drops it later. ``loglam`` (L,) or (N, L); ``z`` (N,), > -1.
    """
    f, iv = _flux_ivar(flux, ivar)
    grid = _grid(loglam, f.shape[0])
    if grid.shape[-1] != f.shape[1]:
        raise ValueError(
            f"loglam has {grid.shape[-1]} pixels but flux has {f.shape[1]}; they must match."
        )
    zz = np.asarray(z, dtype=np.float64).reshape(-1)
    if zz.size != f.shape[0]:
        raise ValueError(f"z must hold one redshift per spectrum ({f.shape[0]}), got {zz.size}.")
    if not np.isfinite(zz).all() or (zz <= -1).any():
        raise ValueError("z must be finite and > -1; run clean_spectra first.")
    one_z = (1 + zz)[:, None]
    rest = np.broadcast_to(grid, f.shape) - np.log10(one_z)
    one_z = one_z.astype(np.float32)
    return rest, (f * one_z).astype(np.float32), (iv / one_z**2).astype(np.float32)


def common_range(rest_loglam, ivar=None) -> tuple[float, float]:
    """The log10(lambda/A) interval every spectrum covers: (lo, hi), pixel edges included.

    ``rest_loglam`` (N, L) or (L,) pixel centres; with ``ivar`` (N, L) a spectrum's coverage runs
    from the outer edge of its first to that of its last pixel with ivar > 0. ValueError if a
    spectrum has no such pixel or the spectra share no interval.
    """
    grid = _grid(rest_loglam, name="rest_loglam")
    grid = grid[None] if grid.ndim == 1 else grid
    if ivar is None:
        i0 = np.zeros(grid.shape[0], dtype=int)
        i1 = np.full(grid.shape[0], grid.shape[1] - 1)
    else:
        good = np.asarray(ivar) > 0
        good = good[None] if good.ndim == 1 else good
        if good.shape[-1] != grid.shape[-1] or (grid.shape[0] > 1 and good.shape != grid.shape):
            raise ValueError(f"ivar {good.shape} must have the shape of rest_loglam {grid.shape}.")
        empty = ~good.any(axis=1)
        if empty.any():
            raise ValueError(
                f"{int(empty.sum())} spectra (e.g. index {int(np.flatnonzero(empty)[0])}) have "
                "ivar 0 everywhere; remove them with clean_spectra first."
            )
        i0 = good.argmax(axis=1)
        i1 = good.shape[1] - 1 - good[:, ::-1].argmax(axis=1)
    rows = np.arange(max(grid.shape[0], i0.size)) % grid.shape[0]
    # outer edges of the first and last good pixel, as _pixel_edges puts them
    n_pix = grid.shape[1]
    g0, g1 = grid[rows, i0], grid[rows, i1]
    first = np.where(
        i0 > 0, 0.5 * (grid[rows, np.maximum(i0 - 1, 0)] + g0), g0 - 0.5 * (grid[rows, 1] - g0)
    )
    last = np.where(
        i1 < n_pix - 1,
        0.5 * (grid[rows, np.minimum(i1 + 1, n_pix - 1)] + g1),
        g1 + 0.5 * (g1 - grid[rows, n_pix - 2]),
    )
    lo, hi = float(first.max()), float(last.min())
    if not lo < hi:
        raise ValueError(
            f"the spectra share no wavelength range (latest start {10**lo:.0f} A, earliest end "
            f"{10**hi:.0f} A); drop the spectra at extreme redshifts (clean_spectra's max_z)."
        )
    return lo, hi


# ----------------------------------------------------------------------------- resampling


def _searchsorted_rows(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Row-wise np.searchsorted(edges[i], x[i], 'right') for (N, E) and (N, M) arrays, in one
    call: each row is offset so that the rows do not overlap."""
    span = max(np.ptp(edges), np.ptp(x), 1.0)
    lo = min(edges.min(), x.min())
    offset = (np.arange(edges.shape[0]) * 4 * span)[:, None] - lo
    flat = (edges + offset).ravel()
    idx = np.searchsorted(flat, (x + offset).ravel(), side="right")
    return idx.reshape(x.shape) - (np.arange(edges.shape[0]) * edges.shape[1])[:, None]


def band_means(loglam, flux, good, band_edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means of a piecewise-constant signal over bands, and what ivar propagation needs.

    ``loglam`` (L,) or (N, L) pixel centres (pixel edges halfway between), ``flux`` (N, L)
    float64 (0 where not good), ``good`` (N, L) pixel weights q = 1/ivar (0 = no data, > 0 =
    usable), ``band_edges`` (M + 1,) increasing log10(lambda/A). Integrals run over lambda (the
    pixel widths in A), so the mean is flux conserving. Returns (mean (N, M), covered width in
    A of good pixels (N, M), sum over pixels of overlap^2 q (N, M))."""
    n, n_pix = flux.shape
    edges = _pixel_edges(np.broadcast_to(loglam, (n, n_pix)))
    lam_edges = 10.0**edges
    width = np.diff(lam_edges, axis=1)  # (N, L) pixel widths in A
    use = good > 0
    w_good = np.where(use, width, 0.0)
    cum_w = np.concatenate([np.zeros((n, 1)), np.cumsum(w_good, axis=1)], axis=1)
    cum_f = np.concatenate([np.zeros((n, 1)), np.cumsum(w_good * flux, axis=1)], axis=1)
    q = np.where(use, good, 0.0)
    cum_q = np.concatenate([np.zeros((n, 1)), np.cumsum(width**2 * q, axis=1)], axis=1)

    b = np.broadcast_to(np.clip(band_edges, edges[:, :1], edges[:, -1:]), (n, band_edges.size))
    k = np.clip(_searchsorted_rows(edges, b) - 1, 0, n_pix - 1)  # pixel holding each edge
    lam_b = 10.0**b
    lo_k = np.take_along_axis(lam_edges, k, 1)
    w_k = np.take_along_axis(width, k, 1)
    frac = np.clip((lam_b - lo_k) / w_k, 0.0, 1.0)
    g_k = np.take_along_axis(w_good, k, 1)
    f_k = np.take_along_axis(flux, k, 1)
    cw = np.take_along_axis(cum_w, k, 1) + frac * g_k
    cf = np.take_along_axis(cum_f, k, 1) + frac * g_k * f_k
    covered = np.diff(cw, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.diff(cf, axis=1) / covered
    # sum_i overlap_i^2 q_i over the pixels of each band: partial first and last pixel, full
    # pixels in between from the cumulative sum
    ka, kb, fa, fb = k[:, :-1], k[:, 1:], frac[:, :-1], frac[:, 1:]
    qa = np.take_along_axis(q, ka, 1) * np.take_along_axis(width, ka, 1) ** 2
    qb = np.take_along_axis(q, kb, 1) * np.take_along_axis(width, kb, 1) ** 2
    inner = np.take_along_axis(cum_q, kb, 1) - np.take_along_axis(cum_q, np.minimum(ka + 1, kb), 1)
    same = ka == kb
    var_sum = np.where(
        same, (fb - fa) ** 2 * qa, (1 - fa) ** 2 * qa + np.where(same, 0.0, inner) + fb**2 * qb
    )
    return mean, covered, var_sum


def _fill_gaps(loglam: np.ndarray, flux: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``flux`` (N, M) with the bins not ``ok`` linearly interpolated from the nearest good bins
    of the same row (held constant beyond them; 0 in rows with no good bin), vectorised."""
    n, m = flux.shape
    idx = np.broadcast_to(np.arange(m), (n, m))
    prev = np.maximum.accumulate(np.where(ok, idx, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(ok, idx, m)[:, ::-1], axis=1)[:, ::-1]
    has_prev, has_next = prev >= 0, nxt < m
    p, q = np.clip(prev, 0, m - 1), np.clip(nxt, 0, m - 1)
    fp, fq = np.take_along_axis(flux, p, 1), np.take_along_axis(flux, q, 1)
    xp, xq = loglam[p], loglam[q]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(xq > xp, (loglam[None] - xp) / (xq - xp), 0.0)
    filled = np.where(
        has_prev & has_next, fp + t * (fq - fp), np.where(has_prev, fp, np.where(has_next, fq, 0))
    )
    return np.where(ok, flux, filled)


def resample(loglam, flux, ivar, new_loglam) -> tuple[np.ndarray, np.ndarray]:
    """Flux-conserving rebinning onto the bin centres ``new_loglam`` (B,): (flux, ivar) float32.

    ``loglam`` (L,) or (N, L) (one grid per spectrum after :func:`to_rest_frame`), ``flux`` and
    ``ivar`` (N, L). Pixels and bins are intervals with edges halfway between centres. A new bin's
    flux is the mean of f_lambda over the part of it covered by pixels with ivar > 0, from the
    cumulative integral over lambda of the piecewise-constant pixels; with w_i the fraction of that
    covered width that pixel i supplies, ivar = 1 / sum(w_i^2 / ivar_i). Bins with no good pixel
    get ivar 0 and flux interpolated from the neighbouring good bins. Vectorised over spectra
    (in chunks of 1024).
    """
    f, iv = _flux_ivar(flux, ivar)
    grid = _grid(loglam, f.shape[0])
    if grid.shape[-1] != f.shape[1]:
        raise ValueError(
            f"loglam has {grid.shape[-1]} pixels but flux has {f.shape[1]}; they must match."
        )
    new = _grid(new_loglam, name="new_loglam")
    if new.ndim != 1:
        raise ValueError(f"new_loglam must be one grid (B,), got shape {new.shape}.")
    band_edges = _pixel_edges(new)
    out_f = np.empty((f.shape[0], new.size), dtype=np.float32)
    out_iv = np.empty_like(out_f)
    for s in range(0, f.shape[0], _CHUNK):
        rows = slice(s, s + _CHUNK)
        g = grid if grid.ndim == 1 else grid[rows]
        q = np.zeros_like(iv[rows])
        np.divide(1.0, iv[rows], out=q, where=iv[rows] > 0)
        mean, covered, var_sum = band_means(g, f[rows], q, band_edges)
        ok = covered > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            new_iv = np.where(ok & (var_sum > 0), covered**2 / var_sum, 0.0)
        out_f[rows] = _fill_gaps(new, np.where(ok, mean, 0.0), ok)
        out_iv[rows] = new_iv
    return out_f, out_iv


# ----------------------------------------------------------------------------- normalisation


def normalise(
    loglam, flux, ivar, window=(4400.0, 4600.0)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Divide each spectrum by its ivar-weighted mean flux in a rest-frame ``window`` [A]:
    (flux, ivar, norm (N,)) float32; ivar is multiplied by norm^2.

    The default 4400-4600 A lies between Hgamma and Hbeta, free of strong emission and of the
    4000 A break, and inside the rest range of every spectrum up to z ~ 1 on the SDSS grid, so the
    normalised continuum is 1 there for every galaxy and line strengths and colours stay
    comparable (a whole-range mean would let a strong Halpha or the break move every pixel).
    The ivar-weighted mean is the maximum-likelihood constant for Gaussian noise. ``window=None``
    uses the whole range. ValueError if a spectrum has no pixel with ivar > 0 in the window or a
    non-positive mean there.
    """
    f, iv = _flux_ivar(flux, ivar)
    grid = _grid(loglam, f.shape[0])
    if grid.shape[-1] != f.shape[1]:
        raise ValueError(
            f"loglam has {grid.shape[-1]} pixels but flux has {f.shape[1]}; they must match."
        )
    if window is None:
        inside = np.ones(np.broadcast_to(grid, f.shape).shape, dtype=bool)
    else:
        lo, hi = (float(v) for v in window)
        if not 0 < lo < hi:
            raise ValueError(f"window must be (lo, hi) in A with 0 < lo < hi, got {window!r}.")
        lam = 10.0**grid
        inside = np.broadcast_to((lam >= lo) & (lam <= hi), f.shape)
        if not inside.any(axis=1).all():
            raise ValueError(
                f"window {window} A lies outside the wavelength range of some spectra "
                f"({10 ** grid.min():.0f}-{10 ** grid.max():.0f} A); pass a window inside it."
            )
    w = np.where(inside, iv, 0.0)
    wsum = w.sum(axis=1)
    if (wsum <= 0).any():
        bad = np.flatnonzero(wsum <= 0)
        raise ValueError(
            f"{bad.size} spectra (e.g. index {bad[0]}) have no pixel with ivar > 0 in the "
            f"normalisation window {window}; remove them or choose another window."
        )
    norm = (w * f).sum(axis=1) / wsum
    if (norm <= 0).any():
        bad = np.flatnonzero(norm <= 0)
        raise ValueError(
            f"{bad.size} spectra (e.g. index {bad[0]}) have a mean flux <= 0 in the "
            f"normalisation window {window}; remove them or choose another window."
        )
    out_f = (f / norm[:, None]).astype(np.float32)
    out_iv = (iv * norm[:, None] ** 2).astype(np.float32)
    return out_f, out_iv, norm.astype(np.float32)


# ----------------------------------------------------------------------------- the chain


def preprocess(
    spectra,
    *,
    n_bins: int = 256,
    clean: bool = True,
    window=(4400.0, 4600.0),
    max_smass: float = 1e13,
    loglam=None,
) -> tuple[RestFrameSpectra, pd.DataFrame]:
    """Clean, shift to the rest frame, keep the common range, resample onto ``n_bins`` evenly
    log-spaced bins spanning it exactly, normalise: (RestFrameSpectra, cleaning report).

    ``spectra`` is a GalaxySpectra-like NamedTuple. With ``clean=False`` nothing is removed and
    the report has no rows (bad records then fail with a ValueError in the steps that meet
    them). ``window`` and ``max_smass`` go to :func:`normalise` and :func:`clean_spectra`.
    ``loglam`` (B,), e.g. another set's ``RestFrameSpectra.loglam``, puts these spectra on that
    grid instead (``n_bins`` is then ignored): every spectrum must cover it.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be a whole number >= 2, got {n_bins!r}.")
    _check_spectra(spectra)
    if clean:
        spectra, report = clean_spectra(spectra, max_smass=max_smass)
    else:
        report = pd.DataFrame(
            {"count": pd.Series(dtype=int), "description": pd.Series(dtype=str)},
            index=pd.Index([], name="reason"),
        )
    if len(spectra.labels) == 0:
        raise ValueError("no spectra left after cleaning; see the cleaning report.")
    z = _label_frame(spectra.labels, np.shape(spectra.flux)[0])["z"].to_numpy()
    rest, flux, ivar = to_rest_frame(spectra.loglam, spectra.flux, spectra.ivar, z)
    lo, hi = common_range(rest, ivar)
    if loglam is None:
        step = (hi - lo) / n_bins
        new = lo + step * (np.arange(n_bins) + 0.5)
    else:
        new = np.asarray(loglam, dtype=np.float64)
        step = np.diff(new)
        if new.ndim != 1 or new.size < 2 or not np.all(step > 0):
            raise ValueError("loglam must be an increasing 1-D grid of 2 or more bin centres.")
        if new[0] - step[0] / 2 < lo - 1e-9 or new[-1] + step[-1] / 2 > hi + 1e-9:
            raise ValueError(
                f"loglam spans {10 ** new[0]:.0f}-{10 ** new[-1]:.0f} A but these spectra share "
                f"only {10**lo:.0f}-{10**hi:.0f} A in the rest frame; narrow their redshifts "
                "or the grid."
            )
    flux, ivar = resample(rest, flux, ivar, new)
    flux, ivar, norm = normalise(new, flux, ivar, window)
    labels = spectra.labels.reset_index(drop=True)
    return RestFrameSpectra(new, flux, ivar, labels, norm), report


LABEL_FEATURES = ("z", "log10 age", "log10 metallicity", "log10 smass")


class LabelScaler:
    """The generators' conditions from the labels: z, log10 age [Gyr], log10 Z and log10 smass
    [Msun], each standardised with the training set's mean and standard deviation, (N, 4)
    float32; :meth:`inverse` maps conditions back to a labels DataFrame."""

    def fit(self, labels) -> LabelScaler:
        raw = self._raw(labels)
        self.mean_, self.std_ = raw.mean(axis=0), raw.std(axis=0)
        if np.any(self.std_ == 0):
            raise ValueError("every label must vary across the training set to be standardised.")
        return self

    def transform(self, labels) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise RuntimeError("call LabelScaler.fit(training labels) first.")
        return ((self._raw(labels) - self.mean_) / self.std_).astype(np.float32)

    def inverse(self, conditions) -> pd.DataFrame:
        c = np.asarray(conditions, dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != len(LABEL_FEATURES):
            raise ValueError(f"conditions must be (N, {len(LABEL_FEATURES)}), got {c.shape}.")
        raw = c * self.std_ + self.mean_
        return pd.DataFrame(
            {"z": raw[:, 0], "age": 10 ** raw[:, 1], "metallicity": 10 ** raw[:, 2],
             "smass": 10 ** raw[:, 3]}
        )  # fmt: skip

    @staticmethod
    def _raw(labels) -> np.ndarray:
        frame = _label_frame(labels, len(labels))
        values = frame[["z", "age", "metallicity", "smass"]].to_numpy(np.float64)
        if not np.all(np.isfinite(values)) or np.any(values[:, 1:] <= 0):
            raise ValueError(
                "labels must be finite with positive age, metallicity and smass; clean them "
                "first (clean_spectra)."
            )
        return np.column_stack([values[:, 0], np.log10(values[:, 1:])])


def split_spectra(data: RestFrameSpectra, *, test_fraction: float = 0.2, seed: int = 0):
    """A random split of a RestFrameSpectra set into (train, test), each a RestFrameSpectra."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}.")
    n = len(data.labels)
    n_test = int(round(test_fraction * n))
    if not 0 < n_test < n:
        raise ValueError(f"{n} spectra cannot be split with test_fraction {test_fraction}.")
    is_test = np.zeros(n, dtype=bool)
    from .._validation import check_seed

    is_test[np.random.default_rng(check_seed(seed)).permutation(n)[:n_test]] = True
    return _subset(data, ~is_test), _subset(data, is_test)


def templates_on_grid(templates: dict, loglam, *, margin: float = 0.02) -> dict:
    """Templates (name -> (loglam, flux, z_template), e.g. from ``galaxy_templates()``) rebinned
    onto the step of the rest-frame grid ``loglam`` (B,), over that grid widened by ``margin``
    in log10(lambda) on each side (or what the template covers), as ``xcorr_redshift`` needs."""
    new = np.asarray(loglam, dtype=np.float64)
    step = float(np.mean(np.diff(new)))
    out = {}
    for name, (t_loglam, t_flux, z_t) in templates.items():
        t_loglam = np.asarray(t_loglam, dtype=np.float64)
        lo = max(new[0] - margin, t_loglam[0] + step)
        hi = min(new[-1] + margin, t_loglam[-1] - step)
        grid = lo + step * np.arange(int((hi - lo) / step) + 1)
        flux, _ = resample(
            t_loglam, np.asarray(t_flux, np.float64)[None], np.ones((1, t_loglam.size)), grid
        )
        out[name] = (grid, flux[0], z_t)
    return out


class BinStandardiser:
    """Each bin of normalised spectra (N, B) standardised with the training set's mean and
    standard deviation per bin: what the networks see, so that every bin matters on one scale
    and an output of zero is the mean spectrum. :meth:`inverse` maps network outputs back."""

    def fit(self, x) -> BinStandardiser:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2 or not np.all(np.isfinite(x)):
            raise ValueError("x must be finite spectra (N, B) with N >= 2.")
        self.mean_, self.std_ = x.mean(axis=0), x.std(axis=0)
        if np.any(self.std_ == 0):
            raise ValueError("a bin has the same value in every training spectrum.")
        return self

    def transform(self, x) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean_) / self.std_).astype(np.float32)

    def inverse(self, x) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) * self.std_ + self.mean_).astype(np.float32)
