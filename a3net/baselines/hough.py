"""The Hough transform for rings (Duda & Hart 1972), batched over images.

``hough_ring_fit`` votes with FFT convolutions of the edge images by circle-perimeter kernels, and
picks peaks exactly as scikit-image's ``hough_circle_peaks`` does (the reference loop
``_hough_ring_fit_loop`` is kept for the tests and the benchmark). Images are (N, 1, H, W).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.draw import circle_perimeter
from skimage.transform import hough_circle, hough_circle_peaks

from .._validation import as_float_array


def _check_hough_args(images, radius_range, radius_step, threshold):
    """Validated images (N, 1, H, W) float32 and trial radii (R,) [px] of ``hough_ring_fit``."""
    arr = as_float_array(images, "images")
    if arr.ndim != 4 or arr.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {arr.shape}.")
    lo, hi = radius_range
    if not 0 < lo <= hi:
        raise ValueError(
            f"radius_range must be (low, high) with 0 < low <= high, got {radius_range!r}."
        )
    if not radius_step > 0:
        raise ValueError(f"radius_step must be positive, got {radius_step!r}.")
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}.")
    return arr, np.arange(lo, hi + 1e-9, radius_step)


def _edge_maps(arr: np.ndarray, threshold: float) -> np.ndarray:
    """Edge maps (N, H, W) bool of images (N, 1, H, W): pixels above ``threshold`` times their
    image's maximum (none where that maximum is not positive)."""
    image = arr[:, 0]
    peak = image.max(axis=(1, 2), keepdims=True)
    return (image > threshold * peak) & (peak > 0)


def _hough_ring_fit_loop(
    images, *, radius_range=(3.0, 12.0), radius_step: float = 0.5, threshold: float = 0.3
) -> pd.DataFrame:
    """Reference for ``hough_ring_fit``: scikit-image's ``hough_circle`` and
    ``hough_circle_peaks`` image by image (about 45 images/s). Only for tests and benchmarks."""
    arr, radii = _check_hough_args(images, radius_range, radius_step, threshold)
    out = np.full((len(arr), 3), np.nan, np.float32)
    for i, edges in enumerate(_edge_maps(arr, threshold)):
        accumulator = hough_circle(edges, radii)
        _, cx, cy, r = hough_circle_peaks(accumulator, radii, total_num_peaks=1)
        if len(r):
            out[i] = cx[0], cy[0], r[0]
    return pd.DataFrame(out, columns=["x", "y", "radius"])


_HOUGH_CHUNK = 256  # images per batch: about 60 MB of accumulators at 28 x 28 pixels
_SLICE_CONNECTIVITY = np.zeros((3, 3, 3, 3), bool)
_SLICE_CONNECTIVITY[1, 1] = True  # 8-connected within each (image, radius) slice, not across


def _circle_kernels(int_radii: np.ndarray, grid: tuple[int, int]):
    """Spectra (U, Lh, Lw // 2 + 1) complex64 of scikit-image's vote kernels for integer radii
    (U,) [px]: the points of ``circle_perimeter(0, 0, r)``, repeats included, wrapped onto a
    (Lh, Lw) grid; and each kernel's number of points (U,), as ``hough_circle`` counts them."""
    kernels = np.zeros((len(int_radii), *grid), np.float32)
    counts = np.zeros(len(int_radii), np.intp)
    for u, radius in enumerate(int_radii):
        dy, dx = circle_perimeter(0, 0, int(radius))
        np.add.at(kernels[u], (dy % grid[0], dx % grid[1]), 1.0)
        counts[u] = len(dy)
    return np.fft.rfft2(kernels), counts


def _vote_values(counts: np.ndarray) -> np.ndarray:
    """Table (U, max count + 1) float64: [u, k] is k votes of 1 / counts[u] added one at a time,
    bit for bit the normalised accumulator value that ``hough_circle`` builds."""
    table = np.zeros((len(counts), counts.max() + 1))
    for u, n_points in enumerate(counts):
        table[u, 1 : n_points + 1] = np.cumsum(np.full(n_points, 1.0 / n_points))
    return table


