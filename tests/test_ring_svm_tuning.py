"""Chapter F's tuned classical baseline: ``PCASVMCounter(standardise=...)`` and ``tune_pca_svm``
(stratified k-fold search over components, C, gamma and standardising, refit on all the
training images it is given)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from threadpoolctl import threadpool_limits

from a3net.baselines.rings import PCASVMCounter, _scale_gamma, flatten_images, tune_pca_svm
from a3net.data import rings

COLUMNS = ["components", "C", "gamma_factor", "standardise", "cv_accuracy", "cv_accuracy_std"]


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices: one BLAS thread (on a busy 2-core machine, idle-spinning BLAS threads
    made these tests 5x slower)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def crops():
    """240 ring images cropped to (1, 16, 16) and their class indices (1 or 2 rings -> 0, 1).

    256 pixels and at most 240 images: PCA's "auto" solver is then the exact "full" one, so the
    counter's own pipeline and the search's sliced PCA see the same components."""
    images, labels = rings.simulate_rings(240, max_rings=2, seed=5)
    return np.ascontiguousarray(images[:, :, 6:22, 6:22]), labels["n_rings"].to_numpy() - 1


def _one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message and "\n" not in message


def _easy(n, seed):
    """Two classes set by |a| > 0.5 (a uniform in [-1, 1]), a the amplitude of one pixel pattern
    under unit noise in all 64 pixels: one principal component holds the signal, and an RBF
    (not a linear) boundary separates the classes."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.0, 1.0, n)
    pattern = np.zeros((8, 8), np.float32)
    pattern[2:6, 2:6] = 1.5
    images = rng.normal(0.0, 1.0, (n, 1, 8, 8)).astype(np.float32)
    images += a[:, None, None, None].astype(np.float32) * pattern
    return images, (np.abs(a) > 0.5).astype(np.int64)


def test_the_first_k_of_a_larger_pca_are_a_k_component_pca(crops):
    """The search fits one PCA (covariance_eigh, as in tune_pca_svm) and slices it: the first k
    of its components and scores are those of a k-component PCA, by either exact solver."""
    flat = flatten_images(crops[0])
    big = PCA(n_components=40, svd_solver="covariance_eigh").fit(flat)
    for k in (3, 10, 25):
        for solver in ("covariance_eigh", "full"):
            small = PCA(n_components=k, svd_solver=solver).fit(flat)
            np.testing.assert_allclose(big.components_[:k], small.components_, atol=2e-4)
            np.testing.assert_allclose(big.transform(flat)[:, :k], small.transform(flat), atol=2e-4)
            np.testing.assert_allclose(
                big.explained_variance_[:k], small.explained_variance_, rtol=1e-4
            )


def test_counter_standardise_switch_keeps_the_estimator_contract(crops):
    images, y = crops
    counter = PCASVMCounter(n_components=6, standardise=False)
    assert counter.get_params()["standardise"] is False
    copy = clone(counter)
    assert copy.get_params() == counter.get_params()
    fitted = counter.fit(images, y)
    assert list(fitted.pipeline_.named_steps) == ["flatten", "pca", "svm"]
    scaled = clone(counter).set_params(standardise=True).fit(images, y)
    assert list(scaled.pipeline_.named_steps) == ["flatten", "pca", "scale", "svm"]
    # without the scaler the SVM sees the raw components, whose variances fall with rank;
    # with it every component has variance 1
    z = fitted.pipeline_[:-1].transform(images)
    assert np.all(np.diff(z.var(axis=0)) <= 1e-6) and z.var(axis=0)[0] > 2 * z.var(axis=0)[-1]
    np.testing.assert_allclose(scaled.pipeline_[:-1].transform(images).var(axis=0), 1, rtol=1e-4)
    assert fitted.pipeline_["svm"]._gamma == pytest.approx(_scale_gamma(z))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"standardise": "yes"}, TypeError, "standardise must be True or False"),
        ({"standardise": 1}, TypeError, "standardise must be True or False"),
        ({"C": 0.0}, ValueError, "C must be a positive finite number"),
        ({"C": "big"}, TypeError, "C must be a number"),
        ({"gamma": "wide"}, ValueError, "gamma must be one of 'scale', 'auto'"),
        ({"gamma": -1.0}, ValueError, "gamma must be a positive finite number"),
    ],
)
def test_counter_bad_arguments_get_one_sentence(crops, params, error, match):
    images, y = crops
    counter = PCASVMCounter(n_components=4, **params)  # the constructor only stores
    with pytest.raises(error, match=match) as info:
        counter.fit(images, y)
    assert _one_sentence(str(info.value)), str(info.value)


