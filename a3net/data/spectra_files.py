"""Readers of real galaxy-spectrum files (chapters A/B): SDSS spectra, the SDSS spDR2
cross-correlation templates and the school's HDF5 layout.

* :func:`read_sdss_spectrum`: a ``spec-PLATE-MJD-FIBER.fits`` file (HDU ``COADD``: flux in
  1e-17 erg/s/cm2/A, ``loglam`` = log10(lambda/A), ``ivar``, ``and_mask``; HDU ``SPECOBJ``: Z,
  Z_ERR, CLASS, PLATE, MJD, FIBERID), or the older single-table layout of some public examples
  (``flux``, ``wavelength`` in A, ``inverse_variance``, ``and_mask``; no redshift).
* :func:`read_sdss_template`: ``spDR2-NNN.fit`` (row 0 of the image is the flux,
  log10(lambda/A) = COEFF0 + COEFF1 i, its own redshift in the header's Z).
* :func:`read_school_spectra`: the school's HDF5 file, group ``raw`` with ``spec`` (N, L),
  ``specerr``, ``wavelength`` (L,), and one value per spectrum of ``z``, ``zerr``, ``age``,
  ``metallicity``, ``smass``, ``plateid``, ``mjd``, ``fiberid``, ``ra``, ``dec``.

Every reader takes a path or an http(s)/file URL (downloaded through the fetch cache).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ._open import open_fits, open_hdf5
from .fetch import resolve_source

SCHOOL_LABELS = (
    "z",
    "zerr",
    "age",
    "metallicity",
    "smass",
    "plateid",
    "mjd",
    "fiberid",
    "ra",
    "dec",
)


class SdssSpectrum(NamedTuple):
    """One spectrum: log10(lambda/A) (L,), flux [1e-17 erg/s/cm2/A] (L,), inverse variance (L,),
    the AND mask (L,), and the pipeline's redshift, its error and class (NaN / "" if absent)."""

    loglam: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    and_mask: np.ndarray
    z: float
    z_err: float
    spectral_class: str


def _column(table, names, path, what):
    for name in names:
        if name in table.columns.names:
            return np.asarray(table[name], dtype=np.float64)
    raise ValueError(
        f"{path.name} has no {what} column (looked for {', '.join(names)}); its columns are "
        f"{', '.join(table.columns.names)}."
    )


def _table_hdu(hdul, path):
    """The spectrum's table: HDU ``COADD`` if there is one, else the first table HDU."""
    names = [h.name for h in hdul]
    if "COADD" in names:
        candidates = [hdul["COADD"]]
    else:
        candidates = [
            h
            for h in hdul[1:]
            if getattr(h, "columns", None) is not None
            and any(n.lower() == "flux" for n in h.columns.names)
        ]
    if not candidates or getattr(candidates[0], "columns", None) is None:
        raise ValueError(
            f"{path.name} holds no spectrum table (HDU 'COADD' or a binary table with a flux "
            "column after the primary HDU); pass an SDSS spec-PLATE-MJD-FIBER.fits file."
        )
    table = candidates[0].data
    if table is None or len(table) == 0:
        raise ValueError(
            f"{path.name}: the spectrum table is empty; pass a complete spectrum file."
        )
    return table


