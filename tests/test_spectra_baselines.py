"""Chapters A/B's references: the PCA-plus-regression generator and the label regressor, on
toy rest-frame spectra made here (independent of the simulator)."""

from __future__ import annotations

import numpy as np
import pytest

from a3net.baselines.spectra import LabelRegressor, PCASpectrumModel
from a3net.metrics import dn4000

GRID = np.linspace(np.log10(3700), np.log10(7300), 256)  # rest-frame bin centres


def toy(n, seed=0, noise=0.05):
    """Normalised rest-frame spectra (N, 256) and standardised conditions (N, 4): z, log age,
    log Z, log smass. Age and Z rise with mass (downsizing); the break, the colour and the metal
    lines deepen with age and Z, Balmer absorption peaks near 0.5 Gyr, emission fades with age.
    z leaves no trace in a normalised rest-frame spectrum here (the same noise at every z)."""
    rng = np.random.default_rng(seed)
    logm = rng.uniform(9.0, 11.7, n)
    la = np.clip(0.5 + 0.35 * (logm - 10.3) + rng.normal(0, 0.25, n), -1.0, 1.1)[:, None]
    lz = np.clip(0.25 * (logm - 10.3) + rng.normal(0, 0.15, n), -1.0, 0.4)[:, None]
    z = rng.uniform(0.02, 0.25, n)
    lam = 10 ** GRID[None]
    f = (lam / 5000.0) ** (-2.2 + 1.1 * (la + 1) + 0.6 * lz)
    f = f * (
        1 - np.clip(0.15 + 0.25 * (la + 1) + 0.25 * lz, 0.02, 0.8) / (1 + np.exp((lam - 4000) / 25))
    )
    for c in (4102.0, 4340.0, 4861.0, 6563.0):
        f = f * (1 - 0.25 * np.exp(-0.5 * ((la + 0.3) / 0.4) ** 2 - 0.5 * ((lam - c) / 6.0) ** 2))
    for c in (3934.0, 3969.0, 5175.0, 5893.0):
        d = np.clip(0.1 + 0.1 * (la + 1) + 0.1 * lz, 0, 0.6)
        f = f * (1 - d * np.exp(-0.5 * ((lam - c) / 6.0) ** 2))
    for c, a in ((3727.0, 1.0), (4861.0, 0.35), (5007.0, 0.6), (6563.0, 1.0), (6583.0, 0.35)):
        f = f + 1.5 * a * np.exp(-(10**la) / 1.5) * np.exp(-0.5 * ((lam - c) / 6.0) ** 2)
    window = (lam[0] > 4400) & (lam[0] < 4600)
    f = f / f[:, window].mean(axis=1, keepdims=True) + rng.normal(0, noise, f.shape)
    c = np.column_stack([z, la[:, 0], lz[:, 0], logm])
    return f.astype(np.float32), ((c - c.mean(0)) / c.std(0)).astype(np.float32)


def test_pca_model_reproduces_mean_and_coefficient_covariance_at_a_fixed_condition():
    # training data: for each of three conditions, spectra = a mean curve (quadratic in c) plus
    # Gaussian scatter with one covariance in a 3-d subspace plus white noise
    rng = np.random.default_rng(0)
    levels = np.array([-1.0, 0.0, 1.0])
    c = np.repeat(levels, 4000)[:, None] * np.ones((1, 2))
    x_axis = np.linspace(-1, 1, 64)
    basis = np.stack([np.ones(64), x_axis, np.exp(-0.5 * (x_axis / 0.1) ** 2)])  # (3, 64)
    mean = 1 + c[:, :1] * x_axis + 0.5 * c[:, :1] ** 2 * basis[2]
    scatter = rng.multivariate_normal(
        np.zeros(3), [[0.04, 0.01, 0], [0.01, 0.02, 0], [0, 0, 0.09]], len(c)
    )
    x = (mean + scatter @ basis + rng.normal(0, 0.01, (len(c), 64))).astype(np.float32)
    model = PCASpectrumModel(n_components=6).fit(x, c)
    for level in levels:
        draws = model.sample(np.full((20000, 2), level), seed=1)
        real = x[c[:, 0] == level]
        np.testing.assert_allclose(draws.mean(axis=0), real.mean(axis=0), atol=0.01)
        v = model.components_.T
        cov_draws = np.cov((draws - model.mean_) @ v, rowvar=False)
        cov_real = np.cov((real - model.mean_) @ v, rowvar=False)
        np.testing.assert_allclose(cov_draws, cov_real, atol=0.1 * np.abs(cov_real).max())
    a = model.sample(np.zeros((5, 2)), seed=3)
    np.testing.assert_array_equal(a, model.sample(np.zeros((5, 2)), seed=3))
    assert a.dtype == np.float32 and a.shape == (5, 64)
    assert not np.array_equal(a, model.sample(np.zeros((5, 2)), seed=4))


