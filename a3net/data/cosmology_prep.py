"""Preprocessing of cosmology map stacks (chapters E and H), pure NumPy and vectorised.

Maps are (N, C, S, S) arrays, channels first (e.g. C = 2: Mtot and P), float32 out. The usual
chain: :func:`remove_map_mean` (optional, on the linear maps), :func:`log_maps`, then a
:class:`MapStandardiser` fitted on the training maps only; targets go through a
:class:`ParameterScaler`; :func:`split_by_simulation` keeps the 15 maps of a simulation in one
set. The maps of a periodic box have no preferred orientation and no edges, so the 8 symmetries of
the square (:func:`dihedral_transform`, :func:`random_dihedral`, :func:`dihedral_average`) and
periodic padding (:func:`periodic_pad`) change nothing the parameters depend on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .camels_files import LOG_UNIFORM, PARAMETER_NAMES, PARAMETER_RANGES

__all__ = [
    "N_DIHEDRAL",
    "MapStandardiser",
    "ParameterScaler",
    "dihedral_average",
    "dihedral_transform",
    "log_maps",
    "periodic_pad",
    "random_dihedral",
    "remove_map_mean",
    "split_by_simulation",
]

N_DIHEDRAL = 8
"""Elements of the symmetry group of the square (4 rotations, each with or without a flip)."""

_RANGE_TOLERANCE = 1e-6
_STATS_CHUNK = 2048  # maps per pass when accumulating the standardiser's variance


def _check_maps(maps, name: str = "maps", *, square: bool = False) -> np.ndarray:
    """``maps`` as a float32 (N, C, H, W) array (not yet checked for NaN)."""
    arr = np.asarray(maps)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array (N, C, S, S), got dtype {arr.dtype}.")
    if arr.ndim != 4 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (N, C, S, S) (channels first, N >= 1), got {arr.shape}."
        )
    if square and arr.shape[2] != arr.shape[3]:
        raise ValueError(f"{name} must hold square maps, got H x W = {arr.shape[2:]}.")
    return arr.astype(np.float32, copy=False)


# ----------------------------------------------------------------------------------------------
# Pixel values
# ----------------------------------------------------------------------------------------------


def log_maps(maps) -> np.ndarray:
    """log10 of positive maps (N, C, S, S): float32 of the same shape.

    ValueError naming the number of non-positive and NaN/infinite values in each channel.
    """
    arr = _check_maps(maps)
    not_finite = ~np.isfinite(arr)
    non_positive = arr <= 0  # False for NaN
    if not_finite.any() or non_positive.any():
        per_nan = not_finite.sum(axis=(0, 2, 3))
        per_neg = non_positive.sum(axis=(0, 2, 3))
        parts = [
            f"{int(per_neg[c])} non-positive and {int(per_nan[c])} NaN or infinite values in "
            f"channel {c}"
            for c in range(arr.shape[1])
            if per_nan[c] or per_neg[c]
        ]
        raise ValueError(
            f"maps has {'; '.join(parts)} (of {arr.shape[1]} channels), but log10 needs values "
            "> 0: add a small positive floor (np.maximum(maps, floor)) or check the field."
        )
    return np.log10(arr)


def remove_map_mean(maps, *, return_means: bool = False):
    """Every map (N, C, S, S) divided by its own mean, channel by channel: float32 maps of mean 1
    (the overdensity 1 + delta for a density field).

    Why: the mean of a real Mtot map is Omega_m x RHO_CRIT x the slab thickness (5 Mpc/h), so a
    network could read Omega_m off the mean level alone instead of learning it from the
    structure; dividing by the mean removes that shortcut. Apply it to the linear (positive)
    maps, before :func:`log_maps`. ``return_means=True`` also returns the means (N, C) float64.
    """
    arr = _check_maps(maps)
    means = arr.mean(axis=(2, 3), dtype=np.float64)
    good = np.isfinite(means) & (means > 0)
    if not good.all():
        channels = sorted({int(c) for c in np.nonzero(~good)[1]})
        raise ValueError(
            f"maps has {int((~good).sum())} maps (channels {channels}) whose mean is not "
            "positive and finite; remove_map_mean divides by the mean, so apply it to the linear "
            "maps (before log_maps) and clean NaN first."
        )
    out = (arr / means[:, :, None, None]).astype(np.float32)
    return (out, means) if return_means else out


class MapStandardiser:
    """Per-channel standardisation of maps: (maps - mean_c) / std_c with the mean and standard
    deviation of each channel over all training maps and pixels (``fit``).

    Fit it on the training maps only, so that nothing of the validation and test maps leaks in.
    ``mean_`` and ``std_``: float64 (C,) after ``fit``.
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, maps) -> MapStandardiser:
        """Learn the per-channel mean and std of ``maps`` (N, C, S, S); returns self."""
        arr = _check_maps(maps)
        if not np.isfinite(arr).all():
            raise ValueError(
                "maps contains NaN or infinite values; take the log of positive maps and clean "
                "them before fitting."
            )
        mean = arr.mean(axis=(0, 2, 3), dtype=np.float64)
        sq = np.zeros(arr.shape[1])
        for start in range(0, len(arr), _STATS_CHUNK):  # chunks of maps, not one map at a time
            part = arr[start : start + _STATS_CHUNK].astype(np.float64) - mean[None, :, None, None]
            sq += np.einsum("ncij,ncij->c", part, part)
        std = np.sqrt(sq / (arr.shape[0] * arr.shape[2] * arr.shape[3]))
        if np.any(std == 0):
            raise ValueError(
                f"channels {np.flatnonzero(std == 0).tolist()} of maps are constant (std 0) and "
                "cannot be standardised; drop them or check the field."
            )
        self.mean_, self.std_ = mean, std
        return self

    def _check_fitted(self, arr: np.ndarray) -> None:
        if self.mean_ is None:
            raise ValueError(
                "this MapStandardiser is not fitted yet; call fit(train_maps) first (on the "
                "training maps only)."
            )
        if arr.shape[1] != len(self.mean_):
            raise ValueError(
                f"maps has {arr.shape[1]} channels but the standardiser was fitted on "
                f"{len(self.mean_)}; pass maps with the same channels in the same order."
            )

    def transform(self, maps) -> np.ndarray:
        """Standardised maps, float32 (N, C, S, S)."""
        arr = _check_maps(maps)
        self._check_fitted(arr)
        mean = self.mean_.astype(np.float32)[None, :, None, None]
        std = self.std_.astype(np.float32)[None, :, None, None]
        return (arr - mean) / std

    def fit_transform(self, maps) -> np.ndarray:
        """``fit(maps)`` then ``transform(maps)``."""
        return self.fit(maps).transform(maps)

    def inverse_transform(self, maps) -> np.ndarray:
        """Standardised maps back to the fitted scale, float32 (N, C, S, S)."""
        arr = _check_maps(maps)
        self._check_fitted(arr)
        mean = self.mean_.astype(np.float32)[None, :, None, None]
        std = self.std_.astype(np.float32)[None, :, None, None]
        return arr * std + mean

    def __repr__(self) -> str:
        if self.mean_ is None:
            return "MapStandardiser(not fitted)"
        return f"MapStandardiser(mean={np.round(self.mean_, 4)}, std={np.round(self.std_, 4)})"


