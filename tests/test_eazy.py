"""a3net.data.eazy: readers of EAZY's file formats (real files in ../shared/realdata and small
files written here), and the fetch-backed loaders working offline on a filled cache."""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from a3net.data import eazy
from a3net.data import fetch as F

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
EAZY_DIR = REALDATA / "eazy_photoz"


@pytest.fixture
def real():
    if not EAZY_DIR.is_dir():
        pytest.skip(f"the shared real-data folder {EAZY_DIR} is absent")
    return EAZY_DIR


def _fill_cache(cache: Path, prefixes=("eazy/", "photoz/")) -> int:
    """Copy the registered files under ``prefixes`` from ../shared/realdata into ``cache``."""
    index = json.loads((REALDATA / "provenance_index.json").read_text())
    copied = 0
    for ds in F.REGISTRY.values():
        if not ds.name.startswith(prefixes):
            continue
        parts = urllib.parse.unquote(urllib.parse.urlsplit(ds.url).path).lstrip("/").split("/")
        key = ("/".join(parts[:2]), parts[2], "/".join(parts[3:]))
        (src,) = [REALDATA / f / n for f, n, _s, r, p, c in index if (r, c, p) == key]
        target = cache.joinpath(*ds.name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        copied += 1
    return copied


@pytest.fixture
def cache(tmp_path, monkeypatch):
    if not REALDATA.is_dir():
        pytest.skip(f"the shared real-data folder {REALDATA} is absent")
    monkeypatch.setenv("A3NET_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    assert _fill_cache(tmp_path / "cache") >= 20
    return tmp_path / "cache"


# ----------------------------------------------------------------------------------------------
# FILTER.RES
# ----------------------------------------------------------------------------------------------


def test_real_filter_res(real):
    start = time.perf_counter()
    filters = eazy.read_filter_res(real / "FILTER.RES.latest")
    elapsed = time.perf_counter() - start
    assert len(filters) == 418 and sorted(filters) == list(range(1, 419))
    assert elapsed < 1.0, f"reading FILTER.RES.latest took {elapsed:.2f} s"
    f160w = filters[205]
    assert "wfc3/IR/f160w" in f160w.name
    assert abs(f160w.pivot - 15370) < 60  # 15,397 A
    assert "SDSS/r" in filters[158].name and abs(filters[158].pivot - 6170) < 25
    for number, band in zip(range(156, 161), "ugriz", strict=True):
        assert f"SDSS/{band}" in filters[number].name
    for number, band in {10: "f300w", 12: "f450w", 14: "f606w", 16: "f814w"}.items():
        assert f"wfpc2_{band}" in filters[number].name
    for number, band in {26: "IRIMJ", 27: "IRIMH", 28: "IRIMK"}.items():
        assert f"KPNO/{band}" in filters[number].name
    # every curve is cut at the right rows: its pivot equals the header's lambda_c
    checked = 0
    for number, curve in filters.items():
        match = re.search(r"lambda_c=\s*([0-9.eE+]+)(um)?", curve.name)
        if match:  # NIRISS headers give lambda_c in micron
            lambda_c = float(match.group(1)) * (1e4 if match.group(2) else 1.0)
            assert curve.pivot == pytest.approx(lambda_c, rel=5e-3), number
            checked += 1
        assert (curve.throughput >= 0).all()  # six real curves have tiny negative values
    assert checked > 400
    assert eazy.find_filters(filters, "wfc3", "f160w") == {205: f160w.name}


def _write_filters(path: Path, curves) -> Path:
    lines = []
    for name, wave, thru in curves:
        lines.append(f"{len(wave):6d} {name}")
        rows = zip(wave, thru, strict=True)
        lines += [f"{i + 1:6d} {w:12.4e} {t:12.4e}" for i, (w, t) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_written_filter_res(tmp_path):
    good = ("mybands/a.dat lambda_c= 5000", [4000.0, 5000.0, 6000.0], [0.0, 1.0, 0.0])
    flat = ("mybands/b.dat", [7000.0, 8000.0], [0.5, 0.5])
    filters = eazy.read_filter_res(_write_filters(tmp_path / "ok.res", [good, flat]))
    assert list(filters) == [1, 2] and filters[1].name == good[0]
    # two points: trapezoids give pivot**2 = mean(lambda) / mean(1 / lambda)
    assert filters[2].pivot == pytest.approx(np.sqrt(7500 / (0.5 / 7000 + 0.5 / 8000)))


def test_filter_with_decreasing_wavelength_names_it(tmp_path):
    good = ("mybands/a.dat", [4000.0, 5000.0, 6000.0], [0.0, 1.0, 0.0])
    bad = ("mybands/backwards.dat", [6000.0, 5000.0, 4000.0], [0.0, 1.0, 0.0])
    path = _write_filters(tmp_path / "bad.res", [good, bad])
    with pytest.raises(ValueError, match=r"filter 2 .*backwards.*strictly increasing"):
        eazy.read_filter_res(path)


def test_bad_filter_files(tmp_path):
    negative = ("neg.dat", [4000.0, 5000.0, 6000.0], [0.0, 1.0, -0.5])
    with pytest.raises(ValueError, match=r"filter 1 .*neg.dat.*negative"):
        eazy.read_filter_res(_write_filters(tmp_path / "neg.res", [negative]))
    zero = ("zero.dat", [4000.0, 5000.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"filter 1 .*zero.dat"):
        eazy.read_filter_res(_write_filters(tmp_path / "zero.res", [zero]))
    truncated = tmp_path / "short.res"
    truncated.write_text("5 short.dat\n1 4000 0\n2 5000 1\n")
    with pytest.raises(ValueError, match=r"filter 1 .*announces 5 rows but 2"):
        eazy.read_filter_res(truncated)
    garbled = tmp_path / "garbled.res"
    garbled.write_text(
        "2 first.dat\n1 4000 1\n2 5000 1\n3 second.dat\n1 6000 1\n2 7000\n3 8000 1\n"
    )
    with pytest.raises(ValueError, match=r"filter 2 .*second.dat.*line 6"):
        eazy.read_filter_res(garbled)
    header = tmp_path / "header.res"
    header.write_text("name without count\n1 4000 1\n")
    with pytest.raises(ValueError, match="line 1"):
        eazy.read_filter_res(header)
    with pytest.raises(FileNotFoundError):
        eazy.read_filter_res(tmp_path / "absent.res")


# ----------------------------------------------------------------------------------------------
# Templates, template error, prior
# ----------------------------------------------------------------------------------------------


def test_real_eazy_v13_templates(real):
    param = real / "templates" / "eazy_v1.3.spectra.param"
    specs = eazy.read_template_param(param)
    assert [s.number for s in specs] == list(range(1, 10))
    assert specs[0].combine == (2, 3, 4, 5, 6, 7, 8) and specs[8].combine == ()
    assert specs[6].path == "templates/EAZY_v1.1_lines/eazy_v1.1_sed7.dat"
    wave, flam, names = eazy.read_templates(param, real)
    assert flam.shape == (9, wave.size) and len(names) == 9 and names[6] == "eazy_v1.1_sed7"
    assert wave[0] == 91.0 and wave[-1] == 1.6e6 and np.all(np.diff(wave) > 0)
    assert wave.size > 2818  # the union of the grids: no template loses its sampling
    assert np.isfinite(flam).all() and (flam >= 0).all()
    assert (flam[:, wave >= 912] > 0).all()  # zero only short of the Lyman limit
    window = np.linspace(5000, 5500, 201)
    means = [np.interp(window, wave, f).mean() for f in flam]
    np.testing.assert_allclose(means, 1.0, rtol=1e-6)
    # the default root (the folder above templates/) finds the same files
    wave2, flam2, _ = eazy.read_templates(param)
    np.testing.assert_array_equal(flam2, flam)


def test_real_template_sets_with_different_ranges(real):
    # CWW+KIN: the Kinney templates stop at 1.24e5 A, the CWW ones at 1.98e5 A
    wave, flam, names = eazy.read_templates(real / "templates" / "cww+kin.spectra.param", real)
    assert len(names) == 6 and wave[0] == 10.0 and wave[-1] == pytest.approx(123595.0)
    assert (flam[:, (wave > 1300) & (wave < 1e5)] > 0).all()


def _write_sed(path: Path, wave, flam, header="") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f"{w:.6e} {f:.6e}" for w, f in zip(wave, flam, strict=True))
    path.write_text((header + "\n" if header else "") + rows + "\n")


def test_written_templates_grid_and_extension(tmp_path):
    long_w = np.geomspace(500, 50000, 300)
    short_w = np.geomspace(2000, 20000, 50) / 10  # in nm: lambda_conv 10 gives A
    _write_sed(tmp_path / "templates" / "long.dat", long_w, 3.0 * (long_w / 5000) ** -2.0, "# w f")
    _write_sed(tmp_path / "templates" / "short.dat", short_w, np.full(short_w.size, 7.0))
    param = tmp_path / "templates" / "set.param"
    param.write_text(
        "# number path lambda_conv age error combine\n"
        "1 templates/long.dat 1.0 0 1.0 2\n"
        "2 templates/short.dat 10.0_lines   \n"
    )
    specs = eazy.read_template_param(param)
    assert specs[1].lambda_conv == 10.0 and specs[1].age_gyr == 0 and specs[0].combine == (2,)
    wave, flam, names = eazy.read_templates(param, tmp_path)
    assert names == ["long", "short"]
    assert wave[0] == pytest.approx(2000) and wave[-1] == pytest.approx(20000)  # the overlap
    np.testing.assert_allclose(flam[1], 1.0)  # normalised at 5000-5500 A
    # on a wider grid the short template is extended (a power law: here flat), never zero
    grid = np.geomspace(100, 1e5, 400)
    wave, flam, _ = eazy.read_templates(param, tmp_path, wave=grid)
    np.testing.assert_allclose(flam[1], 1.0, rtol=1e-6)
    ratio = flam[0] / (grid / 5000) ** -2.0  # the long template is a power law: kept beyond
    np.testing.assert_allclose(ratio, ratio[grid > 5000][0], rtol=0.02)
    assert (flam > 0).all()


def test_bad_template_inputs(tmp_path):
    (tmp_path / "templates").mkdir()
    param = tmp_path / "templates" / "set.param"
    param.write_text("1 templates/missing.dat 1.0\n")
    with pytest.raises(FileNotFoundError, match="missing.dat"):
        eazy.read_templates(param)
    param.write_text("1 templates/a.dat\n")
    with pytest.raises(ValueError, match="line 1"):
        eazy.read_template_param(param)
    param.write_text("1 templates/a.dat 1.0\n1 templates/b.dat 1.0\n")
    with pytest.raises(ValueError, match="repeat"):
        eazy.read_template_param(param)
    _write_sed(tmp_path / "templates" / "down.dat", [6000.0, 5000.0, 4000.0], [1.0, 1.0, 1.0])
    param.write_text("1 templates/down.dat 1.0\n")
    with pytest.raises(ValueError, match="down.dat.*strictly increasing"):
        eazy.read_templates(param)
    _write_sed(tmp_path / "templates" / "uv.dat", [100.0, 1000.0, 3000.0], [1.0, 1.0, 1.0])
    param.write_text("1 templates/uv.dat 1.0\n")
    with pytest.raises(ValueError, match="norm_range"):
        eazy.read_templates(param)


def test_real_template_error_and_priors(real):
    wave, err = eazy.read_template_error(real / "templates" / "TEMPLATE_ERROR.eazy_v1.0")
    assert wave.shape == err.shape == (101,) and (err >= 0).all() and np.all(np.diff(wave) > 0)
    z, mags, p = eazy.read_prior(real / "templates" / "prior_R_zmax7.dat")
    assert z.shape == (710,) and mags.shape == (16,) and p.shape == (710, 16)
    assert z[0] == 0.01 and z[-1] == pytest.approx(7.1) and mags[0] == 20.0 and mags[-1] == 27.5
    z, mags, p = eazy.read_prior(real / "templates" / "prior_K_zmax7.dat")
    assert p.shape == (710, 18) and mags[0] == 17.5 and mags[-1] == 26.0
    assert (p >= 0).all()


def test_written_prior(tmp_path):
    path = tmp_path / "prior.dat"
    path.write_text("# z 20.0 21.0\n0.1 0.5 0.2\n0.2 0.5 0.8\n")
    z, mags, p = eazy.read_prior(path)
    np.testing.assert_array_equal(mags, [20.0, 21.0])
    np.testing.assert_array_equal(p, [[0.5, 0.2], [0.5, 0.8]])
    path.write_text("z 20.0 21.0\n0.1 0.5\n")
    with pytest.raises(ValueError, match="3 numbers"):
        eazy.read_prior(path)
    path.write_text("m 20 21\n0.1 0.5 0.5\n")
    with pytest.raises(ValueError, match="first line"):
        eazy.read_prior(path)


# ----------------------------------------------------------------------------------------------
# Catalogues
# ----------------------------------------------------------------------------------------------


def test_real_hdfn_catalogue(real):
    inputs = real / "inputs"
    df = eazy.read_eazy_catalogue(inputs / "hdfn_fs99_eazy.cat")
    assert df.shape == (1067, 16) and int((df["z_spec"] > 0).sum()) == 114
    assert set(df.loc[df["z_spec"] <= 0, "z_spec"]) == {-1.0}
    assert df.attrs["filters"] == {
        "f_f300w": 10,
        "f_f450w": 12,
        "f_f606w": 14,
        "f_f814w": 16,
        "f_irimj": 26,
        "f_irimh": 27,
        "f_irimk": 28,
    }
    assert df.attrs["errors"]["f_irimk"] == "e_irimk"
    translated = eazy.read_eazy_catalogue(inputs / "hdfn_fs99_eazy.cat", inputs / "zphot.translate")
    assert translated.attrs == df.attrs
    only = eazy.read_eazy_catalogue(inputs / "hdfn_fs99_eazy.cat.zspec.only")
    assert len(only) == 114 and only["z_spec"].between(0.08, 5.7).all()


def test_written_eazy_catalogue(tmp_path):
    cat = tmp_path / "my.cat"
    cat.write_text("# id f_a e_a f_b e_b z_spec\n1 1.0 0.1 -99 -99 0.5\n2 2.0 0.2 3.0 0.3 -1\n")
    df = eazy.read_eazy_catalogue(cat)
    assert df.attrs["filters"] == {} and df["f_b"].iloc[0] == -99  # -99 left as it is
    translate = tmp_path / "zphot.translate"
    translate.write_text("f_a F205\ne_a E205\nf_b f158\ne_b e158\n")
    df = eazy.read_eazy_catalogue(cat, translate)
    assert df.attrs["filters"] == {"f_b": 158, "f_a": 205}
    assert df.attrs["errors"] == {"f_b": "e_b", "f_a": "e_a"}
    translate.write_text("f_a F205\ne_a E205\nf_c F1\n")
    with pytest.raises(ValueError, match="f_c"):
        eazy.read_eazy_catalogue(cat, translate)
    translate.write_text("f_a F205\n")
    with pytest.raises(ValueError, match="205"):
        eazy.read_eazy_catalogue(cat, translate)


# ----------------------------------------------------------------------------------------------
# Fetch-backed loaders, offline on a cache filled from ../shared/realdata
# ----------------------------------------------------------------------------------------------


def test_loaders_work_offline_on_a_filled_cache(cache):
    hdfn = eazy.load_hdfn()
    assert hdfn.shape == (1067, 16) and int((hdfn["z_spec"] > 0).sum()) == 114
    assert hdfn.attrs["bands"] == ["F300W", "F450W", "F606W", "F814W", "J", "H", "K"]
    assert hdfn.attrs["filters"]["f_K"] == 28 and hdfn.attrs["errors"]["f_J"] == "e_J"
    assert {f"f_{b}" for b in hdfn.attrs["bands"]} <= set(hdfn.columns)
    assert set(hdfn.loc[hdfn["z_spec"] <= 0, "z_spec"]) == {-1.0}

    start = time.perf_counter()
    filters = eazy.load_eazy_filters()
    assert len(filters) == 418 and time.perf_counter() - start < 2.0
    wave, flam, names = eazy.load_eazy_templates()
    assert flam.shape == (9, wave.size) and (flam >= 0).all()
    wave, flam, names = eazy.load_eazy_templates("fsps_QSF_12_v3")
    assert flam.shape == (12, 5994) and wave[-1] == 1e8
    assert eazy.load_prior("R")[2].shape == (710, 16)
    assert eazy.load_prior("K")[2].shape == (710, 18)
    assert eazy.load_template_error()[0].shape == (101,)
    with pytest.raises(ValueError, match="'R' or 'K'"):
        eazy.load_prior("V")
    with pytest.raises(ValueError, match="unknown template set"):
        eazy.load_eazy_templates("bpz")


def test_loaders_offline_on_an_empty_cache_say_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("A3NET_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    with pytest.raises(F.DataUnavailableError, match="hdfn_fs99_eazy.cat"):
        eazy.load_hdfn()
    with pytest.raises(F.DataUnavailableError, match="prior_K_zmax7.dat"):
        eazy.load_prior("K")
