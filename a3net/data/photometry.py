"""A deep multi-band galaxy catalogue like CANDELS/3D-HST (Skelton et al. 2014): the offline
default data of chapter C (photometric redshifts), seeded and vectorised.

Rest-frame SEDs (``galaxy_seds``) are sums of physical parts on one log-uniform grid
(``sed_grid``, 400-60,000 A, d ln(lambda) = 0.002, R = 500), in L_lambda [erg/s/A]:

* an evolved stellar population of mass-weighted age ``age``: a mix of three blackbodies
  (main-sequence turn-off, T = 6000 K (age / 10 Gyr)^-0.2; giants, 4300 K; cool giants and AGB,
  3000 K, which make the 1.6 micron bump), times a metal-line blanketing step at 4000 A whose
  depth is solved so that D4000 (Balogh et al. 1999 narrow definition) grows from 1.12 at 0.1 Gyr
  to 2.15 at 13.5 Gyr, and a Balmer break at 3646 A strongest at ages 0.2-1 Gyr. It is stored at
  nine ages (0.1-13.5 Gyr) and interpolated linearly in log age (a two-burst mix), and scaled by a
  single-burst mass-to-light ratio M/L_V = 3.0 (age / 10 Gyr)^0.85 (Bruzual & Charlot 2003,
  Chabrier IMF, roughly);
* young stars (formed over the last 100 Myr at the current SFR): f_lambda ~ lambda^-2.35 in the
  UV (intrinsic beta; Calzetti dust reddens it to the observed beta ~ -2.3 to -1.5), a weak Balmer
  break and red supergiants, L_nu(1500 A) = 1.13e28 erg/s/Hz per Msun/yr (Kennicutt 1998 for a
  Chabrier IMF);
* the intrinsic Lyman break: 2% of the stellar continuum escapes below 912 A (rest), falling
  further to shorter wavelengths;
* emission lines with luminosities tied to the SFR: L(H-alpha) = 2.0e41 erg/s per Msun/yr
  (Kennicutt 1998, Chabrier), case-B hydrogen ratios (H-beta to H-delta, Pa-alpha, Pa-beta),
  [OII]3727 = 3 H-beta, [SII], [SIII]; [NII]/H-alpha and [OIII]/H-beta from the metallicity
  through the N2 and O3N2 calibrations of Pettini & Pagel (2004); Ly-alpha = 8.7 H-alpha times an
  escape fraction. At sSFR = 1e-9/yr EW(H-alpha) is then ~ 170 A intrinsic and ~ 110 A after
  dust at A_V = 0.8 (lines suffer more dust than stars), growing ~ linearly with sSFR below that
  and more slowly above, where young stars dominate the continuum too;
* dust: the Calzetti et al. (2000) law (R_V = 4.05) on the stars, and A_V / 0.6 on the nebular
  lines (Calzetti's 0.44 and Kashino et al. 2013's ~ 0.7 bracket the ratio); Ly-alpha's escape
  fraction already includes its dust.

Simplifications: analytic shapes, not stellar-population synthesis (no absorption lines besides
the two breaks, no metallicity effect on the continuum, no nebular continuum, no 2175 A bump, no
AGN, no dust emission in IRAC); a galaxy is an evolved population plus a constant-SFR young one.

``simulate_catalogue`` draws galaxies from a stellar-mass function in a flat LambdaCDM volume
(H0 = 70, Om0 = 0.3; numeric integral, checked against astropy in the tests), gives each a
state, SFR, age, dust and metallicity, sees them through 13 filters with the Madau (1995) IGM,
adds noise at 3D-HST-like depths, keeps those detected in F160W and writes a 3D-HST-style
catalogue plus the truth. Redshifting uses precomputed band-flux tables, see ``_flux_table``.
"""

from __future__ import annotations

import functools
import numbers
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._validation import check_memory, check_positive_int, check_seed
from .sed import (
    C_ANGSTROM_PER_S,
    FilterCurve,
    band_flux_matrix,
    fnu_to_catalogue_flux,
    madau_igm_transmission,
)

__all__ = [
    "BANDS",
    "DEPTHS",
    "FIELDS",
    "SimulatedCatalogue",
    "galaxy_band_fluxes",
    "galaxy_seds",
    "photometry_filters",
    "sed_grid",
    "sed_templates",
    "simulate_catalogue",
]

BANDS = (
    "U",
    "F435W",
    "F606W",
    "F775W",
    "F814W",
    "F850LP",
    "F105W",
    "F125W",
    "F140W",
    "F160W",
    "Ks",
    "IRAC1",
    "IRAC2",
)
"""The 13 bands of the simulated catalogue, in wavelength order (3D-HST names)."""

# name: (blue and red half-power wavelengths [A], edge width as a fraction of the wavelength,
# peak throughput). Smooth approximations of the real curves (ground U such as CFHT u* or
# VIMOS U, HST ACS and WFC3/IR, ground Ks, Spitzer IRAC 3.6 and 4.5 micron).
_FILTER_SPECS = {
    "U": (3300.0, 4000.0, 0.020, 0.35),
    "F435W": (3600.0, 4860.0, 0.012, 0.40),
    "F606W": (4700.0, 7200.0, 0.012, 0.45),
    "F775W": (6800.0, 8600.0, 0.012, 0.40),
    "F814W": (6900.0, 9600.0, 0.012, 0.40),
    "F850LP": (8300.0, 10500.0, 0.015, 0.30),
    "F105W": (9000.0, 12100.0, 0.010, 0.50),
    "F125W": (10900.0, 14100.0, 0.010, 0.52),
    "F140W": (11900.0, 16000.0, 0.010, 0.55),
    "F160W": (13900.0, 17000.0, 0.010, 0.55),
    "Ks": (19900.0, 23100.0, 0.015, 0.70),
    "IRAC1": (31500.0, 39500.0, 0.020, 0.50),
    "IRAC2": (39500.0, 50500.0, 0.020, 0.55),
}

DEPTHS = {
    "U": 26.5,
    "F435W": 27.0,
    "F606W": 27.2,
    "F775W": 26.8,
    "F814W": 26.5,
    "F850LP": 26.5,
    "F105W": 26.5,
    "F125W": 26.3,
    "F140W": 25.8,
    "F160W": 26.4,
    "Ks": 24.5,
    "IRAC1": 24.5,
    "IRAC2": 24.3,
}
"""5-sigma point-source depths (AB magnitudes, 0.7 arcsec apertures), the same in every field."""

_CALIBRATION_FLOOR = {band: 0.03 for band in BANDS} | {"U": 0.05, "Ks": 0.05}
_CALIBRATION_FLOOR |= {"IRAC1": 0.05, "IRAC2": 0.05}
_GOODS_ONLY = frozenset({"F435W", "F775W", "F850LP", "F105W"})
_WIDE_ONLY = frozenset({"F814W"})
_DETECTION_BAND = "F160W"

FIELDS = ("AEGIS", "COSMOS", "GOODS-N", "GOODS-S", "UDS")
"""The five 3D-HST fields."""

# field: RA, Dec of the centre [deg] and science area [arcmin^2] (Skelton et al. 2014, Table 1)
_FIELD_INFO = {
    "AEGIS": (214.65, 52.65, 192.4),
    "COSMOS": (150.129167, 2.4, 183.9),
    "GOODS-N": (188.979083, 62.197583, 157.8),
    "GOODS-S": (53.125, -27.788611, 171.0),
    "UDS": (34.454167, -5.200556, 191.2),
}
_PIXEL_SCALE = 0.06  # arcsec per pixel of the 3D-HST mosaics
_FIELD_WIDTH_PX, _FIELD_HEIGHT_PX, _FIELD_MARGIN_PX = 13200.0, 12000.0, 200.0  # 0.22 x 0.2 deg
_PSF_FWHM_ARCSEC = 0.18  # F160W

# ---------------------------------------------------------------------------------------------
# Cosmology (flat LambdaCDM, H0 = 70, Om0 = 0.3), on a fine grid
_H0, _OM0 = 70.0, 0.3
_HUBBLE_DISTANCE_MPC = 299792.458 / _H0
_HUBBLE_TIME_GYR = 977.792 / _H0
_MPC_CM = 3.085677581e24


