"""Frechet distance between sets of features and the PCA feature space of spectra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import sqrtm

from a3net.evaluation.frechet import (
    FrechetScore,
    SpectrumFeatures,
    frechet_distance,
    frechet_gaussian,
)


def _random_cov(rng, d, cond=10.0):
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (q * np.geomspace(1, cond, d)) @ q.T


def test_closed_form_for_known_gaussians():
    # diagonal (commuting) covariances: |dmu|^2 + sum (sigma_a - sigma_b)^2
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    sa, sb = np.array([1.0, 2.0, 0.5]), np.array([2.0, 2.0, 1.5])
    expected = 1 + 0 + 4 + 1 + 0 + 1
    assert frechet_gaussian(mu_a, np.diag(sa**2), mu_b, np.diag(sb**2)) == pytest.approx(expected)
    # general covariances: the textbook formula with sqrtm of the product
    rng = np.random.default_rng(0)
    ca, cb = _random_cov(rng, 6), _random_cov(rng, 6, cond=30)
    ma, mb = rng.normal(size=6), rng.normal(size=6)
    textbook = ((ma - mb) ** 2).sum() + np.trace(ca + cb - 2 * sqrtm(ca @ cb).real)
    assert frechet_gaussian(ma, ca, mb, cb) == pytest.approx(textbook, rel=1e-9)
    # invariant under a common rotation and shift of both
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    rotated = frechet_gaussian(q @ ma + 3, q @ ca @ q.T, q @ mb + 3, q @ cb @ q.T)
    assert rotated == pytest.approx(textbook, rel=1e-9)


def test_samples_approach_the_closed_form_and_identity_gives_zero():
    rng = np.random.default_rng(1)
    ca, cb = _random_cov(rng, 4), _random_cov(rng, 4, cond=5)
    ma, mb = np.zeros(4), np.full(4, 0.5)
    a = rng.multivariate_normal(ma, ca, 200_000)
    b = rng.multivariate_normal(mb, cb, 200_000)
    exact = frechet_gaussian(ma, ca, mb, cb)
    assert frechet_distance(a, b) == pytest.approx(exact, rel=0.02)
    assert frechet_distance(a[:500], a[:500]) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a[:500], b[:700]) == pytest.approx(
        frechet_distance(b[:700], a[:500]), rel=1e-9
    )


def test_grows_with_mean_shift():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2000, 8))
    b = rng.normal(size=(2000, 8))
    values = [frechet_distance(a, b + s) for s in (0.0, 0.1, 0.3, 1.0)]
    assert np.all(np.diff(values) > 0)
    assert values[-1] == pytest.approx(8.0 + values[0], rel=0.05)  # |shift|^2 = 8 x 1^2


def test_singular_covariances_stay_finite():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 20))  # rank 4 covariance in 20 dimensions
    b = np.c_[rng.normal(size=(50, 3)), np.zeros((50, 17))]
    for x, y in ((a, a), (a, b), (b, b)):
        value = frechet_distance(x, y)
        assert np.isfinite(value) and value >= 0
    assert frechet_distance(b, b) == pytest.approx(0.0, abs=1e-9)


def _spectra(n, rng, shift=0.0):
    """Smooth toy spectra (N, 128): a slope and a line whose strength is random."""
    x = np.linspace(-1, 1, 128)
    slope = rng.normal(0, 0.3, (n, 1)) + shift
    line = rng.gamma(2.0, 0.2, (n, 1))
    return 1 + slope * x + line * np.exp(-0.5 * (x / 0.05) ** 2) + rng.normal(0, 0.02, (n, 128))


def test_feature_space_and_noise_floor():
    rng = np.random.default_rng(4)
    train = _spectra(3000, rng)
    score = FrechetScore(train, n_components=8)
    feats = score.transform(train)
    assert feats.shape == (3000, 8)
    np.testing.assert_allclose(feats.std(axis=0, ddof=1), 1.0, rtol=1e-6)  # whitened
    comps = score.features.components_
    np.testing.assert_allclose(comps @ comps.T, np.eye(8), atol=1e-10)
    again = FrechetScore(train, n_components=8).transform(train[:10])
    np.testing.assert_allclose(again, feats[:10], rtol=1e-10)  # signs fixed: same features
    unwhite = SpectrumFeatures(8, whiten=False).fit(train).transform(train)
    assert np.all(np.diff(unwhite.var(axis=0)) <= 0)
    # the floor (half vs half of real spectra) shrinks with the sample size
    real = _spectra(8000, rng)
    small = score.floor(real[:400], n_repeats=10, seed=0)
    large = score.floor(real, n_repeats=10, seed=0)
    assert large[0] < small[0] / 5 and small[1] > 0
    assert score.floor(real[:400], n_repeats=10, seed=0) == small  # seeded
    # a perfect generator compared with n real spectra scores below the n/2-vs-n/2 floor
    # (sampling noise ~ 1/400 + 1/400 against 1/200 + 1/200 for the two halves of 400)
    perfect = np.mean([score.distance(_spectra(400, rng), real[:400]) for _ in range(5)])
    assert perfect < 0.75 * small[0]
    # a generator whose slopes are off by a fraction of their scatter stands out of the floor
    shifted = _spectra(4000, rng, shift=0.1)
    assert score.distance(shifted, real[:4000]) > large[0] + 10 * large[1]


def test_bad_input():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="features_a contains NaN"):
        frechet_distance(np.r_[a[:9], [[np.nan, 0, 0]]], a)
    with pytest.raises(ValueError, match="same number of features"):
        frechet_distance(a, a[:, :2])
    with pytest.raises(ValueError, match="at least 2 samples"):
        frechet_distance(a[:1], a)
    with pytest.raises(ValueError, match="shape \\(N, D\\)"):
        frechet_distance(a[None], a)
    with pytest.raises(ValueError, match="shapes"):
        frechet_gaussian(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="not fitted"):
        SpectrumFeatures().transform(a)
    with pytest.raises(ValueError, match="must not exceed"):
        SpectrumFeatures(16).fit(a)
    with pytest.raises(ValueError, match="at least 1"):
        SpectrumFeatures(0)
    score = FrechetScore(rng.normal(size=(50, 6)), n_components=3)
    with pytest.raises(ValueError, match="6 bins"):
        score.distance(a, a)
    with pytest.raises(ValueError, match="at least 4 spectra"):
        score.floor(rng.normal(size=(3, 6)))
