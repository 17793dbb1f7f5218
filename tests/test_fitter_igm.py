"""TemplateFitter's ``igm`` choice (True/"madau", "inoue", False/None) and redshift_sed's, on
synthetic templates (smooth continua with a 4000 A and a Lyman break) and Gaussian filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from a3net.baselines.photoz import TemplateFitter
from a3net.data import eazy, igm
from a3net.data.sed import FilterCurve, band_fluxes, redshift_sed

COEFFS = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "eazy_photoz"
LYA = 1215.67
Z = np.linspace(0.1, 5.0, 50)
REST = np.geomspace(300, 60000, 3000)
X = REST / 5000
TEMPLATES = np.array(
    [
        c * (b + (1 - b) / (1 + np.exp(-(REST - 4000) / 30))) / (1 + np.exp(-(REST - 912) / 10))
        for c, b in ((X * np.exp(-X / 3), 0.3), (X**-1.5 * np.exp(-X / 8), 0.9))
    ]
)


def _band(i, centre):
    sigma = centre / 5 / 2.355
    w = np.linspace(centre - 3.5 * sigma, centre + 3.5 * sigma, 200)
    return FilterCurve(f"G{i}", w, np.exp(-0.5 * ((w - centre) / sigma) ** 2))


FILTERS = [_band(i, c) for i, c in enumerate(np.geomspace(3600, 44000, 9))]


@pytest.fixture
def inoue_files(monkeypatch):
    """The Inoue model's coefficients from ../shared/realdata (no fetch, no cache needed)."""
    folder = COEFFS / "templates"
    if not (folder / "LAFcoeff.txt").is_file():
        pytest.skip(f"the shared real-data folder {folder} is absent")
    coeffs = {
        "laf": eazy.read_inoue_coefficients(folder / "LAFcoeff.txt", 3),
        "dla": eazy.read_inoue_coefficients(folder / "DLAcoeff.txt", 2),
    }
    monkeypatch.setattr(igm, "_default_coefficients", lambda: coeffs)
    return coeffs


def _fitter(model):
    return TemplateFitter(REST, TEMPLATES, FILTERS, z_grid=Z, igm=model, sys_error=0.0)


def _unscaled(fitter):
    return fitter.model * fitter.template_scale[None, :, None]


def test_inoue_changes_model_fluxes_only_blueward_of_lyman_alpha(inoue_files):
    fits = {m: _fitter(m) for m in ("inoue", "madau", None)}
    models = {m: _unscaled(f) for m, f in fits.items()}
    blue_edge = np.array([f.wave[0] for f in FILTERS])  # where each band's curve starts
    red = blue_edge[None, :] >= LYA * (1 + Z[:, None])  # (Z, F): band wholly redward of Ly-a
    red = np.broadcast_to(red[:, None, :], models["inoue"].shape)
    assert red.any() and (~red).any()
    for m in ("inoue", "madau"):
        np.testing.assert_allclose(models[m][red], models[None][red], rtol=1e-12)
        assert np.all(models[m] <= models[None] * (1 + 1e-12))
    # Bands reaching into the forest: absorbed, and differently by the two models.
    forest = ~red & (models[None] > 1e-6 * models[None].max())
    assert np.all(models["inoue"][forest] < models[None][forest])
    differ = np.abs(models["inoue"][forest] / models["madau"][forest] - 1)
    assert np.median(differ) > 1e-3
    assert fits["inoue"].igm == "inoue" and fits[None].igm is None


