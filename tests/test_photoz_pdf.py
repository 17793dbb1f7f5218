"""Redshift PDFs: the scores of a3net.evaluation.photoz_pdf (CRPS against its closed form for a
Gaussian, intervals against TemplateFitResult's, coverage, the calibration table) and the two
baselines of a3net.baselines.photoz_pdf (quantile regression forest, split conformal)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from a3net.baselines.photoz import TemplateFitResult
from a3net.baselines.photoz_pdf import QuantileForest, SplitConformal
from a3net.evaluation import (
    calibration_table,
    crps,
    interval_coverage,
    pdf_intervals,
    pdf_quantiles,
    pit,
)

# ------------------------------------------------------------------------------ CRPS


def gaussian_crps(t, mu, sigma):
    x = (t - mu) / sigma
    return sigma * (x * (2 * stats.norm.cdf(x) - 1) + 2 * stats.norm.pdf(x) - 1 / np.sqrt(np.pi))


def test_crps_matches_the_closed_form_of_a_gaussian():
    grid = np.linspace(-2.0, 6.0, 4001)
    rng = np.random.default_rng(1)
    mu = rng.uniform(0.5, 3.0, 50)
    sigma = rng.uniform(0.05, 0.4, 50)
    t = mu + sigma * rng.normal(0, 1.5, 50)
    pz = 7.0 * stats.norm.pdf(grid, mu[:, None], sigma[:, None])  # unnormalised on purpose
    np.testing.assert_allclose(crps(t, grid, pz), gaussian_crps(t, mu, sigma), rtol=0.01)


def test_crps_of_a_spike_is_its_distance_to_the_truth():
    """A triangle one grid step wide at z_p: CDF 0 -> 1/2 -> 1 over its two segments, so the
    exact CRPS is |z_p - t| - h/3 away from it and h/6 at it (tends to |z_p - t|)."""
    grid = np.linspace(0.0, 4.0, 401)
    h = grid[1] - grid[0]
    k = np.array([50, 100, 200, 300])
    pz = np.zeros((4, grid.size))
    pz[np.arange(4), k] = 1.0
    t = np.array([1.7, 0.3, grid[200], 2.95])
    expected = np.abs(grid[k] - t) - h / 3
    expected[2] = h / 6
    np.testing.assert_allclose(crps(t, grid, pz), expected, atol=1e-12)
    assert np.all(np.abs(crps(t, grid, pz) - np.abs(grid[k] - t)) <= h / 3 + 1e-12)


def test_crps_adds_the_distance_of_a_truth_outside_the_grid():
    grid = np.linspace(0.0, 3.0, 301)
    pz = np.tile(stats.norm.pdf(grid, 1.5, 0.2), (2, 1))
    inside = crps([0.0, 3.0], grid, pz)
    np.testing.assert_allclose(crps([-0.5, 4.0], grid, pz), inside + [0.5, 1.0], rtol=1e-12)


def test_a_wider_or_offset_pdf_scores_worse():
    grid = np.linspace(0.0, 3.0, 601)
    pz = stats.norm.pdf(grid, [[1.0], [1.0], [1.3]], [[0.1], [0.3], [0.1]])
    score = crps(np.ones(3), grid, pz)
    assert score[0] < score[1] and score[0] < score[2]


# ------------------------------------------------------------------------------ intervals


def test_quantiles_and_intervals_agree_with_template_fit_result():
    rng = np.random.default_rng(2)
    grid = np.linspace(0.01, 4.0, 300)
    pz = rng.uniform(0, 1, (20, grid.size)) ** 4
    pz[:, :40] = 0  # flat zero stretches, where 'the first segment reaching q' matters
    pz /= np.trapezoid(pz, grid, axis=1)[:, None]
    n = len(pz)
    result = TemplateFitResult(
        *(np.zeros(n),) * 4, pz, grid, np.zeros(n, int), *(np.zeros(n),) * 3,
        np.zeros(n, bool),
    )  # fmt: skip
    qs = [0.0, 0.025, 0.16, 0.5, 0.84, 0.975, 1.0]
    np.testing.assert_array_equal(pdf_quantiles(grid, pz, qs), result.percentile(qs))
    for level in (0.68, 0.95):
        np.testing.assert_array_equal(pdf_intervals(grid, pz, level), result.interval(level))


def test_gaussian_intervals_and_pit_read_the_same_cdf():
    grid = np.linspace(-1.0, 3.0, 2001)
    pz = stats.norm.pdf(grid, [[1.0], [0.5]], [[0.2], [0.1]])
    lo, hi = pdf_intervals(grid, pz, 0.68)
    z = stats.norm.ppf(0.16) * np.array([0.2, 0.1]) + [1.0, 0.5]
    np.testing.assert_allclose(lo, z, atol=1e-4)
    np.testing.assert_allclose(pit(lo, grid, pz), 0.16, atol=1e-9)
    np.testing.assert_allclose(pit(hi, grid, pz), 0.84, atol=1e-9)
    assert pdf_quantiles(grid, pz[:1], 0.5).shape == (1,)


def test_interval_coverage_counts_the_ends_as_inside():
    assert interval_coverage([0.0, 1.0, 2.0, 3.0], [0, 0, 2.5, 1], [1, 0.5, 3, 3]) == 0.5


def test_calibration_table_of_calibrated_pdfs():
    """Truths drawn from their own Gaussian p(z): coverage at the levels, KS ~ 1/sqrt(N), mean
    CRPS as the closed form's."""
    rng = np.random.default_rng(3)
    n = 4000
    grid = np.linspace(-1.0, 4.0, 1001)
    mu = rng.uniform(0.5, 2.5, n)
    sigma = rng.uniform(0.05, 0.2, n)
    t = rng.normal(mu, sigma)
    pz = stats.norm.pdf(grid, mu[:, None], sigma[:, None])
    table = calibration_table(t, grid, pz)
    assert list(table.index) == ["coverage_68", "coverage_95", "crps_mean", "pit_ks", "n"]
    for level in (68, 95):
        sd = math.sqrt(level / 100 * (1 - level / 100) / n)
        assert abs(table[f"coverage_{level}"] - level / 100) < 3 * sd
    assert table["pit_ks"] < 1.63 / math.sqrt(n)  # the 1% critical value of the KS test
    assert table["crps_mean"] == pytest.approx(gaussian_crps(t, mu, sigma).mean(), rel=0.01)
    # Too narrow p(z): coverage drops, the PIT is U-shaped, far from uniform.
    narrow = calibration_table(t, grid, stats.norm.pdf(grid, mu[:, None], sigma[:, None] / 2))
    assert narrow["coverage_68"] < 0.45 and narrow["pit_ks"] > 0.1


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: crps([1.0], [0, 1, 1, 2], [[1, 1, 1, 1]]), "z_grid must be a strictly"),
        (lambda: crps([1.0, 2.0], [0, 1, 2], [[1, 1, 1]]), "pz must have shape (N, Z) = (2, 3)"),
        (lambda: crps([1.0], [0, 1, 2], [[1, -1, 1]]), "pz must be finite and non-negative"),
        (lambda: crps([1.0], [0, 1, 2], [[0, 0, 0]]), "row 0 of pz is zero"),
        (lambda: crps([np.nan], [0, 1, 2], [[1, 1, 1]]), "z_true must hold"),
        (lambda: pdf_intervals([0, 1, 2], [[1, 1, 1]], 1.5), "level must be a probability"),
        (lambda: pdf_quantiles([0, 1, 2], [[1, 1, 1]], [0.5, 2]), "q must be a fraction"),
        (lambda: interval_coverage([1.0], [2.0], [0.0]), "lo <= hi"),
        (lambda: interval_coverage([1.0, 2.0], [0.0], [3.0]), "must have the shape of z_true"),
        (lambda: calibration_table([1.0], [0, 1, 2], [[1, 1, 1]], (0.68, 1)), "level must"),
        (lambda: crps("abc", [0, 1, 2], [[1, 1, 1]]), "z_true must be a numeric array"),
    ],
)
def test_bad_pdf_inputs_raise_one_clear_sentence(call, fragment):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert fragment in str(info.value)
    assert str(info.value).count(". ") == 0


