"""Chapters E and H's baselines on the Gaussian control: spectrum, exact likelihood, Fisher."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import r2_score

from a3net.baselines.cosmology import (
    SUMMARY_BLOCKS,
    ExactLikelihoodEstimator,
    MapSummaryRegressor,
    PowerSpectrumRegressor,
    binned_model_power,
    fisher_bound,
    fisher_matrix,
    gaussian_log_likelihood,
    map_summaries,
    power_spectrum,
    spectrum_bins,
)
from a3net.data.cosmology import latin_hypercube
from a3net.data.gaussian_maps import gaussian_control_maps, mode_power

BOX = 25.0


@pytest.fixture(scope="module")
def prior_maps():
    """3000 training maps (200 simulations) and 600 test maps (one per simulation), 32 px."""
    train, cat = gaussian_control_maps(latin_hypercube(200, seed=1), map_size=32, seed=2)
    test, cat_test = gaussian_control_maps(
        latin_hypercube(600, seed=3), map_size=32, maps_per_simulation=1, seed=4
    )
    names = ["omega_m", "sigma_8"]
    return train, cat[names].to_numpy(), test, cat_test[names].to_numpy()


@pytest.fixture(scope="module")
def fiducial_maps():
    """2010 control maps at (0.3, 0.8), 32 px."""
    maps, _ = gaussian_control_maps(np.array([[0.3, 0.8]] * 134), map_size=32, seed=5)
    return maps


def test_bins_are_log_spaced_widened_at_low_k_and_never_empty():
    fundamental = 2 * np.pi / BOX
    for size in (32, 64, 256):
        n_bins = 15 if size == 32 else 16
        bins = spectrum_bins(size, n_bins=n_bins)
        assert len(bins.edges) == n_bins + 1 and np.all(np.diff(bins.edges) > 0)
        np.testing.assert_allclose(bins.edges[[0, -1]], [fundamental, np.pi * size / BOX])
        assert np.all(np.diff(bins.edges) >= fundamental * (1 - 1e-9))
        assert np.all(bins.counts > 0)
        assert np.all((bins.centres > bins.edges[:-1]) & (bins.centres < bins.edges[1:]))
    ratios = bins.edges[1:] / bins.edges[:-1]
    np.testing.assert_allclose(ratios[-6:], ratios[-1], rtol=1e-6)  # log-spaced at high k
    # every mode of the full 64 x 64 plane up to the corner is counted once
    corner = spectrum_bins(64, n_bins=16, k_max=np.sqrt(2) * np.pi * 64 / BOX)
    assert corner.counts.sum() == 64 * 64 - 1
    with pytest.raises(ValueError, match="n_bins=16"):
        spectrum_bins(32, n_bins=16)
    with pytest.raises(ValueError, match="k_max"):
        spectrum_bins(64, k_min=1.0, k_max=0.5)


def test_power_spectrum_recovers_p2d(fiducial_maps):
    k, power = power_spectrum(fiducial_maps, n_bins=12, contrast=False)
    assert k.shape == (12,) and power.shape == (len(fiducial_maps), 1, 12)
    model = binned_model_power(0.3, 0.8, map_size=32, n_bins=12)
    bins = spectrum_bins(32, n_bins=12)
    # |delta_k|^2 is exponential; +k and -k are the same mode: counts / 2 independent ones
    error = model / np.sqrt(bins.counts / 2 * len(fiducial_maps))
    z = (power[:, 0].mean(axis=0) - model) / error
    assert np.abs(z).max() < 4.5 and abs(z.mean()) < 1.5
    assert np.all(np.diff(model) < 0)


def test_power_spectrum_of_positive_maps_is_that_of_their_contrast(fiducial_maps):
    maps = fiducial_maps[:50]
    positive = 1.0 + 0.05 * maps  # contrast 0.05 delta / mean
    _, raw = power_spectrum(maps, n_bins=8, contrast=False)
    _, con = power_spectrum(positive, n_bins=8)
    mean = positive.mean(axis=(2, 3), dtype=np.float64)[:, :, None]
    np.testing.assert_allclose(con, 0.0025 * raw / mean**2, rtol=1e-4)
    _, scaled = power_spectrum(positive * np.float32(7.0), n_bins=8)
    np.testing.assert_allclose(scaled, con, rtol=1e-4)
    two = np.concatenate([positive, positive**2], axis=1)
    assert power_spectrum(two, n_bins=8)[1].shape == (50, 2, 8)


@pytest.mark.parametrize(
    ("maps", "kwargs", "error", "match"),
    [
        (np.ones((4, 8, 8)), {}, ValueError, "shape"),
        (np.ones((4, 1, 8, 9)), {}, ValueError, "square"),
        (np.full((4, 1, 8, 8), np.nan), {}, ValueError, "NaN"),
        (-np.ones((4, 1, 8, 8)), {}, ValueError, "contrast=False"),
        ("maps", {}, TypeError, "array"),
        (np.ones((4, 1, 64, 64)), {"n_bins": 0}, ValueError, "n_bins"),
    ],
)
def test_power_spectrum_rejects_bad_maps(maps, kwargs, error, match):
    with pytest.raises(error, match=match):
        power_spectrum(maps, **kwargs)


def _brute_force_log_likelihood(field, size, box, omega_m, sigma_8):
    """Density of the zero-mean pixel coordinates under the pixel covariance built from P2D."""
    power = mode_power(omega_m, sigma_8, map_size=size, box_size=box, half=False)
    kernel = np.real(np.fft.ifft2(power)) * size**2 / box**2  # (1/A) sum_k P e^{ikr}
    idx = np.indices((size, size)).reshape(2, -1).T
    lag = (idx[:, None, :] - idx[None, :, :]) % size
    cov = kernel[lag[..., 0], lag[..., 1]]
    rng = np.random.default_rng(0)
    seed = np.concatenate([np.ones((size * size, 1)), rng.normal(size=(size * size, size**2))], 1)
    basis = np.linalg.qr(seed)[0][:, 1 : size * size]  # orthonormal, orthogonal to the mean
    cov_z = basis.T @ cov @ basis
    z = basis.T @ field.ravel()
    _, logdet = np.linalg.slogdet(2 * np.pi * cov_z)
    return -0.5 * (logdet + z @ np.linalg.solve(cov_z, z))


@pytest.mark.parametrize("size", [5, 6])
def test_log_likelihood_is_the_exact_gaussian_density(size):
    box = BOX * size / 64
    maps, _ = gaussian_control_maps(
        [[0.3, 0.8]], map_size=size, box_size=box, maps_per_simulation=3, seed=size
    )
    ours = gaussian_log_likelihood(maps, 0.25, 0.85, box_size=box)
    for field, value in zip(maps[:, 0].astype(np.float64), ours, strict=True):
        ref = _brute_force_log_likelihood(field, size, box, 0.25, 0.85)
        np.testing.assert_allclose(value, ref, rtol=1e-6)


def test_score_covariance_equals_fisher_matrix(fiducial_maps):
    """E[score] = 0 and Cov[score] = F at the truth (~2000 maps, 10 %)."""
    h = 1e-3

    def loglike(om, s8):
        return gaussian_log_likelihood(fiducial_maps, om, s8)

    score = np.stack(
        [
            (loglike(0.3 + h, 0.8) - loglike(0.3 - h, 0.8)) / (2 * h),
            (loglike(0.3, 0.8 + h) - loglike(0.3, 0.8 - h)) / (2 * h),
        ],
        axis=1,
    )
    fisher = fisher_matrix(0.3, 0.8, map_size=32)
    n = len(score)
    assert np.all(np.abs(score.mean(axis=0)) < 4 * np.sqrt(np.diag(fisher) / n))
    np.testing.assert_allclose(np.cov(score.T), fisher, rtol=0.1)
    # the likelihood summed over the maps peaks at the truth along both axes
    total = {p: loglike(*p).sum() for p in [(0.3, 0.8), (0.29, 0.8), (0.31, 0.8)]}
    total |= {p: loglike(*p).sum() for p in [(0.3, 0.79), (0.3, 0.81)]}
    assert max(total, key=total.get) == (0.3, 0.8)


def test_fisher_matrix_properties():
    fisher = fisher_matrix(0.3, 0.8, map_size=32)
    np.testing.assert_allclose(fisher, fisher.T)
    assert np.all(np.linalg.eigvalsh(fisher) > 0)
    # sigma_8 is a pure amplitude: d ln P / d sigma_8 = 2 / sigma_8 for each of S^2 - 1 modes
    np.testing.assert_allclose(fisher[1, 1], 0.5 * (32 * 32 - 1) * (2 / 0.8) ** 2, rtol=1e-5)
    np.testing.assert_allclose(fisher_matrix(0.3, 0.8, map_size=32, n_maps=15), 15 * fisher)
    bound = fisher_bound(0.3, 0.8, map_size=32)
    cov = np.linalg.inv(fisher)
    np.testing.assert_allclose([bound.sigma_omega_m, bound.sigma_sigma_8], np.sqrt(np.diag(cov)))
    assert bound.conditional_omega_m < bound.sigma_omega_m
    assert bound.conditional_sigma_8 < bound.sigma_sigma_8
    assert -1 < bound.correlation < -0.9  # the amplitude-shape degeneracy
    bigger = fisher_bound(0.3, 0.8, map_size=64)
    assert bigger.sigma_omega_m < bound.sigma_omega_m
    with pytest.raises(ValueError, match="n_maps"):
        fisher_matrix(0.3, 0.8, n_maps=0)


def test_exact_likelihood_estimator(prior_maps):
    _, _, test, y_test = prior_maps
    estimator = ExactLikelihoodEstimator()
    mean, std = estimator.predict(test, return_std=True)
    assert mean.shape == (len(test), 2) and std.shape == (len(test), 2)
    assert np.all((mean >= [0.1, 0.6]) & (mean <= [0.5, 1.0]))
    r2 = r2_score(y_test, mean, multioutput="raw_values")
    assert r2[0] > 0.6 and r2[1] > 0.3
    # calibrated: the posterior spread matches the actual error
    rmse = np.sqrt(np.mean((mean - y_test) ** 2, axis=0))
    np.testing.assert_allclose(std.mean(axis=0), rmse, rtol=0.2)
    # the grid is fine enough: doubling it changes little
    finer = ExactLikelihoodEstimator(grid=(81, 81)).fit(test).predict(test)
    assert np.abs(finer - mean).max() < 5e-3
    assert estimator.log_posterior(test[:3]).shape == (3, 41, 41)
    with pytest.raises(ValueError, match="1 channel"):
        estimator.predict(np.concatenate([test[:2], test[:2]], axis=1))
    with pytest.raises(ValueError, match="grid"):
        ExactLikelihoodEstimator(grid=(1, 41)).predict(test[:2])


def test_power_spectrum_regressor_learns_and_ignores_the_mean(prior_maps):
    train, y_train, test, y_test = prior_maps
    model = PowerSpectrumRegressor(n_bins=16, contrast=False).fit(train, y_train)
    pred = model.predict(test)
    assert pred.shape == (len(test), 2) and model.k_centres_.shape == (16,)
    assert model.n_features_ == 16  # one channel: no cross terms
    r2 = r2_score(y_test, pred, multioutput="raw_values")
    assert r2[0] > 0.5 and r2[1] > 0.2
    exact = r2_score(y_test, ExactLikelihoodEstimator().predict(test), multioutput="raw_values")
    assert np.all(r2 < exact + 0.03)  # the likelihood is the ceiling
    # positive maps (contrast=True): rescaling each map leaves the prediction unchanged
    positive = 1.0 + 0.05 * train[:600]
    one = PowerSpectrumRegressor(n_bins=8).fit(positive, y_train[:600, 0])
    scale = np.random.default_rng(0).uniform(0.1, 10, (600, 1, 1, 1)).astype(np.float32)
    first = one.predict(positive[:50])
    assert first.shape == (50,)
    np.testing.assert_allclose(one.predict(positive[:50] * scale[:50]), first, atol=1e-4)
    two = np.concatenate([positive, np.exp(positive)], axis=1)
    cross = clone(PowerSpectrumRegressor(n_bins=8, cross=True)).fit(two, y_train[:600])
    assert cross.n_features_ == 3 * 8
    with pytest.raises(ValueError, match="features"):
        cross.predict(positive[:5])
    with pytest.raises(ValueError, match="contrast=False"):
        PowerSpectrumRegressor().fit(train[:20], y_train[:20])
    with pytest.raises(ValueError, match="rows"):
        PowerSpectrumRegressor(n_bins=8).fit(positive[:20], y_train[:10])


# ----------------------------------------------------------------------------- map summaries


def _skewed_toy(n: int, seed: int, size: int = 32):
    """Maps whose log field has the same power spectrum whatever theta (in expectation), but a
    one-point PDF whose skewness grows with theta: exp of smoothed, standardised gamma noise."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 1.0, n)
    shape = 1.0 / (0.05 + theta) ** 2  # skewness of the pixels 2 (0.05 + theta)
    noise = np.stack([(rng.gamma(k, 1.0, (size, size)) - k) / np.sqrt(k) for k in shape])
    field = ndimage.gaussian_filter(noise, (0, 1.5, 1.5), mode="wrap")
    return np.exp(0.5 * field / 0.19)[:, None].astype(np.float32), theta


