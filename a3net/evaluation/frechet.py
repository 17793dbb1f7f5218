"""Chapters A and B: the Frechet distance between sets of spectra (as FID, Heusel et al.
2017) in a fixed PCA feature space fitted on real spectra, and its noise floor."""

from __future__ import annotations

import numpy as np

from .._validation import check_seed

__all__ = ["FrechetScore", "SpectrumFeatures", "frechet_distance", "frechet_gaussian"]


def _features(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (N, D) (one feature vector per row), got {arr.shape}."
        )
    if arr.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples for a covariance, got {arr.shape[0]}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop those samples first.")
    return arr


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via eigh (negative eigenvalues
    from round-off clipped to 0)."""
    vals, vecs = np.linalg.eigh(0.5 * (c + c.T))
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def frechet_gaussian(mu_a, cov_a, mu_b, cov_b) -> float:
    """Frechet (2-Wasserstein squared) distance of two Gaussians:
    |mu_a - mu_b|^2 + Tr(Ca + Cb - 2 (Ca^1/2 Cb Ca^1/2)^1/2).

    The symmetric form (Ca^1/2 Cb Ca^1/2)^1/2 has the trace of (Ca Cb)^1/2 but is symmetric, so
    its eigenvalues come from eigh and tiny negative ones (round-off) are clipped; sqrtm of the
    non-symmetric product is unstable for near-singular covariances."""
    mu_a, mu_b = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (mu_a, mu_b))
    ca, cb = (np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in (cov_a, cov_b))
    d = mu_a.size
    if mu_b.shape != (d,) or ca.shape != (d, d) or cb.shape != (d, d):
        raise ValueError(
            f"means and covariances must have shapes (D,) and (D, D) with one D, got "
            f"{mu_a.shape}, {ca.shape}, {mu_b.shape}, {cb.shape}."
        )
    for name, value in (("mu_a", mu_a), ("mu_b", mu_b), ("cov_a", ca), ("cov_b", cb)):
        if not np.isfinite(value).all():
            raise ValueError(f"{name} contains NaN or infinite values; pass finite moments.")
    for name, c in (("cov_a", ca), ("cov_b", cb)):
        scale = max(float(np.abs(c).max()), np.finfo(float).tiny)
        if (
            np.abs(c - c.T).max() > 1e-8 * scale
            or np.linalg.eigvalsh(0.5 * (c + c.T)).min() < -1e-8 * scale
        ):
            raise ValueError(
                f"{name} is not a covariance matrix (symmetric, positive semi-definite); "
                "pass np.cov(features, rowvar=False)."
            )
    root = _sqrt_psd(ca)
    middle = root @ cb @ root
    eig = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    trace_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    value = ((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * trace_sqrt
    return float(max(value, 0.0))


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance (as FID, Heusel et al. 2017) between two sets of feature vectors (Na, D)
    and (Nb, D): that of the Gaussians with the sets' means and covariances
    (:func:`frechet_gaussian`). 0 for identical sets; symmetric; in squared feature units.

    It is biased upwards by the finite sample sizes (roughly proportional to 1/Na + 1/Nb): compare
    scores only between sets of equal sizes, against :meth:`FrechetScore.floor`."""
    a = _features(features_a, "features_a")
    b = _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features_a and features_b must have the same number of features, got "
            f"{a.shape[1]} and {b.shape[1]}."
        )
    return frechet_gaussian(
        a.mean(axis=0), np.cov(a, rowvar=False), b.mean(axis=0), np.cov(b, rowvar=False)
    )