@functools.lru_cache(maxsize=1)
def _distance_grid() -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(0.0, 7.0, 14001)
    inv_e = 1.0 / np.sqrt(_OM0 * (1 + z) ** 3 + 1 - _OM0)
    dc = np.concatenate([[0.0], np.cumsum(0.5 * (inv_e[1:] + inv_e[:-1]) * np.diff(z))])
    return z, dc * _HUBBLE_DISTANCE_MPC


def _comoving_distance_mpc(z) -> np.ndarray:
    zg, dc = _distance_grid()
    return np.interp(z, zg, dc)


def _luminosity_distance_mpc(z) -> np.ndarray:
    """Luminosity distance [Mpc] in flat LambdaCDM (H0 = 70, Om0 = 0.3)."""
    z = np.asarray(z, dtype=float)
    return (1 + z) * _comoving_distance_mpc(z)


def _age_of_universe_gyr(z) -> np.ndarray:
    """Cosmic time at redshift z [Gyr], flat LambdaCDM (analytic)."""
    ol = 1 - _OM0
    x = np.sqrt(ol / _OM0) * (1 + np.asarray(z, dtype=float)) ** -1.5
    return 2 / (3 * np.sqrt(ol)) * _HUBBLE_TIME_GYR * np.arcsinh(x)


# ---------------------------------------------------------------------------------------------
# Filters and wavelength grids
_DLNL = 0.002  # d ln(lambda) of the SED grid: R = 500
_LAM0 = 400.0  # A, first wavelength of the grid
_N_REST = 2506  # up to 59,960 A
_Z_STEP_PIX = 2  # the redshift grid of the flux tables moves SEDs by 2 pixels per step
_Z_TABLE_MAX = 4.5
_N_Z = int(np.ceil(np.log1p(_Z_TABLE_MAX) / (_Z_STEP_PIX * _DLNL))) + 1
_AV_STEP = 0.25
_AV_GRID = np.arange(0.0, 4.0 + 1e-9, _AV_STEP)
_Z_MIN, _Z_MAX = 0.02, 4.0  # redshift range of the simulated galaxies


def _known_bands(bands, name: str = "bands") -> tuple[str, ...]:
    if isinstance(bands, str):
        raise TypeError(f"{name} must be a sequence of band names such as BANDS, not one string.")
    try:
        bands = tuple(bands)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of band names, got {bands!r}.") from None
    if not bands:
        raise ValueError(f"{name} must name at least one band, e.g. BANDS.")
    unknown = [b for b in bands if b not in _FILTER_SPECS]
    if unknown:
        raise ValueError(
            f"{name} has unknown band(s) {unknown}; the known bands are {', '.join(BANDS)}."
        )
    if len(set(bands)) != len(bands):
        raise ValueError(f"{name} names a band twice: {list(bands)}; name each band once.")
    return bands


def photometry_filters(bands=BANDS) -> list[FilterCurve]:
    """Analytic transmission curves of ``bands`` (names from ``BANDS``): flat tops between two
    logistic edges at the filters' half-power wavelengths, on 600-point grids [A]."""
    out = []
    for band in _known_bands(bands):
        lo, hi, width, peak = _FILTER_SPECS[band]
        w_lo, w_hi = width * lo, width * hi
        wave = np.linspace(lo - 10 * w_lo, hi + 10 * w_hi, 600)
        thru = peak / ((1 + np.exp(-(wave - lo) / w_lo)) * (1 + np.exp((wave - hi) / w_hi)))
        out.append(FilterCurve(band, wave, thru))
    return out


def _grid(j) -> np.ndarray:
    return _LAM0 * np.exp(_DLNL * np.asarray(j, dtype=float))


def sed_grid() -> np.ndarray:
    """The rest-frame wavelength grid of the SEDs [A], (2506,): log-uniform from 400 to
    59,960 A with d ln(lambda) = 0.002 (R = 500)."""
    return _grid(np.arange(_N_REST))


# ---------------------------------------------------------------------------------------------
# Physical parts of an SED
_R_V = 4.05
_NEBULAR_DUST = 1 / 0.6  # A_V(lines) / A_V(stars)
_L_SUN_V = 5.13e29  # erg/s/A at 5500 A of a source with M_V(AB) = 4.81 (the Sun)
_UV_PER_SFR = 1.13e28  # erg/s/Hz at 1500 A per Msun/yr (Kennicutt 1998, Chabrier IMF)
_HALPHA_PER_SFR = 2.0e41  # erg/s per Msun/yr (Kennicutt 1998, Chabrier IMF)
_YOUNG_WINDOW_YR = 1e8  # the young component: stars formed over the last 100 Myr
_LYC_ESCAPE = 0.02  # stellar continuum below 912 A that leaves the galaxy

_AGE_NODES = np.array([0.1, 0.2, 0.4, 0.8, 1.5, 3.0, 5.5, 9.0, 13.5])  # Gyr
_D4000_NODES = np.array([1.12, 1.20, 1.30, 1.42, 1.56, 1.73, 1.88, 2.02, 2.15])

# Emission lines: vacuum wavelength [A] and luminosity relative to H-alpha (hydrogen and fixed
# metal lines), to H-alpha ([NII], times 10**N2) and to H-beta ([OIII], times 10**O3).
_HB = 1 / 2.86
_LINES_FIXED = (
    (6564.61, 1.0),  # H-alpha
    (4862.68, _HB),  # H-beta
    (4341.68, 0.468 * _HB),  # H-gamma
    (4102.89, 0.259 * _HB),  # H-delta
    (18756.1, 0.332 * _HB),  # Pa-alpha
    (12821.6, 0.162 * _HB),  # Pa-beta
    (3727.09, 1.3 * _HB),  # [OII]3726
    (3729.88, 1.7 * _HB),  # [OII]3729
    (6718.29, 0.15),  # [SII]
    (6732.67, 0.11),  # [SII]
    (9071.1, 0.06),  # [SIII]
    (9533.2, 0.15),  # [SIII]
)
_LINES_NII = ((6585.27, 1.0), (6549.86, 1 / 3.05))
_LINES_OIII = ((5008.24, _HB), (4960.30, _HB / 2.98))
_LYA = 1215.67
_LYA_TO_HALPHA = 8.7  # case B
_COMPONENTS = tuple(f"stars_{a:g}gyr" for a in _AGE_NODES) + (
    "young",
    "lines_hydrogen",
    "lines_nii",
    "lines_oiii",
    "lyman_alpha",
)
_DUST_SCALE = np.array([1.0] * (len(_AGE_NODES) + 1) + [_NEBULAR_DUST] * 3 + [0.0])


def _planck(wave, temp) -> np.ndarray:
    """B_lambda(T) up to a constant, normalised to 1 at 5500 A."""
    x = 1.4387769e8 / (np.asarray(wave, dtype=float) * temp)
    x55 = 1.4387769e8 / (5500.0 * temp)
    return (wave / 5500.0) ** -5 * np.expm1(x55) / np.expm1(np.minimum(x, 700.0))


def _step_down(wave, centre, width) -> np.ndarray:
    """1 blueward of ``centre``, 0 redward (logistic of ``width`` A)."""
    return 1 / (1 + np.exp(np.clip((wave - centre) / width, -700, 700)))


def calzetti_k(wave) -> np.ndarray:
    """Calzetti et al. (2000) k(lambda) = A_lambda / E(B-V) at ``wave`` [A], R_V = 4.05;
    extrapolated linearly in 1/lambda below 1200 A and clipped at 0 beyond 2.85 micron."""
    x = np.asarray(wave, dtype=float) / 1e4

    def uv(x):
        return 2.659 * (-2.156 + 1.509 / x - 0.198 / x**2 + 0.011 / x**3) + _R_V

    k = np.where(x >= 0.63, 2.659 * (-1.857 + 1.040 / x) + _R_V, uv(np.maximum(x, 0.12)))
    slope = (uv(0.12) - uv(0.125)) / (1 / 0.12 - 1 / 0.125)
    k = np.where(x < 0.12, uv(0.12) + slope * (1 / x - 1 / 0.12), k)
    return np.maximum(k, 0.0)


