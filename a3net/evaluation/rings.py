"""Chapter F: how well can a ring be measured at all? The Fisher information of one hit about
the ring radius and the Cramer-Rao bounds [px] it sets for an estimator that sees every photon
(``circle_cramer_rao``), and the exact Fisher information of a photon-count image, pixels and
dark counts included, about all five ring parameters (``ring_image_fisher``,
``ring_image_cramer_rao``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import i0e, ndtr

from .._validation import as_float_array

__all__ = [
    "bound_controls",
    "circle_cramer_rao",
    "ring_fisher_information",
    "ring_image_cramer_rao",
    "ring_image_fisher",
    "ring_image_mean",
    "same_ring_labels",
]

IMAGE_PARAMETERS = ("x", "y", "radius", "thickness", "deformation")


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


def _areal_density(rho, radius, thickness, deformation, n_nodes: int = 32):
    """Photon density per px^2 at distances ``rho`` (B, P) from the ring centre, for rings (B,)
    whose photons sit at radius R + U(-d, d) and are displaced by N(0, t^2) in x and y.

    A ring of radius s blurred by an isotropic Gaussian has the density
    exp(-(rho - s)^2 / 2 t^2) I0e(rho s / t^2) / (2 pi t^2); it is averaged over s, uniform on
    [R - d, R + d], with the midpoint rule on ``n_nodes`` nodes (spacing 2 d / n_nodes).
    """
    t = thickness[:, None, None]
    u = (np.arange(n_nodes) + 0.5) / n_nodes * 2.0 - 1.0  # midpoints of [-1, 1]
    s = np.abs(radius[:, None] + deformation[:, None] * u[None, :])[:, None, :]  # (B, 1, S)
    r = rho[:, :, None]
    kernel = np.exp(-0.5 * ((r - s) / t) ** 2) * i0e(r * s / t**2) / (2 * np.pi * t**2)
    return kernel.mean(axis=2)


def _check_image_inputs(x, y, radius, thickness, deformation):
    t, d = _check_ring_widths(thickness, deformation)
    arrays = [
        np.asarray(as_float_array(np.atleast_1d(v), k), np.float64)
        for k, v in (("x", x), ("y", y), ("radius", radius))
    ]
    try:
        values = np.broadcast_arrays(*arrays, t, d)
    except ValueError:
        raise ValueError(
            "x, y, radius, thickness and deformation must broadcast together, got shapes "
            f"{[np.shape(v) for v in (x, y, radius, thickness, deformation)]}."
        ) from None
    values = [v.ravel() for v in values]
    if np.any(values[2] <= 0):
        raise ValueError("radius must be positive (px).")
    return values


def _sample_grid(image_size: int, subsamples: int):
    """Sample points (side^2,) x and y [px], ``subsamples`` per pixel and axis, and a function
    averaging values at those points (B, side^2) over each pixel -> (B, image_size^2)."""
    size, m = int(image_size), int(subsamples)
    if size < 1 or m < 1:
        raise ValueError(f"image_size and subsamples must be positive, got {size} and {m}.")
    grid = (np.arange(size * m) + 0.5) / m - 0.5
    gx, gy = np.meshgrid(grid, grid)  # rows are y

    def pixel_mean(values):
        blocks = values.reshape(len(values), size, m, size, m)
        return blocks.mean(axis=(2, 4)).reshape(len(values), size * size)

    return gx.ravel(), gy.ravel(), pixel_mean


class _RadialProfiles:
    """The areal density f(rho) of rings (B,) tabulated on one grid of distances per ring,
    [max(R - d - 8t, 0), R + d + 8t] with ``n_rho`` nodes, for the rings as given and with each
    of radius, thickness and deformation moved by +-h; read off at any distances by linear
    interpolation (zero outside the grid, where f < 1e-13 of its peak)."""

    def __init__(self, radius, t, d, h: float, n_rho: int = 256, moved: bool = True):
        self.lo = np.maximum(radius - d - 8 * t, 0.0)
        self.step = (radius + d + 8 * t - self.lo) / (n_rho - 1)
        rho = self.lo[:, None] + self.step[:, None] * np.arange(n_rho)
        self.n_rho = n_rho
        self.base = _areal_density(rho, radius, t, d)
        self.slope = np.gradient(self.base, axis=1) / self.step[:, None]  # df / drho
        self.moved = {}  # filled only when the derivatives are wanted (``moved``)
        for j, name in enumerate(("radius", "thickness", "deformation") if moved else ()):
            up, down = [radius, t, d], [radius, t, d]
            up[j] = up[j] + h
            down[j] = np.maximum(down[j] - h, 0.0)
            self.moved[name] = (
                _areal_density(rho, *up),
                _areal_density(rho, *down),
                up[j] - down[j],
            )

    def at(self, table, rho):
        """``table`` (B, n_rho) linearly interpolated at distances ``rho`` (B, P)."""
        position = (rho - self.lo[:, None]) / self.step[:, None]
        inside = (position >= 0) & (position <= self.n_rho - 1)
        i = np.clip(np.floor(position).astype(np.int64), 0, self.n_rho - 2)
        w = np.clip(position - i, 0.0, 1.0)
        left = np.take_along_axis(table, i, axis=1)
        right = np.take_along_axis(table, i + 1, axis=1)
        return np.where(inside, left + w * (right - left), 0.0)


def ring_image_mean(
    x,
    y,
    radius,
    thickness,
    deformation,
    *,
    photon_density: float = 3.0,
    noise_hits: float = 2.0,
    image_size: int = 28,
    subsamples: int = 6,
) -> np.ndarray:
    """Expected photon counts (N, image_size, image_size) of one-ring images (px inputs, as in
    ``ring_image_fisher``): lambda_ij = Nbar P_ij + noise_hits / size^2, whose Poisson draws are
    the simulator's un-normalised images with ``detector="photons"``."""
    x, y, radius, t, d = _check_image_inputs(x, y, radius, thickness, deformation)
    _check_rates(photon_density, noise_hits)
    gx, gy, pixel_mean = _sample_grid(image_size, subsamples)
    rho = np.hypot(gx[None] - x[:, None], gy[None] - y[:, None])
    profiles = _RadialProfiles(radius, t, d, h=1e-3, moved=False)
    shares = pixel_mean(profiles.at(profiles.base, rho))
    lam = photon_density * 2 * np.pi * radius[:, None] * shares + noise_hits / image_size**2
    return lam.reshape(len(x), image_size, image_size)