# ----------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------


class ParameterScaler:
    """Physical parameters <-> standardised regression targets, from the known LH prior ranges.

    A uniform parameter x in [low, high] becomes sqrt(3) (x - mid) / half-width, which has mean 0
    and variance 1 under the prior; a log-uniform one (the feedback amplitudes, LOG_UNIFORM) gets
    the same map applied to ln x. ``names``: the parameters, in target-column order (default
    Omega_m and sigma_8). No fitting is needed: the ranges are those of the simulations.
    """

    def __init__(self, names=PARAMETER_NAMES[:2]):
        if isinstance(names, str):
            names = (names,)
        try:
            names = tuple(names)
        except TypeError:
            raise TypeError(
                f"names must be a sequence of parameter names, got {names!r}."
            ) from None
        if not names:
            raise ValueError("names is empty; pass parameter names such as ('omega_m', 'sigma_8').")
        unknown = [n for n in names if n not in PARAMETER_NAMES]
        if unknown:
            raise ValueError(
                f"names has unknown parameters {unknown}; choose from {', '.join(PARAMETER_NAMES)}."
            )
        if len(set(names)) != len(names):
            raise ValueError(f"names lists a parameter twice, got {names}; list each once.")
        self.names = names
        self.log_uniform = np.array([n in LOG_UNIFORM for n in names])
        self.low = np.array([PARAMETER_RANGES[n][0] for n in names], dtype=np.float64)
        self.high = np.array([PARAMETER_RANGES[n][1] for n in names], dtype=np.float64)
        lo = np.where(self.log_uniform, np.log(self.low), self.low)
        hi = np.where(self.log_uniform, np.log(self.high), self.high)
        self._centre = (lo + hi) / 2
        self._scale = (hi - lo) / (2 * np.sqrt(3.0))  # the prior's standard deviation

    @property
    def prior_std(self) -> np.ndarray:
        """Standard deviation of each parameter under its prior (in ln for log-uniform ones):
        a standardised error times this is the error in physical (or ln) units."""
        return self._scale.copy()

    @property
    def ranges(self) -> dict:
        """name -> (low, high) of the parameters this scaler handles."""
        return {
            n: (float(a), float(b)) for n, a, b in zip(self.names, self.low, self.high, strict=True)
        }

    def _table(self, params) -> np.ndarray:
        """``params`` as float64 (N, k) in ``names`` order."""
        k = len(self.names)
        if isinstance(params, pd.DataFrame):
            missing = [n for n in self.names if n not in params.columns]
            if missing:
                raise ValueError(
                    f"params has no columns {missing}; its columns are {list(params.columns)}."
                )
            arr = params[list(self.names)].to_numpy(dtype=np.float64)
        else:
            try:
                arr = np.asarray(params, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"params must be a numeric array or a DataFrame, got {type(params).__name__}."
                ) from None
            if arr.ndim == 1 and k == 1:
                arr = arr[:, None]
            if arr.ndim == 2 and arr.shape[1] == len(PARAMETER_NAMES) and k != arr.shape[1]:
                arr = arr[:, [PARAMETER_NAMES.index(n) for n in self.names]]
            if arr.ndim != 2 or arr.shape[1] != k:
                raise ValueError(
                    f"params must have shape (N, {k}) for {', '.join(self.names)} (or (N, 6) "
                    f"with all parameters, or a DataFrame), got {arr.shape}."
                )
        if not np.isfinite(arr).all():
            raise ValueError("params contains NaN or infinite values; drop those rows first.")
        return arr

    def transform(self, params) -> np.ndarray:
        """Physical parameters (N, k), (N, 6) or a DataFrame -> standardised targets float32
        (N, k). ValueError for a value outside its prior range."""
        arr = self._table(params)
        slack = _RANGE_TOLERANCE * np.abs(self.high)
        outside = (arr < self.low - slack) | (arr > self.high + slack)
        if outside.any():
            j = int(np.flatnonzero(outside.any(axis=0))[0])
            col = arr[:, j]
            raise ValueError(
                f"params: {int(outside[:, j].sum())} values of {self.names[j]} lie outside its "
                f"prior range [{self.low[j]}, {self.high[j]}] (from {col.min():.4g} to "
                f"{col.max():.4g}); check the column order ({', '.join(self.names)}) and units."
            )
        u = np.where(self.log_uniform, np.log(np.clip(arr, 1e-300, None)), arr)
        return ((u - self._centre) / self._scale).astype(np.float32)

    def inverse_transform(self, targets) -> np.ndarray:
        """Standardised targets (N, k) -> physical parameters float64 (N, k) (no range check:
        predictions may fall outside the prior)."""
        try:
            z = np.asarray(targets, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"targets must be a numeric array, got {type(targets).__name__}."
            ) from None
        k = len(self.names)
        if z.ndim == 1 and k == 1:
            z = z[:, None]
        if z.ndim != 2 or z.shape[1] != k:
            raise ValueError(f"targets must have shape (N, {k}), got {z.shape}.")
        u = z * self._scale + self._centre
        return np.where(self.log_uniform, np.exp(u), u)

    def __repr__(self) -> str:
        return f"ParameterScaler(names={self.names})"


