"""Chapters A/B's references: a PCA-plus-regression generator and a label regressor.

- :class:`PCASpectrumModel`, the simple conditional generator a GAN or VAE must beat: the
  spectra's principal components, a ridge regression of the PCA coefficients on a quadratic
  polynomial of the conditions, and Gaussian residuals in coefficient space (their covariance),
  so ``sample(c)`` draws spectra with the training data's conditional mean and scatter (to the
  extent both are linear-Gaussian in the coefficients).
- :class:`LabelRegressor`, which reads the labels back from spectra (trained on real spectra,
  applied to generated ones: a generator whose samples give back their conditions has learned
  the conditional structure): whitened PCA to 32 components and a small scikit-learn MLP.

Spectra are (N, n_bins) float32 (normalised, as :func:`a3net.data.spectra_prep.preprocess`
returns them); conditions or labels (N, P) float32 (the notebook standardises z, log10 age,
log10 Z, log10 smass).
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from .._validation import as_float_array, check_positive_int, check_seed
from ..evaluation.frechet import SpectrumFeatures

__all__ = ["LabelRegressor", "PCASpectrumModel"]


def _pair(x, c, name_c: str = "c") -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x, "x", ndim=2)
    c = as_float_array(c, name_c)
    c = c[:, None] if c.ndim == 1 else c
    if c.ndim != 2 or len(c) != len(x):
        raise ValueError(
            f"{name_c} must have shape (N, P) with one row per spectrum ({len(x)}), got {c.shape}."
        )
    return x, c


class PCASpectrumModel:
    """Conditional generator "PCA plus regression": spectra (N, B) given conditions (N, P).

    ``fit(x, c)``: the mean spectrum and the first ``n_components`` principal components of
    ``x``; the coefficients a = (x - mean) V are regressed on polynomial features of the
    standardised conditions (degree ``degree``, default 2: 15 terms for 4 conditions) by ridge
    regression (penalty ``alpha``). A quadratic ridge is smooth, has a closed form (fits 8000 x 256
    in well under a second) and captures the curved mean relations (the break and colours rise
    non-linearly with age and metallicity); kNN would be noisier and piecewise constant.
    Residuals a - a_hat give a full covariance S in coefficient space.
    ``sample(c, seed)``: x = mean + (a_hat(c) + S^1/2 e) V^T with e ~ N(0, 1), (N, B) float32;
    ``mean_spectrum(c)``: the conditional mean, mean + a_hat(c) V^T. The residual scatter is
    the same for every condition (homoscedastic), and the variance outside the kept components
    (mostly pixel noise) is not redrawn.
    """

    def __init__(self, n_components: int = 16, *, degree: int = 2, alpha: float = 1e-3):
        self.n_components = check_positive_int(n_components, "n_components")
        self.degree = check_positive_int(degree, "degree")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha >= 0:
            raise ValueError(f"alpha must be a non-negative number, got {alpha!r}.")
        self.alpha = float(alpha)

    def _design(self, c: np.ndarray) -> np.ndarray:
        return self.poly_.transform((c - self.c_mean_) / self.c_scale_)

    def fit(self, x, c) -> PCASpectrumModel:
        x, c = _pair(x, c)
        c64 = c.astype(np.float64)
        pca = SpectrumFeatures(self.n_components, whiten=False).fit(x)
        self.mean_, self.components_ = pca.mean_, pca.components_  # (B,), (K, B)
        coef = pca.transform(x)  # (N, K)
        self.c_mean_ = c64.mean(axis=0)
        self.c_scale_ = np.where(c64.std(axis=0) > 0, c64.std(axis=0), 1.0)
        self.poly_ = PolynomialFeatures(self.degree, include_bias=True)
        self.poly_.fit(np.zeros((1, c.shape[1])))
        design = self._design(c64)
        if design.shape[1] >= len(x):
            raise ValueError(
                f"x has {len(x)} spectra, too few for {design.shape[1]} regression terms; "
                "pass more spectra or a lower degree."
            )
        gram = design.T @ design
        penalty = self.alpha * len(x) * np.eye(gram.shape[0])
        penalty[0, 0] = 0.0  # no penalty on the intercept
        self.weights_ = np.linalg.solve(gram + penalty, design.T @ coef)  # (F, K)
        resid = coef - design @ self.weights_
        self.residual_cov_ = np.atleast_2d(np.cov(resid, rowvar=False))
        vals, vecs = np.linalg.eigh(self.residual_cov_)
        self.residual_root_ = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
        self.n_conditions_ = c.shape[1]
        return self

    def _conditions(self, c) -> np.ndarray:
        if not hasattr(self, "weights_"):
            raise ValueError("PCASpectrumModel is not fitted; call fit(x, c) first.")
        c = as_float_array(c, "c")
        c = c[:, None] if c.ndim == 1 else c
        if c.ndim != 2 or c.shape[1] != self.n_conditions_:
            raise ValueError(
                f"c must have shape (N, {self.n_conditions_}) like the training conditions, "
                f"got {c.shape}."
            )
        return c.astype(np.float64)

    def predict_coefficients(self, c) -> np.ndarray:
        """Conditional mean PCA coefficients (N, n_components)."""
        return self._design(self._conditions(c)) @ self.weights_

    def mean_spectrum(self, c) -> np.ndarray:
        """Conditional mean spectra (N, B) float32."""
        a = self.predict_coefficients(c)
        return (self.mean_ + a @ self.components_).astype(np.float32)

    def sample(self, c, seed: int = 0) -> np.ndarray:
        """Spectra (N, B) float32 drawn for conditions ``c`` (N, P); the same seed gives the same
        spectra."""
        a = self.predict_coefficients(c)
        eps = np.random.default_rng(check_seed(seed)).standard_normal(a.shape)
        return (self.mean_ + (a + eps @ self.residual_root_) @ self.components_).astype(np.float32)


class LabelRegressor:
    """Labels (N, P) from spectra (N, B): whitened PCA to ``n_components`` and an MLP.

    The spectra are reduced to their first ``n_components`` principal components (whitened, so
    the network sees unit-variance inputs and pixel noise beyond them is dropped), the labels are
    standardised, and a scikit-learn ``MLPRegressor`` (``hidden`` units per layer, ReLU, Adam,
    early stopping on 10 % of the training set) maps one to the other. Kernel ridge would need
    an N x N solve (minutes at N = 8000); a linear ridge misses the curved relations. Fits
    8000 x 256 in a few seconds on one core. ``predict(x)`` -> (N, P) float32 in the labels'
    units; ``score(x, y)`` -> R^2 per label (P,).
    """

    def __init__(
        self,
        n_components: int = 32,
        *,
        hidden=(128, 128),
        alpha: float = 1e-4,
        max_iter: int = 300,
        seed: int = 0,
    ):
        self.n_components = check_positive_int(n_components, "n_components")
        self.hidden = tuple(check_positive_int(h, "hidden") for h in hidden)
        self.alpha = float(alpha)
        self.max_iter = check_positive_int(max_iter, "max_iter")
        self.seed = check_seed(seed)

    def fit(self, x, y) -> LabelRegressor:
        x, y = _pair(x, y, "y")
        if self.n_components > min(x.shape):
            raise ValueError(
                f"n_components ({self.n_components}) must not exceed the number of spectra or "
                f"bins of x {x.shape}."
            )
        if len(x) < 20:
            raise ValueError(f"x needs at least 20 spectra to train and validate, got {len(x)}.")
        self.pca_ = PCA(self.n_components, whiten=True, random_state=self.seed).fit(x)
        self.y_scaler_ = StandardScaler().fit(y)
        self.mlp_ = MLPRegressor(
            hidden_layer_sizes=self.hidden,
            alpha=self.alpha,
            batch_size=min(128, int(0.9 * len(x))),  # early stopping keeps 10 %
            learning_rate_init=2e-3,
            max_iter=self.max_iter,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=15,
            random_state=self.seed,
        )
        self.mlp_.fit(self.pca_.transform(x), self.y_scaler_.transform(y))
        self.n_bins_, self.n_labels_ = x.shape[1], y.shape[1]
        return self

    def predict(self, x) -> np.ndarray:
        if not hasattr(self, "mlp_"):
            raise ValueError("LabelRegressor is not fitted; call fit(x, y) first.")
        x = as_float_array(x, "x", ndim=2)
        if x.shape[1] != self.n_bins_:
            raise ValueError(
                f"x must have {self.n_bins_} bins like the training spectra, got {x.shape[1]}."
            )
        out = self.mlp_.predict(self.pca_.transform(x)).reshape(len(x), -1)
        return self.y_scaler_.inverse_transform(out).astype(np.float32)

    def score(self, x, y) -> np.ndarray:
        """Coefficient of determination of each label (P,) on spectra ``x`` with labels ``y``."""
        x, y = _pair(x, y, "y")
        pred = self.predict(x).astype(np.float64)
        t = y.astype(np.float64)
        return 1 - ((pred - t) ** 2).mean(axis=0) / t.var(axis=0)
