"""Property test of every file reader on random and damaged bytes (hypothesis).

Whatever the bytes, a reader either returns or raises one of a3net's clear errors (ValueError,
TypeError, FileNotFoundError, PermissionError, MemoryError), raised by a3net's own code, in a
message of one or two sentences: never an astropy, h5py, pandas or NumPy error from deep inside.
The bytes are either random or a real file (from ../shared/realdata where there is one, else
written by the test in the real format) cut at a random length with random bytes changed.
"""

from __future__ import annotations

import io
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
CLEAR = (ValueError, TypeError, FileNotFoundError, PermissionError, MemoryError)
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def _real(rel: str, limit: int | None = None) -> bytes | None:
    path = REALDATA / rel
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data[:limit] if limit else data


def _school_bytes() -> bytes:
    import h5py

    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with h5py.File(buffer, "w") as handle:
        raw = handle.create_group("raw")
        raw["spec"] = rng.normal(size=(3, 16))
        raw["specerr"] = np.abs(rng.normal(size=(3, 16)))
        raw["wavelength"] = np.linspace(3800, 9200, 16)
        for key in ("z", "zerr", "age", "metallicity", "smass", "plateid", "mjd", "fiberid"):
            raw[key] = rng.uniform(0.01, 1.0, size=3)
        raw["ra"] = np.ones(3)
        raw["dec"] = np.ones(3)
    return buffer.getvalue()


def _npy_bytes() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, (1 + np.random.default_rng(0).random((15, 16, 16))).astype(np.float32))
    return buffer.getvalue()


def _cube_bytes() -> bytes:
    from astropy.io import fits

    buffer = io.BytesIO()
    fits.PrimaryHDU(np.ones((3, 8, 8), dtype=np.float32)).writeto(buffer)
    return buffer.getvalue()


def _spectra_cache_bytes() -> bytes:
    from a3net.data import spectra as S

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spectra.npz"
        S._save(path, S._simulate(2, 0, (0.02, 0.25), 0.0, 1.0, True))
        return path.read_bytes()


PARAMS_TEXT = b"0.30000 0.80000 1.00000 1.00000 1.00000 1.00000\n" * 2


@st.composite
def damaged(draw, original: bytes | None):
    """Random bytes, or ``original`` cut at a random length with up to 8 random bytes changed."""
    if original is None or draw(st.booleans()):
        return draw(st.binary(min_size=0, max_size=4096))
    data = bytearray(original[: draw(st.integers(0, len(original)))])
    for _ in range(draw(st.integers(0, 8)) if data else 0):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _check(read, data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"file{suffix}"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read(path)
        except CLEAR as err:
            message = str(err)
            frames = traceback.extract_tb(err.__traceback__)
            assert frames and "/a3net/" in frames[-1].filename.replace("\\", "/"), (
                traceback.format_exception(err)[-4:]
            )
            assert 0 < len(message) <= 400 and message.count(". ") <= 2, message


def _readers():
    from a3net.data import eazy as E
    from a3net.data.camels_files import load_camels_maps, load_camels_params
    from a3net.data.catalogues import load_table, read_ascii_table
    from a3net.data.cluster_files import load_cluster_mocks, load_the300_xray
    from a3net.data.spectra_files import read_school_spectra, read_sdss_spectrum, read_sdss_template

    def mocks(path):
        table = path.with_name("mocks.csv")
        table.write_text("log_M500,split\n14.1,train\n14.2,validate\n14.3,test\n")
        return load_cluster_mocks(path, table, offline=True)

    def camels_maps(path):
        params = path.with_name("params.txt")
        params.write_bytes(PARAMS_TEXT[: len(PARAMS_TEXT) // 2])
        sources = {"params": str(params), "Mtot": str(path)}
        return load_camels_maps("IllustrisTNG", ("Mtot",), sources=sources, map_size=8)

    def spectra_cache(path):
        from a3net.data import spectra as S

        result = S._load(path, 2)
        assert result is None or result.flux.shape == (2, S.observed_loglam().size)

    def maps_cache(path):
        from a3net.data import cosmology as C

        maps = C._cache_load(path, (15, 1, 16, 16))
        assert maps is None or (maps.shape == (15, 1, 16, 16) and maps.dtype == np.float32)

    return {
        "read_sdss_spectrum": (
            read_sdss_spectrum,
            ".fits",
            "sdss_spectra/spec-0266-51602-0013.fits",
        ),
        "read_sdss_template": (read_sdss_template, ".fit", "sdss_spDR2_templates/spDR2-023.fit"),
        "load_the300_xray": (
            lambda p: load_the300_xray(p, offline=True),
            ".fits",
            "clusters/The300_Xray.fits",
        ),
        "load_table_csv": (load_table, ".csv", ("cosmophotoz/2slaq_small.csv", 4000)),
        "load_table_fits": (load_table, ".fits", "sdss_spectra/NGC3522_SDSS_DR8.fits"),
        "read_ascii_table": (read_ascii_table, ".dat", ("cosmophotoz/sdss-ugriz-train.dat", 4000)),
        "load_cluster_mocks": (mocks, ".fits", _cube_bytes),
        "read_school_spectra": (read_school_spectra, ".h5", _school_bytes),
        "read_filter_res": (E.read_filter_res, ".RES", ("eazy_photoz/FILTER.RES.latest", 6000)),
        "read_template_param": (
            E.read_template_param,
            ".param",
            "eazy_photoz/templates/eazy_v1.3.spectra.param",
        ),
        "read_template_error": (
            E.read_template_error,
            ".dat",
            ("eazy_photoz/templates/TEMPLATE_ERROR.eazy_v1.0", 4000),
        ),
        "read_prior": (E.read_prior, ".dat", ("eazy_photoz/templates/prior_R_zmax7.dat", 4000)),
        "read_eazy_catalogue": (
            E.read_eazy_catalogue,
            ".cat",
            ("eazy_photoz/inputs/hdfn_fs99_eazy.cat", 6000),
        ),
        "load_camels_params": (
            lambda p: load_camels_params("IllustrisTNG", source=str(p), offline=True),
            ".txt",
            lambda: PARAMS_TEXT,
        ),
        "load_camels_maps": (camels_maps, ".npy", _npy_bytes),
        "spectra_cache": (spectra_cache, ".npz", _spectra_cache_bytes),
        "maps_cache": (maps_cache, ".npy", _npy_bytes),
    }


READERS = _readers()


def _original(source):
    if source is None:
        return None
    if callable(source):
        return source()
    if isinstance(source, tuple):
        return _real(*source)
    return _real(source)


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_returns_or_raises_one_clear_sentence(name):
    read, suffix, source = READERS[name]
    original = _original(source)

    @SETTINGS
    @given(data=damaged(original))
    def run(data):
        _check(read, data, suffix)

    run()