def split_by_simulation(sim_id, fractions=(0.7, 0.2, 0.1), seed: int = 0):
    """Indices (train, val, test) of the maps, split by simulation: the maps of one simulation
    are all in one set. ``fractions`` count simulations; sorted int64 arrays."""
    from .splits import train_val_test_split

    ids = sim_id.to_numpy() if isinstance(sim_id, pd.Series) else np.asarray(sim_id)
    return train_val_test_split(None, ids, fractions, stratify=False, seed=seed)


# ----------------------------------------------------------------------------------------------
# Symmetries and padding
# ----------------------------------------------------------------------------------------------


def _check_element(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < N_DIHEDRAL:
        raise ValueError(f"k must be a whole number in 0..7 (an element of the group), got {k!r}.")
    return int(k)


def _dihedral(arr: np.ndarray, k: int) -> np.ndarray:
    out = np.rot90(arr, k % 4, axes=(-2, -1))
    return out[..., ::-1] if k >= 4 else out


def dihedral_transform(maps, k: int) -> np.ndarray:
    """Element ``k`` (0..7) of the square's symmetry group applied to maps (..., S, S): ``k % 4``
    quarter turns counter-clockwise (``np.rot90`` on the last two axes), then a left-right flip
    if ``k >= 4``. k = 0 is the identity. Returns a float32 copy of the same shape."""
    k = _check_element(k)
    arr = np.asarray(maps)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"maps must end with two equal spatial axes (S, S), got {arr.shape}.")
    return np.ascontiguousarray(_dihedral(arr, k), dtype=np.float32)


