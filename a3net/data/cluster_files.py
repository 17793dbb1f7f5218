"""Galaxy-cluster image files (chapters D/G): the hack's mock X-ray images and one The Three
Hundred X-ray map.

**The hack's layout** (Ntampaka et al. 2019 mocks as the school distributed them), read by
:func:`load_cluster_mocks`: a FITS image cube, shape (N, H, W), photon counts (0.5-2 keV), in the
primary HDU or the first image HDU; and a table (FITS binary table, CSV or a whitespace table with
a ``#`` header line) with one row per image, in the same order: ``log_M500`` (log10 M500c
[Msun/h]), the split (a ``split`` column with ``train``/``validate``/``test``, or three boolean
columns ``train``, ``validate``, ``test``), optionally ``cluster_id`` (or ``halo_id``) and
``projection``. Column names are matched without regard to case.

**The Three Hundred** (:func:`load_the300_xray`, :func:`to_simulator_scale`): one simulated,
idealised X-ray map (0.1-15 keV according to the README of A. Arendt's ClusterMergersXrayOnly
repository, where it comes from; smooth, without photon noise),
640 x 640 pixels covering 4 R200 on a side. Its header (COMMENT1-COMMENT8) gives region 0131,
AHF halo 114000000000001, z = 0.363, log10 M200 = 14.391 [Msun/h], R200 = 1222.0 kpc/h, units
erg/s/cm2, pixel 7.638 kpc/h and the label "merging". Lengths in that header are **comoving**
kpc/h: with The Three Hundred's cosmology (MDPL2, Planck 2015: h = 0.6777, Omega_m = 0.307115)
M200 = 10^14.391 Msun/h gives a proper R200 of 896 kpc/h = 1222 / (1 + z). The package's
simulator works in proper Mpc/h, so :func:`to_simulator_scale` converts. The other header cards
(``PIXVAL = 'y parameter'``, ``UNITS = 'kpc'``, a TAN WCS without pixel scale) are left over from
the Compton-y maps of the same pipeline and are ignored.

The map's absolute scale is not a physical flux: its pixels sum to 1.09 "erg/s/cm2", some 1e12
times the 0.1-15 keV flux of a 2.5e14 Msun/h cluster at z = 0.36 (~1e-12 erg/s/cm2). Its shape
(relative surface brightness) is what is usable; pass ``total_counts`` to
:func:`to_simulator_scale` to give it the photon budget of the simulator's images.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import fetch as _fetch
from ._open import open_fits

__all__ = [
    "KEV_ERG",
    "SPLITS",
    "THE300_COSMOLOGY",
    "load_cluster_mocks",
    "load_the300_xray",
    "m200_to_m500",
    "r_delta_kpc",
    "to_simulator_scale",
]

SPLITS = ("train", "validate", "test")
_SPLIT_ALIASES = {"val": "validate", "valid": "validate", "validation": "validate"}
KEV_ERG = 1.602176634e-9  # erg per keV
THE300_COSMOLOGY = {"h": 0.6777, "omega_m": 0.307115}  # MDPL2 / Planck 2015, The Three Hundred
_RHO_CRIT0 = 2.775e11  # critical density today [h^2 Msun / Mpc^3] = [Msun/h / (Mpc/h)^3]


# ----------------------------------------------------------------------------------------------
# The hack's mock images
# ----------------------------------------------------------------------------------------------


def _read_cube(path: Path) -> np.ndarray:
    """The (N, H, W) cube of the primary HDU or the first image HDU with data, as float32."""
    with open_fits(path, what=f"images: {path.name}") as hdul:
        found = [
            (i, h) for i, h in enumerate(hdul) if h.is_image and h.data is not None and h.data.size
        ]
        if not found:
            raise ValueError(
                f"images: {path.name} has no image HDU with data; write the cube (N, H, W) as "
                "the primary HDU or an ImageHDU."
            )
        index, hdu = found[0]
        if hdu.data.ndim != 3:
            raise ValueError(
                f"images: HDU {index} of {path.name} has shape {hdu.data.shape}, not a 3-D cube "
                "(N, H, W); stack the images with numpy.stack(images) before writing them."
            )
        cube = np.asarray(hdu.data, dtype=np.float32)
    bad_values = ~np.isfinite(cube)
    negative = cube < 0
    if bad_values.any() or negative.any():
        raise ValueError(
            f"images: {path.name} holds {int(bad_values.sum())} non-finite and "
            f"{int(negative.sum())} negative pixels, but photon counts must be finite and >= 0; "
            "clean the cube (e.g. numpy.nan_to_num and clip at 0) or drop those images."
        )
    return cube


def _column(df: pd.DataFrame, name: str) -> str | None:
    """The column of ``df`` called ``name`` without regard to case, or None."""
    matches = [c for c in df.columns if str(c).strip().lower() == name.lower()]
    return matches[0] if matches else None


def _as_flag(values: pd.Series, column: str, file: str) -> np.ndarray:
    """A train/validate/test flag column (bool, 0/1, or 'true'/'false' strings) as bool."""
    if values.dtype == bool:
        return values.to_numpy()
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float)
        if np.isin(numbers, (0.0, 1.0)).all():
            return numbers == 1.0
    else:
        text = values.astype(str).str.strip().str.lower()
        mapping = {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}
        if text.isin(list(mapping)).all():
            return text.map(mapping).to_numpy(dtype=bool)
    raise ValueError(
        f"table: column {column!r} of {file} must hold booleans (True/False or 1/0), got values "
        f"such as {list(pd.unique(values))[:4]}."
    )


def _splits(df: pd.DataFrame, file: str) -> tuple[np.ndarray, list[str]]:
    """The split of every row, and the columns it was read from."""
    col = _column(df, "split")
    if col is not None:
        text = df[col].astype(str).str.strip().str.lower().replace(_SPLIT_ALIASES)
        unknown = sorted(set(text) - set(SPLITS))
        if unknown:
            raise ValueError(
                f"table: column {col!r} of {file} has values {unknown[:5]} that are not "
                "train/validate/test; rename them to one of these three."
            )
        return text.to_numpy(dtype=object), [col]
    cols = [_column(df, s) for s in SPLITS]
    if None in cols:
        raise ValueError(
            f"table: {file} has no split: add a column 'split' (train/validate/test) or three "
            f"boolean columns 'train', 'validate', 'test'; its columns are {list(df.columns)}."
        )
    flags = np.stack([_as_flag(df[c], c, file) for c in cols], axis=1)
    per_row = flags.sum(axis=1)
    if (per_row != 1).any():
        raise ValueError(
            f"table: in {file}, {int((per_row == 0).sum())} rows are in none and "
            f"{int((per_row > 1).sum())} rows in several of train/validate/test; each row needs "
            "exactly one True."
        )
    return np.asarray(SPLITS, dtype=object)[flags.argmax(axis=1)], cols


def load_cluster_mocks(images, table, *, offline: bool | None = None):
    """The hack's mock X-ray images and their catalogue (layout in the module docstring).

    ``images``, ``table``: local paths or http(s)/file URLs (http(s) files are downloaded once
    into ``a3net.data.fetch.data_dir()/urls``; ``offline``, default env ``A3NET_OFFLINE``,
    forbids that). Returns ``(images, catalogue)``: float32 (N, 1, H, W) photon counts and a
    DataFrame of N rows with ``log_m500`` (log10 M500c [Msun/h]), ``split`` ('train',
    'validate', 'test'), ``cluster_id``, ``projection``, then the table's other columns.

    ``cluster_id`` comes from a ``cluster_id`` or ``halo_id`` column; without one it is the row
    index, so every image counts as its own cluster: a split by cluster (needed when there are
    several projections per cluster) then needs the ids from elsewhere. ``projection`` comes from
    its column, else numbers the rows of each cluster 0, 1, ... in file order.
    ``catalogue.attrs``: ``images``, ``table`` (the files read) and ``clusters_in_several_splits``
    (clusters whose projections are in more than one split: a leak between the splits).
    """
    images_path = _fetch.resolve_source(images, "images", offline=offline)
    table_path = _fetch.resolve_source(table, "table", offline=offline)
    cube = _read_cube(images_path)

    from .catalogues import load_table

    df = load_table(table_path)
    file = table_path.name
    if len(df) != len(cube):
        raise ValueError(
            f"table: {file} has {len(df)} rows but the cube {images_path.name} has {len(cube)} "
            "images; pass the table that belongs to this cube (one row per image, same order)."
        )
    mass_col = _column(df, "log_M500")
    if mass_col is None:
        raise ValueError(
            f"table: {file} has no column 'log_M500' (log10 M500c [Msun/h]); its columns are "
            f"{list(df.columns)}: rename the mass column to log_M500."
        )
    log_m500 = pd.to_numeric(df[mass_col], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(log_m500).all():
        raise ValueError(
            f"table: column {mass_col!r} of {file} has {int((~np.isfinite(log_m500)).sum())} "
            "missing or non-numeric values; every image needs its log10 M500c."
        )
    if np.median(log_m500) > 20:
        raise ValueError(
            f"table: column {mass_col!r} of {file} has values like {np.median(log_m500):.3g}, "
            "which look like masses, not log10 masses; store numpy.log10(M500c) instead."
        )
    split, used = _splits(df, file)
    used.append(mass_col)

    id_col = _column(df, "cluster_id") or _column(df, "halo_id")
    if id_col is not None:
        cluster_id = df[id_col].to_numpy()
        used.append(id_col)
    else:
        cluster_id = np.arange(len(df))
    proj_col = _column(df, "projection")
    if proj_col is not None:
        projection = df[proj_col].to_numpy()
        used.append(proj_col)
    else:
        projection = pd.Series(cluster_id).groupby(cluster_id, sort=False).cumcount().to_numpy()

    catalogue = pd.DataFrame(
        {
            "log_m500": log_m500,
            "split": split,
            "cluster_id": cluster_id,
            "projection": projection,
        }
    )
    for col in df.columns:
        if col not in used and col not in catalogue.columns:
            catalogue[col] = df[col].to_numpy()
    per_cluster = catalogue.groupby("cluster_id", sort=False)["split"].nunique()
    catalogue.attrs = {
        "images": str(images_path),
        "table": str(table_path),
        "clusters_in_several_splits": int((per_cluster > 1).sum()),
    }
    return cube[:, None], catalogue


# ----------------------------------------------------------------------------------------------
# Masses and radii
# ----------------------------------------------------------------------------------------------


def _nfw_m(x):
    return np.log1p(x) - x / (1.0 + x)


def m200_to_m500(log_m200, concentration: float = 4.0):
    """log10 M500c from log10 M200c for an NFW halo of concentration c200 (default 4).

    Solves m(x500) / x500^3 = 2.5 m(c) / c^3, m(x) = ln(1 + x) - x / (1 + x), and returns
    log_m200 + log10(m(x500) / m(c)); for c = 4, M500 = 0.692 M200 (log10 offset -0.160).
    Units follow the input (Msun/h in, Msun/h out); works on scalars and arrays.
    """
    from scipy.optimize import brentq

    c = float(concentration)
    if not np.isfinite(c) or c <= 0:
        raise ValueError(f"concentration must be a positive number, got {concentration!r}.")
    target = 2.5 * _nfw_m(c) / c**3
    x500 = brentq(lambda x: _nfw_m(x) / x**3 - target, 1e-6 * c, c)
    return np.asarray(log_m200, dtype=float) + np.log10(_nfw_m(x500) / _nfw_m(c))


def r_delta_kpc(log_m, redshift, *, delta: float = 200.0, cosmology=None):
    """Proper radius [kpc/h] within which the mean density is ``delta`` times critical at z.

    ``log_m``: log10 M_delta [Msun/h]; flat LambdaCDM with ``cosmology`` = {"omega_m": ...}
    (default :data:`THE300_COSMOLOGY`). Multiply by (1 + z) for comoving kpc/h.
    """
    omega_m = (cosmology or THE300_COSMOLOGY)["omega_m"]
    z = np.asarray(redshift, dtype=float)
    rho_c = _RHO_CRIT0 * (omega_m * (1 + z) ** 3 + 1 - omega_m)
    mass = 10.0 ** np.asarray(log_m, dtype=float)
    return 1e3 * np.cbrt(3 * mass / (4 * np.pi * delta * rho_c))


# ----------------------------------------------------------------------------------------------
# The Three Hundred X-ray map
# ----------------------------------------------------------------------------------------------

_HEADER_FIELDS = {
    "region": r"Simulation Region:\s*(\S+)",
    "halo_id": r"AHF Halo ID:\s*(\S+)",
    "redshift": r"Simulation redshift:\s*([-+.\deE]+)",
    "log_m200": r"log M_200\s*=\s*([-+.\deE]+)",
    "r200_kpc": r"R_200\s*=\s*([-+.\deE]+)",
    "units": r"Units\s*=\s*(\S+)",
    "pixel_kpc": r"Px sz\s*=\s*([-+.\deE]+)",
    "label": r"Label\s*=\s*(\S+)",
}


def load_the300_xray(path=None, *, offline: bool | None = None):
    """The Three Hundred X-ray map and what its header says (see the module docstring).

    ``path``: a local file, or None for the registered copy ``fetch("clusters/The300_Xray.fits")``
    (``offline`` as in :func:`a3net.data.fetch.fetch`). Returns ``(image, info)``: float64
    (640, 640), "erg/s/cm2" per pixel (row 0 at the bottom with ``origin="lower"``), and a dict
    with ``log_m200`` [log10 Msun/h], ``log_m500`` (:func:`m200_to_m500`, NFW c = 4),
    ``r200_kpc`` and ``pixel_kpc`` (comoving kpc/h, as in the header), ``r200_kpc_proper``,
    ``pixel_kpc_proper`` (divided by 1 + z), ``redshift``, ``units``, ``label``, ``region``,
    ``halo_id``, ``band`` ('0.1-15 keV'), ``flux_total`` (sum of the pixels), ``cosmology``,
    ``source`` (the file read).
    """
    if path is None:
        path = _fetch.fetch("clusters/The300_Xray.fits", offline=offline)
    path = _fetch.resolve_source(path, "path", offline=offline)
    with open_fits(path, what=f"path: {path.name}", ignore_missing_simple=True) as hdul:
        header = hdul[0].header
        data = hdul[0].data
        if data is None or data.ndim != 2:
            shape = None if data is None else data.shape
            raise ValueError(
                f"path: {path.name} has primary data of shape {shape}, not a 2-D X-ray map; "
                "pass The Three Hundred file (clusters/The300_Xray.fits)."
            )
        image = np.array(data, dtype=np.float64)
        cards = [str(v) for k, v in header.items() if re.fullmatch(r"COMMENT\d+", k)]
    info: dict = {}
    for key, pattern in _HEADER_FIELDS.items():
        found = [m.group(1) for m in (re.search(pattern, c) for c in cards) if m]
        if not found:
            raise ValueError(
                f"path: the header of {path.name} has no card matching {pattern!r} among its "
                "COMMENT1.. cards; pass The Three Hundred file (clusters/The300_Xray.fits)."
            )
        info[key] = found[0]
    for key in ("redshift", "log_m200", "r200_kpc", "pixel_kpc"):
        try:
            info[key] = float(info[key])
        except ValueError:
            raise ValueError(
                f"path: the header of {path.name} gives {key} = {info[key]!r}, not a number; the "
                "file is damaged: download it again."
            ) from None
    z = info["redshift"]
    info["r200_kpc_proper"] = info["r200_kpc"] / (1 + z)
    info["pixel_kpc_proper"] = info["pixel_kpc"] / (1 + z)
    info["log_m500"] = float(m200_to_m500(info["log_m200"]))
    info["band"] = "0.1-15 keV"
    info["flux_total"] = float(image.sum())
    info["cosmology"] = dict(THE300_COSMOLOGY)
    info["source"] = str(path)
    if not np.isfinite(image).all() or (image < 0).any():
        raise ValueError(f"path: {path.name} holds negative or non-finite pixels.")
    return image, info


def _overlaps(start: float, step: float, n: int, n_src: int) -> np.ndarray:
    """(n, n_src) fraction of each source pixel [j, j+1) inside target pixel i, whose edges are
    start + i * step and start + (i + 1) * step (source-pixel units)."""
    lo = start + step * np.arange(n)[:, None]
    j = np.arange(n_src)[None, :]
    return np.clip(np.minimum(lo + step, j + 1) - np.maximum(lo, j), 0.0, None)


def to_simulator_scale(
    image,
    info: dict,
    *,
    image_size: int,
    field_mpc: float,
    exposure_ks: float = 100.0,
    area_cm2: float = 400.0,
    photon_kev: float = 1.2,
    seed: int | None = None,
    centre: str = "image",
    total_counts: float | None = None,
    comoving: bool = False,
):
    """A The Three Hundred map regridded to the simulator's field and turned into photon counts.

    The map (H, W) [erg/s/cm2 per pixel] is rebinned by exact area-weighted overlap (each source
    pixel's flux is shared among the output pixels it overlaps, so flux is conserved) onto
    ``image_size`` x ``image_size`` pixels spanning ``field_mpc`` Mpc/h, proper at the map's
    redshift (the simulator's convention; ``comoving=True`` reads it as comoving). The field is
    centred on the map's centre (``centre="image"``, the AHF halo centre, as the simulator
    centres its clusters) or on its brightest pixel after a 5 x 5 box smoothing
    (``centre="peak"``); the parts outside the map are zero. Expected counts =
    flux x ``area_cm2`` x ``exposure_ks`` x 1000 / (``photon_kev`` x 1.602e-9 erg); with
    ``total_counts`` they are instead rescaled to sum to it (advised: the map's absolute flux is
    not physical, see the module docstring). With ``seed`` the counts are Poisson-drawn.
    ``info`` needs ``pixel_kpc`` (comoving kpc/h) and ``redshift``. Returns float32
    (image_size, image_size); ``out[None, None]`` has the simulator's (N, 1, S, S) shape.
    """
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"image must be a 2-D map (H, W), got shape {arr.shape}.")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("image must be finite and non-negative (a flux map).")
    if not isinstance(info, dict) or not {"pixel_kpc", "redshift"} <= set(info):
        raise ValueError("info must be the dict of load_the300_xray with pixel_kpc and redshift.")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise TypeError(f"image_size must be an int, got {type(image_size).__name__}.")
    if image_size < 1:
        raise ValueError(f"image_size must be >= 1, got {image_size}.")
    for name, value in (
        ("field_mpc", field_mpc),
        ("exposure_ks", exposure_ks),
        ("area_cm2", area_cm2),
        ("photon_kev", photon_kev),
    ):
        if not isinstance(value, (int, float, np.number)) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if centre not in ("image", "peak"):
        raise ValueError(f"centre must be 'image' or 'peak', got {centre!r}.")
    if total_counts is not None and not (np.isfinite(total_counts) and total_counts > 0):
        raise ValueError(f"total_counts must be a positive number or None, got {total_counts!r}.")

    pixel = float(info["pixel_kpc"]) / (1.0 if comoving else 1.0 + float(info["redshift"]))
    step = 1e3 * float(field_mpc) / image_size / pixel  # output pixel in source pixels
    height, width = arr.shape
    if centre == "image":
        cy, cx = height / 2, width / 2
    else:
        from scipy.ndimage import uniform_filter

        iy, ix = np.unravel_index(np.argmax(uniform_filter(arr, 5, mode="constant")), arr.shape)
        cy, cx = iy + 0.5, ix + 0.5
    half = step * image_size / 2
    wy = _overlaps(cy - half, step, image_size, height)
    wx = _overlaps(cx - half, step, image_size, width)
    flux = wy @ arr @ wx.T
    counts = flux * area_cm2 * exposure_ks * 1e3 / (photon_kev * KEV_ERG)
    if total_counts is not None and counts.sum() > 0:
        counts *= total_counts / counts.sum()
    if seed is not None:
        counts = np.random.default_rng(seed).poisson(counts).astype(np.float64)
    return counts.astype(np.float32)