def test_search_scores_equal_cross_validating_the_counter_itself(crops):
    """The precomputed-kernel search gives the accuracies that cross_val_score gives the real
    pipeline (gamma_factor 1 is gamma="scale", computed on each fold's features)."""
    images, y = crops
    _, table = tune_pca_svm(
        images, y, components=(3, 12), C=(30.0,), gamma_factors=(1.0,), folds=3, seed=4
    )
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=4)
    for row in table.itertuples():
        counter = PCASVMCounter(n_components=row.components, C=row.C, standardise=row.standardise)
        scores = cross_val_score(counter, images, y, cv=folds)
        assert row.cv_accuracy == pytest.approx(scores.mean(), abs=1e-12), row
        assert row.cv_accuracy_std == pytest.approx(scores.std(), abs=1e-12), row


def test_tuning_is_deterministic_and_refits_the_winner_on_all_images(crops):
    images, y = crops
    grid = dict(components=(2, 8, 20), C=(1.0, 10.0), gamma_factors=(0.3, 3.0), folds=3)
    counter, table = tune_pca_svm(images, y, max_images=150, seed=1, **grid)
    again, table_again = tune_pca_svm(images, y, max_images=150, seed=1, **grid)
    pd.testing.assert_frame_equal(table, table_again)
    np.testing.assert_array_equal(counter.predict(images), again.predict(images))

    assert list(table.columns) == COLUMNS and len(table) == 3 * 2 * 2 * 2
    assert not table.duplicated(["components", "C", "gamma_factor", "standardise"]).any()
    assert table["cv_accuracy"].is_monotonic_decreasing
    for _, tied in table.groupby("cv_accuracy", sort=False):  # ties: fewer components, smaller C
        keys = list(zip(tied["components"], tied["C"], strict=True))
        assert keys == sorted(keys)
    assert table.attrs["n_search_images"] == 150 and table.attrs["folds"] == 3
    best = table.iloc[0]
    params = counter.get_params()
    assert params["n_components"] == best["components"] and params["C"] == best["C"]
    assert params["standardise"] == best["standardise"]
    # refitted on ALL the given images, with gamma = factor x "scale" on their features
    assert counter.pipeline_["pca"].n_samples_ == len(images)
    features = counter.pipeline_[:-1].transform(images)
    assert counter.pipeline_["svm"]._gamma == pytest.approx(
        best["gamma_factor"] * _scale_gamma(features), rel=1e-6
    )
    assert table.attrs["gamma"] == counter.pipeline_["svm"]._gamma
    # ... and it is the same model as a fresh counter with those parameters
    fresh = clone(counter).fit(images, y)
    np.testing.assert_array_equal(fresh.predict(images), counter.predict(images))


