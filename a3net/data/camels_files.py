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
``A3NET_DATA/camels/<file name>`` (put a copy downloaded by hand there) or from the CMD server
(URLs in :mod:`a3net.data.registry.cosmology`); the small params file is downloaded whole.

**Partial download of a maps file.** From the server (or an http(s) URL given in ``sources``)
only the maps of the simulations asked for are downloaded. A first HTTP range request reads the
.npy header (1 kB; parsed with ``numpy.lib.format``: the magic string, version 1.0 or 2.0,
dtype '<f4', C order, shape (15000, 256, 256) for the CMD server, and a file size that matches).
Then each run of consecutive simulation ids missing locally is fetched with range requests of
at most 64 MiB (17 simulations; ``n_sims=200`` is one run of 786.4 MB, 20 % of the 3.9 GB) into
``A3NET_DATA/camels/partial/<file name>`` (``A3NET_DATA/urls/<key>/partial/`` for a URL): a
valid .npy file of the FULL shape, written with ``np.lib.format.open_memmap`` (sparse where
nothing was downloaded, on file systems that support it; the maps not downloaded read as zeros),
so that ``np.load(mmap_mode="r")`` reads it as it reads the whole file. The sidecar
``<file name>.json`` lists the simulations whose maps are in it. A part is marked there only
after it arrived whole and was flushed to disk, so a download cut short is never taken for
data; a later call downloads only what is still missing (resuming), and offline it reads the
simulations already there without the network. Every
answer must be HTTP 206 with the Content-Range and Content-Length asked for; a server that
answers HTTP 200 (it ignores ranges and would send all 3.9 GB) raises
:class:`RangeRequestError` unless ``allow_full_download=True`` (then the whole file is
downloaded once, as before). The CMD files have no published checksum, so what is verified is
:data:`VERIFIED`; the loader then checks every map it reads is finite and positive. Each
download prints one line saying how much it downloads (e.g. "downloading 786.4 MB of 3.9 GB
(Maps_Mtot_IllustrisTNG_LH_z=0.00.npy): maps of 200 simulations (0-199) in 12 range requests")
and one saying what it checked. One process at a time should fill a given partial copy.

The module's constants (``PARAMETER_NAMES``, ``PARAMETER_RANGES``, ``LOG_UNIFORM``, ``FIELDS``,
``SUITES``, ``MAPS_PER_SIMULATION``) follow the conventions of chapters E/H and equal those of
``a3net.data.cosmology``.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import _cache
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
    "RangeRequestError",
    "SOURCE_KINDS",
    "SUITES",
    "VERIFIED",
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


