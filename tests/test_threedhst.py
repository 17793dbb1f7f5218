"""a3net.data.threedhst: 3D-HST v4.1 band -> FILTER.RES.latest curves per field, and load_3dhst
on a GOODS-S catalogue + .zout written in the release's layout (tests/threedhst_fixture.py)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from threedhst_fixture import GOODSS_BANDS, SIMULATED_AS, simulated_bands, write_3dhst_files

from a3net.data import eazy, photometry, threedhst
from a3net.data.fetch import DataUnavailableError

REAL_FILTER_RES = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "realdata"
    / "eazy_photoz"
    / "FILTER.RES.latest"
)

# Nominal wavelengths [A] of the band names (filter name, Skelton et al. 2014 Table 3): each
# mapped curve's pivot must lie within 10% of its band's, which catches a wrong number.
NOMINAL = {
    "U": 3600, "u": 3600, "U38": 3700, "B": 4450, "G": 4750, "V": 5450, "R": 6400, "Rp": 6300,
    "Rs": 6800, "Rc": 6500, "I": 8000, "Ip": 7700, "i": 7700, "Z": 9000, "Zp": 9000, "z": 9000,
    "F435W": 4350, "F606W": 6060, "F606Wcand": 6060, "F775W": 7750, "F814W": 8140,
    "F814Wcand": 8140, "F850LP": 9000, "F850LPcand": 9000, "F125W": 12500, "F140W": 14000,
    "F160W": 15500, "UVISTA_Y": 10200, "J1": 10500, "J2": 11950, "J3": 12800, "J": 12500,
    "tenisJ": 12500, "UVISTA_J": 12500, "H1": 15600, "H2": 17000, "H": 16400, "UVISTA_H": 16400,
    "K": 21800, "Ks": 21600, "tenisK": 21600, "UVISTA_Ks": 21600, "IRAC1": 35500,
    "IRAC2": 45000, "IRAC3": 57000, "IRAC4": 79000,
}  # fmt: skip


def _nominal(band: str) -> float:
    return float(band[2:]) * 10 if band.startswith("IA") else NOMINAL[band]


@pytest.fixture(scope="module")
def eazy_filters():
    try:
        return eazy.load_eazy_filters()
    except DataUnavailableError:
        if REAL_FILTER_RES.is_file():
            return eazy.read_filter_res(REAL_FILTER_RES)
        pytest.skip("FILTER.RES.latest is not cached (A3NET_DATA) and cannot be downloaded.")


@pytest.fixture(scope="module")
def goodss(tmp_path_factory):
    folder = tmp_path_factory.mktemp("goodss")
    return write_3dhst_files(folder, n=200, seed=0)


def _load(path, filters, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return threedhst.load_3dhst(path, filters=filters, **kwargs)


@pytest.mark.parametrize("field", threedhst.THREEDHST_FIELDS)
def test_every_mapped_curve_sits_at_its_bands_wavelength(field, eazy_filters):
    bands = list(threedhst.THREEDHST_FILTERS[field])
    curves = threedhst.filters_for(bands, field, eazy_filters)
    assert len(curves) == len(bands)
    for band, curve in zip(bands, curves, strict=True):
        number = threedhst.THREEDHST_FILTERS[field][band]
        assert curve.name == f"{band} (#{number})"
        assert abs(curve.pivot / _nominal(band) - 1) < 0.10, (field, band, number, curve.pivot)


def test_bands_shared_by_all_fields_are_mapped_in_each():
    shared = {"F125W", "F140W", "F160W", "F606W", "IRAC1", "IRAC2", "IRAC3", "IRAC4"}
    for field, table in threedhst.THREEDHST_FILTERS.items():
        assert shared <= set(table), field
        assert {"J", "H"} <= set(table) and ({"K", "Ks"} & set(table)), field


def test_one_name_means_different_instruments_per_field():
    numbers = {f: t.get("Ks") for f, t in threedhst.THREEDHST_FILTERS.items()}
    assert numbers == {"AEGIS": 222, "COSMOS": 222, "GOODS-N": 226, "GOODS-S": 37, "UDS": None}
    assert threedhst.THREEDHST_FILTERS["UDS"]["K"] == 265  # WFCAM, called K in UDS
    assert threedhst.THREEDHST_FILTERS["GOODS-S"]["F606W"] == 4  # GOODS ACS, before 2006
    assert threedhst.THREEDHST_FILTERS["GOODS-S"]["F606Wcand"] == 236  # CANDELS, after


def test_filters_for_refuses_unknown_bands_and_renumbered_files(eazy_filters):
    with pytest.raises(ValueError, match=r"no known filter for bands \['NB118'\] in UDS"):
        threedhst.filters_for(["F160W", "NB118"], "uds", eazy_filters)
    shifted = {k + 1: v for k, v in eazy_filters.items()}
    with pytest.raises(ValueError, match="not numbered as in FILTER.RES.latest"):
        threedhst.filters_for(["F160W"], "GOODS-S", shifted)
    with pytest.raises(ValueError, match="field must be one of"):
        threedhst.filters_for(["F160W"], "HUDF", eazy_filters)


def test_field_from_the_file_name():
    assert threedhst.field_from_path("x/goodss_3dhst.v4.1.cat") == "GOODS-S"
    assert threedhst.field_from_path("goodsn_3dhst.v4.1.cat.FITS") == "GOODS-N"
    assert threedhst.field_from_path("uds_3dhst.v4.2.cat") == "UDS"
    assert threedhst.field_from_path("AEGIS_3dhst.v4.1.cat") == "AEGIS"
    assert threedhst.field_from_path("catalogue.cat") is None


def test_fixture_has_the_release_layout(goodss):
    cat, zout, _ = goodss
    header = cat.read_text().splitlines()[0].split()
    start = (
        "# id x y ra dec faper_F160W eaper_F160W faper_F140W eaper_F140W f_F160W e_F160W w_F160W"
    )
    assert header[:13] == start.split()
    assert header[-4:] == ["near_star", "nexp_f125w", "nexp_f140w", "nexp_f160w"]
    assert "w_IA427" not in header and "f_F105W" not in header
    assert zout.read_text().splitlines()[0].split()[1:] == [
        "id", "z_spec", "z_a", "z_m1", "chi_a", "z_p", "chi_p", "z_m2", "odds", "l99", "l95",
        "l68", "u68", "u95", "u99", "nfilt", "q_z", "z_peak", "peak_prob", "z_mc",
    ]  # fmt: skip


def test_load_3dhst_matches_a_filter_to_every_band(goodss, eazy_filters):
    cat, _, _ = goodss
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no band may be dropped
        result = threedhst.load_3dhst(cat, filters=eazy_filters)
    assert result.field == "GOODS-S"
    assert result.bands == list(GOODSS_BANDS) == result.catalogue.attrs["bands"]
    assert len(result.filters) == len(result.bands) == len(result.filter_numbers)
    sim_pivot = {
        SIMULATED_AS.get(b, b): f.pivot
        for b, f in zip(photometry.BANDS, photometry.photometry_filters(), strict=True)
    }
    assert set(simulated_bands()) <= set(sim_pivot)
    for band, curve in zip(result.bands, result.filters, strict=True):
        nominal = sim_pivot.get(band, _nominal(band))
        assert abs(curve.pivot / nominal - 1) < 0.10, (band, curve.pivot, nominal)


def test_z_eazy_is_aligned_by_id(goodss, eazy_filters):
    cat, zout, truth = goodss
    ids = np.loadtxt(zout, usecols=0, dtype=int)
    assert not np.array_equal(ids, np.sort(ids))  # the .zout rows are in another order
    result = _load(cat, eazy_filters)
    assert result.z_eazy.shape == (len(result.catalogue),)
    np.testing.assert_array_equal(result.catalogue["id"].to_numpy(), truth["id"].to_numpy())
    np.testing.assert_allclose(result.z_eazy, truth["z_peak"].to_numpy(), atol=1e-4)
    assert np.isnan(truth["z_peak"]).sum() >= 1  # EAZY's -99 rows are NaN
    assert np.array_equal(np.isnan(result.z_eazy), np.isnan(truth["z_peak"].to_numpy()))
    # the same .zout passed explicitly gives the same redshifts
    explicit = _load(cat, eazy_filters, zout=zout)
    np.testing.assert_array_equal(explicit.z_eazy, result.z_eazy)


def test_unknown_band_is_dropped_with_a_warning(tmp_path, eazy_filters):
    cat, _, _ = write_3dhst_files(tmp_path, n=12, seed=3, extra_bands=("NB118",))
    with pytest.warns(UserWarning, match=r"\['NB118'\] have no known filter in GOODS-S"):
        result = threedhst.load_3dhst(cat, filters=eazy_filters)
    assert "NB118" not in result.bands and len(result.bands) == len(GOODSS_BANDS)
    assert result.catalogue.attrs["unmatched_bands"] == ["NB118"]
    assert "f_NB118" in result.catalogue.columns  # the column stays; only the band list drops it


def test_without_a_zout_z_eazy_is_none(tmp_path, eazy_filters):
    cat, zout, _ = write_3dhst_files(tmp_path, n=12, seed=4, zout=False)
    assert zout is None
    result = _load(cat, eazy_filters)
    assert result.z_eazy is None and "z_peak" not in result.catalogue.columns


def test_the_release_folders_zout_is_found(tmp_path, eazy_filters):
    cat, zout, truth = write_3dhst_files(tmp_path / "flat", n=12, seed=5)
    release = tmp_path / "goodss_3dhst.v4.1.cats"
    (release / "Catalog").mkdir(parents=True)
    (release / "Eazy").mkdir()
    shutil.copy(cat, release / "Catalog" / cat.name)
    shutil.copy(zout, release / "Eazy" / zout.name)
    result = _load(release / "Catalog" / cat.name, eazy_filters)
    np.testing.assert_allclose(result.z_eazy, truth["z_peak"].to_numpy(), atol=1e-4)


def test_field_is_needed_when_the_name_does_not_tell(tmp_path, eazy_filters):
    cat, _, _ = write_3dhst_files(tmp_path, n=12, seed=6, stem="mycatalogue", zout=False)
    with pytest.raises(ValueError, match="pass field="):
        _load(cat, eazy_filters)
    assert _load(cat, eazy_filters, field="goods-s").field == "GOODS-S"


def test_eazy_templates_fit_the_fixture(goodss, eazy_filters):
    try:
        wave, flam, _ = eazy.load_eazy_templates("eazy_v1.3")
    except DataUnavailableError as exc:
        pytest.skip(f"EAZY v1.3 templates not available offline: {exc}")
    from a3net.baselines.photoz import TemplateFitter

    cat, _, truth = goodss
    result = _load(cat, eazy_filters)
    df = result.catalogue
    rows = df[(df["star_flag"] == 0) & (df["use_phot"] == 1)].nlargest(50, "f_F160W")
    flux = rows[[f"f_{b}" for b in result.bands]].to_numpy()
    err = rows[[f"e_{b}" for b in result.bands]].to_numpy()
    fitter = TemplateFitter(wave, flam, result.filters)
    fit = fitter.fit(flux, err)
    assert flux.shape == (50, len(result.filters)) == fit.model_flux.shape
    assert fit.z_best.shape == (50,) and not fit.skipped.any()
    z_true = truth.set_index("id").loc[rows["id"], "z_true"].to_numpy()
    good = np.abs(fit.z_best - z_true) / (1 + z_true) < 0.15
    assert good.mean() >= 0.65, good.mean()  # 0.78-0.86 over three seeds; binomial sd ~0.06
