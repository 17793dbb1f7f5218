"""The two pieces that make a template fit the yardstick the field would accept, and its control.

- ``fit_magnitude_prior``: EAZY's magnitude prior p(z | m) (Brammer et al. 2008, section 2.3),
  measured on a training set instead of a mock lightcone, in the ``(z, mags, p)`` layout that
  ``TemplateFitter(prior=...)`` reads.
- ``zeropoint_offsets``: the per-band flux corrections that 3D-HST's EAZY runs derive from the
  galaxies with spectra (Skelton et al. 2014, section 5.3; Brammer et al. 2008): fit each one at
  its spectroscopic redshift and divide out the median ratio of model to observed flux, band by
  band. They absorb calibration errors and the part of template mismatch that is the same for
  every galaxy.
- ``own_template_fit``: the *oracle* fit, the positive control of template fitting: each galaxy
  is fitted with its own true spectrum (``a3net.data.photometry.galaxy_band_fluxes``), so there
  is no template mismatch and only the photometric noise and the colour degeneracies are left.
  Whatever a real template fit loses beyond it is the templates' fault.
"""

from __future__ import annotations

import numpy as np

from .photoz import (
    NOT_OBSERVED,
    TemplateFitResult,
    TemplateFitter,
    magnitude_prior,
    nnls_batched,
    parabola_peak,
)

__all__ = ["apply_offsets", "fit_magnitude_prior", "own_template_fit", "zeropoint_offsets"]


def _vector(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}.")
    return arr


def fit_magnitude_prior(
    z, mag, z_grid, *, mag_step: float = 0.5, min_count: int = 30, smoothing: float = 0.05
):
    """p(z | m) from galaxies with known redshifts ``z`` (N,) and apparent AB magnitudes ``mag``
    (N,) in the prior band: ``(z_grid, mags, p)`` with p of shape (len(z_grid), len(mags)).

    Magnitudes are binned in steps of ``mag_step`` [mag]; neighbouring bins are merged until
    each holds at least ``min_count`` galaxies (``mags`` are the bins' median magnitudes). In
    each bin p(z) is a Gaussian kernel density in ln(1 + z) of width ``smoothing``, normalised
    to integrate to 1 over ``z_grid``. ``TemplateFitter`` interpolates between the columns and
    clamps beyond them: galaxies fainter than any training galaxy get the faintest column, which
    is the weakness of a prior measured on a spectroscopic sample (it never saw them).
    """
    z, mag = _vector(z, "z"), _vector(mag, "mag")
    grid = _vector(z_grid, "z_grid")
    if z.shape != mag.shape:
        raise ValueError(f"z and mag must have the same length, got {z.size} and {mag.size}.")
    good = np.isfinite(z) & np.isfinite(mag) & (z >= 0)
    if good.sum() < min_count:
        raise ValueError(
            f"fit_magnitude_prior needs at least min_count = {min_count} galaxies with a finite "
            f"redshift and magnitude, got {int(good.sum())}; lower min_count or add galaxies."
        )
    if np.any(np.diff(grid) <= 0) or grid[0] < 0:
        raise ValueError("z_grid must be strictly increasing and non-negative.")
    if not (mag_step > 0 and smoothing > 0):
        raise ValueError("mag_step and smoothing must be positive.")
    z, mag = z[good], mag[good]
    order = np.argsort(mag)
    z, mag = z[order], mag[order]
    edges = np.arange(np.floor(mag[0] / mag_step), np.ceil(mag[-1] / mag_step) + 1) * mag_step
    bin_of = np.clip(np.searchsorted(edges, mag, side="right") - 1, 0, edges.size - 2)
    counts = np.bincount(bin_of, minlength=edges.size - 1)
    groups, current = [], []
    for b in range(counts.size):  # merge thin neighbouring bins (a few dozen bins at most)
        current.append(b)
        if counts[current].sum() >= min_count:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1] = groups[-1] + current
        else:
            groups.append(current)
    u_grid = np.log1p(grid)
    columns, centres = [], []
    for group in groups:
        rows = np.isin(bin_of, group)
        u = np.log1p(z[rows])
        dens = np.exp(-0.5 * ((u_grid[:, None] - u[None, :]) / smoothing) ** 2).sum(axis=1)
        dens = dens / (1 + grid)  # a density in ln(1 + z) -> a density in z
        columns.append(dens / np.trapezoid(dens, grid))
        centres.append(np.median(mag[rows]))
    centres = np.asarray(centres)
    if np.any(np.diff(centres) <= 0):  # ties of medians in merged bins: nudge to increasing
        centres = centres + 1e-6 * np.arange(centres.size)
    return grid.copy(), centres, np.stack(columns, axis=1)