def test_true_is_madau_and_false_is_none():
    a, b = _fitter(True), _fitter("madau")
    assert a.igm == b.igm == "madau"
    np.testing.assert_array_equal(a.model, b.model)
    rng = np.random.default_rng(3)
    obs = np.geomspace(2000, 60000, 4000)
    z = rng.uniform(0.2, 4.5, 20)
    flux = band_fluxes(obs, redshift_sed(REST, TEMPLATES[0], z, obs), FILTERS)
    flux /= flux.max(axis=1, keepdims=True)
    err = 0.05 * flux.max(axis=1, keepdims=True) * np.ones_like(flux)
    flux = flux + rng.normal(size=flux.shape) * err
    np.testing.assert_array_equal(a.fit(flux, err).z_best, b.fit(flux, err).z_best)
    c, d = _fitter(False), _fitter(None)
    assert c.igm is None and d.igm is None
    np.testing.assert_array_equal(c.model, d.model)
    # the default is unchanged: Madau
    default = TemplateFitter(REST, TEMPLATES, FILTERS, z_grid=Z, sys_error=0.0)
    np.testing.assert_array_equal(default.model, a.model)


@pytest.mark.parametrize("bad", ["meiksin", "Inoue2014", 1, 0.5])
def test_unknown_igm_names_the_choices(bad):
    with pytest.raises(ValueError, match=r"igm must be True or 'madau'.*'inoue'.*False/None"):
        _fitter(bad)
    with pytest.raises(ValueError, match="'inoue'"):
        redshift_sed(REST, TEMPLATES, [1.0], REST, igm=bad)


def test_redshift_sed_igm_choices(inoue_files):
    obs = np.geomspace(3000, 20000, 500)
    z = [2.0, 3.5]
    plain = redshift_sed(REST, TEMPLATES, z, obs, igm=None)
    np.testing.assert_array_equal(plain, redshift_sed(REST, TEMPLATES, z, obs, igm=False))
    madau = redshift_sed(REST, TEMPLATES, z, obs)
    np.testing.assert_array_equal(madau, redshift_sed(REST, TEMPLATES, z, obs, igm="madau"))
    inoue = redshift_sed(REST, TEMPLATES, z, obs, igm="inoue")
    trans = igm.inoue_igm_transmission(obs, z, coefficients=inoue_files)
    np.testing.assert_allclose(inoue, plain * trans[:, None, :], rtol=1e-12)
    red = obs[None, :] >= LYA * (1 + np.array(z)[:, None])
    np.testing.assert_array_equal(
        np.broadcast_to(red[:, None], inoue.shape) * inoue,
        np.broadcast_to(red[:, None], plain.shape) * plain,
    )


def test_sdss_template_fit_inputs_converts_magnitudes_to_ab_fluxes():
    import pandas as pd

    curves = {156 + i: _band(i, c) for i, c in enumerate((3560, 4700, 6180, 7490, 8950))}
    table = pd.DataFrame(
        {
            "u": [25.04, 20.0, np.nan],
            "g": [25.0, 20.0, 21.0],
            "r": [25.0, 20.0, 21.0],
            "i": [25.0, 20.0, 21.0],
            "z": [24.98, 20.0, 21.0],
            **{f"err_{b}": [0.1, 0.01, 0.02] for b in "ugriz"},
        }
    )
    table.loc[2, "err_g"] = 0.0
    flux, err, filters = eazy.sdss_template_fit_inputs(table, filters=curves)
    # u_AB = u - 0.04 and z_AB = z + 0.02: a magnitude-25 AB source has flux 1 in every band.
    np.testing.assert_allclose(flux[0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(err[0], np.log(10) / 2.5 * 0.1, rtol=1e-12)
    np.testing.assert_allclose(flux[1], 10 ** (-0.4 * (np.array([-0.04, 0, 0, 0, 0.02]) - 5)))
    np.testing.assert_allclose(err[1] / flux[1], 0.4 * np.log(10) * 0.01)
    assert flux[2, 0] == err[2, 0] == -99.0 and flux[2, 1] == err[2, 1] == -99.0
    assert [f.name for f in filters] == ["G0", "G1", "G2", "G3", "G4"]
    with pytest.raises(ValueError, match="err_u"):
        eazy.sdss_template_fit_inputs(table.drop(columns="err_u"), filters=curves)
    with pytest.raises(ValueError, match="156-160"):
        eazy.sdss_template_fit_inputs(table, filters={1: curves[156]})
