"""Halos in the cosmic web: pixel classes, saliency per class, and masking a class (chapter H).

Hack H read its network's saliency maps and concluded that it uses "halos in filaments rather
than cosmic web nodes". Testing that needs three things this module provides, NumPy only:

1. **Pixel classes** (:func:`halo_web_labels`): a T-web of the projected mass map
   (:func:`a3net.cosmic_web.classify_web`, smoothed on the scale of filaments) gives each
   pixel a region, void, filament or node; the halos of the map (the rows of
   :func:`a3net.data.cosmology.halos_in_maps`) are painted over it, each halo with the region
   of the pixel its centre lies in. The six classes of ``HALO_WEB_CLASSES``:

   * ``"void"``, ``"filament"``, ``"node"``: pixels of that region outside every halo;
   * ``"void halo"``, ``"filament halo"``, ``"node halo"``: pixels within ``halo_radius``
     R200c of the centre of a halo whose centre lies in a region of that type, always
     including the pixel that holds the centre (at 0.78 Mpc/h per pixel most halos are
     smaller than a pixel). Where two halos overlap, the more massive one owns the pixel.

2. **Saliency per class** (:func:`class_saliency_sums`, :func:`class_ratios`): every map's
   |saliency| divided by its own mean, so that each map weighs the same; summed per class and
   map. A class's ratio is its mean normalised saliency per pixel: 1 for a class that gets
   the map's average, above 1 for a class the network is more sensitive to. The sums and
   pixel counts per map let :func:`a3net.evaluation.bootstrap.group_bootstrap` resample whole
   simulations.

3. **Masking** (:func:`background_maps`, :func:`mask_classes`, :func:`random_mask_like`): the
   pixels of a class replaced by a local background, the map smoothed with every halo pixel
   left out (a normalised convolution), so that an ablation removes the halos and keeps the
   web around them; a mask of as many random pixels per map is the control.

Pixel coordinates are those of :func:`a3net.data.cosmology.halos_in_maps`: ``px`` runs along
a map's first array axis and ``py`` along its second, in pixels, with the centre of pixel ``i``
at ``i``; a halo at (px, py) sits in ``map[round(px) % S, round(py) % S]``. Maps are periodic,
as the boxes they come from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from ._validation import check_seed
from .cosmic_web import WEB_TYPES, classify_web

__all__ = [
    "HALO_COLUMNS",
    "HALO_WEB_CLASSES",
    "background_maps",
    "class_ratios",
    "class_saliency_sums",
    "halo_web_labels",
    "mask_classes",
    "random_mask_like",
]

HALO_WEB_CLASSES = ("void", "filament", "node", "void halo", "filament halo", "node halo")
HALO_COLUMNS = ("map_index", "px", "py", "radius_px", "mass")


def _positive(value, name: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not zero):
        relation = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be a finite number {relation}, got {value!r}.")
    return value


def _maps(value, name: str, *, channels: bool = False) -> np.ndarray:
    """float64 (N, S, S), or (N, C, S, S) with ``channels``; finite, square, non-empty."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}.") from None
    if not channels and arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    want = 4 if channels else 3
    if arr.ndim != want:
        shape = "(N, C, S, S)" if channels else "(N, S, S) or (N, 1, S, S)"
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass at least one map.")
    if arr.shape[-1] != arr.shape[-2] or arr.shape[-1] < 2:
        raise ValueError(f"{name} must hold square maps of at least 2 x 2 pixels, got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def _labels(labels, n_classes: int, shape=None) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.ndim == 4 and lab.shape[1] == 1:
        lab = lab[:, 0]
    if lab.ndim != 3 or (shape is not None and lab.shape != shape):
        want = f"{shape}" if shape is not None else "(N, S, S)"
        raise ValueError(f"labels must have shape {want} (one class per pixel), got {lab.shape}.")
    if not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must be integer classes, got dtype {lab.dtype}.")
    if lab.size and (lab.min() < 0 or lab.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0 .. {n_classes - 1}, got {lab.min()} .. {lab.max()}."
        )
    return lab


def _halo_table(halos, n_maps: int) -> pd.DataFrame:
    if not isinstance(halos, pd.DataFrame):
        raise TypeError(
            "halos must be a pandas DataFrame with columns "
            f"{', '.join(HALO_COLUMNS)} (a3net.data.cosmology.halos_in_maps), "
            f"got {type(halos).__name__}."
        )
    missing = [c for c in HALO_COLUMNS if c not in halos.columns]
    if missing:
        raise ValueError(
            f"halos lacks the columns {', '.join(missing)}; pass the rows of "
            "a3net.data.cosmology.halos_in_maps."
        )
    table = halos.loc[:, list(HALO_COLUMNS)]
    values = table.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("halos holds NaN or infinite values in " + ", ".join(HALO_COLUMNS) + ".")
    index = table["map_index"].to_numpy()
    if np.any(index != np.round(index)) or np.any((index < 0) | (index >= n_maps)):
        raise ValueError(
            f"halos' map_index must be whole numbers from 0 to {n_maps - 1} (rows of maps), got "
            f"{index.min():g} .. {index.max():g}; select the halos of the maps you pass."
        )
    if np.any(table["radius_px"].to_numpy() < 0) or np.any(table["mass"].to_numpy() <= 0):
        raise ValueError("halos need radius_px >= 0 and mass > 0.")
    return table


def halo_web_labels(
    maps, halos, *, box_size: float = 25.0, smoothing: float = 1.5, threshold: float = 0.2,
    halo_radius: float = 1.0, min_mass: float = 0.0, log: bool = False,
) -> np.ndarray:  # fmt: skip
    """The class of every pixel (``HALO_WEB_CLASSES``), int8 (N, S, S).

    ``maps``: (N, S, S) or (N, 1, S, S) projected mass maps (positive), the density channel
    only; ``halos``: a DataFrame with one row per halo and the columns ``map_index`` (row of
    ``maps``), ``px``, ``py`` (centre in pixels along the first and second array axes, pixel
    ``i`` centred at ``i``: see the module's docstring), ``radius_px``
    (R200c in pixels) and ``mass`` [Msun/h], as :func:`a3net.data.cosmology.halos_in_maps`
    returns them; halos lighter than ``min_mass`` are left out. The web regions come from
    :func:`a3net.cosmic_web.classify_web` with ``box_size`` [Mpc/h], ``smoothing`` [Mpc/h],
    ``threshold`` and ``log``. A halo owns the pixel its centre lies in and every pixel whose
    centre lies within ``halo_radius`` * R200c of its centre (periodic); its class is
    ``"<region> halo"`` for the region of its centre's pixel. Where footprints overlap the more
    massive halo wins.
    """
    dens = _maps(maps, "maps")
    n, s = dens.shape[0], dens.shape[-1]
    table = _halo_table(halos, n)
    radius_factor = _positive(halo_radius, "halo_radius", zero=True)
    floor_mass = _positive(min_mass, "min_mass", zero=True)
    web = classify_web(dens, box_size=box_size, smoothing=smoothing, threshold=threshold, log=log)
    labels = web.astype(np.int8)
    table = table[table["mass"].to_numpy() >= floor_mass]
    if table.empty:
        return labels
    table = table.sort_values("mass", kind="stable")  # lightest first: heavier ones paint over
    m = table["map_index"].to_numpy().astype(np.int64)
    px = table["px"].to_numpy()
    py = table["py"].to_numpy()
    radius = radius_factor * table["radius_px"].to_numpy()
    row0 = np.round(px).astype(np.int64) % s  # px: first axis (rows), pixel i centred at i
    col0 = np.round(py).astype(np.int64) % s
    region = web[m, row0, col0].astype(np.int64)
    halo_class = len(WEB_TYPES) + region  # void halo, filament halo, node halo
    reach = int(np.ceil(min(radius.max(), s / 2))) + 1
    offsets = np.arange(-reach, reach + 1)
    d_row, d_col = (o.ravel() for o in np.meshgrid(offsets, offsets, indexing="ij"))
    rows = row0[:, None] + d_row[None, :]
    cols = col0[:, None] + d_col[None, :]
    dy = rows - px[:, None]
    dx = cols - py[:, None]
    inside = (np.hypot(dx, dy) <= radius[:, None]) | ((d_row == 0) & (d_col == 0))[None, :]
    rank = np.broadcast_to(np.arange(len(table))[:, None], inside.shape)[inside]
    flat = (m[:, None] * s + rows % s) * s + cols % s
    flat = flat[inside]
    owner = np.full(n * s * s, -1, dtype=np.int64)
    np.maximum.at(owner, flat, rank)  # the heaviest halo that reaches the pixel
    painted = owner >= 0
    out = labels.reshape(-1)
    out[painted] = halo_class[owner[painted]]
    return out.reshape(n, s, s)


def class_saliency_sums(saliency, labels, *, n_classes: int = len(HALO_WEB_CLASSES)):
    """Per-map sums of normalised |saliency| and pixel counts per class: two (N, K) float64.

    ``saliency``: (N, S, S) or (N, C, S, S) (absolute values, channels summed); ``labels``:
    (N, S, S) integer classes 0 .. ``n_classes`` - 1. Every map is divided by its mean, so
    that its pixels average 1; a map whose saliency is zero everywhere (a network blind to
    it) gets zero sums and zero counts and drops out of every ratio.
    """
    sal = np.abs(_maps(saliency, "saliency", channels=np.ndim(saliency) == 4 and
                       np.shape(saliency)[1] > 1))  # fmt: skip
    if sal.ndim == 4:
        sal = sal.sum(axis=1)
    lab = _labels(labels, n_classes, sal.shape)
    n = sal.shape[0]
    mean = sal.mean(axis=(1, 2))
    alive = mean > 0
    norm = np.where(alive[:, None, None], sal / np.where(alive, mean, 1.0)[:, None, None], 0.0)
    index = (np.arange(n)[:, None, None] * n_classes + lab).ravel()
    sums = np.bincount(index, norm.ravel(), minlength=n * n_classes).reshape(n, n_classes)
    counts = np.bincount(index, minlength=n * n_classes).reshape(n, n_classes).astype(float)
    counts[~alive] = 0.0
    return sums, counts


def class_ratios(sums, counts) -> np.ndarray:
    """Mean normalised saliency per pixel of each class, (K,): pooled over the rows of
    :func:`class_saliency_sums` (sum of sums over sum of counts); NaN for a class with no
    pixel. Pass resampled rows to bootstrap it."""
    sums = np.asarray(sums, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if sums.shape != counts.shape or sums.ndim != 2:
        raise ValueError(
            f"sums and counts must be (N, K) arrays of the same shape, got {sums.shape} and "
            f"{counts.shape}."
        )
    total = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sums.sum(axis=0) / np.where(total > 0, total, 1.0), np.nan)


def background_maps(maps, exclude, *, smoothing_px: float = 2.0) -> np.ndarray:
    """Each map smoothed without its ``exclude`` pixels: float32, the shape of ``maps``.

    ``maps``: (N, C, S, S), positive or not; ``exclude``: boolean (N, S, S), the pixels to leave
    out (e.g. every halo pixel), the same for all channels. A normalised convolution with a
    periodic Gaussian of ``smoothing_px`` pixels: smooth(map * keep) / smooth(keep), so that
    a masked pixel gets the weighted mean of the kept pixels around it. Where no kept pixel is
    near (the weight falls below 1e-6), the map's mean over its kept pixels is used.
    """
    arr = _maps(maps, "maps", channels=True)
    sigma = _positive(smoothing_px, "smoothing_px")
    drop = np.asarray(exclude)
    if drop.dtype != bool or drop.shape != (arr.shape[0], *arr.shape[2:]):
        raise ValueError(
            f"exclude must be a boolean mask of shape {(arr.shape[0], *arr.shape[2:])}, got "
            f"{drop.dtype} {drop.shape}."
        )
    keep = (~drop).astype(np.float64)
    if not keep.reshape(len(keep), -1).any(axis=1).all():
        raise ValueError("exclude leaves some map without a single pixel to estimate from.")
    blur = (0, sigma, sigma)
    weight = ndimage.gaussian_filter(keep, blur, mode="wrap")
    out = np.empty_like(arr)
    for c in range(arr.shape[1]):
        num = ndimage.gaussian_filter(arr[:, c] * keep, blur, mode="wrap")
        fallback = (arr[:, c] * keep).sum(axis=(1, 2)) / keep.sum(axis=(1, 2))
        out[:, c] = np.where(
            weight > 1e-6, num / np.maximum(weight, 1e-300), fallback[:, None, None]
        )
    return out.astype(np.float32)


def mask_classes(maps, labels, classes, background) -> np.ndarray:
    """``maps`` (N, C, S, S) with the pixels whose label is in ``classes`` (an int or a sequence
    of ints; or a boolean (N, S, S) mask given as ``labels`` with ``classes=None``) replaced by
    ``background`` (same shape as ``maps``, e.g. :func:`background_maps`), in every channel.
    float32."""
    arr = _maps(maps, "maps", channels=True)
    back = _maps(background, "background", channels=True)
    if back.shape != arr.shape:
        raise ValueError(f"background must have the maps' shape {arr.shape}, got {back.shape}.")
    lab = np.asarray(labels)
    if classes is None:
        if lab.dtype != bool:
            raise TypeError("with classes=None, labels must be a boolean mask of the pixels.")
        hit = lab
    else:
        chosen = np.atleast_1d(np.asarray(classes))
        if not np.issubdtype(chosen.dtype, np.integer):
            raise TypeError(f"classes must be integers (indices of classes), got {classes!r}.")
        hit = np.isin(_labels(lab, max(int(lab.max()) + 1, 1)), chosen)
    if hit.shape != (arr.shape[0], *arr.shape[2:]):
        raise ValueError(
            f"labels must have shape {(arr.shape[0], *arr.shape[2:])}, got {hit.shape}."
        )
    return np.where(hit[:, None], back, arr).astype(np.float32)


def random_mask_like(mask, *, seed: int = 0, allowed=None) -> np.ndarray:
    """A boolean (N, S, S) mask with as many pixels per map as ``mask``, drawn at random
    (without replacement) among the ``allowed`` pixels of that map (all by default): the
    control of a masking ablation. Same seed, same mask."""
    hit = np.asarray(mask)
    if hit.dtype != bool or hit.ndim != 3:
        raise ValueError(f"mask must be a boolean (N, S, S) array, got {hit.dtype} {hit.shape}.")
    pool = np.ones_like(hit) if allowed is None else np.asarray(allowed)
    if pool.dtype != bool or pool.shape != hit.shape:
        raise ValueError(f"allowed must be a boolean mask of shape {hit.shape}.")
    need = hit.reshape(len(hit), -1).sum(axis=1)
    have = pool.reshape(len(pool), -1).sum(axis=1)
    if np.any(need > have):
        raise ValueError("some map has fewer allowed pixels than the mask to match.")
    rng = np.random.default_rng(check_seed(seed))
    keys = rng.random(hit.shape).reshape(len(hit), -1)
    keys[~pool.reshape(len(pool), -1)] = np.inf
    order = np.argsort(keys, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(order.shape[1])[None, :], axis=1)
    return (ranks < need[:, None]).reshape(hit.shape)
