"""Chapters D and G's baselines: luminosity-mass relations fitted on the training set.

Before CNNs, an X-ray mass came from a scaling relation: the soft-band luminosity within R500
grows as about M500^1.6. Here the luminosity is what an observer has, the background-subtracted
photon counts in an aperture, and the relation is a straight line
log10 M500 = intercept + slope x log10(counts), fitted by least squares on the training
clusters. Two apertures:

- **total**: all counts within R500;
- **core-excised**: counts between 0.15 R500 and R500. Cool cores (bright, compact, and as
  frequent at any mass) scatter the total luminosity; cutting the core out removes most of
  that scatter (Maughan 2007; Pratt et al. 2009).

R500 depends on the mass that is being estimated, so ``predict`` iterates as an observer does:
guess a mass, take R500 from it, count, read the mass off the relation, and repeat until the
mass settles (damped by half a step). ``fit`` uses the true masses' R500. Both estimators
are scikit-learn regressors on count images (N, 1, S, S), so ``clone``,
``cross_val_predict`` and pipelines work.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..data.clusters import ClusterConfig, check_cluster_images, check_log_m500

__all__ = ["LuminosityMassRelation", "aperture_counts"]


def _config_for(images, config) -> ClusterConfig:
    size = images.shape[-1]
    if config is None:
        return ClusterConfig(image_size=size)
    if not isinstance(config, ClusterConfig):
        raise TypeError(f"config must be a ClusterConfig or None, got {type(config).__name__}.")
    if config.image_size != size:
        raise ValueError(
            f"the images are {size} px wide but config.image_size is {config.image_size}; "
            "pass the ClusterConfig the images were made with."
        )
    return config


def aperture_counts(images, r500_pix, *, inner: float = 0.0, background: float = 0.0):
    """Background-subtracted counts (N,) of each image in the annulus inner x R500 < r < R500
    about the image centre; ``r500_pix`` (N,) in pixels, ``background`` counts per pixel.

    ``images`` are count images (N, 1, S, S); ``r500_pix`` positive and finite (one radius for
    all or one per image); ``inner`` in [0, 1); ``background`` finite and >= 0."""
    arr = check_cluster_images(images)
    try:
        radii = np.asarray(r500_pix, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"r500_pix must be numbers of pixels, got {r500_pix!r}.") from None
    if radii.ndim > 1 or (radii.ndim == 1 and len(radii) not in (1, len(arr))):
        raise ValueError(
            f"r500_pix must be one radius or one per image ({len(arr)}), got shape {radii.shape}."
        )
    if not (np.isfinite(radii).all() and np.all(radii > 0)):
        raise ValueError("r500_pix must hold positive, finite radii [px]; drop NaN rows first.")
    inner = float(inner) if isinstance(inner, (int, float, np.number)) else np.nan
    if not 0 <= inner < 1:
        raise ValueError("inner must be a fraction of R500 in [0, 1).")
    if not (isinstance(background, (int, float, np.number)) and 0 <= background < np.inf):
        raise ValueError(f"background must be a finite number of counts >= 0, got {background!r}.")
    return _aperture_counts(arr, np.broadcast_to(radii, (len(arr),)), inner, float(background))


def _aperture_counts(images, r500_pix, inner: float, background: float) -> np.ndarray:
    """:func:`aperture_counts` on checked arguments."""
    arr = np.asarray(images, dtype=np.float32)[:, 0]
    size = arr.shape[-1]
    axis = np.arange(size) - (size - 1) / 2
    dist = np.hypot(axis[None, :], axis[:, None])  # (S, S) [px]
    r500 = np.asarray(r500_pix, dtype=float)[:, None, None]
    inside = (dist[None] < r500) & (dist[None] >= inner * r500)
    counts = np.einsum("nij,nij->n", arr, inside.astype(np.float32))
    return counts - background * inside.sum(axis=(1, 2))


class LuminosityMassRelation(RegressorMixin, BaseEstimator):
    """Mass from X-ray counts: log10 M500 = intercept_ + slope_ x log10(aperture counts).

    ``core_excised`` False counts within R500, True between ``core`` x R500 and R500.
    ``config`` is the :class:`~a3net.data.clusters.ClusterConfig` of the images (their pixel
    scale and background); None means the default configuration at the images' size.
    ``fit(X, y)`` takes count images X (N, 1, S, S) and log10 M500 [Msun/h] y (N,);
    ``predict(X)`` returns log10 M500 (N,). Fitted: ``slope_``, ``intercept_``, ``scatter_``
    (rms residual on the training set, dex), ``n_iter_`` (iterations the last predict needed).
    """

    def __init__(
        self, core_excised: bool = False, config=None, core: float = 0.15, n_iter: int = 30
    ):
        self.core_excised = core_excised
        self.config = config
        self.core = core
        self.n_iter = n_iter

    def _counts(self, images, log_m, cfg):
        inner = float(self.core) if self.core_excised else 0.0
        counts = _aperture_counts(images, cfg.r500_pixels(log_m), inner, cfg.background_per_pixel)
        return np.log10(np.maximum(counts, 1.0))

    def fit(self, X, y) -> LuminosityMassRelation:
        """Fit the relation on images X (N, 1, S, S) with true masses y (N,); returns self."""
        images = check_cluster_images(X, name="X")
        log_m = check_log_m500(y, name="y")
        if len(log_m) != len(images):
            raise ValueError(f"y has {len(log_m)} rows but X has {len(images)}; they must match.")
        if not 0 <= float(self.core) < 1:
            raise ValueError(f"core must be a fraction of R500 in [0, 1), got {self.core!r}.")
        cfg = _config_for(images, self.config)
        x = self._counts(images, log_m, cfg)
        self.slope_, self.intercept_ = np.polyfit(x, log_m, 1)
        self.scatter_ = float(np.std(self.intercept_ + self.slope_ * x - log_m))
        self.mass_range_ = (float(log_m.min()), float(log_m.max()))
        self.config_ = cfg
        return self

    def predict(self, X) -> np.ndarray:
        """log10 M500 [Msun/h] (N,) of images X, with R500 iterated to the estimated mass."""
        check_is_fitted(self, "slope_")
        images = check_cluster_images(X, name="X")
        cfg = _config_for(images, self.config)
        log_m = np.full(len(images), np.mean(self.mass_range_))
        lo, hi = self.mass_range_[0] - 1.0, self.mass_range_[1] + 1.0
        self.n_iter_ = 0
        for _ in range(int(self.n_iter)):
            self.n_iter_ += 1
            estimate = self.intercept_ + self.slope_ * self._counts(images, log_m, cfg)
            new = np.clip(0.5 * (log_m + estimate), lo, hi)  # damped: the core-excised map
            # changes sign of slope with R500 and would otherwise oscillate
            done = np.max(np.abs(new - log_m)) < 1e-4
            log_m = new
            if done:
                break
        return log_m