def read_sdss_spectrum(source, *, offline: bool | None = None) -> SdssSpectrum:
    """Read an SDSS spectrum file (see the module docstring for the two layouts)."""
    path = resolve_source(source, "the SDSS spectrum", offline=offline)
    with open_fits(path) as hdul:
        names = [h.name for h in hdul]
        table = _table_hdu(hdul, path)
        flux = _column(table, ("flux",), path, "flux")
        if "loglam" in table.columns.names:
            loglam = _column(table, ("loglam",), path, "loglam")
        else:
            wave = _column(table, ("wavelength", "lambda"), path, "wavelength")
            if np.any(wave <= 0):
                raise ValueError(f"{path.name}: wavelengths must be positive (in A).")
            loglam = np.log10(wave)
        ivar = _column(table, ("ivar", "inverse_variance"), path, "inverse-variance")
        mask = (
            np.asarray(table["and_mask"], dtype=np.int64)
            if "and_mask" in table.columns.names
            else np.zeros(flux.size, dtype=np.int64)
        )
        z, z_err, kind = np.nan, np.nan, ""
        if "SPECOBJ" in names:
            obj = hdul["SPECOBJ"].data
            z, z_err = float(obj["Z"][0]), float(obj["Z_ERR"][0])
            kind = str(obj["CLASS"][0]).strip()
    if not (np.isfinite(loglam).all() and np.any(np.isfinite(flux))):
        raise ValueError(
            f"{path.name}: the wavelength grid has NaN values or the flux is all NaN; the file is "
            "damaged: download it again."
        )
    if np.any(np.diff(loglam) <= 0):
        raise ValueError(f"{path.name}: the wavelength grid does not increase.")
    return SdssSpectrum(loglam, flux, ivar, mask, z, z_err, kind)


