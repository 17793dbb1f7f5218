"""Chapter F's counting baseline: a PCA + SVM ring counter (the Hough transform is in
``a3net.baselines.hough``, the least-squares circle and ellipse fits in
``a3net.baselines.ring_fits``).

It takes ring images (N, 1, H, W) as the networks do. ``PCASVMCounter`` is a scikit-learn
classifier, so ``sklearn.base.clone``, ``cross_val_score`` and ``KFold`` work on it.
``tune_pca_svm`` cross-validates it over the number of components, C, gamma and whether the
components are standardised, on the training images only, and refits the best setting.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from .._validation import (
    as_float_array,
    check_memory,
    check_option,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_targets,
)


def _check_images(images, name="images") -> np.ndarray:
    arr = as_float_array(images, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {arr.shape}.")
    return arr


def flatten_images(images) -> np.ndarray:
    """Images (N, C, H, W) as pixel vectors (N, C * H * W), float32."""
    arr = np.asarray(images, np.float32)
    return arr.reshape(len(arr), -1)


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}.")
    return bool(value)


def _scale_gamma(features) -> float:
    """The RBF width that ``SVC(gamma="scale")`` uses on ``features``: 1 / (n_features * var)."""
    x = np.asarray(features, np.float64)
    var = x.var()
    return 1.0 / (x.shape[1] * var) if var != 0 else 1.0


def _features_steps(n_components: int, random_state, standardise: bool) -> list:
    """The counter's steps before the SVM: flatten, PCA and (``standardise``) StandardScaler."""
    steps = [
        ("flatten", FunctionTransformer(flatten_images)),
        ("pca", PCA(n_components=n_components, random_state=random_state)),
    ]
    return steps + [("scale", StandardScaler())] if standardise else steps