def test_max_images_only_narrows_the_search(crops):
    """The search sees a stratified, seeded subsample (the same table as tuning on it alone);
    the images it was not given (a test set) can never enter it."""
    images, y = crops
    grid = dict(components=(3, 10), C=(1.0, 10.0), gamma_factors=(1.0,), standardise=(False,))
    _, table = tune_pca_svm(images, y, max_images=120, seed=7, **grid)
    sub, _ = train_test_split(np.arange(len(y)), train_size=120, stratify=y, random_state=7)
    sub = np.sort(sub)
    assert abs(np.mean(y[sub]) - np.mean(y)) < 0.01  # stratified
    _, table_sub = tune_pca_svm(images[sub], y[sub], seed=7, **grid)
    pd.testing.assert_frame_equal(table, table_sub)
    # a different seed draws another subsample and other folds
    _, table_other = tune_pca_svm(images, y, max_images=120, seed=8, **grid)
    assert not np.array_equal(table["cv_accuracy"], table_other["cv_accuracy"])


def test_an_easy_problem_gets_a_sensible_setting():
    """One informative component under noise in 64 pixels: one component and the larger C win,
    the refitted counter classifies fresh images well, and standardising 40 components (63 of
    them noise given equal weight) is the worst choice, as the review of the fixed baseline said."""
    images, y = _easy(300, seed=0)
    counter, table = tune_pca_svm(
        images, y, components=(1, 40), C=(0.01, 10.0), gamma_factors=(1.0,), folds=3
    )
    best = table.iloc[0]
    assert best["components"] == 1 and best["C"] == 10.0 and best["cv_accuracy"] > 0.85
    fresh, y_fresh = _easy(300, seed=10)
    assert counter.score(fresh, y_fresh) > 0.8
    by = table.set_index(["components", "C", "standardise"])["cv_accuracy"]
    assert by[(40, 10.0, False)] > by[(40, 10.0, True)] + 0.2
    assert by[(40, 10.0, True)] < 0.6


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"components": ()}, ValueError, r"components must list at least one value"),
        ({"C": []}, ValueError, r"C must list at least one value"),
        ({"gamma_factors": ()}, ValueError, r"gamma_factors must list at least one value"),
        ({"standardise": ()}, ValueError, r"standardise must list at least one value"),
        ({"components": (0, 5)}, ValueError, r"components must be at least 1"),
        ({"components": (2.5,)}, TypeError, r"components must be a whole number"),
        ({"C": (1.0, -2.0)}, ValueError, r"C must be a positive finite number"),
        ({"gamma_factors": (0.0,)}, ValueError, r"gamma_factors must be a positive finite"),
        ({"standardise": ("no",)}, TypeError, r"standardise must be True or False"),
        ({"components": "10"}, TypeError, r"components must be a sequence of values"),
        ({"folds": 1}, ValueError, r"folds must be at least 2"),
        ({"folds": 2.0}, TypeError, r"folds must be a whole number"),
        ({"max_images": 5}, ValueError, r"max_images must be at least classes x folds .* = 6"),
        ({"max_images": 0}, ValueError, r"max_images must be at least 1"),
        ({"seed": -1}, ValueError, r"seed must be a whole number"),
        ({"components": (200,)}, ValueError, r"components up to 200 exceed .* per fold"),
    ],
)
def test_tuning_bad_arguments_get_one_sentence(crops, kwargs, error, match):
    images, y = crops
    with pytest.raises(error, match=match) as info:
        tune_pca_svm(images, y, **{"components": (2,), "C": (1.0,), **kwargs})
    assert _one_sentence(str(info.value)), str(info.value)


def test_tuning_bad_inputs_get_one_sentence(crops):
    images, y = crops
    cases = [
        (lambda: tune_pca_svm(flatten_images(images), y), r"images must have shape \(N, C, H, W\)"),
        (lambda: tune_pca_svm(images, y[:-1]), r"y has 239 rows but the inputs have 240"),
        (lambda: tune_pca_svm(images, np.zeros(len(y), int)), r"at least 2 classes"),
        (
            # one image of class 2: three folds cannot each hold one
            lambda: tune_pca_svm(images, np.where(np.arange(len(y)) == 0, 2, y), components=(2,)),
            r"class 2 has only 1 of the 240 search images but folds=3 needs at least 3",
        ),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert _one_sentence(str(info.value)), str(info.value)
