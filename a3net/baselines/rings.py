"""Chapter F's counting baseline: a PCA + SVM ring counter (the Hough transform is in
``a3net.baselines.hough``, the least-squares circle and ellipse fits in
``a3net.baselines.ring_fits``).

It takes ring images (N, 1, H, W) as the networks do. ``PCASVMCounter`` is a scikit-learn
classifier, so ``sklearn.base.clone``, ``cross_val_score`` and ``KFold`` work on it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from .._validation import as_float_array, check_positive_int, check_seed, check_targets


def _check_images(images, name="images") -> np.ndarray:
    arr = as_float_array(images, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {arr.shape}.")
    return arr


def flatten_images(images) -> np.ndarray:
    """Images (N, C, H, W) as pixel vectors (N, C * H * W), float32."""
    arr = np.asarray(images, np.float32)
    return arr.reshape(len(arr), -1)


class PCASVMCounter(ClassifierMixin, BaseEstimator):
    """Ring counter: pixels -> PCA (``n_components``) -> standardise -> RBF support-vector machine.

    ``fit(X, y)`` takes images X (N, C, H, W) and class indices y (N,) as for ``RingCounterCNN``
    (class k = k + 1 rings); ``predict(X)`` returns class indices (N,), ``score`` the accuracy.
    Fitted attributes: ``pipeline_`` (flatten, PCA, StandardScaler, SVC), ``classes_``,
    ``image_shape_`` (C, H, W) and ``variance_kept_`` (fraction of the pixel variance that the
    principal components keep).
    """

    def __init__(
        self,
        n_components: int = 40,
        C: float = 10.0,
        gamma: str | float = "scale",
        random_state: int | None = 0,
    ):
        self.n_components = n_components
        self.C = C
        self.gamma = gamma
        self.random_state = random_state

    def fit(self, X, y) -> PCASVMCounter:
        """Fit on images X (N, C, H, W) and class indices y (N,); returns self."""
        x = _check_images(X, "X")
        n_components = check_positive_int(self.n_components, "n_components")
        n_pixels = int(np.prod(x.shape[1:]))
        if n_components > min(len(x), n_pixels):
            raise ValueError(
                f"n_components={n_components} exceeds what {len(x)} images of {n_pixels} pixels "
                "allow; lower it."
            )
        labels = check_targets(y, len(x), "y", classification=True)
        random_state = check_seed(self.random_state, "random_state", none=True)
        self.pipeline_ = Pipeline(
            [
                ("flatten", FunctionTransformer(flatten_images)),
                ("pca", PCA(n_components=n_components, random_state=random_state)),
                ("scale", StandardScaler()),
                ("svm", SVC(C=self.C, gamma=self.gamma, random_state=random_state)),
            ]
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