def test_pca_model_conditional_mean_tracks_the_condition():
    x, c = toy(8000)
    model = PCASpectrumModel(n_components=16).fit(x, c)
    ages = np.linspace(-1.5, 1.5, 7)
    cond = np.zeros((7, 4), dtype=np.float32)
    cond[:, 1] = ages  # older at fixed z, Z and mass
    d = dn4000(GRID, model.mean_spectrum(cond))
    assert np.all(np.diff(d) > 0)  # the 4000 A break deepens with age
    # samples for the training conditions: the mean spectrum and the break-age relation of x
    draws = model.sample(c, seed=0)
    np.testing.assert_allclose(draws.mean(axis=0), x.mean(axis=0), atol=0.01)
    slope = np.polyfit(c[:, 1], dn4000(GRID, x), 1)[0]
    slope_draws = np.polyfit(c[:, 1], dn4000(GRID, draws), 1)[0]
    assert slope_draws == pytest.approx(slope, rel=0.1)


def test_label_regressor_recovers_labels():
    x, c = toy(10000, seed=1)
    reg = LabelRegressor().fit(x[:8000], c[:8000])
    r2 = reg.score(x[8000:], c[8000:])
    assert r2.shape == (4,)
    # age and metallicity are written in the spectrum; mass only through downsizing; z not at all
    assert r2[1] > 0.9 and r2[2] > 0.75 and r2[3] > 0.5 and abs(r2[0]) < 0.1
    pred = reg.predict(x[8000:])
    assert pred.dtype == np.float32 and pred.shape == (2000, 4)
    np.testing.assert_array_equal(pred, LabelRegressor().fit(x[:8000], c[:8000]).predict(x[8000:]))
    # read back from the PCA generator's samples, the labels come out about as well
    samples = PCASpectrumModel().fit(x[:8000], c[:8000]).sample(c[8000:], seed=0)
    assert np.all(reg.score(samples, c[8000:])[1:] > r2[1:] - 0.1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_bad_arguments():
    x, c = toy(100)
    with pytest.raises(ValueError, match="not fitted"):
        PCASpectrumModel().sample(c)
    with pytest.raises(ValueError, match="not fitted"):
        LabelRegressor().predict(x)
    with pytest.raises(ValueError, match="one row per spectrum"):
        PCASpectrumModel().fit(x, c[:50])
    with pytest.raises(ValueError, match="must not exceed"):
        PCASpectrumModel(n_components=200).fit(x, c)
    with pytest.raises(ValueError, match="NaN"):
        PCASpectrumModel().fit(np.where(x > 1.5, np.nan, x), c)
    model = PCASpectrumModel(n_components=4).fit(x, c)
    with pytest.raises(ValueError, match=r"c must have shape \(N, 4\)"):
        model.sample(c[:, :3])
    with pytest.raises(ValueError, match="too few"):
        PCASpectrumModel(n_components=4, degree=3).fit(x[:30], c[:30])
    with pytest.raises(ValueError, match="alpha"):
        PCASpectrumModel(alpha=-1.0)
    with pytest.raises(ValueError, match="n_components must be at least 1"):
        LabelRegressor(n_components=0)
    reg = LabelRegressor(n_components=4, max_iter=5).fit(x, c)
    with pytest.raises(ValueError, match="256 bins"):
        reg.predict(x[:, :100])
