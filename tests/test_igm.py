"""a3net.data.igm: the Inoue et al. (2014) mean IGM transmission, checked against the paper's
printed coefficients, the observed Lyman-alpha forest opacity (Faucher-Giguere et al. 2008),
continuity at the pieces' boundaries, and Madau (1995); the reader of EAZY's coefficient files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from a3net.data import eazy, igm
from a3net.data.sed import igm_model, igm_transmission, madau_igm_transmission

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "eazy_photoz"
LYA = 1215.67


@pytest.fixture(scope="module")
def coeffs():
    folder = REALDATA / "templates"
    if not (folder / "LAFcoeff.txt").is_file():
        pytest.skip(f"the shared real-data folder {folder} is absent")
    return {
        "laf": eazy.read_inoue_coefficients(folder / "LAFcoeff.txt", 3),
        "dla": eazy.read_inoue_coefficients(folder / "DLAcoeff.txt", 2),
    }


def inoue(wave, z, coeffs):
    return igm.inoue_igm_transmission(wave, z, coefficients=coeffs)


# ---------------------------------------------------------------------------- coefficient files


def test_read_real_coefficient_files(coeffs):
    lam, amp = coeffs["laf"]
    assert lam.shape == (39,) and amp.shape == (39, 3)
    assert lam[0] == pytest.approx(1215.67) and lam[-1] == pytest.approx(912.324)
    assert amp[0] == pytest.approx([1.68976e-02, 2.35379e-03, 1.02611e-04])
    lam_d, amp_d = coeffs["dla"]
    assert amp_d.shape == (39, 2) and np.array_equal(lam_d, lam)
    # The amplitudes make each line's tau continuous at x_j = 2.2, 5.7 (LAF) and 3 (DLA).
    np.testing.assert_allclose(amp[:, 1] / amp[:, 0], 2.2**-2.5, rtol=1e-5)
    np.testing.assert_allclose(amp[:, 2] / amp[:, 1], 5.7**-1.8, rtol=1e-5)
    np.testing.assert_allclose(amp_d[:, 1] / amp_d[:, 0], 1 / 3, rtol=1e-5)


def test_read_coefficients_written_here_and_bad_files(tmp_path):
    good = tmp_path / "DLA.txt"
    good.write_text("    2  1215.670 1.6E-04 5.3E-05\n    3  1025.720 1.5E-04 5.1E-05\n")
    lam, amp = eazy.read_inoue_coefficients(good, 2)
    assert lam.tolist() == [1215.67, 1025.72] and amp.shape == (2, 2)
    with pytest.raises(ValueError, match="expected rows of 5 numbers"):
        eazy.read_inoue_coefficients(good, 3)
    bad = tmp_path / "bad.txt"
    bad.write_text("2 1215.67 x 1e-4\n")
    with pytest.raises(ValueError, match="bad.txt"):
        eazy.read_inoue_coefficients(bad, 2)
    unsorted = tmp_path / "unsorted.txt"
    unsorted.write_text("2 1025.72 1e-4 1e-5\n3 1215.67 1e-4 1e-5\n")
    with pytest.raises(ValueError, match="must decrease"):
        eazy.read_inoue_coefficients(unsorted, 2)


# ---------------------------------------------------------------------------- the paper's formulas


# Inoue et al. (2014) eqs. 25 and 28 as printed: (key, printed value, significant digits).
PRINTED = [
    ("laf1_x1.2", 0.325, 3),
    ("laf2_zs", 2.55e-2, 3),
    ("laf2_x2.1_below2.2", -0.250, 3),
    ("laf2_x3.7_above2.2", -2.55e-2, 3),
    ("laf3_zs", 5.22e-4, 3),
    ("laf3_x2.1_below2.2", -3.14e-2, 3),
    ("laf3_x2.1_2.2to5.7", 0.218, 3),
    ("laf3_x3.7_2.2to5.7", -2.55e-2, 3),
    ("laf3_x5.5_above5.7", -5.22e-4, 3),
    ("dla1_zs2", 0.211, 3),
    ("dla1_zs2.3", -7.66e-2, 3),
    ("dla1_x2", -0.135, 3),
    ("dla2_const", 0.634, 3),
    ("dla2_zs3", 4.70e-2, 3),
    ("dla2_zs3.3", -1.78e-2, 3),
    ("dla2_x-0.3", -0.291, 3),
    ("dla2_x2_below3", -0.135, 3),
    ("dla2_x3_above3", -2.92e-2, 3),
]


@pytest.mark.parametrize(("key", "printed", "digits"), PRINTED)
def test_lyman_continuum_coefficients_round_to_the_printed_ones(key, printed, digits):
    value = igm.inoue_lc_coefficients()[key]
    assert float(f"{value:.{digits - 1}e}") == pytest.approx(printed, rel=1e-9), (key, value)


def _printed_lc(x, zs):
    """tau_LAF^LC + tau_DLA^LC of eqs. 25 and 28 with the printed coefficients (x >= 1), and the
    sum of the absolute values of its terms (the scale of the printed coefficients' rounding)."""
    u = 1 + zs
    if x >= u:
        return 0.0, 0.0
    if zs < 1.2:
        laf = [0.325 * x**1.2, -0.325 * u**-0.9 * x**2.1]
    elif zs < 4.7:
        if x < 2.2:
            laf = [2.55e-2 * u**1.6 * x**2.1, 0.325 * x**1.2, -0.250 * x**2.1]
        else:
            laf = [2.55e-2 * u**1.6 * x**2.1, -2.55e-2 * x**3.7]
    elif x < 2.2:
        laf = [5.22e-4 * u**3.4 * x**2.1, 0.325 * x**1.2, -3.14e-2 * x**2.1]
    elif x < 5.7:
        laf = [5.22e-4 * u**3.4 * x**2.1, 0.218 * x**2.1, -2.55e-2 * x**3.7]
    else:
        laf = [5.22e-4 * u**3.4 * x**2.1, -5.22e-4 * x**5.5]
    if zs < 2:
        dla = [0.211 * u**2, -7.66e-2 * u**2.3 * x**-0.3, -0.135 * x**2]
    elif x < 3:
        dla = [
            0.634,
            4.70e-2 * u**3,
            -1.78e-2 * u**3.3 * x**-0.3,
            -0.135 * x**2,
            -0.291 * x**-0.3,
        ]
    else:
        dla = [4.70e-2 * u**3, -1.78e-2 * u**3.3 * x**-0.3, -2.92e-2 * x**3]
    terms = np.array(laf + dla)
    return terms.sum(), np.abs(terms).sum()


@pytest.mark.parametrize("zs", [0.5, 1.5, 2.5, 3.5, 5.0, 6.5])
def test_continuum_matches_the_printed_equations(zs):
    """With no Lyman-series lines the transmission is exp(-tau_LC); tau_LC equals the printed
    formulas to their rounding (3 digits: < 4e-3 of the sum of the terms' sizes; the pieces
    cancel, e.g. 8.4 - 15.9 at z_S = 5, x = 5.69)."""
    zero = np.zeros((1, 3))
    no_lines = {"laf": (np.array([LYA]), zero), "dla": (np.array([LYA]), zero[:, :2])}
    x = np.linspace(1.01, 1 + zs - 0.01, 200)
    t = igm.inoue_igm_transmission(x * igm.INOUE_LYMAN_LIMIT, [zs], coefficients=no_lines)[0]
    printed, scale = np.array([_printed_lc(xi, zs) for xi in x]).T
    assert np.all(np.abs(-np.log(t) - printed) < 4e-3 * scale + 1e-6)


def test_lyman_series_of_one_line_follows_eq21_and_eq22(coeffs):
    one = {
        "laf": (coeffs["laf"][0][:1], coeffs["laf"][1][:1]),
        "dla": (coeffs["dla"][0][:1], coeffs["dla"][1][:1]),
    }
    a_laf, a_dla = coeffs["laf"][1][0], coeffs["dla"][1][0]
    zs = 6.0
    xj = np.array([1.5, 2.0, 2.5, 4.0, 6.0])
    none = {k: (lam, 0 * amp) for k, (lam, amp) in one.items()}  # the continuum alone
    t = igm.inoue_igm_transmission(xj * LYA, [zs], coefficients=one)[0]
    t /= igm.inoue_igm_transmission(xj * LYA, [zs], coefficients=none)[0]
    laf = np.where(
        xj < 2.2, a_laf[0] * xj**1.2, np.where(xj < 5.7, a_laf[1] * xj**3.7, a_laf[2] * xj**5.5)
    )
    dla = np.where(xj < 3, a_dla[0] * xj**2, a_dla[1] * xj**3)
    np.testing.assert_allclose(-np.log(t), laf + dla, rtol=1e-10)


# ---------------------------------------------------------------------------- physical behaviour


def test_one_redward_of_lyman_alpha_and_in_unit_interval(coeffs):
    wave = np.geomspace(500, 20000, 4000)
    z = np.linspace(0, 7, 71)
    t = inoue(wave, z, coeffs)
    assert t.shape == (z.size, wave.size)
    red = wave[None, :] >= LYA * (1 + z[:, None])
    assert np.all(t[red] == 1.0)
    assert np.all(t > 0) and np.all(t <= 1)
    forest = ~red & (wave[None, :] > np.maximum(LYA, 1000 * (1 + z[:, None])))
    assert np.all(t[forest] < 1)


def test_decreasing_with_redshift_at_fixed_rest_wavelength(coeffs):
    z = np.linspace(0.0, 6.5, 300)
    for rest in (1100.0, 1000.0, 950.0, 850.0, 700.0):
        wave = rest * (1 + z)
        t = np.array([inoue([w], [zi], coeffs)[0, 0] for w, zi in zip(wave, z, strict=True)])
        assert np.all(np.diff(t) <= 1e-12), rest
        assert np.all(np.diff(t[z > 0.2]) < 0), rest


@pytest.mark.parametrize("z", [2.0, 3.0, 4.0])
def test_forest_opacity_matches_faucher_giguere_2008(coeffs, z):
    """Mean transmission over rest 1070-1170 A (Lyman alpha only) vs exp(-tau_eff) with
    tau_eff = 0.0018 (1 + z_abs)**3.92 (FG08) over the same absorber redshifts: within 15% in
    the effective optical depth (found: +5.8%, -1.0%, -5.8% at z = 2, 3, 4)."""
    wave = np.linspace(1070, 1170, 501) * (1 + z)
    mean_t = inoue(wave, [z], coeffs)[0].mean()
    fg = np.exp(-0.0018 * (wave / LYA) ** 3.92).mean()
    assert -np.log(mean_t) == pytest.approx(-np.log(fg), rel=0.15)


def test_madau_and_inoue_agree_in_the_forest_at_z3(coeffs):
    """Mean transmission over rest 1070-1170 A at z = 3: Inoue 0.743, Madau 0.720."""
    wave = np.linspace(1070, 1170, 501) * 4.0
    t_inoue = inoue(wave, [3.0], coeffs)[0].mean()
    t_madau = madau_igm_transmission(wave, [3.0])[0].mean()
    assert abs(t_inoue - t_madau) < 0.15
    assert 0.70 < t_inoue < 0.78


def test_lyman_limit_is_dark_at_high_redshift(coeffs):
    """Mean transmission over rest 600-850 A: 0.18 at z = 3, 0.028 at z = 4, 0.0017 at z = 5."""
    rest = np.linspace(600, 850, 300)
    means = {z: inoue(rest * (1 + z), [z], coeffs)[0].mean() for z in (3.0, 4.0, 5.0, 6.0)}
    assert means[4.0] < 0.05 and means[5.0] < 0.005 and means[6.0] < 1e-4
    assert means[3.0] > means[4.0] > means[5.0] > means[6.0]


# ---------------------------------------------------------------------------- continuity


def _jump(f, at, eps=1e-9):
    lo, hi = f(at * (1 - eps)), f(at * (1 + eps))
    return abs(hi - lo) / max(lo, hi)


def test_continuous_across_the_pieces_in_wavelength(coeffs):
    laf_lam = coeffs["laf"][0]
    zs = 6.5
    t = lambda w: inoue([w], [zs], coeffs)[0, 0]  # noqa: E731
    # Lyman-series breaks of Lyman alpha/beta (x_j = 2.2, 3, 5.7) and Lyman-continuum breaks.
    for lam_j in laf_lam[:2]:
        for x in (2.2, 3.0, 5.7):
            if x * lam_j < LYA * (1 + zs):
                assert _jump(t, x * lam_j) < 1e-3, (lam_j, x)
    for x in (2.2, 3.0, 5.7):
        assert _jump(t, x * igm.INOUE_LYMAN_LIMIT) < 1e-3, x


def test_continuous_across_the_redshift_regimes(coeffs):
    """At fixed observed wavelengths below the Lyman limit of the source, tau_LC is continuous
    in z_S at 1.2, 2.0 and 4.7 (the paper's rounded coefficients jump by up to 1e-3 there)."""
    for zb in (1.2, 2.0, 4.7):
        wave = np.linspace(1.05, 1 + zb - 0.05, 50) * igm.INOUE_LYMAN_LIMIT
        lo = inoue(wave, [zb - 1e-9], coeffs)[0]
        hi = inoue(wave, [zb + 1e-9], coeffs)[0]
        assert np.max(np.abs(hi - lo) / lo) < 1e-6, zb


# ---------------------------------------------------------------------------- inputs and dispatch


@pytest.mark.parametrize(
    ("wave", "z", "match"),
    [
        (np.array([1000.0, np.nan]), [1.0], "wave_obs must be finite"),
        (np.ones((2, 3)) * 1000, [1.0], "wave_obs must be 1-D"),
        ([1000.0, 2000.0], [-0.5], "z must be finite and non-negative"),
        ([1000.0, 2000.0], [np.nan], "z must be finite and non-negative"),
        ([1000.0, 2000.0], [[1.0]], "z 1-D"),
    ],
)
def test_bad_input_gets_one_sentence(coeffs, wave, z, match):
    with pytest.raises(ValueError, match=match):
        inoue(wave, z, coeffs)
    with pytest.raises(ValueError, match=match):
        madau_igm_transmission(wave, z)


def test_bad_coefficients(coeffs):
    with pytest.raises(TypeError, match="coefficients must be a dict"):
        igm.inoue_igm_transmission([1000.0], [1.0], coefficients={"laf": coeffs["laf"]})
    with pytest.raises(ValueError, match=r"shape \(J, 3\)"):
        igm.inoue_igm_transmission(
            [1000.0], [1.0], coefficients={"laf": coeffs["dla"], "dla": coeffs["dla"]}
        )


def test_igm_model_names():
    assert igm_model(True) == igm_model("madau") == igm_model("Madau") == "madau"
    assert igm_model(np.True_) == "madau"
    assert igm_model("inoue") == "inoue"
    assert igm_model(False) is None and igm_model(None) is None
    for bad in ("meiksin", 1, 0.5):
        with pytest.raises(ValueError, match="'inoue'"):
            igm_model(bad)
    wave = np.geomspace(1000, 9000, 50)
    assert np.array_equal(igm_transmission(wave, [2.0], None), np.ones((1, 50)))
    assert np.array_equal(igm_transmission(wave, [2.0], True), madau_igm_transmission(wave, [2.0]))


def test_dispatch_uses_the_fetched_coefficients(coeffs, monkeypatch):
    monkeypatch.setattr(igm, "_default_coefficients", lambda: coeffs)
    wave = np.geomspace(1000, 9000, 50)
    np.testing.assert_array_equal(
        igm_transmission(wave, [1.0, 3.0], "inoue"), inoue(wave, [1.0, 3.0], coeffs)
    )
