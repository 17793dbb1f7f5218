"""Chapter A's yardstick: the noise edge of PCA, the noise forward model, FD-infinity with its
bootstrap interval and the classifier two-sample test, on Gaussians and on the simulator's
controls (a perfect redraw, the same galaxies noiseless, the mean spectrum, shuffled labels)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from a3net.data import spectra
from a3net.data import spectra_prep as prep
from a3net.evaluation import yardstick as ys
from a3net.evaluation.frechet import FrechetScore, frechet_distance
from a3net.evaluation.yardstick import (
    SpectrumYardstick,
    add_noise,
    frechet_infinity,
    noise_edge,
    window_bins,
)


def _low_rank(n, b, rank, sigma, rng):
    """n spectra of b bins: ``rank`` orthogonal signal directions of variance 50..3 sigma^2
    each, plus white noise of standard deviation ``sigma``."""
    basis, _ = np.linalg.qr(rng.normal(size=(b, rank)))
    scales = sigma * np.sqrt(np.geomspace(50, 3, rank))
    signal = (rng.normal(size=(n, rank)) * scales) @ basis.T
    return 1.0 + signal + sigma * rng.normal(size=(n, b))


# ----------------------------------------------------------------------------- noise edge


def test_noise_edge_recovers_the_rank_of_a_low_rank_signal():
    rng = np.random.default_rng(0)
    x = _low_rank(3000, 64, 5, 0.1, rng)
    ivar = np.full(x.shape, 100.0)
    ivar[rng.random(x.shape) < 0.05] = 0.0  # no data there: the spectrum's median variance
    edge = noise_edge(x, ivar, max_components=20)
    assert edge.n_signal == 5
    assert edge.eigenvalues.shape == edge.noise_variance.shape == (20,)
    np.testing.assert_allclose(edge.noise_variance, 0.01, rtol=1e-6)
    # beyond the edge the eigenvalues are the noise (Marchenko-Pastur spread about it)
    assert np.all(edge.eigenvalues[:5] > 2.9 * edge.noise_variance[:5])
    assert np.all(np.abs(edge.eigenvalues[5:] / edge.noise_variance[5:] - 1) < 0.3)
    # a stricter ratio keeps fewer components; pure noise keeps one
    assert noise_edge(x, ivar, ratio=10.0).n_signal == 3
    noise = rng.normal(size=(500, 16))
    assert noise_edge(noise, np.ones_like(noise)).n_signal == 1


# ----------------------------------------------------------------------------- add_noise


def test_add_noise_has_the_variance_of_ivar_and_leaves_pixels_without_data():
    flux = np.tile(np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32), (40_000, 1))
    ivar = np.tile(np.array([1.0, 4.0, 0.0, 100.0]), (40_000, 1))
    noisy = add_noise(flux, ivar, seed=3)
    assert noisy.dtype == np.float32 and noisy.shape == flux.shape
    np.testing.assert_allclose(noisy[:, [0, 1, 3]].std(axis=0), [1.0, 0.5, 0.1], rtol=0.02)
    np.testing.assert_allclose(noisy[:, [0, 1, 3]].mean(axis=0), [1, 2, 4], atol=0.02)
    assert np.array_equal(noisy[:, 2], flux[:, 2])
    assert np.array_equal(add_noise(flux, ivar, seed=3), noisy)
    assert not np.array_equal(add_noise(flux, ivar, seed=4), noisy)


def test_add_noise_renormalises_over_the_window_like_the_pipeline():
    rng = np.random.default_rng(1)
    flux = 1.0 + 0.1 * rng.random((500, 32))
    ivar = rng.uniform(50, 200, size=flux.shape)
    bins = np.zeros(32, dtype=bool)
    bins[10:14] = True
    noisy = add_noise(flux, ivar, seed=0, norm_bins=bins)
    mean = lambda v: (ivar[:, bins] * v[:, bins]).sum(1) / ivar[:, bins].sum(1)  # noqa: E731
    np.testing.assert_allclose(mean(noisy), mean(flux), rtol=1e-5)
    # the same draw, only rescaled; indices and the mask agree
    plain = add_noise(flux, ivar, seed=0)
    scale = np.broadcast_to((mean(flux) / mean(plain))[:, None], flux.shape)
    np.testing.assert_allclose(noisy / plain, scale, rtol=1e-5)
    assert np.array_equal(add_noise(flux, ivar, seed=0, norm_bins=np.arange(10, 14)), noisy)
    assert window_bins(np.log10([4300.0, 4450.0, 4550.0, 4700.0])).tolist() == [0, 1, 1, 0]


# ----------------------------------------------------------------------------- FD infinity


def test_frechet_infinity_removes_the_sample_size_bias():
    # ten pairs of samples of one distribution: FD(n) is biased above 0, FD-infinity is not
    pairs = [np.random.default_rng(s).normal(size=(2, 2000, 8)) for s in range(10)]
    same = np.array([frechet_infinity(a, b, rng=s) for s, (a, b) in enumerate(pairs)])
    a, b = pairs[0]
    assert same[0, 1] == pytest.approx(frechet_distance(a, b))
    fd_inf, fd_n = same.mean(axis=0)
    assert fd_n > 0.02 and abs(fd_inf) < 0.005
    shift = np.zeros(8)
    shift[:4] = 0.5  # |d|^2 = 1
    shifted = frechet_infinity(a, b + shift, rng=0)
    assert shifted.fd_inf == pytest.approx(1.0, abs=0.12)
    # a seed and the Generator it makes give the same draws
    assert frechet_infinity(a, b, rng=np.random.default_rng(5)) == frechet_infinity(a, b, rng=5)
    assert frechet_infinity(a, b, rng=5) != frechet_infinity(a, b, rng=6)


def test_batched_frechet_and_weighted_auc_match_the_reference():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(300, 5))
    b = a @ rng.normal(size=(5, 5)) + 0.3
    rows = rng.integers(0, 300, size=(6, 120))
    batch = ys._frechet_rows(a, b, rows)
    np.testing.assert_allclose(batch, [frechet_distance(a[r], b[r]) for r in rows], rtol=1e-9)
    real, gen = rng.normal(size=300), rng.normal(0.4, 1, size=300).round(1)
    real = real.round(1)  # ties count half
    y = np.repeat([0, 1], 300)
    auc = ys._auc_weighted(real, gen, np.ones((1, 300)))[0]
    assert auc == pytest.approx(roc_auc_score(y, np.concatenate([real, gen])))
    boot = rng.integers(0, 300, size=(3, 300))
    weights = np.stack([np.bincount(r, minlength=300) for r in boot])
    expected = [roc_auc_score(y, np.concatenate([real[r], gen[r]])) for r in boot]
    np.testing.assert_allclose(ys._auc_weighted(real, gen, weights), expected)


def test_bootstrap_interval_is_centred_on_the_estimate_not_on_fd_n():
    # resamples of the empirical sets scatter about their distance FD(n), not about zero: the
    # interval is shifted by FD(n) - FD-infinity, so that it contains 0 for one distribution
    rng = np.random.default_rng(6)
    n = 1200
    real, gen = rng.normal(size=(2, n, 6))
    boot = rng.integers(0, n, size=(100, n))
    sizes = ys._subset_sizes(n, ys._check_fractions((0.125, 0.25, 0.5, 1.0)))
    boot = ys._bootstrap_fd_inf(real, gen, boot, sizes, 4, np.random.default_rng(0))
    point = frechet_infinity(real, gen, rng=0)
    assert abs(np.median(boot) - point.fd_n) < 0.5 * point.fd_n
    lo, hi = np.percentile(boot - point.fd_n + point.fd_inf, [16, 84])
    assert lo < 0 < hi


# ----------------------------------------------------------------------------- simulator


@pytest.fixture(scope="module")
def controls():
    """Real training and test spectra (64 bins), the yardstick, and generated sets for the test
    labels: a perfect redraw, the same galaxies noiseless, the mean spectrum, shuffled rows."""
    n, n_train = 2400, 1200
    raw = spectra.simulate_spectra(n, seed=1, unphysical_fraction=0.0)
    quiet = spectra.simulate_spectra(n, seed=1, unphysical_fraction=0.0, noise=False)
    data, removed = prep.preprocess(raw, n_bins=64)
    assert removed["count"].sum() == 0  # rows stay paired with the noiseless set
    test_rows = slice(n_train, None)
    quiet = quiet._replace(
        flux=quiet.flux[test_rows],
        ivar=quiet.ivar[test_rows],
        and_mask=quiet.and_mask[test_rows],
        labels=quiet.labels.iloc[test_rows],
        truth=quiet.truth.iloc[test_rows],
    )
    clean, _ = prep.preprocess(quiet, loglam=data.loglam, clean=False)  # the test galaxies
    test_labels = data.labels.iloc[n_train:].reset_index(drop=True)
    redraw = spectra.simulate_spectra(
        len(test_labels), labels=test_labels, seed=2, unphysical_fraction=0.0
    )
    perfect, _ = prep.preprocess(redraw, loglam=data.loglam, clean=False)
    c_test = prep.LabelScaler().fit(data.labels.iloc[:n_train]).transform(test_labels)
    x_train, x_test = data.flux[:n_train], data.flux[n_train:]
    stick = SpectrumYardstick(
        x_train, data.ivar[:n_train], x_test, data.ivar[n_train:], c_test, loglam=data.loglam
    )
    shuffle = np.random.default_rng(3).permutation(len(test_labels))
    mean = np.broadcast_to(x_train.mean(axis=0), x_test.shape)
    scores = {
        "perfect": stick.score(perfect.flux),
        "noiseless + noise": stick.score(clean.flux, noiseless=True),
        "noiseless": stick.score(clean.flux),
        "mean + noise": stick.score(mean, noiseless=True),
        "shuffled": stick.score(perfect.flux[shuffle]),
    }
    old = FrechetScore(x_train)  # the old yardstick: 16 whitened components
    old_scores = {
        "perfect": old.distance(perfect.flux, x_test),
        "noiseless": old.distance(clean.flux, x_test),
        "noiseless + noise": old.distance(
            add_noise(clean.flux, stick.ivar_test, 0, norm_bins=stick.norm_bins), x_test
        ),
    }
    print({k: {m: round(v, 4) for m, v in d.items()} for k, d in scores.items()}, old_scores)
    return stick, scores, old_scores, perfect.flux


def test_the_noise_edge_of_simulated_spectra(controls):
    stick, *_ = controls
    edge = stick.edge
    assert 3 <= stick.n_signal <= 12
    ratio = edge.eigenvalues / edge.noise_variance
    assert np.all(ratio[: stick.n_signal] > 2) and ratio[stick.n_signal] <= 2
    assert stick.features(stick.x_test[:5]).shape == (5, stick.n_signal)


def test_perfect_generator_and_the_noiseless_control(controls):
    _, s, old, _ = controls
    perfect, quiet = s["perfect"], s["noiseless + noise"]
    assert set(perfect) == {
        "FD∞", "FD∞ lo", "FD∞ hi", "FD(n)", "joint FD∞", "joint FD∞ lo", "joint FD∞ hi",
        "C2ST AUC", "C2ST AUC lo", "C2ST AUC hi",
    }  # fmt: skip
    assert all(isinstance(v, float) for v in perfect.values())
    # a perfect redraw: 0 inside (or at the edge of) its interval, FD(n) above it (the bias)
    assert perfect["FD∞ lo"] < 0.005 and 0 < perfect["FD∞ hi"] < 0.1
    assert perfect["joint FD∞ lo"] < 0.005 and 0 < perfect["joint FD∞ hi"] < 0.1
    assert perfect["FD(n)"] > perfect["FD∞"]
    # the same galaxies noiseless, with the noise of the real spectra: as good as perfect
    assert perfect["FD∞ lo"] <= quiet["FD∞"] <= perfect["FD∞ hi"]
    assert perfect["joint FD∞ lo"] <= quiet["joint FD∞"] <= perfect["joint FD∞ hi"]
    assert abs(quiet["C2ST AUC"] - 0.5) < 0.03
    # without the noise they are far, here and much more so in the old whitened space
    assert s["noiseless"]["FD∞"] > 10 * perfect["FD∞ hi"]
    assert s["noiseless"]["C2ST AUC"] > 0.8
    assert old["noiseless"] > 10 * old["perfect"]
    assert old["noiseless + noise"] < 2 * old["perfect"]


def test_bad_generators_score_far(controls):
    _, s, _, _ = controls
    perfect, mean, shuffled = s["perfect"], s["mean + noise"], s["shuffled"]
    # a label-blind mean spectrum with noise
    assert mean["FD∞ lo"] > 10 * perfect["FD∞ hi"]
    assert mean["C2ST AUC"] > 0.9
    # right spectra for the wrong labels: fine alone, far jointly with the labels
    assert shuffled["FD∞ lo"] < 0.01 and shuffled["FD∞"] < perfect["FD∞ hi"] + 0.02
    assert shuffled["joint FD∞ lo"] > 10 * perfect["joint FD∞ hi"]
    assert shuffled["C2ST AUC"] > 0.8


def test_classifier_two_sample_test_reads_half_for_the_perfect_redraw(controls):
    _, s, _, _ = controls
    perfect = s["perfect"]
    assert abs(perfect["C2ST AUC"] - 0.5) < 0.03
    assert perfect["C2ST AUC lo"] < 0.52 and perfect["C2ST AUC hi"] > 0.48
    assert perfect["C2ST AUC lo"] <= perfect["C2ST AUC"] <= perfect["C2ST AUC hi"]


def test_scores_are_reproducible(controls):
    stick, s, _, perfect = controls
    assert stick.score(perfect) == s["perfect"]


# ----------------------------------------------------------------------------- bad inputs


def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 8))
    ivar = np.ones_like(x)
    with pytest.raises(ValueError, match="ivar has 39 rows"):
        noise_edge(x, ivar[:-1])
    with pytest.raises(ValueError, match="x contains NaN"):
        noise_edge(np.where(x > 2, np.nan, x), ivar)
    with pytest.raises(ValueError, match="x must have shape"):
        noise_edge(x[0], ivar[0])
    with pytest.raises(ValueError, match="negative"):
        add_noise(x, -ivar)
    with pytest.raises(ValueError, match="norm_bins"):
        add_noise(x, ivar, norm_bins=np.zeros(8, dtype=bool))
    with pytest.raises(ValueError, match="features_b has 30 rows"):
        frechet_infinity(x, x[:30])
    with pytest.raises(ValueError, match="fractions"):
        frechet_infinity(x, x, fractions=(0.5,))
    with pytest.raises(ValueError, match="too few"):
        frechet_infinity(x[:8], x[:8])
    stick = SpectrumYardstick(x, ivar, x, ivar, rng.normal(size=(40, 2)), n_boot=5)
    with pytest.raises(ValueError, match="generated has 39 rows"):
        stick.score(x[:-1])
    with pytest.raises(ValueError, match="generated has 7 columns"):
        stick.score(x[:, :7])
    with pytest.raises(ValueError, match="c_test has 39 rows"):
        SpectrumYardstick(x, ivar, x, ivar, np.zeros((39, 2)))
    with pytest.raises(ValueError, match="loglam must have shape"):
        SpectrumYardstick(x, ivar, x, ivar, np.zeros((40, 2)), loglam=np.zeros(3))
    with pytest.raises(ValueError, match="n_boot"):
        SpectrumYardstick(x, ivar, x, ivar, np.zeros((40, 2)), n_boot=0)
