"""The fair template fit's pieces: the survey-like spectroscopic selection, the magnitude prior
measured on a training set, and the oracle fit with each galaxy's own spectrum."""

import numpy as np
import pytest

from a3net import metrics
from a3net.baselines.photoz import TemplateFitter, eazy_z_grid
from a3net.baselines.photoz_fair import fit_magnitude_prior, own_template_fit
from a3net.data import photometry


@pytest.fixture(scope="module")
def survey():
    return photometry.simulate_catalogue(6000, seed=3, spec_fraction=0.05, line_bias=1.5)


def _galaxies(sim):
    cat, truth = sim.catalogue, sim.truth
    return (cat.star_flag == 0).to_numpy(), cat, truth


def test_spectroscopic_selection_is_a_few_per_cent_bright_and_line_biased(survey):
    gal, cat, truth = _galaxies(survey)
    spec = (cat.z_spec > 0).to_numpy() & gal
    assert 0.04 < spec.sum() / gal.sum() < 0.06
    mag = 25 - 2.5 * np.log10(np.clip(cat.f_F160W.to_numpy(), 1e-3, None))
    assert np.median(mag[spec]) < np.median(mag[gal & ~spec]) - 1.0
    # at the same magnitude, star-forming galaxies get a spectrum more often
    neutral = photometry.simulate_catalogue(6000, seed=3, spec_fraction=0.05, line_bias=0.0)
    g0, cat0, truth0 = _galaxies(neutral)
    spec0 = (cat0.z_spec > 0).to_numpy() & g0
    sf_share_biased = (~truth.quiescent.to_numpy()[spec]).mean()
    sf_share_neutral = (~truth0.quiescent.to_numpy()[spec0]).mean()
    assert sf_share_biased > sf_share_neutral + 0.03


def test_line_bias_is_checked():
    with pytest.raises(ValueError, match="line_bias"):
        photometry.simulate_catalogue(100, line_bias=float("nan"))
    with pytest.raises(TypeError, match="line_bias"):
        photometry.simulate_catalogue(100, line_bias="strong")


def test_own_model_fluxes_reproduce_the_catalogue_truth(survey):
    gal, cat, truth = _galaxies(survey)
    rows = np.flatnonzero(gal)[:40]
    bands = list(photometry.BANDS)
    z_true = truth.z_true.to_numpy()[rows]
    model = photometry.galaxy_band_fluxes(truth.iloc[rows], z_true[:1], bands)
    assert model.shape == (40, 1, len(bands))
    own = np.stack(
        [
            photometry.galaxy_band_fluxes(truth.iloc[[r]], [z], bands)[0, 0]
            for r, z in zip(rows, z_true, strict=True)
        ]
    )
    expected = truth.iloc[rows][[f"ftrue_{b}" for b in bands]].to_numpy()
    np.testing.assert_allclose(own, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="z_grid"):
        photometry.galaxy_band_fluxes(truth.iloc[rows[:2]], [0.5, 6.0], bands)


def test_oracle_fit_recovers_noiseless_redshifts_and_beats_templates(survey):
    gal, cat, truth = _galaxies(survey)
    rows = np.flatnonzero(gal & (cat.use_phot == 1).to_numpy())[:300]
    bands = list(photometry.BANDS)
    flux = cat.iloc[rows][[f"f_{b}" for b in bands]].to_numpy()
    err = cat.iloc[rows][[f"e_{b}" for b in bands]].to_numpy()
    z_true = truth.z_true.to_numpy()[rows]
    grid = eazy_z_grid(0.02, 4.5, 0.01)
    model = photometry.galaxy_band_fluxes(truth.iloc[rows], grid, bands)
    noiseless = np.where(flux < -90, -99.0, truth.iloc[rows][[f"ftrue_{b}" for b in bands]])
    exact = own_template_fit(noiseless, err, model, grid)
    assert np.mean(np.abs(exact.z_best - z_true) < 0.01 * (1 + z_true)) > 0.97
    assert exact.coeffs.shape == (300, 1) and np.allclose(np.trapezoid(exact.pz, grid), 1)
    oracle = own_template_fit(flux, err, model, grid)
    wave, flam, _ = photometry.sed_templates()
    fitter = TemplateFitter(wave, flam, photometry.photometry_filters(bands), z_grid=grid)
    templates = fitter.fit(flux, err)
    assert metrics.sigma_nmad(z_true, oracle.z_best) < 0.7 * metrics.sigma_nmad(
        z_true, templates.z_best
    )
    with pytest.raises(ValueError, match="model must have shape"):
        own_template_fit(flux, err, model[:, :-1], grid)


