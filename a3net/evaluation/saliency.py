"""Reading saliency maps: normalisation, radial profiles, core versus outskirts (NumPy only).

Maps are what ``models.saliency`` returns (``models = a3net.framework()``): non-negative float
arrays (N, C, H, W), one map per image. Radii are in pixels from the image centre, pixel centres
at integer coordinates (column x, row y), the default centre ((W - 1) / 2, (H - 1) / 2); a pixel
belongs to a region by the distance of its centre.

"Does the network weigh the outskirts more than the core?" has two answers, and they differ:

* per pixel (a surface density): the mean saliency of a pixel in the annulus against the mean
  of a pixel in the core. ``radial_profile`` and ``outskirt_to_core_ratio(per_pixel=True)``.
* total share: the fraction of the whole map inside a region, ``enclosed_fraction`` and
  ``outskirt_to_core_ratio(per_pixel=False)``. An annulus r_core < r < 3 r_core has 8 times the
  core's area, so a flat map already gives it 8 times the core's share.

The module also holds the framework-free part of ``saliency`` (the method checks, the noisy
and path inputs, their averages), shared by ``a3net.torch`` and ``a3net.keras``.
"""

from __future__ import annotations

import numpy as np

from .._engine.contract import saliency_unit
from .._validation import as_float_array, check_positive_int, check_seed

__all__ = [
    "SALIENCY_METHODS",
    "enclosed_fraction",
    "normalise_maps",
    "outskirt_to_core_ratio",
    "radial_profile",
]

SALIENCY_METHODS = ("gradient", "smoothgrad", "integrated_gradients")


# --- the shared part of saliency(): both frameworks supply only two small callbacks ---------