def test_map_summaries_shapes_and_the_level_is_no_feature():
    rng = np.random.default_rng(0)
    maps = np.exp(rng.normal(size=(6, 2, 32, 32))).astype(np.float32)
    blocks = map_summaries(maps, n_bins=8, quantiles=(0.1, 0.5, 0.9), peak_scales=(1.0,),
                           peak_thresholds=(0.0, 2.0))  # fmt: skip
    assert blocks["k"].shape == (8,)
    assert blocks["spectrum"].shape == (6, 2 * 8 + 8)  # two channels and their cross term
    assert blocks["pdf"].shape == (6, 2 * (3 + 3))  # std, skewness, kurtosis, 3 quantiles
    assert blocks["peaks"].shape == (6, 2 * 1 * 2)
    scaled = map_summaries(maps * np.float32(7.5), n_bins=8, quantiles=(0.1, 0.5, 0.9),
                           peak_scales=(1.0,), peak_thresholds=(0.0, 2.0))  # fmt: skip
    for name in SUMMARY_BLOCKS:
        np.testing.assert_allclose(scaled[name], blocks[name], atol=1e-4)
    # peaks above 0 std outnumber peaks above 2 std
    assert np.all(blocks["peaks"][:, 0] >= blocks["peaks"][:, 1])
    model = MapSummaryRegressor(n_bins=8, cv=3, gammas=(0.3,), alphas=(1.0,))
    assert model.features(maps).shape == (6, 24 + 2 * (3 + 9) + 2 * 2 * 5)


