"""The 3D-HST-like catalogue simulator (chapter C): physics of the SEDs, the catalogue's shape,
coverage, noise, selection, stars, spectroscopic redshifts, templates, speed and bad input."""

import time

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls

from a3net.data import photometry as ph
from a3net.data.sed import band_flux_matrix, fnu_to_catalogue_flux, redshift_sed

N_BIG = 20000


@pytest.fixture(scope="module")
def big():
    ph._flux_table(ph.BANDS)  # the cached table, built once per process
    start = time.perf_counter()
    sim = ph.simulate_catalogue(N_BIG, seed=11)
    seconds = time.perf_counter() - start
    print(f"\nsimulate_catalogue({N_BIG}) took {seconds:.2f} s (flux table cached)")
    return sim, seconds


@pytest.fixture(scope="module")
def obs_grid():
    wave = np.exp(np.arange(np.log(2800.0), np.log(60000.0), 0.001))
    return wave, band_flux_matrix(wave, ph.photometry_filters())


def _mag(flux):
    return 25.0 - 2.5 * np.log10(np.clip(flux, 1e-6, None))


# ----------------------------------------------------------------------------------- filters
def test_bands_filters_and_grid():
    assert len(ph.BANDS) == 13 and ph.BANDS[0] == "U" and ph.BANDS[-1] == "IRAC2"
    filters = ph.photometry_filters()
    assert [f.name for f in filters] == list(ph.BANDS)
    pivots = [f.pivot for f in filters]
    assert pivots == sorted(pivots)
    f160 = ph.photometry_filters(["F160W"])[0]
    lo, hi = f160.edges
    assert 13000 < lo < 13900 and 17000 < hi < 18000 and 15000 < f160.pivot < 15800
    wave = ph.sed_grid()
    assert wave[0] == pytest.approx(400.0) and 55000 < wave[-1] < 65000
    ratio = wave[1:] / wave[:-1]
    np.testing.assert_allclose(ratio, ratio[0])
    assert 499 <= 1 / np.log(ratio[0]) <= 1000


# ------------------------------------------------------------------------------- SED physics
def _beta(wave, flam):
    sel = (wave > 1300) & (wave < 2500)
    return np.polyfit(np.log(wave[sel]), np.log(flam[..., sel].T), 1)[0]


def test_d4000_grows_with_age_and_balmer_break_at_intermediate_ages():
    wave = ph.sed_grid()
    ages = np.array([0.1, 0.5, 1.0, 3.0, 10.0, 13.0])
    seds = ph.galaxy_seds({"lmass": 10.0, "ssfr": 1e-12, "age": ages, "av": 0.0})
    d4000 = ph._d4000(wave, seds)
    assert np.all(np.diff(d4000) > 0)
    assert 1.05 < d4000[0] < 1.25 and 1.9 < d4000[-2] < 2.2 and d4000[-1] <= 2.25

    def balmer(f):  # flux just above / just below the Balmer limit
        return np.interp(3800, wave, f) / np.interp(3550, wave, f)

    b = [balmer(f) for f in seds]
    assert b[1] > b[0] and b[1] > 1.3


def test_uv_slope_dust_and_lyman_break():
    wave = ph.sed_grid()
    av = np.array([0.0, 0.3, 0.65])
    seds = ph.galaxy_seds({"lmass": 9.5, "ssfr": 3e-9, "age": 0.3, "av": av})
    beta = _beta(wave, seds)
    assert -2.5 < beta[0] < -1.9 and -1.7 < beta[2] < -1.2
    assert np.all(np.diff(beta) > 0)
    below = seds[:, (wave > 700) & (wave < 880)].mean(axis=1)
    above = seds[:, (wave > 1250) & (wave < 1400)].mean(axis=1)
    assert np.all(below < 0.05 * above)


