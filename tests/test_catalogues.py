"""a3net.data.catalogues: 3D-HST layout (files written here), generic tables, cleaning counts,
magnitudes and features, and the registered SDSS/2SLAQ catalogues (offline on a filled cache)."""

from __future__ import annotations

import json
import shutil
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from a3net.data import catalogues as C
from a3net.data import fetch as F

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"

# ----------------------------------------------------------------------------------------------
# Small files in the 3D-HST v4.1 layout
# ----------------------------------------------------------------------------------------------

CAT_COLUMNS = (
    "id x y ra dec faper_F160W eaper_F160W f_F160W e_F160W w_F160W f_U e_U w_U "
    "f_F606W e_F606W w_F606W f_IRAC1 e_IRAC1 w_IRAC1 z_spec star_flag use_phot"
).split()
# id x y ra dec faperH eaperH fH eH wH fU eU wU f606 e606 w606 fI1 eI1 wI1 zspec star use
CAT_ROWS = [
    row.split()
    for row in (
        "1 101.5 2001.2 189.1 62.2 5.0 0.1 10.0 0.2 1.0 1.0 0.3 1 4.0 0.1 1 20.0 1.0 1 1.25 0 1",
        "2 102.5 2002.2 189.2 62.3 2.0 0.1 4.0 0.2 1.0 -99 -99 0 1.5 0.1 1 9.0 1.0 1 -1 0 1",
        "3 103.5 2003.2 189.3 62.4 9.0 0.1 30.0 0.2 1.0 3.0 0.3 1 12.0 0.1 1 60.0 1.0 1 0.0 1 1",
        "4 104.5 2004.2 189.4 62.5 1.0 0.1 2.0 0.2 1.0 -0.2 0.3 1 0.5 0.1 1 3.0 1.0 1 2.5 2 0",
    )
]
ZOUT_COLUMNS = (
    "id z_spec z_a z_m1 chi_a z_p chi_p z_m2 odds l68 u68 l95 u95 l99 u99 nfilt q_z z_peak "
    "peak_prob z_mc"
).split()
FOUT_COLUMNS = "id z ltau metal lage Av lmass lsfr lssfr la2t chi2".split()


def _write(path: Path, header_lines, rows) -> Path:
    body = "\n".join(
        " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in r) for r in rows
    )
    path.write_text("\n".join(header_lines) + "\n" + body + "\n")
    return path


def _write_3dhst(folder: Path, *, zout_ids=(1, 2, 3, 4)):
    cat = _write(
        folder / "goodsn_3dhst.v4.1.cat",
        ["# " + " ".join(CAT_COLUMNS), "# goodsn_3dhst.v4.1.cat:", "# by a3net tests"],
        CAT_ROWS,
    )
    zrows = [[i, -1, 1.1 * i, 1.1 * i, 5.0, 1.1 * i, 5.0, 1.1 * i, 0.9, 1, 2, 1, 2, 1, 2, 4, 0.5,
              1.2 * i, 0.8, 1.0 * i] for i in zout_ids]  # fmt: skip
    zout = _write(
        folder / "goodsn_3dhst.v4.1.zout",
        ["# " + " ".join(ZOUT_COLUMNS), "# EAZY $Rev: 34 $"],
        zrows,
    )
    fast_header = [
        "#    id         z      ltau     metal      lage        Av     lmass      lsfr     "
        "lssfr      la2t      chi2",
        "# FAST version: 0.9b",
        "# Filters:     205  88 122  79 236 123 124 239 125 203 263 204 264 265  18  19  20  21",
        "# For sfr=0. lsfr is set to -99",
        "#    id         z      ltau     metal      lage        Av     lmass      lsfr     "
        "lssfr      la2t      chi2",
    ]
    frows = [
        [i, 1.2 * i, 8.0, 0.02, 9.0, 0.5, 8.5 + 0.5 * i, 1.0, -9.0, 1.0, 1.5] for i in (4, 3, 2, 1)
    ]
    fout = _write(folder / "goodsn_3dhst.v4.1.fout", fast_header, frows)
    return cat, zout, fout


