"""Template-fitting photometric redshifts (a3net.baselines.photoz), on synthetic data built here:
three smooth rest-frame SEDs with a 4000 A break and a Lyman break, 13 Gaussian filters from
about 3000 to 50000 A, and galaxies that are random non-negative mixtures of the templates."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.optimize import nnls

from a3net.baselines.photoz import TemplateFitResult, TemplateFitter, eazy_z_grid, nnls_batched
from a3net.data.sed import FilterCurve, band_fluxes, redshift_sed

REST = np.geomspace(300, 60000, 3000)  # rest-frame template grid [A]
OBS = np.geomspace(2000, 60000, 6000)  # observed grid used to make the mock photometry


def _step(wave, edge, width, low):
    """1 above ``edge``, ``low`` below, a tanh transition ``width`` A wide."""
    return low + (1 - low) * 0.5 * (1 + np.tanh((wave - edge) / width))


def _templates() -> np.ndarray:
    x = REST / 5000
    shapes = [  # (continuum, 4000 A break depth, flux left below the Lyman limit)
        (x * np.exp(-x / 3), 0.3, 0.05),  # old and red: strong 4000 A break
        (x**-1.5 * np.exp(-x / 8), 0.9, 0.01),  # young and blue: strong Lyman break
        (np.exp(-x / 5), 0.6, 0.1),  # in between
    ]
    out = [c * _step(REST, 4000, 60, b) * _step(REST, 912, 20, ly) for c, b, ly in shapes]
    return np.array([t / t.max() for t in out])


def _filters(n: int = 13) -> list[FilterCurve]:
    out = []
    for i, centre in enumerate(np.geomspace(3600, 44000, n)):
        sigma = centre / 5 / 2.355  # R = 5 broad bands
        w = np.linspace(centre - 3.5 * sigma, centre + 3.5 * sigma, 200)
        out.append(FilterCurve(f"G{i}", w, np.exp(-0.5 * ((w - centre) / sigma) ** 2)))
    return out


TEMPLATES = _templates()
FILTERS = _filters()


def _galaxies(rng, n, snr=None, z_range=(0.1, 4.0), filters=FILTERS):
    """True z (n,), catalogue fluxes and errors (n, F): noiseless with S/N 100 errors when
    ``snr`` is None, else Gaussian noise at S/N ``snr`` in every band."""
    z = rng.uniform(*z_range, n)
    mix = rng.dirichlet(np.full(len(TEMPLATES), 0.7), n)
    seds = np.einsum("nt,ntl->nl", mix, redshift_sed(REST, TEMPLATES, z, OBS))
    flux = band_fluxes(OBS, seds, filters)
    flux *= (10 ** (-0.4 * (22 - 25)) / flux[:, 8])[:, None]  # AB mag 22 in band 8
    if snr is None:
        return z, flux, np.abs(flux) / 100
    err = np.abs(flux) / snr
    return z, flux + rng.normal(size=flux.shape) * err, err


def _nmad(z_phot, z_true):
    dz = (z_phot - z_true) / (1 + z_true)
    return 1.4826 * np.median(np.abs(dz - np.median(dz)))


@pytest.fixture(scope="module")
def fitter():
    return TemplateFitter(REST, TEMPLATES, FILTERS)


@pytest.fixture(scope="module")
def noisy():
    return _galaxies(np.random.default_rng(1), 300, snr=20)


def test_eazy_z_grid_is_eazys_default():
    z = eazy_z_grid()
    assert z[0] == pytest.approx(0.01) and z[-1] <= 6.0 < z[-1] + 0.01 * (1 + z[-1]) + 1e-9
    np.testing.assert_allclose(np.diff(z) / (1 + z[:-1]), 0.01, rtol=1e-9)
    assert z.size == 195


def test_model_grid_is_cheap_and_normalised(fitter):
    assert fitter.model.shape == (fitter.z_grid.size, 3, len(FILTERS))
    np.testing.assert_allclose(fitter.model.max(axis=(0, 2)), 1.0)
    nine = np.vstack([TEMPLATES * (REST / 5000) ** a for a in (-0.3, 0.0, 0.3)])
    start = time.perf_counter()
    big = TemplateFitter(REST, nine, FILTERS, z_grid=np.linspace(0.01, 6, 600))
    seconds = time.perf_counter() - start
    print(f"\nmodel grid (600 z, 9 templates, 13 filters) built in {seconds:.2f} s")
    assert big.model.shape == (600, 9, 13) and seconds < 10
    # The grid matches band_fluxes of the redshifted templates (to the integration accuracy).
    direct = band_fluxes(OBS, redshift_sed(REST, TEMPLATES, fitter.z_grid[::20], OBS), FILTERS)
    ratio = fitter.model[::20] * fitter.template_scale[None, :, None] / direct
    np.testing.assert_allclose(ratio[direct > 1e-3 * direct.max()], 1.0, rtol=5e-3)


def test_noiseless_galaxies_recover_their_redshift(fitter):
    z, flux, err = _galaxies(np.random.default_rng(0), 300)
    res = fitter.fit(flux, err)
    dz = np.abs(res.z_best - z) / (1 + z)
    assert np.mean(dz < 0.01) > 0.95, f"only {np.mean(dz < 0.01):.1%} within 0.01 (1 + z)"
    # The best-fit model reproduces the photometry (coefficients times the normalised grid).
    off = np.abs(res.model_flux - flux)  # z_best's grid point is up to half a step away
    assert np.all(off <= 0.05 * np.abs(flux) + 0.01 * flux.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        res.model_flux, np.einsum("nt,ntf->nf", res.coeffs, fitter.model[res.iz_best])
    )


def test_noisy_galaxies_sigma_nmad(fitter, noisy):
    z, flux, err = noisy
    res = fitter.fit(flux, err)
    nmad = _nmad(res.z_best, z)
    outliers = np.mean(np.abs(res.z_best - z) / (1 + z) > 0.15)
    lo, hi = res.interval(0.68)
    inside = np.mean((z >= lo) & (z <= hi))
    print(f"\nS/N 20: sigma_NMAD {nmad:.4f}, outliers {outliers:.1%}, 68% holds {inside:.0%}")
    assert nmad < 0.03
    assert outliers < 0.05
    assert 0.5 < inside < 0.95  # p(z) is roughly calibrated (the 1% error floor widens it)


def test_pz_is_normalised_and_summaries_consistent(fitter, noisy):
    _, flux, err = noisy
    res = fitter.fit(flux[:50], err[:50])
    assert isinstance(res, TemplateFitResult) and len(res) == 50
    area = np.sum(0.5 * (res.pz[:, 1:] + res.pz[:, :-1]) * np.diff(res.z_grid), axis=1)
    np.testing.assert_allclose(area, 1.0, rtol=1e-12)
    assert np.all(res.pz >= 0)
    np.testing.assert_allclose(res.chi2_min, res.chi2.min(axis=1))
    lo, hi = res.interval(0.68)
    wide_lo, wide_hi = res.interval(0.95)
    assert np.all((wide_lo <= lo) & (lo <= res.percentile(0.5)) & (res.percentile(0.5) <= hi))
    assert np.all(hi <= wide_hi)
    np.testing.assert_allclose(res.z_lo, lo)
    np.testing.assert_allclose(res.z_hi, hi)
    # z_best sits within a grid step of its grid point; z_mean inside the grid.
    step = 0.011 * (1 + res.z_grid[res.iz_best])
    assert np.all(np.abs(res.z_best - res.z_grid[res.iz_best]) <= step)
    assert np.all((res.z_mean > res.z_grid[0]) & (res.z_mean < res.z_grid[-1]))
    frame = res.to_frame()
    assert list(frame.columns[:4]) == ["z_best", "z_mean", "z_lo", "z_hi"] and len(frame) == 50


def test_vectorised_fit_matches_the_scipy_nnls_loop():
    rng = np.random.default_rng(5)
    z, flux, err = _galaxies(rng, 20, snr=10)
    flux[rng.random(flux.shape) < 0.15] = -99.0  # some missing bands
    flux[:2, 4:] = -99.0  # two galaxies with only 4 bands (rank-deficient problems)
    tef = (np.array([500.0, 2000.0, 8000.0, 40000.0]), np.array([0.3, 0.1, 0.05, 0.2]))
    fitter = TemplateFitter(REST, TEMPLATES, FILTERS, template_error=tef)
    fast, slow = fitter.fit(flux, err), fitter.fit_loop(flux, err)
    # chi-square at every redshift: 1e-3 relative, or rounding where the fit is near exact.
    np.testing.assert_allclose(fast.chi2, slow.chi2, rtol=1e-3, atol=1e-8)
    well = slow.chi2_min > 1e-3  # where the minimum is unique (not an exact fit at many z)
    assert well.sum() >= 15
    np.testing.assert_array_equal(fast.iz_best[well], slow.iz_best[well])
    np.testing.assert_allclose(fast.z_best[well], slow.z_best[well], rtol=1e-6)
    np.testing.assert_allclose(fast.pz[well], slow.pz[well], rtol=1e-3, atol=1e-6)


def test_chunks_and_single_galaxies_give_the_same_answer(fitter, noisy):
    _, flux, err = noisy
    whole = fitter.fit(flux[:23], err[:23])
    chunked = fitter.fit(flux[:23], err[:23], chunk_size=5)
    np.testing.assert_allclose(chunked.chi2, whole.chi2, rtol=1e-12)  # BLAS rounding only
    np.testing.assert_allclose(chunked.z_best, whole.z_best, rtol=1e-9)
    one = fitter.fit(flux[3], err[3])  # a single galaxy as a 1-D row
    np.testing.assert_allclose(one.chi2[0], whole.chi2[3], rtol=1e-10)
    with pytest.raises(TypeError, match="chunk_size"):
        fitter.fit(flux[:3], err[:3], chunk_size=2.5)


def test_nnls_batched_against_scipy():
    rng = np.random.default_rng(3)
    n, bands, t = 400, 8, 6
    design = rng.random((n, bands, t)) * rng.random((n, 1, t))  # non-negative, uneven columns
    design[:50, :, :2] = design[:50, :, 2:4]  # duplicated columns: singular Gram matrices
    design[50:80, :, 5] = 0.0  # a template with no flux in any band
    y = np.einsum("nbt,nt->nb", design, rng.random((n, t)) * (rng.random((n, t)) < 0.5))
    y += rng.normal(size=y.shape) * 0.05 * np.abs(y).mean()
    gram = np.einsum("nbt,nbs->nts", design, design)
    rhs = np.einsum("nbt,nb->nt", design, y)
    ref = np.array([nnls(d, v, maxiter=500)[1] ** 2 for d, v in zip(design, y, strict=True)])
    for guess in (None, rng.random((n, t)) < 0.5):
        coef = nnls_batched(gram, rhs, guess=guess)
        assert np.all(coef >= 0)
        chi2 = np.sum((y - np.einsum("nbt,nt->nb", design, coef)) ** 2, axis=1)
        np.testing.assert_allclose(chi2, ref, rtol=1e-6, atol=1e-12 * np.sum(y**2))
        assert np.all(coef[50:80, 5] == 0)


def test_a_missing_band_is_ignored(fitter, noisy):
    _, flux, err = noisy
    flux, err = flux[:30], err[:30]
    extra = FilterCurve("X", np.linspace(20000, 30000, 50), np.ones(50))
    wider = TemplateFitter(REST, TEMPLATES, [*FILTERS, extra])
    pad = np.full((30, 1), -99.0)
    base = fitter.fit(flux, err)
    for f_extra, e_extra in ((pad, pad), (pad, np.ones((30, 1))), (np.ones((30, 1)), pad)):
        res = wider.fit(np.hstack([flux, f_extra]), np.hstack([err, e_extra]))
        np.testing.assert_allclose(res.chi2, base.chi2, rtol=1e-9)
        np.testing.assert_array_equal(res.z_best, base.z_best)
        assert np.all(res.n_bands == len(FILTERS))
    # NaN fluxes and zero errors also mark missing bands.
    holes = flux.copy()
    holes[:, 3] = np.nan
    zero_err = err.copy()
    zero_err[:, 3] = 0.0
    dropped = TemplateFitter(REST, TEMPLATES, FILTERS[:3] + FILTERS[4:])
    want = dropped.fit(np.delete(flux, 3, axis=1), np.delete(err, 3, axis=1))
    for f, e in ((holes, err), (flux, zero_err)):
        np.testing.assert_allclose(fitter.fit(f, e).chi2, want.chi2, rtol=1e-9)


def test_galaxies_without_data_are_reported_not_fitted(fitter, noisy):
    _, flux, err = noisy
    flux, err = flux[:5].copy(), err[:5].copy()
    flux[1] = -99.0
    err[1] = -99.0
    flux[3, 1:] = -99.0  # a single usable band
    with pytest.warns(UserWarning, match="fewer than 2 usable bands"):
        res = fitter.fit(flux, err)
    assert res.skipped.tolist() == [False, True, False, True, False]
    assert res.n_bands.tolist() == [13, 0, 13, 1, 13]
    assert np.isnan(res.z_best[[1, 3]]).all() and np.isnan(res.pz[1]).all()
    assert np.isfinite(res.z_best[[0, 2, 4]]).all()
    assert np.isnan(res.z_lo[1]) and np.isfinite(res.z_lo[0])
    assert any("rows [1, 3]" in note for note in res.notes)


def _gaussian_prior(z_peaks, mags=(20.0, 26.0), width=0.3):
    z = np.linspace(0, 7, 141)
    p = np.stack([np.exp(-0.5 * ((z - zp) / width) ** 2) for zp in z_peaks], axis=1)
    return z, np.array(mags), p


def test_prior_pulls_z_best_towards_its_peak(noisy):
    z, flux, err = noisy
    keep = z > 1.2
    flux, err, z = flux[keep][:60], err[keep][:60] * 4, z[keep][:60]  # S/N 5 errors
    rng = np.random.default_rng(7)
    flux = flux + rng.normal(size=flux.shape) * err
    flat = TemplateFitter(REST, TEMPLATES, FILTERS).fit(flux, err)
    prior = _gaussian_prior([0.5, 0.5])
    pulled = TemplateFitter(REST, TEMPLATES, FILTERS, prior=prior, prior_band=8).fit(flux, err)
    # Above the prior's peak the prior falls with z, so the posterior peak can only move down.
    assert np.all(pulled.iz_best <= flat.iz_best)
    assert np.mean(pulled.z_best < flat.z_best - 0.05) > 0.1
    assert np.mean(np.abs(pulled.z_best - 0.5)) < np.mean(np.abs(flat.z_best - 0.5))


def test_prior_column_follows_the_magnitude_in_a_degenerate_case(noisy):
    # Two usable near-infrared bands, three templates: the photometry fits at almost every z,
    # so the prior decides. One galaxy seen bright (mag 20) and faint (mag 26) in the prior
    # band has the same chi2(z); only the prior column differs.
    z, flux, err = noisy
    row = np.flatnonzero((z > 0.5) & (z < 1.5))[0]
    flux, err = np.repeat(flux[row : row + 1], 2, axis=0), np.repeat(err[row : row + 1], 2, axis=0)
    flux[:, :10] = -99.0
    flux[:, 12] = -99.0
    for i, mag in enumerate((20.0, 26.0)):
        factor = 10 ** (-0.4 * (mag - 25)) / flux[i, 10]
        flux[i, 10:12] *= factor
        err[i] *= factor
    prior = _gaussian_prior([0.5, 3.0])  # bright galaxies near z = 0.5, faint ones near 3
    fitter = TemplateFitter(REST, TEMPLATES, FILTERS, prior=prior, prior_band=10)
    res = fitter.fit(flux, err)
    np.testing.assert_allclose(res.chi2[0], res.chi2[1], rtol=1e-9, atol=1e-9)
    assert res.z_best[0] < 1.2 and res.z_best[1] > 2.5
    flat = TemplateFitter(REST, TEMPLATES, FILTERS).fit(flux, err)
    assert np.all(flat.interval()[1] - flat.interval()[0] > 1.0)  # no prior: p(z) is broad
    # p(z) = likelihood x prior column: the log ratio of the two posteriors is the log ratio of
    # the two columns, up to a constant.
    columns = [np.interp(fitter.z_grid, prior[0], prior[2][:, k]) for k in (0, 1)]
    expect = np.log(columns[0]) - np.log(columns[1])
    got = np.log(res.pz[0]) - np.log(res.pz[1])
    np.testing.assert_allclose(got - got[0], expect - expect[0], atol=1e-6)


def test_galaxies_without_flux_in_the_prior_band_get_a_flat_prior(noisy):
    _, flux, err = noisy
    flux = flux[:4].copy()
    flux[1, 8] = -0.5  # negative (noise) in the prior band
    flux[2, 8] = -99.0  # no data in the prior band
    prior = _gaussian_prior([0.5, 0.5])
    with pytest.warns(UserWarning, match="2 galaxies have no positive flux in the prior band"):
        res = TemplateFitter(REST, TEMPLATES, FILTERS, prior=prior, prior_band=8).fit(flux, err[:4])
    flat = TemplateFitter(REST, TEMPLATES, FILTERS).fit(flux, err[:4])
    np.testing.assert_allclose(res.pz[1:3], flat.pz[1:3])
    assert not np.allclose(res.pz[0], flat.pz[0])


def test_template_error_widens_the_errors(fitter, noisy):
    _, flux, err = noisy
    tef = (np.array([100.0, 60000.0]), np.array([0.05, 0.2]))
    with_te = TemplateFitter(REST, TEMPLATES, FILTERS, template_error=tef)
    a, b = fitter.fit(flux[:40], err[:40]), with_te.fit(flux[:40], err[:40])
    assert np.all(b.chi2 <= a.chi2 * (1 + 1e-9))
    assert np.mean(b.chi2_min) < 0.9 * np.mean(a.chi2_min)
    # More error -> broader p(z).
    width = np.mean(np.subtract(*b.interval()[::-1])) / np.mean(np.subtract(*a.interval()[::-1]))
    assert width > 1.0


def test_sys_error_floor_lowers_chi2(noisy):
    _, flux, err = noisy
    tight = TemplateFitter(REST, TEMPLATES, FILTERS, sys_error=0.0).fit(flux[:20], err[:20])
    loose = TemplateFitter(REST, TEMPLATES, FILTERS, sys_error=0.1).fit(flux[:20], err[:20])
    assert np.all(loose.chi2_min < tight.chi2_min)


def test_bad_inputs_raise_clear_errors(fitter, noisy):
    _, flux, err = noisy
    flux, err = flux[:3].copy(), err[:3].copy()
    cases = [
        ((flux, err[:, :5]), ValueError, "err must have shape"),
        ((flux[:, :12], err[:, :12]), ValueError, "flux must have shape"),
        ((flux, err[:2]), ValueError, "same shape"),
        ((flux, np.where(np.arange(13) == 2, np.nan, err)), ValueError, "err is NaN"),
        ((flux, -err), ValueError, "negative"),
        ((flux, "err"), TypeError, "err must be a numeric"),
        ((flux[:0], err[:0]), ValueError, "empty"),
    ]
    for args, kind, message in cases:
        with pytest.raises(kind, match=message):
            fitter.fit(*args)
    bad = TEMPLATES.copy()
    bad[0, 10] = np.nan
    neg = TEMPLATES.copy()
    neg[1, 10] = -1.0
    prior = _gaussian_prior([0.5, 1.0])
    builds = [
        (dict(z_grid=[0.5, 0.4, 1.0]), ValueError, "z_grid must be strictly increasing"),
        (dict(z_grid=[-0.1, 0.4, 1.0]), ValueError, "z_grid must be non-negative"),
        (dict(templates=bad), ValueError, "templates contain NaN"),
        (dict(templates=neg), ValueError, "templates must be non-negative"),
        (dict(templates=TEMPLATES[:, :-1]), ValueError, "templates must have shape"),
        (dict(filters=["U", "B"]), TypeError, "filters must be a non-empty list"),
        (dict(prior=(prior[0], prior[1], prior[2].T), prior_band=0), ValueError, "prior p"),
        (dict(prior=prior), ValueError, "prior_band"),
        (dict(prior=prior, prior_band=13), ValueError, "prior_band"),
        (dict(prior_band=2), ValueError, "without a prior"),
        (dict(template_error=([1.0, 2.0], [0.1])), ValueError, "template_error frac"),
        (dict(template_error=([1.0, 2.0], [0.1, -0.1])), ValueError, "non-negative"),
        (dict(sys_error=-0.1), ValueError, "sys_error"),
    ]
    for kwargs, kind, message in builds:
        args = dict(wave=REST, templates=TEMPLATES, filters=FILTERS) | kwargs
        with pytest.raises(kind, match=message):
            TemplateFitter(args.pop("wave"), args.pop("templates"), args.pop("filters"), **args)


def test_speed_vectorised_versus_loop(fitter):
    z, flux, err = _galaxies(np.random.default_rng(11), 200, snr=20)
    fitter.fit(flux[:5], err[:5])  # warm up
    start = time.perf_counter()
    fast = fitter.fit(flux, err)
    t_fast = time.perf_counter() - start
    start = time.perf_counter()
    slow = fitter.fit_loop(flux, err)
    t_slow = time.perf_counter() - start
    rate_fast, rate_slow = len(z) / t_fast, len(z) / t_slow
    print(
        f"\n{len(z)} galaxies x {fitter.z_grid.size} redshifts x {fitter.n_templates} templates: "
        f"vectorised {rate_fast:.0f} galaxies/s, scipy nnls loop {rate_slow:.0f} galaxies/s, "
        f"ratio {rate_fast / rate_slow:.1f}"
    )
    np.testing.assert_allclose(fast.chi2, slow.chi2, rtol=1e-3, atol=1e-8)
