"""a3net.data.cluster_files: the hack's cube + table layout, The Three Hundred map, plots.

The mock files are written by the tests in the hack's layout (no public copy exists); the
The Three Hundred map is the shared real file, skipped where it is absent. Downloads go to a
local http.server on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.table import Table  # noqa: E402

from a3net import plots  # noqa: E402
from a3net.data import cluster_files as C  # noqa: E402
from a3net.data import fetch as F  # noqa: E402

THE300 = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "clusters"
THE300 = THE300 / "The300_Xray.fits"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private, empty cache; online by default; no proxies for loopback."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("A3NET_DATA", str(cache))
    monkeypatch.delenv("A3NET_OFFLINE", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield cache
    plt.close("all")


# ----------------------------------------------------------------------------------------------
# Files in the hack's layout
# ----------------------------------------------------------------------------------------------

N, S = 6, 8
SPLIT = ["train", "train", "validate", "test", "train", "test"]


def _cube(seed=0, n=N, dtype=np.int32):
    return np.random.default_rng(seed).poisson(3.0, size=(n, S, S)).astype(dtype)


def _write_cube(path, cube, *, extension=False):
    if extension:  # empty primary HDU, the cube in the first image extension
        fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cube, name="IMAGES")]).writeto(path)
    else:
        fits.PrimaryHDU(cube).writeto(path)
    return path


def _frame(n=N):
    return pd.DataFrame(
        {
            "cluster_id": [10, 10, 11, 12, 13, 13][:n],
            "projection": [0, 1, 0, 0, 0, 1][:n],
            "log_M500": np.linspace(13.6, 14.9, n),
            "split": SPLIT[:n],
            "lx": np.arange(n, dtype=float),
        }
    )


def test_fits_cube_and_fits_table_with_split_column(tmp_path):
    cube = _cube()
    images = _write_cube(tmp_path / "images.fits", cube)
    Table.from_pandas(_frame()).write(tmp_path / "table.fits")
    x, cat = C.load_cluster_mocks(images, tmp_path / "table.fits")
    assert x.dtype == np.float32 and x.shape == (N, 1, S, S)
    np.testing.assert_array_equal(x[:, 0], cube)
    assert list(cat.columns[:4]) == ["log_m500", "split", "cluster_id", "projection"]
    assert "lx" in cat.columns and "log_M500" not in cat.columns
    np.testing.assert_allclose(cat["log_m500"], np.linspace(13.6, 14.9, N))
    assert list(cat["split"]) == SPLIT
    assert list(cat["cluster_id"]) == [10, 10, 11, 12, 13, 13]
    assert list(cat["projection"]) == [0, 1, 0, 0, 0, 1]
    assert cat.attrs["clusters_in_several_splits"] == 1  # cluster 13: train and test


def test_extension_cube_csv_boolean_flags_without_ids(tmp_path):
    cube = _cube(1).astype(">f4")  # big-endian float, as FITS stores it
    images = _write_cube(tmp_path / "cube.fits", cube, extension=True)
    df = pd.DataFrame(
        {
            "log_m500": [14.0, 14.1, 14.2, 14.3, 14.4, 14.5],  # case-insensitive match
            "Train": [True, True, False, False, True, False],
            "validate": [0, 0, 1, 0, 0, 0],
            "test": ["false", "false", "false", "true", "false", "true"],
        }
    )
    df.to_csv(tmp_path / "table.csv", index=False)
    x, cat = C.load_cluster_mocks(str(images), str(tmp_path / "table.csv"))
    np.testing.assert_array_equal(x[:, 0], cube.astype(np.float32))
    assert list(cat["split"]) == SPLIT
    assert list(cat["cluster_id"]) == list(range(N))  # no id column: one cluster per image
    assert list(cat["projection"]) == [0] * N
    assert set(cat.columns) == {"log_m500", "split", "cluster_id", "projection"}


def test_halo_id_numbers_projections_and_aliases(tmp_path):
    images = _write_cube(tmp_path / "images.fits", _cube())
    df = _frame().drop(columns=["cluster_id", "projection"])
    df["halo_id"] = [7, 7, 7, 8, 8, 9]
    df["split"] = ["Train", "train ", "val", "validation", "TEST", "test"]
    df.to_csv(tmp_path / "t.csv", index=False)
    _, cat = C.load_cluster_mocks(images, tmp_path / "t.csv")
    assert list(cat["cluster_id"]) == [7, 7, 7, 8, 8, 9]
    assert list(cat["projection"]) == [0, 1, 2, 0, 1, 0]
    assert list(cat["split"]) == ["train", "train", "validate", "validate", "test", "test"]
    assert cat.attrs["clusters_in_several_splits"] == 2


def test_file_and_http_urls(tmp_path, served, isolated):
    base, www, stop = served
    cube = _cube(2)
    _write_cube(www / "mocks.fits", cube)
    _frame().to_csv(www / "mocks.csv", index=False)
    x, cat = C.load_cluster_mocks(f"{base}/mocks.fits", (www / "mocks.csv").as_uri())
    np.testing.assert_array_equal(x[:, 0], cube)
    assert len(cat) == N and cat.attrs["table"] == str(www / "mocks.csv")  # file:// read in place
    cached = Path(cat.attrs["images"])
    assert cached.is_relative_to(isolated / "urls") and cached.name == "mocks.fits"
    stop()  # the cached copy is used without network, also offline
    x2, _ = C.load_cluster_mocks(f"{base}/mocks.fits", www / "mocks.csv", offline=True)
    np.testing.assert_array_equal(x2, x)


def test_url_offline_or_failing_is_one_sentence(tmp_path, served, monkeypatch):
    base, www, stop = served
    table = tmp_path / "t.csv"
    _frame().to_csv(table, index=False)
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    with pytest.raises(F.DataUnavailableError) as info:
        C.load_cluster_mocks(f"{base}/mocks.fits", table)
    msg = str(info.value)
    assert f"{base}/mocks.fits" in msg and "offline mode" in msg and "images" in msg
    assert msg.count(". ") == 0 and "\n" not in msg
    monkeypatch.delenv("A3NET_OFFLINE")
    with pytest.raises(F.DataUnavailableError, match=r"images.*HTTP 404"):
        C.load_cluster_mocks(f"{base}/absent.fits", table)
    stop()
    with pytest.raises(F.DataUnavailableError, match=r"no connection to 127\.0\.0\.1"):
        C.load_cluster_mocks(f"{base}/absent.fits", table)


def _error(tmp_path, case):
    """Write the files of one bad case; return the (images, table) arguments."""
    cube, df = _cube(), _frame()
    if case == "missing images":
        return tmp_path / "nope.fits", tmp_path / "t.csv"
    if case == "2-D image":
        cube = cube[0]
    elif case == "N differs":
        df = df.iloc[:4]
    elif case == "no log_M500":
        df = df.rename(columns={"log_M500": "M500"})
    elif case == "unknown split":
        df.loc[2, "split"] = "holdout"
    elif case == "no split":
        df = df.drop(columns="split")
    elif case == "two flags":
        df = df.drop(columns="split").assign(train=1, validate=0, test=[0, 0, 0, 1, 1, 0])
    elif case == "linear masses":
        df["log_M500"] = 10 ** df["log_M500"]
    elif case == "bad counts":
        cube = cube.astype(np.float32)
        cube[0, 0, :2] = np.nan
        cube[1, 1, 1] = np.inf
        cube[2, 3, :3] = -1.0
    images = _write_cube(tmp_path / "images.fits", cube)
    df.to_csv(tmp_path / "t.csv", index=False)
    if case == "missing table":
        return images, tmp_path / "other.csv"
    return images, tmp_path / "t.csv"


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing images", r"images: the file .*nope\.fits' does not exist"),
        ("missing table", r"table: the file .*other\.csv' does not exist"),
        ("2-D image", r"images: HDU 0 of images\.fits has shape \(8, 8\), not a 3-D cube"),
        ("N differs", r"t\.csv has 4 rows but the cube images\.fits has 6 images"),
        ("no log_M500", r"no column 'log_M500'.*rename the mass column"),
        ("unknown split", r"values \['holdout'\] that are not train/validate/test"),
        ("no split", r"has no split: add a column 'split'"),
        ("two flags", r"0 rows are in none and 2 rows in several"),
        ("linear masses", r"look like masses, not log10 masses"),
        ("bad counts", r"holds 3 non-finite and 3 negative pixels"),
    ],
)
def test_errors_name_the_file_and_the_fix(tmp_path, case, message):
    images, table = _error(tmp_path, case)
    with pytest.raises(ValueError, match=message) as info:
        C.load_cluster_mocks(images, table)
    assert "\n" not in str(info.value)


def test_wrong_argument_type():
    with pytest.raises(TypeError, match="images must be a path"):
        C.load_cluster_mocks(42, "t.csv")


# ----------------------------------------------------------------------------------------------
# Masses, radii and the regridding (synthetic maps)
# ----------------------------------------------------------------------------------------------


def test_m200_to_m500_nfw():
    assert 10 ** (C.m200_to_m500(0.0)) == pytest.approx(0.6919, abs=1e-3)  # c = 4
    # more concentrated halos have more of M200 inside R500; arrays keep their shape
    assert C.m200_to_m500(14.0, concentration=8.0) > C.m200_to_m500(14.0)
    assert C.m200_to_m500(np.array([14.0, 15.0])).shape == (2,)
    with pytest.raises(ValueError, match="concentration"):
        C.m200_to_m500(14.0, concentration=0)


def test_regridding_conserves_flux_and_is_uniform_on_a_flat_map():
    flat = np.ones((50, 50))
    info = {"pixel_kpc": 10.0, "redshift": 0.0}  # 0.5 Mpc/h on a side
    factor = 400.0 * 100e3 / (1.2 * C.KEV_ERG)
    out = C.to_simulator_scale(flat, info, image_size=7, field_mpc=0.7)  # 14.3 px per pixel
    assert out.shape == (7, 7) and out.dtype == np.float32
    assert out.sum() / factor == pytest.approx(flat.sum(), rel=1e-6)  # field covers the map
    inner = C.to_simulator_scale(flat, info, image_size=5, field_mpc=0.35)  # 7 px per pixel
    np.testing.assert_allclose(inner / factor, 7.0**2, rtol=1e-6)  # inside: step**2 each
    # comoving=True reads field_mpc as comoving: at z = 1 the same field covers twice the pixels
    info1 = {"pixel_kpc": 10.0, "redshift": 1.0}
    proper = C.to_simulator_scale(flat, info1, image_size=5, field_mpc=0.175)
    np.testing.assert_allclose(proper, inner, rtol=1e-6)
    como = C.to_simulator_scale(flat, info1, image_size=5, field_mpc=0.35, comoving=True)
    np.testing.assert_allclose(como, inner, rtol=1e-6)


def test_regridding_bad_arguments():
    info = {"pixel_kpc": 10.0, "redshift": 0.0}
    flat = np.ones((10, 10))
    with pytest.raises(ValueError, match="field_mpc must be a positive number"):
        C.to_simulator_scale(flat, info, image_size=4, field_mpc=-1.0)
    with pytest.raises(ValueError, match="image must be a 2-D map"):
        C.to_simulator_scale(flat[None], info, image_size=4, field_mpc=1.0)
    with pytest.raises(ValueError, match="centre must be"):
        C.to_simulator_scale(flat, info, image_size=4, field_mpc=1.0, centre="middle")
    with pytest.raises(ValueError, match="info must be"):
        C.to_simulator_scale(flat, {}, image_size=4, field_mpc=1.0)
    with pytest.raises(TypeError, match="image_size must be an int"):
        C.to_simulator_scale(flat, info, image_size=4.0, field_mpc=1.0)


# ----------------------------------------------------------------------------------------------
# The Three Hundred map (the shared real file)
# ----------------------------------------------------------------------------------------------

needs_the300 = pytest.mark.skipif(not THE300.is_file(), reason=f"{THE300} is absent")


@pytest.fixture(scope="module")
def the300():
    return C.load_the300_xray(THE300)


@needs_the300
def test_the300_image_and_header(the300):
    image, info = the300
    assert image.shape == (640, 640) and image.dtype == np.float64
    assert np.isfinite(image).all() and image.min() >= 0
    assert info["log_m200"] == 14.391 and info["redshift"] == 0.363
    assert info["r200_kpc"] == 1222.0 and info["pixel_kpc"] == pytest.approx(7.6380625)
    assert info["units"] == "erg/s/cm2" and info["label"] == "merging"
    assert info["region"] == "0131" and info["halo_id"] == "114000000000001"
    assert info["flux_total"] == pytest.approx(1.0926664, rel=1e-6)
    assert info["log_m500"] == pytest.approx(14.391 + np.log10(0.6919), abs=1e-3)
    # the map spans 4 R200, and the header's lengths are comoving: M200 and rho_c(z) give the
    # proper R200 = 1222 / (1 + z) kpc/h
    assert 640 * info["pixel_kpc"] == pytest.approx(4 * info["r200_kpc"], rel=1e-4)
    assert C.r_delta_kpc(14.391, 0.363) == pytest.approx(info["r200_kpc_proper"], rel=2e-3)
    assert info["pixel_kpc_proper"] == pytest.approx(7.6380625 / 1.363)
    # the halo is at the centre of the map
    iy, ix = np.unravel_index(np.argmax(image), image.shape)
    assert abs(iy - 320) < 10 and abs(ix - 320) < 10


@needs_the300
def test_the300_to_simulator_scale(the300):
    image, info = the300
    factor = 400.0 * 100e3 / (1.2 * C.KEV_ERG)
    full = C.to_simulator_scale(image, info, image_size=64, field_mpc=4.0)  # > 3.59 Mpc/h map
    assert full.shape == (64, 64) and full.dtype == np.float32 and np.isfinite(full).all()
    assert full.sum(dtype=np.float64) / factor == pytest.approx(image.sum(), rel=1e-6)
    # a field exactly the map's proper width with 64 pixels is a 10 x 10 block sum
    width = 640 * info["pixel_kpc_proper"] / 1e3
    block = C.to_simulator_scale(image, info, image_size=64, field_mpc=width)
    expected = image.reshape(64, 10, 64, 10).sum(axis=(1, 3)) * factor
    np.testing.assert_allclose(block, expected, rtol=1e-5, atol=expected.max() * 1e-7)
    # the simulator's 3 Mpc/h field crops the outskirts; total_counts sets the photon budget
    crop = C.to_simulator_scale(image, info, image_size=64, field_mpc=3.0)
    assert 0.9 * image.sum() < crop.sum(dtype=np.float64) / factor < image.sum()
    scaled = C.to_simulator_scale(image, info, image_size=64, field_mpc=3.0, total_counts=2e4)
    assert scaled.sum(dtype=np.float64) == pytest.approx(2e4, rel=1e-5)
    np.testing.assert_allclose(scaled / scaled.max(), crop / crop.max(), rtol=1e-5, atol=1e-7)
    kw = dict(image_size=64, field_mpc=3.0, total_counts=2e4, seed=3)
    drawn = C.to_simulator_scale(image, info, **kw)
    assert np.array_equal(drawn, C.to_simulator_scale(image, info, **kw))
    assert np.array_equal(drawn, np.round(drawn)) and abs(drawn.sum() - 2e4) < 5 * np.sqrt(2e4)
    peak = C.to_simulator_scale(image, info, image_size=64, field_mpc=3.0, centre="peak")
    assert np.unravel_index(np.argmax(peak), peak.shape) in {(31, 31), (31, 32), (32, 31), (32, 32)}


@needs_the300
def test_the300_through_the_registry(isolated):
    with pytest.raises(F.DataUnavailableError, match="clusters/The300_Xray.fits"):
        C.load_the300_xray(offline=True)
    target = F.path_in_cache("clusters/The300_Xray.fits")
    target.parent.mkdir(parents=True)
    shutil.copyfile(THE300, target)  # into the tmp cache, never into the repository
    image, info = C.load_the300_xray(offline=True)
    assert image.shape == (640, 640) and info["source"] == str(target)


# ----------------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------------


def test_plot_cluster_gallery():
    images = np.random.default_rng(0).poisson(5.0, size=(7, 1, 16, 16)).astype(np.float32)
    fig = plots.plot_cluster_gallery(images, [f"#{i}" for i in range(7)], ncols=4)
    assert isinstance(fig, matplotlib.figure.Figure)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 7 and fig.axes[-1].get_ylabel() == "counts per pixel"
    assert {im.norm.vmax for ax in shown for im in ax.images} == {float(images.max())}
    with pytest.raises(ValueError, match="one title per image"):
        plots.plot_cluster_gallery(images, ["only one"])
    own = plots.plot_cluster_gallery(images[:, 0], shared=False, log=False)
    assert len([ax for ax in own.axes if ax.images]) == 7


def test_plot_real_vs_simulated():
    rng = np.random.default_rng(1)
    real = rng.poisson(20.0, size=(16, 16)).astype(np.float32)
    sims = rng.poisson(5.0, size=(3, 1, 16, 16)).astype(np.float32)
    fig = plots.plot_real_vs_simulated(real, sims, "The300", ["a", "b", "c"])
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["The300", "a", "b", "c"]
    assert len({id(ax.images[0].norm) for ax in panels}) == 1  # one colour scale
    assert fig.axes[-1].get_ylabel() == "counts per pixel"
    with pytest.raises(ValueError, match="same pixel grid"):
        plots.plot_real_vs_simulated(real[:8, :8], sims, "The300", None)


@pytest.mark.parametrize(
    "damage, which, message",
    [
        ("truncated", "images", r"images: images\.fits is not a complete FITS file"),
        ("header cut", "images", r"images: images\.fits is not a complete FITS file"),
        ("empty", "images", r"images: images\.fits is not a complete FITS file"),
        ("text", "images", r"images: images\.fits is not a complete FITS file"),
        ("empty", "table", r"t\.csv is not a complete CSV file"),
        ("binary", "table", r"t\.csv is not a complete CSV file"),
        ("row cut", "table", r"t\.csv ends in the middle of a row"),
        ("text mass", "table", r"column 'log_M500' holds numbers but also text"),
    ],
)
def test_damaged_files_are_one_sentence_naming_the_file(tmp_path, damage, which, message):
    images, table = _error(tmp_path, "none")
    path = images if which == "images" else table
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "header cut":
        path.write_bytes(data[:1000])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("SIMPLE? no: a page of notes saved as .fits\n")
    elif damage == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif damage == "row cut":
        path.write_bytes(data.rstrip(b"\n")[:-12])
    elif damage == "text mass":
        df = pd.read_csv(path)
        df["log_M500"] = df["log_M500"].astype(object)
        df.loc[1, "log_M500"] = "14.2?"
        df.to_csv(path, index=False)
    with pytest.raises(ValueError, match=message) as info:
        C.load_cluster_mocks(images, table)
    assert "\n" not in str(info.value) and str(info.value).count(". ") <= 1


@pytest.mark.parametrize("keep", [0.0, 0.01, 0.5, 0.99])
def test_the300_cut_short_is_one_sentence(tmp_path, keep):
    real = THE300
    if not real.is_file():
        pytest.skip("the real The Three Hundred map is absent")
    data = real.read_bytes()
    path = tmp_path / "The300_Xray.fits"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match=r"path: The300_Xray\.fits is not a complete FITS file"):
        C.load_the300_xray(path)