class PCASVMCounter(ClassifierMixin, BaseEstimator):
    """Ring counter: pixels -> PCA (``n_components``) -> standardise -> RBF support-vector machine.

    ``fit(X, y)`` takes images X (N, C, H, W) and class indices y (N,) as for ``RingCounterCNN``
    (class k = k + 1 rings); ``predict(X)`` returns class indices (N,), ``score`` the accuracy.
    ``gamma`` is "scale", "auto" or a positive number, as for ``sklearn.svm.SVC``;
    ``standardise=False`` drops the standardising step, so that the SVM sees the principal
    components with their own variances (the leading ones weigh more in the RBF distance).
    Fitted attributes: ``pipeline_`` (flatten, PCA, StandardScaler if ``standardise``, SVC),
    ``classes_``, ``image_shape_`` (C, H, W) and ``variance_kept_`` (fraction of the pixel
    variance that the principal components keep). ``tune_pca_svm`` chooses the parameters.
    """

    def __init__(
        self,
        n_components: int = 40,
        C: float = 10.0,
        gamma: str | float = "scale",
        random_state: int | None = 0,
        standardise: bool = True,
    ):
        self.n_components = n_components
        self.C = C
        self.gamma = gamma
        self.random_state = random_state
        self.standardise = standardise

    def _check_params(self, x: np.ndarray) -> tuple[int, float, str | float, int | None, bool]:
        n_components = check_positive_int(self.n_components, "n_components")
        n_pixels = int(np.prod(x.shape[1:]))
        if n_components > min(len(x), n_pixels):
            raise ValueError(
                f"n_components={n_components} exceeds what {len(x)} images of {n_pixels} pixels "
                "allow; lower it."
            )
        c = check_positive_number(self.C, "C")
        if isinstance(self.gamma, str):
            gamma = check_option(self.gamma, "gamma", ("scale", "auto"))
        else:
            gamma = check_positive_number(self.gamma, "gamma")
        random_state = check_seed(self.random_state, "random_state", none=True)
        standardise = _check_bool(self.standardise, "standardise")
        return n_components, c, gamma, random_state, standardise

    def fit(self, X, y) -> PCASVMCounter:
        """Fit on images X (N, C, H, W) and class indices y (N,); returns self."""
        x = _check_images(X, "X")
        n_components, c, gamma, random_state, standardise = self._check_params(x)
        labels = check_targets(y, len(x), "y", classification=True)
        self.pipeline_ = Pipeline(
            _features_steps(n_components, random_state, standardise)
            + [("svm", SVC(C=c, gamma=gamma, random_state=random_state))]
        ).fit(x, labels)
        self.classes_ = self.pipeline_.classes_
        self.image_shape_ = tuple(x.shape[1:])
        self.variance_kept_ = float(self.pipeline_["pca"].explained_variance_ratio_.sum())
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted class indices (N,) of images X (N, C, H, W)."""
        check_is_fitted(self, "pipeline_")
        x = _check_images(X, "X")
        if x.shape[1:] != self.image_shape_:
            raise ValueError(
                f"X must hold images of shape {self.image_shape_} as in fit, got {x.shape[1:]}."
            )
        return self.pipeline_.predict(x)


# --- tuning -----------------------------------------------------------------------------------


def _check_grid(values, name: str, check) -> list:
    """The distinct values of the grid axis ``values``, sorted, each passed through ``check``."""
    if isinstance(values, (str, bytes)) or np.ndim(values) > 1:
        raise TypeError(f"{name} must be a sequence of values, got {values!r}.")
    try:
        items = list(np.atleast_1d(np.asarray(values, dtype=object)))
    except TypeError:
        raise TypeError(f"{name} must be a sequence of values, got {values!r}.") from None
    if not items:
        raise ValueError(f"{name} must list at least one value, got {values!r}.")
    return sorted({check(v, name) for v in items})


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(a), len(b)) between the rows of a and b, float64."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0, out=d)


def _fold_scores(x_fit, y_fit, x_val, y_val, components, cs, factors, standardise) -> dict:
    """Validation accuracy of every combination on one fold: {(k, C, factor, std): accuracy}.

    One PCA with the most components is fitted (``svd_solver="covariance_eigh"``: an exact,
    deterministic eigendecomposition, so its first k components are the k-component PCA, and for
    more images than pixels much faster than "full"); the squared distances between the sliced
    (and, with ``standardise``, standardised) components are computed once per k and the RBF
    kernel exp(-gamma d^2) once per gamma, then every C is fitted on that precomputed kernel.
    """
    pca = PCA(n_components=max(components), svd_solver="covariance_eigh").fit(x_fit)
    z_fit, z_val = pca.transform(x_fit), pca.transform(x_val)  # float32, as in the counter
    scores = {}
    for std in standardise:
        if std:  # StandardScaler works column by column, so slicing after scaling is exact
            scaler = StandardScaler().fit(z_fit)
            f_fit, f_val = scaler.transform(z_fit), scaler.transform(z_val)
        else:
            f_fit, f_val = z_fit, z_val
        f_fit, f_val = f_fit.astype(np.float64), f_val.astype(np.float64)
        for k in components:
            a, b = f_fit[:, :k], f_val[:, :k]
            base = _scale_gamma(a)
            d_fit, d_val = _sq_distances(a, a), _sq_distances(b, a)
            for factor in factors:
                gamma = factor * base
                k_fit, k_val = np.exp(-gamma * d_fit), np.exp(-gamma * d_val)
                for c in cs:
                    svm = SVC(C=c, kernel="precomputed").fit(k_fit, y_fit)
                    scores[(k, c, factor, std)] = float(np.mean(svm.predict(k_val) == y_val))
    return scores


def tune_pca_svm(
    images,
    y,
    *,
    components=(10, 25, 50, 100),
    C=(1.0, 10.0, 100.0),
    gamma_factors=(0.3, 1.0, 3.0),
    standardise=(True, False),
    folds: int = 3,
    max_images: int | None = None,
    seed: int = 0,
):
    """Tune ``PCASVMCounter`` by stratified k-fold cross-validation; returns ``(counter, table)``.

    Pass the TRAINING images (N, C, H, W) and class indices y (N,) only: the search sees nothing
    else. Every combination of ``components`` (principal components kept), ``C``,
    ``gamma_factors`` (gamma = factor x the value of sklearn's ``gamma="scale"``,
    1 / (n_features x variance) of the features the SVM sees) and ``standardise`` is scored by
    the mean validation accuracy over ``folds`` stratified folds (shuffled with ``seed``).
    ``max_images`` (None: all) draws a stratified, seeded subsample for the search only; the
    best combination (ties: fewer components, then smaller C, smaller gamma factor,
    standardised first) is refitted on ALL the given images and returned as a fitted
    ``PCASVMCounter`` whose ``gamma`` is the factor times the "scale" value on those images.
    ``table`` is a DataFrame with one row per combination, best first: components, C,
    gamma_factor, standardise, cv_accuracy and cv_accuracy_std (over the folds);
    ``table.attrs`` records n_search_images, folds, seed and the refitted gamma.

    It runs on one core (one BLAS thread, libsvm is single-threaded): the matrices are small,
    and on a shared 2-core machine two spinning BLAS threads made the search 3x slower.
    """
    from threadpoolctl import threadpool_limits

    x = _check_images(images, "images")
    labels = check_targets(y, len(x), "y", classification=True)
    components = _check_grid(components, "components", check_positive_int)
    cs = _check_grid(C, "C", check_positive_number)
    factors = _check_grid(gamma_factors, "gamma_factors", check_positive_number)
    stds = sorted(_check_grid(standardise, "standardise", _check_bool), reverse=True)
    folds = check_positive_int(folds, "folds", minimum=2)
    seed = check_seed(seed)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(f"y must hold at least 2 classes to tune a classifier, got {classes}.")
    if max_images is not None:
        max_images = check_positive_int(max_images, "max_images")
        if max_images < len(classes) * folds:
            raise ValueError(
                f"max_images must be at least classes x folds = {len(classes)} x {folds} = "
                f"{len(classes) * folds}, got {max_images}."
            )
    if max_images is None or max_images >= len(x):
        search = np.arange(len(x))
    else:
        search, _ = train_test_split(
            np.arange(len(x)), train_size=max_images, stratify=labels, random_state=seed
        )
        search = np.sort(search)
    s_counts = np.bincount(np.searchsorted(classes, labels[search]), minlength=len(classes))
    if s_counts.min() < folds:
        worst = classes[np.argmin(s_counts)]
        raise ValueError(
            f"class {worst} has only {s_counts.min()} of the {len(search)} search images but "
            f"folds={folds} needs at least {folds} per class; raise max_images or lower folds."
        )
    n_pixels = int(np.prod(x.shape[1:]))
    n_fit = len(search) - -(-len(search) // folds)  # the smallest training part of a fold
    if max(components) > min(n_fit, n_pixels):
        raise ValueError(
            f"components up to {max(components)} exceed what {n_fit} training images per fold "
            f"of {n_pixels} pixels allow; lower them or raise max_images."
        )
    n_val = len(search) - n_fit
    check_memory(
        8 * 2 * (n_fit + 1) * (n_fit + n_val) + 4 * len(search) * n_pixels,
        f"tune_pca_svm's kernels on {len(search)} search images",
    )

    flat = flatten_images(x)
    xs, ys = flat[search], labels[search]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    per_fold = []
    with threadpool_limits(1):  # n_jobs=1 and one BLAS thread: see the docstring
        for fit_idx, val_idx in splitter.split(xs, ys):
            per_fold.append(
                _fold_scores(
                    xs[fit_idx],
                    ys[fit_idx],
                    xs[val_idx],
                    ys[val_idx],
                    components,
                    cs,
                    factors,
                    stds,
                )
            )
        rows = []
        for k, c, factor, std in itertools.product(components, cs, factors, stds):
            acc = np.array([scores[(k, c, factor, std)] for scores in per_fold])
            rows.append((k, c, factor, std, acc.mean(), acc.std()))
        table = pd.DataFrame(
            rows,
            columns=[
                "components",
                "C",
                "gamma_factor",
                "standardise",
                "cv_accuracy",
                "cv_accuracy_std",
            ],
        )
        table = table.sort_values(
            ["cv_accuracy", "components", "C", "gamma_factor", "standardise"],
            ascending=[False, True, True, True, False],
            kind="stable",
        ).reset_index(drop=True)
        best = table.iloc[0]
        k, c, factor = int(best["components"]), float(best["C"]), float(best["gamma_factor"])
        std = bool(best["standardise"])
        if factor == 1.0:
            gamma = "scale"
        else:  # "scale" on the features that the refitted counter's SVM will see
            features = Pipeline(_features_steps(k, 0, std)).fit_transform(x)
            gamma = factor * _scale_gamma(features)
        counter = PCASVMCounter(n_components=k, C=c, gamma=gamma, standardise=std).fit(x, labels)
    table.attrs.update(
        n_search_images=len(search), folds=folds, seed=seed, gamma=counter.pipeline_["svm"]._gamma
    )
    return counter, table
