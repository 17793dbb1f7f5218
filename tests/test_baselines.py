"""Chapter F baselines: the PCA + SVM counter as a scikit-learn classifier, the Hough circle fit,
the least-squares circle and ellipse fits."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import KFold, cross_val_score

from a3net import metrics
from a3net.baselines.hough import _hough_ring_fit_loop, hough_ring_fit
from a3net.baselines.ring_fits import circle_fit, circle_fit_points, ellipse_fit
from a3net.baselines.rings import PCASVMCounter
from a3net.data import rings
from a3net.evaluation.rings import ring_image_cramer_rao


@pytest.fixture(scope="module")
def small():
    """60 simulated images (N, 1, 28, 28) of 1 or 2 rings and their class indices (N,)."""
    images, labels = rings.simulate_rings(60, max_rings=2, seed=3)
    return images, labels["n_rings"].to_numpy() - 1


def test_hough_recovers_clean_rings_exactly():
    config = rings.RingConfig(noise_hits=0, integer_centres=True)  # Hough votes on whole pixels
    labels = rings.sample_ring_parameters(40, seed=11, config=config)
    labels = labels.assign(thickness_1=0.3, deformation_1=0.5)
    images = rings.render_rings(labels, seed=11, config=config)
    fit = hough_ring_fit(images, radius_step=0.25)
    truth = rings.ring_targets(labels)
    assert np.median(np.abs(fit["x"] - truth[:, 0])) == 0
    assert np.median(np.abs(fit["y"] - truth[:, 1])) == 0
    # the vote favours the outer edge of the band
    assert np.median(np.abs(fit["radius"] - truth[:, 2])) < 0.6
    with pytest.raises(ValueError, match="radius_range"):
        hough_ring_fit(images, radius_range=(5, 2))


def test_batched_hough_matches_the_scikit_image_loop():
    images, labels = rings.simulate_rings(200, seed=1)
    images[3] = 0.0  # a blank image gives a NaN row, not an exception
    fast, loop = hough_ring_fit(images), _hough_ring_fit_loop(images)
    assert list(fast.columns) == ["x", "y", "radius"] and (fast.dtypes == np.float32).all()
    assert fast.iloc[3].isna().all() and loop.iloc[3].isna().all()
    same = (fast.to_numpy() == loop.to_numpy()).all(axis=1)
    assert same.mean() >= 0.97  # 100% on scikit-image 0.26; ties break as its peak sort does
    truth = rings.ring_targets(labels)[:, :3]
    ok = np.arange(len(images)) != 3
    rmse_fast = metrics.rmse(truth[ok], fast.to_numpy()[ok])
    rmse_loop = metrics.rmse(truth[ok], loop.to_numpy()[ok])
    assert np.allclose(rmse_fast, rmse_loop, rtol=0.05), (rmse_fast, rmse_loop)
    with pytest.raises(ValueError, match="threshold"):
        hough_ring_fit(images, threshold=1.0)


def test_pca_svm_counter_beats_the_majority_class():
    images, labels = rings.simulate_rings(1200, max_rings=2, seed=12)
    y = labels["n_rings"].to_numpy() - 1
    counter = PCASVMCounter(n_components=20).fit(images[:1000], y[:1000])
    acc = accuracy_score(y[1000:], counter.predict(images[1000:]))
    assert acc > metrics.majority_accuracy(y[:1000], y[1000:]) + 0.15
    assert counter.score(images[1000:], y[1000:]) == acc  # ClassifierMixin.score is accuracy
    assert counter.classes_.tolist() == [0, 1] and counter.image_shape_ == (1, 28, 28)
    # more components keep more of the pixel variance (photon images: about 17% at 5, 35% at 20)
    fewer = PCASVMCounter(n_components=5).fit(images[:1000], y[:1000])
    assert 0.1 < fewer.variance_kept_ < counter.variance_kept_ < 0.6


def test_counter_follows_the_estimator_contract(small):
    images, y = small
    counter = PCASVMCounter(n_components=5000, C=3.0)  # the constructor only stores
    assert counter.get_params() == {
        "n_components": 5000,
        "C": 3.0,
        "gamma": "scale",
        "random_state": 0,
        "standardise": True,
    }
    with pytest.raises(ValueError, match="n_components=5000 exceeds .* lower it"):
        counter.fit(images, y)
    with pytest.raises(NotFittedError):
        PCASVMCounter().predict(images)
    fitted = counter.set_params(n_components=8).fit(images, y)
    assert fitted is counter and fitted.pipeline_["pca"].n_components_ == 8
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "pipeline_")
    with pytest.raises(ValueError, match=r"X must hold images of shape \(1, 28, 28\)"):
        fitted.predict(images[:, :, :20, :20])
    with pytest.raises(ValueError, match=r"X must have shape \(N, C, H, W\)"):
        fitted.predict(images.reshape(len(images), -1))


def test_cross_val_score_and_kfold_match_a_manual_loop(small):
    images, y = small
    counter = PCASVMCounter(n_components=10)
    folds = KFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(counter, images, y, cv=folds)
    by_hand = [
        accuracy_score(y[test], clone(counter).fit(images[train], y[train]).predict(images[test]))
        for train, test in folds.split(images)
    ]
    assert scores.shape == (3,)
    np.testing.assert_array_equal(scores, by_hand)
    assert not hasattr(counter, "pipeline_")  # cross-validation fitted clones, not the original


def _ellipse_hits(n, m, *, seed, a_range=(5.0, 9.0), ratio_range=(0.75, 0.9)):
    """Hits on n known ellipses, m evenly spaced in eccentric anomaly: (truth columns, hx, hy)."""
    rng = np.random.default_rng(seed)
    xc, yc = rng.uniform(11, 17, n), rng.uniform(11, 17, n)
    a = rng.uniform(*a_range, n)
    b = a * rng.uniform(*ratio_range, n)
    psi = rng.uniform(0, np.pi, n)
    phi = np.linspace(0, 2 * np.pi, m, endpoint=False)[None] + rng.uniform(0, 1, (n, 1))
    u, v = a[:, None] * np.cos(phi), b[:, None] * np.sin(phi)
    hx = xc[:, None] + u * np.cos(psi)[:, None] - v * np.sin(psi)[:, None]
    hy = yc[:, None] + u * np.sin(psi)[:, None] + v * np.cos(psi)[:, None]
    return np.column_stack([xc, yc, a, b, psi]), hx, hy


def test_circle_fit_recovers_clean_rings_at_subpixel_centres():
    # thin spots, no deformation, no noise, continuous centres: only the pixelisation remains
    truth, hx, hy = _ellipse_hits(60, 1000, seed=1, a_range=(4.0, 9.0), ratio_range=(1.0, 1.0))
    images = rings.render_hits(hx, hy, np.full(hx.shape, 0.3), np.ones(hx.shape, bool))
    fit = circle_fit(images)
    assert list(fit.columns) == ["x", "y", "radius", "failed"] and fit["failed"].dtype == bool
    assert not fit["failed"].any()
    err = fit[["x", "y", "radius"]].to_numpy() - truth[:, :3]
    assert np.abs(err).max() < 0.05, np.abs(err).max(axis=0)
    # pixel centres sit at integer coordinates: a +0.5 convention would show as a 0.5 px offset
    assert np.abs(err[:, :2].mean(axis=0)).max() < 0.01
    # a shifted image moves the fit by exactly the shift
    shifted = circle_fit(np.roll(images, (1, -1), axis=(2, 3)))  # rings stay inside the image
    np.testing.assert_allclose(shifted["x"] - fit["x"], -1, atol=1e-3)
    np.testing.assert_allclose(shifted["y"] - fit["y"], 1, atol=1e-3)


def circle_image_bound(labels):
    """Cramer-Rao bounds (N, 3) [px] of x, y and radius for the photon images of ``labels``."""
    columns = [labels[f"{p}_1"] for p in ("x", "y", "radius", "thickness", "deformation")]
    return ring_image_cramer_rao(*columns)[["x", "y", "radius"]].to_numpy()


def test_circle_fit_beats_hough_on_default_rings():
    images, labels = rings.simulate_rings(300, seed=21, config=rings.RingConfig())
    truth = rings.ring_targets(labels)[:, :3]
    hough = hough_ring_fit(images, smooth=1.5)  # blurred: photon images hold sparse hits
    fit = circle_fit(images, seed=hough)
    # the same seeds as circle_fit(images) makes itself
    pd.testing.assert_frame_equal(fit.iloc[:20], circle_fit(images[:20]))
    ok = ~fit["failed"].to_numpy()
    assert ok.mean() > 0.97
    rmse_fit = metrics.rmse(truth[ok], fit[["x", "y", "radius"]].to_numpy()[ok])
    rmse_hough = metrics.rmse(truth[ok], hough.to_numpy()[ok])
    # measured: fit about 0.36, 0.33, 0.23 px; blurred Hough about 0.8 px
    assert (rmse_fit < 0.6 * rmse_hough).all(), (rmse_fit, rmse_hough)
    # within 1.8 times the Cramer-Rao bound of these images (about 1.5 for x and y, 1.1 for R)
    limit = circle_image_bound(labels)[ok]
    assert (rmse_fit < 1.8 * np.sqrt((limit**2).mean(axis=0))).all()


def test_circle_fit_flags_failures_instead_of_raising():
    images, _ = rings.simulate_rings(4, seed=2)
    images[1] = 0.0  # blank
    images[2] = 0.0
    images[2, 0, 3, 4] = 1.0  # a single noise hit
    seeds = hough_ring_fit(images)
    seeds.loc[3, "x"] = np.nan  # no seed
    for fit in (circle_fit(images, seed=seeds), ellipse_fit(images, seed=seeds)):
        assert fit["failed"].tolist() == [False, True, True, True]
        assert fit.drop(columns="failed").iloc[1:].isna().all().all()
        assert fit.drop(columns="failed").iloc[0].notna().all()
    # a seed far from the ring leaves no lit pixels near it
    far = seeds.assign(x=100.0, y=100.0, radius=5.0)
    assert circle_fit(images, seed=far)["failed"].all()


def test_circle_fit_points_fits_raw_hits():
    rng = np.random.default_rng(4)
    phi = rng.uniform(0, 2 * np.pi, (50, 200))
    x, y = 3.0 + 7.0 * np.cos(phi), -2.0 + 7.0 * np.sin(phi)
    fit = circle_fit_points(x, y)
    np.testing.assert_allclose(fit[["x", "y", "radius"]].to_numpy(), [[3.0, -2.0, 7.0]] * 50)
    weights = np.ones_like(x)
    weights[0, 2:] = 0.0  # two points do not define a circle
    x[0, 2:] = np.nan
    assert circle_fit_points(x, y, weights)["failed"].tolist() == [True] + [False] * 49
    assert circle_fit_points(x, y)["failed"].tolist() == [True] + [False] * 49  # NaN points drop
    with pytest.raises(ValueError, match="NaN where weights are positive"):
        circle_fit_points(x, y, np.ones_like(x))
    with pytest.raises(ValueError, match="weights must be non-negative"):
        circle_fit_points(x, y, -weights)


def test_ellipse_fit_recovers_known_ellipses():
    truth, hx, hy = _ellipse_hits(60, 2000, seed=5)
    images = rings.render_hits(hx, hy, np.full(hx.shape, 0.5), np.ones(hx.shape, bool))
    fit = ellipse_fit(images)
    assert list(fit.columns) == ["x", "y", "semi_major", "semi_minor", "orientation", "failed"]
    assert not fit["failed"].any()
    err = fit[["x", "y", "semi_major", "semi_minor"]].to_numpy() - truth[:, :4]
    assert np.abs(err).max() < 0.1, np.abs(err).max(axis=0)
    psi = fit["orientation"].to_numpy()
    assert ((psi >= 0) & (psi < np.pi)).all()
    dpsi = np.degrees(np.angle(np.exp(2j * (psi - truth[:, 4]))) / 2)  # difference mod 180 deg
    assert np.abs(dpsi).max() < 4.0
    # a ring centred on a pixel (symmetric pixels): scikit-image's degenerate case
    truth, hx, hy = _ellipse_hits(1, 2000, seed=6)
    hx, hy = hx - truth[0, 0] + 14.0, hy - truth[0, 1] + 14.0
    one = ellipse_fit(rings.render_hits(hx, hy, np.full(hx.shape, 0.5), np.ones(hx.shape, bool)))
    assert abs(np.angle(np.exp(2j * (one["orientation"][0] - truth[0, 4])))) / 2 < np.radians(4)


def test_ellipse_fit_on_inclined_simulated_rings():
    config = rings.RingConfig(inclination_range=(0, 30), noise_hits=0.0, deformation_range=(0.5, 1))
    images, labels = rings.simulate_rings(100, seed=8, config=config)
    truth = rings.ellipse_targets(labels)
    fit = ellipse_fit(images)
    ok = ~fit["failed"].to_numpy()
    assert ok.mean() > 0.95
    rmse = metrics.rmse(truth[ok, :4], fit[["x", "y", "semi_major", "semi_minor"]].to_numpy()[ok])
    assert (rmse < 0.45).all(), rmse  # photon images: about 0.25, 0.19, 0.39, 0.17 px


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda im: circle_fit(im[:, 0]), ValueError, r"images must have shape \(N, 1, H, W\)"),
        (lambda im: ellipse_fit(np.repeat(im, 2, 1)), ValueError, r"\(N, 1, H, W\)"),
        (lambda im: circle_fit(np.where(im > 0.5, np.nan, im)), ValueError, "images contains NaN"),
        (lambda im: circle_fit(im, threshold=1.5), ValueError, r"threshold must be in \[0, 1\)"),
        (lambda im: circle_fit(im, annulus=-1), ValueError, "annulus must be a positive"),
        (lambda im: circle_fit(im, radius_range=(5, 2)), ValueError, "radius_range must be"),
        (lambda im: circle_fit(im, n_rounds=0), ValueError, "n_rounds must be at least 1"),
        (lambda im: circle_fit(im, seed=np.zeros((3, 3))), TypeError, "seed must be None"),
        (lambda im: circle_fit(im, seed=pd.DataFrame({"x": [1.0]})), ValueError, "seed lacks"),
        (
            lambda im: ellipse_fit(im, seed=pd.DataFrame({"x": [1.0], "y": [1.0], "radius": 2})),
            ValueError,
            "seed has 1 rows but images has 3",
        ),
        (lambda im: ellipse_fit(im, n_bins=4), ValueError, "n_bins must be at least 8"),
        (lambda im: ellipse_fit(im, threshold="high"), TypeError, "threshold must be a number"),
    ],
)
def test_ring_fits_reject_bad_input(call, error, message):
    images, _ = rings.simulate_rings(3, seed=1)
    with pytest.raises(error, match=message):
        call(images)