def test_magnitude_prior_follows_the_training_set():
    rng = np.random.default_rng(0)
    mag = rng.uniform(18, 26, 4000)
    z = np.clip(0.3 * (mag - 17) + rng.normal(0, 0.2, mag.size), 0.01, None)
    grid = eazy_z_grid(0.01, 6.0, 0.01)
    z_out, mags, p = fit_magnitude_prior(z, mag, grid)
    assert p.shape == (grid.size, mags.size) and np.all(np.diff(mags) > 0)
    np.testing.assert_allclose(np.trapezoid(p, grid, axis=0), 1.0, rtol=1e-9)
    means = np.trapezoid(p * grid[:, None], grid, axis=0)
    expected = 0.3 * (mags - 17)
    assert np.max(np.abs(means - expected)) < 0.15
    # thin bins are merged: with 60 galaxies and min_count 30 at most two columns remain
    _, few, _ = fit_magnitude_prior(z[:60], mag[:60], grid, min_count=30)
    assert few.size <= 2
    with pytest.raises(ValueError, match="min_count"):
        fit_magnitude_prior(z[:10], mag[:10], grid)
    with pytest.raises(ValueError, match="same length"):
        fit_magnitude_prior(z[:50], mag[:40], grid)


def test_magnitude_prior_plugs_into_the_template_fitter():
    rng = np.random.default_rng(1)
    mag = rng.uniform(20, 25, 500)
    z = rng.uniform(0.1, 3, 500)
    grid = eazy_z_grid(0.02, 4.0, 0.02)
    prior = fit_magnitude_prior(z, mag, grid)
    wave, flam, _ = photometry.sed_templates()
    fitter = TemplateFitter(
        wave, flam, photometry.photometry_filters(), z_grid=grid, prior=prior, prior_band=9
    )
    assert fitter.prior is not None


def test_zeropoint_offsets_recover_a_miscalibrated_band(survey):
    from a3net.baselines.photoz_fair import apply_offsets, zeropoint_offsets

    gal, cat, truth = _galaxies(survey)
    rows = np.flatnonzero(gal & (cat.use_phot == 1).to_numpy())[:600]
    bands = list(photometry.BANDS)
    noiseless = truth.iloc[rows][[f"ftrue_{b}" for b in bands]].to_numpy()
    err = cat.iloc[rows][[f"e_{b}" for b in bands]].to_numpy()
    flux = np.where(err < -90, -99.0, noiseless)
    z_true = truth.z_true.to_numpy()[rows]
    grid = eazy_z_grid(0.02, 4.5, 0.01)
    wave, flam, _ = photometry.sed_templates()
    fitter = TemplateFitter(wave, flam, photometry.photometry_filters(bands), z_grid=grid)
    base = zeropoint_offsets(fitter, flux, err, z_true)
    k = bands.index("F125W")
    broken = flux.copy()
    broken[:, k] = np.where(flux[:, k] > -90, 1.15 * flux[:, k], flux[:, k])
    fixed = zeropoint_offsets(fitter, broken, err, z_true)
    # most of a 15% error in one band comes back as a correction (1/1.15 = 0.870; the fit at
    # fixed z follows the broken band a little, so about 80% is recovered), the others stay put
    assert 0.86 < fixed[k] / base[k] < 1 - (2 / 3) * (1 - 1 / 1.15)
    others = np.arange(len(bands)) != k
    np.testing.assert_allclose(fixed[others], base[others], rtol=0.05)  # neighbours share a little
    f2, e2 = apply_offsets(broken, err, fixed)
    assert np.all(f2[broken < -90] == -99.0)
    with pytest.raises(ValueError, match="bands but the fitter"):
        zeropoint_offsets(fitter, flux[:, :5], err[:, :5], z_true)
