"""Chapter F baselines: the PCA + SVM counter as a scikit-learn classifier, the Hough circle fit."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import KFold, cross_val_score

from a3net import metrics
from a3net.baselines.rings import PCASVMCounter, hough_ring_fit
from a3net.data import rings


@pytest.fixture(scope="module")
def small():
    """60 simulated images (N, 1, 28, 28) of 1 or 2 rings and their class indices (N,)."""
    images, labels = rings.simulate_rings(60, max_rings=2, seed=3)
    return images, labels["n_rings"].to_numpy() - 1


def test_hough_recovers_clean_rings_exactly():
    labels = rings.sample_ring_parameters(40, seed=11).assign(thickness_1=0.3, deformation_1=0.5)
    images = rings.render_rings(labels, seed=11, config=rings.RingConfig(noise_hits=0))
    fit = hough_ring_fit(images, radius_step=0.25)
    truth = rings.ring_targets(labels)
    assert np.median(np.abs(fit["x"] - truth[:, 0])) == 0
    assert np.median(np.abs(fit["y"] - truth[:, 1])) == 0
    # the vote favours the outer edge of the band
    assert np.median(np.abs(fit["radius"] - truth[:, 2])) < 0.6
    with pytest.raises(ValueError, match="radius_range"):
        hough_ring_fit(images, radius_range=(5, 2))


def test_pca_svm_counter_beats_the_majority_class():
    images, labels = rings.simulate_rings(1200, max_rings=2, seed=12)
    y = labels["n_rings"].to_numpy() - 1
    counter = PCASVMCounter(n_components=20).fit(images[:1000], y[:1000])
    acc = accuracy_score(y[1000:], counter.predict(images[1000:]))
    assert acc > metrics.majority_accuracy(y[:1000], y[1000:]) + 0.15
    assert counter.score(images[1000:], y[1000:]) == acc  # ClassifierMixin.score is accuracy
    assert counter.classes_.tolist() == [0, 1] and counter.image_shape_ == (1, 28, 28)
    # more components keep more of the pixel variance (about 35% at 5, 62% at 20 of 784)
    fewer = PCASVMCounter(n_components=5).fit(images[:1000], y[:1000])
    assert 0.2 < fewer.variance_kept_ < counter.variance_kept_ < 0.8


def test_counter_follows_the_estimator_contract(small):
    images, y = small
    counter = PCASVMCounter(n_components=5000, C=3.0)  # the constructor only stores
    assert counter.get_params() == {
        "n_components": 5000,
        "C": 3.0,
        "gamma": "scale",
        "random_state": 0,
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