def test_map_summary_matches_the_spectrum_on_the_gaussian_control(prior_maps):
    """For a Gaussian field the spectrum is sufficient: the summary's search keeps to it, or
    gains nothing beyond the noise of 600 test maps."""
    train, y_train, test, y_test = prior_maps
    groups = np.arange(len(train)) // 15
    summary = MapSummaryRegressor(log=False).fit(train, y_train, groups=groups)
    assert summary.best_params_["blocks"] in (("spectrum",), SUMMARY_BLOCKS)
    assert set(summary.cv_results_) and -1 < summary.cv_score_ < 1
    r2 = r2_score(y_test, summary.predict(test), multioutput="raw_values")
    spectrum = PowerSpectrumRegressor(n_bins=12, contrast=False).fit(train, y_train)
    reference = r2_score(y_test, spectrum.predict(test), multioutput="raw_values")
    np.testing.assert_allclose(r2, reference, atol=0.03)
    assert r2[0] > 0.5 and r2[1] > 0.2


def test_map_summary_reads_a_pdf_that_the_spectrum_misses():
    x, theta = _skewed_toy(1500, seed=0)
    x_test, theta_test = _skewed_toy(500, seed=1)
    groups = np.arange(len(x)) // 5
    # the same spectrum at every theta: the log field's spectra do not depend on it
    k, power = power_spectrum(np.log(x), contrast=False, n_bins=8)
    low, high = power[theta < 0.3, 0].mean(axis=0), power[theta > 0.7, 0].mean(axis=0)
    np.testing.assert_allclose(low, high, rtol=0.15)
    alone = MapSummaryRegressor(block_choices=(("spectrum",),)).fit(x, theta, groups=groups)
    full = MapSummaryRegressor().fit(x, theta, groups=groups)
    assert full.best_params_["blocks"] == SUMMARY_BLOCKS
    assert r2_score(theta_test, alone.predict(x_test)) < 0.1
    assert r2_score(theta_test, full.predict(x_test)) > 0.3
    assert full.predict(x_test).shape == (500,)