def read_sdss_template(source, *, row: int = 0, offline: bool | None = None):
    """(log10 lambda/A (L,), flux (L,), z) of an SDSS spDR2 template; ``row`` 0 is the flux
    (the other rows, where a file has them, are its eigenspectra or errors)."""
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
        raise TypeError(f"row must be a whole number (0 is the flux), got {row!r}.")
    if row < 0:
        raise ValueError(
            f"row must be >= 0 (0 is the flux), got {row}; negative rows are not counted from "
            "the end."
        )
    path = resolve_source(source, "the SDSS template", offline=offline)
    with open_fits(path) as hdul:
        head, data = hdul[0].header, hdul[0].data
        missing = [k for k in ("COEFF0", "COEFF1") if k not in head]
        if data is None or data.ndim != 2 or missing:
            raise ValueError(
                f"{path.name} is not an spDR2 template: it needs a 2-D image and the header "
                f"keys COEFF0 and COEFF1 (missing: {missing or 'none'})."
            )
        if row >= data.shape[0]:
            raise ValueError(
                f"row must be between 0 and {data.shape[0] - 1}: {path.name} has {data.shape[0]} "
                f"rows, got row={row}."
            )
        coeffs = []
        for key in ("COEFF0", "COEFF1", "Z"):
            value = head.get(key, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ValueError(
                    f"{path.name}: header key {key} must be a number, got {value!r}; the file is "
                    "damaged or not an spDR2 template."
                )
            coeffs.append(float(value))
        if not (np.isfinite(coeffs).all() and coeffs[1] > 0):
            raise ValueError(
                f"{path.name}: COEFF0/COEFF1 ({coeffs[0]}, {coeffs[1]}) do not make an increasing "
                "wavelength grid; the file is damaged or not an spDR2 template."
            )
        loglam = coeffs[0] + coeffs[1] * np.arange(data.shape[1])
        return loglam, np.asarray(data[row], dtype=np.float64), coeffs[2]


def read_school_spectra(source, *, offline: bool | None = None):
    """The school's HDF5 file: (wavelength (L,) [A], spec (N, L), specerr (N, L), labels
    DataFrame with one row per spectrum and the columns of ``SCHOOL_LABELS``)."""
    path = resolve_source(source, "the school's spectra file", offline=offline)
    with open_hdf5(path) as handle:
        if "raw" not in handle:
            raise ValueError(f"{path.name} has no group 'raw'; its groups are {list(handle)}.")
        raw = handle["raw"]
        missing = [k for k in ("spec", "specerr", "wavelength", *SCHOOL_LABELS) if k not in raw]
        if missing:
            raise ValueError(f"{path.name}: group 'raw' lacks {', '.join(missing)}.")
        spec = np.asarray(raw["spec"], dtype=np.float32)
        err = np.asarray(raw["specerr"], dtype=np.float32)
        wave = np.asarray(raw["wavelength"], dtype=np.float64).ravel()
        columns = {k: np.asarray(raw[k]).ravel() for k in SCHOOL_LABELS}
        sizes = {k: v.size for k, v in columns.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(
                f"{path.name}: the labels in group 'raw' have different lengths ({sizes}); every "
                "label needs one value per spectrum."
            )
        labels = pd.DataFrame(columns)
    if spec.ndim != 2 or spec.shape != err.shape or spec.shape[1] != wave.size:
        raise ValueError(
            f"{path.name}: spec {spec.shape} and specerr {err.shape} must be (N, L) with L = "
            f"{wave.size} wavelengths."
        )
    if len(labels) != len(spec):
        raise ValueError(
            f"{path.name}: {len(labels)} labels for {len(spec)} spectra; every label needs one "
            "value per spectrum."
        )
    return wave, spec, err, labels


GALAXY_TEMPLATES = tuple(f"sdss/spDR2-{n:03d}.fit" for n in range(23, 29))
EXAMPLE_SPECTRA = (
    "sdss/spec-0266-51602-0013.fits",
    "sdss/spec-0266-51602-0056.fits",
    "sdss/spec-0266-51602-0107.fits",
    "sdss/NGC4636_SDSS_DR12.fits",
)


def load_sdss_templates(*, offline: bool | None = None) -> dict:
    """The six SDSS DR2 galaxy cross-correlation templates spDR2-023..028 (early type to late
    type and luminous red galaxy), fetched through the data cache: a dict name -> (loglam,
    flux, z_template) as :func:`a3net.metrics.best_template_redshift` takes it."""
    from .fetch import fetch

    return {
        name.split("/")[-1].removesuffix(".fit"): read_sdss_template(fetch(name, offline=offline))
        for name in GALAXY_TEMPLATES
    }


def load_sdss_examples(*, offline: bool | None = None) -> dict:
    """Four real SDSS galaxy spectra with pipeline redshifts (three at z = 0.12-0.21 and NGC 4636
    at z = 0.003), fetched through the data cache: a dict file name -> :class:`SdssSpectrum`."""
    from .fetch import fetch

    return {
        name.split("/")[-1].removesuffix(".fits"): read_sdss_spectrum(fetch(name, offline=offline))
        for name in EXAMPLE_SPECTRA
    }


def load_school_spectra(source, *, offline: bool | None = None):
    """The school's HDF5 file as a ``GalaxySpectra`` set, the simulator's format, for the
    chapters' preprocessing: loglam = log10(wavelength), ivar = 1 / specerr^2 (0 where the error
    is not a positive finite number), no mask bits, labels z, age, metallicity, smass and the
    other columns (zerr, plate, MJD, fibre, position) as ``truth``. ``source`` is a path or URL;
    None says where to put it."""
    from .spectra import SPECTRUM_LABELS, GalaxySpectra

    if source is None:
        raise ValueError(
            "SCHOOL_FILE is None: set it to the path or URL of the school's HDF5 file (group "
            "'raw'), or use DATA_SOURCE = 'simulator'."
        )
    wave, spec, err, labels = read_school_spectra(source, offline=offline)
    if np.any(wave <= 0) or np.any(np.diff(wave) <= 0):
        raise ValueError("the school file's wavelength must be positive and increasing.")
    if not (1000 < wave[0] and wave[-1] < 30_000):
        raise ValueError(
            f"the school file's wavelength runs {wave[0]:.4g}-{wave[-1]:.4g}: expected Angstrom "
            "in the optical (SDSS: 3800-9200); convert nm (x10) or log10(lambda) (10**) first."
        )
    good = np.isfinite(err) & (err > 0)
    ivar = np.where(good, 1.0 / np.where(good, err, 1.0) ** 2, 0.0).astype(np.float32)
    return GalaxySpectra(
        np.log10(wave),
        spec,
        ivar,
        np.zeros(spec.shape, dtype=np.int32),
        labels[list(SPECTRUM_LABELS)].astype(float).reset_index(drop=True),
        labels.drop(columns=list(SPECTRUM_LABELS)).reset_index(drop=True),
    )
