"""Chapter F: how well can a ring's centre and radius be measured at all? The Fisher
information of one hit about the ring radius and the Cramer-Rao bounds [px] it sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .._validation import as_float_array

__all__ = ["circle_cramer_rao", "ring_fisher_information"]


def _check_ring_widths(thickness, deformation):
    t = np.asarray(as_float_array(np.atleast_1d(thickness), "thickness"), np.float64)
    d = np.asarray(as_float_array(np.atleast_1d(deformation), "deformation"), np.float64)
    if np.any(t <= 0):
        raise ValueError("thickness must be positive (the Gaussian spot width, px).")
    if np.any(d < 0):
        raise ValueError("deformation must be non-negative (the half-width d of U(-d, d), px).")
    try:
        return np.broadcast_arrays(t, d)
    except ValueError:
        raise ValueError(
            f"thickness and deformation must broadcast together, got shapes {t.shape} and "
            f"{d.shape}."
        ) from None


def ring_fisher_information(thickness, deformation, *, n_points: int = 2001) -> np.ndarray:
    """Fisher information [px^-2] of one hit's radial position about the ring radius.

    A hit lands at radius R + U(-d, d) (``deformation`` d, px) blurred by a Gaussian of sd t
    (``thickness``, px), so its offset r from R has the density
    p(r) = [Phi((r + d) / t) - Phi((r - d) / t)] / (2 d), and I = integral p'(r)^2 / p(r) dr,
    integrated numerically (to better than 0.1%) on grids that resolve the two edges at +-d.
    Broadcasts over arrays of t and d; returns float64 of the broadcast shape. Limits: d = 0 gives
    the Gaussian 1 / t^2; t << d gives about 0.903 / (t d) (a sharp-edged uniform density carries
    unbounded information). For comparison the variance is t^2 + d^2 / 3.
    """
    t, d = _check_ring_widths(thickness, deformation)
    shape = np.broadcast_shapes(np.shape(thickness), np.shape(deformation))
    t, d = t.ravel(), d.ravel()
    # p is even in r: integrate over r >= 0 and double. Grid A covers the flat top [0, d - 10 t],
    # grid B the edge [max(d - 10 t, 0), d + 10 t], both with n_points nodes per element.
    s = np.linspace(0.0, 1.0, n_points)
    edge = np.maximum(d - 10 * t, 0.0)
    r = np.concatenate(
        [edge[:, None] * s, edge[:, None] + (d + 10 * t - edge)[:, None] * s], axis=1
    )
    tt, dd = t[:, None], d[:, None]
    gauss = dd < 1e-6 * tt
    dd = np.where(gauss, 1.0, dd)  # d ~ 0 would divide 0 by 0: those rows get 1 / t^2 below
    # Upper-tail form Q(z) = ndtr(-z) keeps p accurate far in the tails (no 1 - 1 cancellation).
    p = (ndtr(-(r - dd) / tt) - ndtr(-(r + dd) / tt)) / (2 * dd)
    dp = (np.exp(-0.5 * ((r + dd) / tt) ** 2) - np.exp(-0.5 * ((r - dd) / tt) ** 2)) / (
        2 * dd * tt * np.sqrt(2 * np.pi)
    )
    integrand = np.divide(dp**2, p, out=np.zeros_like(p), where=p > 0)
    info = 2 * np.trapezoid(integrand, r, axis=1)
    info = np.where(gauss[:, 0], 1.0 / t**2, info)
    return info.reshape(shape)


def circle_cramer_rao(photons, thickness, deformation) -> pd.DataFrame:
    """Cramer-Rao lower bounds [px] on the standard deviations of a ring's centre and radius.

    For N = ``photons`` hits at uniform azimuth phi_k, each at radial offset r_k from the circle
    with density p (see ``ring_fisher_information``: Fisher information I per hit), the hit's
    log-likelihood depends on (x0, y0, R) through r_k = |hit_k - (x0, y0)| - R, whose gradient is
    -(cos phi_k, sin phi_k, 1). The information matrix is therefore
    F = I sum_k (cos phi_k, sin phi_k, 1) (cos phi_k, sin phi_k, 1)^T, whose average over uniform
    azimuths is N I diag(1/2, 1/2, 1): var(x0) = var(y0) = 2 / (N I) and var(R) = 1 / (N I).

    This bounds an estimator that sees the hit positions with resolution t (``thickness``);
    noise hits and pixelisation are ignored, so a fit to pixel images can only do worse. Inputs
    broadcast together; returns a DataFrame (one row per element) with columns x, y, radius.
    """
    n = np.asarray(as_float_array(np.atleast_1d(photons), "photons"), np.float64)
    if np.any(n <= 0):
        raise ValueError("photons must be positive (the number of hits on the ring).")
    info = ring_fisher_information(thickness, deformation)
    try:
        n, info = np.broadcast_arrays(n, info)
    except ValueError:
        raise ValueError(
            f"photons, thickness and deformation must broadcast together, got shapes "
            f"{np.shape(photons)}, {np.shape(thickness)} and {np.shape(deformation)}."
        ) from None
    centre = np.sqrt(2.0 / (n * info)).ravel()
    return pd.DataFrame({"x": centre, "y": centre, "radius": np.sqrt(1.0 / (n * info)).ravel()})
