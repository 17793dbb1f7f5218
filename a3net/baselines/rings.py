"""Chapter F baselines: a PCA + SVM ring counter, a Hough-transform circle fit, and the
least-squares circle and ellipse fits a physicist would use.

All take ring images (N, 1, H, W) as the networks do. ``PCASVMCounter`` is a scikit-learn
classifier, so ``sklearn.base.clone``, ``cross_val_score`` and ``KFold`` work on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.draw import circle_perimeter
from skimage.measure import EllipseModel
from skimage.transform import hough_circle, hough_circle_peaks
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from .._validation import as_float_array, check_positive_int, check_targets


def _check_images(images, name="images") -> np.ndarray:
    arr = as_float_array(images, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {arr.shape}.")
    return arr


def flatten_images(images) -> np.ndarray:
    """Images (N, C, H, W) as pixel vectors (N, C * H * W), float32."""
    arr = np.asarray(images, np.float32)
    return arr.reshape(len(arr), -1)


class PCASVMCounter(ClassifierMixin, BaseEstimator):
    """Ring counter: pixels -> PCA (``n_components``) -> standardise -> RBF support-vector machine.

    ``fit(X, y)`` takes images X (N, C, H, W) and class indices y (N,) as for ``RingCounterCNN``
    (class k = k + 1 rings); ``predict(X)`` returns class indices (N,), ``score`` the accuracy.
    Fitted attributes: ``pipeline_`` (flatten, PCA, StandardScaler, SVC), ``classes_``,
    ``image_shape_`` (C, H, W) and ``variance_kept_`` (fraction of the pixel variance that the
    principal components keep).
    """

    def __init__(
        self,
        n_components: int = 40,
        C: float = 10.0,
        gamma: str | float = "scale",
        random_state: int | None = 0,
    ):
        self.n_components = n_components
        self.C = C
        self.gamma = gamma
        self.random_state = random_state

    def fit(self, X, y) -> PCASVMCounter:
        """Fit on images X (N, C, H, W) and class indices y (N,); returns self."""
        x = _check_images(X, "X")
        n_components = check_positive_int(self.n_components, "n_components")
        n_pixels = int(np.prod(x.shape[1:]))
        if n_components > min(len(x), n_pixels):
            raise ValueError(
                f"n_components={n_components} exceeds what {len(x)} images of {n_pixels} pixels "
                "allow; lower it."
            )
        labels = check_targets(y, len(x), "y", classification=True)
        self.pipeline_ = Pipeline(
            [
                ("flatten", FunctionTransformer(flatten_images)),
                ("pca", PCA(n_components=n_components, random_state=self.random_state)),
                ("scale", StandardScaler()),
                ("svm", SVC(C=self.C, gamma=self.gamma, random_state=self.random_state)),
            ]
        ).fit(x, labels)
        self.classes_ = self.pipeline_.classes_
        self.image_shape_ = tuple(x.shape[1:])
        self.variance_kept_ = float(self.pipeline_["pca"].explained_variance_ratio_.sum())
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted class indices (N,) of images X (N, C, H, W)."""
        check_is_fitted(self, "pipeline_")
        x = _check_images(X, "X")
        if x.shape[1:] != self.image_shape_:
            raise ValueError(
                f"X must hold images of shape {self.image_shape_} as in fit, got {x.shape[1:]}."
            )
        return self.pipeline_.predict(x)


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
    images, *, radius_range=(3.0, 12.0), radius_step: float = 0.5, threshold: float = 0.3
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
    """
    arr, radii = _check_hough_args(images, radius_range, radius_step, threshold)
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


# --------------------------------------------------------------------------------------------
# Least-squares circle and ellipse fits: what a physicist would fit to a ring image.
# Pixel (row i, column j) covers [j - 0.5, j + 0.5] x [i - 0.5, i + 0.5], so its centre sits at
# the integer coordinates x = j, y = i (not j + 0.5: that would shift every centre by half a pixel).

FIT_COLUMNS = ("x", "y", "radius", "failed")
ELLIPSE_FIT_COLUMNS = ("x", "y", "semi_major", "semi_minor", "orientation", "failed")


def _check_ring_images(images, name: str = "images") -> np.ndarray:
    arr = as_float_array(images, name)
    if arr.ndim != 4 or arr.shape[1] != 1:
        raise ValueError(f"{name} must have shape (N, 1, H, W) (one channel), got {arr.shape}.")
    return arr


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}.")
    if not 0 <= value < 1:
        raise ValueError(
            f"{name} must be in [0, 1) (images scaled to a maximum of 1), got {value!r}."
        )
    return float(value)


def _check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}.")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of pixels, got {value!r}.")
    return float(value)


def _check_range(value, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high) of pixels, got {value!r}.") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
        raise ValueError(f"{name} must be (low, high) with 0 <= low < high, got {value!r}.")
    return lo, hi


def _seed_circles(arr: np.ndarray, seed) -> np.ndarray:
    """Seed circles (N, 3) float64 (x, y, radius; NaN where none): Hough, or the given table."""
    if seed is None:
        return hough_ring_fit(arr).to_numpy(np.float64)
    if not isinstance(seed, pd.DataFrame):
        raise TypeError(
            f"seed must be None (Hough seeds) or a DataFrame with columns x, y, radius, got "
            f"{type(seed).__name__}."
        )
    missing = [c for c in ("x", "y", "radius") if c not in seed.columns]
    if missing:
        raise ValueError(f"seed lacks the columns {missing}; it needs x, y and radius (px).")
    if len(seed) != len(arr):
        raise ValueError(f"seed has {len(seed)} rows but images has {len(arr)}; they must match.")
    return seed[["x", "y", "radius"]].to_numpy(np.float64)  # NaN rows become failures


def _solve3(m: np.ndarray, rhs: np.ndarray):
    """Batched 3x3 solves: singular or non-finite systems give NaN and ok=False, not an error."""
    finite = np.isfinite(m).all(axis=(1, 2)) & np.isfinite(rhs).all(axis=1)
    m = np.where(finite[:, None, None], m, np.eye(3))
    scale = np.einsum("nii->n", m)
    ok = finite & (np.abs(np.linalg.det(m)) > 1e-12 * np.abs(scale) ** 3)
    safe_m = np.where(ok[:, None, None], m, np.eye(3))
    safe_rhs = np.where(ok[:, None], rhs, 0.0)
    out = np.linalg.solve(safe_m, safe_rhs[:, :, None])[:, :, 0]
    out[~ok] = np.nan
    return out, ok


def _circle_least_squares(u, v, w, n_iterations: int):
    """Weighted circle fit to points (u, v) with weights w, all (N, P) float64, coordinates taken
    relative to a reference point near the circle's centre. An algebraic (Kasa 1976) fit, then
    ``n_iterations`` Gauss-Newton steps of the geometric fit, min sum w (|p - c| - R)^2.
    Returns (uc, vc, radius, ok), each (N,)."""
    a = np.stack([u, v, np.ones_like(u)], axis=-1)  # (N, P, 3)
    z = u**2 + v**2
    m = np.einsum("np,npi,npj->nij", w, a, a)
    coef, ok = _solve3(m, -np.einsum("np,npi,np->ni", w, a, z))
    uc, vc = -coef[:, 0] / 2, -coef[:, 1] / 2
    with np.errstate(invalid="ignore"):
        r = np.sqrt(uc**2 + vc**2 - coef[:, 2])
    ok &= np.isfinite(r) & (r > 0)
    for _ in range(n_iterations):
        du, dv = u - uc[:, None], v - vc[:, None]
        rho = np.maximum(np.hypot(du, dv), 1e-9)
        jac = np.stack([-du / rho, -dv / rho, -np.ones_like(du)], axis=-1)
        res = rho - r[:, None]
        step, good = _solve3(
            np.einsum("np,npi,npj->nij", w, jac, jac), -np.einsum("np,npi,np->ni", w, jac, res)
        )
        ok &= good
        uc, vc, r = uc + step[:, 0], vc + step[:, 1], r + step[:, 2]
    ok &= np.isfinite(uc) & np.isfinite(vc) & np.isfinite(r) & (r > 0)
    return uc, vc, np.abs(r), ok


def circle_fit_points(x, y, weights=None, *, n_iterations: int = 10) -> pd.DataFrame:
    """Least-squares circle through points: x, y (N, P) in px, one row of P points per circle,
    optional ``weights`` (N, P) >= 0 (0 drops a point; NaN coordinates need weight 0).

    The algebraic (Kasa) fit seeds ``n_iterations`` Gauss-Newton steps of the geometric fit,
    min sum w (|p - c| - R)^2, batched over rows. Returns a DataFrame with columns x, y, radius
    (px) and failed (bool: fewer than 3 points, singular or non-finite; parameters then NaN).
    """
    px = as_float_array(x, "x", allow_nan=True).astype(np.float64)
    py = as_float_array(y, "y", allow_nan=True).astype(np.float64)
    if px.ndim != 2 or py.shape != px.shape:
        raise ValueError(
            f"x and y must be arrays of the same shape (N, P), got {px.shape} and {py.shape}."
        )
    if weights is None:
        w = np.isfinite(px) & np.isfinite(py)
        w = w.astype(np.float64)
    else:
        w = as_float_array(weights, "weights").astype(np.float64)
        if w.shape != px.shape:
            raise ValueError(f"weights must have the shape of x, {px.shape}, got {w.shape}.")
        if (w < 0).any():
            raise ValueError("weights must be non-negative.")
        if (~(np.isfinite(px) & np.isfinite(py)) & (w > 0)).any():
            raise ValueError("x and y contain NaN where weights are positive; give those weight 0.")
    n_iterations = check_positive_int(n_iterations, "n_iterations", minimum=0)
    px, py = np.where(w > 0, px, 0.0), np.where(w > 0, py, 0.0)
    total = w.sum(axis=1)
    enough = ((w > 0).sum(axis=1) >= 3) & (total > 0)
    w = w / np.where(total > 0, total, 1.0)[:, None]
    x0 = np.where(enough, (w * px).sum(axis=1), 0.0)
    y0 = np.where(enough, (w * py).sum(axis=1), 0.0)
    uc, vc, r, ok = _circle_least_squares(px - x0[:, None], py - y0[:, None], w, n_iterations)
    return _fit_table(np.column_stack([x0 + uc, y0 + vc, r]), ~(ok & enough), FIT_COLUMNS)


def _fit_table(params: np.ndarray, failed: np.ndarray, columns) -> pd.DataFrame:
    params = np.where(failed[:, None], np.nan, params)
    table = pd.DataFrame(params, columns=list(columns[:-1]))
    table["failed"] = failed
    return table


def _lit_pixels(arr, seeds, threshold: float, annulus: float):
    """Pixel grids (P,) and the mask (N, P) of pixels above ``threshold`` times the image maximum
    that lie within ``annulus`` px of the seed circle."""
    n, _, h, w = arr.shape
    rows, cols = np.indices((h, w))
    gx, gy = cols.ravel().astype(np.float64), rows.ravel().astype(np.float64)
    flat = arr.reshape(n, -1).astype(np.float64)
    peak = flat.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        dist = np.abs(np.hypot(gx[None] - seeds[:, :1], gy[None] - seeds[:, 1:2]) - seeds[:, 2:3])
        lit = (flat > threshold * peak) & (peak > 0) & (dist <= annulus)
    return gx, gy, flat, lit


def circle_fit(
    images,
    *,
    seed=None,
    threshold: float = 0.1,
    annulus: float = 4.0,
    n_rounds: int = 4,
    radius_range=(1.5, 20.0),
    max_shift: float = 4.0,
    min_pixels: int = 8,
    n_iterations: int = 5,
) -> pd.DataFrame:
    """Centre and radius [px] of one ring per image (N, 1, H, W) by an intensity-weighted
    least-squares circle fit, seeded by the Hough transform.

    Seeds come from ``hough_ring_fit`` unless ``seed`` (a DataFrame with x, y, radius, one row
    per image) is given. Each of ``n_rounds`` rounds fits the pixels brighter than ``threshold``
    times the image maximum within ``annulus`` px of the current circle (the seed, then the last
    round's fit; far noise hits are dropped), at their centres (x = column, y = row: integer
    coordinates), weighted by intensity: an algebraic (Kasa) fit, then ``n_iterations``
    Gauss-Newton steps of the geometric fit, min sum w (|p - c| - R)^2, batched over images.
    Returns a DataFrame with columns x, y, radius (px) and failed (bool). A fit fails, with NaN
    parameters, on a missing seed, fewer than ``min_pixels`` lit pixels, a singular or
    non-finite solution, a radius outside ``radius_range``, or a round moving the centre or the
    radius more than ``max_shift`` px from the circle that selected its pixels (a diverged fit).
    """
    arr = _check_ring_images(images)
    threshold = _check_fraction(threshold, "threshold")
    annulus = _check_positive(annulus, "annulus")
    max_shift = _check_positive(max_shift, "max_shift")
    r_lo, r_hi = _check_range(radius_range, "radius_range")
    n_rounds = check_positive_int(n_rounds, "n_rounds")
    min_pixels = check_positive_int(min_pixels, "min_pixels", minimum=3)
    n_iterations = check_positive_int(n_iterations, "n_iterations", minimum=0)
    seeds = _seed_circles(arr, seed)
    ok = np.isfinite(seeds).all(axis=1)
    current = seeds.copy()
    for _ in range(n_rounds):
        gx, gy, flat, lit = _lit_pixels(arr, current, threshold, annulus)
        ok &= lit.sum(axis=1) >= min_pixels
        w = np.where(lit & ok[:, None], flat, 0.0)
        w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
        x0, y0 = np.nan_to_num(current[:, 0]), np.nan_to_num(current[:, 1])
        uc, vc, r, good = _circle_least_squares(
            gx[None] - x0[:, None], gy[None] - y0[:, None], w, n_iterations
        )
        with np.errstate(invalid="ignore"):
            ok &= good & (r >= r_lo) & (r <= r_hi)
            ok &= (np.hypot(uc, vc) <= max_shift) & (np.abs(r - current[:, 2]) <= max_shift)
        current = np.column_stack([x0 + uc, y0 + vc, r])
        current[~ok] = np.nan
    return _fit_table(current, ~ok, FIT_COLUMNS)


_FIT_ROTATION = 0.5  # rad; see _estimate_ellipse


def _estimate_ellipse(xy: np.ndarray):
    """scikit-image's EllipseModel on points (P, 2): (xc, yc, a, b, theta) or None on failure;
    axis a lies at angle theta from +x towards +y (checked on scikit-image 0.26).

    The points are fitted rotated by ``_FIT_ROTATION`` about their mean and the result rotated
    back: on points symmetric about the axes (a ring centred on a pixel or pixel corner) the conic
    has equal x^2 and y^2 coefficients, where scikit-image 0.26 divides by zero and can return
    the orientation 90 degrees off."""
    origin = xy.mean(axis=0)
    c, s = np.cos(_FIT_ROTATION), np.sin(_FIT_ROTATION)
    rotation = np.array([[c, -s], [s, c]])
    points = (xy - origin) @ rotation.T
    try:
        with np.errstate(all="ignore"):
            if hasattr(EllipseModel, "from_estimate"):  # scikit-image >= 0.26
                model = EllipseModel.from_estimate(points)
                if not model:
                    return None
                centre, (a, b), theta = model.center, model.axis_lengths, model.theta
            else:  # older: estimate() in place, params = (xc, yc, a, b, theta)
                model = EllipseModel()
                if not model.estimate(points):
                    return None
                centre, (a, b), theta = model.params[:2], model.params[2:4], model.params[4]
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        return None
    xc, yc = np.asarray(centre, np.float64) @ rotation + origin
    return xc, yc, a, b, theta - _FIT_ROTATION


def _ridge_points(gx, gy, flat, lit, centre, n_bins: int):
    """Ridge points of each image: for each of ``n_bins`` azimuth sectors around ``centre``
    (N, 2), the intensity-weighted mean radius and azimuth of its lit pixels. Returns x, y
    (N, n_bins) and the mask of sectors that hold a lit pixel. Weighting a pixel by intensity
    weighs every hit once (a sector's pixel count grows with radius as the hit density per pixel
    falls), so the mean radius is the mean radius of the hits."""
    n = len(flat)
    du, dv = gx[None] - centre[:, :1], gy[None] - centre[:, 1:2]
    rho, phi = np.hypot(du, dv), np.arctan2(dv, du)
    sector = np.floor((phi + np.pi) / (2 * np.pi) * n_bins).astype(np.int64) % n_bins
    index = (np.arange(n)[:, None] * n_bins + sector)[lit]
    w = flat[lit]
    total = np.bincount(index, w, n * n_bins).reshape(n, n_bins)
    mean_rho = np.bincount(index, w * rho[lit], n * n_bins).reshape(n, n_bins)
    mean_cos = np.bincount(index, w * np.cos(phi[lit]), n * n_bins).reshape(n, n_bins)
    mean_sin = np.bincount(index, w * np.sin(phi[lit]), n * n_bins).reshape(n, n_bins)
    valid = total > 0
    safe = np.where(valid, total, 1.0)
    mean_rho /= safe
    angle = np.arctan2(mean_sin, mean_cos)
    return (
        centre[:, :1] + mean_rho * np.cos(angle),
        centre[:, 1:2] + mean_rho * np.sin(angle),
        valid,
    )


def ellipse_fit(
    images,
    *,
    seed=None,
    threshold: float = 0.1,
    annulus: float = 4.0,
    n_bins: int = 24,
    axis_range=(1.5, 25.0),
    max_shift: float = 3.0,
    min_points: int = 8,
) -> pd.DataFrame:
    """Centre, semi-axes [px] and orientation [rad] of one elliptical ring per image
    (N, 1, H, W) by scikit-image's ``EllipseModel`` (Halir & Flusser 1998).

    The seed circle is ``circle_fit(images)`` unless ``seed`` gives x, y, radius per image. The
    lit pixels are those brighter than ``threshold`` times the image maximum within ``annulus`` px
    of it, at their centres (x = column, y = row: integer coordinates). ``EllipseModel`` takes no
    weights, so the pixels are first reduced to ridge points, batched over images: in each of
    ``n_bins`` azimuth sectors around the seed centre, the intensity-weighted mean radius and
    azimuth of the lit pixels. The ellipse is then fitted to these, one image at a time. Returns
    a DataFrame with columns x, y, semi_major, semi_minor (semi_major >= semi_minor),
    orientation (direction of the major axis from +x towards +y, in [0, pi)) and failed (bool;
    parameters NaN) for a missing seed, fewer than ``min_points`` ridge points, a failed
    estimate, axes outside ``axis_range`` or a centre more than ``max_shift`` px from the seed.
    """
    arr = _check_ring_images(images)
    threshold = _check_fraction(threshold, "threshold")
    annulus = _check_positive(annulus, "annulus")
    max_shift = _check_positive(max_shift, "max_shift")
    a_lo, a_hi = _check_range(axis_range, "axis_range")
    n_bins = check_positive_int(n_bins, "n_bins", minimum=8)
    min_points = check_positive_int(min_points, "min_points", minimum=5)
    if seed is None:
        seeds = circle_fit(arr)[["x", "y", "radius"]].to_numpy(np.float64)
    else:
        seeds = _seed_circles(arr, seed)
    gx, gy, flat, lit = _lit_pixels(arr, seeds, threshold, annulus)
    px, py, valid = _ridge_points(gx, gy, flat, lit, np.nan_to_num(seeds[:, :2]), n_bins)
    enough = np.isfinite(seeds).all(axis=1) & (valid.sum(axis=1) >= min_points)
    out = np.full((len(arr), 5), np.nan)
    for i in np.flatnonzero(enough):
        fit = _estimate_ellipse(np.column_stack([px[i, valid[i]], py[i, valid[i]]]))
        if fit is not None:
            out[i] = fit
    xc, yc, a, b, theta = out.T
    semi_major, semi_minor = np.maximum(a, b), np.minimum(a, b)
    orientation = np.mod(np.where(a >= b, theta, theta + np.pi / 2), np.pi)
    with np.errstate(invalid="ignore"):
        ok = enough & np.isfinite(out).all(axis=1) & (semi_minor >= a_lo) & (semi_major <= a_hi)
        ok &= np.hypot(xc - seeds[:, 0], yc - seeds[:, 1]) <= max_shift
    params = np.column_stack([xc, yc, semi_major, semi_minor, orientation])
    return _fit_table(params, ~ok, ELLIPSE_FIT_COLUMNS)
