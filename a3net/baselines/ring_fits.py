"""Least-squares circle and ellipse fits to ring images, seeded by the Hough transform.

``circle_fit`` (an intensity-weighted algebraic fit refined by Gauss-Newton steps on the geometric
distances), ``circle_fit_points`` (the same on raw points) and ``ellipse_fit`` (scikit-image's
``EllipseModel``) each return a DataFrame with a ``failed`` column, so that failures are counted
apart from errors. Images are (N, 1, H, W).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.measure import EllipseModel

from .._validation import as_float_array, check_positive_int
from .hough import hough_ring_fit

# --------------------------------------------------------------------------------------------
# Least-squares circle and ellipse fits: what a physicist would fit to a ring image.
# Pixel (row i, column j) covers [j - 0.5, j + 0.5] x [i - 0.5, i + 0.5], so its centre sits at
# the integer coordinates x = j, y = i (not j + 0.5: that would shift every centre by half a pixel).

FIT_COLUMNS = ("x", "y", "radius", "failed")
ELLIPSE_FIT_COLUMNS = ("x", "y", "semi_major", "semi_minor", "orientation", "failed")
SEED_SMOOTHING = 1.5
"""Gaussian width [px] by which the Hough seeds' images are blurred: photon-count images hold
sparse single hits, and a blur lets the vote see the band where they crowd."""


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
        return hough_ring_fit(arr, smooth=SEED_SMOOTHING).to_numpy(np.float64)
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

    Seeds come from ``hough_ring_fit(images, smooth=SEED_SMOOTHING)`` unless ``seed`` (a
    DataFrame with x, y, radius, one row per image) is given. Each of ``n_rounds`` rounds fits
    the pixels brighter than ``threshold`` times the image maximum within ``annulus`` px of the
    current circle (the seed, then the last round's fit; far noise hits are dropped), at their
    centres (x = column, y = row: integer
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
