"""Cherenkov ring images (chapter F): a vectorised, seeded simulator.

The physics. A charged particle emits Cherenkov light only above the threshold beta > 1/n of its
radiator (refractive index n), on a cone of half-angle cos(theta) = 1 / (n beta) (Cherenkov 1934;
Frank & Tamm 1937). In a proximity-focusing RICH the cone crosses a gap L to a photon detector
and draws a ring of radius r = L tan(theta) (a focusing mirror of focal length f gives
r = f tan(theta)); with the momentum p from the tracker, theta gives the mass,
m = p sqrt(n^2 cos^2(theta) - 1). The Frank-Tamm yield is proportional to sin^2(theta) per unit
path length (about 370 sin^2(theta) photons per eV and cm). Three effects widen a ring: photons are
emitted all along the track in a radiator of thickness T, so their radii spread uniformly over
T tan(theta), a spread proportional to r (the emission-point error, which dominates a proximity-
focusing RICH); chromatic dispersion spreads the angle by (sigma_n / n) / tan(theta); multiple
scattering tilts the track by a fixed angle. The photon detector adds its own resolution.

The simulator, in pixels of a 28x28 image, draws every ring as the A3Net hack did:

* centre ``(x, y)`` uniform in [5, 23] (pixel centres sit at 0..27; pixel j covers
  [j - 0.5, j + 0.5]); ``integer_centres=True`` puts them on whole pixels instead;
* radius ``R`` uniform between ``radius_min`` (3 px) and the distance from the centre to the
  nearest image edge minus ``edge_margin`` (1.5 px), so the ring stays on the detector;
* photons: a Poisson number with mean ``photon_density * 2 pi R`` (hits per pixel of arc, the
  hack's constant density, where Frank-Tamm would scale the yield with sin^2(theta)), at uniform
  azimuths;
* deformation ``d`` U(0.5, 3) px: every photon lands at radius R + U(-d, d), an absolute uniform
  spread as the hack drew it (a uniform spread is what the emission-point error gives, but of
  width T tan(theta), which would grow with R; here d is drawn independently of R);
* thickness ``t`` U(0.2, 1.5) px, the detector's resolution: every photon is displaced by
  N(0, t^2) in x and in y, and the image counts the photons that land in each pixel (the
  default ``detector="photons"``, what a photon-counting detector records). The earlier
  renderer, ``detector="spots"``, paints every hit as a deterministic Gaussian spot of width t
  integrated exactly over each pixel: it shows t in the shape of every single hit, a cue that no
  photon-counting detector offers, and it is kept as a named variant for comparison;
* inclination (optional, ``inclination_range`` in degrees, default none): a track inclined by
  alpha to the detector normal makes, to first order in theta, an ellipse with semi-axes
  a = R / cos^2(alpha) along the track's azimuth ``orientation`` psi U(0, pi) and
  b = R / cos(alpha) across it; the semi-major axis is drawn as R is for circles (so the ellipse
  stays on the detector), and the longer path through the radiator scales the photon count by
  1 / cos(alpha). Labels then also hold ``semi_major_k, semi_minor_k, orientation_k, inclination_k``
  (px, px, radians, degrees).

Not simulated: the refractive index, momenta and masses (rings are drawn in pixels, not from
theta), chromatic and scattering spreads, the mirror optics and the sin^2(theta) yield.

Uniformly distributed noise hits (dark counts; Poisson mean ``noise_hits`` per image) are added
(one count each; a spot of width 0.5 px with ``detector="spots"``), and each image is scaled to a
maximum of 1 (with ``detector="photons"``: photon counts per pixel over the image's largest
count). With photons, every pixel's count is Poisson given the ring, with the mean that
``a3net.evaluation.rings.ring_image_fisher`` integrates: the Cramer-Rao bound of these images.

Images are (N, 1, 28, 28) float32; labels are a
DataFrame with ``n_rings`` and, for ring k = 1..max_rings, the columns ``x_k, y_k, radius_k,
thickness_k, deformation_k, photons_k`` (NaN where an image has fewer rings).

Everything is vectorised over images and photons (no Python loop per image or per hit); the
same seed gives the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import erf

from .._validation import check_memory, check_seed

RING_PARAMETERS = ("x", "y", "radius", "thickness", "deformation")
"""The regression targets of one ring: x, y, radius, thickness and deformation (all px)."""

ELLIPSE_PARAMETERS = ("x", "y", "semi_major", "semi_minor", "cos_2psi", "sin_2psi")
"""The regression targets of one inclined ring: centre and semi-axes (px) and the orientation psi
of the major axis as (cos 2 psi, sin 2 psi), continuous across psi = 0 = pi."""

ELLIPSE_COLUMNS = ("semi_major", "semi_minor", "orientation", "inclination")
"""Extra label columns of inclined rings: semi-axes (px), psi (radians), alpha (degrees)."""

MAX_INCLINATION = 60.0
"""Largest track inclination [deg]: beyond it the first-order ellipse is a poor description."""


@dataclass(frozen=True)
class RingConfig:
    """Geometry and physics of the ring simulator (pixels unless stated)."""

    image_size: int = 28
    centre_range: tuple[float, float] = (5, 23)
    radius_min: float = 3.0
    edge_margin: float = 1.5
    thickness_range: tuple[float, float] = (0.2, 1.5)
    deformation_range: tuple[float, float] = (0.5, 3.0)
    photon_density: float = 3.0
    noise_hits: float = 2.0
    integer_centres: bool = False
    inclination_range: tuple[float, float] = (0.0, 0.0)
    detector: str = "photons"

    @property
    def inclined(self) -> bool:
        """Whether rings may be ellipses (a non-zero ``inclination_range``)."""
        return self.inclination_range[1] > 0

    def __post_init__(self):
        _check_config(self)

    def radius_max(self, x, y):
        """Largest radius of a ring centred at pixel (x, y): nearest-edge distance - margin."""
        size = self.image_size
        edge = np.minimum(np.minimum(x, y) + 0.5, size - 0.5 - np.maximum(x, y))
        return edge - self.edge_margin


DETECTORS = ("photons", "spots")
"""Image models: ``photons`` counts displaced photons per pixel (a photon-counting detector);
``spots`` paints each hit as a Gaussian spot of width t (the earlier renderer, kept to compare)."""


def _check_config(cfg: RingConfig) -> None:
    if cfg.detector not in DETECTORS:
        raise ValueError(
            f"detector must be one of {DETECTORS} (photon counts per pixel, or Gaussian spots), "
            f"got {cfg.detector!r}."
        )
    if not isinstance(cfg.image_size, (int, np.integer)) or cfg.image_size < 8:
        raise ValueError(
            f"image_size must be an integer of at least 8 pixels, got {cfg.image_size!r}."
        )
    lo, hi = cfg.centre_range
    if not (0 <= lo <= hi <= cfg.image_size - 1):
        raise ValueError(
            f"centre_range must be (low, high) inside [0, {cfg.image_size - 1}] with "
            f"low <= high, got {cfg.centre_range!r}."
        )
    if cfg.integer_centres and (int(lo) != lo or int(hi) != hi):
        raise ValueError(
            f"centre_range must be two whole pixels with integer_centres=True, got "
            f"{cfg.centre_range!r}."
        )
    a_lo, a_hi = cfg.inclination_range
    if not (np.isfinite(a_lo) and np.isfinite(a_hi) and 0 <= a_lo <= a_hi <= MAX_INCLINATION):
        raise ValueError(
            f"inclination_range must be (low, high) in degrees with 0 <= low <= high <= "
            f"{MAX_INCLINATION:g}, got {cfg.inclination_range!r}."
        )
    for name in ("radius_min", "edge_margin", "photon_density", "noise_hits"):
        value = getattr(cfg, name)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}.")
    if cfg.radius_min <= 0:
        raise ValueError(f"radius_min must be positive, got {cfg.radius_min!r}.")
    if cfg.photon_density <= 0:
        raise ValueError(
            f"photon_density must be positive (hits per pixel of ring), got {cfg.photon_density!r}."
        )
    for name in ("thickness_range", "deformation_range"):
        a, b = getattr(cfg, name)
        if not (np.isfinite(a) and np.isfinite(b) and 0 < a <= b):
            raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {(a, b)!r}.")
    tightest = float(min(cfg.radius_max(lo, lo), cfg.radius_max(hi, hi)))
    if cfg.radius_min > tightest:
        raise ValueError(
            f"radius_min={cfg.radius_min} does not fit the image: a ring centred at the edge of "
            f"centre_range={cfg.centre_range} can have a radius of at most {tightest:g} px "
            f"(edge distance minus edge_margin={cfg.edge_margin}); lower radius_min or "
            "edge_margin, or narrow centre_range."
        )


def _rng(seed) -> np.random.Generator:
    seed = check_seed(seed, generator=True, none=True)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}.")
    return int(value)


def ring_columns(max_rings: int, *, inclined: bool = False) -> list[str]:
    """Label columns for up to ``max_rings`` rings: n_rings, then x_1, y_1, radius_1, ...
    (with ``inclined``, also semi_major_k, semi_minor_k, orientation_k, inclination_k)."""
    cols = ["n_rings"]
    extra = ELLIPSE_COLUMNS if inclined else ()
    for k in range(1, max_rings + 1):
        cols += [f"{p}_{k}" for p in RING_PARAMETERS] + [f"photons_{k}"]
        cols += [f"{p}_{k}" for p in extra]
    return cols


def sample_ring_parameters(
    n: int, *, max_rings: int = 1, min_rings: int = 1, config: RingConfig = RingConfig(), seed=0
) -> pd.DataFrame:
    """Draw ring parameters for ``n`` images with ``min_rings``..``max_rings`` rings each.

    Returns the label DataFrame (see module docstring); ``photons_k`` is the Poisson number of
    hits of ring k. The number of rings is uniform over ``min_rings..max_rings``.
    """
    n = _check_count("n", n)
    max_rings = _check_count("max_rings", max_rings)
    min_rings = _check_count("min_rings", min_rings)
    if min_rings > max_rings:
        raise ValueError(f"min_rings ({min_rings}) must not exceed max_rings ({max_rings}).")
    if not isinstance(config, RingConfig):
        raise TypeError(f"config must be a RingConfig, got {type(config).__name__}.")
    rng = _rng(seed)
    cfg = config
    n_rings = rng.integers(min_rings, max_rings + 1, size=n)
    shape = (n, max_rings)
    lo, hi = cfg.centre_range
    if cfg.integer_centres:
        x = rng.integers(int(lo), int(hi) + 1, size=shape).astype(np.float64)
        y = rng.integers(int(lo), int(hi) + 1, size=shape).astype(np.float64)
    else:
        x = rng.uniform(lo, hi, size=shape)
        y = rng.uniform(lo, hi, size=shape)
    r_max = cfg.radius_max(x, y)
    # The largest extent of the ring (its radius, or an ellipse's semi-major axis) fits the image.
    extent = cfg.radius_min + rng.random(shape) * (r_max - cfg.radius_min)
    thickness = rng.uniform(*cfg.thickness_range, size=shape)
    deformation = rng.uniform(*cfg.deformation_range, size=shape)
    radius, path, extra = extent, 1.0, {}
    if cfg.inclined:
        inclination = rng.uniform(*cfg.inclination_range, size=shape)
        cos_a = np.cos(np.radians(inclination))
        radius = extent * cos_a**2  # the circle the cone would draw at normal incidence
        path = 1.0 / cos_a  # a longer path through the radiator: more photons
        extra = {
            "semi_major": extent,
            "semi_minor": extent * cos_a,
            "orientation": rng.uniform(0.0, np.pi, size=shape),
            "inclination": inclination,
        }
    columns = dict(x=x, y=y, radius=radius, thickness=thickness, deformation=deformation)
    photons = rng.poisson(cfg.photon_density * 2 * np.pi * radius * path)
    present = np.arange(max_rings)[None, :] < n_rings[:, None]
    table = {"n_rings": n_rings}
    for k in range(max_rings):
        for name in RING_PARAMETERS:
            table[f"{name}_{k + 1}"] = np.where(present[:, k], columns[name][:, k], np.nan)
        table[f"photons_{k + 1}"] = np.where(present[:, k], photons[:, k], 0)
        for name in extra:
            table[f"{name}_{k + 1}"] = np.where(present[:, k], extra[name][:, k], np.nan)
    return pd.DataFrame(table)


def _max_rings_of(labels: pd.DataFrame) -> int:
    k = 0
    while f"x_{k + 1}" in labels.columns:
        k += 1
    if k == 0 or "n_rings" not in labels.columns:
        raise ValueError(
            "labels must have the columns n_rings, x_1, y_1, radius_1, thickness_1, deformation_1, "
            "photons_1 (as made by sample_ring_parameters)."
        )
    return k


def sample_hits(labels: pd.DataFrame, *, config: RingConfig = RingConfig(), seed=0):
    """Photon hit positions for the rings in ``labels``.

    Returns ``(hx, hy, width, valid)``, each of shape (N, H): hit coordinates in pixels, the
    resolution t of each hit (its ring's thickness; 0.5 px for noise hits), and a mask of real hits
    (rings' photons plus noise hits); H is the largest number of hits in any image. With
    ``config.detector == "photons"`` the positions are as recorded (displaced by N(0, t^2) in x and
    y); with ``"spots"`` they are the ideal positions, and ``width`` is the spot to paint. Labels
    with the columns ``inclination_k`` and ``orientation_k`` give elliptical rings (see the module
    docstring).
    """
    rng = _rng(seed)
    cfg = config
    k_max = _max_rings_of(labels)
    n = len(labels)

    def columns(name, dtype=np.float64):
        return labels[[f"{name}_{k}" for k in range(1, k_max + 1)]].to_numpy(dtype)

    x, y, radius, thickness, deformation = (columns(p) for p in RING_PARAMETERS)
    photons = columns("photons", np.int64)
    present = ~np.isnan(x)
    bad = present & ~(np.isfinite(radius) & np.isfinite(thickness) & np.isfinite(deformation))
    if bad.any():
        raise ValueError(
            f"labels have NaN ring parameters for {int(bad.any(axis=1).sum())} images; "
            "every present ring needs x, y, radius, thickness and deformation."
        )
    photons = np.where(present, photons, 0)
    if (photons < 0).any():
        raise ValueError("labels have negative photon counts; photons_k must be >= 0.")
    if (present & ((radius <= 0) | (thickness <= 0) | (deformation < 0))).any():
        raise ValueError(
            "labels need radius > 0, thickness > 0 and deformation >= 0 for every ring."
        )
    if "inclination_1" in labels.columns:
        inclination = np.nan_to_num(columns("inclination"))
        orientation = np.nan_to_num(columns("orientation"))
        if (present & ~((inclination >= 0) & (inclination <= MAX_INCLINATION))).any():
            raise ValueError(
                f"labels need inclination_k in [0, {MAX_INCLINATION:g}] degrees for every ring."
            )
    else:
        inclination = orientation = np.zeros_like(x)
    m = max(int(photons.max(initial=0)), 1)
    idx = np.arange(m)
    ring_valid = idx[None, None, :] < photons[:, :, None]  # (N, K, M)
    phi = rng.uniform(0.0, 2 * np.pi, size=(n, k_max, m))
    jitter = rng.uniform(-1.0, 1.0, size=(n, k_max, m))
    # Every photon at radius R + U(-d, d) px, in the frame of the circle the cone would draw on a
    # detector normal to the track ...
    r = np.nan_to_num(radius)[:, :, None] + np.nan_to_num(deformation)[:, :, None] * jitter
    u, v = r * np.cos(phi), r * np.sin(phi)
    # ... stretched by 1 / cos^2(alpha) along the track's azimuth psi and 1 / cos(alpha) across.
    cos_a = np.cos(np.radians(inclination))[:, :, None]
    u, v = u / cos_a**2, v / cos_a
    cos_p, sin_p = np.cos(orientation)[:, :, None], np.sin(orientation)[:, :, None]
    hx = np.nan_to_num(x)[:, :, None] + u * cos_p - v * sin_p
    hy = np.nan_to_num(y)[:, :, None] + u * sin_p + v * cos_p
    width = np.broadcast_to(np.nan_to_num(thickness, nan=1.0)[:, :, None], (n, k_max, m))
    if cfg.detector == "photons":
        # The detector's resolution: every photon lands N(0, t^2) off in x and in y.
        hx = hx + width * rng.standard_normal(hx.shape)
        hy = hy + width * rng.standard_normal(hy.shape)
    hx, hy = hx.reshape(n, -1), hy.reshape(n, -1)
    width, ring_valid = width.reshape(n, -1), ring_valid.reshape(n, -1)
    # Dark-count noise: uniform over the detector, spot width 0.5 px.
    n_noise = rng.poisson(cfg.noise_hits, size=n)
    q = max(int(n_noise.max(initial=0)), 1)
    size = cfg.image_size
    nx = rng.uniform(-0.5, size - 0.5, size=(n, q))
    ny = rng.uniform(-0.5, size - 0.5, size=(n, q))
    noise_valid = np.arange(q)[None, :] < n_noise[:, None]
    hx = np.concatenate([hx, nx], axis=1)
    hy = np.concatenate([hy, ny], axis=1)
    width = np.concatenate([width, np.full((n, q), 0.5)], axis=1)
    valid = np.concatenate([ring_valid, noise_valid], axis=1)
    # Pack the real hits to the front of each row and drop the all-padding tail.
    order = np.argsort(~valid, axis=1, kind="stable")[
        :, : max(int(valid.sum(axis=1).max(initial=0)), 1)
    ]
    return tuple(np.take_along_axis(a, order, axis=1) for a in (hx, hy, width, valid))


def _pixel_weights(centres: np.ndarray, width: np.ndarray, size: int) -> np.ndarray:
    """Fraction of a 1-D Gaussian (centre, width) in each pixel [i-0.5, i+0.5]: (N, H, size)."""
    edges = np.arange(size + 1, dtype=np.float32) - np.float32(0.5)
    inv = (1.0 / (np.sqrt(2.0) * width)).astype(np.float32)
    z = (edges[None, None, :] - centres.astype(np.float32)[:, :, None]) * inv[:, :, None]
    cdf = erf(z)
    return 0.5 * (cdf[..., 1:] - cdf[..., :-1])


def render_hits(
    hx, hy, width, valid, *, image_size: int = 28, normalise: bool = True
) -> np.ndarray:
    """Images (N, 1, size, size) float32 from hits: every hit a pixel-integrated Gaussian spot.

    A spot is separable, so the image is a batched matrix product of the y and x pixel weights.
    With ``normalise`` each image is divided by its maximum (images with no hits stay zero).
    """
    wx = _pixel_weights(hx, width, image_size)
    wy = _pixel_weights(hy, width, image_size) * valid[:, :, None]
    images = np.matmul(wy.transpose(0, 2, 1), wx)
    if normalise:
        peak = images.max(axis=(1, 2), keepdims=True)
        images = np.divide(images, peak, out=np.zeros_like(images), where=peak > 0)
    return images[:, None].astype(np.float32)


def count_hits(hx, hy, valid, *, image_size: int = 28, normalise: bool = True) -> np.ndarray:
    """Images (N, 1, size, size) float32 of photon counts: every valid hit adds one count to
    the pixel it lands in (pixel j covers [j - 0.5, j + 0.5]); hits off the detector are lost.
    With ``normalise`` each image is divided by its largest count (images with no hits stay zero).
    """
    hx, hy, valid = np.asarray(hx), np.asarray(hy), np.asarray(valid, bool)
    n = len(hx)
    col = np.floor(hx + 0.5).astype(np.int64)
    row = np.floor(hy + 0.5).astype(np.int64)
    inside = valid & (col >= 0) & (col < image_size) & (row >= 0) & (row < image_size)
    flat = (np.arange(n)[:, None] * image_size + row) * image_size + col
    counts = np.bincount(flat[inside], minlength=n * image_size**2).astype(np.float32)
    images = counts.reshape(n, image_size, image_size)
    if normalise:
        peak = images.max(axis=(1, 2), keepdims=True)
        images = np.divide(images, peak, out=np.zeros_like(images), where=peak > 0)
    return images[:, None]


def render_rings(
    labels: pd.DataFrame, *, config: RingConfig = RingConfig(), seed=0, chunk: int = 256
) -> np.ndarray:
    """Images (N, 1, size, size) float32 for given ring parameters (``sample_ring_parameters``)."""
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(
            f"labels must be a pandas DataFrame of ring parameters, got {type(labels).__name__}."
        )
    rng = _rng(seed)
    out = np.empty((len(labels), 1, config.image_size, config.image_size), np.float32)
    for start in range(0, len(labels), chunk):
        part = labels.iloc[start : start + chunk]
        hx, hy, width, valid = sample_hits(part, config=config, seed=rng)
        if config.detector == "photons":
            out[start : start + chunk] = count_hits(hx, hy, valid, image_size=config.image_size)
        else:
            out[start : start + chunk] = render_hits(
                hx, hy, width, valid, image_size=config.image_size
            )
    return out


def simulate_rings(
    n: int, *, max_rings: int = 1, min_rings: int = 1, config: RingConfig | None = None, seed=0
):
    """Simulate ``n`` ring images: returns ``(images (n, 1, 28, 28) float32, labels DataFrame)``.

    ``max_rings``/``min_rings`` bound the number of rings per image (uniform in between);
    ``config`` changes the geometry and physics (see ``RingConfig``); ``seed`` fixes everything.
    """
    config = RingConfig() if config is None else config
    if not isinstance(config, RingConfig):
        raise TypeError(f"config must be a RingConfig, got {type(config).__name__}.")
    n = _check_count("n", n)
    max_rings = _check_count("max_rings", max_rings)
    # images, labels (about 3 kB per ring) and the hits of one chunk of 256 images
    per_image = 4 * config.image_size**2 + 3000 * max_rings
    check_memory(n * per_image + 7e7, f"simulate_rings({n}, max_rings={max_rings})")
    rng = _rng(seed)
    labels = sample_ring_parameters(
        n, max_rings=max_rings, min_rings=min_rings, config=config, seed=rng
    )
    return render_rings(labels, config=config, seed=rng), labels


def ring_targets(labels: pd.DataFrame, ring: int = 1) -> np.ndarray:
    """Targets (x, y, radius, thickness, deformation) of ring ``ring``: (N, 5) float32."""
    cols = [f"{p}_{ring}" for p in RING_PARAMETERS]
    missing = [c for c in cols if c not in labels.columns]
    if missing:
        raise ValueError(
            f"labels lack the columns {missing}; ring must be between 1 and the simulated "
            "max_rings."
        )
    values = labels[cols].to_numpy(np.float32)
    if np.isnan(values).any():
        raise ValueError(
            f"some images have no ring {ring} (NaN targets); select images with n_rings >= {ring}."
        )
    return values


def ellipse_targets(labels: pd.DataFrame, ring: int = 1) -> np.ndarray:
    """Targets of inclined ring ``ring``: (N, 6) float32, the columns of ``ELLIPSE_PARAMETERS``
    (x, y, semi-major, semi-minor [px], cos 2 psi, sin 2 psi)."""
    needed = [f"{p}_{ring}" for p in ("x", "y", "semi_major", "semi_minor", "orientation")]
    missing = [c for c in needed if c not in labels.columns]
    if missing:
        raise ValueError(
            f"labels lack the ellipse columns {missing}: simulate inclined rings with "
            "RingConfig(inclination_range=(low, high)) in degrees, e.g. (0, 30); circles have "
            "only x, y and radius."
        )
    values = labels[needed].to_numpy(np.float64)
    if np.isnan(values).any():
        raise ValueError(
            f"some images have no ring {ring} (NaN targets); select images with n_rings >= {ring}."
        )
    psi = values[:, 4]
    return np.column_stack([values[:, :4], np.cos(2 * psi), np.sin(2 * psi)]).astype(np.float32)


def orientation_from_targets(cos_2psi, sin_2psi) -> np.ndarray:
    """Orientation psi [radians, in [0, pi)] of the major axis from (cos 2 psi, sin 2 psi)."""
    return np.mod(0.5 * np.arctan2(sin_2psi, cos_2psi), np.pi)


def check_images(images, *, image_size: int = 28, name: str = "images") -> np.ndarray:
    """Validate ring images: a finite float array of shape (N, 1, size, size); returns float32."""
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1:] != (1, image_size, image_size):
        raise ValueError(
            f"{name} must have shape (N, 1, {image_size}, {image_size}) (channels first), "
            f"got {arr.shape}."
        )
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name} contain NaN or infinite values; clean or drop those images first."
        )
    return arr


def radial_profile(images, x, y, edges) -> np.ndarray:
    """Mean intensity of images (N, 1, H, W) in rings of pixels around centres ``x``, ``y`` (N,)
    [px], binned by distance with ``edges`` (B + 1,) [px]: (N, B), NaN where a bin has no pixel."""
    arr = check_images(images, image_size=np.shape(images)[-1])[:, 0]
    x, y = np.asarray(x, float).reshape(-1, 1, 1), np.asarray(y, float).reshape(-1, 1, 1)
    if len(x) != len(arr) or len(y) != len(arr):
        raise ValueError(f"x and y need one centre per image ({len(arr)}), got {len(x)}, {len(y)}.")
    rows, cols = np.indices(arr.shape[1:])
    distance = np.hypot(cols[None] - x, rows[None] - y)  # pixel centres at integer coordinates
    edges = np.asarray(edges, float)
    index = np.digitize(distance, edges) - 1
    n_bins = len(edges) - 1
    inside = (index >= 0) & (index < n_bins)
    flat = np.where(inside, index, n_bins) + (n_bins + 1) * np.arange(len(arr))[:, None, None]
    size = (n_bins + 1) * len(arr)
    total = np.bincount(flat.ravel(), arr.ravel(), minlength=size).reshape(len(arr), -1)
    count = np.bincount(flat.ravel(), minlength=size).reshape(len(arr), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count)[:, :n_bins]
