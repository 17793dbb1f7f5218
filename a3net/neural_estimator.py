"""A scikit-learn regressor around an a3net network, so that a neural model joins scikit-learn's
cross-validation, pipelines and comparison tables next to random forests and SVMs.

``NeuralRegressor(model="PhotoZMLP", framework="keras")`` builds ``a3net.keras.PhotoZMLP`` with
``n_features`` set from the data, standardises features and target on the training set, fills
missing features (NaN) with the training median, and trains through the framework's common
``fit``. Predictions come back in the target's units.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted


def _numbers(value, name: str) -> np.ndarray:
    """``value`` as a float32 array; TypeError naming ``name`` if it holds anything but numbers."""
    try:
        return np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be an array of numbers, got {type(value).__name__} holding something "
            "else (text, None or rows of different lengths); convert or drop those values."
        ) from None


class NeuralRegressor(RegressorMixin, BaseEstimator):
    """An a3net regression network as a scikit-learn estimator.

    ``model``: a class name of ``a3net.torch`` / ``a3net.keras`` taking ``n_features`` (e.g.
    "PhotoZMLP"); ``framework``: "torch" or "keras" (None: ``A3NET_FRAMEWORK``);
    ``model_kwargs``: further constructor arguments (e.g. ``{"hidden": (256, 256, 256)}``);
    ``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``seed``: passed to ``fit``;
    ``progress``: show the training bar. After ``fit``: ``model_`` (the network), ``history_``.
    """

    def __init__(
        self,
        model: str = "PhotoZMLP",
        framework: str | None = None,
        model_kwargs: dict | None = None,
        epochs: int = 50,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
        progress: bool = False,
    ):
        self.model = model
        self.framework = framework
        self.model_kwargs = model_kwargs
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.progress = progress

    def _features(self, X) -> np.ndarray:
        X = _numbers(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D feature table (N, n_features), got {X.shape}.")
        if np.isinf(X).any():
            raise ValueError("X contains infinite values; replace them by NaN or drop them.")
        X = np.where(np.isnan(X), self.median_, X)
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def fit(self, X, y):
        """Train on features ``X`` (N, F) (NaN allowed: median-filled) and targets ``y`` (N,)."""
        import a3net

        nn = a3net.framework(self.framework)
        if not isinstance(self.model, str) or not hasattr(nn, self.model):
            raise ValueError(f"model {self.model!r} is not a model of a3net.{nn.NAME}.")
        X, y = _numbers(X, "X"), _numbers(y, "y")
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(
                f"X must be a 2-D feature table (N, n_features) with N >= 1, got {X.shape}."
            )
        if y.ndim == 0 or len(y) != len(X):
            raise ValueError(f"y must have one row per row of X ({len(X)}), got shape {y.shape}.")
        y = y.reshape(len(X), -1)
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite values; drop those rows first.")
        with np.errstate(all="ignore"):
            median = np.nanmedian(X, axis=0)
        self.median_ = np.nan_to_num(median)
        self.mean_ = np.zeros(X.shape[1], np.float32)
        self.scale_ = np.ones(X.shape[1], np.float32)
        filled = self._features(X)
        self.mean_ = filled.mean(axis=0)
        self.scale_ = np.where(filled.std(axis=0) > 0, filled.std(axis=0), 1.0)
        self.y_mean_, self.y_scale_ = y.mean(axis=0), y.std(axis=0) + 1e-12
        self.n_features_in_ = X.shape[1]
        self.model_ = getattr(nn, self.model)(n_features=X.shape[1], **(self.model_kwargs or {}))
        self.history_ = nn.fit(
            self.model_,
            self._features(X),
            (y - self.y_mean_) / self.y_scale_,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            seed=self.seed,
            progress=self.progress,
        )
        self.framework_ = nn.NAME
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets (N,) (or (N, K) for K outputs) in the target's units."""
        import a3net

        check_is_fitted(self, "model_")
        nn = a3net.framework(self.framework_)
        pred = nn.predict(self.model_, self._features(X)) * self.y_scale_ + self.y_mean_
        return pred[:, 0] if pred.shape[1] == 1 else pred