# ------------------------------------------------------------------------------ QuantileForest


def heteroscedastic(rng, n):
    """y = x + N(0, s(x)) with s = 0.05 + 0.3 x rising six-fold over x in [0, 1], plus a
    feature of pure noise."""
    x = rng.uniform(0, 1, n)
    s = 0.05 + 0.3 * x
    return np.c_[x, rng.uniform(0, 1, n)], x + rng.normal(0, s), s


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X, y, _ = heteroscedastic(rng, 3000)
    Xt, yt, st = heteroscedastic(rng, 3000)
    # Leaves of 10 and half the features per split: the smallest leaves follow the noise and
    # give too narrow intervals on this 1-D problem (see the QuantileForest docstring).
    forest = QuantileForest(100, min_samples_leaf=10, max_features=0.5, random_state=0)
    return forest.fit(X, y), X, y, Xt, yt, st


def test_quantile_forest_intervals_cover_fresh_points_and_follow_the_noise(toy):
    forest, _, _, Xt, yt, st = toy
    q = forest.predict_quantiles(Xt, [0.16, 0.84])
    assert q.shape == (len(Xt), 2)
    assert interval_coverage(yt, q[:, 0], q[:, 1]) == pytest.approx(0.68, abs=0.05)
    width = q[:, 1] - q[:, 0]
    quiet, noisy = st < 0.12, st > 0.28  # s in [0.05, 0.12] and [0.28, 0.35]
    # The true 68% widths are 2 s: about 0.17 and 0.63; a forest that ignored x gives one width.
    assert width[noisy].mean() > 2.5 * width[quiet].mean()
    np.testing.assert_allclose(
        [width[quiet].mean(), width[noisy].mean()],
        [2 * st[quiet].mean(), 2 * st[noisy].mean()],
        rtol=0.2,
    )