def _lyman_break(wave) -> np.ndarray:
    """The intrinsic Lyman break: 1 redward of 912 A; blueward, the escaping 2% of a stellar
    continuum that also falls as (lambda / 912)^4 (hot stars' Lyman continuum)."""
    lyc = _LYC_ESCAPE * np.minimum(1.0, (wave / 912.0) ** 4)
    return lyc + (1 - lyc) * (1 - _step_down(wave, 912.0, 3.0))


def _d4000(wave, flam) -> np.ndarray:
    """D4000 of f_lambda (..., L): mean f_nu in 4000-4100 A over 3850-3950 A (Balogh et al.
    1999)."""
    fine_r, fine_b = np.linspace(4000, 4100, 51), np.linspace(3850, 3950, 51)
    flam = np.atleast_2d(flam)
    red = np.array([np.interp(fine_r, wave, f) * fine_r**2 for f in flam]).mean(axis=1)
    blue = np.array([np.interp(fine_b, wave, f) * fine_b**2 for f in flam]).mean(axis=1)
    return red / blue


def _mass_to_light_v(age_gyr) -> np.ndarray:
    return 3.0 * (np.asarray(age_gyr) / 10.0) ** 0.85


def _stellar_node(wave, age) -> np.ndarray:
    """L_lambda [erg/s/A per Msun] of an evolved population of age ``age`` [Gyr]."""
    t_to = min(6000.0 * (age / 10.0) ** -0.2, 16000.0)
    f_hot = np.clip(0.85 - 0.22 * np.log10(age / 0.1), 0.40, 0.85)
    f_cool = 0.12 + 0.10 * np.clip(np.log10(age / 0.1) / 2.0, 0.0, 1.0)
    cont = f_hot * _planck(wave, t_to) + (1 - f_hot - f_cool) * _planck(wave, 4300.0)
    cont = cont + f_cool * _planck(wave, 3000.0)
    balmer = 0.35 * np.exp(-0.5 * (np.log10(age / 0.5) / 0.35) ** 2)
    cont = cont * (1 - balmer * _step_down(wave, 3700.0, 40.0))
    # depth d of the 4000 A step solved exactly for the target D4000 (linear in d)
    step = _step_down(wave, 3965.0, 10.0)
    target = np.interp(np.log(age), np.log(_AGE_NODES), _D4000_NODES)
    fine_r, fine_b = np.linspace(4000, 4100, 51), np.linspace(3850, 3950, 51)

    def mean_fnu(values, fine):
        return np.mean(np.interp(fine, wave, values) * fine**2)

    r0, b0 = mean_fnu(cont, fine_r), mean_fnu(cont, fine_b)
    r1, b1 = mean_fnu(cont * step, fine_r), mean_fnu(cont * step, fine_b)
    depth = float(np.clip((target * b0 - r0) / (target * b1 - r1), 0.0, 0.95))
    sed = cont * (1 - depth * step)
    sed = sed * _lyman_break(wave)
    v = (wave > 5400) & (wave < 5600)
    return sed * (_L_SUN_V / _mass_to_light_v(age)) / sed[v].mean()


def _young_population(wave) -> np.ndarray:
    """L_lambda [erg/s/A per Msun/yr] of stars formed at a constant rate over 100 Myr."""
    lx = np.log(wave / 1500.0)
    uv = np.exp(-2.35 * lx - 0.08 * lx**2) * (1 - 0.1 * _step_down(wave, 3700.0, 40.0))
    sed = uv + 0.15 * np.interp(5500.0, wave, uv) * _planck(wave, 3800.0)
    sed = sed * _lyman_break(wave)
    l1500 = _UV_PER_SFR * C_ANGSTROM_PER_S / 1500.0**2
    return sed * l1500 / np.interp(1500.0, wave, sed)


def _line_spectrum(wave, lines) -> np.ndarray:
    """Sum of narrow Gaussian lines (sigma 1.2 pixels), each integrating to its luminosity on
    the grid's trapezoid-like weights."""
    dw = np.gradient(wave)
    out = np.zeros_like(wave)
    for centre, lum in lines:  # a loop over a dozen lines
        sigma = 1.2 * _DLNL * centre
        profile = np.exp(-0.5 * ((wave - centre) / sigma) ** 2)
        out += lum * profile / np.sum(profile * dw)
    return out


@functools.lru_cache(maxsize=1)
def _basis() -> np.ndarray:
    """The (C, L) rest-frame parts of every SED on ``sed_grid()``: evolved stars at the age
    nodes [per Msun], young stars, the three groups of nebular lines and Ly-alpha [per Msun/yr;
    [NII] per unit 10**N2, [OIII] per unit 10**O3, Ly-alpha per unit escape fraction]."""
    wave = sed_grid()
    rows = [_stellar_node(wave, age) for age in _AGE_NODES]
    rows.append(_young_population(wave))
    for lines in (_LINES_FIXED, _LINES_NII, _LINES_OIII):
        rows.append(_HALPHA_PER_SFR * _line_spectrum(wave, lines))
    rows.append(_HALPHA_PER_SFR * _LYA_TO_HALPHA * _line_spectrum(wave, ((_LYA, 1.0),)))
    out = np.array(rows)
    out.setflags(write=False)
    return out


def _age_weights(age) -> np.ndarray:
    """(N, n_nodes) weights that interpolate linearly in log age between the age nodes."""
    la = np.log(np.clip(age, _AGE_NODES[0], _AGE_NODES[-1]))
    ln = np.log(_AGE_NODES)
    i = np.clip(np.searchsorted(ln, la) - 1, 0, ln.size - 2)
    t = (la - ln[i]) / (ln[i + 1] - ln[i])
    w = np.zeros((la.size, ln.size))
    rows = np.arange(la.size)
    w[rows, i] = 1 - t
    w[rows, i + 1] = t
    return w


def _line_ratios(metallicity) -> tuple[np.ndarray, np.ndarray]:
    """log10 [NII]6584/H-alpha and log10 [OIII]5007/H-beta from log10 Z/Zsun (Pettini & Pagel
    2004 N2 and O3N2, 12 + log O/H = 8.69 + log Z/Zsun)."""
    n2 = (np.asarray(metallicity) - 0.21) / 0.57
    o3 = (0.04 - np.asarray(metallicity)) / 0.32 + n2
    return np.clip(n2, -2.0, -0.3), np.clip(o3, -1.0, 0.9)


_SED_KEYS = ("lmass", "ssfr", "age", "av")


def _sed_params(params) -> dict[str, np.ndarray]:
    if not hasattr(params, "keys"):
        raise TypeError(
            "params must be a dict or DataFrame of arrays with keys lmass, ssfr, age, av "
            f"(optional metallicity, lya_escape), got {type(params).__name__}."
        )
    keys = set(params.keys())
    aliases = {"lmass": ("lmass", "lmass_true")}
    raw = {}
    for key in _SED_KEYS:
        found = [k for k in aliases.get(key, (key,)) if k in keys]
        if not found:
            raise ValueError(
                f"params lacks {key!r}; give lmass (log10 Msun), ssfr (1/yr), age (Gyr) and "
                "av (mag), optionally metallicity (log10 Z/Zsun) and lya_escape."
            )
        raw[key] = params[found[0]]
    raw["metallicity"] = params["metallicity"] if "metallicity" in keys else 0.0
    raw["lya_escape"] = params["lya_escape"] if "lya_escape" in keys else 0.0
    try:
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in raw.values()))
    except ValueError:
        raise ValueError("params arrays must all have the same length N.") from None
    out = dict(zip(raw, (a.ravel() for a in arrays), strict=True))
    for key, arr in out.items():
        if not np.isfinite(arr).all():
            raise ValueError(f"params[{key!r}] contains NaN or infinite values.")
    if np.any(out["ssfr"] < 0) or np.any(out["av"] < 0) or np.any(out["age"] <= 0):
        raise ValueError("params ssfr and av must be non-negative and age positive (Gyr).")
    if np.any(out["lya_escape"] < 0) or np.any(out["lya_escape"] > 1):
        raise ValueError("params lya_escape must lie in [0, 1].")
    return out