def _check_rates(photon_density, noise_hits):
    for name, value in (("photon_density", photon_density), ("noise_hits", noise_hits)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}.")
    if noise_hits <= 0:
        raise ValueError(
            "noise_hits must be positive: with no dark counts an empty pixel has zero expected "
            "count and the Fisher information is undefined there; use a tiny value such as 1e-6."
        )
    if photon_density <= 0:
        raise ValueError("photon_density must be positive (photons per px of ring).")


def ring_image_fisher(
    x,
    y,
    radius,
    thickness,
    deformation,
    *,
    photon_density: float = 3.0,
    noise_hits: float = 2.0,
    image_size: int = 28,
    subsamples: int = 6,
    chunk: int = 16,
) -> np.ndarray:
    """Fisher information (N, 5, 5) of a photon-count image of one ring about its
    ``IMAGE_PARAMETERS`` (x, y, radius, thickness, deformation; px).

    The image model of ``a3net.data.rings`` with ``detector="photons"``: a Poisson number of
    photons with mean Nbar = photon_density 2 pi R, each at radius R + U(-d, d) and uniform
    azimuth, displaced by N(0, t^2) in x and y, counted in 1 px pixels (pixel j covers
    [j - 0.5, j + 0.5]), plus Poisson(``noise_hits``) dark counts spread uniformly. Every pixel's
    count is then Poisson with mean lambda_ij = Nbar P_ij + noise_hits / size^2 (P_ij: the share
    of a ring's photons landing in the pixel, averaged over ``subsamples``^2 points per pixel),
    and F = sum_ij grad(lambda_ij) grad(lambda_ij)^T / lambda_ij. It includes everything the
    image holds: where the photons land, the pixels, the dark counts and how many photons there
    are (Nbar grows with R). Its inverse bounds the covariance of any unbiased estimator that
    sees the image (``ring_image_cramer_rao``). Checked against the covariance of the Poisson
    score over simulated images (tests/test_ring_bound.py).
    """
    x, y, radius, t, d = _check_image_inputs(x, y, radius, thickness, deformation)
    _check_rates(photon_density, noise_hits)
    gx, gy, pixel_mean = _sample_grid(image_size, subsamples)
    background = noise_hits / int(image_size) ** 2
    ring_photons = photon_density * 2 * np.pi  # Nbar per px of radius
    out = np.empty((len(x), 5, 5))
    for start in range(0, len(x), chunk):
        sl = slice(start, start + chunk)
        xb, yb, rb = x[sl], y[sl], radius[sl]
        dx, dy = gx[None] - xb[:, None], gy[None] - yb[:, None]
        rho = np.hypot(dx, dy)  # (B, side^2)
        profiles = _RadialProfiles(rb, t[sl], d[sl], h=1e-3)
        nbar = (ring_photons * rb)[:, None]
        base = pixel_mean(profiles.at(profiles.base, rho))
        lam = nbar * base + background
        grads = np.empty((len(xb), base.shape[1], 5))
        # centre: d f(rho) / d x0 = f'(rho) (x0 - px) / rho
        slope = profiles.at(profiles.slope, rho) / np.where(rho > 1e-9, rho, np.inf)
        grads[..., 0] = -nbar * pixel_mean(slope * dx)
        grads[..., 1] = -nbar * pixel_mean(slope * dy)
        for j, name in ((2, "radius"), (3, "thickness"), (4, "deformation")):
            up, down, width = profiles.moved[name]
            diff = pixel_mean(profiles.at(up, rho) - profiles.at(down, rho))
            grads[..., j] = nbar * diff / width[:, None]
        grads[..., 2] += ring_photons * base  # a larger ring has more photons
        out[sl] = np.einsum("bpi,bpj->bij", grads, grads / lam[..., None])
    return out


