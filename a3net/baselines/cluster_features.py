"""Chapter D's strong classical baselines: masked, sub-pixel X-ray photometry and profile features.

:mod:`a3net.baselines.clusters` fits a luminosity-mass relation to raw aperture counts. Three
things handicap it on the mock images of :mod:`a3net.data.clusters`, and this module fixes them
as an observer would, from the image and the :class:`~a3net.data.clusters.ClusterConfig` only
(no catalogue truth at prediction time):

- **Point sources** (unrelated AGN, 20-500 counts in a 0.5 px PSF) add to any aperture they fall
  in. :func:`detect_point_sources` finds them as significant peaks of a PSF-matched filter above
  a median-filtered model of the extended emission and masks a small disc around each;
  apertures fill masked pixels with the mean surface brightness of the unmasked pixels at the
  same radius (annulus fill), so a mask removes the source without removing area.
- **Pixelisation.** At 48 px a pixel is 62.5 kpc/h and 0.15 R500 is 1.2-3.6 px, so a
  pixel-centre aperture is all-or-nothing: the excised core is a handful of pixels and the cool
  core's light (radius 0.03 R500, smeared over the central pixels) leaks into the annulus.
  Every aperture here weights pixels by the fraction of their area inside it, from
  ``subsample`` x ``subsample`` sub-pixels, and the excision radius can be chosen by
  cross-validation (``core="cv"``).
- **Information.** :func:`profile_features` gives the classical, truth-free morphology of an
  X-ray image (surface brightness in fixed annuli, aperture counts, concentration after Santos
  et al. 2008, centroid shift after Mohr et al. 1993 and Poole et al. 2006, half-light radius),
  and :class:`ProfileFeatureRegressor` maps them to mass with boosted trees tuned by grouped
  cross-validation on the training clusters.

All radii are about the image centre, ``(S - 1) / 2`` px, where the simulator puts the cluster
(to within half a pixel). Images are photon counts (N, 1, S, S).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GroupKFold, ParameterSampler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..data.clusters import check_cluster_images, check_log_m500
from .clusters import _config_for

__all__ = [
    "CoreExcisedLuminosity",
    "ProfileFeatureRegressor",
    "detect_point_sources",
    "masked_aperture_counts",
    "profile_features",
]

_BIN_PX = 0.05  # width of the fine radial bins of the sub-pixel profiles [px]
_PSF_SIGMA_PX = 0.5  # the simulator's point-spread function (Gaussian sigma) [px]


# --------------------------------------------------------------------------- checks


def _check_mask(mask, images, name: str = "mask") -> np.ndarray:
    """A boolean mask of the images' shape (N, 1, S, S), or all False for None."""
    if mask is None:
        return np.zeros(images.shape, dtype=bool)
    arr = np.asarray(mask)
    if arr.shape != images.shape:
        raise ValueError(
            f"{name} must have the images' shape {images.shape}, got {arr.shape}; pass the mask "
            "returned by detect_point_sources for these images."
        )
    if arr.dtype != bool:
        raise ValueError(f"{name} must be a boolean array (True = masked), got dtype {arr.dtype}.")
    return arr


def _check_background(background) -> float:
    if not (
        isinstance(background, (int, float, np.number))
        and not isinstance(background, bool)
        and 0 <= background < np.inf
    ):
        raise ValueError(
            f"background must be a finite number of counts/px >= 0, got {background!r}."
        )
    return float(background)


def _check_positive(value, name: str) -> float:
    if not (
        isinstance(value, (int, float, np.number))
        and not isinstance(value, bool)
        and 0 < value < np.inf
    ):
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}.")
    return float(value)


def _check_subsample(subsample) -> int:
    if isinstance(subsample, bool) or not isinstance(subsample, (int, np.integer)):
        raise ValueError(f"subsample must be a whole number of sub-pixels, got {subsample!r}.")
    if not 1 <= subsample <= 16:
        raise ValueError(
            f"subsample must be between 1 and 16 sub-pixels per side, got {subsample}."
        )
    return int(subsample)


# --------------------------------------------------------------------------- point sources


def _disc(radius: float) -> np.ndarray:
    """A (1, k, k) boolean footprint of the pixels within ``radius`` px of the middle one."""
    half = int(np.floor(radius))
    axis = np.arange(-half, half + 1)
    return (np.hypot(axis[None, :], axis[:, None]) <= radius)[None]