def _locate_maps(
    field: str,
    suite: str,
    source,
    offline: bool | None,
    sims: np.ndarray,
    n_rows: int,
    allow_full_download: bool,
    map_size: int | None = None,
) -> tuple[Path, int]:
    """(path, bytes downloaded) of the maps file of ``field``, holding at least the maps of
    ``sims``: ``source`` (a local file, or an http(s) URL read by range requests), else the
    hand-placed copy in the cache folder, else a whole copy downloaded by an earlier a3net,
    else the partial copy ``A3NET_DATA/camels/partial/<file name>`` completed from the CMD
    server (:func:`_partial_maps`)."""
    entry = _cmd.maps_file(field, suite)
    what = f"sources[{field!r}]"
    if source is not None:
        text = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
        scheme = urllib.parse.urlsplit(text).scheme.lower() if isinstance(text, str) else ""
        if scheme not in ("http", "https"):
            return _fetch.resolve_source(source, what, offline=offline), 0
        whole = _fetch.url_cache_path(text)
        if whole.is_file():
            return whole, 0
        where = _Where(
            f"The file {text} ({what})",
            entry.filename,
            f"download it by hand and pass its local path as {what}",
            what,
        )
        target = whole.parent / _PARTIAL_FOLDER / whole.name
        expected = (MAPS_PER_SIMULATION * n_rows, None, None)
        return _partial_maps(
            (text,),
            target,
            sims,
            expected_shape=expected,
            where=where,
            offline=offline,
            allow_full_download=allow_full_download,
            map_size=map_size,
        )
    folder = _fetch.data_dir() / _cmd.FOLDER
    local = folder / entry.filename
    if local.is_file():
        return local, 0
    for url in entry.urls:  # a whole copy downloaded by an earlier a3net
        if _fetch.url_cache_path(url).is_file():
            return _fetch.url_cache_path(url), 0
    shape = tuple(_cmd.MAPS_SHAPE)
    is_offline = _fetch._offline_from_env() if offline is None else offline
    if shape[0] != MAPS_PER_SIMULATION * n_rows and not is_offline:  # before any download
        raise ValueError(
            f"params file has {n_rows} rows but the CMD maps file {entry.filename} holds "
            f"{shape[0]} maps = {shape[0] // MAPS_PER_SIMULATION} simulations; pass the CMD "
            f"params file of the same suite (params_LH_{suite}.txt)."
        )
    where = _Where(
        f"The CAMELS file {entry.filename!r} ({_size_text(entry)})",
        entry.filename,
        f"download it from {entry.urls[0]} ({_cmd.BY_HAND.format(suite=suite)}) and place it at "
        f"{local}, or pass its path as sources={{{field!r}: path}}",
        what,
    )
    return _partial_maps(
        entry.urls,
        folder / _PARTIAL_FOLDER / entry.filename,
        sims,
        expected_shape=shape,
        where=where,
        offline=offline,
        allow_full_download=allow_full_download,
        map_size=map_size,
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
# Partial download: the .npy header and the rows of the simulations asked for, by HTTP ranges
# ----------------------------------------------------------------------------------------------


class RangeRequestError(_fetch.DataUnavailableError):
    """The server answered a byte-range request with the whole file (HTTP 200) or with another
    part than the one asked for: a3net stops rather than download a 3.9 GB file silently."""


class _WholeFile(Exception):
    """Internal: the server ignored the Range header (HTTP 200); carries the URL."""


class _Header(NamedTuple):
    url: str
    offset: int  # bytes before the data in the server's file
    shape: tuple[int, int, int]
    total: int  # bytes of the server's file (Content-Range)


class _Where(NamedTuple):
    """How the messages of a partial download name the file and the fix."""

    label: str  # "The CAMELS file 'Maps_...npy' (3.9 GB)" or "The file <url> (sources['P'])"
    name: str  # the file name
    fix: str  # "download it from ... and place it at ..., or pass its path as ..."
    what: str  # the argument, for fetch_url


_PARTIAL_FOLDER = "partial"
_SIDECAR_FORMAT = "a3net partial CMD maps file, version 1"
_HEADER_PROBE_BYTES = 1024  # the first request: the CMD files' .npy header is 128 bytes
_MAX_HEADER_BYTES = 1 << 16
_DOWNLOAD_CHUNK_BYTES = 1 << 26  # bytes per range request, rounded to whole simulations: 64 MiB
_READ_BYTES = 1 << 20
_RETRIES = 2  # further tries of a part that was cut short or lost its connection
_RETRY_WAIT_S = 2.0
_TIMEOUT_S = 60
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
VERIFIED = (
    "every range request was answered with HTTP 206 and the Content-Range and Content-Length "
    "asked for, every part arrived whole, and the server's .npy header says float32 '<f4', C "
    "order, shape {shape}, with a file size that matches; no checksum is published for the "
    "CMD files, so the values themselves are checked as the loader reads them (finite and "
    "positive)"
)
"""What a partial download checks (format with ``shape``); printed after each download."""


def _bytes_text(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _runs(ids) -> list[tuple[int, int]]:
    """Ids as half-open runs [start, stop) of consecutive ids, sorted and unique."""
    ids = np.unique(np.asarray(ids, dtype=np.int64))
    if ids.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(ids) != 1) + 1
    starts, stops = np.r_[0, cuts], np.r_[cuts, ids.size]
    return [(int(ids[a]), int(ids[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]


def _runs_text(runs, limit: int = 4) -> str:
    text = [f"{a}" if b == a + 1 else f"{a}-{b - 1}" for a, b in runs[:limit]]
    return ", ".join(text) + (", ..." if len(runs) > limit else "")


def _reason(exc: BaseException, url: str) -> str:
    """A short reason for a failed request (urllib's errors, a cut connection)."""
    host = urllib.parse.urlsplit(url).netloc
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"no connection to {host} ({' '.join(str(exc.reason).split())[:80]})"
    if isinstance(exc, TimeoutError):
        return f"no answer from {host} within {_TIMEOUT_S} s"
    return _fetch._one_line(exc, url)


def _get_range(url: str, start: int, end: int, *, total: int | None, write, name: str):
    """Bytes ``start``..``end`` (inclusive) of ``url``, handed to ``write(position, block)``
    (position counted from ``start``); a part cut short is asked for again (``_RETRIES``).

    Checks HTTP 206, the Content-Range (the part asked for; the file's size ``total`` when
    known) and the Content-Length. ``total=None`` (the header probe) accepts a part that ends
    early at the end of a smaller file. Returns ``(last byte, file size)``. Raises
    :class:`_WholeFile` for an HTTP 200 answer, :class:`RangeRequestError` for a wrong part,
    ``OSError`` / ``http.client.HTTPException`` (the last one) when every try failed, and
    :class:`_Short` when every try was cut short."""
    request = urllib.request.Request(
        url,
        headers={
            "Range": f"bytes={start}-{end}",
            "Accept-Encoding": "identity",
            "User-Agent": "a3net (partial download of CMD maps)",
        },
    )
    failure: BaseException | None = None
    for attempt in range(_RETRIES + 1):
        if attempt:
            time.sleep(_RETRY_WAIT_S * attempt)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                last, size = _check_part(response, url, start, end, total, name)
                want, got = last - start + 1, 0
                while got < want:
                    block = response.read(min(_READ_BYTES, want - got))
                    if not block:
                        break
                    write(got, block)
                    got += len(block)
            if got == want:
                return last, size
            failure = _Short(f"the connection closed after {got} of {want} bytes")
        except (_WholeFile, RangeRequestError):
            raise
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise
            failure = exc
        except http.client.IncompleteRead as exc:
            failure = _Short(f"the connection closed after {len(exc.partial)} bytes of the part")
        except (OSError, http.client.HTTPException) as exc:
            failure = exc
    assert failure is not None
    raise failure


class _Short(OSError):
    """Internal: a part arrived shorter than its Content-Range (the connection was cut)."""


def _check_part(response, url, start, end, total, name) -> tuple[int, int]:
    """(last byte, file size) of a range answer, checked against the part asked for."""
    status = response.status
    if status == 200:
        raise _WholeFile(url)
    content_range = (response.headers.get("Content-Range") or "").strip()
    length = response.headers.get("Content-Length")
    match = _CONTENT_RANGE.fullmatch(content_range)
    said = f"HTTP {status}, Content-Range {content_range or 'missing'}, Content-Length {length}"
    if status == 206 and match is not None and match[3] != "*":
        first, last, size = int(match[1]), int(match[2]), int(match[3])
        whole_part = last == end or (total is None and last == size - 1 and last < end)
        ok = first == start and whole_part and last < size and (total is None or size == total)
        if ok and (length is None or (length.isdigit() and int(length) == last - first + 1)):
            return last, size
    if total is not None and _size_changed(match, total):
        why = f"the file on the server changed size (now {match[3]} bytes, {total} before)"
    else:
        why = "it is not the part asked for"
    raise RangeRequestError(
        f"The server at {url} answered the request for bytes {start}-{end} of {name} with "
        f"{said}, and {why}, so a3net stopped and marked nothing more as downloaded: try again "
        "later, or download the whole file by hand and pass its local path in sources."
    )


def _size_changed(match, total: int) -> bool:
    return match is not None and match[3] != "*" and int(match[3]) != total


def _remote_header(url: str, name: str) -> _Header:
    """The .npy header of the server's file, read with one or two small range requests."""
    buffer = bytearray()

    def write(position, block):
        buffer[position : position + len(block)] = block

    last, total = _get_range(url, 0, _HEADER_PROBE_BYTES - 1, total=None, write=write, name=name)
    data = bytes(buffer[: last + 1])
    if data[:6] != b"\x93NUMPY":
        raise ValueError(
            f"The file at {url} does not start like a .npy file (its first bytes are "
            f"{data[:8]!r}), so it is not the CMD maps file {name}; check the URL."
        )
    version = (data[6], data[7]) if len(data) >= 8 else None
    if version not in ((1, 0), (2, 0)) or len(data) < 12:
        raise ValueError(
            f"The file at {url} has a .npy header of version {version} (the CMD files use 1.0), "
            f"so a3net does not read {name} from it; download the file by hand instead."
        )
    length_bytes = 2 if version == (1, 0) else 4
    header_end = 8 + length_bytes + int.from_bytes(data[8 : 8 + length_bytes], "little")
    if header_end > _MAX_HEADER_BYTES or header_end > total:
        raise ValueError(
            f"The file at {url} claims a .npy header of {header_end} bytes in a file of "
            f"{total}, so it is not the CMD maps file {name}; check the URL."
        )
    if header_end > len(data):  # a long header: ask for the rest

        def write_rest(position, block):
            buffer[len(data) + position : len(data) + position + len(block)] = block

        _get_range(url, len(data), header_end - 1, total=total, write=write_rest, name=name)
        data = bytes(buffer[:header_end])
    stream = io.BytesIO(data[:header_end])
    try:
        np.lib.format.read_magic(stream)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran_order, dtype = read(stream)
    except (ValueError, SyntaxError) as exc:
        reason = " ".join(str(exc).split())[:100].rstrip(" .")
        raise ValueError(
            f"The .npy header of the file at {url} cannot be read ({reason}), so it is not the "
            f"CMD maps file {name}; check the URL."
        ) from None
    if dtype.str != "<f4" or fortran_order or len(shape) != 3 or shape[1] != shape[2]:
        order = "Fortran" if fortran_order else "C"
        raise ValueError(
            f"The .npy header of the file at {url} says {dtype.str!r}, {order} order, shape "
            f"{shape}, but a CMD maps file holds float32 '<f4' maps in C order, shape (N, S, S); "
            f"check that the URL is {name}."
        )
    expected = header_end + int(np.prod(shape)) * 4
    if total != expected:
        raise ValueError(
            f"The file at {url} is {total} bytes but its .npy header describes {expected} "
            f"({shape} float32 after {header_end} header bytes), so it is cut short or padded; "
            f"a3net does not read {name} from it."
        )
    return _Header(url, header_end, tuple(int(n) for n in shape), total)


class _PartialCopy:
    """A local .npy file of the server file's full shape (sparse where nothing was downloaded)
    and its sidecar ``<name>.json`` listing the simulations whose maps are in it."""

    def __init__(self, target: Path):
        self.target = Path(target)
        self.sidecar = self.target.with_name(self.target.name + ".json")
        self.meta: dict | None = None
        self.present: set[int] = set()
        self.offset = 0  # bytes before the data in the local file

    def load(self, maps_per_sim: int) -> bool:
        """Read the sidecar and check it against the local file; False (and nothing kept)
        when there is no usable copy. A damaged one is deleted after a CacheWarning."""
        if not self.target.exists() and not self.sidecar.exists():
            return False
        try:
            meta = json.loads(self.sidecar.read_text())
            shape = tuple(meta["shape"])
            if meta["format"] != _SIDECAR_FORMAT or meta["maps_per_simulation"] != maps_per_sim:
                raise ValueError("the sidecar is of another format")
            local = np.load(self.target, mmap_mode="r", allow_pickle=False)
            if local.shape != shape or local.dtype.str != "<f4" or not local.flags.c_contiguous:
                raise ValueError(f"the file holds {local.dtype} {local.shape}, the sidecar {shape}")
            if self.target.stat().st_size != local.offset + local.nbytes:
                raise ValueError("the file has the wrong size")
            present = set()
            for a, b in meta["simulations"]:
                if not 0 <= a < b <= shape[0] // maps_per_sim:
                    raise ValueError(f"the sidecar lists simulations {a}-{b - 1}")
                present.update(range(a, b))
            self.offset = int(local.offset)
            del local
        except Exception as exc:  # OSError, JSONDecodeError, KeyError, TypeError, ValueError
            self.discard(f"it was damaged or incomplete ({' '.join(str(exc).split())[:100]})")
            return False
        self.meta, self.present = meta, present
        return True

    def matches(self, header: _Header) -> bool:
        meta = self.meta or {}
        return (
            tuple(meta.get("shape", ())) == header.shape
            and meta.get("remote_offset") == header.offset
            and meta.get("remote_bytes") == header.total
        )

    def discard(self, why: str) -> None:
        for path in (self.sidecar, self.target):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        self.meta, self.present = None, set()
        warnings.warn(
            f"the partial copy {self.target} of a CMD maps file was discarded because {why}; "
            "its maps are downloaded again.",
            _cache.CacheWarning,
            stacklevel=4,
        )

    def create(self, header: _Header, maps_per_sim: int) -> None:
        """An empty copy of the full shape: a sparse file on most file systems (Linux, macOS
        APFS, NTFS); elsewhere it takes the full size on disk."""
        _fetch._writable_folder(self.target.parent)
        _cache.clean_orphans(self.target)
        tmp = _cache.temporary_path(self.target)
        try:
            local = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=header.shape)
            self.offset = int(local.offset)
            del local
            self.meta = {
                "format": _SIDECAR_FORMAT,
                "source": header.url,
                "shape": list(header.shape),
                "dtype": "<f4",
                "maps_per_simulation": maps_per_sim,
                "remote_offset": header.offset,
                "remote_bytes": header.total,
                "verified": VERIFIED.format(shape=header.shape),
                "simulations": [],
            }
            self.present = set()
            self._write_sidecar()  # before the file: a sidecar without its file means nothing
            os.replace(tmp, self.target)
        finally:
            tmp.unlink(missing_ok=True)

    def mark(self, first: int, stop: int) -> None:
        self.present.update(range(first, stop))
        self._write_sidecar()

    def _write_sidecar(self) -> None:
        self.meta["simulations"] = [list(run) for run in _runs(sorted(self.present))]
        text = json.dumps(self.meta, indent=1).encode()
        _cache.atomic_write(self.sidecar, lambda handle: handle.write(text))


def _partial_maps(
    urls,
    target: Path,
    sims,
    *,
    expected_shape,
    where: _Where,
    offline: bool | None,
    allow_full_download: bool = False,
    maps_per_sim: int = MAPS_PER_SIMULATION,
    map_size: int | None = None,
) -> tuple[Path, int]:
    """The maps of simulations ``sims`` of a remote .npy maps file, downloaded into ``target``.

    ``target`` is a .npy file of the remote file's full shape (written with
    ``np.lib.format.open_memmap``; the maps not downloaded are holes of zeros) and
    ``<target>.json`` lists the simulations whose maps it holds. Only the simulations it lacks
    are downloaded: one HTTP range request per run of consecutive ids, cut into parts of about
    ``_DOWNLOAD_CHUNK_BYTES`` (whole simulations), each marked present once written and
    flushed. ``urls`` are tried in order for the header; ``expected_shape`` (None entries match
    anything) is what the header must say; ``map_size``, when given, must divide its map side
    (checked before anything is downloaded). Offline, only the copy is used.

    Returns ``(path to read, bytes downloaded)``: ``target``, or the whole file downloaded with
    :func:`a3net.data.fetch.fetch_url` when the server ignores ranges and
    ``allow_full_download`` is set. Raises :class:`RangeRequestError` when it ignores them
    otherwise, :class:`~a3net.data.fetch.DataUnavailableError` offline or when a download
    fails or is cut short, ValueError for a header that is not the expected maps file.
    """
    sims = np.unique(np.asarray(sims, dtype=np.int64))
    copy = _PartialCopy(target)
    if copy.load(maps_per_sim):
        missing = np.setdiff1d(sims, np.fromiter(copy.present, np.int64, len(copy.present)))
        if missing.size == 0:
            return target, 0
    else:
        missing = sims
    if offline is None:
        offline = _fetch._offline_from_env()
    if offline:
        have = (
            f" (its partial copy at {target} lacks the maps of {missing.size} of the "
            f"{sims.size} simulations asked for)"
            if copy.meta
            else ""
        )
        raise _fetch.DataUnavailableError(
            f"{where.label} is not in the a3net cache{have} and offline mode is on (offline=True "
            f"or A3NET_OFFLINE=1): run once online (only the maps of the simulations asked for "
            f"are downloaded), or {where.fix}."
        )

    header, failures, whole = None, [], []
    for url in urls:
        try:
            header = _remote_header(url, where.name)
            break
        except _WholeFile:
            whole.append(url)
        except _fetch.DataUnavailableError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            failures.append((url, exc))
    if header is None and whole:
        if allow_full_download:
            print(
                f"a3net: {whole[0]} does not answer range requests; downloading the whole "
                f"{where.name} because allow_full_download=True",
                flush=True,
            )
            path = _fetch.fetch_url(whole[0], where.what, offline=offline)
            return path, path.stat().st_size
        raise RangeRequestError(
            f"The server at {whole[0]} answered a request for the first {_HEADER_PROBE_BYTES} "
            f"bytes of {where.name} with the whole file (HTTP 200 instead of 206), so a3net "
            f"stopped rather than download all of it for {sims.size} simulations: pass "
            f"allow_full_download=True to download the whole file once, or {where.fix}."
        )
    if header is None:
        url, exc = failures[0]
        raise _fetch.DataUnavailableError(
            f"{where.label} is not in the a3net cache and could not be downloaded "
            f"({_reason(exc, url)}): {where.fix}."
        )
    want = tuple(expected_shape)
    if len(want) != 3 or any(
        w is not None and w != h for w, h in zip(want, header.shape, strict=True)
    ):
        shown = "(" + ", ".join("N" if w is None else str(w) for w in want) + ")"
        raise ValueError(
            f"The .npy header of {where.name} at {header.url} says shape {header.shape}, but "
            f"a3net expects {shown} there; check the URL (or the params file of the same suite)."
        )
    if map_size is not None and header.shape[1] % map_size:
        raise ValueError(
            f"map_size={map_size} does not divide the maps' {header.shape[1]} pixels of "
            f"{where.name}; use a divisor of {header.shape[1]} such as 64 or 32."
        )
    n_sims = header.shape[0] // maps_per_sim
    if header.shape[0] % maps_per_sim or sims[-1] >= n_sims:
        raise ValueError(
            f"{where.name} at {header.url} holds {header.shape[0]} maps = {n_sims} simulations of "
            f"{maps_per_sim} maps, so it has no maps of simulation {sims[-1]}; ask for "
            f"simulations 0..{n_sims - 1}."
        )
    if copy.meta is not None and not copy.matches(header):
        copy.discard(f"the file at {header.url} is not the one it was copied from")
        missing = sims
    if copy.meta is None:
        copy.create(header, maps_per_sim)

    sim_bytes = maps_per_sim * header.shape[1] * header.shape[2] * 4
    step = max(1, _DOWNLOAD_CHUNK_BYTES // sim_bytes)
    runs = _runs(missing)
    parts = [(a, min(a + step, b)) for first, b in runs for a in range(first, b, step)]
    n_bytes = missing.size * sim_bytes
    free = shutil.disk_usage(target.parent).free
    if free < n_bytes:
        raise OSError(
            f"The partial copy {target} needs {_bytes_text(n_bytes)} more but its folder has "
            f"{_bytes_text(free)} free; free some space or set A3NET_DATA to another folder."
        )
    already = sims.size - missing.size
    print(
        f"a3net: downloading {_bytes_text(n_bytes)} of {_bytes_text(header.total)} "
        f"({where.name}): maps of {missing.size} simulations ({_runs_text(runs)}) in "
        f"{len(parts)} range request{'s' if len(parts) > 1 else ''} from "
        f"{urllib.parse.urlsplit(header.url).netloc}"
        + (f"; {already} already downloaded" if already else ""),
        flush=True,
    )
    started = time.perf_counter()
    with open(target, "r+b") as handle:
        for a, b in parts:
            start = header.offset + a * sim_bytes
            end = header.offset + b * sim_bytes - 1
            base = copy.offset + a * sim_bytes

            def write(position, block, base=base):
                handle.seek(base + position)
                handle.write(block)

            try:
                _get_range(header.url, start, end, total=header.total, write=write, name=where.name)
            except _WholeFile:
                raise RangeRequestError(
                    f"The server at {header.url} answered a range request for {where.name} "
                    "with the whole file (HTTP 200) after answering earlier ones with parts, so "
                    f"a3net stopped; the simulations downloaded so far are kept in {target}; "
                    f"try again later, or {where.fix}."
                ) from None
            except _fetch.DataUnavailableError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                tries = f", {_RETRIES + 1} tries" if isinstance(exc, _Short) else ""
                done = len(copy.present.intersection(missing.tolist()))
                raise _fetch.DataUnavailableError(
                    f"The download of the maps of simulations {_runs_text([(a, b)])} of "
                    f"{where.name} from "
                    f"{header.url} failed ({_reason(exc, header.url)}{tries}), "
                    f"so they are not marked as downloaded in {target} ({done} of the "
                    f"{missing.size} simulations to download are): run again to resume, or "
                    f"{where.fix}."
                ) from exc
            handle.flush()
            os.fsync(handle.fileno())
            copy.mark(a, b)
    seconds = time.perf_counter() - started
    print(
        f"a3net: downloaded {_bytes_text(n_bytes)} in {seconds:.1f} s into {target}; checked: "
        f"{VERIFIED.format(shape=header.shape)}",
        flush=True,
    )
    return target, n_bytes


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
    allow_full_download: bool = False,
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

    Only the needed rows are read, from a memory map (never the whole 3.9 GB file), and only
    they are downloaded: a maps file that is neither in ``sources`` as a local path nor placed
    by hand in ``A3NET_DATA/camels/`` is read from the CMD server (or an http(s) URL in
    ``sources``) by HTTP range requests into a partial copy (see the module docstring), which
    prints how much it downloads, e.g. "downloading 786.4 MB of 3.9 GB (Maps_Mtot_...): maps of
    200 simulations (0-199) ...", and what it checked (:data:`VERIFIED`);
    ``catalogue.attrs["downloaded_bytes"]`` gives the bytes downloaded per field (0: cached).
    A server that ignores range requests raises :class:`RangeRequestError` unless
    ``allow_full_download=True``, which downloads the whole file once instead.

    ValueError for a maps file of the wrong shape (the server's header must say '<f4', C
    order, (15000, 256, 256)), a maps count that is not 15 x the params rows, a ``map_size``
    that does not divide the maps, or non-positive / NaN pixels in the maps read (reported
    with their simulations, never dropped silently); :class:`~a3net.data.fetch.
    DataUnavailableError` offline when maps asked for are not cached, or when a download fails
    or is cut short (the maps cut short are not kept; run again to resume).
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

    files, downloaded = {}, {}
    for field in fields:
        path, downloaded[field] = _locate_maps(
            field,
            suite,
            sources.get(field),
            offline,
            sim_ids,
            n_rows,
            allow_full_download,
            map_size,
        )
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
        "downloaded_bytes": dict(downloaded),
    }
    return maps, catalogue