def ring_image_cramer_rao(x, y, radius, thickness, deformation, **kwargs) -> pd.DataFrame:
    """Cramer-Rao bounds [px] on the standard deviations of the five ring parameters measured
    from a photon-count image: the square roots of the diagonal of the inverse of
    ``ring_image_fisher`` (keyword arguments as there). One row per ring, columns
    ``IMAGE_PARAMETERS``. The bound holds for unbiased estimators: one that leans on the prior
    range of a parameter (a network that learnt that t lies in [0.2, 1.5]) can beat it on that
    parameter where the image says little about it.
    """
    fisher = ring_image_fisher(x, y, radius, thickness, deformation, **kwargs)
    covariance = np.linalg.pinv(fisher, hermitian=True)
    sd = np.sqrt(np.clip(np.diagonal(covariance, axis1=1, axis2=2), 0.0, None))
    return pd.DataFrame(sd, columns=list(IMAGE_PARAMETERS))


def same_ring_labels(n: int, *, seed=0, photon_density: float = 3.0, **ring) -> pd.DataFrame:
    """Labels of ``n`` images of one ring (``ring``: x, y, radius, thickness, deformation in px),
    each with its own Poisson number of photons (mean photon_density 2 pi R), as the simulator
    draws them; render them with ``a3net.data.rings.render_rings``."""
    missing = [p for p in IMAGE_PARAMETERS if p not in ring]
    if missing or len(ring) != len(IMAGE_PARAMETERS):
        raise ValueError(
            f"give the ring as x=, y=, radius=, thickness=, deformation= (px); missing {missing}, "
            f"unknown {sorted(set(ring) - set(IMAGE_PARAMETERS))}."
        )
    rng = np.random.default_rng(seed)
    table = {"n_rings": np.ones(n, int)} | {f"{p}_1": np.full(n, float(ring[p])) for p in ring}
    table["photons_1"] = rng.poisson(photon_density * 2 * np.pi * float(ring["radius"]), n)
    return pd.DataFrame(table)


def bound_controls(ring_table: pd.DataFrame, n_images: int = 2000, *, seed=0) -> pd.DataFrame:
    """Two controls of the image bound on given rings (``ring_table``: one row per ring, columns
    x, y, radius, thickness, deformation in px), each over ``n_images`` simulated images of it:

    * ``score / Fisher``: the variance of the Poisson score over the simulated counts divided by
      the Fisher information (1 within about sqrt(2 / n_images) if the simulator draws the image
      model the bound assumes), for x and radius;
    * ``fit / bound``: the spread of the least-squares circle fit (seeded at the truth) over the
      images divided by the bound, for x and radius: at least 1 less the noise, sqrt(1/(2n)).

    Returns one row per ring with those four ratios and the bounds [px].
    """
    from ..baselines.ring_fits import circle_fit
    from ..data import rings as simulator

    rows = []
    for k, ring in enumerate(ring_table[list(IMAGE_PARAMETERS)].to_dict("records")):
        labels = same_ring_labels(n_images, seed=seed + 2 * k, **ring)
        hx, hy, _, valid = simulator.sample_hits(labels, seed=seed + 2 * k + 1)
        counts = simulator.count_hits(hx, hy, valid, normalise=False).reshape(n_images, -1)
        mean = ring_image_mean(**ring).reshape(-1)
        grads = []
        for name in ("x", "radius"):
            up, down = dict(ring), dict(ring)
            up[name] += 1e-3
            down[name] -= 1e-3
            grads.append((ring_image_mean(**up) - ring_image_mean(**down)).reshape(-1) / 2e-3)
        score = (counts / mean - 1) @ np.array(grads).T
        fisher = ring_image_fisher(**ring)[0]
        limit = ring_image_cramer_rao(**ring).iloc[0]
        images = counts.reshape(n_images, 1, *np.shape(ring_image_mean(**ring))[1:])
        truth = pd.DataFrame(
            [[ring["x"], ring["y"], ring["radius"]]] * n_images, columns=["x", "y", "radius"]
        )
        fit = circle_fit(images / images.max(axis=(1, 2, 3), keepdims=True), seed=truth)
        spread = fit.loc[~fit["failed"], ["x", "radius"]].std()
        rows.append(
            ring
            | {
                "score / Fisher, x": score[:, 0].var() / fisher[0, 0],
                "score / Fisher, radius": score[:, 1].var() / fisher[2, 2],
                "bound x": limit["x"],
                "bound radius": limit["radius"],
                "fit / bound, x": spread["x"] / limit["x"],
                "fit / bound, radius": spread["radius"] / limit["radius"],
            }
        )
    return pd.DataFrame(rows)
