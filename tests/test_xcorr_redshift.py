"""a3net.evaluation.spectra.xcorr_redshift: Tonry & Davis cross-correlation redshifts, on the
real SDSS spectra and spDR2 templates in ../shared/realdata and on spectra built from a template."""

from pathlib import Path

import numpy as np
import pytest

from a3net.data.spectra_files import read_sdss_spectrum, read_sdss_template
from a3net.evaluation.spectra import best_template_redshift, xcorr_redshift

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
SPECTRA = REALDATA / "sdss_spectra"
TEMPLATES = REALDATA / "sdss_spDR2_templates"
SPEC_FILES = [
    "spec-0266-51602-0013.fits",
    "spec-0266-51602-0056.fits",
    "spec-0266-51602-0107.fits",
    "spec-0332-52367-0639.fits",
    "NGC4636_SDSS_DR12.fits",
]


def template(number: int):
    """(log10 lambda, flux, z) of spDR2-0NN.fit."""
    return read_sdss_template(TEMPLATES / f"spDR2-{number:03d}.fit")


@pytest.fixture(scope="module")
def galaxy_templates():
    return {n: template(n) for n in range(23, 29)}  # early to late types and LRG


@pytest.fixture(scope="module")
def qso_templates():
    return {n: template(n) for n in range(29, 33)}


@pytest.mark.parametrize("name", SPEC_FILES)
def test_recovers_the_sdss_pipeline_redshift_to_1e_3(name, galaxy_templates, qso_templates):
    spectrum = read_sdss_spectrum(SPECTRA / name)
    z_pipeline, kind = spectrum.z, spectrum.spectral_class
    loglam, flux, ivar = spectrum.loglam, spectrum.flux, spectrum.ivar
    templates = galaxy_templates if kind == "GALAXY" else qso_templates
    best = best_template_redshift(loglam, flux, templates, ivar=ivar).iloc[0]
    assert abs(best["z"] - z_pipeline) < 1e-3, (name, best["z"], z_pipeline)
    assert best["r"] > 5, best  # a clear, single peak


def test_a_redshifted_template_comes_back_with_its_redshift(galaxy_templates):
    loglam, flux, z_t = galaxy_templates[24]
    z_true = 0.15
    shifted = loglam + np.log10(1 + z_true)  # the same spectrum observed at z_true
    keep = slice(300, 3800)
    rng = np.random.default_rng(0)
    noisy = flux[keep] + rng.normal(0, 0.05 * np.std(flux), flux[keep].size)
    result = xcorr_redshift(shifted[keep], noisy, loglam, flux, z_template=z_t)
    assert abs(result.z - (1 + z_true) * (1 + z_t) + 1) < 2e-5
    assert result.r > 10


def test_pure_noise_gives_a_low_r_value(galaxy_templates):
    loglam, flux, z_t = galaxy_templates[23]
    rng = np.random.default_rng(1)
    noise = rng.normal(size=3000)
    result = xcorr_redshift(loglam[500:3500] + np.log10(1.1), noise, loglam, flux)
    assert result.r < 5


def test_masked_pixels_are_ignored(galaxy_templates):
    loglam, flux, z_t = galaxy_templates[25]
    obs = loglam[200:3600] + np.log10(1.08)
    spectrum = flux[200:3600].copy()
    ivar = np.ones_like(spectrum)
    spectrum[1000:1100] = 1e6  # a cosmic ray that the mask removes
    ivar[1000:1100] = 0
    result = xcorr_redshift(obs, spectrum, loglam, flux, ivar=ivar, z_template=z_t)
    assert abs(result.z - (1.08 * (1 + z_t) - 1)) < 2e-5


def test_bad_input_gets_one_clear_sentence(galaxy_templates):
    loglam, flux, _ = galaxy_templates[23]
    with pytest.raises(ValueError, match="increase"):
        xcorr_redshift(loglam[::-1], flux, loglam, flux)
    with pytest.raises(ValueError, match="evenly spaced"):
        xcorr_redshift(10 ** (loglam - 3), flux, loglam, flux)
    with pytest.raises(ValueError, match="step"):
        xcorr_redshift(loglam[::2], flux[::2], loglam, flux)
    with pytest.raises(ValueError, match="ivar"):
        xcorr_redshift(loglam, flux, loglam, flux, ivar=np.zeros_like(flux))
    with pytest.raises(ValueError, match="templates is empty"):
        best_template_redshift(loglam, flux, {})


def test_a_featureless_spectrum_has_r_zero_not_nan():
    from a3net.data.spectra import galaxy_templates
    from a3net.evaluation.spectra import xcorr_redshift

    t_loglam, t_flux, z_t = next(iter(galaxy_templates().values()))
    loglam = t_loglam[0] + 0.02 + 1e-4 * np.arange(2000)
    flat = xcorr_redshift(loglam, np.ones(2000), t_loglam, t_flux, z_template=z_t)
    assert flat.r == 0.0
    lines = xcorr_redshift(
        loglam, np.interp(loglam, t_loglam, t_flux), t_loglam, t_flux, z_template=z_t
    )
    assert lines.r > 3  # the control: the template itself matches