def _hough_accumulators(edges, kernels, counts_table, grid) -> np.ndarray:
    """Normalised Hough accumulators (C, U, H, W) float64 of edge maps (C, H, W): votes by FFT
    convolution with the kernels, rounded to whole votes, then looked up in the table."""
    h, w = edges.shape[1:]
    spectra = np.fft.rfft2(edges.astype(np.float32), s=grid)
    votes = np.fft.irfft2(spectra[:, None] * kernels[None], s=grid)[..., :h, :w]
    votes = np.clip(np.rint(votes), 0, counts_table.shape[1] - 1).astype(np.intp)
    return counts_table[np.arange(len(kernels))[:, None, None], votes]


def _suppression_zones(y: np.ndarray, x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Flat pixel indices (P, 9) that scikit-image's ``_prominent_peaks`` zeroes around peaks
    at rows y and columns x (P,) of an (h, w) slice, -1 for none: the 3 x 3 neighbourhood
    without row 0 and rows past the edge, columns past an edge wrapped to the other side with
    the row reflected (it treats columns as angles)."""
    dy, dx = np.mgrid[-1:2, -1:2]
    yy, xx = y[:, None] + dy.ravel(), x[:, None] + dx.ravel()
    inside = (yy > 0) & (yy < h)
    wrap = (xx < 0) | (xx >= w)
    yy = np.where(wrap, h - yy, yy)
    xx = np.mod(xx, w)
    return np.where(inside, yy * w + xx, -1)


def _unsuppressed(group: np.ndarray, y: np.ndarray, x: np.ndarray, h: int, w: int):
    """Mask (P,) of the candidate peaks (in scikit-image's order, sorted by slice ``group``)
    that survive its neighbourhood suppression: a peak is dropped when its pixel lies in the
    zone of an earlier surviving peak of its slice. Rare conflicts are settled one by one."""
    zones = _suppression_zones(y, x, h, w)
    zone_keys = np.where(zones >= 0, group[:, None] * (h * w) + zones, -1)
    own = group * (h * w) + y * w + x
    position = np.arange(len(group))
    first = np.full(int(group.max(initial=0) + 1) * h * w, len(group))
    valid = zone_keys >= 0
    np.minimum.at(first, zone_keys[valid], np.broadcast_to(position[:, None], zones.shape)[valid])
    accepted = np.ones(len(group), bool)
    starts = np.searchsorted(group, group)
    for k in np.flatnonzero(first[own] < position):
        earlier = slice(starts[k], k)
        hit = (zones[earlier] == y[k] * w + x[k]).any(axis=1) & accepted[earlier]
        accepted[k] = not hit.any()
    return accepted


def _hough_first_peaks(acc: np.ndarray, which: np.ndarray):
    """The peak that ``hough_circle_peaks(..., total_num_peaks=1)`` returns for accumulators
    ``acc`` (C, U, H, W) of integer radii, trial radius j using acc[:, which[j]]: columns x,
    rows y and trial-radius indices j (C,) int, -1 where there is none.

    As scikit-image: per slice, the 8-connected plateaus of 3 x 3 local maxima above half the
    slice's maximum, placed at their rounded centroids, listed by falling value (ties: later
    plateau first), slices in trial-radius order; the winner is the last of ``np.argsort`` of
    their values, so ties between trial radii break exactly as there."""
    n, n_int, h, w = acc.shape
    local_max = ndimage.maximum_filter(acc, size=(1, 1, 3, 3), mode="constant", cval=0.0)
    threshold = 0.5 * acc.max(axis=(2, 3))
    mask = (acc == local_max) & (acc > threshold[..., None, None])
    labels, n_labels = ndimage.label(mask, structure=_SLICE_CONNECTIVITY)
    c, u, y, x = np.nonzero(mask)
    lab = labels[c, u, y, x] - 1
    size = np.bincount(lab, minlength=n_labels)
    py = np.round(np.bincount(lab, y, n_labels) / size).astype(np.intp)
    px = np.round(np.bincount(lab, x, n_labels) / size).astype(np.intp)
    pc, pu, level = np.empty(n_labels, np.intp), np.empty(n_labels, np.intp), np.empty(n_labels)
    pc[lab], pu[lab], level[lab] = c, u, local_max[c, u, y, x]
    order = np.lexsort((-np.arange(n_labels), -level, pu, pc))
    pc, pu, py, px = pc[order], pu[order], py[order], px[order]
    value = local_max[pc, pu, py, px]
    keep = value > threshold[pc, pu]
    pc, pu, py, px, value = pc[keep], pu[keep], py[keep], px[keep], value[keep]
    group = pc * n_int + pu
    accepted = _unsuppressed(group, py, px, h, w)
    group, py, px, value = group[accepted], py[accepted], px[accepted], value[accepted]
    # the peak list of trial radius j is that of its integer radius which[j]
    start = np.searchsorted(group, np.arange(n * n_int))
    length = np.diff(np.append(start, len(group))).reshape(n, n_int)[:, which]  # (C, J)
    start = start.reshape(n, n_int)[:, which]
    flat_len = length.ravel()
    offsets = np.cumsum(flat_len) - flat_len
    index = np.repeat(start.ravel() - offsets, flat_len) + np.arange(flat_len.sum())
    trial = np.repeat(np.tile(np.arange(len(which)), n), flat_len)
    bounds = np.append(0, np.cumsum(length.sum(axis=1)))
    best = np.full((3, n), -1, np.intp)
    for i in np.flatnonzero(np.diff(bounds)):
        k = bounds[i] + np.argsort(value[index[bounds[i] : bounds[i + 1]]])[-1]
        best[:, i] = px[index[k]], py[index[k]], trial[k]
    return best


def hough_ring_fit(
    images,
    *,
    radius_range=(3.0, 12.0),
    radius_step: float = 0.5,
    threshold: float = 0.3,
    smooth: float = 0.0,
) -> pd.DataFrame:
    """Centre and radius [px] of the strongest circle in each image (N, 1, H, W) by the Hough
    transform (Duda & Hart 1972).

    Pixels above ``threshold`` (images scaled to a maximum of 1) vote for circles of radii
    ``radius_range`` in steps of ``radius_step``; the best-voted circle wins. Returns a DataFrame
    with columns x, y, radius (pixels), NaN for an image without a positive pixel. Reproduces
    scikit-image's ``hough_circle`` (normalised) and ``hough_circle_peaks``, batched: votes by
    FFT convolution with its circle-perimeter kernels, 256 images at a time (thousands of
    images/s against about 45 for the image-by-image loop). As there, trial radii are truncated
    to whole pixels, so 3.0 and 3.5 vote alike and tie; ties break as in its peak sort.

    ``smooth`` > 0 first blurs each image with a Gaussian of that width [px] and rescales it to a
    maximum of 1: on photon-count images, whose lit pixels are single sparse hits, the threshold
    then keeps the band where hits crowd and drops isolated dark counts (1.5 px suits the
    chapter's rings).
    """
    arr, radii = _check_hough_args(images, radius_range, radius_step, threshold)
    if isinstance(smooth, bool) or not (
        np.isscalar(smooth) and np.isfinite(smooth) and smooth >= 0
    ):
        raise ValueError(f"smooth must be a Gaussian width >= 0 in pixels, got {smooth!r}.")
    if smooth > 0:
        arr = ndimage.gaussian_filter(arr, sigma=(0, 0, float(smooth), float(smooth)))
        peak = arr.max(axis=(1, 2, 3), keepdims=True)
        arr = np.divide(arr, peak, out=np.zeros_like(arr), where=peak > 0)
    n, _, h, w = arr.shape
    int_radii, which = np.unique(radii.astype(np.intp), return_inverse=True)
    grid = (h + int(int_radii[-1]), w + int(int_radii[-1]))  # no vote wraps into the image
    kernels, counts = _circle_kernels(int_radii, grid)
    table = _vote_values(counts)
    out = np.full((n, 3), np.nan, np.float32)
    for start in range(0, n, _HOUGH_CHUNK):
        edges = _edge_maps(arr[start : start + _HOUGH_CHUNK], threshold)
        x, y, j = _hough_first_peaks(_hough_accumulators(edges, kernels, table, grid), which)
        found = j >= 0
        out[start + np.flatnonzero(found)] = np.column_stack([x, y, radii[j]])[found]
    return pd.DataFrame(out, columns=["x", "y", "radius"])