def own_template_fit(flux, err, model, z_grid, *, prior=None, prior_band=None):
    """The oracle fit: galaxy n fitted with its own noiseless model fluxes ``model[n]`` (Z, F)
    at every redshift of ``z_grid`` (Z,), one non-negative amplitude each (closed form).

    ``flux``, ``err``: (N, F) catalogue fluxes and errors (AB zero-point 25, -99 for no data);
    ``model``: (N, Z, F), e.g. ``galaxy_band_fluxes(truth, z_grid, bands)``. ``prior`` and
    ``prior_band`` as in ``TemplateFitter``. Chi-square uses the catalogue errors only: with the
    true spectrum there is no template error to add. Returns a ``TemplateFitResult`` (coeffs
    (N, 1) are the amplitudes; z_best is the grid peak of p(z), refined by a parabola).
    """
    flux = np.asarray(flux, float)
    err = np.asarray(err, float)
    model = np.asarray(model, float)
    grid = _vector(z_grid, "z_grid")
    if flux.ndim != 2 or err.shape != flux.shape:
        raise ValueError(
            f"flux and err must be (N, F) arrays of the same shape, got {flux.shape} and "
            f"{err.shape}."
        )
    if model.shape != (flux.shape[0], grid.size, flux.shape[1]):
        raise ValueError(
            f"model must have shape (N, Z, F) = {(flux.shape[0], grid.size, flux.shape[1])}, "
            f"got {model.shape}."
        )
    use = (flux > NOT_OBSERVED) & (err > 0) & np.isfinite(flux) & np.isfinite(err)
    w = np.where(use, 1.0 / np.where(use, err, 1.0) ** 2, 0.0)  # (N, F)
    f = np.where(use, flux, 0.0)
    wm = w[:, None, :] * model
    amp = np.maximum(np.einsum("nzf,nf->nz", wm, f) / np.maximum((wm * model).sum(-1), 1e-300), 0)
    resid = f[:, None, :] - amp[..., None] * model
    chi2 = np.einsum("nf,nzf->nz", w, resid**2)
    lnp = -0.5 * chi2
    if prior is not None:
        lnp = lnp + _log_prior(prior, prior_band, flux, use, grid)
    peak = np.argmax(lnp, axis=1)
    rows = np.arange(len(flux))
    p = np.exp(lnp - lnp[rows, peak][:, None])
    pz = p / np.trapezoid(p, grid, axis=1)[:, None]
    z_best = parabola_peak(grid, lnp, peak)
    skipped = use.sum(axis=1) < 2
    z_best[skipped] = np.nan
    return TemplateFitResult(
        z_best=z_best,
        z_mean=np.trapezoid(pz * grid, grid, axis=1),
        chi2_min=chi2.min(axis=1),
        chi2=chi2,
        pz=pz,
        z_grid=grid.copy(),
        iz_best=peak,
        coeffs=amp[rows, peak][:, None],
        model_flux=amp[rows, peak][:, None] * model[rows, peak],
        n_bands=use.sum(axis=1),
        skipped=skipped,
    )


