"""Readers of the file formats of the EAZY photometric-redshift code (Brammer, van Dokkum &
Coppi 2008, ApJ 686, 1503), and loaders of the real EAZY files through ``fetch``.

Formats (all whitespace ASCII):

- ``FILTER.RES`` files: for each filter a header line ``N description...`` followed by ``N`` rows
  ``index lambda[A] throughput``; filters are numbered from 1 in file order, the numbers that
  ``zphot.translate`` files, catalogue headers (``F205``) and ``FILTER.RES.latest.info`` use.
- ``*.spectra.param`` files: one template per line, ``number path lambda_conv [age_Gyr
  error_amplitude [combine_list]]``, with paths relative to the EAZY folder (``templates/...``).
- template files: two columns ``lambda[A] f_lambda`` (``#`` comments allowed).
- ``TEMPLATE_ERROR.*``: two columns, rest-frame ``lambda[A]`` and fractional error.
- ``prior_*_zmax7.dat``: a header ``z m1 m2 ...`` (magnitudes, optionally behind ``#``), then
  rows ``z p(z|m1) p(z|m2) ...``.
- EAZY catalogues: ``#`` header lines (column names, optionally a second line with ``F10 E10
  ...`` filter numbers), fluxes with AB zero-point 25 (for HDF-N), -99 for no data, ``z_spec =
  -1`` for none. A ``zphot.translate`` file maps column names to ``Fnn``/``Enn``.

The ``load_*`` functions fetch the registered real files (names ``eazy/...`` in
``a3net.data.registry.photometry``) into the cache ``A3NET_DATA`` and read them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import fetch as _fetch
from ._open import existing_file, read_text, reading
from .catalogues import read_ascii_table
from .sed import FilterCurve

__all__ = [
    "HDFN_BANDS",
    "SDSS_AB_OFFSETS",
    "SDSS_FILTERS",
    "TEMPLATE_SETS",
    "TemplateSpec",
    "find_filters",
    "load_eazy_filters",
    "load_eazy_templates",
    "load_hdfn",
    "load_inoue_coefficients",
    "load_prior",
    "load_template_error",
    "read_eazy_catalogue",
    "read_filter_res",
    "read_inoue_coefficients",
    "read_prior",
    "read_template_error",
    "read_template_param",
    "read_templates",
    "sdss_template_fit_inputs",
]

#: Template sets that can be fetched: set name -> registry name of its parameter file.
TEMPLATE_SETS = {
    "eazy_v1.3": "eazy/templates/eazy_v1.3.spectra.param",
    "fsps_QSF_12_v3": "eazy/templates/fsps_full/fsps_QSF_12_v3.param",
}

#: SDSS ugriz in FILTER.RES.latest (``SDSS/u.dat DR7+atm`` ...) and the offsets that turn SDSS
#: magnitudes into AB (m_AB = m_SDSS + offset: u_AB = u - 0.04, z_AB = z + 0.02; SDSS DR7 notes).
SDSS_FILTERS = {"u": 156, "g": 157, "r": 158, "i": 159, "z": 160}
SDSS_AB_OFFSETS = {"u": -0.04, "g": 0.0, "r": 0.0, "i": 0.0, "z": 0.02}

#: The HDF-N catalogue's bands (Fernandez-Soto et al. 1999): FILTER.RES.latest number -> name.
#: 10/12/14/16 = HST WFPC2 F300W/F450W/F606W/F814W, 26/27/28 = KPNO IRIM J/H/K (see
#: FILTER.RES.latest.info).
HDFN_BANDS = {10: "F300W", 12: "F450W", 14: "F606W", 16: "F814W", 26: "J", 27: "H", 28: "K"}

# Throughputs below zero by less than this fraction of the peak are rounding noise (six curves of
# FILTER.RES.latest have one such value, e.g. -2.6e-4 of a peak of 30.8) and are set to zero.
_NEGATIVE_THROUGHPUT_TOLERANCE = 1e-3

_FILTER_TOKEN = re.compile(r"^([FE])(\d+)$", re.IGNORECASE)


def _existing_file(path, what: str) -> Path:
    return existing_file(path, what)


# ----------------------------------------------------------------------------------------------
# FILTER.RES
# ----------------------------------------------------------------------------------------------


def read_filter_res(path) -> dict[int, FilterCurve]:
    """The filters of an EAZY ``FILTER.RES`` file as ``{number: FilterCurve}``, numbered from 1.

    Each curve's ``name`` is the full header text after the row count (e.g. ``"hst/wfpc2_f300w.dat
    synphot-calcband lambda_c= 2.9928e+03 ..."``). The whole file is read once and parsed as one
    array (418 filters in about 0.1 s). Throughputs that are negative by less than 0.1% of the
    curve's peak (rounding noise in six real curves) are set to zero; any other bad curve
    (wavelengths not strictly increasing, clearly negative or all-zero throughput, a truncated
    block) raises ValueError naming the filter number and its header.
    """
    path = _existing_file(path, "FILTER.RES file")
    lines = read_text(path, kind="FILTER.RES text").splitlines()
    headers: list[tuple[int, int, str]] = []  # (line number, row count, description)
    data: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        parts = line.split(None, 1)
        try:
            count = int(parts[0])
        except ValueError:
            raise ValueError(
                f"{path.name}, line {i + 1}: expected a filter header 'N description' (N = number "
                f"of rows) as filter {len(headers) + 1}, got {line.strip()[:80]!r}."
            ) from None
        description = parts[1].strip() if len(parts) > 1 else ""
        block = lines[i + 1 : i + 1 + count]
        if count < 2 or len(block) < count:
            raise ValueError(
                f"{path.name}: filter {len(headers) + 1} ({description[:60]!r}, line {i + 1}) "
                f"announces {count} rows but {len(block)} follow (at least 2 are needed)."
            )
        headers.append((i + 1, count, description))
        data.extend(block)
        i += 1 + count
    if not headers:
        raise ValueError(f"{path.name} holds no filter curves.")

    counts = np.array([h[1] for h in headers])
    tokens = " ".join(data).split()
    if len(tokens) != 3 * counts.sum():
        _raise_bad_rows(path, headers, data)
    try:
        table = np.array(tokens, dtype=float).reshape(-1, 3)
    except ValueError:
        _raise_bad_rows(path, headers, data)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])

    filters: dict[int, FilterCurve] = {}
    for number, ((line_no, count, description), start) in enumerate(
        zip(headers, starts, strict=True), start=1
    ):
        wave = table[start : start + count, 1]
        thru = table[start : start + count, 2].copy()
        label = f"{path.name}: filter {number} ({description[:60]!r}, line {line_no})"
        if np.any(np.diff(wave) <= 0):
            k = int(np.flatnonzero(np.diff(wave) <= 0)[0])
            raise ValueError(
                f"{label}: wavelengths are not strictly increasing ({wave[k]:g} A is followed by "
                f"{wave[k + 1]:g} A); sort the curve by wavelength and drop repeated points."
            )
        peak = thru.max() if thru.size else 0.0
        negative = thru < 0
        if negative.any():
            if peak > 0 and thru.min() >= -_NEGATIVE_THROUGHPUT_TOLERANCE * peak:
                thru[negative] = 0.0
            else:
                raise ValueError(
                    f"{label}: throughput has negative values down to {thru.min():g} (peak "
                    f"{peak:g}); a transmission curve must be non-negative."
                )
        try:
            filters[number] = FilterCurve(description, wave, thru)
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
    return filters


def _raise_bad_rows(path: Path, headers, data) -> None:
    start = 0
    for number, (line_no, count, description) in enumerate(headers, start=1):
        for offset, row in enumerate(data[start : start + count]):
            values = row.split()
            ok = len(values) == 3
            if ok:
                try:
                    [float(v) for v in values]
                except ValueError:
                    ok = False
            if not ok:
                raise ValueError(
                    f"{path.name}: filter {number} ({description[:60]!r}), line "
                    f"{line_no + 1 + offset}: expected 3 numbers 'index lambda throughput', got "
                    f"{row.strip()[:80]!r}."
                )
        start += count
    raise ValueError(f"{path.name}: malformed filter rows.")  # not reached


def find_filters(filters: dict[int, FilterCurve], *words: str) -> dict[int, str]:
    """The filters whose description contains every word of ``words`` (case-insensitive), as
    ``{number: description}``; e.g. ``find_filters(f, "wfc3", "f160w")``."""
    if not words:
        raise ValueError("find_filters needs at least one word to search for, e.g. 'f160w'.")
    lowered = [w.lower() for w in words]
    return {
        number: curve.name
        for number, curve in filters.items()
        if all(w in curve.name.lower() for w in lowered)
    }


# ----------------------------------------------------------------------------------------------
# Templates, template error, priors
# ----------------------------------------------------------------------------------------------


class TemplateSpec(NamedTuple):
    """One line of a ``*.spectra.param`` file."""

    number: int
    path: str  # relative to the EAZY folder, e.g. "templates/EAZY_v1.1_lines/eazy_v1.1_sed1.dat"
    lambda_conv: float  # multiplies the template's wavelengths to give Angstrom
    age_gyr: float = 0.0  # 0: the template is used at every redshift
    error_amplitude: float = 1.0
    combine: tuple[int, ...] = ()  # templates combined with this one in pair-wise fits


def _leading_float(token: str, what: str, where: str) -> float:
    match = re.match(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", token)
    if not match:
        raise ValueError(f"{where}: {what} must be a number, got {token!r}.")
    return float(match.group(0))


def read_template_param(path) -> list[TemplateSpec]:
    """The templates listed in an EAZY ``*.spectra.param`` file, as :class:`TemplateSpec`.

    Lines ``number path lambda_conv [age error [combine]]``; ``#`` lines and blank lines are
    skipped. ``lambda_conv`` may carry a suffix (``1.0_lines``), which is ignored.
    """
    path = _existing_file(path, "template parameter file")
    specs: list[TemplateSpec] = []
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        where = f"{path.name}, line {line_no}"
        if len(parts) < 3:
            raise ValueError(
                f"{where}: expected 'number path lambda_conv [age error [combine]]', got {text!r}."
            )
        try:
            number = int(parts[0])
        except ValueError:
            raise ValueError(
                f"{where}: template number must be an integer, got {parts[0]!r}."
            ) from None
        lambda_conv = _leading_float(parts[2], "lambda_conv", where)
        age = _leading_float(parts[3], "the age", where) if len(parts) > 3 else 0.0
        amplitude = (
            _leading_float(parts[4], "the error amplitude", where) if len(parts) > 4 else 1.0
        )
        combine: tuple[int, ...] = ()
        if len(parts) > 5:
            try:
                combine = tuple(int(c) for c in ",".join(parts[5:]).split(",") if c)
            except ValueError:
                raise ValueError(
                    f"{where}: the combination list must be template numbers separated by commas, "
                    f"got {' '.join(parts[5:])!r}."
                ) from None
        specs.append(TemplateSpec(number, parts[1], lambda_conv, age, amplitude, combine))
    if not specs:
        raise ValueError(f"{path.name} lists no templates.")
    numbers = [s.number for s in specs]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{path.name}: template numbers repeat: {numbers}.")
    return specs


def _read_two_columns(path: Path, what: str) -> tuple[np.ndarray, np.ndarray]:
    text = read_text(path, what=f"{what} {path.name}")
    try:
        with reading(path, "text", f"{what} {path.name}"):
            table = np.loadtxt(text.splitlines(), comments="#", usecols=(0, 1), ndmin=2)
    except ValueError as exc:
        reason = " ".join(str(exc.__cause__ or exc).split())[:100].rstrip(" .")
        raise ValueError(
            f"{what} {path.name}: expected at least two numeric columns (lambda, value) in "
            f"every row ({reason})."
        ) from None
    if table.shape[0] < 2:
        raise ValueError(f"{what} {path.name} has fewer than 2 rows.")
    wave, value = table[:, 0], table[:, 1]
    if not (np.isfinite(wave).all() and np.isfinite(value).all()):
        raise ValueError(f"{what} {path.name} contains NaN or infinite values.")
    if np.any(np.diff(wave) <= 0):
        k = int(np.flatnonzero(np.diff(wave) <= 0)[0])
        raise ValueError(
            f"{what} {path.name}: wavelengths must be strictly increasing, but row {k + 2} "
            f"({wave[k + 1]:g} A) follows {wave[k]:g} A."
        )
    return wave, value


def _resolve_template(rel: str, param_path: Path, root: Path | None) -> Path:
    candidates = (
        [root / rel]
        if root is not None
        else [param_path.parent / rel, param_path.parent.parent / rel]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"template {rel!r} listed in {param_path.name} was not found (looked at "
        f"{', '.join(str(c) for c in candidates)}); pass root= the folder that the paths of the "
        "parameter file are relative to (the EAZY folder holding templates/)."
    )


def _extend(wave: np.ndarray, w: np.ndarray, f: np.ndarray) -> np.ndarray:
    """``f`` sampled at ``w`` interpolated linearly onto ``wave``; beyond either end a power law
    f ~ lambda**alpha with the log-log slope over the outermost factor 1.5 in wavelength (when
    the flux there is positive; else the edge value, constant)."""
    out = np.interp(wave, w, f)
    for side in ("blue", "red"):
        beyond = wave < w[0] if side == "blue" else wave > w[-1]
        if not beyond.any():
            continue
        edge = 0 if side == "blue" else -1
        w_edge, f_edge = w[edge], f[edge]
        w_in = w_edge * (1.5 if side == "blue" else 1 / 1.5)
        f_in = np.interp(w_in, w, f)
        if f_edge > 0 and f_in > 0 and w_in != w_edge:
            alpha = np.log(f_in / f_edge) / np.log(w_in / w_edge)
            out[beyond] = f_edge * (wave[beyond] / w_edge) ** alpha
        else:
            out[beyond] = f_edge
    return out


def read_templates(
    param_path,
    root=None,
    *,
    wave=None,
    norm_range: tuple[float, float] = (5000.0, 5500.0),
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All templates of an EAZY ``*.spectra.param`` file on one wavelength grid.

    Returns ``(wave (L,) [A], flam (T, L), names)``; float64; each template normalised to a mean
    f_lambda of 1 over ``norm_range`` [A] (rest frame; 5000-5500 A by default). ``root`` is the
    folder the parameter file's paths are relative to (default: the parameter file's folder, then
    the folder above it, as in the EAZY layout ``templates/x.spectra.param`` + ``templates/...``).

    The grid (when ``wave`` is None) is the sorted union of every template's own wavelengths
    (times lambda_conv) within the range that *all* templates cover, so that no template is
    extrapolated and every emission line keeps its sampling: 91 A - 1.6e6 A for eazy_v1.3
    (eazy_v1.1_sed7 has only 468 rows but spans 80 A - 1.6e6 A). Templates are interpolated
    linearly. When a ``wave`` grid is given and reaches beyond a template, the template is
    extended with a power law fitted over its outermost factor 1.5 in wavelength (the edge value
    where that flux is zero), never with zeros.
    """
    param_path = _existing_file(param_path, "template parameter file")
    root = None if root is None else Path(os.fspath(root)).expanduser()
    lo_norm, hi_norm = (float(v) for v in norm_range)
    if not 0 < lo_norm < hi_norm:
        raise ValueError(f"norm_range must be (low, high) with 0 < low < high, got {norm_range}.")
    curves = []
    for spec in read_template_param(param_path):
        file = _resolve_template(spec.path, param_path, root)
        w, f = _read_two_columns(file, "template")
        curves.append((spec, w * spec.lambda_conv, f))
    names = [Path(spec.path).stem for spec, _, _ in curves]

    if wave is None:
        lo = max(w[0] for _, w, _ in curves)
        hi = min(w[-1] for _, w, _ in curves)
        if lo >= hi:
            raise ValueError(
                f"the templates of {param_path.name} share no common wavelength range; pass wave=."
            )
        grid = np.unique(np.concatenate([w for _, w, _ in curves]))
        grid = grid[(grid >= lo) & (grid <= hi)]
    else:
        grid = np.asarray(wave, dtype=float)
        if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0) or grid[0] <= 0:
            raise ValueError(
                f"wave must be a strictly increasing positive 1-D grid [A], got shape {grid.shape}."
            )
    if grid[0] > lo_norm or grid[-1] < hi_norm:
        raise ValueError(
            f"the wavelength grid ({grid[0]:.0f}-{grid[-1]:.0f} A) does not cover norm_range "
            f"{norm_range}."
        )

    window = np.linspace(lo_norm, hi_norm, 201)
    flam = np.empty((len(curves), grid.size))
    for t, (spec, w, f) in enumerate(curves):
        scale = np.interp(window, w, f).mean()
        if not scale > 0:
            raise ValueError(
                f"template {spec.number} ({spec.path}) has no positive flux in {lo_norm:g}-"
                f"{hi_norm:g} A, so it cannot be normalised there; choose another norm_range."
            )
        flam[t] = _extend(grid, w, f) / scale
    return grid, flam, names