def test_3dhst_catalogue_with_zout_and_fout(tmp_path):
    cat, zout, fout = _write_3dhst(tmp_path)
    df = C.load_3dhst_catalogue(cat, zout=zout, fast=fout)
    assert list(df["id"]) == [1, 2, 3, 4] and len(df) == 4
    assert df.attrs["bands"] == ["F160W", "U", "F606W", "IRAC1"]
    assert df.attrs["errors"]["f_U"] == "e_U"
    # the catalogue's z_spec is kept (the .zout's copy is not joined); z_peak, lmass by id
    np.testing.assert_array_equal(df["z_spec"], [1.25, -1, 0.0, 2.5])
    np.testing.assert_allclose(df["z_peak"], [1.2, 2.4, 3.6, 4.8])
    np.testing.assert_allclose(df["lmass"], [9.0, 9.5, 10.0, 10.5])  # fout rows were reversed
    np.testing.assert_allclose(df["z_fast"], [1.2, 2.4, 3.6, 4.8])
    assert "z" not in df.columns and "z_peak" in df.attrs["derived_columns"]
    assert set(FOUT_COLUMNS[2:]) | {"z_fast", "z_peak", "z_a", "q_z"} <= set(
        df.attrs["derived_columns"]
    )
    assert df.loc[1, "f_U"] == -99  # no coverage left as it is
    plain = C.load_3dhst_catalogue(cat)
    assert plain.shape == (4, len(CAT_COLUMNS)) and plain.attrs["derived_columns"] == []


def test_3dhst_missing_files_and_bad_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"archive\.stsci\.edu/prepds/3d-hst"):
        C.load_3dhst_catalogue(tmp_path / "aegis_3dhst.v4.1.cat")
    cat, zout, fout = _write_3dhst(tmp_path, zout_ids=(1, 2, 3))
    with pytest.raises(FileNotFoundError, match=r"\.fout file.*archive\.stsci\.edu"):
        C.load_3dhst_catalogue(cat, fast=tmp_path / "absent.fout")
    with pytest.raises(ValueError, match="1 ids of the catalogue .*4.*zout"):
        C.load_3dhst_catalogue(cat, zout=zout)
    other = _write(tmp_path / "other.cat", ["# id mag_r"], [[1, 20.0]])
    with pytest.raises(ValueError, match="not in the 3D-HST layout"):
        C.load_3dhst_catalogue(other)


# ----------------------------------------------------------------------------------------------
# Generic tables
# ----------------------------------------------------------------------------------------------