def _component_weights(p: dict[str, np.ndarray]) -> np.ndarray:
    """(N, C) amplitudes of the basis parts: masses [Msun] of the evolved population at the age
    nodes, SFR [Msun/yr] of the young stars and lines, scaled by the line ratios."""
    mass = 10.0 ** p["lmass"]
    sfr = p["ssfr"] * mass
    young_fraction = np.minimum(p["ssfr"] * _YOUNG_WINDOW_YR, 0.7)
    old = _age_weights(p["age"]) * (mass * (1 - young_fraction))[:, None]
    n2, o3 = _line_ratios(p["metallicity"])
    lines = np.stack([sfr, sfr, sfr * 10**n2, sfr * 10**o3, sfr * p["lya_escape"]], axis=1)
    return np.concatenate([old, lines], axis=1)


def galaxy_seds(params) -> np.ndarray:
    """Rest-frame SEDs of N galaxies, L_lambda [erg/s/A] on ``sed_grid()``: shape (N, L).

    ``params`` (dict or DataFrame of arrays of length N, or scalars): ``lmass`` (or
    ``lmass_true``; log10 stellar mass [Msun]), ``ssfr`` (specific SFR [1/yr]; quiescent
    galaxies have ~ 1e-12-1e-11), ``age`` (mass-weighted age of the evolved population [Gyr]),
    ``av`` (Calzetti A_V of the stars [mag]); optional ``metallicity`` (log10 Z/Zsun, sets
    [NII]/H-alpha and [OIII]/H-beta; default 0) and ``lya_escape`` (Ly-alpha escape fraction,
    default 0). The parts and what they simplify are in the module docstring. Vectorised.
    """
    p = _sed_params(params)
    w = _component_weights(p)
    basis = _basis()
    k = calzetti_k(sed_grid()) / _R_V
    n_old = len(_AGE_NODES) + 1  # evolved + young stars share one attenuation
    stars = (w[:, :n_old] @ basis[:n_old]) * 10 ** (-0.4 * p["av"][:, None] * k)
    neb = (w[:, n_old:-1] @ basis[n_old:-1]) * 10 ** (-0.4 * _NEBULAR_DUST * p["av"][:, None] * k)
    return stars + neb + w[:, -1:] * basis[-1]


_TEMPLATE_PARAMS = (
    # name, age [Gyr], log sSFR [1/yr], A_V, metallicity, Ly-alpha escape
    ("quiescent_old", 11.0, -12.0, 0.0, 0.0, 0.0),
    ("quiescent_intermediate", 3.5, -11.5, 0.2, 0.0, 0.0),
    ("post_starburst", 0.7, -11.5, 0.1, 0.0, 0.0),
    ("dusty_quiescent", 2.0, -11.5, 1.5, 0.0, 0.0),
    ("star_forming_low_dust", 1.5, -9.0, 0.2, -0.2, 0.05),
    ("star_forming_mid_dust", 2.5, -9.3, 1.0, 0.0, 0.0),
    ("dusty_star_forming", 1.5, -8.8, 2.5, 0.1, 0.0),
    ("young_strong_lines", 0.15, -8.0, 0.05, -0.7, 0.3),
)