def random_dihedral(maps, *, seed, return_elements: bool = False):
    """Maps (N, C, S, S), each transformed by its own random element of the group (the same
    for all channels of a map): float32 of the same shape. ``seed``: int or
    ``numpy.random.Generator``. With ``return_elements`` also the elements (N,) int64.
    Vectorised: the maps are grouped by element (8 array operations)."""
    from .._validation import check_seed

    arr = _check_maps(maps, square=True)
    seed = check_seed(seed, generator=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    elements = rng.integers(0, N_DIHEDRAL, size=len(arr))
    out = np.empty_like(arr)
    for k in range(N_DIHEDRAL):  # one vectorised operation per group element
        picked = np.flatnonzero(elements == k)
        if picked.size:
            out[picked] = _dihedral(arr[picked], k)
    return (out, elements.astype(np.int64)) if return_elements else out


def dihedral_average(predict_fn, maps) -> np.ndarray:
    """Test-time augmentation: the mean of ``predict_fn`` over the 8 transforms of ``maps``
    (N, C, S, S). ``predict_fn`` takes maps and returns an array with N rows (e.g. (N, k)
    parameters); returns float32 of that shape."""
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}.")
    arr = _check_maps(maps, square=True)
    total = None
    for k in range(N_DIHEDRAL):
        pred = np.asarray(predict_fn(_dihedral(arr, k).copy()), dtype=np.float64)
        if pred.ndim == 0 or len(pred) != len(arr):
            raise ValueError(
                f"predict_fn must return one prediction per map ({len(arr)} rows), got shape "
                f"{pred.shape}."
            )
        if total is None:
            total = pred.copy()
        elif pred.shape != total.shape:
            raise ValueError(
                f"predict_fn returned shape {pred.shape} for element {k} but {total.shape} "
                "before; it must return the same shape for every transform."
            )
        else:
            total += pred
    return (total / N_DIHEDRAL).astype(np.float32)


def periodic_pad(maps, width: int) -> np.ndarray:
    """Maps (..., H, W) padded by ``width`` pixels on each side of the two spatial axes with the
    pixels from the opposite edge (a periodic box): float32 (..., H + 2 width, W + 2 width)."""
    arr = np.asarray(maps)
    if arr.ndim < 2:
        raise ValueError(f"maps must have at least two (spatial) axes, got shape {arr.shape}.")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 0:
        raise ValueError(f"width must be a whole number of pixels >= 0, got {width!r}.")
    if width > min(arr.shape[-2:]):
        raise ValueError(
            f"width={width} is larger than the maps ({arr.shape[-2]} x {arr.shape[-1]}); a "
            "periodic pad can wrap around at most once."
        )
    pad = [(0, 0)] * (arr.ndim - 2) + [(width, width), (width, width)]
    return np.pad(arr.astype(np.float32, copy=False), pad, mode="wrap")
