"""Photometric catalogues with spectroscopic redshifts (chapter C): reading, cleaning, features.

Two table layouts are understood, per band name ``b``:

- **fluxes** (3D-HST, EAZY/HDF-N): columns ``f_b`` and ``e_b``, fluxes with AB zero-point 25
  (``mag = 25 - 2.5 log10 f``), ``-99`` where the band has no coverage (any flux or error
  <= -90 counts, EAZY's NOT_OBS_THRESHOLD), ``z_spec = -1`` where there is no spectroscopic
  redshift;
- **magnitudes** (SDSS, 2SLAQ): a column ``b`` of AB magnitudes and optionally ``err_b``;
  values <= -90 or >= 90 (-99, 99, -666, 999) mark a missing magnitude.

Non-detections and missing bands become features as follows (:func:`flux_to_mag`,
:func:`photometric_features`): a band without coverage (-99, NaN) is NaN; a covered band whose
flux is below ``nsigma`` (default 1) times its error is a non-detection and gets the magnitude of
that limit, ``25 - 2.5 log10(nsigma * err)`` (finite, "fainter than this"), with a NaN magnitude
error marking it as a limit; ``indicators=True`` adds a ``det_b`` column (1 detected, 0 not).
scikit-learn's tree ensembles (HistGradientBoosting, and RandomForest from 1.4) accept the NaN
of uncovered bands; for other models drop or impute those rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import fetch as _fetch
from ._open import existing_file, open_fits, read_csv, read_text, reading
from .sed import AB_ZEROPOINT

__all__ = [
    "CLEANING_REASONS",
    "DOWNLOAD_3DHST",
    "FEATURE_KINDS",
    "MISSING_FLUX",
    "clean_catalogue",
    "flux_to_mag",
    "load_2slaq",
    "load_3dhst_catalogue",
    "load_sdss_ugriz",
    "load_table",
    "photometric_features",
    "read_ascii_table",
]

MISSING_FLUX = -99.0  # 3D-HST/EAZY: no coverage in this band
_NOT_OBSERVED = -90.0  # a flux or error <= -90 means no coverage (EAZY's NOT_OBS_THRESHOLD)
_MAG_SENTINEL = 90.0  # |mag| >= 90 (-99, 99, -666, 999) marks a missing magnitude
_ZSPEC_MARKERS = (-1.0, -99.0)  # "no spectroscopic redshift"
DOWNLOAD_3DHST = "https://archive.stsci.edu/prepds/3d-hst/"
FEATURE_KINDS = ("bands", "colours", "all_columns")
SDSS_BANDS = ("u", "g", "r", "i", "z")

# Outputs of photo-z / SED fits (EAZY .zout, FAST .fout): never features, they encode a redshift.
_ZOUT_COLUMNS = {"l68", "u68", "l95", "u95", "l99", "u99", "odds", "q_z", "chi_a", "chi_p"}
_ZOUT_COLUMNS |= {"peak_prob", "nfilt"}
_FAST_COLUMNS = {"z_fast", "ltau", "metal", "lage", "av", "lmass", "lsfr", "lssfr", "la2t", "chi2"}


# ----------------------------------------------------------------------------------------------
# Reading tables
# ----------------------------------------------------------------------------------------------


def _as_path(path, what: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got {type(path).__name__}.")
    return Path(os.fspath(path)).expanduser()


def read_ascii_table(path, *, names=None, return_comments: bool = False):
    """A whitespace-separated ASCII table as a DataFrame.

    Column names: ``names`` if given, else the first ``#`` line at the top of the file whose
    number of words equals the number of data columns (``# id x y ra ...``; later ``#`` lines,
    such as EAZY's ``# id F10 E10 ...`` or FAST's comment block, are kept as comments). With
    ``return_comments`` the ``#`` lines at the top are returned too: ``(df, comments)``.
    """
    path = existing_file(_as_path(path, "path"), "the table")
    comments: list[str] = []
    content = read_text(path)
    for line in content.splitlines():
        text = line.strip()
        if not text:
            continue
        if not text.startswith("#"):
            break
        comments.append(text)
    try:
        with reading(path, "text"):
            df = pd.read_csv(path, sep=r"\s+", comment="#", header=None)
    except ValueError as exc:
        cause = exc.__cause__
        if isinstance(cause, pd.errors.EmptyDataError):
            df = None
        elif isinstance(cause, pd.errors.ParserError):
            raise ValueError(
                f"{path.name}: the rows do not all have the same number of columns "
                f"({' '.join(str(cause).split())[:100]})."
            ) from None
        else:
            raise

    if names is not None:
        names = [str(n) for n in names]
        if df is not None and len(names) != df.shape[1]:
            raise ValueError(
                f"{path.name}: {len(names)} names were given but the rows have {df.shape[1]} "
                "columns."
            )
    else:
        candidates = [c.lstrip("#").split() for c in comments]
        candidates = [c for c in candidates if c]
        if df is None:
            names = candidates[0] if candidates else []
        else:
            matching = [c for c in candidates if len(c) == df.shape[1]]
            if not matching:
                found = "there is no '#' header line"
                if candidates:
                    found = f"its '#' lines have {sorted({len(c) for c in candidates})} words"
                raise ValueError(
                    f"{path.name}: the rows have {df.shape[1]} columns but {found}; the table "
                    "needs a '# name1 name2 ...' header line, or pass names=."
                )
            names = matching[0]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"{path.name}: repeated column names {repeated}.")
    if df is None:
        df = pd.DataFrame(columns=names)
    else:
        _refuse_short_rows(content, df.shape[1], path)
        df.columns = names
        _refuse_text_among_numbers(df, path)
    return (df, comments) if return_comments else df


def _refuse_short_rows(content: str, n_columns: int, path: Path) -> None:
    """A row with fewer values than the table has columns (a file cut short, a lost value) would
    be read with NaN in its last columns: refused, naming the line."""
    for line_no, line in enumerate(content.splitlines(), start=1):
        values = line.split("#", 1)[0].split()
        if values and len(values) < n_columns:
            raise ValueError(
                f"{path.name}, line {line_no}: {len(values)} values but the table has "
                f"{n_columns} columns; the file may be cut short: download it again or fix the row."
            )


def _refuse_cut_csv(path: Path) -> None:
    """A CSV file that ends in the middle of its last row (a truncated download) is refused."""
    if path.name.lower().endswith(".gz"):
        return
    with reading(path, "csv"), open(path, "rb") as fh:
        first = fh.readline()
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    if tail.endswith(b"\n") or b"\n" not in tail:
        return
    last = tail.rsplit(b"\n", 1)[1]
    if b'"' in last or b'"' in first:
        return
    if last.count(b",") < first.count(b","):
        raise ValueError(
            f"{path.name} ends in the middle of a row ({last.count(b',') + 1} of "
            f"{first.count(b',') + 1} fields); the file was cut short: download it again."
        )


_MISSING_WORDS = {"", "nan", "na", "n/a", "null", "none", "-", "--", "inf", "-inf", "+inf"}


def _is_text(values: pd.Series) -> bool:
    """True for a column of strings or Python objects (object or pandas' string dtype)."""
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def _text_values(values: pd.Series) -> pd.Series:
    """The entries of an object column that are neither numbers nor a word for "missing"."""
    text = values.dropna().astype(str).str.strip()
    numeric = pd.to_numeric(text, errors="coerce").notna()
    return text[~numeric & ~text.str.lower().isin(_MISSING_WORDS)]


def _refuse_text_among_numbers(df: pd.DataFrame, path: Path) -> None:
    """A column of numbers with some text in it (a damaged or hand-edited file) is refused,
    naming the column, rather than read as strings that later pass as missing values."""
    for col in df.columns:
        if not _is_text(df[col]):
            continue
        present = df[col].dropna()
        if present.map(lambda v: isinstance(v, bytes)).any():
            continue
        text = _text_values(present)
        if len(text) and len(text) < len(present) - len(text):
            raise ValueError(
                f"{path.name}: column {str(col)!r} holds numbers but also text such as "
                f"{text.iloc[0]!r} (row {text.index[0]}, {len(text)} such rows); fix or drop "
                "those rows."
            )


def load_table(path, **kwargs) -> pd.DataFrame:
    """A table file as a DataFrame, by its extension: ``.csv`` (``pandas.read_csv``, ``kwargs``
    passed on), FITS ``.fits``/``.fit``/``.fits.gz`` (a binary table via astropy; ``kwargs`` to
    ``Table.read``, e.g. ``hdu=2``), anything else a whitespace ASCII table with a ``#`` header
    line (:func:`read_ascii_table`; ``kwargs``: ``names``)."""
    path = existing_file(_as_path(path, "path"), "the table")
    name = path.name.lower()
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        df = read_csv(path, **kwargs)
        if not kwargs:
            _refuse_cut_csv(path)
        if df.shape[1] == 0:
            raise ValueError(f"{path.name} has no columns; pass a CSV file with a header line.")
        _refuse_text_among_numbers(df, path)
        return df
    if name.endswith((".fits", ".fit", ".fits.gz", ".fit.gz", ".fts")):
        import warnings

        from astropy.table import Table

        with open_fits(path) as hdul:
            has_table = any(getattr(h, "columns", None) is not None for h in hdul)
        if not has_table:
            raise ValueError(
                f"{path.name} holds images but no table; pass a FITS file with a binary table, "
                "or read images with astropy.io.fits."
            )
        with reading(path, "fits"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy's unit warnings of odd headers
            table = Table.read(path, format="fits", **kwargs)
        multi = [c for c in table.colnames if len(table[c].shape) > 1]
        if multi:
            raise ValueError(
                f"{path.name}: columns {multi} hold arrays per row, which a DataFrame cannot; "
                "read the file with astropy.table.Table and pick the columns you need."
            )
        df = table.to_pandas()
        for col in df.columns:  # FITS strings come back as bytes
            if df[col].dtype == object and len(df) and isinstance(df[col].iloc[0], bytes):
                df[col] = df[col].str.decode("utf-8").str.strip()
        return df
    return read_ascii_table(path, **kwargs)


# ----------------------------------------------------------------------------------------------
# Registered catalogues
# ----------------------------------------------------------------------------------------------


def load_sdss_ugriz(split: str = "train") -> pd.DataFrame:
    """Real SDSS galaxies with spectroscopic redshifts (the ANNz example set of Collister & Lahav
    2004, via CosmoPhotoz), fetched: ``split="train"`` 5000 rows, ``"test"`` 6000 rows.

    Columns ``u g r i z`` (AB magnitudes), ``err_u`` ... ``err_z``, ``z_spec`` (0.002-0.64).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    names = [*SDSS_BANDS, *(f"err_{b}" for b in SDSS_BANDS), "z_spec"]
    path = _fetch.fetch(f"photoz/sdss-ugriz-{split}.dat")
    df = read_ascii_table(path, names=names)
    df.attrs = {"bands": list(SDSS_BANDS), "source": f"photoz/sdss-ugriz-{split}.dat"}
    return df


def load_2slaq() -> pd.DataFrame:
    """Real 2SLAQ luminous red galaxies with SDSS photometry (14155 rows, z to 0.88), fetched.

    Columns ``u g r i z`` (AB magnitudes; -666 in all five for 4 objects without photometry,
    left for :func:`clean_catalogue` to count) and ``z_spec``; no magnitude errors.
    """
    df = read_csv(_fetch.fetch("photoz/2slaq_small.csv"))
    df = df.rename(columns={**{f"mag_{b}": b for b in SDSS_BANDS}, "redshift": "z_spec"})
    df.attrs = {"bands": list(SDSS_BANDS), "source": "photoz/2slaq_small.csv"}
    return df


def _flux_bands(columns) -> list[str]:
    cols = set(columns)
    return [c[2:] for c in columns if c.startswith("f_") and f"e_{c[2:]}" in cols]


def _join_by_id(df: pd.DataFrame, extra: pd.DataFrame, what: str, path: Path) -> list[str]:
    if "id" not in extra.columns:
        raise ValueError(f"the {what} file {path.name} has no 'id' column to join on.")
    if extra["id"].duplicated().any():
        raise ValueError(f"the {what} file {path.name} repeats ids; each object needs one row.")
    absent = ~df["id"].isin(extra["id"])
    if absent.any():
        raise ValueError(
            f"{int(absent.sum())} ids of the catalogue (e.g. {df['id'][absent].iloc[0]}) have no "
            f"row in the {what} file {path.name}; is it the file of the same field and version?"
        )
    new = [c for c in extra.columns if c != "id" and c not in df.columns]
    lookup = extra.set_index("id")[new]
    for col in new:
        df[col] = lookup[col].reindex(df["id"]).to_numpy()
    return new


def load_3dhst_catalogue(path, zout=None, fast=None) -> pd.DataFrame:
    """A 3D-HST v4.1 photometric catalogue (Skelton et al. 2014), optionally with its EAZY
    (``.zout``) and FAST (``.fout``) outputs joined by ``id``.

    The catalogue (``*_3dhst.v4.1.cat``, whitespace ASCII with a ``# id x y ra dec faper_F160W
    ...`` header, or its FITS version) has fluxes ``f_<band>`` and errors ``e_<band>`` with AB
    zero-point 25, -99 where a band has no coverage, ``z_spec`` (-1: none), ``star_flag`` and
    ``use_phot``. From ``.zout`` the columns not already in the catalogue are added (``z_peak``,
    ``z_a``, ``l68`` ...); from ``.fout`` all but ``id``, its ``z`` renamed ``z_fast``. Every
    catalogue id must have a row in each joined file. ``df.attrs``: ``bands``, ``errors`` {flux
    column: error column}, ``derived_columns`` (the joined columns: fit outputs, never features).
    """
    path = _as_path(path, "path")
    for file, what in ((path, "catalogue"), (zout, ".zout file"), (fast, ".fout file")):
        if file is not None and not _as_path(file, what).is_file():
            raise FileNotFoundError(
                f"The 3D-HST {what} {str(file)!r} does not exist: download the v4.1 photometric "
                f"catalogues and their .zout and .fout files from {DOWNLOAD_3DHST} and pass their "
                "paths."
            )
    df = load_table(path)
    if "id" not in df.columns or not _flux_bands(df.columns):
        raise ValueError(
            f"{path.name} is not in the 3D-HST layout: it needs an 'id' column and flux/error "
            f"columns 'f_<band>'/'e_<band>'; its columns are {list(df.columns)[:12]}..."
        )
    if df["id"].duplicated().any():
        raise ValueError(f"{path.name} repeats ids; each object needs one row.")
    derived: list[str] = []
    if zout is not None:
        zout = _as_path(zout, "zout")
        derived += _join_by_id(df, load_table(zout), ".zout", zout)
    if fast is not None:
        fast = _as_path(fast, "fast")
        fout = load_table(fast).rename(columns={"z": "z_fast"})
        derived += _join_by_id(df, fout, ".fout", fast)
    bands = _flux_bands(df.columns)
    df.attrs = {
        "bands": bands,
        "errors": {f"f_{b}": f"e_{b}" for b in bands},
        "derived_columns": derived,
        "source": str(path),
    }
    return df


# ----------------------------------------------------------------------------------------------
# Bands, magnitudes, cleaning
# ----------------------------------------------------------------------------------------------


def _check_frame(df) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}.")


def _check_bands(bands) -> list[str]:
    if isinstance(bands, str):
        bands = [bands]
    try:
        bands = list(bands)
    except TypeError:
        raise TypeError(
            f"bands must be a list of band names such as ['u', 'g'], got {type(bands).__name__}."
        ) from None
    if not bands or not all(isinstance(b, str) and b for b in bands):
        raise ValueError(f"bands must be a non-empty list of band names, got {bands!r}.")
    if len(set(bands)) != len(bands):
        raise ValueError(f"bands repeat: {bands}.")
    return bands


def _band_columns(df: pd.DataFrame, band: str):
    """``(kind, value column, error column or None)`` of ``band``; kind "flux" or "mag"."""
    if f"f_{band}" in df.columns:
        return "flux", f"f_{band}", f"e_{band}"
    errors = df.attrs.get("errors", {}) if isinstance(df.attrs.get("errors"), dict) else {}
    if band in errors:  # an EAZY catalogue read with its own column names
        return "flux", band, errors[band]
    if band in df.columns:
        return "mag", band, f"err_{band}" if f"err_{band}" in df.columns else None
    return None, f"f_{band}", f"e_{band}"


def _resolve(df: pd.DataFrame, bands: list[str]) -> list[tuple[str, str, str, str | None]]:
    resolved, missing = [], []
    for band in bands:
        kind, value, error = _band_columns(df, band)
        if kind is None:
            missing.append(f"{band!r} (neither a flux column {value!r} nor a magnitude column)")
        elif kind == "flux" and error not in df.columns:
            missing.append(f"{band!r} (error column {error!r} of flux column {value!r})")
        resolved.append((band, kind, value, error))
    if missing:
        raise ValueError(
            "missing columns for bands: " + "; ".join(missing) + f". The table has columns "
            f"{list(df.columns)[:20]}{'...' if df.shape[1] > 20 else ''}."
        )
    return resolved


def _band_state(df: pd.DataFrame, kind: str, value: str, error: str | None):
    """Per row: (no data, bad value, negative error) of one band."""
    v = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
    e = (
        pd.to_numeric(df[error], errors="coerce").to_numpy(dtype=float)
        if error is not None
        else np.zeros_like(v)
    )
    if kind == "flux":
        marker = (v <= _NOT_OBSERVED) | (e <= _NOT_OBSERVED)
    else:
        marker = (np.abs(v) >= _MAG_SENTINEL) | (np.abs(e) >= _MAG_SENTINEL)
    nodata = marker | np.isnan(v)
    bad = ~marker & ~(np.isfinite(v) & np.isfinite(e))
    negative = ~marker & np.isfinite(e) & (e < 0)
    return nodata, bad, negative


CLEANING_REASONS = (
    "no_photometry",
    "star",
    "use_phot_0",
    "no_zspec",
    "bad_zspec",
    "low_mass",
    "nan_photometry",
    "negative_error",
)


def clean_catalogue(
    df,
    bands,
    *,
    min_lmass: float | None = None,
    require_zspec: bool = True,
    zspec_column: str = "z_spec",
) -> tuple[pd.DataFrame, pd.Series]:
    """Rows of ``df`` fit for photo-z work, and a report of what was removed and why.

    Removal reasons, in order (a row is counted under the first one that removes it):
    ``no_photometry`` every band of ``bands`` is -99 (magnitudes: |m| >= 90) or NaN;
    ``star`` ``star_flag == 1``; ``use_phot_0`` ``use_phot == 0`` (when those columns exist);
    ``no_zspec`` (with ``require_zspec``) z_spec is -1, -99 or NaN;
    ``bad_zspec`` any other z_spec < 0 (and z_spec == 0 with ``require_zspec``);
    ``low_mass`` ``lmass < min_lmass`` or lmass missing (when ``min_lmass`` is given);
    ``nan_photometry`` a NaN/inf flux, magnitude or error in a band that is not -99;
    ``negative_error`` a negative error in a band that is not -99.
    A band that is -99 in some rows only is kept (no coverage is information, see
    :func:`photometric_features`). Returns ``(clean_df, report)``: the kept rows (original
    index) and a Series of counts per reason plus ``kept``, summing to ``len(df)``; the report
    is also stored in ``clean_df.attrs["cleaning"]``.
    """
    _check_frame(df)
    bands = _check_bands(bands)
    if min_lmass is not None and (
        isinstance(min_lmass, bool)
        or not isinstance(min_lmass, (int, float, np.number))
        or not np.isfinite(min_lmass)
    ):
        raise ValueError(
            f"min_lmass must be a finite number (log10 Msun) or None, got {min_lmass!r}."
        )
    needed = []
    if require_zspec and zspec_column not in df.columns:
        needed.append(zspec_column)
    if min_lmass is not None and "lmass" not in df.columns:
        needed.append("lmass (stellar mass, from the FAST .fout file)")
    try:
        resolved = _resolve(df, bands)
    except ValueError as exc:
        if needed:
            raise ValueError(f"{exc} Also missing: {', '.join(needed)}.") from None
        raise
    if needed:
        raise ValueError(f"missing required columns: {', '.join(needed)}.")
    for _band, _kind, value, error in resolved:
        for col in (value, error):
            if col is None or not _is_text(df[col]):
                continue
            text = _text_values(df[col])
            if len(text):
                raise ValueError(
                    f"column {col!r} holds text such as {text.iloc[0]!r} (row {text.index[0]}, "
                    f"{len(text)} such rows) where numbers are expected; fix or drop those rows."
                )

    n = len(df)
    nodata_all = np.ones(n, dtype=bool)
    bad_any = np.zeros(n, dtype=bool)
    negative_any = np.zeros(n, dtype=bool)
    for _band, kind, value, error in resolved:
        nodata, bad, negative = _band_state(df, kind, value, error)
        nodata_all &= nodata
        bad_any |= bad
        negative_any |= negative

    def column(name):
        return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)

    masks = {reason: np.zeros(n, dtype=bool) for reason in CLEANING_REASONS}
    masks["no_photometry"] = nodata_all
    if "star_flag" in df.columns:
        masks["star"] = column("star_flag") == 1
    if "use_phot" in df.columns:
        masks["use_phot_0"] = column("use_phot") == 0
    if zspec_column in df.columns:
        z = column(zspec_column)
        marker = np.isnan(z) | np.isin(z, _ZSPEC_MARKERS)
        if require_zspec:
            masks["no_zspec"] = marker
            masks["bad_zspec"] = ~marker & ~(z > 0)
        else:
            masks["bad_zspec"] = ~marker & ~(z >= 0)
    if min_lmass is not None:
        masks["low_mass"] = ~(column("lmass") >= min_lmass)
    masks["nan_photometry"] = bad_any
    masks["negative_error"] = negative_any

    removed = np.zeros(n, dtype=bool)
    counts = {}
    for reason in CLEANING_REASONS:
        first = masks[reason] & ~removed
        counts[reason] = int(first.sum())
        removed |= first
    counts["kept"] = int((~removed).sum())
    report = pd.Series(counts, name="rows", dtype=int)
    clean = df.loc[~removed].copy()
    clean.attrs = {**df.attrs, "cleaning": report.to_dict()}
    return clean, report


def flux_to_mag(flux, err, *, nsigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """AB magnitudes ``(mag, mag_err)`` of catalogue fluxes with zero-point 25.

    - detected (``flux > nsigma * err``): ``mag = 25 - 2.5 log10(flux)``, ``mag_err = 2.5 /
      ln(10) * err / flux``;
    - not detected (covered, ``flux <= nsigma * err``, ``err > 0``): ``mag`` is the limiting
      magnitude ``25 - 2.5 log10(nsigma * err)`` and ``mag_err`` is NaN (NaN error = a limit);
    - not covered (flux or err is -99 (<= -90), NaN or infinite, or err < 0): both NaN.
    """
    if isinstance(nsigma, bool) or not isinstance(nsigma, (int, float)) or not nsigma > 0:
        raise ValueError(f"nsigma must be a positive number, got {nsigma!r}.")
    try:
        flux = np.asarray(flux, dtype=float)
        err = np.asarray(err, dtype=float)
        flux, err = np.broadcast_arrays(flux, err)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"flux and err must be numeric arrays of the same shape ({exc})."
        ) from None
    covered = (
        np.isfinite(flux)
        & np.isfinite(err)
        & (flux > _NOT_OBSERVED)
        & (err > _NOT_OBSERVED)
        & (err >= 0)
    )
    detected = covered & (flux > nsigma * err)
    limit = covered & ~detected & (err > 0)
    mag = np.full(flux.shape, np.nan)
    mag_err = np.full(flux.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag[detected] = AB_ZEROPOINT - 2.5 * np.log10(flux[detected])
        mag_err[detected] = 2.5 / np.log(10) * err[detected] / flux[detected]
        mag[limit] = AB_ZEROPOINT - 2.5 * np.log10(nsigma * err[limit])
    return mag, mag_err


def _is_leak(name: str, target: str, derived) -> bool:
    low = name.lower()
    return (
        name == target
        or name in derived
        or low.startswith("z_")
        or any(key in low for key in ("zphot", "photoz", "photz", "z_peak"))
        or low in _ZOUT_COLUMNS
        or low in _FAST_COLUMNS
    )


def photometric_features(
    df,
    bands,
    kind: str = "colours",
    *,
    target: str = "z_spec",
    nsigma: float = 1.0,
    indicators: bool = False,
) -> pd.DataFrame:
    """A feature table (same index as ``df``) for photo-z regression.

    ``kind``:
    - ``"bands"``: the magnitude ``mag_<band>`` of every band (fluxes through
      :func:`flux_to_mag`: non-detections at their ``nsigma`` limit, no coverage NaN; magnitude
      columns as they are, sentinels |m| >= 90 as NaN);
    - ``"colours"``: those magnitudes plus every pairwise colour ``<a>-<b> = mag_a - mag_b``
      (a before b in ``bands``; 5 bands give 5 + 10 features), as the hack did;
    - ``"all_columns"``: every numeric column of ``df`` as it is (-99 included) except the target
      and any photo-z or SED-fit output (``z_*`` such as z_peak, zphot, EAZY .zout and FAST .fout
      columns, ``df.attrs["derived_columns"]``): ids, positions, pixel coordinates and flags
      stay in. The deliberately naive feature set.
    ``indicators=True`` adds ``det_<band>`` (1.0 detected, 0.0 limit or not covered) for the
    first two kinds.
    """
    _check_frame(df)
    bands = _check_bands(bands)
    if kind not in FEATURE_KINDS:
        raise ValueError(
            f"kind must be one of {', '.join(map(repr, FEATURE_KINDS))}, got {kind!r}."
        )
    resolved = _resolve(df, bands)
    if kind == "all_columns":
        if indicators:
            raise ValueError("indicators=True applies to kind 'bands' or 'colours' only.")
        derived = set(df.attrs.get("derived_columns", ()))
        keep = [
            c
            for c in df.columns
            if not _is_leak(str(c), target, derived)
            and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
        ]
        return df[keep].astype(float)

    columns: dict[str, np.ndarray] = {}
    detected: dict[str, np.ndarray] = {}
    for band, band_kind, value, error in resolved:
        v = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
        if band_kind == "flux":
            e = pd.to_numeric(df[error], errors="coerce").to_numpy(dtype=float)
            mag, mag_err = flux_to_mag(v, e, nsigma=nsigma)
            detected[band] = np.isfinite(mag_err).astype(float)
        else:
            mag = np.where(np.abs(v) >= _MAG_SENTINEL, np.nan, v)
            detected[band] = np.isfinite(mag).astype(float)
        columns[f"mag_{band}"] = mag
    if kind == "colours":
        for i, a in enumerate(bands):
            for b in bands[i + 1 :]:
                columns[f"{a}-{b}"] = columns[f"mag_{a}"] - columns[f"mag_{b}"]
    if indicators:
        columns.update({f"det_{band}": detected[band] for band in bands})
    return pd.DataFrame(columns, index=df.index)