def _centre_distance(size: int) -> np.ndarray:
    """Distance [px] of each pixel centre from the image centre, (S, S)."""
    axis = np.arange(size) - (size - 1) / 2
    return np.hypot(axis[None, :], axis[:, None])


def detect_point_sources(
    images,
    background,
    *,
    threshold: float = 5.0,
    exclude_radius_px: float = 2.0,
    mask_radius_px: float = 2.0,
    median_size: int = 7,
    return_counts: bool = False,
):
    """Mask of compact sources (N, 1, S, S) bool (True = masked) in count images (N, 1, S, S).

    A point source is a local maximum of the image filtered with the 0.5 px PSF (the matched
    filter) that exceeds the extended emission there, the median of the ``median_size`` x
    ``median_size`` px window about it (never below ``background`` counts/px), by ``threshold``
    Poisson sigmas of that model (the median is taken at candidate peaks only, for speed). Each
    detection masks the pixels within ``mask_radius_px`` px of its peak. Peaks within
    ``exclude_radius_px`` px of the image centre are never taken: the cluster's own peak (and its
    cool core, 0.03 R500 = a fraction of a pixel) is compact too, and masking it would cut the
    cluster's flux, not a contaminant's. With ``return_counts`` also the number of sources per
    image (N,) int. Vectorised over the stack.
    """
    arr = check_cluster_images(images)
    background = _check_background(background)
    threshold = _check_positive(threshold, "threshold")
    mask_radius_px = _check_positive(mask_radius_px, "mask_radius_px")
    if not (isinstance(exclude_radius_px, (int, float, np.number)) and exclude_radius_px >= 0):
        raise ValueError(f"exclude_radius_px must be a number >= 0, got {exclude_radius_px!r}.")
    if isinstance(median_size, bool) or not isinstance(median_size, (int, np.integer)):
        raise ValueError(f"median_size must be a whole number of pixels, got {median_size!r}.")
    if not 3 <= median_size <= arr.shape[-1]:
        raise ValueError(f"median_size must be from 3 px to the image size, got {median_size}.")
    img = arr[:, 0].astype(np.float64)
    kernel_sq = float((_psf_kernel() ** 2).sum())
    # matched filter: the PSF-weighted sum; candidates are its local maxima that stand out even
    # against the flat background (necessary, as the model below is never under it)
    matched = ndimage.gaussian_filter(img, (0, _PSF_SIGMA_PX, _PSF_SIGMA_PX), mode="reflect")
    peak = matched == ndimage.maximum_filter(matched, size=(1, 3, 3), mode="reflect")
    peak &= matched - background > threshold * np.sqrt(background * kernel_sq)
    peak &= (_centre_distance(arr.shape[-1]) > exclude_radius_px)[None]
    # the extended emission at each candidate: the median of the median_size window (a compact
    # source fills a few of its pixels), never below the background; in Poisson sigmas
    where = np.nonzero(peak)
    half = median_size // 2
    padded = np.pad(img, ((0, 0), (half, half), (half, half)), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (median_size, median_size), (1, 2))
    model = np.median(windows[where].reshape(len(where[0]), median_size**2), axis=1)
    model = np.maximum(model, background)
    significance = (matched[where] - model) / np.sqrt(np.maximum(model, 1e-12) * kernel_sq)
    drop = significance <= threshold
    peak[tuple(axis[drop] for axis in where)] = False
    mask = ndimage.binary_dilation(peak, structure=_disc(mask_radius_px))[:, None]
    if return_counts:
        return mask, peak.sum(axis=(1, 2)).astype(int)
    return mask


@functools.lru_cache(maxsize=1)
def _psf_kernel() -> np.ndarray:
    """The Gaussian kernel (9, 9) that ``gaussian_filter`` applies with the PSF's sigma."""
    delta = np.zeros((9, 9))
    delta[4, 4] = 1.0
    return ndimage.gaussian_filter(delta, _PSF_SIGMA_PX, mode="constant", truncate=4.0)


# --------------------------------------------------------------------------- sub-pixel profiles


