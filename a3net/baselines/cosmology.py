"""Chapters E and H's baselines: power spectrum, exact Gaussian likelihood, Fisher bound.

Three references for a network that reads (Omega_m, sigma_8) off a map:

- :func:`power_spectrum` and :class:`PowerSpectrumRegressor`: the classical summary statistic,
  the azimuthally binned 2D spectrum of each map's contrast, and a regressor trained on its
  logarithm. For a Gaussian field the spectrum holds all the information; for the simulator's
  maps it misses whatever lives in the non-Gaussian structure (peaks, voids, filaments).
- :func:`gaussian_log_likelihood` and :class:`ExactLikelihoodEstimator`: for the Gaussian
  control maps of :mod:`a3net.data.gaussian_maps` the likelihood is known exactly, so the
  posterior mean on a grid is the best any estimator can do per map (in mean squared error,
  under the flat prior the maps were drawn from).
- :func:`map_summaries` and :class:`MapSummaryRegressor`: the strongest classical summary, as
  the field runs it for non-Gaussian maps: the spectrum of the log field together with its
  one-point PDF and peak counts, and a kernel ridge regression whose feature set, kernel width
  and ridge strength are chosen by cross-validation on the training maps, grouped by simulation.
- :func:`fisher_matrix` and :func:`fisher_bound`: the Cramer-Rao bound at one point of
  parameter space, the smallest error an unbiased estimator can reach. On 64 px maps the two
  parameters are almost degenerate (correlation -0.998 at (0.3, 0.8)): sigma_8 Omega_m^0.54 is
  measured to 1 % per map, but the marginal errors (0.09 and 0.13) are as wide as the prior,
  so per map the prior box, which the posterior mean uses, sets the attainable error.

Conventions are those of :mod:`a3net.data.gaussian_maps`: maps (N, C, S, S) over a periodic
``box_size`` Mpc/h square, delta_k = sum_x delta_x exp(-i k.x), and
E|delta_k|^2 = S^4 P2D(k) / box_size^2, so that the binned spectrum of a control map has
expectation P2D [(Mpc/h)^2]. k in h/Mpc.

A real map has delta_{-k} = conj(delta_k): the modes of one half-plane are independent, each a
complex Gaussian of variance v_k = S^2 P2D(k) / A per real coordinate (in the orthonormal DFT
basis), except the self-conjugate ones (k_x and k_y each 0 or Nyquist), which are real. The
k = 0 mode (the mean) carries no information and is left out. So, with n_k = 2 for a complex
mode and 1 for a real one,

    ln L = -1/2 sum_k n_k [ln(2 pi v_k) + |delta_k|^2 / (S^2 v_k)],

and the Fisher matrix is F_ij = 1/2 sum over the S^2 - 1 modes of the full plane of
d ln P / d theta_i d ln P / d theta_j.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.fft
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import check_positive_number, check_seed
from ..data.cosmology_linear import OMEGA_B
from ..data.gaussian_maps import _map_size, _squared_index, projected_power

__all__ = [
    "ExactLikelihoodEstimator",
    "FisherBound",
    "MapSummaryRegressor",
    "PowerSpectrumRegressor",
    "SpectrumBins",
    "binned_model_power",
    "fisher_bound",
    "fisher_matrix",
    "gaussian_log_likelihood",
    "map_summaries",
    "power_spectrum",
    "spectrum_bins",
]

_CHUNK = 2**22  # pixels per FFT batch, bounds the memory of a spectrum of many maps


def _check_maps(maps, name: str = "maps", *, positive: bool = False, channels=None) -> np.ndarray:
    """Float32 (N, C, S, S), finite (and > 0 if ``positive``), with ``channels`` channels."""
    if isinstance(maps, str | bytes) or maps is None:
        raise TypeError(f"{name} must be an array (N, C, S, S), got {type(maps).__name__}.")
    try:
        arr = np.asarray(maps, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array (N, C, S, S).") from None
    if arr.ndim != 4 or arr.shape[-1] != arr.shape[-2] or arr.shape[-1] < 4 or len(arr) == 0:
        raise ValueError(
            f"{name} must have shape (N, C, S, S) with square maps of at least 4 px, "
            f"got {arr.shape}."
        )
    if channels is not None and arr.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channel(s), got {arr.shape[1]}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; clean the maps first.")
    if positive and np.any(arr <= 0):
        raise ValueError(
            f"{name} must be positive to be turned into contrasts (map / mean - 1); "
            "pass contrast=False for maps that already are contrasts."
        )
    return arr


def _half_plane_weight(size: int) -> np.ndarray:
    """Copies in the full plane of each rfft2 mode (S, S // 2 + 1): 1 in the k_x = 0 (and, for
    even S, Nyquist) column, whose modes pair up within the column, 2 elsewhere."""
    weight = np.full((size, size // 2 + 1), 2.0)
    weight[:, 0] = 1.0
    if size % 2 == 0:
        weight[:, -1] = 1.0
    return weight


def _coordinates(size: int) -> np.ndarray:
    """Independent real coordinates n_k (S, S // 2 + 1) of each rfft2 mode: 2 for a complex
    mode of the half-plane, 1 for a self-conjugate (real) mode, 0 for k = 0 and for the modes
    of the k_x = 0 and Nyquist columns that are conjugates of others. Sums to S^2 - 1."""
    n = np.full((size, size // 2 + 1), 2.0)
    columns = [0, size // 2] if size % 2 == 0 else [0]
    rows = [0, size // 2] if size % 2 == 0 else [0]
    for col in columns:
        n[size // 2 + 1 :, col] = 0.0  # k_y < 0: conjugates of k_y > 0
        for row in rows:
            n[row, col] = 1.0
    n[0, 0] = 0.0
    return n


def _binned_squares(arr: np.ndarray, matrix: np.ndarray, contrast: bool = False) -> np.ndarray:
    """|delta_k|^2 of maps (M, S, S) in rfft2 layout, flattened and multiplied by ``matrix``
    (S * (S // 2 + 1), B): (M, B) float64, in batches of ~4M pixels. With ``contrast`` the maps
    are read as map / mean - 1, whose k != 0 modes are those of the map divided by its mean."""
    size = arr.shape[-1]
    out = np.empty((len(arr), matrix.shape[1]))
    step = max(1, _CHUNK // (size * size))
    for start in range(0, len(arr), step):
        modes = scipy.fft.rfft2(arr[start : start + step].astype(np.float64))
        power = modes.real**2 + modes.imag**2
        if contrast:
            power /= power[:, :1, :1] / size**4  # |sum x|^2 = S^4 mean^2
        power[:, 0, 0] = 0.0
        out[start : start + step] = power.reshape(len(power), -1) @ matrix
    return out


class SpectrumBins(NamedTuple):
    """Bins of the azimuthal spectrum of an S x S map: ``edges`` (n_bins + 1,) and ``centres``
    (n_bins,) in h/Mpc (centre = mean |k| of the bin's modes), ``counts`` (n_bins,) modes of the
    full plane per bin, ``matrix`` (S * (S // 2 + 1), n_bins) that averages the rfft2 modes of
    each bin with their full-plane multiplicity."""

    edges: np.ndarray
    centres: np.ndarray
    counts: np.ndarray
    matrix: np.ndarray


def _widened_log_edges(k_min: float, k_max: float, n_bins: int, width: float) -> np.ndarray:
    """Edges from k_min to k_max, each bin the larger of a fixed ratio r and ``width`` wide;
    r is solved for (bisection) so that the last edge lands on k_max."""

    def edges_for(ratio: float) -> np.ndarray:
        edges = [k_min]
        for _ in range(n_bins):
            edges.append(max(edges[-1] * ratio, edges[-1] + width))
        return np.array(edges)

    lo, hi = 1.0, (k_max / k_min) ** (1.0 / n_bins)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if edges_for(mid)[-1] < k_max else (lo, mid)
    edges = edges_for(hi)
    edges[-1] = k_max
    return edges


def spectrum_bins(
    map_size: int, *, box_size: float = 25.0, n_bins: int = 16, k_min=None, k_max=None
) -> SpectrumBins:
    """The bins :func:`power_spectrum` uses for ``map_size`` px maps over ``box_size`` Mpc/h.

    Log-spaced from ``k_min`` (default the fundamental 2 pi / box) to ``k_max`` (default the
    Nyquist pi S / box), both included; at low k, where log bins would fall between the
    discrete |k| of the grid, each bin is widened to one fundamental (so no default bin is
    empty) and the ratio of the others is solved for. A bin without a mode is a ValueError.
    """
    if isinstance(map_size, bool) or not isinstance(map_size, int | np.integer) or map_size < 4:
        raise ValueError(f"map_size must be a whole number of pixels >= 4, got {map_size!r}.")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a whole number >= 1, got {n_bins!r}.")
    size, n_bins = int(map_size), int(n_bins)
    box = check_positive_number(box_size, "box_size")
    fundamental = 2 * np.pi / box
    lo = fundamental if k_min is None else check_positive_number(k_min, "k_min")
    hi = np.pi * size / box if k_max is None else check_positive_number(k_max, "k_max")
    if hi <= lo:
        raise ValueError(f"k_max ({hi:.4g} h/Mpc) must exceed k_min ({lo:.4g} h/Mpc).")
    if lo + n_bins * fundamental > hi * (1 + 1e-9):
        raise ValueError(
            f"n_bins={n_bins} bins of at least one fundamental ({fundamental:.4g} h/Mpc) do not "
            f"fit between k_min={lo:.4g} and k_max={hi:.4g} h/Mpc; use fewer bins "
            f"(at most {int((hi - lo) / fundamental + 1e-9)}) or larger maps."
        )
    edges = _widened_log_edges(lo, hi, n_bins, fundamental)
    k = fundamental * np.sqrt(_squared_index(size, True)).ravel()
    weight = _half_plane_weight(size).ravel()
    tol = 1e-9 * hi
    inside = (k >= lo - tol) & (k <= hi + tol)
    index = np.clip(np.searchsorted(edges, k + tol, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(index[inside], weights=weight[inside], minlength=n_bins)
    if np.any(counts == 0):
        empty = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"bin {empty} ({edges[empty]:.4g} to {edges[empty + 1]:.4g} h/Mpc) holds no mode of a "
            f"{size} px map; use fewer bins or another k range."
        )
    sums = np.bincount(index[inside], weights=(weight * k)[inside], minlength=n_bins)
    matrix = np.zeros((k.size, n_bins))
    rows = np.flatnonzero(inside)
    matrix[rows, index[rows]] = weight[rows] / counts[index[rows]]
    return SpectrumBins(edges, sums / counts, counts, matrix)


def power_spectrum(
    maps,
    *,
    box_size: float = 25.0,
    n_bins: int = 16,
    k_min=None,
    k_max=None,
    contrast: bool = True,
):
    """Azimuthally binned 2D power spectrum of every map and channel.

    ``maps`` (N, C, S, S) over ``box_size`` Mpc/h. With ``contrast`` (default) each map is
    first turned into its contrast map / mean - 1 (the maps must then be positive, like Mtot
    or P); pass ``contrast=False`` for maps that already are contrasts (the Gaussian control).
    Returns ``k_centres`` (n_bins,) [h/Mpc] and ``power`` (N, C, n_bins) [(Mpc/h)^2]: the mean
    of A |delta_k|^2 / S^4 over the bin's modes, whose expectation for a Gaussian control map
    is the mean of P2D over the same modes (:func:`binned_model_power`). Bins: see
    :func:`spectrum_bins`.
    """
    arr = _check_maps(maps, positive=bool(contrast))
    n, c, size, _ = arr.shape
    box = check_positive_number(box_size, "box_size")
    bins = spectrum_bins(size, box_size=box, n_bins=n_bins, k_min=k_min, k_max=k_max)
    power = _binned_squares(arr.reshape(n * c, size, size), bins.matrix, bool(contrast))
    return bins.centres, (power * box * box / size**4).reshape(n, c, -1)


def binned_model_power(
    omega_m: float,
    sigma_8: float,
    *,
    map_size: int = 64,
    box_size: float = 25.0,
    thickness: float = 5.0,
    n_bins: int = 16,
    k_min=None,
    k_max=None,
) -> np.ndarray:
    """Expectation (n_bins,) [(Mpc/h)^2] of :func:`power_spectrum` (``contrast=False``) on
    Gaussian control maps: P2D averaged over the modes of each bin."""
    bins = spectrum_bins(map_size, box_size=box_size, n_bins=n_bins, k_min=k_min, k_max=k_max)
    index = _squared_index(int(map_size), True)
    unique, inverse = np.unique(index, return_inverse=True)
    k = 2 * np.pi / float(box_size) * np.sqrt(unique)
    p2d = projected_power(k, omega_m, sigma_8, thickness=thickness)[inverse.ravel()]
    return p2d @ bins.matrix


@lru_cache(maxsize=8)
def _mode_groups(size: int):
    """Distinct |k| of a size x size grid: (integer i^2 + j^2 of each group, (S * (S//2+1),)
    group of each rfft2 mode or -1, coordinates n_g per group, (S * (S//2+1), n_groups) matrix
    that sums n_k |delta_k|^2 / S^2 per group); groups with n_g > 0 only."""
    index = _squared_index(size, True).ravel()
    coords = _coordinates(size).ravel()
    unique, inverse = np.unique(index, return_inverse=True)
    inverse = inverse.ravel()
    n_group = np.bincount(inverse, weights=coords, minlength=len(unique))
    keep = n_group > 0
    renumber = np.cumsum(keep) - 1
    group = np.where(keep[inverse] & (coords > 0), renumber[inverse], -1)
    matrix = np.zeros((group.size, int(keep.sum())))
    rows = np.flatnonzero(group >= 0)
    matrix[rows, group[rows]] = coords[rows] / size**2
    return unique[keep], group, n_group[keep], matrix


def _group_statistic(arr: np.ndarray) -> np.ndarray:
    """Q_g = sum over the modes of group g of n_k |delta_k|^2 / S^2, (N, n_groups)."""
    return _binned_squares(arr, _mode_groups(arr.shape[-1])[3])


def _group_power(size, box, omega_m, sigma_8, thickness) -> np.ndarray:
    unique = _mode_groups(size)[0]
    return projected_power(2 * np.pi / box * np.sqrt(unique), omega_m, sigma_8, thickness=thickness)


def gaussian_log_likelihood(
    maps, omega_m: float, sigma_8: float, *, box_size: float = 25.0, thickness: float = 5.0
) -> np.ndarray:
    """Exact log-likelihood (N,) of each contrast map (N, 1, S, S) under the Gaussian model with
    spectrum P2D(k; omega_m, sigma_8) [:func:`~a3net.data.gaussian_maps.projected_power`].

    It is the density of the map's S^2 - 1 zero-mean coordinates in the orthonormal DFT basis
    (the k = 0 mode is left out): -1/2 sum_k n_k [ln(2 pi v_k) + |delta_k|^2 / (S^2 v_k)] over
    the independent modes of the half-plane, v_k = S^2 P2D(k) / box_size^2, n_k = 2 for complex
    modes and 1 for the self-conjugate ones.
    """
    arr = _check_maps(maps, channels=1)[:, 0]
    size = arr.shape[-1]
    box = check_positive_number(box_size, "box_size")
    n_group = _mode_groups(size)[2]
    variance = _group_power(size, box, omega_m, sigma_8, thickness) * size**2 / box**2
    stat = _group_statistic(arr)
    return -0.5 * (n_group @ np.log(2 * np.pi * variance) + stat @ (1.0 / variance))


class ExactLikelihoodEstimator(RegressorMixin, BaseEstimator):
    """Posterior mean of (omega_m, sigma_8) of each Gaussian control map under a flat prior.

    The exact likelihood (:func:`gaussian_log_likelihood`) is evaluated on a ``grid`` of
    (n_omega_m, n_sigma_8) points spanning ``ranges`` (the prior box, edges included, trapezoid
    weights) for all maps at once: ln L (N, G) = -1/2 (Q @ (1 / v) + n @ ln(2 pi v)) with Q the
    maps' |delta_k|^2 summed per distinct |k|. P2D is computed once per omega_m (sigma_8 only
    scales it by sigma_8^2). Nothing is learnt: ``fit`` only checks the maps and prepares the
    table, and ``predict`` works without it. ``predict(X)`` returns (N, 2) posterior means,
    with ``return_std=True`` also the posterior standard deviations.
    """

    def __init__(
        self,
        grid=(41, 41),
        ranges=((0.1, 0.5), (0.6, 1.0)),
        box_size: float = 25.0,
        thickness: float = 5.0,
    ):
        self.grid = grid
        self.ranges = ranges
        self.box_size = box_size
        self.thickness = thickness

    def _axes(self):
        try:
            n_om, n_s8 = (int(n) for n in self.grid)
            (om_lo, om_hi), (s8_lo, s8_hi) = ((float(a), float(b)) for a, b in self.ranges)
        except (TypeError, ValueError):
            raise TypeError(
                "grid must be two whole numbers and ranges two (low, high) pairs."
            ) from None
        if n_om < 2 or n_s8 < 2:
            raise ValueError(f"grid must have at least 2 points per parameter, got {self.grid}.")
        if not (OMEGA_B < om_lo < om_hi <= 1.0 and 0.0 < s8_lo < s8_hi < 3.0):
            raise ValueError(
                f"ranges must be ((low, high) of omega_m in ({OMEGA_B}, 1], (low, high) of sigma_8 "
                f"in (0, 3)), got {self.ranges}."
            )
        return np.linspace(om_lo, om_hi, n_om), np.linspace(s8_lo, s8_hi, n_s8)

    def _table(self, size: int):
        """(omega_m (G,), sigma_8 (G,), prior log-weight (G,), 1/v (n_groups, G),
        n @ ln(2 pi v) (G,)) for maps of ``size`` px, cached."""
        key = (size, tuple(self.grid), tuple(map(tuple, self.ranges)), self.box_size,
               self.thickness)  # fmt: skip
        cache = getattr(self, "_cache", None)
        if cache is not None and cache[0] == key:
            return cache[1]
        om, s8 = self._axes()
        box = check_positive_number(self.box_size, "box_size")
        n_group = _mode_groups(size)[2]
        unit = np.stack([_group_power(size, box, o, 1.0, self.thickness) for o in om])
        unit *= size**2 / box**2  # v at sigma_8 = 1, (n_om, n_groups)
        variance = unit[:, None, :] * (s8**2)[None, :, None]  # (n_om, n_s8, n_groups)
        variance = variance.reshape(-1, len(n_group))
        w_om = np.full(len(om), 1.0)
        w_om[[0, -1]] = 0.5
        w_s8 = np.full(len(s8), 1.0)
        w_s8[[0, -1]] = 0.5
        table = (
            np.repeat(om, len(s8)),
            np.tile(s8, len(om)),
            np.log(np.outer(w_om, w_s8)).ravel(),
            (1.0 / variance).T,
            np.log(2 * np.pi * variance) @ n_group,
        )
        self._cache = (key, table)
        return table

    def log_posterior(self, X) -> np.ndarray:
        """Unnormalised log posterior (N, n_omega_m, n_sigma_8) of maps X (N, 1, S, S)."""
        arr = _check_maps(X, "X", channels=1)[:, 0]
        _, _, log_prior, inv_var, log_det = self._table(arr.shape[-1])
        log_like = -0.5 * (_group_statistic(arr) @ inv_var + log_det)
        n_om, n_s8 = (int(n) for n in self.grid)
        return (log_like + log_prior).reshape(len(arr), n_om, n_s8)

    def fit(self, X, y=None) -> ExactLikelihoodEstimator:
        """Check maps X (N, 1, S, S) and prepare the grid for their size; returns self."""
        arr = _check_maps(X, "X", channels=1)
        if y is not None and len(np.asarray(y)) != len(arr):
            raise ValueError(f"y has {len(np.asarray(y))} rows but X has {len(arr)}; match them.")
        self._table(arr.shape[-1])
        self.map_size_ = arr.shape[-1]
        return self

    def predict(self, X, return_std: bool = False):
        """Posterior means (N, 2) of (omega_m, sigma_8); with ``return_std`` also their
        posterior standard deviations (N, 2)."""
        arr = _check_maps(X, "X", channels=1)
        om, s8, *_ = self._table(arr.shape[-1])
        values = np.stack([om, s8], axis=1)  # (G, 2)
        mean = np.empty((len(arr), 2))
        second = np.empty((len(arr), 2))
        for start in range(0, len(arr), 1024):  # bounds the (maps, grid) matrix
            log_post = self.log_posterior(arr[start : start + 1024]).reshape(-1, len(om))
            weight = np.exp(log_post - log_post.max(axis=1, keepdims=True))
            weight /= weight.sum(axis=1, keepdims=True)
            mean[start : start + 1024] = weight @ values
            second[start : start + 1024] = weight @ values**2
        if not return_std:
            return mean
        return mean, np.sqrt(np.maximum(second - mean**2, 0.0))


def fisher_matrix(
    omega_m: float,
    sigma_8: float,
    *,
    map_size: int = 64,
    box_size: float = 25.0,
    thickness: float = 5.0,
    n_maps: int = 1,
    step: float = 1e-3,
) -> np.ndarray:
    """Fisher matrix (2, 2) of (omega_m, sigma_8) from ``n_maps`` independent Gaussian control
    maps: F_ij = n_maps / 2 sum over the modes k != 0 of the full S x S grid of
    d ln P2D / d theta_i d ln P2D / d theta_j (central differences of half-width ``step``)."""
    size = _map_size(map_size)
    if isinstance(n_maps, bool) or not isinstance(n_maps, int | np.integer) or n_maps < 1:
        raise ValueError(f"n_maps must be a whole number >= 1, got {n_maps!r}.")
    box = check_positive_number(box_size, "box_size")
    h = check_positive_number(step, "step")
    unique = _mode_groups(size)[0]
    index = _squared_index(size, False).ravel()
    count = np.bincount(np.searchsorted(unique, index[index > 0]), minlength=len(unique))
    theta = np.array([omega_m, sigma_8], dtype=np.float64)
    grads = []
    for i in range(2):
        shift = np.zeros(2)
        shift[i] = h
        plus = _group_power(size, box, *(theta + shift), thickness)
        minus = _group_power(size, box, *(theta - shift), thickness)
        grads.append((np.log(plus) - np.log(minus)) / (2 * h))
    grads = np.array(grads)  # (2, n_groups)
    return 0.5 * n_maps * (grads * count) @ grads.T


class FisherBound(NamedTuple):
    """Cramer-Rao errors: marginal sqrt(diag(F^-1)) and conditional 1/sqrt(F_ii) (other
    parameter known) of omega_m and sigma_8, and their correlation coefficient in F^-1."""

    sigma_omega_m: float
    sigma_sigma_8: float
    conditional_omega_m: float
    conditional_sigma_8: float
    correlation: float


def fisher_bound(omega_m: float, sigma_8: float, **kwargs) -> FisherBound:
    """The Fisher bound at (omega_m, sigma_8); keyword arguments as :func:`fisher_matrix`."""
    fisher = fisher_matrix(omega_m, sigma_8, **kwargs)
    cov = np.linalg.inv(fisher)
    sig = np.sqrt(np.diag(cov))
    cond = 1.0 / np.sqrt(np.diag(fisher))
    return FisherBound(
        float(sig[0]), float(sig[1]), float(cond[0]), float(cond[1]),
        float(cov[0, 1] / (sig[0] * sig[1])),
    )  # fmt: skip


def _cross_correlation(arr: np.ndarray, bins: SpectrumBins) -> np.ndarray:
    """Binned cross-correlation coefficient r_b = P_ab / sqrt(P_aa P_bb) (N, C (C - 1) / 2,
    n_bins) of every pair of channels of maps (N, C, S, S); independent of each map's mean."""
    n, c, size, _ = arr.shape
    out = np.empty((n, c * (c - 1) // 2, bins.matrix.shape[1]))
    step = max(1, _CHUNK // (c * size * size))
    for start in range(0, n, step):
        modes = scipy.fft.rfft2(arr[start : start + step].astype(np.float64))
        modes[..., 0, 0] = 0.0
        flat = modes.reshape(len(modes), c, -1)
        auto = (flat.real**2 + flat.imag**2) @ bins.matrix
        pair = 0
        for a in range(c):
            for b in range(a + 1, c):
                cross = (flat[:, a] * flat[:, b].conj()).real @ bins.matrix
                out[start : start + step, pair] = cross / np.sqrt(auto[:, a] * auto[:, b])
                pair += 1
    return out


def _predict_from_features(estimator, X) -> np.ndarray:
    """``estimator.model_`` applied to ``estimator.features(X)``, shaped as y was in ``fit``; a
    ValueError when X gives another number of features than the maps it was fitted on."""
    check_is_fitted(estimator, "model_")
    features = estimator.features(X)
    if features.shape[1] != estimator.n_features_:
        raise ValueError(
            f"X gives {features.shape[1]} features but the model was fitted on "
            f"{estimator.n_features_}; pass maps with the same channels as in fit."
        )
    out = estimator.model_.predict(features)
    return out.reshape(len(out), -1) if estimator.target_ndim_ == 2 else out.reshape(-1)


class PowerSpectrumRegressor(RegressorMixin, BaseEstimator):
    """Parameters from the power spectrum: the classical baseline, a regressor on log10 of the
    binned spectrum of every channel's contrast.

    Features: log10 of :func:`power_spectrum` (``n_bins`` bins per channel; with ``corners`` the
    last bin reaches the grid's corner, sqrt(2) x Nyquist, so that every mode of the map is used
    -- on the Gaussian control the corners hold a fifth of the modes and raise the R2 of both
    parameters by 0.015 to 0.025), plus, with ``cross`` and C > 1, the binned cross-correlation
    coefficient of every pair of channels (on the simulator's (Mtot, P) maps it raised R2 from
    0.33 to 0.43 for Omega_m and from 0.36 to 0.40 for sigma_8). With ``contrast`` (default)
    each map is divided by its mean first, so the mean of a map (which for Mtot is proportional
    to Omega_m) is not a feature.

    Regressor: standardised features, an RBF kernel ridge regression approximated by
    ``n_components`` Nystroem components (kernel width ``gamma`` / n_features), ridge strength
    picked from ``alphas`` by leave-one-out (``RidgeCV``), standardised targets. On the Gaussian
    control (3000 maps of 64 px) and on the simulator's maps this was as good as an exact
    kernel ridge with cross-validated hyperparameters (ten times slower) and better than an MLP,
    gradient boosting or a quadratic ridge; on the control it comes within 0.01 to 0.02 in R2
    of the exact likelihood. It fits 3000 maps in about a second.

    ``fit(X, y)``: maps X (N, C, S, S), targets y (N,) or (N, n_targets); ``predict(X)`` returns
    the same shape of targets. Fitted: ``k_centres_`` (n_bins,) [h/Mpc], ``model_``.
    """

    def __init__(
        self,
        n_bins: int = 16,
        box_size: float = 25.0,
        contrast: bool = True,
        corners: bool = True,
        cross: bool = True,
        n_components: int = 300,
        gamma: float = 0.3,
        alphas=(1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0),
        random_state=0,
    ):
        self.n_bins = n_bins
        self.box_size = box_size
        self.contrast = contrast
        self.corners = corners
        self.cross = cross
        self.n_components = n_components
        self.gamma = gamma
        self.alphas = alphas
        self.random_state = random_state

    def features(self, X) -> np.ndarray:
        """Features (N, n_features) of maps X (N, C, S, S): log10 power, then cross terms."""
        return self._features(X)[1]

    def _features(self, X):
        arr = _check_maps(X, "X", positive=bool(self.contrast))
        size = arr.shape[-1]
        box = check_positive_number(self.box_size, "box_size")
        k_max = np.sqrt(2) * np.pi * size / box if self.corners else None
        k, power = power_spectrum(
            arr, box_size=box, n_bins=self.n_bins, k_max=k_max, contrast=self.contrast
        )
        if np.any(power <= 0):
            raise ValueError("X holds a map with no power in a bin (a constant map?); remove it.")
        parts = [np.log10(power).reshape(len(arr), -1)]
        if self.cross and arr.shape[1] > 1:
            bins = spectrum_bins(size, box_size=box, n_bins=self.n_bins, k_max=k_max)
            parts.append(_cross_correlation(arr, bins).reshape(len(arr), -1))
        return k, np.concatenate(parts, axis=1)

    def fit(self, X, y) -> PowerSpectrumRegressor:
        """Fit on maps X (N, C, S, S) and targets y (N,) or (N, n_targets); returns self."""
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.kernel_approximation import Nystroem
        from sklearn.linear_model import RidgeCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        try:
            target = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("y must be a numeric array (N,) or (N, n_targets).") from None
        if target.ndim not in (1, 2) or not np.all(np.isfinite(target)):
            raise ValueError(
                f"y must be finite, of shape (N,) or (N, n_targets), got {target.shape}."
            )
        self.k_centres_, features = self._features(X)
        if len(target) != len(features):
            raise ValueError(f"y has {len(target)} rows but X has {len(features)}; match them.")
        n_components = min(int(self.n_components), len(features))
        kernel = Nystroem(
            gamma=float(self.gamma) / features.shape[1],
            n_components=n_components,
            random_state=check_seed(self.random_state, "random_state", none=True),
        )
        ridge = RidgeCV(alphas=np.asarray(self.alphas, dtype=np.float64))
        self.model_ = TransformedTargetRegressor(
            make_pipeline(StandardScaler(), kernel, ridge), transformer=StandardScaler()
        )
        self.model_.fit(features, target.reshape(len(target), -1))
        self.target_ndim_ = target.ndim
        self.n_features_ = features.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets, (N,) or (N, n_targets) as y was in ``fit``."""
        return _predict_from_features(self, X)


# ----------------------------------------------------------------------------- map summaries

SUMMARY_BLOCKS = ("spectrum", "pdf", "peaks")
_PDF_QUANTILES = (0.01, 0.05, 0.16, 0.3, 0.5, 0.7, 0.84, 0.95, 0.99)


def _block_choices(choices) -> tuple:
    """``choices`` as a tuple of tuples of block names, each non-empty, known and unrepeated."""
    if isinstance(choices, str) or choices is None:
        raise TypeError(
            "block_choices must be a sequence of feature-block tuples such as "
            f"(('spectrum',), {SUMMARY_BLOCKS}), got {choices!r}."
        )
    out = []
    for choice in choices:
        choice = (choice,) if isinstance(choice, str) else tuple(choice)
        unknown = [b for b in choice if b not in SUMMARY_BLOCKS]
        if not choice or unknown or len(set(choice)) != len(choice):
            raise ValueError(
                f"every entry of block_choices must name blocks of {SUMMARY_BLOCKS} once each, "
                f"got {choice!r}."
            )
        out.append(choice)
    if not out:
        raise ValueError("block_choices is empty; give at least one set of feature blocks.")
    return tuple(out)


def _fraction_tuple(values, name: str, low: float, high: float) -> tuple:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}.") from None
    if not out or not all(low <= v <= high for v in out):
        raise ValueError(f"{name} must be a non-empty sequence of numbers in [{low}, {high}].")
    return out


def _summary_blocks(
    X,
    *,
    box_size: float,
    n_bins: int,
    log: bool,
    corners: bool,
    cross: bool,
    quantiles,
    peak_scales,
    peak_thresholds,
):
    """Per-block features of maps X (N, C, S, S): dict block -> (N, n) float64, and k centres."""
    from scipy import ndimage

    arr = _check_maps(X, "X")
    if log and np.any(arr <= 0):
        raise ValueError(
            "X must be positive for log=True (the summaries are those of log10 of each map); "
            "pass log=False for maps that already are Gaussian-like contrasts."
        )
    n, c, size, _ = arr.shape
    box = check_positive_number(box_size, "box_size")
    field = np.log10(arr.astype(np.float64)) if log else arr.astype(np.float64)
    field -= field.mean(axis=(2, 3), keepdims=True)  # the level is not a feature
    k_max = np.sqrt(2) * np.pi * size / box if corners else None
    k, power = power_spectrum(field, box_size=box, n_bins=n_bins, k_max=k_max, contrast=False)
    if np.any(power <= 0):
        raise ValueError("X holds a map with no power in a bin (a constant map?); remove it.")
    spectrum = [np.log10(power).reshape(n, -1)]
    if cross and c > 1:
        bins = spectrum_bins(size, box_size=box, n_bins=n_bins, k_max=k_max)
        spectrum.append(_cross_correlation(field, bins).reshape(n, -1))
    flat = field.reshape(n, c, -1)
    std = flat.std(axis=2)
    scaled = flat / std[..., None]
    pdf = [
        np.log10(std),
        (scaled**3).mean(axis=2),  # skewness
        (scaled**4).mean(axis=2) - 3.0,  # excess kurtosis
        np.moveaxis(np.quantile(flat, quantiles, axis=2), 0, -1).reshape(n, c, -1),
    ]
    pdf = np.concatenate([p.reshape(n, c, -1) for p in pdf], axis=2).reshape(n, -1)
    peaks = []
    for scale in peak_scales:
        smooth = ndimage.gaussian_filter(field, sigma=(0, 0, scale, scale), mode="wrap")
        top = ndimage.maximum_filter(smooth, size=(1, 1, 3, 3), mode="wrap")
        height = np.where(smooth >= top, smooth, -np.inf)
        height = height / smooth.reshape(n, c, -1).std(axis=2)[..., None, None]
        counts = np.stack(
            [(height > nu).sum(axis=(2, 3)) for nu in peak_thresholds], axis=2
        )  # (N, C, n_thresholds)
        peaks.append(np.log1p(counts))
    peaks = np.concatenate(peaks, axis=2).reshape(n, -1)
    return k, {"spectrum": np.concatenate(spectrum, axis=1), "pdf": pdf, "peaks": peaks}


def map_summaries(
    X,
    *,
    box_size: float = 25.0,
    n_bins: int = 12,
    log: bool = True,
    corners: bool = True,
    cross: bool = True,
    quantiles=_PDF_QUANTILES,
    peak_scales=(1.0, 2.0),
    peak_thresholds=(-1.0, 0.0, 1.0, 2.0, 3.0),
) -> dict:
    """The classical summaries of maps X (N, C, S, S) over ``box_size`` Mpc/h, per channel.

    Every map is first turned into its log field, log10 X minus its mean (``log=False``: X minus
    its mean, for maps that already are Gaussian-like contrasts), so a map's level is never a
    feature. Returns a dict of (N, n) float64 arrays:

    - ``"spectrum"``: log10 of the binned power spectrum of the log field (``n_bins`` bins; with
      ``corners`` up to the grid's corner, as :class:`PowerSpectrumRegressor`), and with ``cross``
      and C > 1 the binned cross-correlation coefficient of every pair of channels;
    - ``"pdf"``: the one-point PDF of the log field: log10 of its standard deviation, its
      skewness and excess kurtosis, and its ``quantiles``;
    - ``"peaks"``: log(1 + n) of the number n of peaks (pixels above their 8 neighbours, the map
      periodic) of the log field smoothed with a Gaussian of each of ``peak_scales`` px, higher
      than each of ``peak_thresholds`` times the smoothed map's standard deviation.

    and ``"k"``, the spectrum's bin centres (n_bins,) [h/Mpc].
    """
    quantiles = _fraction_tuple(quantiles, "quantiles", 0.0, 1.0)
    scales = _fraction_tuple(peak_scales, "peak_scales", 0.0, np.inf)
    thresholds = _fraction_tuple(peak_thresholds, "peak_thresholds", -np.inf, np.inf)
    k, blocks = _summary_blocks(
        X, box_size=box_size, n_bins=n_bins, log=bool(log), corners=bool(corners),
        cross=bool(cross), quantiles=quantiles, peak_scales=scales, peak_thresholds=thresholds,
    )  # fmt: skip
    blocks["k"] = k
    return blocks


def _layout_columns(layout, blocks) -> np.ndarray:
    spans = dict(layout)
    return np.concatenate([np.arange(*spans[b]) for b in blocks])


def _ridge_path(z_fit, y_fit, z_val, alphas):
    """Predictions on ``z_val`` of ridge regressions (with intercept) of ``y_fit`` on ``z_fit``
    for every ridge strength in ``alphas``, from one eigendecomposition of the Gram matrix."""
    centre = z_fit.mean(axis=0)
    fit = z_fit - centre
    values, vectors = np.linalg.eigh(fit.T @ fit)
    values = np.maximum(values, 0.0)
    vty = vectors.T @ (fit.T @ y_fit)
    offset = y_fit.mean(axis=0)
    projected = (z_val - centre) @ vectors
    return [projected @ (vty / (values + alpha)[:, None]) + offset for alpha in alphas]


class _BlockSelector(TransformerMixin, BaseEstimator):
    """Keeps the columns of ``blocks`` of features laid out as ``layout`` (block -> (start,
    stop)): the feature set is a hyper-parameter of :class:`MapSummaryRegressor`'s search."""

    def __init__(self, layout=(), blocks=SUMMARY_BLOCKS):
        self.layout = layout
        self.blocks = blocks

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X)[:, _layout_columns(self.layout, self.blocks)]


class MapSummaryRegressor(RegressorMixin, BaseEstimator):
    """Parameters from the strongest classical summary of a map: power spectrum, one-point PDF
    and peak counts of the log field (:func:`map_summaries`), for every channel.

    Regressor: the chosen feature blocks, standardised; an RBF kernel ridge regression
    approximated by ``n_components`` Nystroem components (kernel width gamma / n_features);
    standardised targets. Chosen by a grid search with ``cv``-fold cross-validation on the
    training maps only, grouped by simulation when ``groups`` are given to :meth:`fit`
    (``GroupKFold``; otherwise shuffled ``KFold``): the feature set among ``block_choices``
    (by default the spectrum alone, or all three blocks, so the summary is never worse than its
    spectrum part by more than the noise of the search), the width among ``gammas`` and the ridge
    strength among ``alphas`` (2 x 3 x 5 = 30 candidates, 150 fits by default). Then refitted on
    all the training maps.

    ``fit(X, y, groups=None)``: maps X (N, C, S, S) (positive with ``log=True``), targets y (N,)
    or (N, n_targets); ``predict(X)`` returns the same shape of targets. Fitted: ``k_centres_``,
    ``layout_`` (block -> column span), ``best_params_`` (the chosen ``blocks``, ``gamma``,
    ``alpha``), ``cv_score_`` (its mean cross-validated R^2), ``n_features_``, ``model_``.
    """

    def __init__(
        self,
        n_bins: int = 12,
        box_size: float = 25.0,
        log: bool = True,
        corners: bool = True,
        cross: bool = True,
        quantiles=_PDF_QUANTILES,
        peak_scales=(1.0, 2.0),
        peak_thresholds=(-1.0, 0.0, 1.0, 2.0, 3.0),
        block_choices=(("spectrum",), SUMMARY_BLOCKS),
        gammas=(0.1, 0.3, 1.0),
        alphas=(1e-3, 1e-2, 1e-1, 1.0, 10.0),
        n_components: int = 300,
        cv: int = 5,
        random_state=0,
    ):
        self.n_bins = n_bins
        self.box_size = box_size
        self.log = log
        self.corners = corners
        self.cross = cross
        self.quantiles = quantiles
        self.peak_scales = peak_scales
        self.peak_thresholds = peak_thresholds
        self.block_choices = block_choices
        self.gammas = gammas
        self.alphas = alphas
        self.n_components = n_components
        self.cv = cv
        self.random_state = random_state

    def summaries(self, X) -> dict:
        """:func:`map_summaries` of maps X with this regressor's settings."""
        return map_summaries(
            X, box_size=self.box_size, n_bins=self.n_bins, log=self.log, corners=self.corners,
            cross=self.cross, quantiles=self.quantiles, peak_scales=self.peak_scales,
            peak_thresholds=self.peak_thresholds,
        )  # fmt: skip

    def features(self, X) -> np.ndarray:
        """All features (N, n_features) of maps X: the blocks in the order of SUMMARY_BLOCKS."""
        blocks = self.summaries(X)
        return np.concatenate([blocks[b] for b in SUMMARY_BLOCKS], axis=1)

    def fit(self, X, y, groups=None) -> MapSummaryRegressor:
        """Search and fit on maps X (N, C, S, S), targets y and optional simulation ids
        ``groups`` (N,) for the grouped cross-validation; returns self."""
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.kernel_approximation import Nystroem
        from sklearn.linear_model import Ridge
        from sklearn.metrics import r2_score
        from sklearn.model_selection import GroupKFold, KFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        try:
            target = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("y must be a numeric array (N,) or (N, n_targets).") from None
        if target.ndim not in (1, 2) or not np.all(np.isfinite(target)):
            raise ValueError(
                f"y must be finite, of shape (N,) or (N, n_targets), got {target.shape}."
            )
        choices = _block_choices(self.block_choices)
        gammas = _fraction_tuple(self.gammas, "gammas", 1e-12, np.inf)
        alphas = _fraction_tuple(self.alphas, "alphas", 1e-12, np.inf)
        folds = self.cv
        if isinstance(folds, bool) or not isinstance(folds, int | np.integer) or folds < 2:
            raise ValueError(f"cv must be a whole number of folds >= 2, got {folds!r}.")
        seed = check_seed(self.random_state, "random_state", none=True)
        blocks = self.summaries(X)
        self.k_centres_ = blocks["k"]
        features = np.concatenate([blocks[b] for b in SUMMARY_BLOCKS], axis=1)
        if len(target) != len(features):
            raise ValueError(f"y has {len(target)} rows but X has {len(features)}; match them.")
        if groups is not None:
            groups = np.asarray(groups).ravel()
            if len(groups) != len(features):
                raise ValueError(
                    f"groups has {len(groups)} entries but X has {len(features)} maps; give "
                    "the simulation id of every map."
                )
            if len(np.unique(groups)) < folds:
                raise ValueError(
                    f"groups holds {len(np.unique(groups))} simulations, fewer than cv={folds} "
                    "folds; use fewer folds or more simulations."
                )
            splitter = GroupKFold(n_splits=int(folds))
        else:
            if len(features) < 2 * folds:
                raise ValueError(f"X has {len(features)} maps, too few for cv={folds} folds.")
            splitter = KFold(n_splits=int(folds), shuffle=True, random_state=seed)
        stops = np.cumsum([blocks[b].shape[1] for b in SUMMARY_BLOCKS])
        layout = tuple(
            (b, (int(stop - blocks[b].shape[1]), int(stop)))
            for b, stop in zip(SUMMARY_BLOCKS, stops, strict=True)
        )
        target2 = target.reshape(len(target), -1)
        n_train = len(features) - -(-len(features) // int(folds))  # rows of one fold's fit
        n_components = max(1, min(int(self.n_components), n_train))
        scores = {}  # (choice, gamma, alpha) -> R^2 of each fold
        for fit_rows, val_rows in splitter.split(features, target, groups):
            y_fit, y_val = target2[fit_rows], target2[val_rows]
            y_mean, y_std = y_fit.mean(axis=0), y_fit.std(axis=0) + 1e-12
            for choice in choices:
                columns = _layout_columns(layout, choice)
                scale = StandardScaler().fit(features[fit_rows][:, columns])
                z_fit = scale.transform(features[fit_rows][:, columns])
                z_val = scale.transform(features[val_rows][:, columns])
                for gamma in gammas:
                    kernel = Nystroem(
                        gamma=gamma / len(columns), n_components=n_components, random_state=seed
                    ).fit(z_fit)
                    for alpha, pred in zip(
                        alphas,
                        _ridge_path(
                            kernel.transform(z_fit), (y_fit - y_mean) / y_std,
                            kernel.transform(z_val), alphas,
                        ),
                        strict=True,
                    ):  # fmt: skip
                        pred = pred * y_std + y_mean
                        score = r2_score(y_val, pred, multioutput="uniform_average")
                        scores.setdefault((choice, gamma, alpha), []).append(score)
        (chosen, gamma, alpha), fold_scores = max(scores.items(), key=lambda item: np.mean(item[1]))
        columns = _layout_columns(layout, chosen)
        pipeline = make_pipeline(
            _BlockSelector(layout=layout, blocks=chosen),
            StandardScaler(),
            Nystroem(gamma=gamma / len(columns), n_components=n_components, random_state=seed),
            Ridge(alpha=alpha),
        )
        self.model_ = TransformedTargetRegressor(pipeline, transformer=StandardScaler())
        self.model_.fit(features, target2)
        self.best_params_ = {"blocks": chosen, "gamma": gamma, "alpha": alpha}
        self.cv_score_ = float(np.mean(fold_scores))
        self.cv_results_ = {key: float(np.mean(v)) for key, v in scores.items()}
        self.layout_ = layout
        self.target_ndim_ = target.ndim
        self.n_features_ = features.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets, (N,) or (N, n_targets) as y was in ``fit``."""
        return _predict_from_features(self, X)
