"""a3net.data.spectra: the SDSS-like galaxy-spectrum simulator (physics, noise, masks, labels,
templates, validation by cross-correlation against its own and the real SDSS spDR2 templates)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from a3net.data import spectra as S
from a3net.data.spectra_files import read_sdss_template
from a3net.metrics import best_template_redshift

TEMPLATES = (
    Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "sdss_spDR2_templates"
)
N = 600


@pytest.fixture(scope="module")
def sim():
    return S.simulate_spectra(N, seed=3)


@pytest.fixture(scope="module")
def twin():
    """The noiseless version of ``sim`` (same labels, truth, ivar and mask)."""
    return S.simulate_spectra(N, seed=3, noise=False)


@pytest.fixture(scope="module")
def good(sim):
    keep = (sim.truth["problem"] == "").to_numpy()
    return sim.labels[keep].reset_index(drop=True), sim.truth[keep].reset_index(drop=True), keep


@pytest.fixture(scope="module")
def rest(good):
    labels, truth, _ = good
    loglam, flux = S.rest_frame_spectra(labels, truth=truth)
    return 10**loglam, flux


def dn4000(lam, flux):
    """Balogh et al. (1999): mean f_nu over 4000-4100 A / over 3850-3950 A (rest frame)."""
    fnu = flux * lam**2
    red, blue = (lam > 4000) & (lam < 4100), (lam > 3850) & (lam < 3950)
    return fnu[..., red].mean(-1) / fnu[..., blue].mean(-1)


def equivalent_width(lam, flux, centre, half=10.0):
    """Emission-positive equivalent width [A] in centre +- half against side bands."""
    flux = np.atleast_2d(flux)
    line = np.abs(lam - centre) < half
    side = (np.abs(lam - centre) > 25) & (np.abs(lam - centre) < 60)
    cont = flux[:, side].mean(1, keepdims=True)
    return ((flux[:, line] - cont) / cont).sum(1) * np.gradient(lam)[line].mean()


def one_galaxy(n, *, age=8.0, metallicity=0.02, smass=1e11, z=0.1, x=14.0, tau_v=0.0,
               sigma_v=150.0, sfr=0.0):  # fmt: skip
    """Labels and truth of ``n`` copies of one galaxy; keyword arrays vary one thing."""
    cols = dict(age=age, metallicity=metallicity, smass=smass, z=z, x=x, tau_v=tau_v,
                sigma_v=sigma_v, sfr=sfr)  # fmt: skip
    df = pd.DataFrame({k: np.broadcast_to(v, n) for k, v in cols.items()})
    frac = np.interp(df["x"], *S._age_fraction_table())
    t_form = df["age"] / frac
    labels = df[["z", "age", "metallicity", "smass"]]
    truth = pd.DataFrame({"tau_v": df["tau_v"], "sigma_v": df["sigma_v"], "sfr_recent": df["sfr"],
                          "tau_sf": t_form / df["x"], "t_form": t_form})  # fmt: skip
    return labels, truth


# ----------------------------------------------------------------------------- format


def test_observed_grid_is_sdss_like():
    loglam = S.observed_loglam()
    assert loglam.dtype == np.float64
    assert np.allclose(np.diff(loglam), 1e-4)
    assert abs(10 ** loglam[0] - 3800) < 1e-6 and 9199 < 10 ** loglam[-1] <= 9200
    assert loglam.size == 3841
    with pytest.raises(ValueError, match="lo < hi"):
        S.observed_loglam(5000, 4000)


def test_shapes_dtypes_and_columns(sim):
    n, length = sim.flux.shape
    assert (n, length) == (N, S.observed_loglam().size)
    assert sim.flux.dtype == sim.ivar.dtype == np.float32 and sim.and_mask.dtype == np.int32
    assert sim.ivar.shape == sim.and_mask.shape == sim.flux.shape
    assert tuple(sim.labels.columns) == S.SPECTRUM_LABELS and len(sim.labels) == N
    assert set(S.TRUTH_COLUMNS) <= set(sim.truth.columns) and len(sim.truth) == N
    assert np.isfinite(sim.flux).all() and (sim.ivar >= 0).all()


def test_same_seed_same_arrays_other_seed_others():
    a, b = S.simulate_spectra(40, seed=11), S.simulate_spectra(40, seed=11)
    for name in ("flux", "ivar", "and_mask"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = S.simulate_spectra(40, seed=12)
    assert not np.allclose(a.labels["z"], c.labels["z"])


# ----------------------------------------------------------------------------- physics


def test_dn4000_rises_with_age(rest, good):
    lam, flux = rest
    labels, _, _ = good
    d = dn4000(lam, flux)
    assert spearmanr(d, labels["age"])[0] > 0.8
    assert 1.0 < np.percentile(d, 2) and np.percentile(d, 98) < 2.4  # the SDSS range
    # a new galaxy drawn for the same labels ("perfect generator") keeps the relation
    loglam, redrawn = S.rest_frame_spectra(labels, seed=5)
    assert spearmanr(dn4000(10**loglam, redrawn), labels["age"])[0] > 0.8


def test_old_ssp_break_and_its_metallicity_dependence():
    labels, truth = one_galaxy(4, metallicity=np.array([0.005, 0.01, 0.02, 0.04]), age=10.0)
    loglam, flux = S.rest_frame_spectra(labels, truth=truth)
    d = dn4000(10**loglam, flux)
    assert np.all(np.diff(d) > 0)
    assert 1.8 < d[2] < 2.2  # an old solar population (BC03: about 2)


def test_balmer_absorption_peaks_at_a_few_hundred_myr():
    ages = np.array([0.05, 0.15, 0.4, 0.8, 2.0, 5.0, 11.0])
    labels, truth = one_galaxy(ages.size, age=ages, x=15.0)
    loglam, flux = S.rest_frame_spectra(labels, truth=truth)
    hdelta = -equivalent_width(10**loglam, flux, 4102.89, half=20.0)  # absorption > 0
    assert 0.3 <= ages[np.argmax(hdelta)] <= 1.0
    assert hdelta.max() > 3 * hdelta[-1] > 0


def test_metal_line_deepens_with_metallicity_at_fixed_age():
    metallicity = np.array([0.005, 0.008, 0.012, 0.02, 0.03, 0.045])
    labels, truth = one_galaxy(metallicity.size, metallicity=metallicity)
    loglam, flux = S.rest_frame_spectra(labels, truth=truth)
    mgb = -equivalent_width(10**loglam, flux, 5177.0, half=12.0)
    assert np.all(np.diff(mgb) > 0) and mgb[0] > 0


def test_halpha_tracks_recent_star_formation(rest, good):
    lam, flux = rest
    labels, truth, _ = good
    ssfr = truth["sfr_recent"] / labels["smass"]
    ew = equivalent_width(lam, flux, 6564.61)
    active = (ssfr > 10**-10.8).to_numpy()
    quiet = (ssfr < 10**-11.2).to_numpy()
    assert active.sum() > 50 and quiet.sum() > 50
    # line flux (EW x continuum x 4 pi D_L^2) is proportional to the SFR (Kennicutt 1998)
    cont = flux[:, (lam > 6500) & (lam < 6530)].mean(1)
    luminosity = ew * cont / S._distance_factor(labels["z"].to_numpy())
    luminosity *= np.exp(truth["tau_v"] / 0.44 * S._calzetti(6564.61))  # the lines' dust
    assert spearmanr(luminosity[active], truth["sfr_recent"][active])[0] > 0.95
    assert spearmanr(ew[active], ssfr[active])[0] > 0.5  # the EW follows the specific SFR
    assert np.all(ew[active] > 3)
    assert np.all(ew[quiet] < 0)  # quiescent: only the stellar absorption line


def test_dust_reddens_and_dispersion_broadens():
    labels, truth = one_galaxy(3, tau_v=np.array([0.0, 0.5, 1.0]), age=3.0, x=1.0, sfr=1.0)
    loglam, flux = S.rest_frame_spectra(labels, truth=truth)
    lam = 10**loglam
    colour = flux[:, np.abs(lam - 4500) < 50].mean(1) / flux[:, np.abs(lam - 7000) < 50].mean(1)
    assert np.all(np.diff(colour) < 0)
    balmer = equivalent_width(lam, flux, 6564.61, 12) / equivalent_width(lam, flux, 4862.68, 12)
    assert np.all(np.diff(balmer) > 0)  # the Balmer decrement grows with dust
    labels, truth = one_galaxy(3, sigma_v=np.array([80.0, 160.0, 300.0]))
    loglam, flux = S.rest_frame_spectra(labels, truth=truth)
    lam = 10**loglam
    ew = equivalent_width(lam, flux, 5177.0, 30.0)
    depth = flux[:, np.abs(lam - 5177) < 15].min(1) / flux[:, np.abs(lam - 5230) < 10].mean(1)
    assert np.all(np.diff(depth) > 0)  # shallower lines ...
    assert np.ptp(ew) < 0.1 * abs(ew.mean())  # ... of the same strength


def test_lines_sit_at_the_redshifted_wavelength(twin, good):
    _, truth, keep = good
    lam = 10**twin.loglam
    z = twin.labels["z"].to_numpy()[keep]
    flux = twin.flux[keep]
    strong = np.flatnonzero(truth["sfr_recent"] / twin.labels["smass"][keep] > 1e-10)[:30]
    for i in strong:
        window = np.abs(lam - 6564.61 * (1 + z[i])) < 8
        peak = lam[window][np.argmax(flux[i, window])]
        assert abs(peak / (1 + z[i]) - 6564.61) < 1.0


# ----------------------------------------------------------------------------- noise


def test_ivar_matches_the_scatter(sim, twin):
    assert np.array_equal(sim.ivar, twin.ivar) and np.array_equal(sim.and_mask, twin.and_mask)
    good = sim.ivar > 0
    chi2 = ((sim.flux - twin.flux) ** 2 * sim.ivar)[good]
    assert abs(chi2.mean() - 1) < 0.01


def test_signal_to_noise_is_sdss_like_and_scales(sim):
    snr = sim.truth["snr"]
    assert 8 < snr.median() < 20 and snr.quantile(0.1) > 3 and snr.quantile(0.9) < 45
    double = S.simulate_spectra(30, seed=3, snr_scale=2.0)
    base = S.simulate_spectra(30, seed=3)
    assert np.allclose(double.truth["snr"], 2 * base.truth["snr"], rtol=1e-5)
    good = base.ivar > 0
    assert np.allclose(double.ivar[good], 4 * base.ivar[good], rtol=1e-5)
    lam = 10**sim.loglam
    median = np.median(sim.flux[:, (lam > 6000) & (lam < 6500)], axis=1)
    assert 10 < np.median(median) < 100  # r-band-like flux [1e-17 erg/s/cm2/A]


def test_masked_pixels_have_no_weight(sim):
    masked = sim.and_mask > 0
    assert masked.any() and (sim.ivar[masked] == 0).all() and (sim.ivar[~masked] > 0).all()
    assert masked.mean() < 0.02
    lam = 10**sim.loglam
    at_5578 = np.argmin(np.abs(lam - 5578.9))
    assert (sim.and_mask[:, at_5578] & S.MASK_BITS["BRIGHTSKY"]).all()
    rejected = (sim.and_mask & S.MASK_BITS["FULLREJECT"]) > 0
    assert rejected.any() and (sim.flux[rejected] == 0).all()


# ----------------------------------------------------------------------------- labels


def test_labels_are_jointly_realistic(good):
    labels, truth, _ = good
    log_m = np.log10(labels["smass"])
    assert log_m.min() >= 9 and log_m.max() <= 11.7 and 10.3 < log_m.median() < 10.9
    assert labels["z"].between(0.02, 0.25).all()
    assert spearmanr(labels["age"], log_m)[0] > 0.3  # downsizing
    assert spearmanr(labels["metallicity"], log_m)[0] > 0.3  # mass-metallicity
    assert spearmanr(labels["z"], log_m)[0] > 0.2  # flux limit
    heavy = log_m > 10.9
    assert truth["quiescent"][heavy].mean() > truth["quiescent"][log_m < 10.3].mean() + 0.3
    assert spearmanr(truth["sigma_v"], log_m)[0] > 0.8
    assert truth["sigma_v"].quantile(0.05) > 50 and truth["sigma_v"].quantile(0.95) < 350
    star_forming = ~truth["quiescent"]
    assert spearmanr(truth["tau_v"][star_forming], truth["sfr_recent"][star_forming])[0] > 0.5
    # the age label is the mass-weighted age of the SFH the spectrum was made from
    x = truth["t_form"] / truth["tau_sf"]
    assert np.allclose(truth["t_form"] * (1 - S._mean_time_fraction(x)), labels["age"])


def test_sfh_mass_and_age_are_exact():
    age, x, mass = np.array([1.0, 5.0, 9.0]), np.array([0.5, 3.0, 12.0]), np.full(3, 1e10)
    masses, t_form, tau, sfr = S._sfh_masses(age, x, mass)
    assert np.allclose(masses.sum(1), mass)
    t = np.linspace(0, 1, 200001)[:, None] * t_form  # time since formation
    rate = t * np.exp(-t / tau)
    lookback = t_form - t
    assert np.allclose((rate * lookback).sum(0) / rate.sum(0), age, rtol=1e-4)
    assert np.all(np.diff(sfr) < 0)


@pytest.mark.parametrize("n, fraction", [(2100, 0.05), (500, 0.01)])
def test_unphysical_records_as_requested(n, fraction):
    spectra = S.simulate_spectra(n, seed=1, unphysical_fraction=fraction, z_range=(0.02, 0.1))
    problem, labels = spectra.truth["problem"], spectra.labels
    counts = problem.value_counts()
    n_bad = round(fraction * n)
    assert (problem != "").sum() == n_bad
    if n == 2100:
        assert counts[S.PROBLEMS[0]] == 5 and counts[S.PROBLEMS[1]] == 95
        assert counts[S.PROBLEMS[2]] == 5
    assert (labels["z"][problem == S.PROBLEMS[0]] < 0).all()
    assert (labels.loc[problem == S.PROBLEMS[1], ["age", "metallicity", "smass"]] < 0).all().all()
    assert (labels["smass"][problem == S.PROBLEMS[2]] > 1e13).all()
    fine = labels[problem == ""]
    assert (fine > 0).all().all() and (fine["smass"] < 1e12).all()
    # the spectra stay physical-looking: no record stands out by its flux
    bad = (problem != "").to_numpy()
    assert np.median(spectra.flux[bad]) > 0.2 * np.median(spectra.flux[~bad])
    none = S.simulate_spectra(50, seed=1, unphysical_fraction=0.0)
    assert (none.truth["problem"] == "").all()


# ----------------------------------------------------------------------------- validation


def test_xcorr_with_own_templates_recovers_redshift(sim, good):
    templates = S.galaxy_templates()
    _, _, keep = good
    rows = np.flatnonzero(keep)[:100]
    z = np.array([best_template_redshift(sim.loglam, sim.flux[i], templates,
                                         ivar=sim.ivar[i]).iloc[0]["z"] for i in rows])  # fmt: skip
    error = np.abs(z - sim.labels["z"].to_numpy()[rows])
    assert np.mean(error < 1e-3) > 0.95


def test_real_sdss_templates_cross_correlate(sim, good):
    templates = {n: read_sdss_template(TEMPLATES / f"spDR2-{n:03d}.fit") for n in range(23, 29)}
    _, _, keep = good
    rows = np.flatnonzero(keep)[:50]
    best = [best_template_redshift(sim.loglam, sim.flux[i], templates, ivar=sim.ivar[i]).iloc[0]
            for i in rows]  # fmt: skip
    r = np.array([b["r"] for b in best])
    error = np.abs(np.array([b["z"] for b in best]) - sim.labels["z"].to_numpy()[rows])
    assert np.mean(r > 3) > 0.9 and np.mean(error < 1e-3) > 0.9


def test_templates_run_from_early_to_late_type():
    templates = S.galaxy_templates()
    assert tuple(templates) == S.TEMPLATE_NAMES
    loglam = S.rest_loglam()
    for grid, flux, z in templates.values():
        assert np.array_equal(grid, loglam) and z == 0.0 and abs(np.median(flux) - 1) < 1e-6
    lam = 10**loglam
    d = np.array([dn4000(lam, f) for _, f, _ in templates.values()])
    halpha = np.array([equivalent_width(lam, f, 6564.61)[0] for _, f, _ in templates.values()])
    assert np.all(np.diff(d) < 0) and halpha[0] < 0 < halpha[-1]
    assert np.allclose(np.diff(loglam), 1e-4) and lam[0] < 3800 / 1.25 and lam[-1] > 9150
    assert list(S.galaxy_templates(names="Sb")) == ["Sb"]


def test_rest_frame_spectra_on_a_coarse_grid_conserve_flux(good):
    labels, truth, _ = good
    fine_grid, fine = S.rest_frame_spectra(labels[:5], truth=truth[:5])
    coarse_grid = np.linspace(np.log10(3600), np.log10(7000), 256)
    grid, coarse = S.rest_frame_spectra(labels[:5], truth=truth[:5], loglam=coarse_grid)
    assert np.array_equal(grid, coarse_grid) and coarse.shape == (5, 256)
    assert coarse.dtype == np.float32
    half = (coarse_grid[1] - coarse_grid[0]) / 2
    inside = (fine_grid > coarse_grid[0] - half) & (fine_grid < coarse_grid[-1] + half)
    assert np.allclose(coarse.mean(1), fine[:, inside].mean(1), rtol=2e-3)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0), "n must be"),
        (dict(n=2.5), "n must be"),
        (dict(n=5, z_range=(0.2, 0.1)), "z_range"),
        (dict(n=5, z_range=(-0.1, 0.2)), "z_range"),
        (dict(n=5, z_range=(0.1, 0.9)), "z_range"),
        (dict(n=5, z_range=0.1), "z_range"),
        (dict(n=5, snr_scale=0), "snr_scale"),
        (dict(n=5, unphysical_fraction=2), "unphysical_fraction"),
        (dict(n=5, seed=-1), "seed"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    n = kwargs.pop("n")
    with pytest.raises(ValueError, match=match):
        S.simulate_spectra(n, **kwargs)


def test_bad_labels_grids_and_names(good):
    labels, _, _ = good
    with pytest.raises(TypeError, match="DataFrame"):
        S.rest_frame_spectra(labels.to_numpy())
    with pytest.raises(ValueError, match="lacks the columns"):
        S.rest_frame_spectra(labels.drop(columns="age"))
    bad = labels.copy()
    bad.loc[0, "smass"] = -1.0
    with pytest.raises(ValueError, match="smass"):
        S.rest_frame_spectra(bad)
    with pytest.raises(ValueError, match="within the rest model"):
        S.rest_frame_spectra(labels[:2], loglam=np.log10([2000.0, 5000.0]))
    with pytest.raises(ValueError, match="increasing"):
        S.rest_frame_spectra(labels[:2], loglam=np.log10([5000.0, 4000.0]))
    with pytest.raises(ValueError, match="names must be"):
        S.galaxy_templates(names=["spiral"])


def test_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("A3NET_DATA", str(tmp_path))
    first = S.simulate_spectra(20, seed=4, cache=True)
    files = list((tmp_path / "simulated").glob("spectra-20-*.npz"))
    assert len(files) == 1
    again = S.simulate_spectra(20, seed=4, cache=True)
    assert np.array_equal(first.flux, again.flux) and np.array_equal(first.and_mask, again.and_mask)
    pd.testing.assert_frame_equal(first.labels, again.labels)
    pd.testing.assert_frame_equal(first.truth, again.truth, check_dtype=False)
    S.simulate_spectra(20, seed=5, cache=True)
    assert len(list((tmp_path / "simulated").glob("spectra-20-*.npz"))) == 2


def test_a_redraw_for_given_labels_keeps_them_and_draws_the_hidden_state_given_them():
    """simulate_spectra(labels=...) observes new galaxies with those labels (a perfect
    generator): the labels come back unchanged, and quiescence follows the age at fixed mass."""
    from a3net.data.spectra import simulate_spectra

    first = simulate_spectra(2000, seed=3, unphysical_fraction=0.0)
    redraw = simulate_spectra(2000, seed=4, labels=first.labels, unphysical_fraction=0.0)
    pd.testing.assert_frame_equal(redraw.labels, first.labels[list(redraw.labels.columns)])
    assert not np.allclose(redraw.flux, first.flux)
    agree = (redraw.truth["quiescent"] == first.truth["quiescent"]).mean()
    assert agree > 0.8, agree  # the age tells quiescent from star-forming at fixed mass
    with pytest.raises(ValueError, match="n must be len"):
        simulate_spectra(10, labels=first.labels, unphysical_fraction=0.0)
