"""Bad files for the bad-input table (tests/test_bad_inputs.py): corrupt, truncated, empty and
foreign files for every reader, damaged simulator caches, and a broken download cache.

Where a real file exists in ../shared/realdata the row damages a copy of it (never the file
itself); the school's HDF5 file, the cluster mocks and the CAMELS files are written by the row
in their real format, then damaged. Each row's ``call(ctx)`` must raise one of a3net's clear
errors with the row's fragment (see tests/test_bad_inputs.py).

The cache rows turn warnings into errors: a damaged cache is not an error for the user (it is
simulated again, after a :class:`a3net.data._cache.CacheWarning` saying so), so the row checks
that the warning is given, by a3net, with its sentence.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from test_bad_inputs import Bad

SPEC = "sdss_spectra/spec-0266-51602-0013.fits"
OLD_SPEC = "sdss_spectra/NGC3522_SDSS_DR8.fits"
TEMPLATE = "sdss_spDR2_templates/spDR2-023.fit"
THE300 = "clusters/The300_Xray.fits"
PSZ = "clusters/PSZ2G359.07-32.12.fits"
CSV = "cosmophotoz/2slaq_small.csv"
UGRIZ = "cosmophotoz/sdss-ugriz-train.dat"
FILTERS = "eazy_photoz/FILTER.RES.latest"
PARAM = "eazy_photoz/templates/eazy_v1.3.spectra.param"
TEMPLATE_ERROR = "eazy_photoz/templates/TEMPLATE_ERROR.eazy_v1.0"
PRIOR = "eazy_photoz/templates/prior_R_zmax7.dat"
HDFN = "eazy_photoz/inputs/hdfn_fs99_eazy.cat"
TRANSLATE = "eazy_photoz/inputs/zphot.translate"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
TEXT = "This is not a data file.\nIt is a page of text someone saved by mistake.\n"
COMPLETE = "is not a complete"  # the guard's sentence


# ----------------------------------------------------------------------------------------------
# Damaged copies
# ----------------------------------------------------------------------------------------------


def _copy(ctx, rel: str, name: str | None = None) -> Path:
    dst = ctx.tmp / (name or Path(rel).name)
    shutil.copyfile(ctx.realdata / rel, dst)
    dst.chmod(0o644)
    return dst


def truncated(ctx, rel: str, fraction: float = 0.5, name: str | None = None) -> Path:
    data = (ctx.realdata / rel).read_bytes()
    dst = ctx.tmp / (name or Path(rel).name)
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def cut_at(ctx, rel: str, nbytes: int, name: str | None = None) -> Path:
    dst = ctx.tmp / (name or Path(rel).name)
    dst.write_bytes((ctx.realdata / rel).read_bytes()[:nbytes])
    return dst


def flipped(ctx, rel: str, offsets, name: str | None = None) -> Path:
    """A copy with the bytes at ``offsets`` inverted (bit flips of a bad disk or transfer)."""
    data = bytearray((ctx.realdata / rel).read_bytes())
    for offset in offsets:
        data[offset] ^= 0xFF
    dst = ctx.tmp / (name or Path(rel).name)
    dst.write_bytes(bytes(data))
    return dst


def empty(ctx, name: str) -> Path:
    dst = ctx.tmp / name
    dst.write_bytes(b"")
    return dst


def text_file(ctx, name: str, text: str = TEXT) -> Path:
    dst = ctx.tmp / name
    dst.write_text(text)
    return dst


def png(ctx, name: str) -> Path:
    dst = ctx.tmp / name
    dst.write_bytes(PNG)
    return dst


def binary(ctx, name: str, n: int = 4096, seed: int = 0) -> Path:
    dst = ctx.tmp / name
    dst.write_bytes(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())
    return dst


# ----------------------------------------------------------------------------------------------
# Files written in their real format
# ----------------------------------------------------------------------------------------------


def school_file(ctx, name: str = "school.h5", *, n: int = 5, length: int = 40) -> Path:
    import h5py

    from a3net.data.spectra_files import SCHOOL_LABELS

    path = ctx.tmp / name
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        raw = handle.create_group("raw")
        raw["spec"] = rng.normal(size=(n, length))
        raw["specerr"] = np.abs(rng.normal(size=(n, length)))
        raw["wavelength"] = np.linspace(3800, 9200, length)
        for key in SCHOOL_LABELS:
            raw[key] = rng.uniform(0.01, 1.0, size=n if key != "age" else n + 2)
    return path


def school_file_ok(ctx, name: str = "school.h5") -> Path:
    import h5py

    path = school_file(ctx, name)
    with h5py.File(path, "a") as handle:
        del handle["raw/age"]
        handle["raw/age"] = np.ones(5)
    return path


def damage(path: Path, *, keep: float | None = None, flip=(), size: int | None = None) -> Path:
    data = bytearray(path.read_bytes())
    for offset in flip:
        data[offset] ^= 0xFF
    if keep is not None:
        data = data[: int(len(data) * keep)]
    if size is not None:
        data = data[:size]
    path.write_bytes(bytes(data))
    return path


def mock_files(ctx, n: int = 6, size: int = 8) -> tuple[Path, Path]:
    from astropy.io import fits

    cube = np.random.default_rng(0).poisson(3.0, (n, size, size)).astype(np.float32)
    images = ctx.tmp / "mocks.fits"
    fits.PrimaryHDU(cube).writeto(images)
    table = ctx.tmp / "mocks.csv"
    rows = ["cluster_id,log_M500,split"]
    rows += [
        f"{i // 2},{14 + 0.1 * i:.2f},{('train', 'validate', 'test')[i % 3]}" for i in range(n)
    ]
    table.write_text("\n".join(rows) + "\n")
    return images, table


def camels_files(ctx, n: int = 2, size: int = 16) -> dict:
    from a3net.data import camels_files as CF

    rng = np.random.default_rng(0)
    low = np.array([CF.PARAMETER_RANGES[p][0] for p in CF.PARAMETER_NAMES])
    high = np.array([CF.PARAMETER_RANGES[p][1] for p in CF.PARAMETER_NAMES])
    params = np.round(low + (high - low) * rng.random((n, 6)), 5)
    files = {
        "params": ctx.tmp / "params_LH_IllustrisTNG.txt",
        "Mtot": ctx.tmp / "Maps_Mtot_IllustrisTNG_LH_z=0.00.npy",
        "P": ctx.tmp / "Maps_P_IllustrisTNG_LH_z=0.00.npy",
    }
    np.savetxt(files["params"], params, fmt="%.5f")
    maps = (1 + rng.random((15 * n, size, size))).astype(np.float32)
    np.save(files["Mtot"], maps)
    np.save(files["P"], maps + 10)
    return files


def camels_maps(ctx, files: dict, field: str = "Mtot"):
    from a3net.data.camels_files import load_camels_maps

    return load_camels_maps(
        "IllustrisTNG", (field,), sources={k: str(v) for k, v in files.items()}, map_size=8
    )


# ----------------------------------------------------------------------------------------------
# Readers
# ----------------------------------------------------------------------------------------------


def spectrum(path):
    from a3net.data.spectra_files import read_sdss_spectrum

    return read_sdss_spectrum(path)


def template(path, **kwargs):
    from a3net.data.spectra_files import read_sdss_template

    return read_sdss_template(path, **kwargs)


def the300(path):
    from a3net.data.cluster_files import load_the300_xray

    return load_the300_xray(path, offline=True)


def table(path, **kwargs):
    from a3net.data.catalogues import load_table

    return load_table(path, **kwargs)


def ascii_table(path, **kwargs):
    from a3net.data.catalogues import read_ascii_table

    return read_ascii_table(path, **kwargs)


def school(path):
    from a3net.data.spectra_files import read_school_spectra

    return read_school_spectra(path)


def school_set(path):
    from a3net.data.spectra_files import load_school_spectra

    return load_school_spectra(path)


def mocks(images, table_path):
    from a3net.data.cluster_files import load_cluster_mocks

    return load_cluster_mocks(images, table_path, offline=True)


def eazy(name, *args, **kwargs):
    from a3net.data import eazy as E

    return getattr(E, name)(*args, **kwargs)


def camels_params(path):
    from a3net.data.camels_files import load_camels_params

    return load_camels_params("IllustrisTNG", source=str(path), offline=True)


def clean(df, bands):
    from a3net.data.catalogues import clean_catalogue

    return clean_catalogue(df, bands)


def csv_with_text_in(ctx, column: str, value: str = "n/a?", row: int = 3) -> Path:
    import pandas as pd

    df = pd.read_csv(ctx.realdata / CSV, nrows=50)
    df[column] = df[column].astype(object)
    df.loc[row, column] = value
    path = ctx.tmp / "2slaq_edited.csv"
    df.to_csv(path, index=False)
    return path


def mixed_frame():
    import pandas as pd

    return pd.DataFrame(
        {
            "u": [20.1, "bad", 21.0, 19.5],
            "g": [19.0, 19.2, 18.9, 18.7],
            "z_spec": [0.1, 0.2, 0.3, 0.4],
        }
    )


# ----------------------------------------------------------------------------------------------
# Caches
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def private_cache(ctx):
    """``A3NET_DATA`` pointed at a folder of the row's tmp; warnings raised as errors."""
    old = os.environ.get("A3NET_DATA")
    os.environ["A3NET_DATA"] = str(ctx.tmp / "cache")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            yield ctx.tmp / "cache"
    finally:
        if old is None:
            os.environ.pop("A3NET_DATA", None)
        else:
            os.environ["A3NET_DATA"] = old