def test_emission_lines_scale_with_ssfr_and_feel_more_dust():
    wave = ph.sed_grid()
    ssfr = 10.0 ** np.array([-10.0, -9.5, -9.0])
    base = {"lmass": 10.0, "ssfr": ssfr, "age": 2.0, "av": 0.0}
    full = ph.galaxy_seds(base)
    cont = ph.galaxy_seds({**base, "ssfr": ssfr * 1e-6})  # lines and young stars ~ gone
    line = (wave > 6450) & (wave < 6650)
    excess = (full - cont)[:, line].sum(axis=1)
    assert np.all(np.diff(np.log10(excess)) > 0.4)  # ~ linear in sSFR
    # EW(H-alpha + [NII]) of the full SED at sSFR 1e-9 is of order 100-300 A
    dw = np.gradient(wave)
    sel = (wave > 6300) & (wave < 6850)
    side = (wave > 6200) & (wave < 6300) | (wave > 6900) & (wave < 7000)
    level = full[2, side].mean()
    ew = np.sum((full[2, sel] - level) * dw[sel]) / level
    assert 100 < ew < 400
    dusty = ph.galaxy_seds({**base, "ssfr": 1e-9, "av": 1.0})[0]
    clean = full[2]
    lines_ratio = dusty[np.argmin(abs(wave - 6564.6))] / clean[np.argmin(abs(wave - 6564.6))]
    cont_ratio = np.interp(6200, wave, dusty) / np.interp(6200, wave, clean)
    assert lines_ratio < cont_ratio < 1


def test_galaxy_seds_bad_params():
    with pytest.raises(ValueError, match="lacks 'av'"):
        ph.galaxy_seds({"lmass": 10, "ssfr": 1e-9, "age": 1.0})
    with pytest.raises(ValueError, match="NaN"):
        ph.galaxy_seds({"lmass": np.nan, "ssfr": 1e-9, "age": 1.0, "av": 0})
    with pytest.raises(ValueError, match="non-negative"):
        ph.galaxy_seds({"lmass": 10, "ssfr": 1e-9, "age": 1.0, "av": -1})
    with pytest.raises(TypeError, match="dict or DataFrame"):
        ph.galaxy_seds([1, 2, 3])
    out = ph.galaxy_seds(pd.DataFrame({"lmass": [9, 10], "ssfr": 1e-9, "age": 1.0, "av": 0.5}))
    assert out.shape == (2, ph.sed_grid().size) and np.all(out >= 0)