def _check_saliency_options(method, n_samples, noise, steps, batch_size):
    if method not in SALIENCY_METHODS:
        raise ValueError(
            f"method must be one of {', '.join(map(repr, SALIENCY_METHODS))}, got {method!r}."
        )
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a whole number of at least 1, got {n_samples!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a whole number of at least 1, got {steps!r}.")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float, np.integer, np.floating))
        or not np.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(
            f"noise must be a finite number >= 0 (a fraction of each image's max - min), "
            f"got {noise!r}."
        )
    check_positive_int(batch_size, "batch_size")


def _check_baseline(baseline, x: np.ndarray) -> np.ndarray:
    """The integrated-gradients baseline broadcast to x's shape: zeros by default."""
    if baseline is None:
        return np.zeros_like(x)
    b = np.asarray(baseline, dtype=np.float32)
    if b.shape not in ((), x.shape[1:], x.shape):
        raise ValueError(
            f"baseline must be a number, one sample of shape {x.shape[1:]} or an array of x's "
            f"shape {x.shape}, got shape {b.shape}."
        )
    if not np.isfinite(b).all():
        raise ValueError("baseline contains NaN or infinite values.")
    return np.broadcast_to(b, x.shape)


def _attribution_maps(
    x, task, outputs, gradients, *, output, batch_size, method, n_samples, noise, steps,
    baseline, seed, signed,
):  # fmt: skip
    """Saliency maps of checked float32 inputs ``x`` (N, ...) for one framework.

    ``outputs(xb)`` gives the model's outputs (B, K) as NumPy; ``gradients(xb, units)`` gives
    d out[i, units[i]] / d xb[i] (B, ...) as NumPy, ``units=None`` meaning each row's argmax.
    ``x`` goes through in chunks of whole images; each chunk's noisy copies (smoothgrad) or path
    points (integrated gradients) are stacked and sent ``batch_size`` rows at a time.
    """
    _check_saliency_options(method, n_samples, noise, steps, batch_size)
    base = _check_baseline(baseline, x) if method == "integrated_gradients" else None
    n_outputs = outputs(x[:1]).shape[1]
    index = saliency_unit(task, output, n_outputs)
    copies = {"gradient": 1, "smoothgrad": int(n_samples), "integrated_gradients": int(steps)}
    copies = copies[method]
    per_chunk = max(1, batch_size // copies)
    rng = np.random.default_rng(check_seed(seed, generator=True, none=True))
    alphas = ((np.arange(copies) + 0.5) / copies).astype(np.float32)  # Riemann midpoints
    maps = []
    for start in range(0, len(x), per_chunk):
        xc = x[start : start + per_chunk]
        m, tail = len(xc), xc.shape[1:]
        if method == "gradient" and index is None:
            units = None  # the predicted class, from the same forward pass
        elif index is None:
            units = np.argmax(outputs(xc), axis=1)
        else:
            units = np.full(m, index, dtype=np.int64)
        if method == "gradient":
            maps.append(gradients(xc, units))
            continue
        if method == "smoothgrad":
            flat = xc.reshape(m, -1)
            sigma = noise * (flat.max(axis=1) - flat.min(axis=1))
            eps = rng.standard_normal((m, copies, *tail), dtype=np.float32)
            stacked = xc[:, None] + eps * sigma.reshape(m, 1, *[1] * len(tail)).astype(np.float32)
        else:
            bc = base[start : start + m]
            shape = (1, copies) + (1,) * len(tail)
            stacked = bc[:, None] + alphas.reshape(shape) * (xc - bc)[:, None]
        stacked = stacked.reshape(m * copies, *tail)
        rows = np.repeat(units, copies)
        grads = np.concatenate(
            [
                gradients(stacked[s : s + batch_size], rows[s : s + batch_size])
                for s in range(0, len(stacked), batch_size)
            ]
        )
        mean = grads.reshape(m, copies, *tail).mean(axis=1, dtype=np.float64)
        if method == "integrated_gradients":
            mean = (xc - bc) * mean
        maps.append(mean.astype(np.float32))
    maps = np.concatenate(maps).astype(np.float32)
    return maps if signed else np.abs(maps)


# --- reading the maps ------------------------------------------------------------------------


def _check_maps(maps, name: str = "maps") -> np.ndarray:
    arr = as_float_array(maps, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got an array of shape {arr.shape}.")
    if np.any(arr < 0):
        raise ValueError(
            f"{name} must be non-negative (absolute saliency); take np.abs of signed maps first."
        )
    return arr


def normalise_maps(maps) -> np.ndarray:
    """Each map (C, H, W) of ``maps`` (N, C, H, W) divided by its own sum: float32, every map
    summing to 1. Maps that sum to zero (a dead gradient) raise ValueError."""
    arr = _check_maps(maps)
    totals = arr.sum(axis=(1, 2, 3), dtype=np.float64)
    dead = np.flatnonzero(totals <= 0)
    if dead.size:
        raise ValueError(
            f"{dead.size} of {len(arr)} maps sum to zero (indices {dead[:5].tolist()}...) and "
            "cannot be normalised; drop them first."
        )
    return (arr / totals[:, None, None, None]).astype(np.float32)


def _radii(shape, centre) -> np.ndarray:
    """Distance [px] of every pixel centre of an (H, W) image from ``centre`` (x, y)."""
    h, w = shape
    if centre is None:
        cx, cy = (w - 1) / 2, (h - 1) / 2
    else:
        try:
            cx, cy = (float(c) for c in centre)
        except (TypeError, ValueError):
            raise ValueError(f"centre must be a pair (x, y) in pixels, got {centre!r}.") from None
    y, x = np.mgrid[0:h, 0:w]
    return np.hypot(x - cx, y - cy)


def _per_map_radius(value, n: int, name: str) -> np.ndarray:
    r = np.asarray(value, dtype=np.float64)
    if r.ndim == 0:
        r = np.full(n, float(r))
    if r.shape != (n,):
        raise ValueError(f"{name} must be a number or an array of shape ({n},) (one per map), "
                         f"got shape {r.shape}.")  # fmt: skip
    if not np.isfinite(r).all() or np.any(r <= 0):
        raise ValueError(f"{name} must be positive and finite (pixels).")
    return r


def _annulus_edges(shape, centre, n_bins, r_max) -> np.ndarray:
    """Edges [px] of the profile's annuli: n_bins equal ones out to r_max if both are given,
    else 1 px wide (n_bins of them, or out to r_max rounded down, or, with neither, out to
    the largest circle inside the image)."""
    if n_bins is not None:
        n_bins = check_positive_int(n_bins, "n_bins")
    if r_max is not None:
        if not isinstance(r_max, (int, float, np.integer, np.floating)) or not (
            np.isfinite(r_max) and r_max >= (1 if n_bins is None else 0) and r_max > 0
        ):
            raise ValueError(
                f"r_max must be a positive number of pixels (at least 1 for 1-px annuli), "
                f"got {r_max!r}."
            )
        if n_bins is not None:
            return np.linspace(0.0, float(r_max), n_bins + 1)
        return np.arange(int(np.floor(r_max)) + 1, dtype=np.float64)
    if n_bins is None:
        h, w = shape
        cx, cy = ((w - 1) / 2, (h - 1) / 2) if centre is None else (float(c) for c in centre)
        inscribed = min(cx + 0.5, w - 0.5 - cx, cy + 0.5, h - 0.5 - cy)
        n_bins = max(1, int(np.floor(inscribed)))
    return np.arange(n_bins + 1, dtype=np.float64)


def radial_profile(maps, *, centre=None, n_bins=None, r_max=None):
    """Mean saliency per pixel of the normalised maps against the distance from the centre.

    Every 2-D map of ``maps`` (N, C, H, W) is normalised to unit sum over its sample (C, H, W),
    then averaged per pixel within annuli [r_k, r_(k+1)); the N * C maps are stacked. The
    annuli are 1 px wide, out to the largest circle inside the image by default, to ``r_max``
    [px] (rounded down) or ``n_bins`` of them; with both, ``n_bins`` equal annuli out to
    ``r_max``. Returns float64 arrays ``(r_centres [px], mean per pixel (n_bins,), standard
    error of that mean over the N * C maps (n_bins,))``; annuli with no pixel centre are NaN,
    and so is the standard error of a single map.
    """
    arr = normalise_maps(maps).astype(np.float64)
    n, c, h, w = arr.shape
    r = _radii((h, w), centre)
    edges = _annulus_edges((h, w), centre, n_bins, r_max)
    n_bins = len(edges) - 1
    k = np.digitize(r.ravel(), edges) - 1  # annulus of each pixel, -1 or n_bins: outside
    inside = (k >= 0) & (k < n_bins)
    member = np.zeros((h * w, n_bins))
    member[np.flatnonzero(inside), k[inside]] = 1.0
    counts = member.sum(axis=0)
    sums = arr.reshape(n * c, h * w) @ member  # (N * C, n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_pixel = sums / counts
    mean = per_pixel.mean(axis=0)
    if n * c > 1:
        sem = per_pixel.std(axis=0, ddof=1) / np.sqrt(n * c)
    else:
        sem = np.full(n_bins, np.nan)
    return 0.5 * (edges[1:] + edges[:-1]), mean, sem


def enclosed_fraction(maps, radius, *, centre=None) -> np.ndarray:
    """Share (N,) of each normalised map within ``radius`` [px] of the centre (pixel centres
    at r < radius), summed over channels. ``radius`` is one number or one per map (N,), e.g.
    0.15 R500 in pixels for each cluster. A flat map gives the area fraction."""
    arr = normalise_maps(maps).astype(np.float64)
    n = len(arr)
    rad = _per_map_radius(radius, n, "radius")
    r = _radii(arr.shape[2:], centre)
    masks = r[None] < rad[:, None, None]  # (N, H, W)
    return np.einsum("nchw,nhw->n", arr, masks.astype(np.float64))


def outskirt_to_core_ratio(maps, r_core, r_outer, *, per_pixel: bool = True, centre=None):
    """Per map (N,): saliency in the annulus r_core <= r < r_outer against the core r < r_core.

    ``per_pixel=True`` (default) divides the mean saliency per pixel of the two regions (a ratio
    of surface densities: above 1 means an outskirt pixel matters more than a core pixel);
    ``per_pixel=False`` divides their total shares, which also grows with the annulus' area.
    ``r_core`` and ``r_outer`` [px] are numbers or arrays (N,) (e.g. 0.15 and 1 R500 per
    cluster); only pixels inside the image count. A core with zero saliency gives inf (NaN
    if the annulus is zero too).
    """
    arr = _check_maps(maps).astype(np.float64)
    n = len(arr)
    core_r = _per_map_radius(r_core, n, "r_core")
    outer_r = _per_map_radius(r_outer, n, "r_outer")
    if np.any(outer_r <= core_r):
        raise ValueError("r_outer must be larger than r_core for every map.")
    r = _radii(arr.shape[2:], centre)[None]
    core = (r < core_r[:, None, None]).astype(np.float64)
    ring = ((r >= core_r[:, None, None]) & (r < outer_r[:, None, None])).astype(np.float64)
    n_core, n_ring = core.sum(axis=(1, 2)), ring.sum(axis=(1, 2))
    if np.any(n_core == 0) or np.any(n_ring == 0):
        raise ValueError(
            "the core or the annulus holds no pixel centre for some maps; make r_core at least "
            "1 px and r_outer - r_core at least 1 px."
        )
    s_core = np.einsum("nchw,nhw->n", arr, core)
    s_ring = np.einsum("nchw,nhw->n", arr, ring)
    if per_pixel:
        s_core, s_ring = s_core / n_core, s_ring / n_ring
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s_core > 0, s_ring / s_core, np.where(s_ring > 0, np.inf, np.nan))