class SpectrumFeatures:
    """A fixed feature space for spectra: the first ``n_components`` principal components of
    real training spectra (N, B).

    ``fit(x)`` learns the mean and the components (eigenvectors of the covariance, signs fixed
    so that each component's largest loading is positive: the same data give the same
    features). ``transform(x)`` -> (N, n_components) float64 coefficients, divided by the
    component's standard deviation in the training set when ``whiten`` (the default: every
    component then counts equally in a Frechet distance, instead of the first one, the overall
    slope, dominating it)."""

    def __init__(self, n_components: int = 16, *, whiten: bool = True):
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
            raise TypeError(f"n_components must be a whole number, got {n_components!r}.")
        if n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}.")
        self.n_components = int(n_components)
        self.whiten = bool(whiten)

    def fit(self, x) -> SpectrumFeatures:
        x = _features(x, "x")
        if self.n_components > min(x.shape):
            raise ValueError(
                f"n_components ({self.n_components}) must not exceed the number of spectra or "
                f"bins of x {x.shape}."
            )
        self.mean_ = x.mean(axis=0)
        vals, vecs = np.linalg.eigh(np.cov(x, rowvar=False))
        order = np.argsort(vals)[::-1][: self.n_components]
        comps = vecs[:, order].T
        sign = np.sign(comps[np.arange(comps.shape[0]), np.abs(comps).argmax(axis=1)])
        self.components_ = comps * sign[:, None]
        self.explained_variance_ = np.clip(vals[order], 0, None)
        self.scale_ = (
            np.sqrt(np.where(self.explained_variance_ > 0, self.explained_variance_, 1.0))
            if self.whiten
            else np.ones(self.n_components)
        )
        return self

    def transform(self, x) -> np.ndarray:
        if not hasattr(self, "components_"):
            raise ValueError("SpectrumFeatures is not fitted; call fit(real_spectra) first.")
        x = _features(x, "x")
        if x.shape[1] != self.mean_.size:
            raise ValueError(
                f"x must have {self.mean_.size} bins like the training spectra, got {x.shape[1]}."
            )
        return ((x - self.mean_) @ self.components_.T) / self.scale_

    def inverse_transform(self, features) -> np.ndarray:
        """Spectra (N, B) float64 for coefficients ``features`` (N, n_components), e.g. a
        generator's draws: the whitening undone, then mean + coefficients @ components. The
        inverse of ``transform`` on the span of the components (the rest of a spectrum, beyond
        n_components, is lost by ``transform``)."""
        if not hasattr(self, "components_"):
            raise ValueError("SpectrumFeatures is not fitted; call fit(real_spectra) first.")
        f = np.asarray(features, dtype=np.float64)
        if f.ndim != 2 or f.shape[1] != self.n_components:
            raise ValueError(
                f"features must have shape (N, {self.n_components}) (n_components per row), got "
                f"{f.shape}."
            )
        if not np.isfinite(f).all():
            raise ValueError("features contains NaN or infinite values; drop those rows first.")
        return self.mean_ + (f * self.scale_) @ self.components_


class FrechetScore:
    """Frechet distance between sets of spectra in a PCA feature space fitted on real training
    spectra ``real_train`` (N, B) (:class:`SpectrumFeatures`).

    ``distance(a, b)``: the Frechet distance of two sets of spectra. ``floor(real)``: the noise
    floor, the distance between two disjoint random halves of real spectra, mean and std over
    ``n_repeats`` splits. Sample-size bias: the distance between sets of size n/2 is larger than
    between sets of size n (the sampling noise of the means and covariances adds roughly
    1/n_a + 1/n_b), so a perfect generator compared with a real set of size n scores below the
    half-vs-half floor; compare a generator with real spectra using sets of size n/2 each to
    read its score against the floor.
    """

    def __init__(self, real_train, n_components: int = 16, *, whiten: bool = True):
        self.features = SpectrumFeatures(n_components, whiten=whiten).fit(real_train)

    def transform(self, x) -> np.ndarray:
        return self.features.transform(x)

    def distance(self, a, b) -> float:
        return frechet_distance(self.transform(a), self.transform(b))

    def floor(self, real, n_repeats: int = 10, seed: int = 0) -> tuple[float, float]:
        feats = self.transform(real)
        n = feats.shape[0]
        if n < 4:
            raise ValueError(f"real needs at least 4 spectra for two halves, got {n}.")
        if (
            isinstance(n_repeats, bool)
            or not isinstance(n_repeats, (int, np.integer))
            or (n_repeats < 1)
        ):
            raise ValueError(f"n_repeats must be a whole number >= 1, got {n_repeats!r}.")
        rng = np.random.default_rng(check_seed(seed))
        half = n // 2
        values = []
        for _ in range(n_repeats):
            perm = rng.permutation(n)
            values.append(frechet_distance(feats[perm[:half]], feats[perm[half : 2 * half]]))
        return float(np.mean(values)), float(np.std(values))