def sed_templates() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Rest-frame templates for a template fit of simulated data: ``(wave, flam, names)`` with
    ``wave`` = ``sed_grid()`` [A], ``flam`` (8, L) f_lambda normalised to a mean of 1 over
    5400-5600 A, and their names. Built by ``galaxy_seds`` from the same physics: old,
    intermediate-age, post-starburst and dusty quiescent populations; star-forming galaxies with
    lines at A_V = 0.2, 1 and 2.5; a young, low-metallicity galaxy with strong lines and
    Ly-alpha. Non-negative combinations approximate the simulated galaxies (tested)."""
    names = tuple(row[0] for row in _TEMPLATE_PARAMS)
    cols = np.array([row[1:] for row in _TEMPLATE_PARAMS], dtype=float)
    params = {
        "lmass": np.full(len(names), 10.0),
        "age": cols[:, 0],
        "ssfr": 10 ** cols[:, 1],
        "av": cols[:, 2],
        "metallicity": cols[:, 3],
        "lya_escape": cols[:, 4],
    }
    flam = galaxy_seds(params)
    wave = sed_grid()
    v = (wave > 5400) & (wave < 5600)
    return wave, flam / flam[:, v].mean(axis=1, keepdims=True), names


# ---------------------------------------------------------------------------------------------
# Band-flux tables
class _FluxTable(NamedTuple):
    log_table: np.ndarray  # (n_z, n_av, C, K): log of band L_nu [erg/s/Hz per unit amplitude]
    obs_wave: np.ndarray  # (L_obs,) observed grid [A]
    matrix: np.ndarray  # (K, L_obs) band_flux_matrix on obs_wave
    bands: tuple[str, ...]


def _z_table_grid() -> np.ndarray:
    return np.expm1(_Z_STEP_PIX * _DLNL * np.arange(_N_Z))


@functools.lru_cache(maxsize=4)
def _flux_table(bands: tuple[str, ...]) -> _FluxTable:
    """Band fluxes of every basis part at every A_V of ``_AV_GRID`` and every redshift of a grid
    with 1 + z = exp(0.004 n), as L_nu [erg/s/Hz] before the 1 / (4 pi D_L^2) factor.

    Why tables: a galaxy is a linear sum of parts whose amplitudes are set by its mass, SFR,
    age and lines, so its band fluxes are the same sum of the parts' band fluxes, which depend
    only on (z, A_V). On the log-lambda grid a redshift of 1 + z = exp(0.004 n) is an exact
    shift by 2n pixels, so each table row is an exact slice of the SEDs, no interpolation;
    galaxies then interpolate the table linearly in z and log-linearly in A_V (attenuation is
    exponential). Cost: one (14 parts x 17 A_V) x 1500 pixels x 13 bands product per grid
    redshift (~ 0.3 s once per process, cached) instead of an SED, IGM and filter integral per
    galaxy (N x 2500 x 13), so 20,000 galaxies take well under a second.
    """
    filters = photometry_filters(bands)
    lo = min(f.edges[0] for f in filters)
    hi = max(f.edges[1] for f in filters)
    j_lo = int(np.floor(np.log(lo / _LAM0) / _DLNL)) - 2
    j_hi = int(np.ceil(np.log(hi / _LAM0) / _DLNL)) + 3
    obs_wave = _grid(np.arange(j_lo, j_hi))
    matrix = band_flux_matrix(obs_wave, filters)  # (K, L_obs)
    z_grid = _z_table_grid()
    igm = madau_igm_transmission(obs_wave, z_grid)  # (n_z, L_obs)
    wave = sed_grid()
    dust = 10 ** (-0.4 * np.outer(_AV_GRID, calzetti_k(wave) / _R_V))  # (n_av, L)
    basis = _basis()
    n_c, n_av, n_obs = basis.shape[0], _AV_GRID.size, obs_wave.size
    # attenuation per part: dust ** scale (scale 1 stars, 1/0.6 lines, 0 Ly-alpha)
    spectra = basis[:, None, :] * dust[None, :, :] ** _DUST_SCALE[:, None, None]
    spectra = spectra.reshape(n_c * n_av, -1)
    pad = n_obs + j_lo + 2
    padded = np.zeros((spectra.shape[0], pad + _N_REST + pad))
    padded[:, pad : pad + _N_REST] = spectra
    table = np.empty((_N_Z, n_c * n_av, len(filters)))
    lya_edge = 1215.67 * (1 + z_grid)
    for n in range(_N_Z):  # the redshift grid (~400 steps): one matrix product each
        start = pad + j_lo - _Z_STEP_PIX * n  # rest pixel seen at the first observed pixel
        window = padded[:, start : start + n_obs]
        out = window @ matrix.T
        q = int(np.searchsorted(obs_wave, lya_edge[n]))
        if q:
            out += (window[:, :q] * (igm[n, :q] - 1)) @ matrix[:, :q].T
        table[n] = out / (1 + z_grid[n])
    fnu = table.reshape(_N_Z, n_c, n_av, -1).transpose(0, 2, 1, 3)
    log_table = np.log(np.maximum(fnu, 1e-250))
    for arr in (log_table, obs_wave, matrix):
        arr.setflags(write=False)
    return _FluxTable(log_table, obs_wave, matrix, bands)


def _table_fluxes(table: _FluxTable, z, av, weights, band_index=None) -> np.ndarray:
    """Catalogue fluxes (AB zero-point 25) (N, K) of galaxies with parts ``weights`` (N, C) at
    redshifts ``z`` and A_V ``av``, from the flux table; only band ``band_index`` if given."""
    z, av = np.asarray(z, float), np.asarray(av, float)
    lt = table.log_table if band_index is None else table.log_table[..., [band_index]]
    u = np.log1p(z) / (_Z_STEP_PIX * _DLNL)
    iz = np.clip(np.floor(u).astype(int), 0, _N_Z - 2)
    tz = (u - iz)[:, None]
    v = np.clip(av, 0.0, _AV_GRID[-1]) / _AV_STEP
    ia = np.clip(np.floor(v).astype(int), 0, _AV_GRID.size - 2)
    ta = (v - ia)[:, None, None]
    out = np.empty((z.size, lt.shape[-1]))
    chunk = 8192
    for s in range(0, z.size, chunk):  # chunks of galaxies bound the memory, not a galaxy loop
        sl = slice(s, s + chunk)
        total = 0.0
        for dz, wz in ((0, 1 - tz[sl]), (1, tz[sl])):
            lo = lt[iz[sl] + dz, ia[sl]]
            hi = lt[iz[sl] + dz, ia[sl] + 1]
            parts = np.exp(lo + ta[sl] * (hi - lo))  # (n, C, K)
            total = total + wz * np.einsum("nc,nck->nk", weights[sl], parts)
        out[sl] = total
    d_l = _luminosity_distance_mpc(z) * _MPC_CM
    return fnu_to_catalogue_flux(out / (4 * np.pi * d_l**2)[:, None])


def galaxy_band_fluxes(params, z_grid, bands=BANDS, *, chunk: int = 256) -> np.ndarray:
    """Noiseless catalogue fluxes (AB zero-point 25) of N galaxies placed at every redshift of
    ``z_grid``: shape (N, Z, K) for the K ``bands``.

    ``params`` are the galaxies' physical parameters as ``galaxy_seds`` takes them (e.g. rows of
    ``simulate_catalogue(...).truth``). This is each galaxy's own SED seen at every trial
    redshift, with the simulator's Madau IGM and filters: the model of an *oracle* template fit,
    one that knows every galaxy's true spectrum and only searches for its redshift. The tables
    cover 0 <= z <= 4.5; ``z_grid`` outside that range is refused.
    """
    p = _sed_params(params)
    bands = _known_bands(bands)
    grid = np.atleast_1d(np.asarray(z_grid, float))
    if grid.ndim != 1 or grid.size == 0 or not np.isfinite(grid).all():
        raise ValueError("z_grid must be a non-empty 1-D array of finite redshifts.")
    if grid.min() < 0 or grid.max() > _Z_TABLE_MAX:
        raise ValueError(
            f"z_grid must lie within 0-{_Z_TABLE_MAX} (the simulator's flux tables), got "
            f"{grid.min():.3g}-{grid.max():.3g}; cut the grid."
        )
    weights = _component_weights(p)
    table = _flux_table(bands)
    n, n_z = weights.shape[0], grid.size
    check_memory(n * n_z * len(bands) * 8 * 2, f"galaxy_band_fluxes({n} galaxies x {n_z} z)")
    out = np.empty((n, n_z, len(bands)))
    for s in range(0, n, chunk):  # chunks of galaxies: N x Z rows go through the table at once
        w = weights[s : s + chunk]
        m = w.shape[0]
        rows = _table_fluxes(
            table,
            np.tile(grid, m),
            np.repeat(p["av"][s : s + chunk], n_z),
            np.repeat(w, n_z, axis=0),
        )
        out[s : s + m] = rows.reshape(m, n_z, -1)
    return out


# ---------------------------------------------------------------------------------------------
# The galaxy population
def _sfms_log_sfr(lmass, z) -> np.ndarray:
    """Star-forming main sequence of Speagle et al. (2014): log10 SFR [Msun/yr]."""
    t = _age_of_universe_gyr(z)
    return (0.84 - 0.026 * t) * lmass - (6.51 - 0.11 * t)


def _smf_alpha(z):
    return -1.35 - 0.08 * np.minimum(z, 4.0)


_SMF_LOG_MSTAR = 10.8
_SMF_LOG_MAX = 12.3


def _smf_log_phistar(z):
    return -2.6 - 0.3 * np.asarray(z)


def _mass_floor(z):
    """Lowest log10 mass drawn at z: ~ 0.4 dex below the least massive detectable galaxies,
    and no galaxies below 1e6 Msun (the mass function is not measured there)."""
    return np.maximum(6.0, 4.9 + 4.5 * np.log10(1 + np.asarray(z)))


@functools.lru_cache(maxsize=1)
def _parent_z_cdf() -> tuple[np.ndarray, np.ndarray]:
    """CDF of galaxies above the mass floor per unit z: dV/dz x n(> M_floor(z), z)."""
    zg = np.linspace(_Z_MIN, _Z_MAX, 1600)
    dvdz = _comoving_distance_mpc(zg) ** 2 / np.sqrt(_OM0 * (1 + zg) ** 3 + 1 - _OM0)
    x = np.linspace(0.0, 1.0, 800)[None, :]
    lm = _mass_floor(zg)[:, None] + x * (_SMF_LOG_MAX - _mass_floor(zg)[:, None])
    m = 10 ** (lm - _SMF_LOG_MSTAR)
    dn = m ** (_smf_alpha(zg)[:, None] + 1) * np.exp(-m)
    n_above = np.trapezoid(dn, lm, axis=1) * 10 ** _smf_log_phistar(zg)
    pdf = dvdz * n_above
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(zg))])
    return zg, cdf / cdf[-1]


def _draw_schechter(rng, lm_min, alpha) -> np.ndarray:
    """log10 masses from a Schechter function (log M* = 10.8) above ``lm_min``: a truncated
    power law in M, accepted with probability exp(-M/M*) (vectorised rejection)."""
    n = lm_min.size
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:  # rejection rounds, each over all galaxies still to draw
        lam = -(alpha[todo] + 1) * np.log(10)
        span = _SMF_LOG_MAX - lm_min[todo]
        u = rng.random(todo.size)
        lm = lm_min[todo] - np.log1p(-u * (1 - np.exp(-lam * span))) / lam
        ok = rng.random(todo.size) < np.exp(-(10 ** (lm - _SMF_LOG_MSTAR)))
        out[todo[ok]] = lm[ok]
        todo = todo[~ok]
    return out


def _draw_galaxies(rng, n: int) -> dict[str, np.ndarray]:
    """Physical properties of ``n`` candidate galaxies (before the detection cut)."""
    zg, cdf = _parent_z_cdf()
    z = np.interp(rng.random(n), cdf, zg)
    lmass = _draw_schechter(rng, _mass_floor(z), _smf_alpha(z))
    t_univ = _age_of_universe_gyr(z)
    # quiescent fraction rising with mass, falling with z (Muzzin et al. 2013, roughly), with
    # environmentally quenched dwarfs at low z (Tomczak et al. 2014's low-mass upturn)
    f_low = 0.25 * np.exp(-z / 1.2)
    f_q = f_low + (0.9 - f_low) / (1 + np.exp(-(lmass - (10.3 + 0.45 * z)) / 0.35))
    quiescent = rng.random(n) < f_q
    log_ssfr_sf = np.minimum(_sfms_log_sfr(lmass, z) - lmass + rng.normal(0, 0.3, n), -8.0)
    log_ssfr_q = rng.normal(-11.7, 0.35, n)
    log_ssfr = np.where(quiescent, log_ssfr_q, log_ssfr_sf)
    # ages: quiescent galaxies formed early (older when more massive); star-forming galaxies'
    # evolved stars are younger, and younger still at high sSFR
    frac_q = np.clip(rng.normal(0.6 + 0.1 * (lmass - 10.8), 0.12), 0.1, 0.95)
    age_sf = np.minimum(t_univ * 10 ** rng.normal(np.log10(0.4), 0.15, n), 2e-9 / 10**log_ssfr)
    age = np.where(quiescent, np.maximum(frac_q * t_univ, 0.2), age_sf)
    age = np.clip(age, 0.1, t_univ - 0.05)
    # dust rising with mass and SFR; quiescent galaxies mostly dust-poor
    log_sfr = log_ssfr + lmass
    av_mean = 0.1 + 0.45 * np.maximum(lmass - 9, 0) + 0.2 * np.maximum(log_sfr, 0)
    av_sf = av_mean * 10 ** rng.normal(0, 0.2, n)
    av_q = rng.exponential(0.25, n)
    av = np.clip(np.where(quiescent, av_q, av_sf), 0.0, 3.8)
    # gas metallicity: a mass-metallicity relation evolving with z (Zahid et al. 2014 shape)
    log_m0 = 9.2 + 0.6 * np.minimum(z, 2.5)
    metallicity = 9.0 - np.log10(1 + 10 ** (-0.6 * (lmass - log_m0))) - 8.69
    metallicity = metallicity + rng.normal(0, 0.1, n)
    # Ly-alpha escape rising with z and falling with dust (Hayes et al. 2011, roughly)
    log_fesc = rng.normal(-1.3 + 2.6 * np.log10((1 + z) / 3), 0.5) - 0.5 * av
    lya_escape = np.where(quiescent, 0.0, 10 ** np.minimum(log_fesc, 0.0))
    # sizes (van der Wel et al. 2014): effective radius [kpc] and intrinsic axis ratio
    log_re = np.where(
        quiescent,
        0.74 - 1.48 * np.log10(1 + z) + 0.75 * (lmass - 10.7) + rng.normal(0, 0.12, n),
        0.77 - 0.75 * np.log10(1 + z) + 0.22 * (lmass - 10.7) + rng.normal(0, 0.18, n),
    )
    axis_ratio = np.where(quiescent, rng.uniform(0.5, 1.0, n), rng.uniform(0.2, 1.0, n))
    field = rng.choice(len(FIELDS), size=n, p=_field_shares())
    return {
        "z": z,
        "lmass": lmass,
        "quiescent": quiescent,
        "ssfr": 10**log_ssfr,
        "age": age,
        "av": av,
        "metallicity": metallicity,
        "lya_escape": lya_escape,
        "log_re": np.maximum(log_re, -1.2),
        "axis_ratio": axis_ratio,
        "field": field,
    }


def _field_shares() -> np.ndarray:
    shares = np.array([_FIELD_INFO[f][2] for f in FIELDS])
    return shares / shares.sum()


def _half_light_arcsec(log_re_kpc, z) -> np.ndarray:
    """Observed half-light radius [arcsec]: intrinsic size at the angular-diameter distance,
    convolved with the F160W PSF."""
    d_a_kpc = _comoving_distance_mpc(z) / (1 + z) * 1e3
    theta = 10**log_re_kpc / d_a_kpc * 206264.8
    return np.sqrt(theta**2 + (0.5 * _PSF_FWHM_ARCSEC) ** 2)


def _aperture_fraction(r_half) -> np.ndarray:
    """Fraction of the total flux inside a 0.7 arcsec aperture for a (PSF-convolved) galaxy of
    half-light radius ``r_half`` [arcsec]: 0.8 for point sources, ~ 0.5 at 0.6 arcsec."""
    return 0.85 * (1 - np.exp(-1.68 * (0.35 / np.asarray(r_half)) ** 1.2))


def _size_factor(r_half) -> np.ndarray:
    """Noise of a total flux relative to a point source's: larger apertures hold more sky."""
    point = 0.5 * _PSF_FWHM_ARCSEC
    return np.sqrt((1 + (r_half / 0.3) ** 2) / (1 + (point / 0.3) ** 2))


