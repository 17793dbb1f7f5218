"""Profiles, the framework switch, seeding, splits, metrics, preprocessing and chapter F baselines."""
import numpy as np
import pytest

import a3net
from a3net import metrics
from a3net._training import learning_rates
from a3net.baselines.rings import PCASVMCounter, hough_ring_fit
from a3net.data import rings
from a3net.data.splits import random_split, stratified_split
from a3net.preprocessing import Standardizer


def test_profiles_grow_from_smoke_to_full(monkeypatch):
    sizes = {name: a3net.profile("F", name) for name in a3net.config.PROFILE_NAMES}
    for key in ("n_count", "n_regress", "n_cvae", "count_epochs", "regress_epochs", "cvae_epochs"):
        assert sizes["smoke"][key] <= sizes["default"][key] <= sizes["full"][key], key
    monkeypatch.setenv("A3NET_PROFILE", "smoke")
    assert a3net.profile("f").name == "smoke" and a3net.profile("F").chapter == "F"
    assert a3net.profile("F").n_count == sizes["smoke"].n_count
    with pytest.raises(AttributeError, match="does not exist for chapter F"):
        a3net.profile("F").n_epochs


def test_unknown_profile_chapter_and_framework(monkeypatch):
    monkeypatch.setenv("A3NET_PROFILE", "huge")
    with pytest.raises(ValueError, match="A3NET_PROFILE"):
        a3net.profile("F")
    with pytest.raises(ValueError, match="chapter 'Z' has no profile"):
        a3net.profile("Z", "smoke")
    monkeypatch.setenv("A3NET_FRAMEWORK", "jax")
    with pytest.raises(ValueError, match="'torch' or 'keras'"):
        a3net.framework()


def test_framework_switch(monkeypatch):
    monkeypatch.delenv("A3NET_FRAMEWORK", raising=False)
    assert a3net.framework().NAME == "torch"
    monkeypatch.setenv("A3NET_FRAMEWORK", "Keras")
    assert a3net.framework().NAME == "keras"


def test_seed_everything_makes_models_repeatable():
    nn = a3net.framework("torch")
    a3net.seed_everything(3)
    a = nn.predict(nn.RingRegressorMLP(), np.ones((2, 1, 28, 28), np.float32))
    a3net.seed_everything(3)
    b = nn.predict(nn.RingRegressorMLP(), np.ones((2, 1, 28, 28), np.float32))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seed"):
        a3net.seed_everything(-1)


def test_threads_are_set_explicitly(monkeypatch):
    import torch

    assert torch.get_num_threads() == a3net.n_threads()
    monkeypatch.setenv("A3NET_THREADS", "0")
    with pytest.raises(ValueError, match="A3NET_THREADS"):
        a3net.n_threads()


def test_learning_rate_schedules():
    cos = learning_rates(1e-3, 5, "cosine")
    assert cos[0] == pytest.approx(1e-3) and cos[-1] == pytest.approx(1e-5)
    assert all(a > b for a, b in zip(cos, cos[1:]))
    assert learning_rates(2e-3, 3, "constant") == [2e-3] * 3
    assert learning_rates(1e-3, 1, "cosine") == [pytest.approx(1e-3)]


def test_splits():
    train, test = random_split(100, 0.25, seed=1)
    assert len(test) == 25 and len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 100
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    train, test = stratified_split(labels, 0.2, seed=0)
    assert np.bincount(labels[test]).tolist() == [12, 6, 2]
    with pytest.raises(ValueError, match="test_fraction"):
        random_split(10, 1.5)


def test_standardizer_round_trip_and_errors():
    values = np.random.default_rng(0).normal(3, 2, size=(200, 3)).astype(np.float32)
    s = Standardizer().fit(values)
    z = s.transform(values)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(s.inverse_transform(z), values, atol=1e-4)
    with pytest.raises(ValueError, match="constant"):
        Standardizer().fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="3 columns"):
        s.transform(np.ones((4, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(values)


def test_metrics():
    assert metrics.rmse(np.array([1.0, 3.0]), np.array([0.0, 0.0]), axis=None) == pytest.approx(np.sqrt(5))
    table = metrics.rmse_table(np.zeros((4, 2)), np.ones((4, 2)), ["a", "b"])
    assert list(table.index) == ["a", "b"] and (table == 1).all()
    assert metrics.majority_accuracy([0, 0, 1], [0, 1, 0, 0]) == 0.75
    cm = metrics.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="same shape"):
        metrics.rmse(np.zeros(3), np.zeros(4))


def test_hough_recovers_clean_rings_exactly():
    labels = rings.sample_ring_parameters(40, seed=11).assign(thickness_1=0.3, deformation_1=0.5)
    images = rings.render_rings(labels, seed=11, config=rings.RingConfig(noise_hits=0))
    fit = hough_ring_fit(images, radius_step=0.25)
    truth = rings.ring_targets(labels)
    assert np.median(np.abs(fit["x"] - truth[:, 0])) == 0 and np.median(np.abs(fit["y"] - truth[:, 1])) == 0
    assert np.median(np.abs(fit["radius"] - truth[:, 2])) < 0.6  # the vote favours the outer edge of the band
    with pytest.raises(ValueError, match="radius_range"):
        hough_ring_fit(images, radius_range=(5, 2))


def test_pca_svm_counter_beats_the_majority_class():
    images, labels = rings.simulate_rings(1200, max_rings=2, seed=12)
    y = labels["n_rings"].to_numpy() - 1
    counter = PCASVMCounter(n_components=20).fit(images[:1000], y[:1000])
    acc = metrics.accuracy(counter.predict(images[1000:]), y[1000:])
    assert acc > metrics.majority_accuracy(y[:1000], y[1000:]) + 0.15
    assert 0 < counter.explained_variance < 1
    with pytest.raises(ValueError, match="n_components"):
        PCASVMCounter(n_components=5000).fit(images[:100], y[:100])


def test_ring_exercise_checks(capsys):
    from a3net.exercises import rings as checks

    def good(images, x, y):
        image = images[:, 0]
        rows, cols = np.mgrid[0:28, 0:28]
        d = np.hypot(cols[None] - x[:, None, None], rows[None] - y[:, None, None])
        w = np.where(image > 0.2, image, 0.0)
        return (w * d).sum(axis=(1, 2)) / w.sum(axis=(1, 2))

    def stub(images, x, y):
        raise NotImplementedError("exercise")

    assert checks.check_radius_estimator(good) is True
    assert checks.check_radius_estimator(lambda im, x, y: np.full(len(x), 5.0)) is False
    assert checks.check_radius_estimator(stub) is False
    assert "still a stub" in capsys.readouterr().out
    assert checks.check_confusion(lambda t, p, n: metrics.confusion_matrix(t, p, n)) is True
    assert checks.check_confusion(lambda t, p, n: metrics.confusion_matrix(p, t, n)) is False
    assert checks.check_radius_sweep(np.linspace(3, 8, 6), np.linspace(3, 8, 6) + 0.2) is True
    assert checks.check_radius_sweep(np.linspace(3, 8, 6), np.linspace(8, 3, 6)) is False