def _log_prior(prior, prior_band, flux, use, grid):
    """ln p(z | m) (N, Z) on ``grid`` from an EAZY-layout prior ``(z, mags, p)``."""
    if prior_band is None:
        raise ValueError("prior_band is required with a prior: the index of the prior's band.")
    z_p, mags, p = (np.asarray(a, float) for a in prior)
    columns = np.stack([np.interp(grid, z_p, c) for c in p.T], axis=1)  # (Z, M)
    return magnitude_prior(columns, mags, flux[:, prior_band], use[:, prior_band])[0]


def zeropoint_offsets(
    fitter: TemplateFitter, flux, err, z_spec, *, n_iter: int = 3, min_snr: float = 5.0
) -> np.ndarray:
    """Multiplicative flux corrections (F,) for the catalogue's bands, from galaxies with known
    redshifts ``z_spec`` (N,) and fluxes ``flux``, errors ``err`` (N, F) (-99: no data).

    Each iteration fits every galaxy with ``fitter``'s templates at the grid redshift nearest to
    its z_spec (non-negative least squares, catalogue errors only), and multiplies each band's
    correction by the median of model / observed flux over the detections with S/N >=
    ``min_snr``; a band with fewer than 20 such galaxies keeps 1. Apply the result with
    ``apply_offsets`` to every galaxy fitted afterwards (training and test alike: the
    corrections belong to the photometry). The fit at fixed z follows a miscalibrated band a
    little, so a band 15% too bright comes back about 80% corrected (tested); more iterations
    drift towards absorbing template mismatch instead.
    """
    flux = np.asarray(flux, float)
    err = np.asarray(err, float)
    zs = _vector(z_spec, "z_spec")
    if flux.ndim != 2 or err.shape != flux.shape or zs.size != flux.shape[0]:
        raise ValueError(
            f"flux and err must be (N, F) and z_spec (N,), got {flux.shape}, {err.shape} and "
            f"{zs.shape}."
        )
    if flux.shape[1] != fitter.n_filters:
        raise ValueError(
            f"flux has {flux.shape[1]} bands but the fitter has {fitter.n_filters} filters."
        )
    if not np.isfinite(zs).all() or zs.min() < 0:
        raise ValueError("z_spec must hold finite, non-negative spectroscopic redshifts.")
    grid = fitter.z_grid
    iz = np.clip(np.searchsorted(grid, zs), 1, grid.size - 1)
    iz -= (zs - grid[iz - 1]) < (grid[iz] - zs)  # the nearest grid point
    model = fitter.model[iz]  # (N, T, F)
    use = (flux > NOT_OBSERVED) & (err > 0) & np.isfinite(flux) & np.isfinite(err)
    offsets = np.ones(flux.shape[1])
    for _ in range(n_iter):
        f = np.where(use, flux * offsets, 0.0)
        e = np.where(use, err * offsets, 1.0)
        w = np.where(use, 1.0 / e**2, 0.0)
        gram = np.einsum("ntf,nf,nsf->nts", model, w, model)
        rhs = np.einsum("ntf,nf->nt", model, w * f)
        fitted = np.einsum("nt,ntf->nf", nnls_batched(gram, rhs), model)
        good = use & (f > min_snr * e) & (fitted > 0)
        ratio = np.ones(flux.shape[1])
        for band in range(flux.shape[1]):  # bands (a dozen), not galaxies
            sel = good[:, band]
            if sel.sum() >= 20:
                ratio[band] = np.median(fitted[sel, band] / f[sel, band])
        offsets = offsets * ratio
    return offsets


def apply_offsets(flux, err, offsets):
    """``flux`` and ``err`` (N, F) times ``offsets`` (F,) on the bands with data (-99 kept)."""
    flux = np.asarray(flux, float)
    err = np.asarray(err, float)
    has = (flux > NOT_OBSERVED) & (err > NOT_OBSERVED)
    return np.where(has, flux * offsets, flux), np.where(has, err * offsets, err)
