"""Mock X-ray images of galaxy clusters (chapters D and G), after Ntampaka et al. (2019).

Each image holds the photon counts of one cluster in the 0.5-2 keV band of a Chandra-like
exposure, centred in a square field of ``field_mpc`` Mpc/h (proper) on a side. The target is
``log_m500`` = log10 M500c [Msun/h], drawn from a falling mass function over [13.5, 15].

What the simulator keeps of real clusters:

- **Size.** R500c follows from the mass and the critical density at the cluster's redshift
  (self-similar: R500 ∝ M500^(1/3) E(z)^(-2/3)); every length of the gas is a fraction of it.
- **Luminosity.** The median soft-band luminosity follows L ∝ M500^1.6 E(z)^(7/3), the observed
  slope (steeper than the self-similar 4/3 because groups hold less gas; Pratt et al. 2009),
  normalised to 0.8e44 erg/s at M500 = 1.4e14 Msun/h. Around it:
  - the gas fraction scatters by 0.03 dex (so L by 0.06 dex);
  - the gas follows an ellipsoidal beta model (Cavaliere & Fusco-Femiano 1976), density
    ∝ (1 + r²/rc²)^(-3β/2), with rc/R500 log-normal about 0.15 (0.1 dex) and β about 2/3. At
    fixed gas mass a more concentrated profile radiates more (L ∝ ∫ρ² dV), so the shape moves
    L at fixed mass, and an image shows the shape;
  - a cool core in 45% of the clusters (Hudson et al. 2010): a compact central component
    (radius 0.03 R500) that adds 20% to 150% of the luminosity, drawn independently of mass.
    This is the scatter that excising the core (r < 0.15 R500) removes;
  - merging substructure: 0 to 3 infalling groups (mass ratio 0.03-0.3) at 0.3-1.2 R500 in
    3-D, each a smaller cluster on the same relations.
- **Projections.** Each cluster is a triaxial ellipsoid with its own 3-D orientation; its
  ``projections`` images look along independent random directions, so a cluster's images share
  its mass, gas and cool core but differ in ellipticity, orientation and where the
  substructure falls. All images of one cluster carry its ``cluster_id``: split by it.
- **Observation.** Photons = L / (4 pi D_L²) x area x exposure / 1.2 keV; a flat background
  (about 2e-4 counts/s/arcmin², Chandra ACIS-I in 0.5-2 keV); unrelated point sources (AGN;
  3 per field on average, 20-500 counts each, a Gaussian PSF of 0.5 px, placed in the circle
  that circumscribes the field so that a turned field holds as many); Poisson counts.
- **Turned skies.** ``rotate_deg`` observes the same clusters, views and point sources with the
  sky turned about the field centre, and ``noise_seed`` draws fresh photons: the physically
  rotated cluster that an interpolated rotation only imitates.
- **The floor.** :func:`mass_floor` is the scatter of log M500 that a perfect, noise-free reading
  of every image-visible property would still leave (the gas-fraction scatter and the core
  radius in units of R500 are invisible): about 0.032 dex at the default settings.

What it leaves out: the temperature (one band, so the emissivity's weak temperature
dependence is ignored), the telescope's vignetting and chip gaps, redshift spread (every
cluster sits at ``redshift``), projected large-scale structure, and the disturbance of the main
halo by a merger (substructure is added, not merged). Photons that fall outside the field are
lost. Cosmology: flat, Omega_m = 0.3, h = 0.7 for the distances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import integrate, special

from .._validation import check_memory, check_seed

__all__ = [
    "ClusterConfig",
    "CATALOGUE_COLUMNS",
    "LOG_M500_RANGE",
    "check_cluster_images",
    "check_log_m500",
    "e_of_z",
    "mass_floor",
    "r500_kpc",
    "sample_masses",
    "simulate_clusters",
]

LOG_M500_RANGE = (13.5, 15.0)
"""The simulated mass range, log10 M500c [Msun/h] (Ntampaka et al. 2019: above 10^13.57)."""

OMEGA_M, HUBBLE_H = 0.3, 0.7
RHO_CRIT0 = 2.775e11  # critical density today [(Msun/h) / (Mpc/h)^3]
C_KM_S = 299792.458
MPC_CM = 3.0857e24
KEV_ERG = 1.602e-9

L_PIVOT = 0.8e44  # median 0.5-2 keV luminosity [erg/s] at the pivot mass
LOG_M_PIVOT = 14.15  # [Msun/h]; 1.4e14 Msun/h = 2e14 Msun for h = 0.7
L_M_SLOPE = 1.6

CATALOGUE_COLUMNS = (
    "cluster_id",
    "projection",
    "log_m500",
    "r500_kpc",
    "r500_pix",
    "core_radius",
    "beta",
    "cool_core",
    "core_excess",
    "n_subclumps",
    "luminosity",
    "axis_ratio",
    "position_angle",
    "cluster_counts",
    "n_point_sources",
)
"""Columns of the catalogue, one row per image: cluster id and projection index; mass
[log10 Msun/h]; R500 [kpc/h proper] and [px]; rc/R500 and beta of the gas; cool core (bool)
and its luminosity over the rest of the gas; number of subclumps; total 0.5-2 keV luminosity
[erg/s]; projected axis ratio b/a and position angle of the major axis [deg, counter-clockwise
from the +x axis]; expected cluster photons in the field; number of point sources."""


def e_of_z(redshift) -> np.ndarray:
    """Dimensionless Hubble rate E(z) = H(z)/H0 of the flat cosmology (Omega_m = 0.3)."""
    z = np.asarray(redshift, dtype=float)
    return np.sqrt(OMEGA_M * (1 + z) ** 3 + 1 - OMEGA_M)


def r500_kpc(log_m500, redshift) -> np.ndarray:
    """R500c [kpc/h, proper] of clusters of mass log10 M500c [Msun/h] at ``redshift``."""
    mass = 10 ** np.asarray(log_m500, dtype=float)
    rho_c = RHO_CRIT0 * e_of_z(redshift) ** 2
    return 1e3 * np.cbrt(3 * mass / (4 * np.pi * 500 * rho_c))


def _luminosity_distance_mpc(z: float) -> float:
    """Luminosity distance [Mpc, not Mpc/h] in the flat cosmology."""
    comoving, _ = integrate.quad(lambda x: 1 / float(e_of_z(x)), 0, z)
    return (1 + z) * C_KM_S / (100 * HUBBLE_H) * comoving


@dataclass(frozen=True)
class ClusterConfig:
    """The mock observation: field, redshift, exposure and instrument (lengths proper)."""

    image_size: int = 64  # pixels per side
    field_mpc: float = 3.0  # side of the field [Mpc/h]
    redshift: float = 0.1  # every cluster sits here
    exposure_ks: float = 100.0  # exposure [ks]
    area_cm2: float = 400.0  # effective area in 0.5-2 keV [cm^2]
    background_rate: float = 2e-4  # sky + particle background [counts/s/arcmin^2]
    point_sources: float = 3.0  # mean number of unrelated point sources per field
    log_m500_range: tuple[float, float] = LOG_M500_RANGE  # simulated masses [log10 Msun/h]

    def __post_init__(self):
        if (
            isinstance(self.image_size, bool)
            or not isinstance(self.image_size, (int, np.integer))
            or self.image_size < 16
        ):
            raise ValueError(
                f"image_size must be a whole number of at least 16 pixels, got {self.image_size!r}."
            )
        for name in ("field_mpc", "redshift", "exposure_ks", "area_cm2"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}.")
        for name in ("background_rate", "point_sources"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
        lo, hi = self.log_m500_range
        if not (12.0 <= lo < hi <= 16.0):
            raise ValueError(
                "log_m500_range must be (low, high) with 12 <= low < high <= 16 "
                f"[log10 Msun/h], got {self.log_m500_range!r}."
            )

    @property
    def pixel_kpc(self) -> float:
        """Side of one pixel [kpc/h, proper]."""
        return 1e3 * self.field_mpc / self.image_size

    @property
    def pixel_arcmin(self) -> float:
        """Side of one pixel [arcmin] at ``redshift``."""
        d_a_kpc = 1e3 * _luminosity_distance_mpc(self.redshift) / (1 + self.redshift) ** 2
        return float(np.degrees(self.pixel_kpc / HUBBLE_H / d_a_kpc) * 60)

    @property
    def background_per_pixel(self) -> float:
        """Expected background counts per pixel for the exposure."""
        return self.background_rate * 1e3 * self.exposure_ks * self.pixel_arcmin**2

    @property
    def photons_per_erg(self) -> float:
        """Detected photons per erg/s of 0.5-2 keV luminosity: area x time / (4 pi D_L^2 E)."""
        d_l_cm = _luminosity_distance_mpc(self.redshift) * MPC_CM
        return self.area_cm2 * 1e3 * self.exposure_ks / (4 * np.pi * d_l_cm**2 * 1.2 * KEV_ERG)

    def r500_pixels(self, log_m500) -> np.ndarray:
        """R500c [px] of clusters of mass log10 M500c [Msun/h]."""
        return r500_kpc(log_m500, self.redshift) / self.pixel_kpc

    def median_luminosity(self, log_m500) -> np.ndarray:
        """Median 0.5-2 keV luminosity [erg/s] at mass log10 M500c [Msun/h] (cool cores and
        substructure not included)."""
        m = np.asarray(log_m500, dtype=float)
        evolution = e_of_z(self.redshift) ** (7 / 3)
        return L_PIVOT * 10 ** (L_M_SLOPE * (m - LOG_M_PIVOT)) * evolution


def check_log_m500(log_m500, *, name: str = "log_m500", limits=(12.0, 16.0)) -> np.ndarray:
    """Masses log10 M500c [Msun/h] as a float array, finite and inside ``limits``."""
    m = np.asarray(log_m500, dtype=float)
    if m.ndim != 1 or len(m) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of log10 masses, got {m.shape}.")
    bad = ~np.isfinite(m) | (m < limits[0]) | (m > limits[1])
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} values that are not finite log10 M500c [Msun/h] in "
            f"[{limits[0]}, {limits[1]}] (e.g. {m[bad][0]!r}); pass log10 masses, not masses."
        )
    return m


def check_cluster_images(images, *, name: str = "images") -> np.ndarray:
    """Count images as float32 (N, 1, H, W), finite and non-negative, or a clear ValueError."""
    try:
        arr = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(images).__name__}.") from None
    if arr.ndim != 4 or arr.shape[1] != 1 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (N, 1, H, W) (photon counts, channels first), got "
            f"{arr.shape}; add the channel axis with images[:, None]."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean them first.")
    negative = int((arr < 0).sum())
    if negative:
        raise ValueError(
            f"{name} has {negative} negative pixels; photon-count images are >= 0 "
            "(do not pass background-subtracted or standardised images here)."
        )
    return arr


def _rng(seed) -> np.random.Generator:
    seed = check_seed(seed, generator=True)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _whole(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def sample_masses(
    n: int, *, log_m500_range=LOG_M500_RANGE, slope: float = 1.0, log_m_cut: float = 14.8, seed=0
) -> np.ndarray:
    """``n`` masses log10 M500c [Msun/h] from dn/dlog M ∝ M^-slope exp(-M / M_cut).

    A Schechter-like fall that, with the defaults, has about 16 times fewer clusters per dex at
    10^14.5 than at 10^13.5, close to the halo mass function at low redshift (Tinker et al.
    2008). Inverse-CDF sampling on a fine grid.
    """
    n = _whole(n, "n")
    check_memory(16 * n, f"sample_masses({n})")
    lo, hi = log_m500_range
    grid = np.linspace(lo, hi, 2001)
    density = 10 ** (-slope * (grid - lo)) * np.exp(-(10 ** (grid - log_m_cut)))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]))])
    return np.interp(_rng(seed).random(n) * cdf[-1], cdf, grid)


def _beta_integral(upper, beta):
    """int_0^upper u^2 (1 + u^2)^(-3 beta / 2) du (the gas mass of a beta model, in rc^3)."""
    return upper**3 / 3 * special.hyp2f1(1.5 * beta, 1.5, 2.5, -(upper**2))


def _emission_factor(core_radius, beta):
    """Luminosity of a beta-model gas of fixed mass within R500, up to a constant:
    int rho^2 dV / (M_gas(<R500))^2 in units of R500 = 1 (``core_radius`` = rc / R500)."""
    em = np.sqrt(np.pi) / 4 * special.gamma(3 * beta - 1.5) / special.gamma(3 * beta)
    return em / (core_radius**3 * _beta_integral(1 / core_radius, beta) ** 2)


def _random_rotations(rng, n) -> np.ndarray:
    """``n`` uniformly random 3-D rotation matrices (N, 3, 3) (QR of Gaussian matrices)."""
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    flip = np.linalg.det(q) < 0
    q[flip, :, 0] *= -1
    return q


def _sample_clusters(n, cfg, rng) -> dict:
    """Intrinsic (projection-independent) properties of ``n`` clusters."""
    log_m = sample_masses(n, log_m500_range=cfg.log_m500_range, seed=rng)
    core_radius = 0.15 * 10 ** rng.normal(0, 0.1, n)
    beta = np.clip(rng.normal(2 / 3, 0.05, n), 0.55, 0.85)
    gas_scatter = 10 ** rng.normal(0, 0.06, n)  # (f_gas scatter 0.03 dex)^2
    median_shape = _emission_factor(0.15, 2 / 3)
    l_gas = (
        cfg.median_luminosity(log_m)
        * gas_scatter
        * _emission_factor(core_radius, beta)
        / median_shape
    )
    cool = rng.random(n) < 0.45
    excess = np.where(cool, 10 ** rng.uniform(np.log10(0.2), np.log10(1.5), n), 0.0)
    # axes of the triaxial gas ellipsoid, product 1 (the geometric mean is rc)
    b_a = rng.uniform(0.6, 1.0, n)
    c_b = rng.uniform(0.7, 1.0, n)
    axes = np.stack([np.ones(n), b_a, b_a * c_b], axis=1)
    axes /= np.cbrt(axes.prod(axis=1))[:, None]
    shape_matrix = np.einsum("nij,nj,nkj->nik", (rot := _random_rotations(rng, n)), axes**-2, rot)
    # merging substructure: up to 3 groups, positions [R500] in the cluster frame
    n_sub = np.minimum(rng.poisson(rng.exponential(0.8, n)), 3)
    sub_mass = log_m[:, None] + rng.uniform(np.log10(0.03), np.log10(0.3), (n, 3))
    direction = rng.normal(size=(n, 3, 3))
    direction /= np.linalg.norm(direction, axis=2, keepdims=True)
    sub_pos = direction * rng.uniform(0.3, 1.2, (n, 3))[:, :, None]
    present = np.arange(3)[None, :] < n_sub[:, None]
    return dict(
        log_m=log_m,
        core_radius=core_radius,
        beta=beta,
        l_gas=l_gas,
        cool=cool,
        excess=excess,
        shape_matrix=shape_matrix,
        n_sub=n_sub,
        sub_mass=sub_mass,
        sub_pos=sub_pos,
        sub_present=present,
    )


def _projected_shape(matrix):
    """Projection along z of ellipsoids x^T A x (N, 3, 3): the 2-D matrices (N, 2, 2) of the
    projected iso-surfaces (the Schur complement), scaled to unit determinant."""
    a2 = matrix[:, :2, :2] - matrix[:, :2, 2:] @ matrix[:, 2:, :2] / matrix[:, 2:, 2:]
    return a2 / np.sqrt(np.linalg.det(a2))[:, None, None]


def _beta_images(grid, centre, radius_px, beta, shape, photons):
    """Projected beta models on the pixel grid, each holding ``photons`` in the plane.

    grid (2, S, S) pixel coordinates (x, y); centre (M, 2) [px]; radius_px (M,) core radii;
    beta (M,); shape (M, 2, 2) unit-determinant ellipse matrices; photons (M,) expected counts
    to infinity. Returns (M, S, S) expected counts; photons beyond the field are lost.
    """
    dx = grid[0][None] - centre[:, 0, None, None]
    dy = grid[1][None] - centre[:, 1, None, None]
    m2 = (
        shape[:, 0, 0, None, None] * dx**2
        + 2 * shape[:, 0, 1, None, None] * dx * dy
        + shape[:, 1, 1, None, None] * dy**2
    ) / radius_px[:, None, None] ** 2
    power = (3 * beta - 0.5)[:, None, None]
    profile = (1 + m2) ** -power
    # normalised on the grid (exact for cores under a pixel), to the share inside the field
    half = grid.shape[-1] / 2
    inside = 1 - (1 + (half / radius_px) ** 2) ** (1.5 - 3 * beta)
    total = profile.sum(axis=(1, 2))
    return (profile * (photons * inside / total)[:, None, None]).astype(np.float32)


def _render(clusters, view, cfg, centre_jitter, ps_xy, ps_flux):
    """Expected counts (B, S, S) of the clusters seen through rotation matrices ``view``, with
    point sources at ``ps_xy`` (B, K, 2) [px] of ``ps_flux`` (B, K) expected counts."""
    size = cfg.image_size
    axis = np.arange(size, dtype=np.float64)
    grid = np.stack(np.meshgrid(axis, axis, indexing="xy"))
    r500 = cfg.r500_pixels(clusters["log_m"])
    centre = (size - 1) / 2 + centre_jitter
    per_erg = cfg.photons_per_erg
    # the main halo and the cool core share the projected ellipse
    matrix = np.einsum("nji,njk,nkl->nil", view, clusters["shape_matrix"], view)
    shape = _projected_shape(matrix)
    counts = _beta_images(
        grid,
        centre,
        clusters["core_radius"] * r500,
        clusters["beta"],
        shape,
        clusters["l_gas"] * per_erg,
    )
    cool = clusters["cool"]
    if cool.any():
        counts[cool] += _beta_images(
            grid,
            centre[cool],
            0.03 * r500[cool],
            np.full(cool.sum(), 0.7),
            shape[cool],
            clusters["l_gas"][cool] * clusters["excess"][cool] * per_erg,
        )
    # substructure: positions seen through the view, smaller clusters on the same relations
    pos = np.einsum("nji,nkj->nki", view, clusters["sub_pos"])[..., :2]  # (n, 3, 2) [R500]
    owner, slot = np.nonzero(clusters["sub_present"])
    if len(owner):
        sub_m = clusters["sub_mass"][owner, slot]
        counts_sub = _beta_images(
            grid,
            centre[owner] + pos[owner, slot] * r500[owner, None],
            0.15 * cfg.r500_pixels(sub_m),
            np.full(len(owner), 2 / 3),
            np.broadcast_to(np.eye(2), (len(owner), 2, 2)),
            cfg.median_luminosity(sub_m) * per_erg,
        )
        np.add.at(counts, owner, counts_sub)
    cluster_counts = counts.sum(axis=(1, 2))
    # unrelated point sources with a 0.5 px Gaussian PSF (separable), and the background
    inside = (np.abs(ps_xy - (size - 1) / 2) <= size / 2).all(axis=2) & (ps_flux > 0)
    n_ps = inside.sum(axis=1)
    gx = np.exp(-0.5 * ((axis[None, None, :] - ps_xy[..., :1]) / 0.5) ** 2)
    gy = np.exp(-0.5 * ((axis[None, None, :] - ps_xy[..., 1:]) / 0.5) ** 2)
    # normalised over the plane, not the field: light of a source beyond the edge is lost
    gx /= np.sqrt(2 * np.pi) * 0.5
    gy /= np.sqrt(2 * np.pi) * 0.5
    counts += np.einsum("nk,nky,nkx->nyx", ps_flux, gy, gx).astype(np.float32)
    counts += np.float32(cfg.background_per_pixel)
    # projected ellipse of the gas: axis ratio and position angle of the major axis
    eigval, eigvec = np.linalg.eigh(shape)  # ascending: the smaller value is the major axis
    axis_ratio = np.sqrt(eigval[:, 0] / eigval[:, 1])
    angle = np.degrees(np.arctan2(eigvec[:, 1, 0], eigvec[:, 0, 0])) % 180
    return counts, cluster_counts, axis_ratio, angle, n_ps


def _turn_angles(rotate_deg, n: int):
    """``rotate_deg`` as (n,) angles [rad], or None."""
    if rotate_deg is None:
        return None
    try:
        angles = np.asarray(rotate_deg, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"rotate_deg must be degrees, got {type(rotate_deg).__name__}.") from None
    if angles.ndim > 1 or (angles.ndim == 1 and len(angles) not in (1, n)):
        raise ValueError(
            f"rotate_deg must be one angle or one per image ({n}), got shape {angles.shape}."
        )
    if not np.isfinite(angles).all():
        raise ValueError("rotate_deg must hold finite angles [deg]; drop NaN first.")
    return np.deg2rad(np.broadcast_to(angles, (n,)))


def _point_sources(rng, n: int, cfg) -> tuple[np.ndarray, np.ndarray]:
    """Unrelated point sources of ``n`` fields: positions (n, K, 2) [px] uniform in the circle
    circumscribing the field, ``cfg.point_sources`` per field on average inside the field, and
    expected counts (n, K), 20-500 log-uniform (0 for the padding slots)."""
    size = cfg.image_size
    in_circle = rng.poisson(cfg.point_sources * np.pi / 2, n)  # circle area / field area
    k = max(int(in_circle.max()), 1)
    radius = size / np.sqrt(2) * np.sqrt(rng.random((n, k)))
    phi = rng.uniform(0, 2 * np.pi, (n, k))
    xy = (size - 1) / 2 + radius[..., None] * np.stack([np.cos(phi), np.sin(phi)], -1)
    flux = 10 ** rng.uniform(np.log10(20), np.log10(500), (n, k))
    flux *= np.arange(k)[None, :] < in_circle[:, None]
    return xy, flux


def simulate_clusters(
    n_clusters: int,
    *,
    projections: int = 5,
    config: ClusterConfig = ClusterConfig(),
    seed=0,
    rotate_deg=None,
    noise_seed=None,
    chunk: int = 512,
):
    """Mock 0.5-2 keV count images of ``n_clusters`` clusters, each seen in ``projections``
    independent directions.

    Returns ``(images, catalogue)``: images float32 (n_clusters * projections, 1, S, S) of
    photon counts (S = ``config.image_size``), the projections of one cluster next to each
    other; catalogue a DataFrame with :data:`CATALOGUE_COLUMNS`, one row per image. The same
    seed gives the same arrays.

    ``rotate_deg`` (one angle or one per image [deg]) turns the sky of every image about the
    field centre before it is observed: the same clusters, views, centres and point sources,
    rendered at the new orientation, as if the telescope's roll angle had changed. A positive
    angle turns the sky as :func:`a3net.data.rotations.rotate_images` turns a pixel image, so
    the two can be compared. ``noise_seed`` draws the Poisson counts from a generator of their
    own (None: from ``seed``'s stream): the same ``seed`` with another ``noise_seed`` gives the
    same expected images with fresh photons. Point sources are placed in the circle that
    circumscribes the field (``config.point_sources`` per field on average), so a turned field
    holds as many as an unturned one.
    """
    n_clusters = _whole(n_clusters, "n_clusters")
    projections = _whole(projections, "projections")
    chunk = _whole(chunk, "chunk")
    if not isinstance(config, ClusterConfig):
        raise TypeError(f"config must be a ClusterConfig, got {type(config).__name__}.")
    n_images, pixels = n_clusters * projections, config.image_size**2
    # the images and catalogue, and the float64 working arrays of one chunk of images
    need = n_images * (4 * pixels + 600) + min(n_images, chunk) * pixels * 8 * 20 + 5e7
    check_memory(need, f"simulate_clusters({n_clusters}, projections={projections})")
    turn = _turn_angles(rotate_deg, n_images)
    rng = _rng(seed)
    noise = rng if noise_seed is None else _rng(noise_seed)
    clusters = _sample_clusters(n_clusters, config, rng)
    owner = np.repeat(np.arange(n_clusters), projections)
    views = _random_rotations(rng, len(owner))
    jitter = rng.uniform(-0.5, 0.5, (len(owner), 2))
    size = config.image_size
    ps_xy, ps_flux = _point_sources(rng, len(owner), config)
    if turn is not None:
        # image coordinates (x, y) -> R(-theta) (x, y): the view turns about the line of sight
        c, s_ = np.cos(turn), np.sin(turn)
        about_los = np.zeros((len(owner), 3, 3))
        about_los[:, 0, 0], about_los[:, 0, 1] = c, -s_
        about_los[:, 1, 0], about_los[:, 1, 1] = s_, c
        about_los[:, 2, 2] = 1.0
        views = views @ about_los
        back = np.stack([np.stack([c, s_], -1), np.stack([-s_, c], -1)], 1)  # R(-theta)
        jitter = np.einsum("nij,nj->ni", back, jitter)
        ps_xy = np.einsum("nij,nkj->nki", back, ps_xy - (size - 1) / 2) + (size - 1) / 2
    images = np.empty((len(owner), 1, size, size), np.float32)
    extra = {k: np.empty(len(owner)) for k in ("cluster_counts", "axis_ratio", "angle", "n_ps")}
    for start in range(0, len(owner), chunk):
        part = slice(start, start + chunk)
        picked = {k: v[owner[part]] for k, v in clusters.items()}
        expected, cc, ratio, angle, n_ps = _render(
            picked, views[part], config, jitter[part], ps_xy[part], ps_flux[part]
        )
        images[part, 0] = noise.poisson(expected)
        for key, value in zip(extra, (cc, ratio, angle, n_ps), strict=True):
            extra[key][part] = value
    c = {k: v[owner] for k, v in clusters.items()}
    luminosity = c["l_gas"] * (1 + c["excess"]) + np.sum(
        config.median_luminosity(c["sub_mass"]) * c["sub_present"], axis=1
    )
    catalogue = pd.DataFrame(
        {
            "cluster_id": owner,
            "projection": np.tile(np.arange(projections), n_clusters),
            "log_m500": c["log_m"],
            "r500_kpc": r500_kpc(c["log_m"], config.redshift),
            "r500_pix": config.r500_pixels(c["log_m"]),
            "core_radius": c["core_radius"],
            "beta": c["beta"],
            "cool_core": c["cool"],
            "core_excess": c["excess"],
            "n_subclumps": c["n_sub"],
            "luminosity": luminosity,
            "axis_ratio": extra["axis_ratio"],
            "position_angle": extra["angle"],
            "cluster_counts": extra["cluster_counts"],
            "n_point_sources": extra["n_ps"].astype(int),
        }
    )
    return images, catalogue


def mass_floor(n_clusters: int, *, config: ClusterConfig = ClusterConfig(), seed=0, grid=801):
    """The simulator's floor: how well log10 M500 could be known from a perfect image.

    Draws ``n_clusters`` clusters from the simulator's own distributions and estimates each
    mass as the posterior mean given everything its image could reveal, read without noise:
    the gas luminosity ``l_gas``, the core radius in pixels, beta, the subclumps' luminosities
    (hence their masses, a window of 1 dex about the main mass) and the simulator's mass
    function as the prior. What no image shows is the gas-fraction scatter (0.06 dex in L)
    and the core radius in units of R500 (0.1 dex; only its size in pixels is seen, and R500
    is what is sought). Photon noise, point sources, projection and pixels are left out, so
    no method that reads the images can do better on average: a lower bound.

    Returns a DataFrame, one row per cluster: ``log_m500`` (true), ``estimate`` (posterior
    mean), ``residual`` = estimate - true [dex] and ``posterior_sd`` [dex].
    """
    n_clusters = _whole(n_clusters, "n_clusters")
    grid = _whole(grid, "grid", minimum=50)
    if not isinstance(config, ClusterConfig):
        raise TypeError(f"config must be a ClusterConfig, got {type(config).__name__}.")
    check_memory(8 * n_clusters * grid * 12, f"mass_floor({n_clusters}, grid={grid})")
    c = _sample_clusters(n_clusters, config, _rng(seed))
    lo, hi = config.log_m500_range
    m = np.linspace(lo, hi, grid)
    prior = 10 ** (-(m - lo)) * np.exp(-(10 ** (m - 14.8)))  # sample_masses' defaults
    r500 = config.r500_pixels(c["log_m"])
    rc_pix = c["core_radius"] * r500  # what the image shows
    rc_over_r500 = rc_pix[:, None] / config.r500_pixels(m)[None, :]  # (n, grid)
    log_like = -0.5 * (np.log10(rc_over_r500 / 0.15) / 0.1) ** 2
    beta = c["beta"][:, None]
    median_shape = _emission_factor(0.15, 2 / 3)
    l_model = (
        config.median_luminosity(m)[None, :] * _emission_factor(rc_over_r500, beta) / median_shape
    )
    log_like += -0.5 * (np.log10(c["l_gas"][:, None] / l_model) / 0.06) ** 2
    # each subclump's mass is 0.03-0.3 of the main mass (log-uniform): a window on m
    for slot in range(c["sub_mass"].shape[1]):
        present = c["sub_present"][:, slot, None]
        sub = c["sub_mass"][:, slot, None]
        window = (m[None, :] >= sub - np.log10(0.3)) & (m[None, :] <= sub - np.log10(0.03))
        log_like = np.where(present & ~window, -np.inf, log_like)
    log_post = log_like + np.log(prior)[None, :]
    weight = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    weight /= weight.sum(axis=1, keepdims=True)
    mean = weight @ m
    sd = np.sqrt(np.maximum(weight @ m**2 - mean**2, 0.0))
    return pd.DataFrame(
        {
            "log_m500": c["log_m"],
            "estimate": mean,
            "residual": mean - c["log_m"],
            "posterior_sd": sd,
        }
    )
