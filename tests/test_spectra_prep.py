"""Preprocessing of galaxy spectra (chapters A/B): cleaning, rest frame, common range,
flux-conserving resampling with ivar propagation, normalisation, the whole chain, Dn4000.

The spectra are made here (smooth continua with a 4000 A break, absorption and emission lines,
on the SDSS log-lambda grid), independent of the simulator."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from a3net.data.spectra_prep import (
    CLEANING_REASONS,
    RestFrameSpectra,
    clean_spectra,
    common_range,
    normalise,
    preprocess,
    resample,
    to_rest_frame,
)
from a3net.metrics import dn4000

SDSS_LOGLAM = np.log10(3800.0) + 1e-4 * np.arange(3832)


class Spectra(NamedTuple):  # the fields of a3net.data.spectra.GalaxySpectra
    loglam: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    and_mask: np.ndarray
    labels: pd.DataFrame
    truth: pd.DataFrame


def toy_labels(n, rng):
    logm = rng.uniform(9.0, 11.7, n)
    log_age = np.clip(0.5 + 0.35 * (logm - 10.3) + rng.normal(0, 0.25, n), -1.0, 1.1)
    log_z = np.clip(np.log10(0.02) + 0.25 * (logm - 10.3) + rng.normal(0, 0.15, n), -2.7, -1.3)
    z = rng.uniform(0.02, 0.25, n)
    return pd.DataFrame({"z": z, "age": 10**log_age, "metallicity": 10**log_z, "smass": 10**logm})


def toy_rest(loglam, labels):
    """Noiseless rest-frame f_lambda: a power law reddening with age and Z, a 4000 A break
    deepening with both, Balmer absorption strongest near 0.5 Gyr, metal lines, emission lines
    fading with age."""
    lam = 10 ** np.atleast_2d(loglam)
    la = np.log10(labels["age"].to_numpy())[:, None]
    lz = (np.log10(labels["metallicity"].to_numpy()) - np.log10(0.02))[:, None]
    f = (lam / 5000.0) ** (-2.2 + 1.1 * (la + 1) + 0.6 * lz)
    depth = np.clip(0.15 + 0.25 * (la + 1) + 0.25 * lz, 0.02, 0.8)
    f = f * (1 - depth / (1 + np.exp((lam - 4000.0) / 25.0)))
    for c in (4102.0, 4340.0, 4861.0, 6563.0):
        f = f * (1 - 0.25 * np.exp(-0.5 * ((la + 0.3) / 0.4) ** 2 - 0.5 * ((lam - c) / 6.0) ** 2))
    for c in (3934.0, 3969.0, 5175.0, 5893.0):
        d = np.clip(0.1 + 0.1 * (la + 1) + 0.1 * lz, 0, 0.6)
        f = f * (1 - d * np.exp(-0.5 * ((lam - c) / 6.0) ** 2))
    sfr = np.exp(-(10**la) / 1.5)
    for c, a in ((3727.0, 1.0), (4861.0, 0.35), (5007.0, 0.6), (6563.0, 1.0), (6583.0, 0.35)):
        f = f + 1.5 * a * sfr * np.exp(-0.5 * ((lam - c) / 3.0) ** 2)
    return f


def toy_spectra(n, seed=0, snr=10.0):
    """Observed-frame spectra on the SDSS grid with Gaussian noise: (Spectra, noiseless model)."""
    rng = np.random.default_rng(seed)
    labels = toy_labels(n, rng)
    z = labels["z"].to_numpy()[:, None]
    rest = SDSS_LOGLAM[None] - np.log10(1 + z)
    scale = 30 * (labels["smass"].to_numpy()[:, None] / 1e10) / (z / 0.1) ** 2
    model = toy_rest(rest, labels) * scale / (1 + z)
    sigma = model[:, 1500:2000].mean(axis=1, keepdims=True) / snr * np.ones_like(model)
    flux = (model + rng.normal(size=model.shape) * sigma).astype(np.float32)
    ivar = (1 / sigma**2).astype(np.float32)
    mask = np.zeros(flux.shape, dtype=np.int32)
    truth = pd.DataFrame({"snr": np.full(n, snr), "problem": [""] * n})
    return Spectra(SDSS_LOGLAM.copy(), flux, ivar, mask, labels, truth), model


# ----------------------------------------------------------------------------- cleaning


def _spoil(spectra):
    """Bad records at known rows: returns (spectra, expected counts per reason)."""
    lab = spectra.labels.copy()
    flux, ivar = spectra.flux.copy(), spectra.ivar.copy()
    lab.loc[[0, 1], "z"] = -0.01
    lab.loc[1, "smass"] = 5e13  # negative z AND too massive: counted once, under negative z
    lab.loc[[2, 3], "age"] = -1.0
    lab.loc[4, "metallicity"] = -0.02
    lab.loc[5, "smass"] = -1e10
    lab.loc[[6, 7], "smass"] = 2e13
    lab.loc[8, "z"] = 8.0
    lab.loc[9, "age"] = 20.0
    lab.loc[10, "metallicity"] = np.nan
    flux[11, 100] = np.nan
    flux[12, 50] = np.nan  # NaN where ivar = 0 is harmless: kept
    ivar[12, 50] = 0
    ivar[13] = 0
    expected = [2, 4, 2, 2, 1, 1, 1]
    return spectra._replace(labels=lab, flux=flux, ivar=ivar), expected


def test_clean_counts_each_record_once_in_the_hacks_order():
    spectra, expected = _spoil(toy_spectra(40)[0])
    spectra.and_mask[20] = 7
    cleaned, report = clean_spectra(spectra)
    assert list(report.index) == list(CLEANING_REASONS)
    assert list(report.index[:3]) == [
        "negative z",
        "negative age, metallicity or smass",
        "smass above max_smass",
    ]
    assert report["count"].tolist() == expected
    assert report.attrs == {"n_in": 40, "n_kept": 40 - sum(expected)}
    assert set(report.columns) == {"count", "description"}
    kept = np.r_[12, 14:40]
    np.testing.assert_array_equal(cleaned.flux[1:], spectra.flux[14:])
    np.testing.assert_array_equal(cleaned.ivar, spectra.ivar[kept])
    assert cleaned.and_mask[20 - 14 + 1].max() == 7  # the per-spectrum mask travels along
    assert len(cleaned.truth) == len(cleaned.labels) == len(kept)
    assert list(cleaned.labels.index) == list(range(len(kept)))
    np.testing.assert_array_equal(cleaned.labels["z"], spectra.labels["z"].to_numpy()[kept])
    np.testing.assert_array_equal(cleaned.loglam, spectra.loglam)


def test_clean_limits_are_arguments():
    spectra, _ = toy_spectra(10)
    lab = spectra.labels.copy()
    lab.loc[0, "smass"] = 2e12
    _, report = clean_spectra(spectra._replace(labels=lab), max_smass=1e12)
    assert report.loc["smass above max_smass", "count"] == 1
    _, report = clean_spectra(spectra)
    assert report["count"].sum() == 0 and report.attrs["n_kept"] == 10


def test_clean_bad_arguments():
    spectra, _ = toy_spectra(5)
    with pytest.raises(ValueError, match="lacks the columns"):
        clean_spectra(spectra._replace(labels=spectra.labels.drop(columns="age")))
    with pytest.raises(ValueError, match="labels has 4 rows"):
        clean_spectra(spectra._replace(labels=spectra.labels.iloc[:4]))
    with pytest.raises(TypeError, match="fields loglam"):
        clean_spectra({"flux": spectra.flux})


# ----------------------------------------------------------------------------- rest frame


def test_rest_frame_shift_and_flux_density_convention():
    spectra, _ = toy_spectra(6)
    z = spectra.labels["z"].to_numpy()
    rest, flux, ivar = to_rest_frame(spectra.loglam, spectra.flux, spectra.ivar, z)
    assert rest.shape == flux.shape == ivar.shape == spectra.flux.shape
    assert rest.dtype == np.float64 and flux.dtype == ivar.dtype == np.float32
    np.testing.assert_allclose(10 ** rest[:, 0] * (1 + z), 3800.0, rtol=1e-10)
    np.testing.assert_allclose(flux, spectra.flux * (1 + z)[:, None], rtol=1e-6)
    # the signal-to-noise of every pixel is unchanged, and so is the integral of f_lambda dlambda
    np.testing.assert_allclose(flux * np.sqrt(ivar), spectra.flux * np.sqrt(spectra.ivar), 1e-5)
    with pytest.raises(ValueError, match="z must hold one redshift"):
        to_rest_frame(spectra.loglam, spectra.flux, spectra.ivar, z[:3])
    with pytest.raises(ValueError, match="z must be finite"):
        to_rest_frame(spectra.loglam, spectra.flux, spectra.ivar, np.r_[np.nan, z[1:]])


def test_common_range_is_the_overlap():
    z = np.array([0.0, 0.1, 0.3])
    rest = SDSS_LOGLAM[None] - np.log10(1 + z)[:, None]
    lo, hi = common_range(rest)
    half = 0.5e-4
    assert lo == pytest.approx(SDSS_LOGLAM[0] - half, abs=1e-12)
    assert hi == pytest.approx(SDSS_LOGLAM[-1] + half - np.log10(1.3), abs=1e-12)
    ivar = np.ones(rest.shape)
    ivar[0, :40] = 0  # the first spectrum starts later, the last one ends earlier
    ivar[2, -25:] = 0
    lo2, hi2 = common_range(rest, ivar)
    assert lo2 == pytest.approx(rest[0, 40] - half, abs=1e-12)
    assert hi2 == pytest.approx(rest[2, -26] + half, abs=1e-12)
    with pytest.raises(ValueError, match="share no wavelength range"):
        common_range(SDSS_LOGLAM[None] - np.log10([[1.0], [4.0]]))
    ivar[1] = 0
    with pytest.raises(ValueError, match="ivar 0 everywhere"):
        common_range(rest, ivar)


# ----------------------------------------------------------------------------- resampling


def _bin_widths(loglam):
    mid = 0.5 * (loglam[1:] + loglam[:-1])
    edges = np.r_[2 * loglam[0] - mid[0], mid, 2 * loglam[-1] - mid[-1]]
    return np.diff(10**edges)


def test_resample_identity_and_flux_conservation():
    spectra, _ = toy_spectra(4)
    f, iv = resample(spectra.loglam, spectra.flux, spectra.ivar, spectra.loglam)
    np.testing.assert_allclose(f, spectra.flux, rtol=1e-6)
    np.testing.assert_allclose(iv, spectra.ivar, rtol=1e-6)
    # 256 bins spanning exactly the same range: the integral of f_lambda dlambda is conserved
    step = (SDSS_LOGLAM[-1] - SDSS_LOGLAM[0] + 1e-4) / 256
    new = SDSS_LOGLAM[0] - 0.5e-4 + step * (np.arange(256) + 0.5)
    f2, _ = resample(spectra.loglam, spectra.flux, spectra.ivar, new)
    before = (spectra.flux * _bin_widths(spectra.loglam)).sum(axis=1)
    after = (f2 * _bin_widths(new)).sum(axis=1)
    np.testing.assert_allclose(after, before, rtol=1e-5)


def test_resample_propagates_ivar_as_the_scatter():
    rng = np.random.default_rng(1)
    n, sigma = 3000, 0.5
    noise = rng.normal(0, 1, (n, SDSS_LOGLAM.size)) * sigma * np.linspace(0.5, 2, SDSS_LOGLAM.size)
    ivar = 1 / (sigma * np.linspace(0.5, 2, SDSS_LOGLAM.size)) ** 2 * np.ones((n, 1))
    new = np.linspace(SDSS_LOGLAM[5], SDSS_LOGLAM[-5], 300)  # bins of ~12.8 pixels, unaligned
    f, iv = resample(SDSS_LOGLAM, noise, ivar, new)
    assert np.ptp(iv, axis=0).max() < 1e-3 * iv.max()  # same ivar for every spectrum
    ratio = f.var(axis=0) * iv[0]
    assert abs(ratio.mean() - 1) < 0.01 and np.all(np.abs(ratio - 1) < 0.15)
    # two pixels into one bin of equal-variance pixels: ivar close to doubled
    pair = SDSS_LOGLAM[10:-10:2] + 0.5e-4
    _, iv2 = resample(SDSS_LOGLAM, noise[:2], np.full((2, SDSS_LOGLAM.size), 4.0), pair)
    np.testing.assert_allclose(iv2, 8.0, rtol=1e-3)


def test_resample_masked_pixels_and_empty_bins():
    flux = np.full((2, SDSS_LOGLAM.size), 3.0)
    flux[:, 1000] = 1e6  # an unflagged-looking spike in a masked pixel
    flux[:, 2000:2100] = np.nan
    ivar = np.ones_like(flux)
    ivar[:, 1000] = 0
    ivar[:, 2000:2100] = 0
    flux[:, 2100:] = 5.0
    new = SDSS_LOGLAM[::8][1:-1]
    f, iv = resample(SDSS_LOGLAM, flux, ivar, new)
    assert np.isfinite(f).all()
    k = np.argmin(np.abs(new - SDSS_LOGLAM[1000]))
    assert f[0, k] == pytest.approx(3.0)  # the masked spike is left out ...
    assert 0 < iv[0, k] < np.median(iv[0])  # ... and the bin has fewer good pixels
    empty = (new > SDSS_LOGLAM[2004]) & (new < SDSS_LOGLAM[2095])  # bins of 8 pixels
    assert empty.sum() >= 10 and np.all(iv[:, empty] == 0)
    inner = f[0, empty]  # interpolated between the good neighbours 3 and 5
    assert np.all(np.diff(inner) > 0) and 3.0 < inner.min() and inner.max() < 5.0


def test_resample_per_spectrum_grids_match_one_at_a_time():
    spectra, _ = toy_spectra(5)
    z = spectra.labels["z"].to_numpy()
    rest, flux, ivar = to_rest_frame(spectra.loglam, spectra.flux, spectra.ivar, z)
    ivar[2, 500:530] = 0
    new = np.linspace(np.log10(3600), np.log10(7300), 256)
    f, iv = resample(rest, flux, ivar, new)
    for i in range(5):
        fi, ivi = resample(rest[i], flux[i], ivar[i], new)
        np.testing.assert_allclose(f[i], fi[0], rtol=1e-6)
        np.testing.assert_allclose(iv[i], ivi[0], rtol=1e-6)
    # an emission line keeps its wavelength: the [OIII] 5007 peak lands in the bin holding 5007 A
    lam = 10**new
    window = (lam > 4950) & (lam < 5060)
    young = np.argmin(spectra.labels["age"].to_numpy())
    peak = lam[window][np.argmax(f[young, window])]
    assert abs(peak - 5007) < 0.6 * 5007 * np.log(10) * (new[1] - new[0]) + 0.5


def test_resample_bad_input():
    f = np.ones((2, SDSS_LOGLAM.size))
    with pytest.raises(ValueError, match="loglam has 3832 pixels but flux"):
        resample(SDSS_LOGLAM, f[:, :-1], f[:, :-1], SDSS_LOGLAM[::4])
    with pytest.raises(ValueError, match="same shape"):
        resample(SDSS_LOGLAM, f, f[:1], SDSS_LOGLAM[::4])
    with pytest.raises(ValueError, match="increase strictly"):
        resample(SDSS_LOGLAM[::-1], f, f, SDSS_LOGLAM[::4])
    with pytest.raises(ValueError, match="new_loglam must increase"):
        resample(SDSS_LOGLAM, f, f, SDSS_LOGLAM[::-4])
    with pytest.raises(ValueError, match="NaN or infinite"):
        resample(np.r_[np.nan, SDSS_LOGLAM[1:]], f, f, SDSS_LOGLAM[::4])
    bad = f.copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="flux is NaN or infinite at pixels with ivar > 0"):
        resample(SDSS_LOGLAM, bad, f, SDSS_LOGLAM[::4])
    with pytest.raises(ValueError, match="ivar must be finite and >= 0"):
        resample(SDSS_LOGLAM, f, -f, SDSS_LOGLAM[::4])


# ----------------------------------------------------------------------------- normalisation


def test_normalise_window_mean_is_one():
    rng = np.random.default_rng(2)
    grid = np.linspace(np.log10(3700), np.log10(7300), 256)
    lam = 10**grid
    flux = (rng.uniform(1, 50, (8, 1)) * (lam / 5000) ** rng.uniform(-2, 1, (8, 1))).astype(
        np.float32
    )
    ivar = np.full(flux.shape, 4.0, dtype=np.float32)
    out, out_iv, norm = normalise(grid, flux, ivar)
    inside = (lam >= 4400) & (lam <= 4600)
    np.testing.assert_allclose(out[:, inside].mean(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out * norm[:, None], flux, rtol=1e-5)
    np.testing.assert_allclose(out * np.sqrt(out_iv), flux * np.sqrt(ivar), rtol=1e-5)
    whole, _, _ = normalise(grid, flux, ivar, window=None)
    np.testing.assert_allclose(whole.mean(axis=1), 1.0, rtol=1e-5)
    ivar[3, inside] = 0
    with pytest.raises(ValueError, match="no pixel with ivar > 0 in the normalisation window"):
        normalise(grid, flux, ivar)
    with pytest.raises(ValueError, match="outside the wavelength range"):
        normalise(grid, flux, np.ones_like(ivar), window=(8000.0, 8200.0))
    with pytest.raises(ValueError, match="mean flux <= 0"):
        normalise(grid, -flux, np.ones_like(ivar))


# ----------------------------------------------------------------------------- the chain


def test_preprocess_chain_noise_model_and_break():
    spectra, model = toy_spectra(300, seed=3)
    spoiled, expected = _spoil(spectra)
    out, report = preprocess(spoiled, n_bins=256)
    assert isinstance(out, RestFrameSpectra)
    assert report["count"].tolist() == expected
    n = 300 - sum(expected)
    assert out.flux.shape == out.ivar.shape == (n, 256) and out.norm.shape == (n,)
    assert out.flux.dtype == out.ivar.dtype == out.norm.dtype == np.float32
    assert np.ptp(np.diff(out.loglam)) < 1e-12
    z = out.labels["z"].to_numpy()
    # the grid spans the rest range every kept spectrum covers
    assert 10 ** (out.loglam[0] - 0.5 * np.diff(out.loglam)[0]) == pytest.approx(3800 / 1.02, 1e-2)
    assert 10 ** out.loglam[-1] < 9200 / (1 + z.max())
    # normalised flux agrees with the noiseless model put through the same steps: chi2 ~ 1
    keep = np.r_[12, 14:300]
    rest, mf, mi = to_rest_frame(SDSS_LOGLAM, model[keep], spoiled.ivar[keep], z)
    mflux, _ = resample(rest, mf, mi, out.loglam)
    chi2 = ((out.flux - mflux / out.norm[:, None]) ** 2 * out.ivar).mean()
    assert 0.9 < chi2 < 1.1
    # the 4000 A break of the preprocessed spectra matches the fine rest-frame model's
    fine = np.log10(3700) + 1e-4 * np.arange(600)
    true_d = dn4000(fine, toy_rest(fine, out.labels))
    got = dn4000(out.loglam, mflux)
    np.testing.assert_allclose(got, true_d, rtol=0.01)
    assert spearmanr(dn4000(out.loglam, out.flux), out.labels["age"]).statistic > 0.8


def test_preprocess_without_cleaning_and_bad_arguments():
    spectra, _ = toy_spectra(20, seed=4)
    out, report = preprocess(spectra, n_bins=64, clean=False)
    assert len(report) == 0 and out.flux.shape == (20, 64)
    with pytest.raises(ValueError, match="n_bins"):
        preprocess(spectra, n_bins=1)
    spoiled, _ = _spoil(spectra)
    with pytest.raises(ValueError):
        preprocess(spoiled, clean=False)


# ----------------------------------------------------------------------------- Dn4000


def test_dn4000_definition():
    grid = np.log10(3700) + 1e-4 * np.arange(800)
    lam = 10**grid
    flat_fnu = lam**-2.0  # f_lambda of a flat f_nu
    assert dn4000(grid, flat_fnu)[0] == pytest.approx(1.0, rel=1e-9)
    step = np.where(lam > 3975, 1.8, 1.0) * lam**-2.0  # f_nu jumps by 1.8 at 3975 A
    assert dn4000(grid, step)[0] == pytest.approx(1.8, rel=1e-6)
    # a masked pixel in a band is left out
    ivar = np.ones(grid.size)
    spiked = step.copy()
    spiked[np.argmin(np.abs(lam - 3900))] = 1e3
    ivar[np.argmin(np.abs(lam - 3900))] = 0
    assert dn4000(grid, spiked, ivar=ivar)[0] == pytest.approx(1.8, rel=1e-6)
    with pytest.raises(ValueError, match="cover 3850-4100 A"):
        dn4000(SDSS_LOGLAM[300:], np.ones(SDSS_LOGLAM.size - 300))  # starts at 4070 A


def test_preprocess_onto_another_sets_grid():
    """A second set (e.g. a perfect generator's redraw) goes onto the first set's grid, or is
    refused when it does not cover it."""
    from a3net.data.spectra import simulate_spectra

    raw = simulate_spectra(60, seed=1, unphysical_fraction=0.0)
    first, _ = preprocess(raw, n_bins=64)
    redraw = simulate_spectra(60, seed=2, labels=first.labels, unphysical_fraction=0.0)
    second, _ = preprocess(redraw, loglam=first.loglam)
    np.testing.assert_array_equal(second.loglam, first.loglam)
    assert second.flux.shape == first.flux.shape and np.isfinite(second.flux).all()
    wider = np.linspace(first.loglam[0] - 0.05, first.loglam[-1], 64)
    with pytest.raises(ValueError, match="share only"):
        preprocess(redraw, loglam=wider)


def test_label_scaler_bin_standardiser_split_and_templates_on_grid():
    """The conditions are standardised z and log labels and invert exactly; bins are
    standardised per bin; a split is disjoint and complete; templates land on the grid's step."""
    from a3net.data.spectra import galaxy_templates, simulate_spectra
    from a3net.data.spectra_prep import (
        BinStandardiser,
        LabelScaler,
        split_spectra,
        templates_on_grid,
    )

    data, _ = preprocess(simulate_spectra(200, seed=5), n_bins=64)
    scaler = LabelScaler().fit(data.labels)
    c = scaler.transform(data.labels)
    assert c.shape == (len(data.labels), 4) and c.dtype == np.float32
    np.testing.assert_allclose(c.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(c.std(axis=0), 1, atol=1e-4)
    back = scaler.inverse(c)
    np.testing.assert_allclose(
        back.to_numpy(), data.labels[list(back.columns)].to_numpy(), rtol=1e-5
    )
    bad = data.labels.assign(age=-1.0)
    with pytest.raises(ValueError, match="positive age"):
        scaler.transform(bad)
    std = BinStandardiser().fit(data.flux)
    np.testing.assert_allclose(std.inverse(std.transform(data.flux)), data.flux, rtol=1e-5)
    train, test = split_spectra(data, test_fraction=0.25, seed=1)
    assert len(train.labels) + len(test.labels) == len(data.labels)
    assert len(test.labels) == 50 and train.flux.shape[1] == data.flux.shape[1]
    on_grid = templates_on_grid(galaxy_templates(), data.loglam)
    step = np.diff(data.loglam).mean()
    for loglam, flux, _ in on_grid.values():
        np.testing.assert_allclose(np.diff(loglam), step, rtol=1e-6)
        assert loglam[0] < data.loglam[0] and loglam[-1] > data.loglam[-1]
        assert np.all(np.isfinite(flux))
