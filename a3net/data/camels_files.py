"""The CAMELS Multifield Dataset (CMD) 2D maps for chapters E and H: the real files, read lazily.

**The files** (Villaescusa-Navarro et al. 2022, ApJS; the LH set at z = 0):
``Maps_{field}_{suite}_LH_z=0.00.npy`` with ``field`` "Mtot" (total-mass column density,
(Msun/h)/(Mpc/h)^2) or "P" (gas pressure, h^2 Msun (km/s)^2 / kpc^3) and ``suite``
"IllustrisTNG" or "SIMBA": a float32 array (15000, 256, 256), each map covering the periodic
25 Mpc/h box on a side. ``params_LH_{suite}.txt``: 1,000 rows (one per simulation) of 6
whitespace-separated numbers, Omega_m, sigma_8, A_SN1, A_AGN1, A_SN2, A_AGN2. Map i belongs to
simulation i // 15, and map i of the Mtot file and map i of the P file show the same region.

A maps file is 3.9 GB: :func:`load_camels_maps` opens it with ``np.load(..., mmap_mode="r")`` and
copies only the maps of the simulations asked for, a few hundred at a time, averaging blocks of
pixels down to ``map_size`` as it goes. Without ``sources`` the files come from
``A3NET_DATA/camels/<file name>`` (put a copy downloaded by hand there) or are downloaded once
from the CMD server (URLs in :mod:`a3net.data.registry.cosmology`; no published sha256, so the
loader checks shapes and row counts instead).

The module's constants (``PARAMETER_NAMES``, ``PARAMETER_RANGES``, ``LOG_UNIFORM``, ``FIELDS``,
``SUITES``, ``MAPS_PER_SIMULATION``) follow the conventions of chapters E/H and equal those of
``a3net.data.cosmology``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import fetch as _fetch
from ._open import read_text
from .cosmology import (
    FIELDS,
    LOG_UNIFORM,
    MAPS_PER_SIMULATION,
    PARAMETER_NAMES,
    PARAMETER_RANGES,
    SUITES,
)
from .registry import cosmology as _cmd

__all__ = [
    "CMD_MAP_SIZE",
    "FIELDS",
    "LOG_UNIFORM",
    "MAPS_PER_SIMULATION",
    "PARAMETER_NAMES",
    "PARAMETER_RANGES",
    "SOURCE_KINDS",
    "SUITES",
    "block_mean",
    "load_camels_maps",
    "load_camels_params",
]


CMD_MAP_SIZE = 256
SOURCE_KINDS = ("params", *FIELDS)
"""Keys of the ``sources`` argument of :func:`load_camels_maps`."""

_SLABS_PER_AXIS = 5
_RANGE_TOLERANCE = 1e-6  # relative slack for values printed with a few decimals
_CHUNK_BYTES = 1 << 26  # maps copied from a memmap at a time: 64 MiB


# ----------------------------------------------------------------------------------------------
# Arguments and files
# ----------------------------------------------------------------------------------------------


def _check_suite(suite) -> str:
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(map(repr, SUITES))}, got {suite!r}.")
    return suite


def _check_fields(fields) -> tuple[str, ...]:
    if isinstance(fields, str):
        fields = (fields,)
    try:
        fields = tuple(fields)
    except TypeError:
        raise TypeError(
            f"fields must be a sequence of field names such as ('Mtot', 'P'), got {fields!r}."
        ) from None
    if not fields:
        raise ValueError("fields is empty; ask for at least one of 'Mtot', 'P'.")
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ValueError(
            f"fields has unknown names {unknown}; the CMD fields a3net reads are "
            f"{', '.join(map(repr, FIELDS))}."
        )
    if len(set(fields)) != len(fields):
        raise ValueError(f"fields names a field twice, got {fields}; list each field once.")
    return fields


def _check_sources(sources) -> dict:
    if sources is None:
        return {}
    if not isinstance(sources, dict):
        raise TypeError(
            f"sources must be a dict from file kind ({', '.join(map(repr, SOURCE_KINDS))}) to a "
            f"path or URL, got {type(sources).__name__}."
        )
    unknown = [k for k in sources if k not in SOURCE_KINDS]
    if unknown:
        raise ValueError(
            f"sources has unknown keys {unknown}; use {', '.join(map(repr, SOURCE_KINDS))} "
            "(the params file and the maps file of each field)."
        )
    return dict(sources)


def _size_text(entry: _cmd.UrlFile) -> str:
    return f"{entry.size_bytes / 1e9:.1f} GB" if entry.size_bytes else "a small text file"


def _locate(
    entry: _cmd.UrlFile, kind: str, suite: str, source, offline: bool | None, what: str = ""
) -> Path:
    """Path of a CMD file: ``source`` if given, else the hand-placed copy in the cache folder,
    else a download (or an earlier one) from the CMD server. ``what`` names the argument."""
    what = what or f"sources[{kind!r}]"
    if source is not None:
        return _fetch.resolve_source(source, what, offline=offline)
    local = _fetch.data_dir() / _cmd.FOLDER / entry.filename
    if local.is_file():
        return local
    failures = []
    for url in entry.urls:
        try:
            return _fetch.fetch_url(url, what, offline=offline)
        except _fetch.DataUnavailableError as exc:
            failures.append((url, exc))
    is_offline = _fetch._offline_from_env() if offline is None else offline
    if is_offline:
        why = "offline mode is on (offline=True or A3NET_OFFLINE=1)"
    else:
        url, exc = failures[0]
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        why = f"could not be downloaded ({_fetch._one_line(cause, url)})"
    hint = "source=path" if what == "source" else f"sources={{{kind!r}: path}}"
    raise _fetch.DataUnavailableError(
        f"The CAMELS file {entry.filename!r} ({_size_text(entry)}) is not in the a3net cache "
        f"and {why}: download it from {entry.urls[0]} ({_cmd.BY_HAND.format(suite=suite)}) and "
        f"place it at {local}, or pass its path as {hint}."
    )


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


def _read_params(path: Path) -> pd.DataFrame:
    """The (R, 6) parameter table of a CMD params file, checked."""
    text = read_text(path, f"params file {path.name}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for an empty file
            values = np.loadtxt(text.splitlines(), ndmin=2, dtype=np.float64)
    except ValueError as exc:
        reason = " ".join(str(exc).split())[:120].rstrip(" .")
        raise ValueError(
            f"params file {path.name} is not a table of numbers with the same number of columns "
            f"in every row ({reason}); pass the CMD file params_LH_<suite>.txt (6 numbers per "
            "row)."
        ) from None
    if values.size == 0:
        raise ValueError(
            f"params file {path.name} holds no rows; pass the CMD file params_LH_<suite>.txt."
        )
    if values.shape[1] != len(PARAMETER_NAMES):
        raise ValueError(
            f"params file {path.name} has {values.shape[1]} columns but a CMD LH params file has "
            f"6 (Omega_m, sigma_8, A_SN1, A_AGN1, A_SN2, A_AGN2); pass params_LH_<suite>.txt."
        )
    finite = np.isfinite(values)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        raise ValueError(
            f"params file {path.name} has NaN or infinite values in {rows.size} rows (first: "
            f"row {rows[0]}); every simulation needs its six parameters."
        )
    for j, name in enumerate(PARAMETER_NAMES):
        low, high = PARAMETER_RANGES[name]
        column = values[:, j]
        outside = (column < low * (1 - _RANGE_TOLERANCE)) | (column > high * (1 + _RANGE_TOLERANCE))
        if outside.any():
            raise ValueError(
                f"params file {path.name}: column {j + 1} ({name}) has {int(outside.sum())} "
                f"values outside its LH range [{low}, {high}] (from {column.min():.4g} to "
                f"{column.max():.4g}); the columns must be Omega_m, sigma_8, A_SN1, A_AGN1, "
                "A_SN2, A_AGN2 in this order."
            )
    frame = pd.DataFrame(values, columns=list(PARAMETER_NAMES))
    frame.index.name = "sim_id"
    frame.attrs = {"source": str(path)}
    return frame


def load_camels_params(suite: str, *, source=None, offline: bool | None = None) -> pd.DataFrame:
    """The parameters of the CMD LH simulations of ``suite``, one row per simulation.

    ``source``: a local path or http(s)/file URL of ``params_LH_{suite}.txt``; without it the
    file comes from ``A3NET_DATA/camels/`` or the CMD server (``offline``, default env
    ``A3NET_OFFLINE``, forbids the download: :class:`~a3net.data.fetch.DataUnavailableError`).
    Returns a DataFrame with columns :data:`PARAMETER_NAMES` (Omega_m, sigma_8 and the four
    dimensionless feedback amplitudes), float64, index ``sim_id`` 0..R-1 (R = 1000 for CMD);
    ``attrs["source"]`` is the file read. ValueError for a wrong column count, NaN, or values
    outside the LH ranges (:data:`PARAMETER_RANGES`).
    """
    suite = _check_suite(suite)
    path = _locate(_cmd.params_file(suite), "params", suite, source, offline, what="source")
    return _read_params(path)


# ----------------------------------------------------------------------------------------------
# Maps
# ----------------------------------------------------------------------------------------------


def block_mean(maps, factor: int) -> np.ndarray:
    """Maps (..., S, S) averaged over blocks of ``factor`` x ``factor`` pixels: float32
    (..., S / factor, S / factor). Keeps the mean of every map (and column densities)."""
    arr = np.asarray(maps)
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"factor must be a whole number of at least 1, got {factor!r}.")
    if arr.ndim < 2 or arr.shape[-1] % factor or arr.shape[-2] % factor:
        raise ValueError(
            f"maps of shape {arr.shape} cannot be cut into {factor} x {factor} blocks; the last "
            f"two axes must be multiples of {factor}."
        )
    if factor == 1:
        return arr.astype(np.float32)
    h, w = arr.shape[-2] // factor, arr.shape[-1] // factor
    blocks = arr.reshape(*arr.shape[:-2], h, factor, w, factor)
    return blocks.mean(axis=(-3, -1), dtype=np.float64).astype(np.float32)


def _open_maps(path: Path, kind: str) -> np.ndarray:
    """The maps file as a read-only memmap (N, S, S), checked without reading the data."""
    try:
        maps = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # ValueError, OSError, EOFError, tokenize errors of a bad header
        reason = " ".join(str(exc).split())[:120].rstrip(" .")
        raise ValueError(
            f"sources[{kind!r}]: {path.name} is not a complete .npy array file ({reason}); "
            f"pass a CMD maps file Maps_{kind}_<suite>_LH_z=0.00.npy (download it again if it "
            "was cut short)."
        ) from None
    if not isinstance(maps, np.ndarray):
        raise ValueError(
            f"sources[{kind!r}]: {path.name} is a .npz archive, not one .npy array; pass the CMD "
            f"maps file Maps_{kind}_<suite>_LH_z=0.00.npy."
        )
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2] or maps.dtype.kind != "f":
        raise ValueError(
            f"sources[{kind!r}]: {path.name} holds a {maps.dtype} array of shape {maps.shape}, "
            "but a CMD maps file holds float maps of shape (N, S, S) (15000, 256, 256); pass "
            f"Maps_{kind}_<suite>_LH_z=0.00.npy."
        )
    return maps


def _check_selection(n_sims, sims):
    """``sims`` as an int64 array (or None) and ``n_sims`` as an int (or None)."""
    if n_sims is not None and sims is not None:
        raise ValueError("pass n_sims (the first n simulations) or sims (their ids), not both.")
    if n_sims is not None:
        if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 1:
            raise ValueError(f"n_sims must be a whole number of at least 1, got {n_sims!r}.")
        return int(n_sims), None
    if sims is None:
        return None, None
    arr = np.asarray(sims)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"sims must be a non-empty 1-D sequence of integer simulation ids, got {sims!r}."
        )
    if len(np.unique(arr)) != len(arr):
        raise ValueError("sims lists a simulation more than once; list each id once.")
    return None, arr.astype(np.int64)


def _bad_sentence(field: str, path: Path, n_nonpos: int, n_nan: int, bad_sims) -> str:
    shown = ", ".join(map(str, bad_sims[:5])) + (", ..." if len(bad_sims) > 5 else "")
    return (
        f"{path.name} (field {field!r}) holds {n_nonpos} non-positive and {n_nan} NaN or "
        f"infinite pixels in {len(bad_sims)} simulations ({shown})"
    )


def load_camels_maps(
    suite: str,
    fields=("Mtot", "P"),
    *,
    n_sims: int | None = None,
    sims=None,
    map_size: int = 64,
    sources: dict | None = None,
    offline: bool | None = None,
):
    """CMD LH maps of ``suite`` for the simulations asked for, block-averaged to ``map_size``.

    ``fields``: the channels, in this order ("Mtot", "P"). ``n_sims``: the first n simulations,
    or ``sims``: a list of simulation ids (0..999; maps come in that order); neither: all 1,000
    (15,000 maps per field, 245 MB per field at 64 x 64). ``map_size``: pixels on a side after
    averaging blocks of (256 / map_size)^2 pixels (must divide the files' 256; 256 keeps the
    maps as they are). ``sources``: a dict from "params", "Mtot", "P" to a local path or
    http(s)/file URL (for your own copy); without it :func:`load_camels_params` explains where
    the files come from (``offline`` as there).

    Returns ``(maps, catalogue)``: float32 (n * 15, C, map_size, map_size) in the units of the
    files (the block mean keeps column densities), and a DataFrame of n * 15 rows with
    ``sim_id``, ``axis``, ``slab`` and the six :data:`PARAMETER_NAMES` (float64), as the
    simulator's catalogue. Map i of a file is simulation i // 15, ``axis`` = (i % 15) // 5 and
    ``slab`` = i % 5; the CMD documentation does not say which projection axis and slab each of
    the 15 maps of a simulation is, so ``axis`` and ``slab`` are labels of our convention only
    (use ``sim_id`` for splits). ``catalogue.attrs``: suite, fields, map_size, files.

    Only the needed rows are read, from a memory map (never the whole 3.9 GB file). ValueError
    for a maps file of the wrong shape, a maps count that is not 15 x the params rows, a
    ``map_size`` that does not divide the maps, or non-positive / NaN pixels in the maps read
    (reported with their simulations, never dropped silently).
    """
    suite = _check_suite(suite)
    fields = _check_fields(fields)
    sources = _check_sources(sources)
    if isinstance(map_size, bool) or not isinstance(map_size, (int, np.integer)) or map_size < 1:
        raise ValueError(
            f"map_size must be a whole number of pixels that divides {CMD_MAP_SIZE} (e.g. 64), "
            f"got {map_size!r}."
        )
    n_first, sim_ids = _check_selection(n_sims, sims)

    params_path = _locate(_cmd.params_file(suite), "params", suite, sources.get("params"), offline)
    params = _read_params(params_path)
    n_rows = len(params)

    files = {}
    for field in fields:
        path = _locate(_cmd.maps_file(field, suite), field, suite, sources.get(field), offline)
        files[field] = (path, _open_maps(path, field))
    shapes = {field: mm.shape for field, (_, mm) in files.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(
            f"the maps files of {', '.join(fields)} have different shapes {shapes}; pass files "
            "of the same suite and set (map i of each shows the same region)."
        )
    n_maps, size, _ = next(iter(shapes.values()))
    first_path = next(iter(files.values()))[0]
    if n_maps % MAPS_PER_SIMULATION:
        raise ValueError(
            f"the maps file {first_path.name} holds {n_maps} maps, not a multiple of "
            f"{MAPS_PER_SIMULATION} (maps per simulation); pass a complete CMD maps file."
        )
    if n_maps != MAPS_PER_SIMULATION * n_rows:
        raise ValueError(
            f"params file has {n_rows} rows but the maps file holds {n_maps} maps = "
            f"{n_maps // MAPS_PER_SIMULATION} simulations; pass the params file of the same "
            f"suite and set ({params_path.name} with {first_path.name})."
        )
    if size % map_size:
        divisors = [d for d in (256, 128, 64, 32, 16, 8) if size % d == 0 and d <= size]
        raise ValueError(
            f"map_size={map_size} does not divide the maps' {size} pixels; use a divisor of "
            f"{size} such as {', '.join(map(str, divisors))}."
        )

    if sim_ids is None:
        count = n_rows if n_first is None else n_first
        if count > n_rows:
            raise ValueError(
                f"n_sims={count} asks for more simulations than the files hold ({n_rows}); use "
                f"at most {n_rows}."
            )
        sim_ids = np.arange(count, dtype=np.int64)
    elif sim_ids.min() < 0 or sim_ids.max() >= n_rows:
        raise ValueError(
            f"sims must be simulation ids in [0, {n_rows - 1}], got values from {sim_ids.min()} "
            f"to {sim_ids.max()}."
        )

    per_sim = np.arange(MAPS_PER_SIMULATION)
    rows = (sim_ids[:, None] * MAPS_PER_SIMULATION + per_sim[None, :]).ravel()
    order = np.argsort(rows, kind="stable")  # read in file order, write in the order asked
    sorted_rows = rows[order]
    factor = size // map_size
    chunk = max(1, _CHUNK_BYTES // (size * size * 4))
    maps = np.empty((len(rows), len(fields), map_size, map_size), dtype=np.float32)
    problems = []
    for c, field in enumerate(fields):
        path, memmap = files[field]
        n_nonpos = n_nan = 0
        bad_rows = []
        for start in range(0, len(sorted_rows), chunk):
            idx = sorted_rows[start : start + chunk]
            if idx[-1] - idx[0] + 1 == len(idx):  # contiguous: one slice of the memmap
                block = np.array(memmap[idx[0] : idx[-1] + 1], dtype=np.float32)
            else:
                block = np.asarray(memmap[idx], dtype=np.float32)
            finite = np.isfinite(block)
            nonpos = finite & (block <= 0)
            if not finite.all() or nonpos.any():
                n_nan += int((~finite).sum())
                n_nonpos += int(nonpos.sum())
                bad_rows.append(idx[(~finite | nonpos).any(axis=(1, 2))])
            maps[order[start : start + chunk], c] = block_mean(block, factor)
        if bad_rows:
            bad_sims = np.unique(np.concatenate(bad_rows) // MAPS_PER_SIMULATION)
            problems.append(_bad_sentence(field, path, n_nonpos, n_nan, bad_sims))
    if problems:
        raise ValueError(
            f"{'; '.join(problems)}: a3net's maps must be positive and finite (they are "
            "log-transformed), so check the files, or leave those simulations out with sims=."
        )

    sim_of_map = rows // MAPS_PER_SIMULATION
    within = rows % MAPS_PER_SIMULATION
    catalogue = pd.DataFrame(
        {
            "sim_id": sim_of_map.astype(np.int64),
            "axis": (within // _SLABS_PER_AXIS).astype(np.int64),
            "slab": (within % _SLABS_PER_AXIS).astype(np.int64),
        }
    )
    values = params.to_numpy()[sim_of_map]
    for j, name in enumerate(PARAMETER_NAMES):
        catalogue[name] = values[:, j]
    catalogue.attrs = {
        "suite": suite,
        "fields": fields,
        "map_size": int(map_size),
        "files": tuple(str(p) for p in [params_path, *(files[f][0] for f in fields)]),
        "source": "CMD",
    }
    return maps, catalogue
