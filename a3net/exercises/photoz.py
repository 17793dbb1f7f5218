"""Self-checks for the chapter C exercises (photometric redshifts). Each prints PASS or FAIL.

Every check builds its own inputs, computes its reference itself and calls the student's
function; a stub (``NotImplementedError``) or a bug in it is a FAIL line, never a traceback.
"""

from __future__ import annotations

import numpy as np

from .checks import call_student, check, check_close, check_shape, student_check


def _reference_colours(mags: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(mags.shape[1], k=1)
    return mags[:, i] - mags[:, j]


@student_check
def check_all_colours(all_colours, *, n: int = 50, n_bands: int = 5, seed: int = 3) -> bool:
    """Exercise C.1: ``all_colours(mags)`` -> every colour m_i - m_j (i < j) of (N, F)
    magnitudes, shape (N, F (F - 1) / 2), pairs in the order (0, 1), (0, 2), ..., (F-2, F-1)."""
    mags = np.random.default_rng(seed).uniform(18, 26, (n, n_bands))
    got, err = call_student(all_colours, mags.copy(), as_array=False)
    if err:
        return check(False, "all_colours runs", err)
    got = np.asarray(got, dtype=float)
    pairs = n_bands * (n_bands - 1) // 2
    if not check_shape(got, (n, pairs), f"{n_bands} bands give {pairs} colours per galaxy"):
        return False
    return check_close(
        got, _reference_colours(mags), atol=1e-9, what="colours m_i - m_j in the order (0, 1), ..."
    )


def _reference_scale_chi2(flux, err, model):
    w = 1.0 / err**2
    amplitude = np.sum(w * flux * model, axis=1) / np.sum(w * model**2, axis=1)
    chi2 = np.sum(w * (flux - amplitude[:, None] * model) ** 2, axis=1)
    return amplitude, chi2


@student_check
def check_scale_and_chi2(scale_and_chi2, *, n: int = 40, n_bands: int = 7, seed: int = 4) -> bool:
    """Exercise C.2: ``scale_and_chi2(flux, err, model)`` -> (amplitude (N,), chi2 (N,)) of the
    best scaling of one template's band fluxes ``model`` (N, F) to ``flux`` +- ``err`` (N, F)."""
    rng = np.random.default_rng(seed)
    model = rng.uniform(0.5, 3.0, (n, n_bands))
    err = rng.uniform(0.05, 0.3, (n, n_bands))
    flux = rng.uniform(0.5, 4.0, (n, 1)) * model + err * rng.standard_normal((n, n_bands))
    got, problem = call_student(scale_and_chi2, flux, err, model, as_array=False)
    if problem:
        return check(False, "scale_and_chi2 runs", problem)
    if not (isinstance(got, tuple) and len(got) == 2):
        return check(False, "scale_and_chi2 returns a pair (amplitude, chi2)")
    amplitude, chi2 = (np.asarray(v, dtype=float) for v in got)
    ref_amp, ref_chi2 = _reference_scale_chi2(flux, err, model)
    ok = check_shape(amplitude, (n,), "one amplitude per galaxy")
    ok = check_shape(chi2, (n,), "one chi-square per galaxy") and ok
    if not ok:
        return False
    ok = check_close(amplitude, ref_amp, rtol=1e-6, what="amplitude minimises chi-square") and ok
    return check_close(chi2, ref_chi2, rtol=1e-6, what="chi-square at that amplitude") and ok


@student_check
def check_pz_summary(pz_summary, *, seed: int = 5) -> bool:
    """Exercise C.3: ``pz_summary(z_grid, chi2)`` -> (z_peak (N,), z_mean (N,), pz (N, Z)) with
    p(z) proportional to exp(-chi2 / 2), normalised so that its integral over z_grid is 1."""
    rng = np.random.default_rng(seed)
    z_grid = np.linspace(0.0, 4.0, 401)
    centre = rng.uniform(0.3, 3.5, 6)
    width = rng.uniform(0.03, 0.2, 6)
    chi2 = 1e3 + ((z_grid[None] - centre[:, None]) / width[:, None]) ** 2  # a huge offset too
    # galaxy 0 is bimodal, as real p(z) often are: its peak and its mean differ
    chi2[0] = 1e3 + np.minimum(((z_grid - 1.0) / 0.1) ** 2, ((z_grid - 3.0) / 0.1) ** 2 + 1.0)
    got, problem = call_student(pz_summary, z_grid, chi2, as_array=False)
    if problem:
        return check(False, "pz_summary runs", problem)
    if not (isinstance(got, tuple) and len(got) == 3):
        return check(False, "pz_summary returns (z_peak, z_mean, pz)")
    z_peak, z_mean, pz = (np.asarray(v, dtype=float) for v in got)
    if not check_shape(pz, chi2.shape, "p(z) has one row per galaxy, one column per z"):
        return False
    if not check(np.isfinite(pz).all(), "p(z) is finite", "subtract the minimum chi-square first"):
        return False
    ref = np.exp(-0.5 * (chi2 - chi2.min(axis=1, keepdims=True)))
    ref /= np.trapezoid(ref, z_grid, axis=1)[:, None]
    ok = check_close(
        np.trapezoid(pz, z_grid, axis=1), np.ones(6), rtol=1e-3, what="p(z) integrates to 1"
    )
    ok = (
        check_close(pz, ref, rtol=1e-3, atol=1e-6, what="p(z) is exp(-chi2 / 2), normalised") and ok
    )
    ok = check_close(z_peak, z_grid[np.argmax(ref, axis=1)], atol=1e-9, what="z_peak") and ok
    ref_mean = np.trapezoid(ref * z_grid, z_grid, axis=1)
    return check_close(z_mean, ref_mean, rtol=1e-3, what="z_mean is the mean of p(z)") and ok