def read_template_error(path) -> tuple[np.ndarray, np.ndarray]:
    """An EAZY template error function: ``(rest wavelength (L,) [A], fractional error (L,))``."""
    path = _existing_file(path, "template error file")
    wave, err = _read_two_columns(path, "template error file")
    if np.any(err < 0):
        raise ValueError(f"template error file {path.name}: fractional errors must be >= 0.")
    return wave, err


def read_prior(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An EAZY apparent-magnitude prior (``prior_R_zmax7.dat``): ``(z (Z,), mags (M,), p (Z, M))``
    where ``p[:, j]`` is p(z | m_j) on the redshift grid (as in the file, not renormalised)."""
    path = _existing_file(path, "prior file")
    lines = [
        line for line in read_text(path, f"prior file {path.name}").splitlines() if line.strip()
    ]
    if not lines:
        raise ValueError(f"prior file {path.name} is empty.")
    header = lines[0].lstrip("#").split()
    if not header or header[0].lower() != "z":
        raise ValueError(
            f"prior file {path.name}: the first line must be 'z m1 m2 ...' (optionally after '#'), "
            f"got {lines[0].strip()[:60]!r}."
        )
    try:
        mags = np.array(header[1:], dtype=float)
        rows = [line.split() for line in lines[1:] if not line.lstrip().startswith("#")]
        widths = {len(r) for r in rows}
        if widths != {mags.size + 1}:
            raise ValueError(
                f"prior file {path.name}: every row must have {mags.size + 1} numbers (z and one "
                f"value per magnitude of the header), found rows of {sorted(widths)}."
            )
        table = np.array(rows, dtype=float)
    except ValueError as exc:
        if str(exc).startswith("prior file"):
            raise
        raise ValueError(f"prior file {path.name}: non-numeric value ({exc}).") from None
    z, p = table[:, 0], table[:, 1:]
    if np.any(np.diff(z) <= 0) or np.any(p < 0) or not np.isfinite(p).all():
        raise ValueError(
            f"prior file {path.name}: z must increase and probabilities be finite and >= 0."
        )
    return z, mags, p


def read_inoue_coefficients(path, n_amplitudes: int) -> tuple[np.ndarray, np.ndarray]:
    """An Inoue et al. (2014) Lyman-series coefficient file (``LAFcoeff.txt``: ``index lambda_j
    A_j1 A_j2 A_j3``; ``DLAcoeff.txt``: ``index lambda_j A_j1 A_j2``): ``(lambda_j (J,) [A],
    A (J, n_amplitudes))``, the lines in file order (Lyman alpha first, lambda_j decreasing)."""
    path = _existing_file(path, "IGM coefficient file")
    what = f"IGM coefficient file {path.name}"
    text = read_text(path, what=what)
    width = 2 + int(n_amplitudes)
    try:
        with reading(path, "text", what):
            table = np.loadtxt(text.splitlines(), comments="#", ndmin=2)
    except ValueError as exc:
        reason = " ".join(str(exc.__cause__ or exc).split())[:100].rstrip(" .")
        raise ValueError(
            f"{what}: expected {width} numeric columns (index, lambda_j, {n_amplitudes} "
            f"amplitudes) in every row ({reason})."
        ) from None
    if table.shape[1] != width or table.shape[0] < 1:
        raise ValueError(
            f"{what}: expected rows of {width} numbers (index, lambda_j, {n_amplitudes} "
            f"amplitudes), got a table of shape {table.shape}."
        )
    lam, amp = table[:, 1], table[:, 2:]
    if not (np.isfinite(table).all() and np.all(lam > 0) and np.all(amp >= 0)):
        raise ValueError(f"{what}: wavelengths must be positive and amplitudes finite and >= 0.")
    if np.any(np.diff(lam) >= 0):
        raise ValueError(f"{what}: the line wavelengths must decrease (Lyman alpha first).")
    return lam, amp


def load_inoue_coefficients() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The Lyman-series coefficients of Inoue et al. (2014) that EAZY ships (``LAFcoeff.txt``,
    ``DLAcoeff.txt``, fetched): ``{"laf": (lambda_j, A (J, 3)), "dla": (lambda_j, A (J, 2))}``
    for the 39 lines Lyman alpha (j = 2) to j = 40."""
    return {
        "laf": read_inoue_coefficients(_fetch.fetch("eazy/templates/LAFcoeff.txt"), 3),
        "dla": read_inoue_coefficients(_fetch.fetch("eazy/templates/DLAcoeff.txt"), 2),
    }


# ----------------------------------------------------------------------------------------------
# Catalogues
# ----------------------------------------------------------------------------------------------


def _read_translate(path) -> dict[str, str]:
    path = _existing_file(path, "translate file")
    mapping: dict[str, str] = {}
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(
                f"translate file {path.name}, line {line_no}: expected 'column Fnn' or "
                f"'column Enn', got {text!r}."
            )
        mapping[parts[0]] = parts[1]
    return mapping


def read_eazy_catalogue(path, translate=None) -> pd.DataFrame:
    """An EAZY-format photometric catalogue as a DataFrame.

    Column names come from the first ``#`` header line. Filter numbers come from ``translate``
    (a ``zphot.translate`` file mapping column names to ``Fnn``/``Enn``) when given, else from a
    second header line of ``Fnn``/``Enn`` tokens when there is one. They are attached as
    ``df.attrs["filters"] = {flux_column: filter_number}`` and ``df.attrs["errors"] =
    {flux_column: error_column}``. Values are left as in the file (-99: no data; z_spec -1: none);
    cleaning is :func:`a3net.data.catalogues.clean_catalogue`'s job.
    """
    path = _existing_file(path, "EAZY catalogue")
    df, comments = read_ascii_table(path, return_comments=True)
    tokens: dict[str, str] = {}
    if translate is not None:
        tokens = _read_translate(translate)
        unknown = sorted(set(tokens) - set(df.columns))
        if unknown:
            raise ValueError(
                f"translate file names columns absent from {path.name}: {unknown}; the "
                f"catalogue has {list(df.columns)}."
            )
    else:
        for line in comments[1:]:
            parts = line.lstrip("#").split()
            if len(parts) == df.shape[1] and any(_FILTER_TOKEN.match(p) for p in parts):
                tokens = {c: p for c, p in zip(df.columns, parts, strict=True)}
                break
    fluxes: dict[int, str] = {}
    errors: dict[int, str] = {}
    for column, token in tokens.items():
        match = _FILTER_TOKEN.match(token)
        if not match:
            continue
        kind, number = match.group(1).upper(), int(match.group(2))
        table = fluxes if kind == "F" else errors
        if number in table:
            raise ValueError(
                f"{path.name}: filter {number} is assigned to both {table[number]!r} and "
                f"{column!r} ({kind}{number})."
            )
        table[number] = column
    missing = sorted(set(fluxes) ^ set(errors))
    if missing:
        raise ValueError(
            f"{path.name}: filters {missing} have a flux column without an error column or the "
            "other way round; every Fnn needs its Enn."
        )
    df.attrs["filters"] = {fluxes[n]: n for n in sorted(fluxes)}
    df.attrs["errors"] = {fluxes[n]: errors[n] for n in sorted(fluxes)}
    return df


# ----------------------------------------------------------------------------------------------
# Loaders of the registered real files
# ----------------------------------------------------------------------------------------------


def load_eazy_filters() -> dict[int, FilterCurve]:
    """The 418 filters of EAZY's ``FILTER.RES.latest`` (fetched), ``{number: FilterCurve}``.

    Numbers as in ``FILTER.RES.latest.info``: e.g. 156-160 SDSS ugriz, 205 WFC3 F160W.
    """
    return read_filter_res(_fetch.fetch("eazy/filters/FILTER.RES.latest"))


def load_eazy_templates(set_name: str = "eazy_v1.3", **kwargs):
    """The template set ``set_name`` (fetched; every file its parameter file lists), read by
    :func:`read_templates` (``kwargs``: ``wave``, ``norm_range``): ``(wave, flam (T, L), names)``.

    Sets: ``"eazy_v1.3"`` (9 templates: EAZY v1.1 + dusty old + high-EW line emitter) and
    ``"fsps_QSF_12_v3"`` (12 FSPS templates, eazy-py's default).
    """
    if set_name not in TEMPLATE_SETS:
        raise ValueError(
            f"unknown template set {set_name!r}; choose one of {', '.join(TEMPLATE_SETS)}."
        )
    param = _fetch.fetch(TEMPLATE_SETS[set_name])
    for spec in read_template_param(param):
        _fetch.fetch(f"eazy/{spec.path}")  # the paths are relative to the cache's eazy/ folder
    return read_templates(param, _fetch.data_dir() / "eazy", **kwargs)


def load_template_error() -> tuple[np.ndarray, np.ndarray]:
    """EAZY's template error function ``TEMPLATE_ERROR.eazy_v1.0`` (fetched): (wave, frac)."""
    return read_template_error(_fetch.fetch("eazy/templates/TEMPLATE_ERROR.eazy_v1.0"))


def load_prior(band: str = "R") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EAZY's apparent-magnitude prior for ``band`` "R" or "K" (``prior_{band}_zmax7.dat``,
    fetched): ``(z (Z,), mags (M,), p (Z, M))``."""
    if band not in ("R", "K"):
        raise ValueError(
            f"band must be 'R' or 'K' (the EAZY priors prior_R/K_zmax7), got {band!r}."
        )
    return read_prior(_fetch.fetch(f"eazy/templates/prior_{band}_zmax7.dat"))


def load_hdfn() -> pd.DataFrame:
    """The real HDF-N catalogue of EAZY's example (Fernandez-Soto, Lanzetta & Yahil 1999; 1067
    galaxies, 114 with a spectroscopic z), fetched.

    Columns ``id``, ``f_<band>``/``e_<band>`` for the bands F300W F450W F606W F814W J H K (flux
    with AB zero-point 25: mag = 25 - 2.5 log10 f; -99 no data) and ``z_spec`` (-1: none), as in
    the 3D-HST catalogues. ``df.attrs``: ``filters`` {flux column: FILTER.RES.latest number},
    ``errors`` {flux column: error column}, ``bands`` (the band names in wavelength order).
    """
    df = read_eazy_catalogue(
        _fetch.fetch("eazy/inputs/hdfn_fs99_eazy.cat"),
        translate=_fetch.fetch("eazy/inputs/zphot.translate"),
    )
    filters, errors = df.attrs["filters"], df.attrs["errors"]
    rename = {}
    for flux_col, number in filters.items():
        band = HDFN_BANDS[number]
        rename[flux_col] = f"f_{band}"
        rename[errors[flux_col]] = f"e_{band}"
    df = df.rename(columns=rename)
    df.attrs = {
        "filters": {f"f_{HDFN_BANDS[n]}": n for n in filters.values()},
        "errors": {f"f_{HDFN_BANDS[n]}": f"e_{HDFN_BANDS[n]}" for n in filters.values()},
        "bands": [HDFN_BANDS[n] for n in sorted(filters.values())],
        "source": "eazy/inputs/hdfn_fs99_eazy.cat",
    }
    return df


def sdss_template_fit_inputs(table, filters: dict[int, FilterCurve] | None = None):
    """SDSS ugriz magnitudes as template-fit inputs: ``(flux (N, 5), err (N, 5), filters)``.

    ``table`` has columns ``u g r i z`` and ``err_u`` ... ``err_z`` (e.g.
    :func:`a3net.data.catalogues.load_sdss_ugriz`). The SDSS magnitudes are first put on the AB
    system with the SDSS offsets ``u_AB = u - 0.04`` and ``z_AB = z + 0.02`` (g, r, i are AB to
    about 0.01 mag; ``SDSS_AB_OFFSETS``), then turned into catalogue fluxes with AB zero-point
    25, ``flux = 10**(-0.4 (m_AB - 25))`` (a magnitude-25 source has flux 1), with errors
    ``err = flux * ln(10) / 2.5 * err_m`` (first order in the magnitude error). Bands with a
    non-finite magnitude or a non-positive or non-finite error get flux and error -99 (EAZY's
    "not observed", which ``TemplateFitter`` skips). ``filters`` are FILTER.RES.latest numbers
    156-160 (SDSS DR7 ugriz with the atmosphere), taken from ``filters`` when given, else from
    :func:`load_eazy_filters` (fetched).
    """
    bands = list(SDSS_FILTERS)
    missing = [c for c in (*bands, *(f"err_{b}" for b in bands)) if c not in table.columns]
    if missing:
        raise ValueError(
            f"the SDSS table lacks the columns {missing}; it needs u g r i z and err_u ... err_z."
        )
    mag = table[bands].to_numpy(dtype=float)
    emag = table[[f"err_{b}" for b in bands]].to_numpy(dtype=float)
    mag_ab = mag + np.array([SDSS_AB_OFFSETS[b] for b in bands])
    good = np.isfinite(mag_ab) & np.isfinite(emag) & (emag > 0)
    with np.errstate(over="ignore", invalid="ignore"):
        flux = 10 ** (-0.4 * (mag_ab - 25.0))
        err = flux * np.log(10) / 2.5 * emag
    flux = np.where(good, flux, -99.0)
    err = np.where(good, err, -99.0)
    curves = load_eazy_filters() if filters is None else filters
    try:
        chosen = [curves[SDSS_FILTERS[b]] for b in bands]
    except KeyError:
        raise ValueError(
            "filters must hold the FILTER.RES.latest numbers 156-160 (SDSS ugriz)."
        ) from None
    return flux, err, chosen