@contextlib.contextmanager
def env(name, value):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _spectra_cache(ctx, spoil):
    from a3net.data import spectra as S

    with private_cache(ctx):
        S.simulate_spectra(4, seed=3, cache=True)
        (path,) = (ctx.tmp / "cache" / "simulated").glob("spectra-*.npz")
        spoil(path)
        return S.simulate_spectra(4, seed=3, cache=True)


def _maps_cache(ctx, spoil):
    from a3net.data import cosmology as C

    with private_cache(ctx):
        params = C.latin_hypercube(1, seed=0)
        C.simulate_maps(params, map_size=8, grid=16, cache=True)
        (path,) = (ctx.tmp / "cache" / "simulated").glob("cosmology-*.npy")
        spoil(path)
        return C.simulate_maps(params, map_size=8, grid=16, cache=True)


def _cut(path, fraction=0.5):
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * fraction)])


def _flip(path, offsets):
    data = bytearray(path.read_bytes())
    for offset in offsets:
        data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


def _resave_npz(path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _resave_npy(path, change):
    arr = np.load(path)
    with open(path, "wb") as fh:
        np.save(fh, change(arr))


def _registered(ctx, payload=b"a registered test file\n" * 20):
    """A dataset registered for the row (removed again after it)."""
    import hashlib

    from a3net.data import fetch as F

    name = "test/bad_files_row.dat"
    F.REGISTRY.pop(name, None)
    F.register(
        F.Dataset(
            name=name,
            url=(ctx.tmp / "source.dat").as_uri(),
            sha256=hashlib.sha256(payload).hexdigest(),
            description="a file of the bad-input table",
            how_to_get="the test writes it",
            size_bytes=len(payload),
        )
    )
    (ctx.tmp / "source.dat").write_bytes(payload)
    return name


@contextlib.contextmanager
def registered(ctx):
    from a3net.data import fetch as F

    name = _registered(ctx)
    try:
        yield name
    finally:
        F.REGISTRY.pop(name, None)


def _read_only_corrupt(ctx):
    """A corrupt cached file in a cache folder where nothing may be renamed (read-only)."""
    from a3net.data import fetch as F

    with registered(ctx) as name, private_cache(ctx):
        target = F.path_in_cache(name)
        target.parent.mkdir(parents=True)
        target.write_bytes(b"half a file")
        target.parent.chmod(0o555)
        denied = PermissionError(13, "Permission denied")
        try:  # chmod does not stop root: refuse the rename as a read-only folder would
            with mock.patch("os.replace", side_effect=denied):
                return F.fetch(name, offline=True)
        finally:
            target.parent.chmod(0o755)


def _offline_word(ctx, call):
    with env("A3NET_OFFLINE", "maybe"), private_cache(ctx):
        return call()


def _fetch_maybe(ctx):
    from a3net.data import fetch as F

    with registered(ctx) as name:
        return _offline_word(ctx, lambda: F.fetch(name))


def _fetch_url_maybe(ctx):
    from a3net.data import fetch as F

    return _offline_word(
        ctx, lambda: F.fetch_url("http://127.0.0.1:9/x.fits", "source", offline=None)
    )


def _camels_maybe(ctx):
    from a3net.data.camels_files import load_camels_params

    return _offline_word(ctx, lambda: load_camels_params("SIMBA"))


def _unwritable_cache(ctx):
    from a3net.data import fetch as F

    with registered(ctx) as name, private_cache(ctx):
        denied = PermissionError(13, "Permission denied")
        with mock.patch("pathlib.Path.mkdir", side_effect=denied):
            return F.fetch(name)


def _fill_unwritable(ctx):
    from a3net.data import fetch as F

    with registered(ctx), private_cache(ctx):
        denied = PermissionError(13, "Read-only file system")
        with mock.patch("pathlib.Path.mkdir", side_effect=denied):
            return F.fill_cache(ctx.tmp)


# ----------------------------------------------------------------------------------------------
# The rows
# ----------------------------------------------------------------------------------------------

R = Bad
CACHE = "simulated again"
CW = (UserWarning,)

ROWS = [
    # --- read_sdss_spectrum: copies of a real spec file --------------------------------------
    R("spectrum-truncated-half", lambda c: spectrum(truncated(c, SPEC)), COMPLETE, needs=(SPEC,)),
    R(
        "spectrum-truncated-in-header",
        lambda c: spectrum(cut_at(c, SPEC, 1000)),
        COMPLETE,
        needs=(SPEC,),
    ),
    R(
        "spectrum-truncated-in-table",
        lambda c: spectrum(cut_at(c, SPEC, 20000)),
        COMPLETE,
        needs=(SPEC,),
    ),
    R(
        "spectrum-simple-card-flipped",
        lambda c: spectrum(flipped(c, SPEC, range(0, 6))),
        COMPLETE,
        needs=(SPEC,),
    ),
    R(
        "spectrum-naxis-flipped",
        lambda c: spectrum(flipped(c, SPEC, range(10, 30))),
        COMPLETE,
        needs=(SPEC,),
    ),
    R("spectrum-empty", lambda c: spectrum(empty(c, "spec.fits")), COMPLETE),
    R("spectrum-text", lambda c: spectrum(text_file(c, "spec.fits")), COMPLETE),
    R("spectrum-png", lambda c: spectrum(png(c, "spec.fits")), COMPLETE),
    R("spectrum-random-bytes", lambda c: spectrum(binary(c, "spec.fits")), COMPLETE),
    R(
        "spectrum-is-a-template",
        lambda c: spectrum(_copy(c, TEMPLATE)),
        "no spectrum table",
        needs=(TEMPLATE,),
    ),
    R("spectrum-is-hdf5", lambda c: spectrum(school_file_ok(c, "spec.fits")), COMPLETE),
    R(
        "spectrum-old-layout-truncated",
        lambda c: spectrum(truncated(c, OLD_SPEC, 0.7)),
        COMPLETE,
        needs=(OLD_SPEC,),
    ),
    # --- read_sdss_template ---------------------------------------------------------------------
    R(
        "template-truncated",
        lambda c: template(truncated(c, TEMPLATE)),
        COMPLETE,
        needs=(TEMPLATE,),
    ),
    R(
        "template-truncated-in-header",
        lambda c: template(cut_at(c, TEMPLATE, 700)),
        COMPLETE,
        needs=(TEMPLATE,),
    ),
    R(
        "template-simple-flipped",
        lambda c: template(flipped(c, TEMPLATE, range(0, 8))),
        COMPLETE,
        needs=(TEMPLATE,),
    ),
    R("template-empty", lambda c: template(empty(c, "spDR2-023.fit")), COMPLETE),
    R("template-text", lambda c: template(text_file(c, "spDR2-023.fit")), COMPLETE),
    R("template-png", lambda c: template(png(c, "spDR2-023.fit")), COMPLETE),
    R(
        "template-row-5",
        lambda c: template(c.realdata / TEMPLATE, row=5),
        "has 4 rows",
        needs=(TEMPLATE,),
    ),
    R(
        "template-row-minus-1",
        lambda c: template(c.realdata / TEMPLATE, row=-1),
        "row must be >= 0",
        needs=(TEMPLATE,),
    ),
    R(
        "template-row-float",
        lambda c: template(c.realdata / TEMPLATE, row=1.5),
        "row must be a whole number",
        needs=(TEMPLATE,),
    ),
    R(
        "spectrum-is-a-cluster-image",
        lambda c: spectrum(_copy(c, PSZ)),
        "no spectrum table",
        needs=(PSZ,),
    ),
    # --- load_the300_xray -----------------------------------------------------------------------
    R("the300-truncated", lambda c: the300(truncated(c, THE300)), COMPLETE, needs=(THE300,)),
    R(
        "the300-truncated-in-header",
        lambda c: the300(cut_at(c, THE300, 2000)),
        COMPLETE,
        needs=(THE300,),
    ),
    R("the300-empty", lambda c: the300(empty(c, "The300_Xray.fits")), COMPLETE),
    R("the300-text", lambda c: the300(text_file(c, "The300_Xray.fits")), COMPLETE),
    R("the300-png", lambda c: the300(png(c, "The300_Xray.fits")), COMPLETE),
    R(
        "the300-naxis-flipped",
        lambda c: the300(flipped(c, THE300, range(80, 100))),
        COMPLETE,
        needs=(THE300,),
    ),
    # --- load_table: FITS, CSV, whitespace tables -------------------------------------------
    R("table-fits-truncated", lambda c: table(truncated(c, SPEC, 0.3)), COMPLETE, needs=(SPEC,)),
    R(
        "table-fits-image-only",
        lambda c: table(_copy(c, PSZ)),
        "holds images but no table",
        needs=(PSZ,),
    ),
    R("table-fits-empty", lambda c: table(empty(c, "t.fits")), COMPLETE),
    R("table-fits-png", lambda c: table(png(c, "t.fits")), COMPLETE),
    R("table-csv-empty", lambda c: table(empty(c, "t.csv")), COMPLETE),
    R("table-csv-binary", lambda c: table(binary(c, "t.csv")), COMPLETE),
    R("table-csv-png", lambda c: table(png(c, "t.csv")), COMPLETE),
    R(
        "table-csv-cut-mid-row",
        lambda c: table(cut_at(c, CSV, 100003, "2slaq.csv")),
        "cut short",
        needs=(CSV,),
    ),
    R(
        "table-csv-text-in-flux",
        lambda c: table(csv_with_text_in(c, "mag_r")),
        "'mag_r'",
        needs=(CSV,),
    ),
    R(
        "table-csv-text-in-redshift",
        lambda c: table(csv_with_text_in(c, "redshift", "0.1O")),
        "'redshift'",
        needs=(CSV,),
    ),
    R("table-dat-binary", lambda c: table(binary(c, "t.dat")), COMPLETE),
    R("table-dat-png", lambda c: table(png(c, "t.cat")), COMPLETE),
    R(
        "table-dat-cut-mid-row",
        lambda c: ascii_table(cut_at(c, UGRIZ, 50005), names=list("abcdefghijk")),
        "cut short",
        needs=(UGRIZ,),
    ),
    R(
        "table-dat-nul-bytes",
        lambda c: ascii_table(flipped(c, UGRIZ, [40, 41, 42, 43]), names=list("abcdefghijk")),
        COMPLETE,
        needs=(UGRIZ,),
    ),
    R("clean-text-in-band", lambda c: clean(mixed_frame(), ["u", "g"]), "'u'"),
    # --- load_cluster_mocks ----------------------------------------------------------------------
    R(
        "mocks-images-truncated",
        lambda c: mocks(damage(mock_files(c)[0], keep=0.6), c.tmp / "mocks.csv"),
        COMPLETE,
    ),
    R(
        "mocks-images-header-cut",
        lambda c: mocks(damage(mock_files(c)[0], size=1000), c.tmp / "mocks.csv"),
        COMPLETE,
    ),
    R(
        "mocks-images-empty",
        lambda c: (mock_files(c), mocks(empty(c, "e.fits"), c.tmp / "mocks.csv")),
        COMPLETE,
    ),
    R(
        "mocks-images-png",
        lambda c: (mock_files(c), mocks(png(c, "p.fits"), c.tmp / "mocks.csv")),
        COMPLETE,
    ),
    R("mocks-table-empty", lambda c: mocks(mock_files(c)[0], empty(c, "t.csv")), COMPLETE),
    R("mocks-table-binary", lambda c: mocks(mock_files(c)[0], binary(c, "t.csv")), COMPLETE),
    R(
        "mocks-table-cut-short",
        lambda c: mocks(mock_files(c)[0], damage(c.tmp / "mocks.csv", size=60)),
        "cut short",
    ),
    # --- read_school_spectra / load_school_spectra -------------------------------------------
    R("school-truncated", lambda c: school(damage(school_file_ok(c), keep=0.5)), COMPLETE),
    R(
        "school-superblock-flipped",
        lambda c: school(damage(school_file_ok(c), flip=range(0, 8))),
        COMPLETE,
    ),
    R("school-empty", lambda c: school(empty(c, "school.h5")), COMPLETE),
    R("school-text", lambda c: school(text_file(c, "school.h5")), COMPLETE),
    R(
        "school-is-fits",
        lambda c: school(_copy(c, TEMPLATE, "school.h5")),
        COMPLETE,
        needs=(TEMPLATE,),
    ),
    R("school-labels-of-two-lengths", lambda c: school(school_file(c)), "different lengths"),
    R("school-set-truncated", lambda c: school_set(damage(school_file_ok(c), keep=0.3)), COMPLETE),
    # --- EAZY readers ------------------------------------------------------------------------
    R("eazy-filters-binary", lambda c: eazy("read_filter_res", binary(c, "FILTER.RES")), COMPLETE),
    R("eazy-filters-png", lambda c: eazy("read_filter_res", png(c, "FILTER.RES")), COMPLETE),
    R(
        "eazy-param-binary",
        lambda c: eazy("read_template_param", binary(c, "x.spectra.param")),
        COMPLETE,
    ),
    R(
        "eazy-template-error-png",
        lambda c: eazy("read_template_error", png(c, "TEMPLATE_ERROR")),
        COMPLETE,
    ),
    R(
        "eazy-template-error-nul",
        lambda c: eazy("read_template_error", flipped(c, TEMPLATE_ERROR, [30, 31])),
        COMPLETE,
        needs=(TEMPLATE_ERROR,),
    ),
    R("eazy-prior-binary", lambda c: eazy("read_prior", binary(c, "prior.dat")), COMPLETE),
    R(
        "eazy-catalogue-binary",
        lambda c: eazy("read_eazy_catalogue", binary(c, "hdfn.cat")),
        COMPLETE,
    ),
    R(
        "eazy-catalogue-cut-mid-row",
        lambda c: eazy("read_eazy_catalogue", cut_at(c, HDFN, 20011)),
        "cut short",
        needs=(HDFN,),
    ),
    R(
        "eazy-translate-png",
        lambda c: eazy("read_eazy_catalogue", _copy(c, HDFN), translate=png(c, "zphot.translate")),
        COMPLETE,
        needs=(HDFN,),
    ),
    R(
        "eazy-templates-png-in-param",
        lambda c: (
            c.tmp.joinpath("t").mkdir(),
            png(c, "t/a.dat"),
            text_file(c, "x.spectra.param", "1 t/a.dat 1.0\n"),
            eazy("read_templates", c.tmp / "x.spectra.param", root=c.tmp),
        ),
        COMPLETE,
    ),
    # --- CAMELS files ------------------------------------------------------------------------
    R(
        "camels-params-binary",
        lambda c: camels_params(binary(c, "params_LH_IllustrisTNG.txt")),
        COMPLETE,
    ),
    R("camels-params-png", lambda c: camels_params(png(c, "params_LH_IllustrisTNG.txt")), COMPLETE),
    R(
        "camels-maps-header-flipped",
        lambda c: camels_maps(
            c, {**(f := camels_files(c)), "Mtot": damage(f["Mtot"], flip=range(10, 20))}
        ),
        "not a complete",
    ),
    R(
        "camels-params-nul-bytes",
        lambda c: camels_params(damage(camels_files(c)["params"], flip=range(3, 6))),
        COMPLETE,
    ),
    # --- simulator caches (a CacheWarning raised as an error) ---------------------------------
    R("cache-spectra-truncated", lambda c: _spectra_cache(c, _cut), CACHE, errors=CW),
    R(
        "cache-spectra-empty",
        lambda c: _spectra_cache(c, lambda p: p.write_bytes(b"")),
        CACHE,
        errors=CW,
    ),
    R(
        "cache-spectra-flipped",
        lambda c: _spectra_cache(c, lambda p: _flip(p, range(200, 260))),
        CACHE,
        errors=CW,
    ),
    R(
        "cache-spectra-wrong-shape",
        lambda c: _spectra_cache(
            c, lambda p: _resave_npz(p, lambda a: a.update(flux=a["flux"][:, :100]))
        ),
        CACHE,
        errors=CW,
    ),
    R(
        "cache-spectra-wrong-dtype",
        lambda c: _spectra_cache(
            c, lambda p: _resave_npz(p, lambda a: a.update(ivar=a["ivar"].astype(np.float16)))
        ),
        CACHE,
        errors=CW,
    ),
    R(
        "cache-spectra-missing-array",
        lambda c: _spectra_cache(c, lambda p: _resave_npz(p, lambda a: a.pop("and_mask"))),
        CACHE,
        errors=CW,
    ),
    R("cache-maps-truncated", lambda c: _maps_cache(c, _cut), CACHE, errors=CW),
    R("cache-maps-text", lambda c: _maps_cache(c, lambda p: p.write_text(TEXT)), CACHE, errors=CW),
    R(
        "cache-maps-wrong-shape",
        lambda c: _maps_cache(c, lambda p: _resave_npy(p, lambda a: a[:3])),
        CACHE,
        errors=CW,
    ),
    R(
        "cache-maps-wrong-dtype",
        lambda c: _maps_cache(c, lambda p: _resave_npy(p, lambda a: a.astype(np.float64))),
        CACHE,
        errors=CW,
    ),
    # --- the download cache and A3NET_OFFLINE ------------------------------------------------
    R(
        "fetch-corrupt-in-read-only-cache",
        _read_only_corrupt,
        "cannot be moved aside",
        errors=(PermissionError,),
    ),
    R(
        "fetch-unwritable-cache-folder",
        _unwritable_cache,
        "A3NET_DATA to a writable folder",
        errors=(PermissionError,),
    ),
    R(
        "fill-cache-unwritable",
        _fill_unwritable,
        "A3NET_DATA to a writable folder",
        errors=(PermissionError,),
    ),
    R("offline-maybe-fetch", _fetch_maybe, "A3NET_OFFLINE='maybe'"),
    R("offline-maybe-fetch-url", _fetch_url_maybe, "A3NET_OFFLINE='maybe'"),
    R("offline-maybe-camels", _camels_maybe, "A3NET_OFFLINE='maybe'"),
]
