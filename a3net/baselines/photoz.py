"""Chapter C baseline: template-fitting photometric redshifts as EAZY does them (Brammer, van
Dokkum & Coppi 2008), vectorised over galaxies and redshifts.

For every galaxy and every redshift of the grid, the model is the best **non-negative** linear
combination of all templates (EAZY's all-template mode), its chi-square is

    chi2(z) = sum_bands w_f (F_f - sum_t a_t M_{z,t,f})**2,   a_t >= 0,

and the posterior is p(z) ∝ exp(-chi2(z) / 2) × prior(z | m) (flat without a prior).

Algorithm choices (see ``TemplateFitter`` for the options):

* **NNLS.** Each (galaxy, redshift) pair is a small non-negative least-squares problem in its
  normal-equation form (the T x T Gram matrix of the weighted templates). All pairs of a chunk
  of galaxies are solved together (``nnls_batched``), each iteration making one batched
  ``np.linalg.solve`` over the pairs still running: every 4th redshift by the active-set method
  of Lawson & Hanson (1974), the one inside ``scipy.optimize.nnls`` (about 4-5 iterations for 9
  templates), and the redshifts in between by block principal pivoting (Kim & Park 2011)
  started from the set of templates used at the nearest solved redshift, which is right about
  90% of the time, so that one solve settles it. Both end at the exact NNLS solution (to
  rounding; checked against ``scipy.optimize.nnls``). The multiplicative updates of Sha, Saul
  & Lee (2007) that EAZY itself uses converge slowly (hundreds of iterations for 1e-3 in
  chi-square) when coefficients are zero at the optimum, as most are. The chi-square is
  computed from the residuals.
* **Redshift grid.** ``eazy_z_grid()``: EAZY's default Z_STEP_TYPE=1 grid, steps of
  0.01 (1 + z) from z = 0.01 up to 6 (195 points, the last at 5.96), uniform in log(1 + z).
  Any strictly increasing grid (e.g. ``np.linspace(0.01, 6, 600)``) can be passed instead.
* **Errors.** sigma**2 = err**2 + (sys_error * F+)**2 + (TEF(lambda_f / (1 + z)) * F+)**2 with
  F+ = max(F, 0) the *observed* flux, as eazy-py does (``template_lsq``): the template error
  function TEF is evaluated at each band's rest-frame pivot wavelength and needs no iteration.
* **Missing bands.** A flux or error <= -90 (EAZY's NOT_OBS_THRESHOLD; catalogues write -99), a
  non-finite flux, or an error of 0 or +inf gives the band zero weight. Galaxies with fewer than
  two usable bands are not fitted: their results are NaN, listed in ``result.skipped`` and
  reported by a warning.
* **Memory.** Galaxies are processed in chunks sized so that the working arrays stay below about
  0.5 GB (``chunk_size`` overrides).

``TemplateFitter.fit_loop`` is the plain reference: a Python loop over galaxies and redshifts
calling ``scipy.optimize.nnls`` on the same weighted problems.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from ..data.sed import AB_ZEROPOINT, FilterCurve, band_flux_matrix, igm_model, redshift_sed
from ..evaluation.photoz_pdf import pdf_quantiles

__all__ = ["NOT_OBSERVED", "TemplateFitResult", "TemplateFitter", "eazy_z_grid", "nnls_batched"]

NOT_OBSERVED = -90.0  # fluxes or errors at or below this mark a band with no data (EAZY)
_RIDGE = 1e-10  # relative ridge on the unit-diagonal normal equations
_TOL = 1e-10  # gradient tolerance of the batched NNLS, on the scaled problem
_Z_STRIDE = 4  # redshifts solved from scratch; the rest start from a neighbour
_MEMORY_BUDGET = 5e8  # bytes of working arrays per chunk of galaxies
_OBS_STEP = 1e-3  # d ln(lambda) of the observed-frame grid used to integrate the filters


def eazy_z_grid(z_min: float = 0.01, z_max: float = 6.0, z_step: float = 0.01) -> np.ndarray:
    """EAZY's default redshift grid (Z_STEP_TYPE = 1): z_{i+1} = z_i + z_step (1 + z_i) from
    ``z_min`` up to ``z_max``, i.e. uniform in log(1 + z); 195 points (0.01-5.96) for the
    defaults."""
    if not (np.isfinite([z_min, z_max, z_step]).all() and 0 <= z_min < z_max and z_step > 0):
        raise ValueError(
            f"eazy_z_grid needs 0 <= z_min < z_max and z_step > 0, got z_min={z_min}, "
            f"z_max={z_max}, z_step={z_step}."
        )
    step = np.log1p(z_step)
    n = int(np.floor(np.log((1 + z_max) / (1 + z_min)) / step + 1e-9)) + 1
    return (1 + z_min) * np.exp(step * np.arange(n)) - 1


# ----------------------------------------------------------------------------- results


def magnitude_prior(prior_grid, mags, band_flux, usable):
    """ln p(z | m) (N, Z) of N galaxies from prior columns ``prior_grid`` (Z, M) at magnitudes
    ``mags`` (M,), read at each galaxy's AB magnitude (zero-point 25) of flux ``band_flux`` (N,):
    linear between columns, clamped beyond them. Galaxies whose flux is not positive or not
    ``usable`` (N,) get a flat prior; returns ``(ln_prior, flat)``."""
    ok = usable & (band_flux > 0)
    mag = AB_ZEROPOINT - 2.5 * np.log10(np.where(ok, band_flux, 1.0))
    m = np.clip(mag, mags[0], mags[-1])
    k = np.clip(np.searchsorted(mags, m, side="right"), 1, max(1, mags.size - 1))
    if mags.size == 1:
        prior = np.repeat(prior_grid[:, 0][None, :], len(band_flux), axis=0)
    else:
        w = ((m - mags[k - 1]) / (mags[k] - mags[k - 1]))[:, None]
        prior = (1 - w) * prior_grid[:, k - 1].T + w * prior_grid[:, k].T
    flat = ~ok | ~np.any(prior > 0, axis=1)
    prior[flat] = 1.0
    with np.errstate(divide="ignore"):
        return np.log(prior), flat


def parabola_peak(z, lnp, peak) -> np.ndarray:
    """Redshifts (N,) of the vertex of the parabola through ln p (N, Z) at the three grid points
    of ``z`` (Z,) around each peak index (N,), as EAZY refines z_ml; the grid value where the
    peak is at an end of the grid or the parabola does not open downwards."""
    best = z[peak].astype(float)
    inner = (peak > 0) & (peak < z.size - 1)
    if not inner.any():
        return best
    r = np.flatnonzero(inner)
    k = peak[r]
    z0, z1, z2 = z[k - 1], z[k], z[k + 1]
    y1 = lnp[r, k]
    y0, y2 = lnp[r, k - 1] - y1, lnp[r, k + 1] - y1  # relative to the peak (y1 -> 0)
    ok = np.isfinite(y0) & np.isfinite(y2)
    # Parabola y = a (z - z1)^2 + b (z - z1) through (z0, y0), (z1, 0), (z2, y2).
    h0, h2 = z0 - z1, z2 - z1
    det = h0 * h2 * (h0 - h2)
    a = (y0 * h2 - y2 * h0) / det
    b = (y2 * h0**2 - y0 * h2**2) / det
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = z1 - b / (2 * a)
    ok &= (a < 0) & np.isfinite(vertex)
    best[r[ok]] = np.clip(vertex[ok], z0[ok], z2[ok])
    return best


@dataclasses.dataclass
class TemplateFitResult:
    """Photometric redshifts of N galaxies from ``TemplateFitter.fit``.

    z_best (N,): peak of the posterior p(z), refined by a parabola through ln p at the three grid
        points around the peak (as EAZY's maximum-posterior z_ml); NaN where skipped.
    z_mean (N,): posterior mean of z.
    chi2_min (N,): smallest chi-square over the grid.
    chi2 (N, Z): chi-square of the best non-negative template combination at every redshift.
    pz (N, Z): posterior p(z) on ``z_grid``, integrating to 1 (trapezoid rule).
    z_grid (Z,): the redshift grid.
    iz_best (N,): grid index of the posterior peak (-1 where skipped).
    coeffs (N, T): template coefficients at the ``iz_best`` grid point; they multiply the
        fitter's normalised model grid ``fitter.model[iz_best]`` (catalogue flux units).
    model_flux (N, F): the best-fit model band fluxes at ``iz_best``.
    n_bands (N,): number of usable bands per galaxy.
    skipped (N,): galaxies not fitted (fewer than two usable bands).
    notes: what the fit reported (skipped galaxies, galaxies given a flat prior, ...).
    """

    z_best: np.ndarray
    z_mean: np.ndarray
    chi2_min: np.ndarray
    chi2: np.ndarray
    pz: np.ndarray
    z_grid: np.ndarray
    iz_best: np.ndarray
    coeffs: np.ndarray
    model_flux: np.ndarray
    n_bands: np.ndarray
    skipped: np.ndarray
    notes: list[str] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.z_best)

    def percentile(self, q) -> np.ndarray:
        """Redshifts below which the posterior holds fraction(s) ``q`` (scalar or (Q,) in
        [0, 1]), by linear interpolation of the cumulative p(z); shape (N,) or (N, Q)."""
        out = np.full((len(self.pz), np.size(q)), np.nan)
        rows = ~self.skipped
        if rows.any():
            out[rows] = pdf_quantiles(self.z_grid, self.pz[rows], np.atleast_1d(q))
        return out[:, 0] if np.ndim(q) == 0 else out

    def interval(self, level: float = 0.68) -> tuple[np.ndarray, np.ndarray]:
        """Central credible interval (z_lo, z_hi), each (N,), holding ``level`` of p(z)."""
        if not 0 < level < 1:
            raise ValueError(f"level must be a probability in (0, 1), got {level}.")
        lo_hi = self.percentile([(1 - level) / 2, (1 + level) / 2])
        return lo_hi[:, 0], lo_hi[:, 1]

    @property
    def z_lo(self) -> np.ndarray:
        """16th percentile of p(z) (lower end of the 68% interval)."""
        return self.interval(0.68)[0]

    @property
    def z_hi(self) -> np.ndarray:
        """84th percentile of p(z) (upper end of the 68% interval)."""
        return self.interval(0.68)[1]

    def to_frame(self) -> pd.DataFrame:
        """One row per galaxy: z_best, z_mean, z_lo, z_hi (68%), chi2_min, n_bands, skipped."""
        lo, hi = self.interval(0.68)
        return pd.DataFrame(
            {
                "z_best": self.z_best,
                "z_mean": self.z_mean,
                "z_lo": lo,
                "z_hi": hi,
                "chi2_min": self.chi2_min,
                "n_bands": self.n_bands,
                "skipped": self.skipped,
            }
        )


# ----------------------------------------------------------------------------- batched NNLS


def _masked_solve(gram, rhs, passive, eye):
    """Solve gram[P, P] s[P] = rhs[P] with s = 0 off the passive set P, for a batch."""
    mat = np.where(passive[:, :, None] & passive[:, None, :], gram, 0.0)
    mat[:, eye] = np.where(passive, mat[:, eye], 1.0)
    return np.linalg.solve(mat, np.where(passive, rhs, 0.0)[:, :, None])[:, :, 0]


def _lawson_hanson(a_s, b_s, usable, max_iter, eye):
    """Lawson-Hanson active set on scaled problems (unit diagonal); returns x (B, T)."""
    n_prob, n_t = b_s.shape
    # First step in closed form: the single variable with the largest gradient, b_j / A_jj.
    x = np.zeros((n_prob, n_t))
    passive = np.zeros((n_prob, n_t), dtype=bool)
    first = np.argmax(np.where(usable, b_s, -np.inf), axis=1)
    todo = np.flatnonzero(b_s[np.arange(n_prob), first] > _TOL)  # else x = 0 is optimal
    passive[todo, first[todo]] = True
    x[todo, first[todo]] = b_s[todo, first[todo]] / a_s[todo, first[todo], first[todo]]
    adding = np.ones(n_prob, dtype=bool)  # False while a problem is in the inner (removal) loop
    for _ in range(max_iter):
        if todo.size == n_prob:  # no copies of the big arrays while every problem runs
            a_t, b_t, p_t, x_t, add_t = a_s, b_s, passive.copy(), x.copy(), adding.copy()
        else:
            a_t, b_t, p_t = a_s[todo], b_s[todo], passive[todo]
            x_t, add_t = x[todo], adding[todo]
        # Outer step: add the variable with the largest positive gradient; none left -> done.
        grad = b_t - (a_t @ x_t[:, :, None])[:, :, 0]
        cand = add_t[:, None] & ~p_t & usable[todo] & (grad > _TOL)
        added = cand.any(axis=1)
        j = np.argmax(np.where(cand, grad, -np.inf), axis=1)
        p_t[np.flatnonzero(added), j[added]] = True
        go = added | ~add_t
        todo, a_t, b_t, p_t, x_t = todo[go], a_t[go], b_t[go], p_t[go], x_t[go]
        j, added = j[go], added[go]
        if not todo.size:
            break
        r = np.arange(todo.size)
        sol = _masked_solve(a_t, b_t, p_t, eye)
        neg = p_t & (sol <= 0)
        feasible = ~neg.any(axis=1)
        # The variable just added came out non-positive: its gradient was rounding noise, so
        # the problem has converged; drop the variable and stop.
        stuck = added & neg[r, j]
        p_t[r[stuck], j[stuck]] = False
        # Inner step: move towards the passive-set solution until the first variable hits 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(neg, x_t / (x_t - sol), np.inf)
        k = np.argmin(ratio, axis=1)
        alpha = np.clip(ratio[r, k], 0.0, 1.0)[:, None]
        x_step = x_t + alpha * (sol - x_t)
        p_step = p_t & (x_step > 0)
        p_step[r, k] = False
        back = ~feasible & ~stuck
        x[todo] = np.where(
            feasible[:, None],
            np.where(p_t, sol, 0.0),
            np.where(stuck[:, None], x_t, np.where(p_step, x_step, 0.0)),
        )
        passive[todo] = np.where(back[:, None], p_step, p_t)
        adding[todo] = ~back
        todo = todo[~stuck]
        if not todo.size:
            break
    else:
        for k in todo:  # stragglers (none seen in practice): exact fallback
            chol = np.linalg.cholesky(a_s[k])
            x[k], _ = nnls(chol.T, np.linalg.solve(chol, b_s[k]), maxiter=50 * n_t)
            x[k][~usable[k]] = 0.0
    return x


def _principal_pivoting(a_s, b_s, usable, passive, max_iter, eye):
    """Block principal pivoting (Kim & Park 2011) from a guessed passive set, on scaled
    problems; returns x (B, T) and which problems converged."""
    n_prob, n_t = b_s.shape
    x = np.zeros((n_prob, n_t))
    converged = np.zeros(n_prob, dtype=bool)
    passive = passive & usable
    best = np.full(n_prob, n_t + 1)
    backup = np.full(n_prob, 3)
    todo = np.arange(n_prob)
    for _ in range(max_iter):
        if todo.size == n_prob:  # first pass: no copies
            a_t, b_t, p_t = a_s, b_s, passive.copy()
        else:
            a_t, b_t, p_t = a_s[todo], b_s[todo], passive[todo]
        sol = _masked_solve(a_t, b_t, p_t, eye)
        grad = (a_t @ sol[:, :, None])[:, :, 0] - b_t  # gradient of 0.5 x'Ax - b'x
        bad = (p_t & (sol < -_TOL)) | (~p_t & usable[todo] & (grad < -_TOL))
        count = bad.sum(axis=1)
        done = count == 0
        x[todo[done]] = np.where(p_t[done], np.maximum(sol[done], 0.0), 0.0)
        converged[todo[done]] = True
        todo, bad, count, p_t = todo[~done], bad[~done], count[~done], p_t[~done]
        if not todo.size:
            break
        # Exchange every infeasible variable; after three exchanges without fewer infeasible
        # variables, only the last one (Murty's rule), which guarantees termination.
        improved = count < best[todo]
        best[todo] = np.where(improved, count, best[todo])
        backup[todo] = np.where(improved, 3, np.maximum(backup[todo] - 1, -1))
        single = np.zeros_like(bad)
        single[np.arange(todo.size), n_t - 1 - np.argmax(bad[:, ::-1], axis=1)] = True
        passive[todo] = p_t ^ np.where((backup[todo] >= 0)[:, None], bad, single)
    return x, converged


def nnls_batched(gram, rhs, *, guess=None, max_iter: int | None = None):
    """Solve many small NNLS problems min_a ||X a - y||^2, a >= 0, given in normal-equation form:
    ``gram`` = X^T X (B, T, T) and ``rhs`` = X^T y (B, T). Returns the coefficients (B, T).

    Without ``guess``: the active-set method of Lawson & Hanson (1974), the one inside
    ``scipy.optimize.nnls``, run on the whole batch at once. Every iteration either adds the
    variable with the largest positive gradient to a problem's passive set or, when the
    passive-set solution has a negative entry, steps back to the boundary and drops that
    variable; it makes one batched ``np.linalg.solve`` over the problems still running.
    Problems still running after ``max_iter`` iterations (default 3 T + 10) are finished by
    ``scipy.optimize.nnls``.

    With ``guess`` (B, T) bool, the expected set of positive coefficients (e.g. the solution
    of a neighbouring redshift): block principal pivoting (Kim & Park 2011) from that set,
    which needs a single solve when the guess is right; problems it has not settled in 8
    iterations go to Lawson-Hanson.

    Each problem is first scaled to a unit diagonal (variables whose column is all zero drop
    out) with a relative ridge of 1e-10, so that rank-deficient problems (fewer bands than
    templates) stay solvable; the solution is exact to rounding otherwise.
    """
    gram = np.asarray(gram, dtype=float)
    rhs = np.asarray(rhs, dtype=float)
    n_prob, n_t = rhs.shape
    if gram.shape != (n_prob, n_t, n_t):
        raise ValueError(f"gram must have shape {(n_prob, n_t, n_t)}, got {gram.shape}.")
    max_iter = 3 * n_t + 10 if max_iter is None else int(max_iter)
    eye = np.eye(n_t, dtype=bool)

    # Jacobi scaling to a unit diagonal, and right-hand sides scaled to a maximum of 1.
    diag = np.diagonal(gram, axis1=1, axis2=2)
    usable = np.isfinite(diag) & (diag > 0)
    dinv = np.where(usable, 1.0 / np.sqrt(np.where(usable, diag, 1.0)), 0.0)
    a_s = gram * dinv[:, :, None] * dinv[:, None, :]
    a_s[:, eye] = np.where(usable, 1.0 + _RIDGE, 1.0)
    b_s = rhs * dinv
    scale = np.abs(b_s).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    b_s /= scale[:, None]

    if guess is None:
        x = _lawson_hanson(a_s, b_s, usable, max_iter, eye)
    else:
        guess = np.asarray(guess, dtype=bool)
        if guess.shape != rhs.shape:
            raise ValueError(f"guess must have shape {rhs.shape} like rhs, got {guess.shape}.")
        x, converged = _principal_pivoting(a_s, b_s, usable, guess, 8, eye)
        rest = np.flatnonzero(~converged)
        if rest.size:
            x[rest] = _lawson_hanson(a_s[rest], b_s[rest], usable[rest], max_iter, eye)
    return x * dinv * scale[:, None]


# ----------------------------------------------------------------------------- the fitter


def _as_1d(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a numeric 1-D array, got {type(value).__name__}."
        ) from None
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"{name} must be a 1-D array with at least 2 values, got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; it must be finite.")
    return arr


def _increasing(arr: np.ndarray, name: str) -> np.ndarray:
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing; sort it and drop repeated values.")
    return arr


class TemplateFitter:
    """Template-fitting photometric redshifts (EAZY's all-template mode, vectorised).

    Parameters
    ----------
    wave : (L,) rest-frame wavelength grid of the templates [A], strictly increasing.
    templates : (T, L) rest-frame f_lambda of the templates (any units), finite, non-negative.
    filters : list of ``a3net.data.sed.FilterCurve`` in the catalogue's band order.
    z_grid : (Z,) redshifts, strictly increasing, >= 0; default ``eazy_z_grid()`` (0.01-5.96
        in steps of 0.01 (1 + z), EAZY's default).
    template_error : optional ``(wave_rest, frac)``: EAZY's template error function (the
        TEMP_ERR_FILE, times TEMP_ERR_A2 if you reproduce an EAZY setup), evaluated at each
        band's rest pivot wavelength (np.interp, clamped at its ends) and added in quadrature
        as ``frac * max(flux, 0)``, with the observed flux, as eazy-py does.
    prior : optional ``(z, mags, p)``: p(z | m) with p of shape (len(z), len(mags)), as in
        EAZY's prior_R_zmax7.dat (first column z, header row magnitudes); interpolated linearly
        in z onto ``z_grid`` and in magnitude between columns (both clamped at the ends).
    prior_band : index of the band whose AB magnitude (25 - 2.5 log10 flux) selects the prior
        column; required with ``prior``. Galaxies without a positive flux there get a flat prior.
    igm : the mean intergalactic absorption applied to the redshifted templates: True or
        "madau" (Madau 1995; the default), "inoue" (Inoue et al. 2014, EAZY's and eazy-py's
        model; reads EAZY's LAFcoeff.txt/DLAcoeff.txt through ``fetch``), False or None (none).
        Stored canonically in ``self.igm`` ("madau", "inoue" or None).
    sys_error : fractional error floor, added in quadrature as ``sys_error * max(flux, 0)``.

    On construction the model band fluxes ``model`` (Z, T, F) are computed once with
    ``redshift_sed`` and ``band_flux_matrix``, each band on its own log-spaced observed grid
    (d ln lambda = 1e-3, plus the filter curve's own points); each template is scaled so that
    its largest model flux is 1 (the factors are in ``template_scale``).
    """

    def __init__(
        self,
        wave,
        templates,
        filters,
        *,
        z_grid=None,
        template_error=None,
        prior=None,
        prior_band=None,
        igm: bool | str | None = True,
        sys_error: float = 0.01,
    ):
        self.wave = _increasing(_as_1d(wave, "wave"), "wave")
        if self.wave[0] <= 0:
            raise ValueError("wave must hold positive wavelengths in Angstrom.")
        try:
            temps = np.asarray(templates, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("templates must be a numeric array of shape (T, L).") from None
        if temps.ndim == 1:
            temps = temps[None, :]
        if temps.ndim != 2 or temps.shape[1] != self.wave.size:
            raise ValueError(
                f"templates must have shape (T, {self.wave.size}) to match wave, got "
                f"{np.shape(templates)}."
            )
        if not np.isfinite(temps).all():
            raise ValueError("templates contain NaN or infinite values; clean the template files.")
        if np.any(temps < 0):
            raise ValueError(
                "templates must be non-negative f_lambda (the fit combines them with "
                "non-negative coefficients); clip or fix the negative values."
            )
        if np.any(temps.max(axis=1) <= 0):
            raise ValueError("every template must be positive somewhere; drop all-zero rows.")
        self.templates = temps
        filters = list(filters) if not isinstance(filters, FilterCurve) else [filters]
        if not filters or not all(isinstance(f, FilterCurve) for f in filters):
            raise TypeError("filters must be a non-empty list of a3net.data.sed.FilterCurve.")
        self.filters = filters

        z = eazy_z_grid() if z_grid is None else _as_1d(z_grid, "z_grid")
        _increasing(z, "z_grid")
        if z[0] < 0:
            raise ValueError(f"z_grid must be non-negative, got a minimum of {z[0]}.")
        self.z_grid = z

        if isinstance(sys_error, bool) or not isinstance(sys_error, numbers.Real):
            raise TypeError(f"sys_error must be a number, got {type(sys_error).__name__}.")
        if not (np.isfinite(sys_error) and sys_error >= 0):
            raise ValueError(f"sys_error must be a finite fraction >= 0, got {sys_error}.")
        self.sys_error = float(sys_error)
        self.igm = igm_model(igm)  # ValueError naming the choices for an unknown model

        self.pivots = np.array([f.pivot for f in filters])
        self.template_error = self._check_template_error(template_error)
        self.prior, self.prior_band = self._check_prior(prior, prior_band)
        self._build_models()

    # -- construction helpers

    @property
    def n_templates(self) -> int:
        return self.templates.shape[0]

    @property
    def n_filters(self) -> int:
        return len(self.filters)

    def __repr__(self) -> str:
        return (
            f"TemplateFitter({self.n_templates} templates, {self.n_filters} filters, "
            f"{self.z_grid.size} redshifts {self.z_grid[0]:.3g}-{self.z_grid[-1]:.3g}, "
            f"igm={self.igm}, template_error={self.template_error is not None}, "
            f"prior={self.prior is not None})"
        )

    def _check_template_error(self, template_error):
        self._tef = None
        if template_error is None:
            return None
        if not isinstance(template_error, tuple | list) or len(template_error) != 2:
            raise TypeError("template_error must be a tuple (wave_rest, frac) of two 1-D arrays.")
        te_wave = _increasing(
            _as_1d(template_error[0], "template_error wave"), "template_error wave"
        )
        te_frac = _as_1d(template_error[1], "template_error frac")
        if te_frac.shape != te_wave.shape:
            raise ValueError(
                f"template_error frac must match its wavelengths in length, got {te_frac.size} "
                f"and {te_wave.size}."
            )
        if np.any(te_frac < 0):
            raise ValueError("template_error frac must be non-negative fractional errors.")
        rest = self.pivots[None, :] / (1 + self.z_grid[:, None])  # (Z, F)
        self._tef = np.interp(rest, te_wave, te_frac)
        return te_wave, te_frac

    def _check_prior(self, prior, prior_band):
        self._prior_grid = None
        if prior is None:
            if prior_band is not None:
                raise ValueError("prior_band was given without a prior; pass prior=(z, mags, p).")
            return None, None
        if not isinstance(prior, tuple | list) or len(prior) != 3:
            raise TypeError(
                "prior must be a tuple (z, mags, p) with p of shape (len(z), len(mags))."
            )
        pz = _increasing(_as_1d(prior[0], "prior z"), "prior z")
        pm = np.atleast_1d(np.asarray(prior[1], dtype=float))
        if pm.ndim != 1 or not np.isfinite(pm).all():
            raise ValueError("prior mags must be a finite 1-D array of magnitudes.")
        _increasing(pm, "prior mags")
        try:
            pp = np.asarray(prior[2], dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                "prior p must be a numeric array of shape (len(z), len(mags))."
            ) from None
        if pp.shape != (pz.size, pm.size):
            raise ValueError(
                f"prior p must have shape (len(z), len(mags)) = {(pz.size, pm.size)}, got "
                f"{pp.shape}; transpose it if it is (mags, z)."
            )
        if not np.isfinite(pp).all() or np.any(pp < 0) or not np.any(pp > 0):
            raise ValueError("prior p must be finite, non-negative and positive somewhere.")
        if (
            prior_band is None
            or isinstance(prior_band, bool)
            or not isinstance(prior_band, numbers.Integral)
        ):
            raise ValueError(
                "prior_band must be the integer index of the band whose magnitude selects the "
                "prior column (e.g. the R band)."
            )
        if not 0 <= prior_band < self.n_filters:
            raise ValueError(
                f"prior_band must index one of the {self.n_filters} filters, got {prior_band}."
            )
        # (Z, M): each magnitude column interpolated onto the fit's grid (clamped at the ends).
        self._prior_grid = np.stack([np.interp(self.z_grid, pz, col) for col in pp.T], axis=1)
        return (pz, pm, pp), int(prior_band)

    def _build_models(self):
        lo = min(f.wave[0] for f in self.filters)
        hi = max(f.wave[-1] for f in self.filters)
        need = (lo / (1 + self.z_grid[-1]), hi / (1 + self.z_grid[0]))
        if need[0] < self.wave[0] or need[1] > self.wave[-1]:
            warnings.warn(
                f"the templates cover {self.wave[0]:.0f}-{self.wave[-1]:.0f} A (rest) but the "
                f"filters see {need[0]:.0f}-{need[1]:.0f} A over z_grid; the templates are taken "
                "as zero outside their range, so extend them or narrow z_grid.",
                UserWarning,
                stacklevel=3,
            )
        model = np.empty((self.z_grid.size, self.n_templates, self.n_filters))
        for k, filt in enumerate(self.filters):  # a loop over a dozen filters
            # Each band on its own grid (log steps + the curve's own points), so that a band's
            # model fluxes do not depend on which other filters are fitted.
            w0, w1 = filt.wave[0], filt.wave[-1]
            grid = w0 * np.exp(_OBS_STEP * np.arange(int(np.log(w1 / w0) / _OBS_STEP) + 1))
            obs = np.unique(np.concatenate([grid, filt.wave]))
            row = band_flux_matrix(obs, [filt])[0]  # (L,)
            step = max(1, int(2e7 // (self.n_templates * obs.size)))  # <= ~160 MB of SEDs
            for i in range(0, self.z_grid.size, step):  # chunks of redshifts, for memory only
                zs = self.z_grid[i : i + step]
                model[i : i + step, :, k] = (
                    redshift_sed(self.wave, self.templates, zs, obs, igm=self.igm) @ row
                )
        scale = model.max(axis=(0, 2))
        if np.any(scale <= 0):
            raise ValueError(
                f"template(s) {np.flatnonzero(scale <= 0).tolist()} give no flux in any filter at "
                "any redshift of z_grid; check the template wavelengths (Angstrom, rest frame)."
            )
        self.template_scale = scale
        self.model = model / scale[None, :, None]  # (Z, T, F)
        z_n, t_n, f_n = self.model.shape
        # Products of template pairs per band, for the Gram matrices: (Z, F, T*T).
        prod = self.model[:, :, None, :] * self.model[:, None, :, :]
        self._pairs = np.ascontiguousarray(prod.reshape(z_n, t_n * t_n, f_n).transpose(0, 2, 1))
        self._pairs_flat = np.ascontiguousarray(prod.reshape(z_n * t_n * t_n, f_n).T)  # (F, Z*T*T)

    # -- inputs

    def _check_photometry(self, flux, err):
        arrays = []
        for name, value in (("flux", flux), ("err", err)):
            try:
                arr = np.array(value, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{name} must be a numeric array of shape (N, {self.n_filters}), got "
                    f"{type(value).__name__}."
                ) from None
            if arr.ndim == 1:
                arr = arr[None, :]
            if arr.ndim != 2 or arr.shape[1] != self.n_filters:
                raise ValueError(
                    f"{name} must have shape (N, {self.n_filters}), one column per filter in the "
                    f"fitter's band order, got {np.shape(value)}."
                )
            arrays.append(arr)
        flux, err = arrays
        if flux.shape != err.shape:
            raise ValueError(
                f"flux and err must have the same shape, got {flux.shape} and {err.shape}."
            )
        if not flux.shape[0]:
            raise ValueError("flux is empty; pass at least one galaxy.")
        missing = (
            ~np.isfinite(flux)
            | (flux <= NOT_OBSERVED)
            | (err <= NOT_OBSERVED)
            | (err == 0)
            | np.isposinf(err)
        )
        if np.any(np.isnan(err) & ~missing):
            raise ValueError(
                "err is NaN where the flux is valid; give a finite error or mark the band as "
                "missing with -99 in both flux and err."
            )
        if np.any((err < 0) & ~missing):
            raise ValueError(
                "err has negative values where the flux is valid; errors must be positive (use "
                "-99 to mark a band with no data)."
            )
        use = ~missing
        flux = np.where(use, flux, 0.0)
        err = np.where(use, err, 1.0)
        return flux, err, use

    def _weights(self, flux, err, use):
        """Inverse variances, (N, F) without a template error, (N, Z, F) with one."""
        fpos = np.maximum(flux, 0.0)
        var = err**2 + (self.sys_error * fpos) ** 2
        if self._tef is None:
            return np.where(use, 1.0 / var, 0.0)
        var = var[:, None, :] + (self._tef[None, :, :] * fpos[:, None, :]) ** 2
        return np.where(use[:, None, :], 1.0 / var, 0.0)

    def _log_prior(self, flux, use):
        """ln prior (N, Z), or None without a prior; and which galaxies got a flat prior."""
        if self._prior_grid is None:
            return None, np.zeros(len(flux), dtype=bool)
        _, mags, _ = self.prior
        return magnitude_prior(
            self._prior_grid, mags, flux[:, self.prior_band], use[:, self.prior_band]
        )

    # -- solvers: (flux (n, F), weights) -> chi2 (n, Z), coeffs (n, Z, T)

    def _solve_vectorised(self, flux, w):
        z_n, t_n, f_n = self.model.shape
        n = len(flux)
        if w.ndim == 2:
            gram = (w @ self._pairs_flat).reshape(n, z_n, t_n, t_n)
            rhs = ((w * flux) @ self.model.reshape(z_n * t_n, f_n).T).reshape(n, z_n, t_n)
        else:
            gram = np.matmul(w.transpose(1, 0, 2), self._pairs)  # (Z, n, T*T)
            gram = gram.transpose(1, 0, 2).reshape(n, z_n, t_n, t_n)
            wf = w * flux[:, None, :]
            rhs = np.matmul(wf.transpose(1, 0, 2), self.model.transpose(0, 2, 1))
            rhs = rhs.transpose(1, 0, 2)  # (n, Z, T)
        # Lawson-Hanson on every 4th redshift; the others start block principal pivoting from
        # the positive set of the nearest solved redshift (right there ~90% of the time).
        solved = np.unique(np.r_[np.arange(0, z_n, _Z_STRIDE), z_n - 1])
        others = np.setdiff1d(np.arange(z_n), solved)
        coeffs = np.empty((n, z_n, t_n))
        coeffs[:, solved] = nnls_batched(
            gram[:, solved].reshape(-1, t_n, t_n), rhs[:, solved].reshape(-1, t_n)
        ).reshape(n, solved.size, t_n)
        if others.size:
            pos = np.searchsorted(solved, others)
            left, right = solved[pos - 1], solved[np.minimum(pos, solved.size - 1)]
            near = np.where(others - left <= right - others, left, right)
            coeffs[:, others] = nnls_batched(
                gram[:, others].reshape(-1, t_n, t_n),
                rhs[:, others].reshape(-1, t_n),
                guess=(coeffs[:, near] > 0).reshape(-1, t_n),
            ).reshape(n, others.size, t_n)
        fit = np.matmul(coeffs.transpose(1, 0, 2), self.model).transpose(1, 0, 2)  # (n, Z, F)
        wz = w[:, None, :] if w.ndim == 2 else w
        chi2 = np.sum(wz * (flux[:, None, :] - fit) ** 2, axis=2)
        return chi2, coeffs

    def _solve_loop(self, flux, w):
        z_n, t_n, _ = self.model.shape
        chi2 = np.zeros((len(flux), z_n))
        coeffs = np.zeros((len(flux), z_n, t_n))
        for i in range(len(flux)):
            for j in range(z_n):
                wij = w[i] if w.ndim == 2 else w[i, j]
                ok = wij > 0
                sw = np.sqrt(wij[ok])
                design = (self.model[j][:, ok] * sw).T  # (bands, T)
                try:
                    coef, _ = nnls(design, flux[i, ok] * sw, maxiter=50 * t_n)
                except RuntimeError:  # scipy's iteration limit (rank-deficient cases)
                    gram = design.T @ design
                    coef = nnls_batched(gram[None], (design.T @ (flux[i, ok] * sw))[None])[0]
                coeffs[i, j] = coef
                chi2[i, j] = np.sum(wij[ok] * (flux[i, ok] - coef @ self.model[j][:, ok]) ** 2)
        return chi2, coeffs

    # -- fitting

    def _chunk_size(self) -> int:
        z_n, t_n, f_n = self.model.shape
        per_galaxy = z_n * (8 * t_n * t_n + 4 * f_n + 6 * t_n) * 8
        return max(1, int(_MEMORY_BUDGET // per_galaxy))

    def _run(self, flux, err, solver, chunk_size):
        flux, err, use = self._check_photometry(flux, err)
        n_gal = len(flux)
        z = self.z_grid
        z_n, t_n, f_n = self.model.shape
        n_bands = use.sum(axis=1)
        skipped = n_bands < 2
        notes = []
        if skipped.any():
            notes.append(
                f"{int(skipped.sum())} of {n_gal} galaxies have fewer than 2 usable bands and "
                f"were not fitted (results NaN): rows {np.flatnonzero(skipped)[:20].tolist()}"
                + (" ..." if skipped.sum() > 20 else "")
                + "."
            )
        log_prior, flat = self._log_prior(flux, use)
        n_flat = int(np.sum(flat & ~skipped))
        if n_flat:
            notes.append(
                f"{n_flat} galaxies have no positive flux in the prior band "
                f"({self.filters[self.prior_band].name}) and were given a flat prior."
            )

        chi2 = np.full((n_gal, z_n), np.nan)
        pz = np.full((n_gal, z_n), np.nan)
        z_best = np.full(n_gal, np.nan)
        iz_best = np.full(n_gal, -1)
        coeffs = np.full((n_gal, t_n), np.nan)
        rows = np.flatnonzero(~skipped)
        if chunk_size is None:
            chunk_size = self._chunk_size()
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
            raise TypeError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}.")
        dz = np.diff(z)
        for start in range(0, rows.size, chunk_size):
            idx = rows[start : start + chunk_size]
            w = self._weights(flux[idx], err[idx], use[idx])
            c2, co = solver(flux[idx], w)
            lnp = -0.5 * c2
            if log_prior is not None:
                lnp = lnp + log_prior[idx]
            peak = np.argmax(lnp, axis=1)
            r = np.arange(idx.size)
            p = np.exp(lnp - lnp[r, peak][:, None])
            norm = np.sum(0.5 * (p[:, 1:] + p[:, :-1]) * dz, axis=1) if z_n > 1 else np.ones(1)
            pz[idx] = p / norm[:, None]
            chi2[idx] = c2
            iz_best[idx] = peak
            coeffs[idx] = co[r, peak]
            z_best[idx] = self._refine_peak(lnp, peak)
        z_mean = np.full(n_gal, np.nan)
        if rows.size and z_n > 1:
            zp = pz[rows] * z
            z_mean[rows] = np.sum(0.5 * (zp[:, 1:] + zp[:, :-1]) * dz, axis=1)
        elif rows.size:
            z_mean[rows] = z[0]
        model_flux = np.full((n_gal, f_n), np.nan)
        if rows.size:
            model_flux[rows] = np.einsum("nt,ntf->nf", coeffs[rows], self.model[iz_best[rows]])
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=3)
        chi2_min = np.full(n_gal, np.nan)
        chi2_min[rows] = chi2[rows].min(axis=1)
        return TemplateFitResult(
            z_best=z_best,
            z_mean=z_mean,
            chi2_min=chi2_min,
            chi2=chi2,
            pz=pz,
            z_grid=z.copy(),
            iz_best=iz_best,
            coeffs=coeffs,
            model_flux=model_flux,
            n_bands=n_bands,
            skipped=skipped,
            notes=notes,
        )

    def _refine_peak(self, lnp, peak):
        return parabola_peak(self.z_grid, lnp, peak)

    def fit(self, flux, err, *, chunk_size: int | None = None) -> TemplateFitResult:
        """Fit catalogue fluxes ``flux`` and errors ``err`` (N, F), AB zero-point 25, in the
        filters' order; -99 marks a band with no data. Vectorised over galaxies and redshifts,
        ``chunk_size`` galaxies at a time (default: about 0.5 GB of working arrays)."""
        return self._run(flux, err, self._solve_vectorised, chunk_size)

    def fit_loop(self, flux, err) -> TemplateFitResult:
        """The plain reference for ``fit``: a Python loop over galaxies and redshifts calling
        ``scipy.optimize.nnls`` on the same weighted problems (same chi2, p(z), z_best)."""
        return self._run(flux, err, self._solve_loop, 256)