def test_quantile_forest_median_matches_the_forest_mean_on_symmetric_noise(toy):
    forest, _, _, Xt, _, st = toy
    median = forest.predict(Xt)
    mean = forest.forest_.predict(Xt)
    # Both estimate x: their difference is small next to the noise s (0.05-0.35).
    assert np.sqrt(np.mean((median - mean) ** 2)) < 0.2 * st.mean()
    assert abs(np.mean(median - mean)) < 0.01
    np.testing.assert_array_equal(median, forest.predict_quantiles(Xt, 0.5))


def test_quantile_forest_weights_are_meinshausens(toy):
    """The sparse weights against a plain loop over trees and training rows on 5 queries."""
    forest, X, y, Xt, _, _ = toy
    order = np.argsort(y, kind="stable")
    train_leaves = forest.forest_.apply(X)[order]
    query_leaves = forest.forest_.apply(Xt[:5])
    expected = np.zeros((5, len(y)))
    for t in range(forest.n_estimators):
        same = query_leaves[:, t, None] == train_leaves[None, :, t]
        expected += same / same.sum(axis=1, keepdims=True) / forest.n_estimators
    w = forest.weights(Xt[:5]).toarray()
    np.testing.assert_allclose(w, expected, atol=1e-12)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    # The quantile: the smallest sorted training y whose cumulative weight reaches q.
    cdf = np.cumsum(expected, axis=1)
    for q in (0.1, 0.5, 0.9):
        ref = y[order][np.argmax(cdf >= q - 1e-12, axis=1)]
        np.testing.assert_array_equal(forest.predict_quantiles(Xt[:5], q), ref)


def test_quantile_forest_pdf_rows_integrate_to_one_and_agree_with_its_quantiles(toy):
    forest, _, _, Xt, yt, _ = toy
    grid = np.linspace(-1.5, 2.5, 401)
    pz = forest.predict_pdf(Xt, grid)
    assert pz.shape == (len(Xt), grid.size)
    np.testing.assert_allclose(np.trapezoid(pz, grid, axis=1), 1.0, rtol=1e-12)
    # Positive within a few kernel widths (2 grid steps) of every training y with weight > 0.
    w = forest.weights(Xt[:200]).tocsr()
    near = np.zeros((200, grid.size), bool)
    for i in range(200):  # a check, not the method: one row at a time is clearest here
        ys = forest.y_sorted_[w[i].indices]
        near[i] = np.abs(grid[:, None] - ys[None, :]).min(axis=1) < 5 * 2 * (grid[1] - grid[0])
    assert np.all(pz[:200][near] > 0)
    # The smoothed p(z)'s median lies within a kernel width or two of the forest's median.
    med = pdf_quantiles(grid, pz, 0.5)
    assert np.median(np.abs(med - forest.predict(Xt))) < 0.02
    table = calibration_table(yt, grid, pz)
    assert table["coverage_68"] == pytest.approx(0.68, abs=0.05)
    raw = forest.predict_pdf(Xt[:50], grid, smoothing=0)
    np.testing.assert_allclose(np.trapezoid(raw, grid, axis=1), 1.0, rtol=1e-12)
    # Without smoothing, the weighted histogram's mean is the weighted mean of the targets.
    w = forest.weights(Xt[:50]).toarray()
    np.testing.assert_allclose(
        np.trapezoid(raw * grid, grid, axis=1) - w @ np.sort(forest.y_sorted_), 0, atol=2e-4
    )