def test_cosmology_matches_astropy():
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=70, Om0=0.3)
    z = np.array([0.05, 0.5, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(
        ph._luminosity_distance_mpc(z), cosmo.luminosity_distance(z).value, rtol=1e-4
    )
    np.testing.assert_allclose(ph._age_of_universe_gyr(z), cosmo.age(z).value, rtol=2e-3)


# --------------------------------------------------------------------------- the catalogue
def test_same_seed_same_catalogue_other_seed_other():
    a = ph.simulate_catalogue(400, seed=3)
    b = ph.simulate_catalogue(400, seed=3)
    c = ph.simulate_catalogue(400, seed=4)
    pd.testing.assert_frame_equal(a.catalogue, b.catalogue)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not np.allclose(a.truth["z_true"], c.truth["z_true"])


def test_columns_dtypes_and_row_count(big):
    (cat, truth), _ = big
    assert len(cat) == len(truth) == N_BIG
    flux_cols = [c for b in ph.BANDS for c in (f"f_{b}", f"e_{b}")]
    expected = ["id", "field", "x", "y", "ra", "dec", *flux_cols, "faper_F160W", "eaper_F160W"]
    expected += ["tot_cor", "kron_radius", "a_image", "b_image", "theta_J2000", "flux_radius"]
    expected += ["fwhm_image", "class_star", "flags", "near_star", "nexp_f160w", "star_flag"]
    expected += ["use_phot", "z_spec", "lmass"]
    assert list(cat.columns) == expected
    assert cat.attrs["bands"] == ph.BANDS
    ints = ["id", "flags", "near_star", "nexp_f160w", "star_flag", "use_phot"]
    for col in expected:
        if col in ints:
            assert cat[col].dtype == np.int64, col
        elif col != "field":
            assert cat[col].dtype == np.float64, col
    assert set(cat["field"]) == set(ph.FIELDS)
    assert not cat[[c for c in expected if c != "field"]].isna().any().any()
    t_cols = ["z_true", "lmass_true", "ssfr", "age", "av", "metallicity", "lya_escape"]
    t_cols += ["quiescent", "is_star", *(f"ftrue_{b}" for b in ph.BANDS)]
    assert list(truth.columns) == t_cols
    assert truth["quiescent"].dtype == bool and truth["is_star"].dtype == bool
    # ids run 1..n within each field; rows are grouped by field
    for _, grp in cat.groupby("field"):
        assert list(grp["id"]) == list(range(1, len(grp) + 1))
    # positions near the real field centres, ~0.2 deg across
    for field, grp in cat.groupby("field"):
        ra0, dec0 = ph._FIELD_INFO[field][:2]
        assert abs(grp["dec"].mean() - dec0) < 0.02
        assert 0.15 < grp["dec"].max() - grp["dec"].min() < 0.3


def test_coverage_minus99_and_positive_errors(big):
    (cat, _), _ = big
    goods = cat["field"].isin(["GOODS-N", "GOODS-S"])
    for band in ph.BANDS:
        f, e = cat[f"f_{band}"], cat[f"e_{band}"]
        missing = f == -99
        assert (missing == (e == -99)).all(), band
        assert (e[~missing] > 0).all(), band
        assert (f[~missing] > -99).all()
        if band in ("F435W", "F775W", "F850LP", "F105W"):
            assert missing[~goods].all() and missing[goods].mean() < 0.1, band
        elif band == "F814W":
            assert missing[goods].all() and missing[~goods].mean() < 0.1, band
        elif band == "F160W":
            assert not missing.any()
        else:
            assert 0.0 < missing.mean() < 0.1, band  # mosaic edges only
    # faint fluxes scatter below zero, as in real catalogues
    assert (cat["f_U"][cat["f_U"] != -99] < 0).any()


def test_noise_matches_errors(big):
    (cat, truth), _ = big
    good = cat["use_phot"] == 1
    for band in ("F606W", "F125W", "Ks"):
        f, e = cat[f"f_{band}"], cat[f"e_{band}"]
        ok = good & (f != -99)
        pull = (f[ok] - truth[f"ftrue_{band}"][ok]) / e[ok]
        assert abs(pull.mean()) < 0.05 and 0.9 < pull.std() < 1.1, band
    depth_sigma = 10 ** (-0.4 * (ph.DEPTHS["F160W"] - 25)) / 5
    assert (cat["e_F160W"] >= depth_sigma * 0.999).all()


def test_f160w_magnitudes_and_redshifts(big):
    (cat, truth), _ = big
    gal = ~truth["is_star"]
    mag = _mag(cat.loc[gal & (cat["use_phot"] == 1), "f_F160W"])
    q = np.percentile(mag, [1, 50, 99])
    print(f"\nF160W 1/5/25/50/75/95/99%: {np.percentile(mag, [1, 5, 25, 50, 75, 95, 99])}")
    assert 18 < q[0] < 22 and 24.5 < q[1] < 25.7 and q[2] < 26.6
    counts, edges = np.histogram(mag, bins=np.arange(18, 27.5, 0.5))
    assert 24.5 <= edges[np.argmax(counts)] <= 26.0
    z = truth.loc[gal, "z_true"]
    print(f"z 5/25/50/75/95%: {np.percentile(z, [5, 25, 50, 75, 95])}")
    assert z.min() > 0 and z.max() <= 4.0
    assert 1.0 < z.median() < 1.6 and (z > 3).mean() > 0.03 and (z < 0.5).mean() > 0.05
    frac_q = truth.loc[gal, "quiescent"].mean()
    print(f"quiescent fraction: {frac_q:.3f}")
    assert 0.02 < frac_q < 0.15
    # quiescent galaxies are the massive ones, and rarer at high z
    lm = truth["lmass_true"]
    assert truth.loc[gal & (lm > 10.5), "quiescent"].mean() > 0.2
    assert (
        truth.loc[gal & (truth["z_true"] > 2), "quiescent"].mean()
        < truth.loc[gal & (truth["z_true"] < 1), "quiescent"].mean()
    )
    err = cat.loc[gal, "lmass"] - lm[gal]
    assert 0.13 < err.std() < 0.17


def test_lyman_break_dropouts_and_4000a_break(big):
    (_, truth), _ = big
    gal = ~truth["is_star"]
    z = truth["z_true"]
    high = gal & (z > 3.5)
    assert high.sum() > 50
    assert np.median(truth.loc[high, "ftrue_U"] / truth.loc[high, "ftrue_F606W"]) < 0.1
    low = gal & (z < 2.0) & ~truth["quiescent"]
    assert np.median(truth.loc[low, "ftrue_U"] / truth.loc[low, "ftrue_F606W"]) > 0.3
    quiescent = gal & truth["quiescent"]
    colour = truth["ftrue_F160W"] / truth["ftrue_F814W"]
    at_05 = colour[quiescent & z.between(0.35, 0.65)].median()
    at_15 = colour[quiescent & z.between(1.25, 1.75)].median()
    assert at_15 > 1.5 * at_05
    sf_05 = colour[gal & ~truth["quiescent"] & z.between(0.35, 0.65)].median()
    assert at_05 > 1.5 * sf_05  # quiescent galaxies are redder at the same z


def test_h_alpha_boosts_ks_in_star_forming_galaxies(big):
    (_, truth), _ = big
    sel = (~truth["is_star"]) & truth["z_true"].between(2.1, 2.4) & ~truth["quiescent"]
    t = truth[sel]
    table = ph._flux_table(ph.BANDS)
    p = ph._sed_params(t)
    w = ph._component_weights(p)
    no_lines = w.copy()
    no_lines[:, -5:] = 0.0
    k = ph.BANDS.index("Ks")
    full = ph._table_fluxes(table, t["z_true"], t["av"], w)[:, k]
    cont = ph._table_fluxes(table, t["z_true"], t["av"], no_lines)[:, k]
    np.testing.assert_allclose(full, t["ftrue_Ks"], rtol=1e-9)
    boost = full / cont - 1
    assert np.median(boost) > 0.03
    rank = pd.Series(boost).corr(pd.Series(np.log10(t["ssfr"].to_numpy())), method="spearman")
    assert rank > 0.3


def test_catalogue_fluxes_match_galaxy_seds(big, obs_grid):
    (_, truth), _ = big
    wave, matrix = obs_grid
    t = truth[~truth["is_star"]].iloc[:150]
    seds = ph.galaxy_seds(t)
    z = t["z_true"].to_numpy()
    rest = ph.sed_grid()
    fnu = np.array([redshift_sed(rest, s, [zi], wave)[0] for s, zi in zip(seds, z, strict=True)])
    d_l = ph._luminosity_distance_mpc(z) * ph._MPC_CM
    flux = fnu_to_catalogue_flux((fnu @ matrix.T) / (4 * np.pi * d_l[:, None] ** 2))
    true = t[[f"ftrue_{b}" for b in ph.BANDS]].to_numpy()
    bright = true > 1e-3 * true.max(axis=1, keepdims=True)
    rel = np.abs(flux / true - 1)[bright]
    assert np.median(rel) < 1e-3 and np.percentile(rel, 99) < 0.02


def test_templates_mix_into_simulated_galaxies(big, obs_grid):
    wave_t, flam, names = ph.sed_templates()
    assert 6 <= len(names) <= 9 and flam.shape == (len(names), ph.sed_grid().size)
    v = (wave_t > 5400) & (wave_t < 5600)
    np.testing.assert_allclose(flam[:, v].mean(axis=1), 1.0)
    (_, truth), _ = big
    wave, matrix = obs_grid
    t = truth[~truth["is_star"]].iloc[:300]
    true = t[[f"ftrue_{b}" for b in ph.BANDS]].to_numpy()
    resid = []
    for zi, f in zip(t["z_true"].to_numpy(), true, strict=True):
        models = redshift_sed(wave_t, flam, [zi], wave)[0] @ matrix.T  # (T, K)
        sigma = f + 0.01 * f.max()  # fractional errors with a floor for dropout bands
        coef, _ = nnls((models / sigma).T, f / sigma)
        resid.append(np.sqrt(np.mean(((coef @ models - f) / sigma) ** 2)))
    median = float(np.median(resid))
    print(f"\nnnls template-mixture median fractional residual: {median:.4f}")
    assert median < 0.05


def test_stars(big):
    (cat, truth), _ = big
    stars = truth["is_star"]
    assert stars.sum() == round(0.03 * N_BIG)
    assert (cat["star_flag"] == stars.astype(int)).all()
    assert cat.loc[stars, "class_star"].median() > 0.7 > cat.loc[~stars, "class_star"].median()
    assert set(cat.loc[stars, "z_spec"]) <= {0.0, -1.0}
    assert (truth.loc[stars, "z_true"] == 0).all() and (cat.loc[stars, "use_phot"] == 0).all()
    # blackbodies: Rayleigh-Jeans in IRAC (f_nu ~ lambda^-2 at most)
    ratio = truth.loc[stars, "ftrue_IRAC2"] / truth.loc[stars, "ftrue_IRAC1"]
    assert ratio.max() < 1.0


def test_bad_photometry_rows(big):
    (cat, truth), _ = big
    bad = (cat["use_phot"] == 0) & ~truth["is_star"]
    assert bad.sum() == round(0.02 * N_BIG)
    assert (cat.loc[bad, "near_star"].eq(1) | cat.loc[bad, "flags"].ge(4)).all()
    assert (cat.loc[cat["use_phot"] == 1, "near_star"] == 0).all()
    # some fluxes scattered wildly: the worst band of a row is far beyond its error
    f = cat[[f"f_{b}" for b in ph.BANDS]].to_numpy()
    e = cat[[f"e_{b}" for b in ph.BANDS]].to_numpy()
    t = truth[[f"ftrue_{b}" for b in ph.BANDS]].to_numpy()
    worst = np.where(f != -99, np.abs(f - t) / e, 0.0).max(axis=1)
    good = (cat["use_phot"] == 1).to_numpy()
    assert np.median(worst[bad.to_numpy()]) > 5 * np.median(worst[good])


def test_spectroscopic_redshifts(big):
    (cat, truth), _ = big
    gal = ~truth["is_star"]
    has = cat["z_spec"] >= 0
    assert abs(has[gal].mean() - 0.6) < 0.03
    assert (cat.loc[~has, "z_spec"] == -1).all()
    dz = (cat.loc[has & gal, "z_spec"] - truth.loc[has & gal, "z_true"]).abs()
    assert (dz <= 0.006 * (1 + truth.loc[has & gal, "z_true"])).all()
    mag = _mag(cat["f_F160W"])
    assert mag[has & gal].median() < mag[~has & gal].median() - 0.5  # biased to bright
    few = ph.simulate_catalogue(2000, seed=2, spec_fraction=0.1, star_fraction=0.0)
    assert abs((few.catalogue["z_spec"] >= 0).mean() - 0.1) < 0.03
    none = ph.simulate_catalogue(200, seed=2, spec_fraction=0.0)
    assert (none.catalogue["z_spec"] == -1).all()


def test_irrelevant_columns_carry_no_redshift(big):
    (cat, truth), _ = big
    gal = ~truth["is_star"]
    z = truth.loc[gal, "z_true"]
    for col in ("id", "x", "y", "nexp_f160w", "theta_J2000", "flags", "kron_radius"):
        r = cat.loc[gal, col].corr(z, method="spearman")
        assert abs(r) < 0.05, col
    # sizes shrink weakly with z, as real ones do
    r_size = cat.loc[gal, "flux_radius"].corr(z, method="spearman")
    assert -0.6 < r_size < 0.05


def test_simulation_speed(big):
    _, seconds = big
    start = time.perf_counter()
    ph._flux_table.cache_clear()
    ph._flux_table(ph.BANDS)
    table_s = time.perf_counter() - start
    print(f"\n{N_BIG} galaxies: {seconds:.2f} s; flux table (once per process): {table_s:.2f} s")
    assert seconds + table_s < 30  # a loose bound: ~ 1 s on one core


def test_other_band_sets_and_small_catalogues():
    sim = ph.simulate_catalogue(50, seed=1, bands=("F606W", "F160W"), star_fraction=0.1)
    assert sim.catalogue.attrs["bands"] == ("F606W", "F160W")
    assert {"f_F606W", "e_F160W", "ftrue_F160W"} <= set(sim.catalogue) | set(sim.truth)
    assert "f_U" not in sim.catalogue and len(sim.catalogue) == 50
    one = ph.simulate_catalogue(1, seed=0, star_fraction=0.0, bad_fraction=0.0)
    assert len(one.catalogue) == 1 and not one.truth["is_star"].any()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_galaxies": 0}, ValueError, "n_galaxies"),
        ({"n_galaxies": 2.5}, TypeError, "n_galaxies"),
        ({"n_galaxies": "100"}, TypeError, "n_galaxies"),
        ({"n_galaxies": True}, TypeError, "n_galaxies"),
        ({"spec_fraction": 1.0}, ValueError, "spec_fraction"),
        ({"star_fraction": -0.1}, ValueError, "star_fraction"),
        ({"bad_fraction": "0.1"}, TypeError, "bad_fraction"),
        ({"star_fraction": 0.6, "bad_fraction": 0.5}, ValueError, "star_fraction"),
        ({"bands": ("F160W", "F999W")}, ValueError, "known bands are U, F435W"),
        ({"bands": "F160W"}, TypeError, "bands"),
        ({"bands": ("F606W", "F125W")}, ValueError, "F160W"),
        ({"bands": ("F160W", "F160W")}, ValueError, "twice"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"n_galaxies": 10} | kwargs
    n = args.pop("n_galaxies")
    with pytest.raises(error, match=match):
        ph.simulate_catalogue(n, **args)


def test_unknown_filter_name():
    with pytest.raises(ValueError, match="known bands"):
        ph.photometry_filters(["F160W", "r"])
