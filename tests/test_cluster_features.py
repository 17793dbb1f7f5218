"""Chapter D's strong classical baselines: point-source masks, sub-pixel apertures, profile
features and the regressors built on them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from sklearn.base import clone

from a3net.baselines.cluster_features import (
    CoreExcisedLuminosity,
    ProfileFeatureRegressor,
    _Profiles,
    detect_point_sources,
    masked_aperture_counts,
    profile_features,
)
from a3net.baselines.clusters import LuminosityMassRelation
from a3net.data.clusters import ClusterConfig, simulate_clusters

CFG = ClusterConfig(image_size=48)
BKG = CFG.background_per_pixel


@pytest.fixture(scope="module")
def sample():
    """400 clusters x 3 projections at 48 px, split 70/30 by cluster."""
    images, cat = simulate_clusters(400, projections=3, config=CFG, seed=3)
    ids = cat["cluster_id"].to_numpy()
    train = np.isin(ids, np.random.default_rng(0).permutation(400)[:280])
    return images, cat["log_m500"].to_numpy(), ids, train


def _inject(images, xy, flux, seed=0):
    """Add Poisson point sources of ``flux`` counts at ``xy`` (N, 2) [px] (0.5 px PSF)."""
    axis = np.arange(images.shape[-1])
    gx = np.exp(-0.5 * ((axis[None] - xy[:, :1]) / 0.5) ** 2)
    gy = np.exp(-0.5 * ((axis[None] - xy[:, 1:]) / 0.5) ** 2)
    gx /= gx.sum(axis=1, keepdims=True)
    gy /= gy.sum(axis=1, keepdims=True)
    expected = flux[:, None, None] * gy[:, :, None] * gx[:, None, :]
    out = images.copy()
    out[:, 0] += np.random.default_rng(seed).poisson(expected)
    return out


def _rms(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


# --------------------------------------------------------------------------- point sources


def test_single_injected_source_is_masked_and_centre_is_not():
    flat = np.random.default_rng(1).poisson(BKG, (1, 1, 48, 48)).astype(np.float32)
    flat[0, 0, 22:26, 22:26] += 400  # a bright, compact cluster centre
    image = _inject(flat, np.array([[40.0, 8.0]]), np.array([300.0]))
    mask, n = detect_point_sources(image, BKG, return_counts=True)
    assert mask.shape == image.shape and mask.dtype == bool
    assert n.tolist() == [1]
    assert mask[0, 0, 7:10, 39:42].all()  # the source's pixels (row = y, column = x)
    assert not mask[0, 0, 21:27, 21:27].any()  # the centre
    assert mask.sum() <= 21


def test_detection_rate_and_false_detections():
    images, cat = simulate_clusters(
        150, projections=2, config=ClusterConfig(image_size=48, point_sources=0.0), seed=4
    )
    rng = np.random.default_rng(2)
    xy = rng.uniform(-0.5, 47.5, (len(images), 2))
    flux = 10 ** rng.uniform(np.log10(50), np.log10(500), len(images))
    _, n_clean = detect_point_sources(images, BKG, return_counts=True)
    relaxed = cat["n_subclumps"].to_numpy() == 0  # subclumps are compact and may be masked
    assert n_clean[relaxed].mean() < 0.1
    mask = detect_point_sources(_inject(images, xy, flux), BKG)
    pix = np.clip(np.round(xy).astype(int), 0, 47)
    hit = mask[np.arange(len(images)), 0, pix[:, 1], pix[:, 0]]
    away = np.hypot(*(xy - 23.5).T) > 6  # sources on a bright core can hide in it
    assert hit[away].mean() > 0.8


def test_detection_counts_match_the_catalogue_statistically(sample):
    images, _, _, _ = sample
    _, cat = simulate_clusters(400, projections=3, config=CFG, seed=3)
    mask = detect_point_sources(images, BKG)
    # count masked discs whose middle lies over 2 px inside the field (sources centred outside
    # the field, not in n_point_sources, can put their light on the edge pixels)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    labels, n_labels = ndimage.label(mask[:, 0], structure=structure)
    index = np.arange(1, n_labels + 1)
    where = np.array(ndimage.center_of_mass(mask[:, 0], labels, index))
    inside = ((where[:, 1:] > 2) & (where[:, 1:] < 45)).all(axis=1)
    n = np.bincount(where[inside, 0].astype(int), minlength=len(images))
    truth = cat["n_point_sources"].to_numpy()
    # most sources (20-500 counts, log-uniform) are found; few beyond subclumps are invented
    assert 0.6 * truth.mean() < n.mean() < 1.2 * truth.mean() + 0.5
    assert np.corrcoef(n, truth)[0, 1] > 0.6


# --------------------------------------------------------------------------- apertures


@pytest.mark.parametrize("inner, outer", [(1.0, 2.0), (1.0, 5.5), (2.3, 7.7), (3.0, 20.0)])
def test_fractional_annulus_area(inner, outer):
    prof = _Profiles(np.zeros((1, 1, 48, 48), np.float32), np.zeros((1, 1, 48, 48), bool), 4)
    area = prof.area(outer) - prof.area(inner)
    assert area == pytest.approx(np.pi * (outer**2 - inner**2), rel=0.02)
    ones = np.ones((1, 1, 48, 48), np.float32)
    counts = masked_aperture_counts(ones, None, outer, inner=inner / outer)
    assert counts[0] == pytest.approx(area, rel=1e-5)


def test_masking_removes_an_injected_source(sample):
    images = sample[0][:60]
    r500 = np.full(len(images), 15.0)
    xy = np.tile([[23.5 + 9.0, 23.5 - 3.0]], (len(images), 1))  # 9.5 px out, inside R500
    dirty = _inject(images, xy, np.full(len(images), 400.0))
    raw_clean = masked_aperture_counts(images, None, r500, inner=0.15, background=BKG)
    raw = masked_aperture_counts(dirty, None, r500, inner=0.15, background=BKG)
    assert np.median(raw - raw_clean) == pytest.approx(400, rel=0.1)
    # with the mask found on the dirty images, both agree to within the Poisson noise of the
    # fill (the images hold their own point sources and subclumps too: mask them alike)
    mask = detect_point_sources(dirty, BKG)
    clean = masked_aperture_counts(images, mask, r500, inner=0.15, background=BKG)
    masked = masked_aperture_counts(dirty, mask, r500, inner=0.15, background=BKG)
    noise = np.sqrt(np.maximum(clean, 0) + BKG * np.pi * 15**2)
    assert abs(np.median(masked - clean)) < 0.1 * np.median(noise)
    assert np.mean(np.abs(masked - clean) < 2 * noise) > 0.9


def test_errors_name_the_argument():
    images = np.ones((2, 1, 48, 48), np.float32)
    with pytest.raises(ValueError, match="images"):
        detect_point_sources(images[:, 0], BKG)
    bad = images.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        masked_aperture_counts(bad, None, 10.0)
    with pytest.raises(ValueError, match="mask"):
        masked_aperture_counts(images, np.zeros((2, 1, 40, 40), bool), 10.0)
    with pytest.raises(ValueError, match="mask"):
        masked_aperture_counts(images, np.zeros(images.shape), 10.0)
    with pytest.raises(ValueError, match="r500_pix"):
        masked_aperture_counts(images, None, [10.0, 10.0, 10.0])
    with pytest.raises(ValueError, match="inner"):
        masked_aperture_counts(images, None, 10.0, inner=1.0)
    with pytest.raises(ValueError, match="background"):
        detect_point_sources(images, -1.0)
    with pytest.raises(ValueError, match="mask"):
        profile_features(images, config=CFG, mask=np.zeros((2, 48, 48), bool))
    with pytest.raises(ValueError, match="groups"):
        CoreExcisedLuminosity(core="cv").fit(images, [14.0, 14.1], groups=[0, 1, 2])
    with pytest.raises(ValueError, match="core"):
        CoreExcisedLuminosity(core="auto").fit(images, [14.0, 14.1])


# --------------------------------------------------------------------------- features


def test_features_shape_and_rotation_invariance(sample):
    images = sample[0][:40]
    feats = profile_features(images, config=CFG)
    assert feats.shape[0] == len(images) and np.isfinite(feats.to_numpy()).all()
    for name in ("conc_40_400", "centroid_shift", "half_light_px", "log_counts", "sb_0"):
        assert name in feats.columns
    rotated = profile_features(np.rot90(images, 1, axes=(2, 3)).copy(), config=CFG)
    np.testing.assert_allclose(rotated.to_numpy(), feats.to_numpy(), rtol=1e-6, atol=1e-6)
    assert (feats["centroid_shift"] > 0).all() and (feats["half_light_px"] > 0).all()


# --------------------------------------------------------------------------- regressors


def test_regressors_clone():
    for est in (CoreExcisedLuminosity(core="cv", config=CFG), ProfileFeatureRegressor(CFG)):
        copy = clone(est)
        assert copy.get_params() == est.get_params()


def test_core_excised_luminosity_beats_the_pixel_relation(sample):
    images, y, ids, train = sample
    test = ~train
    old = LuminosityMassRelation(core_excised=True, config=CFG).fit(images[train], y[train])
    new = CoreExcisedLuminosity(core="cv", config=CFG)
    new.fit(images[train], y[train], groups=ids[train])
    assert new.core_ in (0.1, 0.15, 0.2, 0.3) and set(new.cv_scatter_) == {0.1, 0.15, 0.2, 0.3}
    old_rms = _rms(old.predict(images[test]), y[test])
    new_rms = _rms(new.predict(images[test]), y[test])
    assert new_rms < old_rms
    fixed = CoreExcisedLuminosity(config=CFG).fit(images[train], y[train])
    assert fixed.core_ == 0.15 and _rms(fixed.predict(images[test]), y[test]) < 0.08


def test_profile_regressor_beats_the_luminosity(sample):
    images, y, ids, train = sample
    test = ~train
    masked = CoreExcisedLuminosity(config=CFG).fit(images[train], y[train])
    best = CoreExcisedLuminosity(core="cv", config=CFG)
    best.fit(images[train], y[train], groups=ids[train])
    trees = ProfileFeatureRegressor(CFG, n_settings=6)
    trees.fit(images[train], y[train], groups=ids[train])
    assert len(trees.cv_results_) == 6 and "rmse" in trees.cv_results_
    assert set(trees.best_params_) >= {"learning_rate", "max_leaf_nodes", "max_iter"}
    assert trees.feature_names_ == list(profile_features(images[:2], config=CFG).columns)
    pred = trees.predict(images[test])
    assert pred.shape == (int(test.sum()),)
    rms = _rms(pred, y[test])
    assert rms < _rms(masked.predict(images[test]), y[test])  # the 0.15 R500 excision
    # with 840 training images the trees only tie the cross-validated excision (0.0398 vs
    # 0.0391 dex here); with 3500 they beat it (0.0376 vs 0.0413 dex)
    assert rms < 1.05 * _rms(best.predict(images[test]), y[test])