def test_quantile_forest_accepts_missing_features_and_frames():
    rng = np.random.default_rng(4)
    X, y, _ = heteroscedastic(rng, 600)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    frame = pd.DataFrame(X, columns=["x", "noise"])
    forest = QuantileForest(20, random_state=0).fit(frame, y)
    q = forest.predict_quantiles(frame, [0.16, 0.5, 0.84])
    assert np.isfinite(q).all() and np.all(np.diff(q, axis=1) >= 0)
    pz = forest.predict_pdf(frame.iloc[:10], np.linspace(-1, 2.5, 50))
    assert np.isfinite(pz).all()
    with pytest.raises(ValueError, match="different columns"):
        forest.predict(frame[["noise", "x"]])


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda f, X: QuantileForest().predict(X), "not fitted yet; call fit(X, y) first"),
        (lambda f, X: f.predict(X[:, :1]), "X has 1 features but the forest was fitted on 2"),
        (lambda f, X: f.predict(X[:, 0]), "X must be a non-empty 2-D array"),
        (lambda f, X: f.predict(np.full((2, 2), np.inf)), "X has infinite values"),
        (lambda f, X: QuantileForest().fit(X, np.ones(3)), "y has 3 values but 60"),
        (lambda f, X: QuantileForest().fit(X, np.full(60, np.nan)), "y has NaN"),
        (lambda f, X: QuantileForest(0), "n_estimators must be a positive integer"),
        (lambda f, X: f.predict_quantiles(X, 1.5), "q must be a fraction"),
        (lambda f, X: f.predict_pdf(X, [0, 2, 1]), "z_grid must be a strictly increasing"),
        (lambda f, X: f.predict_pdf(X, [0, 1, 2], smoothing=-1), "smoothing must be a kernel"),
    ],
)
def test_bad_forest_inputs_raise_one_clear_sentence(call, fragment):
    rng = np.random.default_rng(5)
    X, y, _ = heteroscedastic(rng, 60)
    forest = QuantileForest(3, random_state=0).fit(X, y)
    with pytest.raises((ValueError, TypeError)) as info:
        call(forest, X)
    assert fragment in str(info.value)
    assert str(info.value).count(". ") == 0


# ------------------------------------------------------------------------------ SplitConformal


def regression_run(rng, n):
    """Exchangeable (prediction, truth) pairs of a photo-z with errors ~ 0.05 (1 + z) and a
    few outliers."""
    z = rng.uniform(0.1, 3.0, n)
    pred = z + 0.05 * (1 + z) * rng.standard_t(3, n)
    return np.maximum(pred, 0.0), z


@pytest.mark.parametrize("level", [0.68, 0.95])
def test_split_conformal_covers_fresh_data_at_the_level(level):
    rng = np.random.default_rng(6)
    conformal = SplitConformal().fit(*regression_run(rng, 2000))
    pred, z = regression_run(rng, 5000)
    lo, hi = conformal.interval(pred, level)
    # Binomial noise of the 5000 test points and that of the 2000 calibration scores (the
    # coverage given the calibration set is Beta distributed, variance ~ level (1 - level) / n).
    sd = math.sqrt(level * (1 - level) * (1 / 5000 + 1 / 2000))
    assert abs(interval_coverage(z, lo, hi) - level) < 3 * sd
    np.testing.assert_allclose((hi - lo) / (1 + pred), 2 * conformal.quantile(level))


def test_split_conformal_guarantee_holds_on_average_over_seeds():
    """With n = 30 calibration points the 68% interval uses the ceil(31 * 0.68) = 22nd smallest
    score, whose expected coverage is exactly 22/31 = 0.710 >= 0.68; the plain 68% empirical
    quantile would give about 0.68 - 1/31 and fail."""
    rng = np.random.default_rng(7)
    covers = []
    for _ in range(300):
        conformal = SplitConformal().fit(*regression_run(rng, 30))
        pred, z = regression_run(rng, 500)
        covers.append(interval_coverage(z, *conformal.interval(pred, 0.68)))
    mean, sd = np.mean(covers), np.std(covers) / math.sqrt(len(covers))
    assert mean >= 0.68
    assert abs(mean - 22 / 31) < 4 * sd


def test_split_conformal_needs_enough_calibration_points_and_a_fit():
    with pytest.raises(ValueError, match="not fitted yet"):
        SplitConformal().interval([1.0])
    conformal = SplitConformal().fit(np.ones(10), np.ones(10) * 1.1)
    with pytest.raises(ValueError, match="needs at least 19 calibration galaxies, got 10"):
        conformal.interval([1.0], 0.95)
    with pytest.raises(ValueError, match="predictions must be a non-empty array of finite"):
        conformal.interval([-1.5], 0.68)
    with pytest.raises(ValueError, match="z_cal has 2 values but 3"):
        SplitConformal().fit([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="level must be a probability"):
        conformal.interval([1.0], 1.0)