@pytest.mark.parametrize(
    "kwargs, fit, error, match",
    [
        ({}, dict(x=-1.0), ValueError, "positive"),
        ({}, dict(groups=np.arange(5)), ValueError, "groups has 5 entries"),
        ({}, dict(groups=np.zeros(40, int)), ValueError, "fewer than cv=5"),
        ({"block_choices": (("colour",),)}, {}, ValueError, "block_choices"),
        ({"block_choices": "spectrum"}, {}, TypeError, "block_choices"),
        ({"cv": 1}, {}, ValueError, "cv must be"),
        ({"gammas": ()}, {}, ValueError, "gammas"),
        ({}, dict(y=np.full(40, np.nan)), ValueError, "finite"),
        ({}, dict(y=np.zeros(7)), ValueError, "rows"),
    ],
)
def test_map_summary_refuses_bad_input(kwargs, fit, error, match):
    rng = np.random.default_rng(1)
    maps = np.exp(rng.normal(size=(40, 1, 16, 16))).astype(np.float32) * fit.get("x", 1.0)
    y = fit.get("y", rng.uniform(size=40))
    with pytest.raises(error, match=match):
        MapSummaryRegressor(n_bins=4, **kwargs).fit(maps, y, groups=fit.get("groups"))


def test_map_summary_predicts_only_when_fitted_and_with_the_same_channels():
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(2)
    maps = np.exp(rng.normal(size=(40, 2, 16, 16))).astype(np.float32)
    model = MapSummaryRegressor(n_bins=4, cv=2, gammas=(0.3,), alphas=(1.0,))
    with pytest.raises(NotFittedError):
        model.predict(maps)
    model.fit(maps, rng.uniform(size=(40, 2)))
    assert model.predict(maps[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="features"):
        model.predict(maps[:3, :1])