def _sky_sigma(bands, n: int) -> np.ndarray:
    """(n, K) 1-sigma sky noise of a point source [catalogue flux] in each band."""
    depth = np.array([DEPTHS[b] for b in bands])
    return np.broadcast_to(10 ** (-0.4 * (depth - 25.0)) / 5.0, (n, len(bands)))


def _errors(bands, true_flux, sky, size_factor) -> np.ndarray:
    floor = np.array([_CALIBRATION_FLOOR[b] for b in bands])[None, :]
    return np.sqrt((sky * size_factor[:, None]) ** 2 + (floor * np.abs(true_flux)) ** 2)


def _star_fluxes(rng, n, table: _FluxTable, det: int) -> tuple[np.ndarray, np.ndarray]:
    """True fluxes (n, K) of stars: blackbodies of 3000-10000 K (mostly cool), F160W magnitudes
    16-25.5 with counts rising as 10**(0.12 m) (all detected)."""
    temp = 3000.0 + 7000.0 * rng.beta(1.2, 3.0, n)
    a, b = 10 ** (0.12 * 16.0), 10 ** (0.12 * 25.5)
    mag = np.log10(a + rng.random(n) * (b - a)) / 0.12
    wave = table.obs_wave
    x = 1.4387769e8 / (wave[None, :] * temp[:, None])
    flam = wave[None, :] ** -5 / np.expm1(np.minimum(x, 700.0))
    flux = flam @ table.matrix.T
    flux = flux / flux[:, [det]] * 10 ** (-0.4 * (mag - 25.0))[:, None]
    return flux, temp


class SimulatedCatalogue(NamedTuple):
    """A simulated catalogue and its truth, row by row (see ``simulate_catalogue``)."""

    catalogue: pd.DataFrame
    truth: pd.DataFrame


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {type(value).__name__}.")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}.")
    return float(value)