@functools.lru_cache(maxsize=8)
def _radial_weights(size: int, subsample: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel radial binning: W (S*S, B) float32, the area [px^2] of each pixel in each fine
    radial bin of width ``_BIN_PX`` about the image centre, and the bins' outer edges (B,) [px].

    Each pixel is cut into ``subsample`` x ``subsample`` sub-pixels of side h, and each
    sub-pixel's area is spread evenly over the radii d - h/2 to d + h/2 about its centre's
    distance d (the radial extent of a small square), so areas vary smoothly with radius."""
    h = 1.0 / subsample
    offsets = (np.arange(subsample) + 0.5) * h - 0.5
    axis = np.arange(size) - (size - 1) / 2
    sub = (axis[:, None] + offsets[None, :]).ravel()  # sub-pixel coordinates along one axis
    dist = np.hypot(sub[None, :], sub[:, None]).ravel()  # (S*k * S*k,)
    pixel = (np.arange(size)[:, None] * np.ones(subsample, int)).ravel()
    pix_index = (pixel[:, None] * size + pixel[None, :]).ravel()
    n_bins = int(np.ceil((dist.max() + h) / _BIN_PX)) + 1
    lo, hi = np.maximum(dist - h / 2, 0.0), dist + h / 2  # a sub-pixel on the centre: 0 to h/2
    first = np.floor(lo / _BIN_PX).astype(int)
    weights = np.zeros((size * size, n_bins), np.float64)
    for step in range(int(np.ceil(h / _BIN_PX)) + 2):
        b = first + step
        overlap = np.minimum(hi, (b + 1) * _BIN_PX) - np.maximum(lo, b * _BIN_PX)
        take = (overlap > 0) & (b < n_bins)
        np.add.at(weights, (pix_index[take], b[take]), overlap[take] / (hi - lo)[take] * h * h)
    return weights.astype(np.float32), _BIN_PX * np.arange(1, n_bins + 1)


class _Profiles:
    """Masked, annulus-filled cumulative radial profiles of a stack of count images.

    ``counts(r)`` gives the counts (N,) within radius r [px] (scalar or (N,)), ``area(r)`` the
    area [px^2] within r (fractional pixels), both linear within the fine radial bins.
    """

    def __init__(self, images, mask, subsample: int, fill_width_px: float = 1.0):
        n, size = images.shape[0], images.shape[-1]
        weights, self.edges = _radial_weights(size, subsample)
        flat = images.reshape(n, -1).astype(np.float32)
        keep = ~mask.reshape(n, -1)
        area_all = weights.sum(axis=0).astype(np.float64)  # (B,)
        counts_kept = (flat * keep) @ weights  # (N, B)
        area_kept = keep.astype(np.float32) @ weights
        # annulus fill: masked area at a radius gets the mean surface brightness of the unmasked
        # pixels in the same ring of width ``fill_width_px``
        per_ring = int(round(fill_width_px / _BIN_PX))
        n_bins = len(area_all)
        ring = np.arange(n_bins) // per_ring
        n_rings = ring[-1] + 1
        to_ring = np.zeros((n_bins, n_rings))
        to_ring[np.arange(n_bins), ring] = 1.0
        ring_counts = counts_kept.astype(np.float64) @ to_ring
        ring_area = area_kept.astype(np.float64) @ to_ring
        valid = ring_area > 1e-3
        brightness = np.where(valid, ring_counts / np.where(valid, ring_area, 1.0), np.nan)
        brightness = _fill_along_radius(brightness, valid)
        self.brightness = brightness  # (N, rings) counts/px^2 of the fill
        fine = counts_kept + (area_all[None] - area_kept) * brightness[:, ring]
        self._cum_counts = np.concatenate([np.zeros((n, 1)), np.cumsum(fine, axis=1)], axis=1)
        self._cum_area = np.concatenate([[0.0], np.cumsum(area_all)])
        self.ring_px = fill_width_px

    def _interp(self, cum, radius):
        r = np.clip(np.asarray(radius, dtype=np.float64) / _BIN_PX, 0, cum.shape[-1] - 1 - 1e-9)
        lower = np.floor(r).astype(int)
        frac = r - lower
        if cum.ndim == 1:
            return cum[lower] * (1 - frac) + cum[lower + 1] * frac
        rows = np.arange(cum.shape[0])
        lower, frac = np.broadcast_to(lower, rows.shape), np.broadcast_to(frac, rows.shape)
        return cum[rows, lower] * (1 - frac) + cum[rows, lower + 1] * frac

    def counts(self, radius) -> np.ndarray:
        return self._interp(self._cum_counts, radius)

    def area(self, radius) -> np.ndarray:
        return self._interp(self._cum_area, radius)

    def annulus(self, inner, outer, background: float) -> np.ndarray:
        """Background-subtracted counts (N,) in inner <= r < outer [px]."""
        area = self.area(outer) - self.area(inner)
        return self.counts(outer) - self.counts(inner) - background * area


def _fill_along_radius(values, valid):
    """Replace invalid entries (N, R) by the nearest valid one further in (or, for the innermost
    rings, further out); rows with none valid get 0."""
    n, r = values.shape
    idx = np.where(valid, np.arange(r)[None], -1)
    previous = np.maximum.accumulate(idx, axis=1)
    first = np.where(valid.any(axis=1), np.argmax(valid, axis=1), 0)
    source = np.where(previous >= 0, previous, first[:, None])
    out = values[np.arange(n)[:, None], source]
    return np.nan_to_num(out, nan=0.0)


def _check_radii(r500_pix, n):
    try:
        radii = np.asarray(r500_pix, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"r500_pix must be numbers of pixels, got {r500_pix!r}.") from None
    if radii.ndim > 1 or (radii.ndim == 1 and len(radii) not in (1, n)):
        raise ValueError(
            f"r500_pix must be one radius or one per image ({n}), got shape {radii.shape}."
        )
    if not (np.isfinite(radii).all() and np.all(radii > 0)):
        raise ValueError("r500_pix must hold positive, finite radii [px]; drop NaN rows first.")
    return np.broadcast_to(radii, (n,)).astype(np.float64)


def masked_aperture_counts(
    images, mask, r500_pix, *, inner: float = 0.0, background: float = 0.0, subsample: int = 4
) -> np.ndarray:
    """Background-subtracted counts (N,) in inner x R500 <= r < R500 about the image centre.

    ``images`` count images (N, 1, S, S); ``mask`` bool of the same shape (True = masked, e.g.
    from :func:`detect_point_sources`) or None: masked pixels count as the mean surface
    brightness of the unmasked pixels within the same 1 px ring. ``r500_pix`` one radius or (N,)
    [px]; ``inner`` in [0, 1); ``background`` counts/px. Pixels are weighted by the fraction of
    their area inside the annulus (``subsample`` x ``subsample`` sub-pixels each).
    """
    arr = check_cluster_images(images)
    masks = _check_mask(mask, arr)
    radii = _check_radii(r500_pix, len(arr))
    if not (isinstance(inner, (int, float, np.number)) and 0 <= inner < 1):
        raise ValueError(f"inner must be a fraction of R500 in [0, 1), got {inner!r}.")
    background = _check_background(background)
    profiles = _Profiles(arr, masks, _check_subsample(subsample))
    return profiles.annulus(float(inner) * radii, radii, background)


# --------------------------------------------------------------------------- luminosity-mass


class CoreExcisedLuminosity(RegressorMixin, BaseEstimator):
    """Mass from masked, sub-pixel, core-excised counts: log10 M500 = intercept_ + slope_ x
    log10(counts in core x R500 <= r < R500).

    ``core`` is the excised radius as a fraction of R500 (0.15 after Maughan 2007), or ``"cv"``
    to pick it from ``cv_cores`` by grouped K-fold on the training clusters: at 48 px the cool
    core (0.03 R500) is smeared over the central pixels by pixelisation and the half-pixel
    centring, so the radius that best removes it from the annulus is an empirical question.
    ``mask_point_sources`` masks sources found by :func:`detect_point_sources` (``threshold``
    sigmas). ``config`` is the images' :class:`~a3net.data.clusters.ClusterConfig` (None: the
    default at the images' size). ``fit(X, y, groups=None)``: images (N, 1, S, S), log10 M500
    [Msun/h] (N,), cluster ids (N,) for the grouped folds (None: each image its own group).
    ``predict`` iterates R500 from the estimated mass, damped by half a step. Fitted:
    ``slope_``, ``intercept_``, ``core_`` (the radius used), ``cv_scatter_`` (dict core ->
    cross-validated rms, dex; with ``core="cv"``), ``scatter_`` (training rms, dex).
    """

    def __init__(
        self,
        core=0.15,
        config=None,
        mask_point_sources: bool = True,
        threshold: float = 5.0,
        subsample: int = 4,
        cv_cores=(0.1, 0.15, 0.2, 0.3),
        cv_folds: int = 5,
        n_iter: int = 30,
    ):
        self.core = core
        self.config = config
        self.mask_point_sources = mask_point_sources
        self.threshold = threshold
        self.subsample = subsample
        self.cv_cores = cv_cores
        self.cv_folds = cv_folds
        self.n_iter = n_iter

    def _profiles(self, images, cfg) -> _Profiles:
        mask = None
        if self.mask_point_sources:
            mask = detect_point_sources(images, cfg.background_per_pixel, threshold=self.threshold)
        return _Profiles(images, _check_mask(mask, images), _check_subsample(self.subsample))

    @staticmethod
    def _log_counts(profiles, r500, core, background, rows=slice(None)):
        counts = profiles.annulus(core * r500, r500, background)[rows]
        return np.log10(np.maximum(counts, 1.0))

    @staticmethod
    def _check_core(core, name="core"):
        if isinstance(core, bool) or not isinstance(core, (int, float, np.number)):
            raise ValueError(f"{name} must be a fraction of R500 in [0, 1) or 'cv', got {core!r}.")
        if not 0 <= core < 1:
            raise ValueError(f"{name} must be a fraction of R500 in [0, 1), got {core!r}.")
        return float(core)

    def _iterate(self, profiles, cfg, slope, intercept, core, mass_range):
        n = profiles._cum_counts.shape[0]
        log_m = np.full(n, np.mean(mass_range))
        lo, hi = mass_range[0] - 1.0, mass_range[1] + 1.0
        background = cfg.background_per_pixel
        n_iter = 0
        for _ in range(int(self.n_iter)):
            n_iter += 1
            x = self._log_counts(profiles, cfg.r500_pixels(log_m), core, background)
            new = np.clip(0.5 * (log_m + intercept + slope * x), lo, hi)
            done = np.max(np.abs(new - log_m)) < 1e-4
            log_m = new
            if done:
                break
        return log_m, n_iter

    def fit(self, X, y, groups=None) -> CoreExcisedLuminosity:
        """Fit on images X (N, 1, S, S) with true log10 M500 y (N,); ``groups`` (N,) cluster ids
        for ``core="cv"``. Returns self."""
        images = check_cluster_images(X, name="X")
        log_m = check_log_m500(y, name="y")
        if len(log_m) != len(images):
            raise ValueError(f"y has {len(log_m)} rows but X has {len(images)}; they must match.")
        groups = _check_groups(groups, len(images))
        if not (isinstance(self.core, str) and self.core == "cv"):
            self._check_core(self.core)
        cfg = _config_for(images, self.config)
        profiles = self._profiles(images, cfg)
        r500 = cfg.r500_pixels(log_m)
        background = cfg.background_per_pixel
        mass_range = (float(log_m.min()), float(log_m.max()))
        if isinstance(self.core, str):
            cores = [self._check_core(c, "cv_cores entries") for c in self.cv_cores]
            if not cores:
                raise ValueError("cv_cores must list at least one fraction of R500.")
            folds = _group_folds(self.cv_folds, groups)
            self.cv_scatter_ = {}
            for core in cores:
                x = self._log_counts(profiles, r500, core, background)
                pred = np.empty(len(log_m))
                for train, test in folds:
                    slope, intercept = np.polyfit(x[train], log_m[train], 1)
                    sub = _SubProfiles(profiles, test)
                    pred[test], _ = self._iterate(sub, cfg, slope, intercept, core, mass_range)
                self.cv_scatter_[core] = float(np.sqrt(np.mean((pred - log_m) ** 2)))
            self.core_ = min(self.cv_scatter_, key=self.cv_scatter_.get)
        else:
            self.core_ = self._check_core(self.core)
        x = self._log_counts(profiles, r500, self.core_, background)
        self.slope_, self.intercept_ = np.polyfit(x, log_m, 1)
        self.scatter_ = float(np.std(self.intercept_ + self.slope_ * x - log_m))
        self.mass_range_ = mass_range
        self.config_ = cfg
        return self

    def predict(self, X) -> np.ndarray:
        """log10 M500 [Msun/h] (N,) of images X (N, 1, S, S), R500 iterated to the estimate."""
        check_is_fitted(self, "slope_")
        images = check_cluster_images(X, name="X")
        cfg = _config_for(images, self.config)
        profiles = self._profiles(images, cfg)
        log_m, self.n_iter_ = self._iterate(
            profiles, cfg, self.slope_, self.intercept_, self.core_, self.mass_range_
        )
        return log_m


class _SubProfiles(_Profiles):
    """The rows ``rows`` of a :class:`_Profiles` (no recomputation)."""

    def __init__(self, profiles: _Profiles, rows):
        self.edges = profiles.edges
        self._cum_counts = profiles._cum_counts[rows]
        self._cum_area = profiles._cum_area


def _check_groups(groups, n):
    if groups is None:
        return np.arange(n)
    arr = np.asarray(groups)
    if arr.shape != (n,):
        raise ValueError(
            f"groups must hold one cluster id per image ({n},), got shape {arr.shape}; pass "
            "catalogue['cluster_id']."
        )
    return arr


def _group_folds(n_folds, groups):
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ValueError(f"cv_folds must be a whole number >= 2, got {n_folds!r}.")
    n_groups = len(np.unique(groups))
    if n_groups < n_folds:
        raise ValueError(
            f"cross-validation needs at least cv_folds={n_folds} clusters, got {n_groups}; "
            "pass groups (cluster ids) or lower cv_folds."
        )
    return list(GroupKFold(n_splits=int(n_folds)).split(np.zeros(len(groups)), groups=groups))


# --------------------------------------------------------------------------- features


def _aperture_weights(size: int, radii, subsample: int) -> np.ndarray:
    """Fractional area (K, S, S) of each pixel inside circles of ``radii`` (K,) [px]."""
    offsets = (np.arange(subsample) + 0.5) / subsample - 0.5
    axis = np.arange(size) - (size - 1) / 2
    sub = axis[:, None] + offsets[None, :]  # (S, k)
    d = np.hypot(sub[:, None, :, None], sub[None, :, None, :])  # (S, S, k, k) (y, x)
    inside = d[None] < np.asarray(radii, dtype=float)[:, None, None, None, None]
    return inside.mean(axis=(3, 4))


def _filled_images(images, mask, profiles: _Profiles) -> np.ndarray:
    """Images (N, S, S) float64 with masked pixels replaced by their ring's fill brightness."""
    img = images[:, 0].astype(np.float64)
    if not mask.any():
        return img
    size = img.shape[-1]
    ring = np.minimum(
        (_centre_distance(size) / profiles.ring_px).astype(int), profiles.brightness.shape[1] - 1
    )
    fill = profiles.brightness[:, ring]  # (N, S, S)
    return np.where(mask[:, 0], fill, img)


def profile_features(
    images, *, config=None, mask="detect", n_annuli: int = 10, subsample: int = 4
) -> pd.DataFrame:
    """Classical, truth-free X-ray features of count images (N, 1, S, S): a DataFrame (N, F).

    Columns (radii about the image centre, in px of the images; kpc are config's kpc/h):
    ``sb_<i>`` background-subtracted surface brightness [counts/px^2] in ``n_annuli`` annuli
    (the first from 0 to 1 px, then log-spaced to the field's edge, S/2 px); ``log_counts_<r>``
    log10 of the background-subtracted counts within r px (r = 2, 4, 8, 16 and S/2);
    ``log_counts`` the same within S/2; ``log_counts_<a>_<b>`` the same in core-excised annuli
    a <= r < b px (1.5-6, 2-8, 3-12, 4-16, 6-24, capped at S/2); ``conc_40_400`` counts within
    40 kpc over those within 400 kpc (Santos et al. 2008) and ``conc_100_500`` likewise;
    ``centroid_shift`` the standard deviation of the emission centroid in 10 apertures from
    0.1 to 1 x R_ap (R_ap = 0.45 S px), in units of R_ap (Mohr et al. 1993; Poole et al. 2006);
    ``half_light_px`` the radius that holds half the counts within S/2. ``mask``: "detect"
    (point sources found by :func:`detect_point_sources`), None (no mask) or a bool array
    (N, 1, S, S); masked pixels are annulus-filled. Vectorised.
    """
    arr = check_cluster_images(images)
    cfg = _config_for(arr, config)
    subsample = _check_subsample(subsample)
    if isinstance(n_annuli, bool) or not isinstance(n_annuli, (int, np.integer)) or n_annuli < 2:
        raise ValueError(f"n_annuli must be a whole number >= 2, got {n_annuli!r}.")
    if isinstance(mask, str):
        if mask != "detect":
            raise ValueError(f"mask must be 'detect', None or a bool array, got {mask!r}.")
        mask = detect_point_sources(arr, cfg.background_per_pixel)
    masks = _check_mask(mask, arr)
    size = arr.shape[-1]
    bkg = cfg.background_per_pixel
    prof = _Profiles(arr, masks, subsample)
    edge = size / 2
    feats = {}
    edges = np.concatenate([[0.0], np.geomspace(1.0, edge, n_annuli)])
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        area = prof.area(hi) - prof.area(lo)
        feats[f"sb_{i}"] = prof.annulus(lo, hi, bkg) / area
    within = {r: prof.annulus(0.0, r, bkg) for r in (2, 4, 8, 16, edge)}
    for r, counts in within.items():
        feats[f"log_counts_{r:g}"] = np.log10(np.maximum(counts, 1.0))
    feats["log_counts"] = feats[f"log_counts_{edge:g}"]
    for lo, hi in ((1.5, 6), (2, 8), (3, 12), (4, 16), (6, 24)):  # core-excised apertures
        hi = min(hi, edge)
        feats[f"log_counts_{lo:g}_{hi:g}"] = np.log10(np.maximum(prof.annulus(lo, hi, bkg), 1.0))
    total = within[edge]
    for small, large in ((40, 400), (100, 500)):
        a = prof.annulus(0.0, small / cfg.pixel_kpc, bkg)
        b = prof.annulus(0.0, large / cfg.pixel_kpc, bkg)
        feats[f"conc_{small}_{large}"] = a / np.maximum(b, 1.0)
    feats["centroid_shift"] = _centroid_shift(arr, masks, prof, bkg, subsample)
    # half-light radius: where the cumulative counts reach half of those within S/2
    radii = np.linspace(0.0, edge, int(edge / 0.1) + 1)
    cum = np.stack([prof.annulus(0.0, r, bkg) for r in radii], axis=1)  # (N, R)
    half = 0.5 * np.maximum(total, 1.0)
    reached = np.argmax(cum >= half[:, None], axis=1)
    reached = np.where((cum >= half[:, None]).any(axis=1), reached, len(radii) - 1)
    lower = np.maximum(reached - 1, 0)
    rows = np.arange(len(arr))
    c0, c1 = cum[rows, lower], cum[rows, reached]
    frac = np.clip((half - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0, 1)
    feats["half_light_px"] = radii[lower] + frac * (radii[reached] - radii[lower])
    return pd.DataFrame(feats)


def _centroid_shift(images, mask, prof, background, subsample):
    """Standard deviation (N,) of the centroid over apertures 0.1-1 R_ap, in units of R_ap."""
    size = images.shape[-1]
    r_ap = 0.45 * size
    weights = _aperture_weights(size, r_ap * np.arange(1, 11) / 10, subsample)  # (K, S, S)
    img = _filled_images(images, mask, prof) - background
    axis = np.arange(size) - (size - 1) / 2
    flux = np.einsum("nyx,kyx->nk", img, weights)
    mx = np.einsum("nyx,kyx,x->nk", img, weights, axis)
    my = np.einsum("nyx,kyx,y->nk", img, weights, axis)
    flux = np.where(np.abs(flux) < 1.0, 1.0, flux)
    cx, cy = mx / flux, my / flux
    spread = np.sqrt(np.var(cx, axis=1) + np.var(cy, axis=1))
    return spread / r_ap


# --------------------------------------------------------------------------- boosted trees


_PARAM_SPACE = {
    "learning_rate": [0.03, 0.05, 0.1, 0.2],
    "max_leaf_nodes": [7, 15, 31],
    "min_samples_leaf": [10, 20, 40, 80],
    "l2_regularization": [0.0, 0.1, 1.0, 10.0],
    "max_iter": [100, 200, 300],
}


class ProfileFeatureRegressor(RegressorMixin, BaseEstimator):
    """log10 M500 from :func:`profile_features` with gradient-boosted trees.

    ``n_settings`` hyperparameter settings are drawn (seed ``random_state``) from
    learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization and max_iter (early
    stopping off; ``param_space`` overrides the lists) and scored by rms error over
    ``cv_folds`` grouped folds of the training clusters; the best is refitted on all training
    images. With ``linear_base`` the trees fit the residuals of a least-squares line in the
    log aperture counts (trees alone approximate the smooth luminosity-mass trend by steps).
    ``fit(X, y, groups=None)``: images (N, 1, S, S), log10 M500 [Msun/h] (N,), cluster ids
    (N,) (None: each image its own group; pass them, or projections of one cluster leak
    across folds). Fitted: ``best_params_``, ``cv_results_`` (DataFrame, one row per setting,
    ``rmse`` in dex), ``feature_names_``, ``model_``, ``fit_time_`` [s].
    """

    def __init__(
        self,
        config=None,
        n_settings: int = 10,
        cv_folds: int = 3,
        param_space=None,
        mask_point_sources: bool = True,
        linear_base: bool = True,
        random_state: int = 0,
    ):
        self.linear_base = linear_base
        self.config = config
        self.n_settings = n_settings
        self.cv_folds = cv_folds
        self.param_space = param_space
        self.mask_point_sources = mask_point_sources
        self.random_state = random_state

    def _features(self, images):
        cfg = _config_for(images, self.config)
        return profile_features(
            images, config=cfg, mask="detect" if self.mask_point_sources else None
        )

    def _model(self, params):
        trees = HistGradientBoostingRegressor(
            early_stopping=False, random_state=self.random_state, **params
        )
        return _LinearPlusTrees(trees, self._linear_columns) if self.linear_base else trees

    def fit(self, X, y, groups=None) -> ProfileFeatureRegressor:
        """Tune and fit on images X (N, 1, S, S), log10 M500 y (N,), cluster ids ``groups``."""
        start = time.perf_counter()
        images = check_cluster_images(X, name="X")
        log_m = check_log_m500(y, name="y")
        if len(log_m) != len(images):
            raise ValueError(f"y has {len(log_m)} rows but X has {len(images)}; they must match.")
        groups = _check_groups(groups, len(images))
        if isinstance(self.n_settings, bool) or not isinstance(self.n_settings, (int, np.integer)):
            raise ValueError(f"n_settings must be a whole number >= 1, got {self.n_settings!r}.")
        if self.n_settings < 1:
            raise ValueError(f"n_settings must be a whole number >= 1, got {self.n_settings!r}.")
        folds = _group_folds(self.cv_folds, groups)
        features = self._features(images)
        x = features.to_numpy(np.float64)
        self._linear_columns = [
            i for i, name in enumerate(features.columns) if name.startswith("log_counts_")
        ]
        space = dict(_PARAM_SPACE if self.param_space is None else self.param_space)
        settings = list(
            ParameterSampler(space, n_iter=int(self.n_settings), random_state=self.random_state)
        )
        rows = []
        with threadpool_limits(1, "openmp"):
            for params in settings:
                pred = np.empty(len(log_m))
                for train, test in folds:
                    model = self._model(params).fit(x[train], log_m[train])
                    pred[test] = model.predict(x[test])
                rows.append({**params, "rmse": float(np.sqrt(np.mean((pred - log_m) ** 2)))})
            scores = [row["rmse"] for row in rows]
            self.best_params_ = dict(settings[int(np.argmin(scores))])
            self.cv_results_ = pd.DataFrame(rows).sort_values("rmse").reset_index(drop=True)
            self.model_ = self._model(self.best_params_).fit(x, log_m)
        self.feature_names_ = list(features.columns)
        self.fit_time_ = time.perf_counter() - start
        return self

    def predict(self, X) -> np.ndarray:
        """log10 M500 [Msun/h] (N,) of images X (N, 1, S, S)."""
        check_is_fitted(self, "model_")
        images = check_cluster_images(X, name="X")
        x = self._features(images).to_numpy(np.float64)
        with threadpool_limits(1, "openmp"):
            return self.model_.predict(x)


class _LinearPlusTrees:
    """Least squares on the columns ``linear`` of the features, then ``trees`` on its residuals."""

    def __init__(self, trees, linear):
        self.trees, self.linear = trees, list(linear)

    def fit(self, x, y):
        design = np.column_stack([np.ones(len(x)), x[:, self.linear]])
        self.coef_, *_ = np.linalg.lstsq(design, y, rcond=None)
        self.trees.fit(x, y - design @ self.coef_)
        return self

    def predict(self, x):
        design = np.column_stack([np.ones(len(x)), x[:, self.linear]])
        return design @ self.coef_ + self.trees.predict(x)