def test_load_table_formats(tmp_path):
    from astropy.table import Table

    expected = pd.DataFrame({"id": [1, 2], "f_r": [1.5, -99.0], "name": ["a", "b"]})
    expected.to_csv(tmp_path / "t.csv", index=False)
    pd.testing.assert_frame_equal(C.load_table(tmp_path / "t.csv"), expected)
    _write(tmp_path / "t.cat", ["# id f_r name", "# a comment"], [[1, 1.5, "a"], [2, -99.0, "b"]])
    pd.testing.assert_frame_equal(C.load_table(tmp_path / "t.cat"), expected)
    Table.from_pandas(expected).write(tmp_path / "t.fits")
    got = C.load_table(tmp_path / "t.fits")
    assert list(got["name"]) == ["a", "b"] and list(got["f_r"]) == [1.5, -99.0]
    Table({"id": [1, 2], "spec": np.zeros((2, 3))}).write(tmp_path / "multi.fits")
    with pytest.raises(ValueError, match="spec"):
        C.load_table(tmp_path / "multi.fits")
    (tmp_path / "nohead.dat").write_text("1 2 3\n4 5 6\n")
    with pytest.raises(ValueError, match="header"):
        C.load_table(tmp_path / "nohead.dat")
    assert list(C.load_table(tmp_path / "nohead.dat", names="abc").columns) == ["a", "b", "c"]
    (tmp_path / "ragged.dat").write_text("# a b c\n1 2 3\n4 5\n6 7 8 9\n")
    with pytest.raises(ValueError, match="same number of columns|header"):
        C.load_table(tmp_path / "ragged.dat")
    with pytest.raises(FileNotFoundError):
        C.load_table(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------------------------
# Cleaning
# ----------------------------------------------------------------------------------------------


def _catalogue():
    """Ten rows, each removed for one reason, two kept (one with a band without coverage)."""
    rows = {
        #               f_a    e_a    f_b    e_b   z_spec star use lmass
        "all_missing": (-99.0, -99.0, np.nan, np.nan, 1.0, 1, 1, 10.0),  # also a star
        "star": (1.0, 0.1, 1.0, 0.1, 1.0, 1, 1, 10.0),
        "use_phot_0": (1.0, 0.1, 1.0, 0.1, 1.0, 0, 0, 10.0),
        "no_zspec": (1.0, 0.1, 1.0, 0.1, -1.0, 0, 1, 10.0),
        "negative_z": (1.0, 0.1, 1.0, 0.1, -0.3, 0, 1, 10.0),
        "zero_z": (1.0, 0.1, 1.0, 0.1, 0.0, 0, 1, 10.0),
        "low_mass": (1.0, 0.1, 1.0, 0.1, 1.0, 0, 1, 8.0),
        "nan_flux": (np.nan, 0.1, 1.0, 0.1, 1.0, 0, 1, 10.0),
        "negative_err": (1.0, -0.1, 1.0, 0.1, 1.0, 0, 1, 10.0),
        "good": (2.0, 0.1, 3.0, 0.1, 0.5, 0, 1, 10.0),
        "good_one_band": (2.0, 0.1, -99.0, -99.0, 0.7, 0, 1, 10.0),
    }
    columns = ["f_a", "e_a", "f_b", "e_b", "z_spec", "star_flag", "use_phot", "lmass"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def test_clean_catalogue_counts_every_reason():
    df = _catalogue()
    clean, report = C.clean_catalogue(df, ["a", "b"], min_lmass=9.0)
    assert report.to_dict() == {
        "no_photometry": 1,
        "star": 1,
        "use_phot_0": 1,
        "no_zspec": 1,
        "bad_zspec": 2,
        "low_mass": 1,
        "nan_photometry": 1,
        "negative_error": 1,
        "kept": 2,
    }
    assert report.sum() == len(df)  # nothing silently dropped
    assert list(clean.index) == ["good", "good_one_band"]
    assert clean.attrs["cleaning"] == report.to_dict()


def test_clean_catalogue_options():
    df = _catalogue()
    clean, report = C.clean_catalogue(df, ["a", "b"], require_zspec=False)
    assert report["no_zspec"] == 0 and report["bad_zspec"] == 1 and report["low_mass"] == 0
    assert {"no_zspec", "zero_z", "low_mass"} <= set(clean.index)
    assert "negative_z" not in clean.index  # a negative redshift is never valid
    without_flags = df.drop(columns=["star_flag", "use_phot"])
    _, report = C.clean_catalogue(without_flags, ["a", "b"])
    assert report["star"] == report["use_phot_0"] == 0 and report["kept"] == 5


def test_clean_catalogue_bad_input():
    df = _catalogue()
    with pytest.raises(ValueError, match=r"'c'.*f_c"):
        C.clean_catalogue(df, ["a", "c"])
    with pytest.raises(ValueError, match="e_b"):
        C.clean_catalogue(df.drop(columns="e_b"), ["a", "b"])
    with pytest.raises(ValueError, match="z_spec"):
        C.clean_catalogue(df.drop(columns="z_spec"), ["a", "b"])
    with pytest.raises(ValueError, match="lmass"):
        C.clean_catalogue(df.drop(columns="lmass"), ["a", "b"], min_lmass=9)
    with pytest.raises(ValueError, match="min_lmass"):
        C.clean_catalogue(df, ["a", "b"], min_lmass=float("nan"))
    with pytest.raises(ValueError, match="bands"):
        C.clean_catalogue(df, [])
    with pytest.raises(TypeError, match="DataFrame"):
        C.clean_catalogue(df.to_numpy(), ["a", "b"])


def test_clean_magnitude_table():
    df = pd.DataFrame(
        {
            "u": [20.0, -666.0, 21.0, 22.0],
            "g": [19.0, -666.0, np.nan, 21.0],
            "err_u": [0.1, 0.1, 0.1, -0.1],
            "err_g": [0.1, 0.1, 0.1, 0.1],
            "z_spec": [0.1, 0.2, 0.3, 0.4],
        }
    )
    clean, report = C.clean_catalogue(df, ["u", "g"])
    assert report["no_photometry"] == 1 and report["nan_photometry"] == 1
    assert report["negative_error"] == 1 and list(clean.index) == [0]


# ----------------------------------------------------------------------------------------------
# Magnitudes and features
# ----------------------------------------------------------------------------------------------


def test_flux_to_mag():
    flux = np.array([1.0, 10.0, -0.5, 0.1, -99.0, np.nan, 1.0, 5.0])
    err = np.array([0.1, 1.0, 0.2, 0.2, -99.0, 0.1, -0.1, 0.0])
    mag, mag_err = C.flux_to_mag(flux, err)
    np.testing.assert_allclose(mag[:2], [25.0, 22.5])
    np.testing.assert_allclose(mag_err[:2], 2.5 / np.log(10) * 0.1)
    limit = 25 - 2.5 * np.log10(0.2)  # 1-sigma limit of the non-detections
    np.testing.assert_allclose(mag[2:4], limit)
    assert np.isnan(mag_err[2:4]).all()  # a NaN error marks a limit
    assert np.isnan(mag[4:7]).all() and np.isnan(mag_err[4:7]).all()  # not covered
    assert mag[7] == pytest.approx(25 - 2.5 * np.log10(5)) and mag_err[7] == 0
    assert np.isnan(C.flux_to_mag([-95.0, 1.0], [0.1, -90.5])[0]).all()  # <= -90: not observed
    mag3, _ = C.flux_to_mag([0.5], [0.2], nsigma=3)
    np.testing.assert_allclose(mag3, 25 - 2.5 * np.log10(0.6))  # 0.5 < 3 sigma: a limit
    with pytest.raises(ValueError, match="nsigma"):
        C.flux_to_mag(flux, err, nsigma=0)
    with pytest.raises(ValueError, match="same shape"):
        C.flux_to_mag([1.0, 2.0], [0.1, 0.1, 0.1])


def test_photometric_features_kinds(tmp_path):
    cat, zout, fout = _write_3dhst(tmp_path)
    df = C.load_3dhst_catalogue(cat, zout=zout, fast=fout)
    bands = ["U", "F606W", "F160W", "IRAC1"]
    X = C.photometric_features(df, bands, "bands")
    assert list(X.columns) == [f"mag_{b}" for b in bands] and list(X.index) == list(df.index)
    assert X.loc[0, "mag_F160W"] == pytest.approx(22.5)
    assert np.isnan(X.loc[1, "mag_U"])  # -99: no coverage
    assert X.loc[3, "mag_U"] == pytest.approx(25 - 2.5 * np.log10(0.3))  # negative flux: limit

    X = C.photometric_features(df, bands, "colours")
    assert X.shape == (4, 4 + 6)
    assert list(X.columns[4:]) == [
        "U-F606W", "U-F160W", "U-IRAC1", "F606W-F160W", "F606W-IRAC1", "F160W-IRAC1",
    ]  # fmt: skip
    np.testing.assert_allclose(X["F606W-F160W"], X["mag_F606W"] - X["mag_F160W"])
    assert np.isnan(X.loc[1, "U-F160W"])

    Xi = C.photometric_features(df, bands, "bands", indicators=True)
    np.testing.assert_array_equal(Xi["det_U"], [1, 0, 1, 0])

    A = C.photometric_features(df, bands, "all_columns")
    for col in ("id", "x", "y", "ra", "dec", "star_flag", "use_phot", "f_U", "w_U"):
        assert col in A.columns  # the deliberately naive set: ids, positions, flags
    for col in ("z_spec", "z_peak", "z_a", "z_m2", "l68", "odds", "z_fast", "lmass", "chi2"):
        assert col not in A.columns  # never the target nor a photo-z/SED-fit output
    assert A.loc[1, "f_U"] == -99 and A.dtypes.eq(float).all()


def test_photometric_features_magnitude_tables_and_errors():
    df = pd.DataFrame(
        {
            "u": [20.0, -666.0, 21.0],
            "g": [19.0, 18.0, 20.5],
            "r": [18.5, 17.0, 20.0],
            "z": [18.0, 16.5, 19.0],
            "z_spec": [0.1, 0.2, 0.3],
            "z_phot": [0.1, 0.2, 0.3],
        },
        index=[10, 11, 12],
    )
    X = C.photometric_features(df, ["u", "g", "r", "z"], "colours")
    assert X.shape == (3, 4 + 6) and list(X.index) == [10, 11, 12]
    assert np.isnan(X.loc[11, "mag_u"]) and X.loc[10, "u-g"] == pytest.approx(1.0)
    A = C.photometric_features(df, ["u"], "all_columns")
    assert list(A.columns) == ["u", "g", "r", "z"]  # the z-band magnitude is not a redshift
    with pytest.raises(ValueError, match="kind must be one of"):
        C.photometric_features(df, ["u", "g"], "colors_and_more")
    with pytest.raises(ValueError, match="'i'"):
        C.photometric_features(df, ["u", "i"], "bands")
    with pytest.raises(ValueError, match="indicators"):
        C.photometric_features(df, ["u"], "all_columns", indicators=True)
    with pytest.raises(ValueError, match="repeat"):
        C.photometric_features(df, ["u", "u"], "bands")


# ----------------------------------------------------------------------------------------------
# Registered catalogues, offline on a cache filled from ../shared/realdata
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch):
    if not REALDATA.is_dir():
        pytest.skip(f"the shared real-data folder {REALDATA} is absent")
    index = json.loads((REALDATA / "provenance_index.json").read_text())
    root = tmp_path / "cache"
    for ds in F.REGISTRY.values():
        if not ds.name.startswith("photoz/"):
            continue
        parts = urllib.parse.unquote(urllib.parse.urlsplit(ds.url).path).lstrip("/").split("/")
        key = ("/".join(parts[:2]), parts[2], "/".join(parts[3:]))
        (src,) = [REALDATA / f / n for f, n, _s, r, p, c in index if (r, c, p) == key]
        target = root.joinpath(*ds.name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    monkeypatch.setenv("A3NET_DATA", str(root))
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    return root


def test_sdss_ugriz_and_2slaq(cache):
    train = C.load_sdss_ugriz("train")
    test = C.load_sdss_ugriz("test")
    assert train.shape == (5000, 11) and test.shape == (6000, 11)
    assert list(train.columns) == [*"ugriz", *(f"err_{b}" for b in "ugriz"), "z_spec"]
    for df in (train, test):
        assert df["z_spec"].between(0.002, 0.64).all() and df["r"].between(11, 20).all()
        _, report = C.clean_catalogue(df, list("ugriz"))
        assert report["kept"] == len(df)
    X = C.photometric_features(train, list("ugriz"), "colours")
    assert X.shape == (5000, 15) and np.isfinite(X.to_numpy()).all()
    with pytest.raises(ValueError, match="'train' or 'test'"):
        C.load_sdss_ugriz("validation")

    slaq = C.load_2slaq()
    assert slaq.shape == (14155, 6) and slaq["z_spec"].max() == pytest.approx(0.8833)
    clean, report = C.clean_catalogue(slaq, list("ugriz"))
    assert report["no_photometry"] == 4 and report["kept"] == 14151


def test_sdss_offline_without_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("A3NET_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    with pytest.raises(F.DataUnavailableError, match="sdss-ugriz-test.dat"):
        C.load_sdss_ugriz("test")


# ----------------------------------------------------------------------------------------------
# Text among numbers, rows cut short (issue 25)
# ----------------------------------------------------------------------------------------------


def test_text_columns_and_missing_words_are_kept(tmp_path):
    """Columns of words (a split, string ids) and the usual words for a missing value pass."""
    path = tmp_path / "cat.csv"
    path.write_text(
        "id,split,r,z_spec\nA1,train,20.1,0.1\nB2,test,nan,0.2\nC3,validate,,-\nD4,train,19.0,NA\n"
    )
    df = C.load_table(path)
    assert list(df["split"]) == ["train", "test", "validate", "train"]
    assert df["r"].dtype.kind == "f"


def test_text_in_a_numeric_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text("r,z_spec\n20.1,0.1\n19.5,0.2\n21.0,O.3\n20.2,0.4\n")
    with pytest.raises(ValueError, match=r"column 'z_spec' holds numbers but also text.*'O\.3'"):
        C.load_table(path)
    ascii_path = tmp_path / "cat.dat"
    ascii_path.write_text("# r z_spec\n20.1 0.1\n19.5 0.2\n21.0 O.3\n20.2 0.4\n")
    with pytest.raises(ValueError, match="column 'z_spec'"):
        C.read_ascii_table(ascii_path)


def test_clean_catalogue_refuses_text_in_a_band_instead_of_counting_it_as_no_photometry():
    df = pd.DataFrame({"u": [20.0, "faint", 21.0], "g": [19.0, 19.5, 20.0], "z_spec": [0.1] * 3})
    with pytest.raises(ValueError, match="column 'u' holds text such as 'faint'"):
        C.clean_catalogue(df, ["u", "g"])
    df["u"] = [20.0, -99.0, 21.0]  # the -99 marker is still counted, as before
    _, report = C.clean_catalogue(df, ["u"])
    assert report["no_photometry"] == 1 and report["kept"] == 2


def test_rows_cut_short_are_refused(tmp_path):
    path = tmp_path / "cat.dat"
    path.write_text("# a b c\n1 2 3\n4 5 6\n7 8\n")
    with pytest.raises(ValueError, match="line 4: 2 values but the table has 3 columns"):
        C.read_ascii_table(path)
    csv = tmp_path / "cat.csv"
    csv.write_text("a,b,c\n1,2,3\n4,5")
    with pytest.raises(ValueError, match="ends in the middle of a row"):
        C.load_table(csv)
    csv.write_text("a,b,c\n1,2,3\n4,5,6")  # no final newline, but a whole row: fine
    assert C.load_table(csv).shape == (2, 3)