def simulate_catalogue(
    n_galaxies: int,
    *,
    seed: int = 0,
    spec_fraction: float = 0.6,
    line_bias: float = 0.0,
    star_fraction: float = 0.03,
    bad_fraction: float = 0.02,
    bands=BANDS,
) -> SimulatedCatalogue:
    """A 3D-HST-like catalogue of ``n_galaxies`` detected objects (stars included), seeded:
    the same seed gives the same catalogue. ``bands`` must include F160W (the detection band).

    Galaxies: redshifts 0.02-4 and stellar masses from a Schechter mass function (log M* =
    10.8, alpha = -1.35 - 0.08 z, phi* falling 0.3 dex per unit z) in the comoving volume above
    1e6 Msun (and a floor ~ 0.4 dex below the least massive detectable galaxy); a quiescent
    fraction rising with mass and falling with z; sSFR on the Speagle et al. (2014) main
    sequence (0.3 dex scatter) or ~ 10**-11.7/yr if quiescent; evolved-population ages below the
    age of the universe (older for massive quiescent galaxies, younger at high sSFR); Calzetti
    A_V rising with mass and SFR; a mass-metallicity relation setting the line ratios; a
    Ly-alpha escape fraction rising with z; sizes from van der Wel et al. (2014), shrinking with
    z. Fluxes through the 13 filters with the Madau IGM; noise from the 5-sigma depths
    ``DEPTHS`` grown with the galaxy's size, plus a 3% (HST) or 5% (U, Ks, IRAC) calibration
    floor in quadrature; f = true + N(0, e), so faint fluxes can be negative. Objects are kept
    when their F160W flux in a 0.7 arcsec aperture has S/N >= 5 (F160W total magnitudes below
    ~ 26.2, brighter for large galaxies), and drawn until exactly ``n_galaxies`` rows exist.

    ``catalogue`` (3D-HST names): ``id`` (per field, in order of y), ``field`` (``FIELDS``),
    ``x``, ``y`` [pixels of 0.06 arcsec], ``ra``, ``dec`` [deg, around the real field centres],
    ``f_<band>``, ``e_<band>`` (AB zero-point 25; both exactly -99 where the band does not
    cover the object: F435W, F775W, F850LP and F105W only in GOODS-N/S, F814W only in AEGIS,
    COSMOS and UDS, and the edges of each band's mosaic), ``faper_F160W``, ``eaper_F160W``
    (0.7 arcsec aperture), ``tot_cor``, ``kron_radius``, ``a_image``, ``b_image``,
    ``theta_J2000``, ``flux_radius``, ``fwhm_image`` [pixels], ``class_star``, ``flags``,
    ``near_star``, ``nexp_f160w``, ``star_flag`` (1 for stars), ``use_phot`` (0 for stars and
    for the ``bad_fraction`` of galaxies with corrupted photometry, near a bright star or
    flagged, whose fluxes are scattered wildly in some bands, as 3D-HST's use_phot), ``z_spec``
    (true z + N(0, 0.001 (1 + z)) for a fraction ~ ``spec_fraction`` of the galaxies, brighter
    ones more often, and star-forming galaxies, whose emission lines give a redshift in a short
    exposure, ``exp(line_bias)`` times more often in odds than quiescent ones at the same
    magnitude; 0 for the stars with a spectrum; -1 where none), ``lmass`` (log10 stellar
    mass [Msun] with 0.15 dex errors; a meaningless galaxy fit for stars).
    ``catalogue.attrs["bands"]`` is the tuple of bands.

    ``truth`` (same rows): ``z_true`` (0 for stars), ``lmass_true``, ``ssfr`` [1/yr], ``age``
    [Gyr], ``av`` [mag], ``metallicity`` [log10 Z/Zsun], ``lya_escape`` (these NaN for stars;
    ``galaxy_seds(truth[~truth.is_star])`` rebuilds the galaxies' rest-frame SEDs),
    ``quiescent``, ``is_star`` (bool) and the noiseless fluxes ``ftrue_<band>``.

    Columns that carry no physics, ``id``, ``x``, ``y``, ``ra``, ``dec``, ``nexp_f160w``,
    ``flags``, ``kron_radius`` and ``theta_J2000``, are drawn independently of the objects
    (uniform positions, no clustering; ids in order of y). Sizes (``flux_radius``, ``a_image``,
    ``b_image``, ``fwhm_image``) and what follows from them (``class_star``, ``tot_cor``, the
    aperture flux, the flux errors) follow the size-mass-redshift relations, so they carry the
    weak redshift information that real sizes do.
    """
    n = check_positive_int(n_galaxies, "n_galaxies")
    spec_fraction = _check_fraction(spec_fraction, "spec_fraction")
    if isinstance(line_bias, bool) or not isinstance(line_bias, numbers.Real):
        raise TypeError(f"line_bias must be a number (log odds), got {type(line_bias).__name__}.")
    if not np.isfinite(line_bias):
        raise ValueError(f"line_bias must be finite (log odds, 0 for none), got {line_bias}.")
    star_fraction = _check_fraction(star_fraction, "star_fraction")
    bad_fraction = _check_fraction(bad_fraction, "bad_fraction")
    if star_fraction + bad_fraction >= 1:
        raise ValueError("star_fraction + bad_fraction must be below 1; lower one of them.")
    bands = _known_bands(bands)
    if _DETECTION_BAND not in bands:
        raise ValueError(
            f"bands must include {_DETECTION_BAND}, the detection band, got {list(bands)}."
        )
    seed = check_seed(seed)
    # the catalogue, its truth and the candidates drawn to detect them (about 4 per galaxy)
    check_memory(n * 300 * (len(bands) + 10) + 1e8, f"simulate_catalogue({n})")
    rng = np.random.default_rng(seed)
    table = _flux_table(bands)
    det = bands.index(_DETECTION_BAND)
    n_star = int(round(star_fraction * n))
    n_gal = n - n_star

    # --- galaxies: draw candidates in batches until n_gal are detected: S/N >= 5 in a 0.7"
    # aperture of F160W (detection works on surface brightness: large galaxies drop out first)
    kept: list[dict[str, np.ndarray]] = []
    n_kept, rate = 0, 0.3
    while n_kept < n_gal:  # batches of candidates (one or two), not galaxies
        n_draw = int((n_gal - n_kept) / rate * 1.15) + 200
        g = _draw_galaxies(rng, n_draw)
        weights = _component_weights(g)
        f_det = _table_fluxes(table, g["z"], g["av"], weights, det)[:, 0]
        r_half = _half_light_arcsec(g["log_re"], g["z"])
        sky = _sky_sigma((_DETECTION_BAND,), n_draw)[:, 0]
        xi = rng.normal(0.0, 1.0, n_draw)  # the F160W noise, shared by aperture and total
        keep = _aperture_fraction(r_half) * f_det + xi * sky >= 5 * sky
        rate = max(keep.mean(), 0.02)
        g = {k: v[keep] for k, v in g.items()}
        g |= {"r_half": r_half[keep], "xi": xi[keep], "weights": weights[keep]}
        kept.append(g)
        n_kept += int(keep.sum())
    gal = {k: np.concatenate([b[k] for b in kept])[:n_gal] for k in kept[0]}
    f_true_gal = _table_fluxes(table, gal["z"], gal["av"], gal["weights"])

    # --- stars
    f_true_star, _ = _star_fluxes(rng, n_star, table, det)
    star_fields = rng.choice(len(FIELDS), size=n_star, p=_field_shares())

    # --- all rows: galaxies then stars (reordered by field and position at the end)
    is_star = np.r_[np.zeros(n_gal, bool), np.ones(n_star, bool)]
    field = np.r_[gal["field"], star_fields]
    f_true = np.vstack([f_true_gal, f_true_star])
    r_half = np.r_[gal["r_half"], np.full(n_star, 0.5 * _PSF_FWHM_ARCSEC)]
    size = _size_factor(r_half)
    sky = _sky_sigma(bands, n)
    err = _errors(bands, f_true, sky, size)
    noise = rng.normal(0.0, 1.0, f_true.shape)
    noise[:n_gal, det] = gal["xi"]  # the F160W noise the detection saw
    flux = f_true + noise * err
    eaper = sky[:, det]
    faper = _aperture_fraction(r_half) * f_true[:, det] + noise[:, det] * eaper

    # --- positions, ids, coverage
    x = _FIELD_MARGIN_PX + rng.random(n) * _FIELD_WIDTH_PX
    y = _FIELD_MARGIN_PX + rng.random(n) * _FIELD_HEIGHT_PX
    in_goods = np.isin(field, [FIELDS.index("GOODS-N"), FIELDS.index("GOODS-S")])
    covered = np.ones((n, len(bands)), bool)
    for k, band in enumerate(bands):  # a loop over bands
        if band in _GOODS_ONLY:
            covered[:, k] &= in_goods
        if band in _WIDE_ONLY:
            covered[:, k] &= ~in_goods
    covered &= _footprints(bands, field, x, y)
    covered[:, det] = True
    flux = np.where(covered, flux, -99.0)
    err = np.where(covered, err, -99.0)

    # --- shapes and SExtractor-like columns
    mag_det = 25.0 - 2.5 * np.log10(np.maximum(flux[:, det], 1e-3))
    q_intr = np.r_[gal["axis_ratio"], np.ones(n_star)]
    r_px = r_half / _PIXEL_SCALE
    psf_px = 0.5 * _PSF_FWHM_ARCSEC / _PIXEL_SCALE
    intr_px = np.sqrt(np.maximum(r_px**2 - psf_px**2, 0.0))
    a_px = np.sqrt(intr_px**2 + psf_px**2)
    b_px = np.sqrt((intr_px * q_intr) ** 2 + psf_px**2)
    a_image = 0.9 * a_px * rng.lognormal(0.0, 0.08, n)
    b_image = np.minimum(0.9 * b_px * rng.lognormal(0.0, 0.08, n), a_image)
    kron_radius = 3.5 + rng.exponential(0.5, n)
    flux_radius = r_px * rng.lognormal(0.0, 0.05, n)
    fwhm_image = 2.0 * flux_radius * rng.uniform(0.9, 1.2, n)
    tot_cor = 1.03 + 0.12 * np.exp(-kron_radius * np.sqrt(a_image * b_image) / 8.0)
    tot_cor = tot_cor * rng.lognormal(0.0, 0.01, n)
    snr = np.maximum(flux[:, det] / err[:, det], 0.0)
    confidence = 1 - np.exp(-snr / 20.0)
    compact = np.clip(psf_px / r_px, 0.0, 1.0) ** 4
    class_star = confidence * compact + (1 - confidence) * 0.5 + rng.normal(0, 0.03, n)
    class_star = np.round(np.clip(class_star, 0.0, 1.0), 2)
    flags = rng.choice(4, size=n, p=[0.82, 0.08, 0.07, 0.03])
    flags = np.where(is_star & (mag_det < 18.0), flags | 4, flags)
    # F160W exposures: overlapping pointings (2 or 4) plus the deep CANDELS areas in GOODS
    u, v = (x - _FIELD_MARGIN_PX) / _FIELD_WIDTH_PX, (y - _FIELD_MARGIN_PX) / _FIELD_HEIGHT_PX
    deep = in_goods & (np.abs(u - 0.5) < 0.2) & (np.abs(v - 0.5) < 0.25)
    tiles = ((x // 2000 + y // 1700) % 2).astype(int)
    nexp = 2 + 2 * tiles + 6 * deep.astype(int)

    # --- corrupted photometry: near bright stars or with broken measurements
    near_star = np.zeros(n, int)
    use_phot = (~is_star).astype(int)
    n_bad = int(round(bad_fraction * n))
    if n_bad:
        bad = rng.choice(n_gal, size=n_bad, replace=False)
        near = rng.random(n_bad) < 0.6
        near_star[bad[near]] = 1
        flags[bad[~near]] |= 4 + rng.integers(0, 4, (~near).sum())
        use_phot[bad] = 0
        hit = rng.random((n_bad, len(bands))) < 0.35
        hit[np.arange(n_bad), rng.integers(0, len(bands), n_bad)] = True
        hit &= covered[bad]
        scale = 10 ** rng.uniform(-1.0, 1.0, hit.shape)
        wild = flux[bad] * scale + rng.normal(0.0, 20.0, hit.shape) * err[bad]
        wild = np.maximum(wild, -np.minimum(20.0 * err[bad], 90.0))  # never the -99 sentinel
        flux[bad] = np.where(hit, wild, flux[bad])

    # --- spectroscopic redshifts: brighter objects more often
    z_true = np.r_[gal["z"], np.zeros(n_star)]
    lines = np.r_[~gal["quiescent"], np.zeros(n_star, bool)]
    has_spec = _spec_selection(rng, mag_det, is_star, spec_fraction, lines * float(line_bias))
    z_spec = np.where(has_spec, z_true + rng.normal(0.0, 1e-3, n) * (1 + z_true), -1.0)
    z_spec = np.where(has_spec & is_star, 0.0, z_spec)
    z_spec = np.where(has_spec & ~is_star, np.maximum(z_spec, 1e-3), z_spec)
    lmass_true = np.r_[gal["lmass"], np.full(n_star, np.nan)]
    lmass = np.where(is_star, rng.normal(7.0, 1.0, n), lmass_true + rng.normal(0, 0.15, n))

    # --- sky coordinates, order by field and y, ids per field
    ra0 = np.array([_FIELD_INFO[f][0] for f in FIELDS])[field]
    dec0 = np.array([_FIELD_INFO[f][1] for f in FIELDS])[field]
    xc = _FIELD_MARGIN_PX + 0.5 * _FIELD_WIDTH_PX
    yc = _FIELD_MARGIN_PX + 0.5 * _FIELD_HEIGHT_PX
    dec = dec0 + (y - yc) * _PIXEL_SCALE / 3600.0
    ra = ra0 - (x - xc) * _PIXEL_SCALE / 3600.0 / np.cos(np.radians(dec0))
    order = np.lexsort((y, field))
    field_sorted = field[order]
    first = np.searchsorted(field_sorted, np.arange(len(FIELDS)))
    ids = np.arange(n) - first[field_sorted] + 1

    cols: dict[str, np.ndarray] = {
        "id": ids.astype(np.int64),
        "field": np.array(FIELDS, dtype=object)[field_sorted],
        "x": x[order],
        "y": y[order],
        "ra": ra[order],
        "dec": dec[order],
    }
    for k, band in enumerate(bands):
        cols[f"f_{band}"] = flux[order, k]
        cols[f"e_{band}"] = err[order, k]
    extra = {
        "faper_F160W": faper,
        "eaper_F160W": eaper,
        "tot_cor": tot_cor,
        "kron_radius": kron_radius,
        "a_image": a_image,
        "b_image": b_image,
        "theta_J2000": rng.uniform(-90.0, 90.0, n),
        "flux_radius": flux_radius,
        "fwhm_image": fwhm_image,
        "class_star": class_star,
        "flags": flags.astype(np.int64),
        "near_star": near_star.astype(np.int64),
        "nexp_f160w": nexp.astype(np.int64),
        "star_flag": is_star.astype(np.int64),
        "use_phot": use_phot.astype(np.int64),
        "z_spec": z_spec,
        "lmass": lmass,
    }
    cols |= {k: v[order] for k, v in extra.items()}
    catalogue = pd.DataFrame(cols)
    catalogue.attrs["bands"] = tuple(bands)

    nan = np.full(n_star, np.nan)
    truth_cols = {
        "z_true": z_true,
        "lmass_true": lmass_true,
        "ssfr": np.r_[gal["ssfr"], nan],
        "age": np.r_[gal["age"], nan],
        "av": np.r_[gal["av"], nan],
        "metallicity": np.r_[gal["metallicity"], nan],
        "lya_escape": np.r_[gal["lya_escape"], nan],
        "quiescent": np.r_[gal["quiescent"], np.zeros(n_star, bool)],
        "is_star": is_star,
    }
    for k, band in enumerate(bands):
        truth_cols[f"ftrue_{band}"] = f_true[:, k]
    truth = pd.DataFrame({k: v[order] for k, v in truth_cols.items()})
    truth.attrs["bands"] = tuple(bands)
    return SimulatedCatalogue(catalogue, truth)


@functools.lru_cache(maxsize=1)
def _footprint_offsets() -> np.ndarray:
    """(n_fields, 13, 2) shifts of each band's mosaic (``BANDS`` order) relative to the F160W
    one, as fractions of the field: a fixed property of the survey, not of the seed."""
    out = np.random.default_rng(20140101).uniform(-0.04, 0.04, (len(FIELDS), len(BANDS), 2))
    out.setflags(write=False)
    return out


def _footprints(bands, field, x, y) -> np.ndarray:
    """(N, K) whether each band's mosaic covers each position (edges of shifted mosaics)."""
    index = [BANDS.index(b) for b in bands]
    shift = _footprint_offsets()[field][:, index]  # (N, K, 2)
    u = ((x - _FIELD_MARGIN_PX) / _FIELD_WIDTH_PX)[:, None] - shift[..., 0]
    v = ((y - _FIELD_MARGIN_PX) / _FIELD_HEIGHT_PX)[:, None] - shift[..., 1]
    return (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)


def _spec_selection(rng, mag, is_star, fraction, log_odds=0.0) -> np.ndarray:
    """Which objects have a spectroscopic redshift: probability 1 / (1 + exp((m - m50) / 0.8 -
    log_odds)) in F160W magnitude, with ``log_odds`` (N,) an extra per-object preference (the
    emission-line bias), m50 set so that a fraction ``fraction`` of the galaxies have one; a
    fifth of that for stars."""
    if fraction == 0:
        return np.zeros(mag.size, bool)
    log_odds = np.broadcast_to(np.asarray(log_odds, float), mag.shape)
    gal = ~is_star if (~is_star).any() else np.ones(mag.size, bool)
    m_gal, b_gal = mag[gal], log_odds[gal]
    lo, hi = 0.0, 50.0
    for _ in range(60):  # bisection on one number
        mid = 0.5 * (lo + hi)
        if np.mean(1 / (1 + np.exp(np.clip((m_gal - mid) / 0.8 - b_gal, -500, 500)))) < fraction:
            lo = mid
        else:
            hi = mid
    p = 1 / (1 + np.exp(np.clip((mag - 0.5 * (lo + hi)) / 0.8 - log_odds, -500, 500)))
    p = np.where(is_star, 0.2 * p, p)  # spectroscopic surveys target galaxies
    return rng.random(mag.size) < p
