"""SDSS-like galaxy spectra (chapters A/B): a vectorised, seeded simulator in the observed frame.

What a spectrum is made of, in order:

1. **Stars: isochrone synthesis** (the method of Bruzual & Charlot 2003). A small stellar library
   (black bodies of unit bolometric luminosity on a grid of temperatures, times an opacity
   ``exp(-tau)``) is summed along an isochrone-like population per solar mass formed (Kroupa
   IMF): main-sequence stars with L ~ M^3.5-4, R ~ M^0.57-0.8 up to the turn-off mass whose
   lifetime 10 Gyr M/L equals the age, plus post-main-sequence stars whose total luminosity
   follows the fuel-consumption theorem (Renzini & Buzzoni 1986): supergiants when young, red
   giants (cooler at high metallicity), the horizontal branch and AGB when old. The opacity of a
   star depends on its temperature T and metallicity Z: metal-line blanketing blueward of the
   4000 A break (strongest in cool, metal-rich stars: Dn4000 grows with age and Z, Balogh et al.
   1999), the Balmer jump at 3646 A and Balmer lines (H alpha ... H10) peaking at T ~ 9500 K (A
   stars: strongest at ages 0.3-1 Gyr), and metal lines (Ca II K,H 3934/3969, Ca I 4227, G band
   4304, Fe 4383, Mg b 5167-5183, Fe 5270/5335, Na D 5890/5896, the Ca II triplet) growing in
   cool stars and as sqrt(Z / 0.02). This gives a basis of SSP spectra (28 ages from 1 Myr to
   13.5 Gyr, 4 metallicities) built once per process (vacuum wavelengths, like SDSS).
2. **Star-formation history**: delayed tau, SFR(t) ~ t exp(-t / tau_sf) from t = 0 (``t_form``
   ago) to now. The mass formed in each SSP age bin follows exactly from the incomplete gamma
   function; the label ``age`` is the exact mass-weighted age, ``t_form (1 - h(t_form/tau_sf))``
   with h = 2 P(3, x) / (x P(2, x)); ``sfr_recent`` is the mean SFR of the last 100 Myr. A galaxy's
   stellar spectrum is the SFH-weighted sum of the basis (a matrix product over galaxies),
   interpolated linearly in log Z. ``smass`` is the mass formed.
3. **Emission lines** from the recent SFR: H alpha by Kennicutt (1998), L = 1.26e41 erg/s SFR;
   case-B Balmer ratios (H alpha/H beta = 2.86, H gamma, H delta); [NII]6585/H alpha and
   [OIII]5008/H beta from the gas oxygen abundance (Pettini & Pagel 2004 N2 and O3N2
   calibrations, 12 + log O/H = 8.74 + log10(Z / 0.02)), [OII]3727,3730 falling and [SII] from
   fixed ratios. None below sSFR = 10^-11.2 /yr (quiescent), a linear ramp up to 10^-10.8.
4. **Dust**: the Calzetti et al. (2000) law; tau_V rises with SFR; the lines see A_V / 0.44.
5. **Kinematics**: a Gaussian line-of-sight velocity dispersion growing with mass (about 60-300
   km/s, Faber-Jackson-like) and the instrument's 65 km/s, applied as one FFT convolution along
   log lambda for the whole batch (per-galaxy width in Fourier space), together with the
   sub-pixel part of the redshift shift.
6. **Labels** (joint, SDSS-main-like): log10 smass ~ N(10.6, 0.5) in [9, 11.7]; a quiescent
   fraction rising with mass; mass-weighted age and stellar Z rising with mass (downsizing and
   the mass-metallicity relation; Kauffmann et al. 2003, Gallazzi et al. 2005) with scatter;
   z in ``z_range`` drawn ~ z^2 up to a mass-dependent limit (a flux-limited sample), the
   formation time limited by the age of the universe at z.
7. **Observation**: lambda_obs = lambda_rest (1 + z); f_lambda = L_lambda / (4 pi D_L^2 (1 + z))
   (flat LCDM, H0 = 70, Om = 0.3) in 1e-17 erg/s/cm2/A. Noise: photon noise of source plus a
   sky (continuum, 5578/5890/5896/6302/6365 A lines, an OH forest beyond 6800 A) through a
   throughput falling at both ends, plus read noise; ivar = 1 / sigma^2 of the noiseless model.
   Pixels at the brightest sky lines (and_mask BRIGHTSKY, with sky residuals in the flux) and
   random runs of bad pixels (FULLREJECT, flux 0) get ivar = 0; the bits are SDSS's SPPIXMASK.
8. **Unphysical records** as hack A met them (negative z; negative age, metallicity and mass,
   -1 like a failed fit; mass above 1e13 Msun), in the hack's proportions 5 : 95 : 5. Only the
   label is wrong: the spectrum is that of the real galaxy; ``truth.problem`` names the kind.

Tonry & Davis (1979) cross-correlation (``a3net.metrics.xcorr_redshift``) against
:func:`galaxy_templates` or the SDSS spDR2 templates validates the result. Left out: nebular
continuum, AGN, aperture effects, alpha enhancement, TiO bands, line-of-sight IGM absorption.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import fft, special

from .._validation import check_memory, check_seed

__all__ = [
    "MASK_BITS",
    "SIMULATOR_VERSION",
    "SPECTRUM_LABELS",
    "TEMPLATE_NAMES",
    "GalaxySpectra",
    "galaxy_templates",
    "observed_loglam",
    "rest_frame_spectra",
    "rest_loglam",
    "simulate_spectra",
]

SPECTRUM_LABELS = ("z", "age", "metallicity", "smass")
SIMULATOR_VERSION = 1  # part of every cache name: raise it when the simulator's output changes
LOGLAM_STEP = 1e-4
MASK_BITS = {"FULLREJECT": 1 << 18, "BRIGHTSKY": 1 << 23}  # SDSS SPPIXMASK bits
Z_SOLAR = 0.02
Z_MAX = 0.4  # highest redshift: the rest-frame model starts at 2600 A
SSP_AGES = np.geomspace(1e-3, 13.5, 28)  # Gyr
SSP_METALLICITIES = np.array([0.004, 0.008, 0.02, 0.05])
TRUTH_COLUMNS = ("tau_v", "sigma_v", "sfr_recent", "tau_sf", "t_form", "quiescent", "snr",
                 "problem")  # fmt: skip
PROBLEMS = ("negative_z", "negative_age_metallicity_smass", "smass_above_1e13")
_PROBLEM_SHARES = np.array([5.0, 95.0, 5.0])  # hack A's counts

_REST_RANGE = (2600.0, 9300.0)  # A, the internal rest grid
_REST_TRIM = 50  # pixels at each end left out of rest-frame outputs (convolution edges)
_C_KMS = 299792.458
_PIXEL_KMS = _C_KMS * np.log(10) * LOGLAM_STEP  # 69 km/s
_SIGMA_INSTRUMENT = 65.0  # km/s
_SIGMA_GAS = 40.0  # km/s, intrinsic width of emission lines
_LSUN = 3.828e33  # erg/s
_MPC_CM = 3.0857e24
_HC_K = 1.438777e8  # hc/k in A K
_CHUNK = 512
_GAIN = 11.0  # counts per unit flux per A at unit throughput: sets S/N (see _noise_sigma)
_READ_NOISE = 2.0  # counts per pixel

# Balmer lines (vacuum A) and their strength relative to H delta
_BALMER = ((6564.61, 0.8), (4862.68, 1.0), (4341.68, 1.0), (4102.89, 1.0), (3971.20, 0.9),
           (3890.17, 0.8), (3836.47, 0.7), (3798.98, 0.6))  # fmt: skip
# metal lines: vacuum A, equivalent width [A] in a 4600 K solar star, Gaussian sigma [A], and
# whether the line is Ca II (present down to A stars)
_METALS = ((3934.78, 14.0, 4.0, True), (3969.59, 11.0, 4.0, True), (4227.92, 1.5, 0.9, False),
           (4305.6, 6.0, 5.0, False), (4384.8, 3.0, 1.5, False), (5168.76, 1.2, 0.9, False),
           (5174.13, 1.5, 0.9, False), (5185.05, 1.7, 0.9, False), (5271.0, 2.5, 1.2, False),
           (5336.0, 2.2, 1.2, False), (5891.58, 1.8, 0.9, False), (5897.56, 1.5, 0.9, False),
           (8500.36, 1.2, 1.2, True), (8544.44, 3.0, 1.5, True),
           (8664.52, 2.5, 1.5, True))  # fmt: skip
_EMISSION = {"OII_3727": 3727.09, "OII_3730": 3729.88, "Hdelta": 4102.89, "Hgamma": 4341.68,
             "Hbeta": 4862.68, "OIII_4960": 4960.30, "OIII_5008": 5008.24, "NII_6550": 6549.86,
             "Halpha": 6564.61, "NII_6585": 6585.27, "SII_6718": 6718.29,
             "SII_6733": 6732.67}  # fmt: skip
_SKY_LINES = ((5578.9, 300.0), (5891.6, 90.0), (5897.6, 90.0), (6302.0, 150.0), (6365.5, 50.0))
_BRIGHT_SKY = (5578.9, 5891.6, 5897.6, 6302.0, 6365.5)


class GalaxySpectra(NamedTuple):
    """Simulated spectra: ``loglam`` (L,) float64 observed log10(lambda/A); ``flux`` (N, L)
    float32 [1e-17 erg/s/cm2/A]; ``ivar`` (N, L) float32 (0 = no data); ``and_mask`` (N, L)
    int32 (SDSS bits, 0 = good); ``labels`` DataFrame (z, age [Gyr], metallicity [Z],
    smass [Msun]); ``truth`` DataFrame of hidden values (see ``TRUTH_COLUMNS``)."""

    loglam: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    and_mask: np.ndarray
    labels: pd.DataFrame
    truth: pd.DataFrame


# ----------------------------------------------------------------------------- grids


def observed_loglam(lo: float = 3800.0, hi: float = 9200.0, step: float = LOGLAM_STEP):
    """(L,) float64 log10(lambda/A) from log10(lo) in steps of ``step`` up to log10(hi)."""
    lo, hi, step = float(lo), float(hi), float(step)
    if not (np.isfinite([lo, hi, step]).all() and 0 < lo < hi and step > 0):
        raise ValueError(f"need 0 < lo < hi [A] and step > 0, got lo={lo}, hi={hi}, step={step}.")
    n = int(np.floor((np.log10(hi) - np.log10(lo)) / step + 1e-6)) + 1
    if n < 2:
        raise ValueError(f"lo={lo} and hi={hi} are closer than one step {step}; widen them.")
    return np.log10(lo) + step * np.arange(n)


def rest_loglam() -> np.ndarray:
    """(B,) float64 rest-frame log10(lambda/A), step 1e-4, about 2630-9190 A: the grid of
    :func:`rest_frame_spectra` and :func:`galaxy_templates` by default."""
    return _rest_grid()[_REST_TRIM:-_REST_TRIM].copy()


@functools.lru_cache(maxsize=1)
def _rest_grid() -> np.ndarray:
    return observed_loglam(*_REST_RANGE)


@functools.lru_cache(maxsize=1)
def _cosmology_tables():
    """z grid with D_L [Mpc] and the age of the universe [Gyr] (flat LCDM, H0=70, Om=0.3)."""
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=70.0, Om0=0.3)
    z = np.linspace(0.0, 0.5, 501)
    d_l = cosmo.luminosity_distance(z).value
    d_l[0] = 0.0
    return z, d_l, cosmo.age(z).value


def _calzetti(lam: np.ndarray) -> np.ndarray:
    """A_lambda / A_V of Calzetti et al. (2000), R_V = 4.05; ``lam`` in A."""
    x = np.asarray(lam, dtype=np.float64) / 1e4
    blue = 2.659 * (-2.156 + 1.509 / x - 0.198 / x**2 + 0.011 / x**3) + 4.05
    red = 2.659 * (-1.857 + 1.040 / x) + 4.05
    return np.where(x < 0.63, blue, red) / 4.05


# ----------------------------------------------------------------------------- stars


_T_GRID = np.geomspace(2500.0, 60000.0, 64)  # K


def _gauss(lam, centre, sigma):
    return np.exp(-0.5 * ((lam - centre) / sigma) ** 2)


def _stellar_library(lam: np.ndarray, zeta: float) -> np.ndarray:
    """(nT, R) spectra [1/A] of unit bolometric luminosity at temperatures ``_T_GRID`` for
    metallicity Z = 0.02 ``zeta``: black body times exp(-opacity)."""
    temp = _T_GRID[:, None]
    x = _HC_K / (lam[None, :] * temp)
    body = (15 / np.pi**4) * x**5 / np.expm1(np.minimum(x, 700.0)) * temp / _HC_K
    log_t = np.log10(temp)
    cool = np.clip((7200.0 - temp) / 2600.0, 0.0, 1.25)  # metal lines: G-K-M stars
    calcium = np.clip((9500.0 - temp) / 4000.0, 0.0, 1.2)  # Ca II: down to A stars
    a_star = np.exp(-0.5 * ((log_t - 3.98) / 0.11) ** 2)  # Balmer lines and jump
    blue = 1.0 / (1.0 + np.exp((lam - 4000.0) / 12.0))
    blanket = blue * (1.0 + 1.2 * np.clip((4000.0 - lam) / 1000.0, 0, None))
    blanket = blanket + 0.25 * np.exp(-np.clip(lam - 4000.0, 0, None) / 700.0) * (1 - blue)
    tau = 0.55 * zeta**0.3 * cool**1.3 * blanket[None, :]
    tau = tau + 1.0 * a_star / (1.0 + np.exp((lam[None, :] - 3650.0) / 12.0))
    for centre, strength in _BALMER:
        sigma = 0.0016 * centre
        tau = tau + (12.0 * strength * a_star + 1.0) / (np.sqrt(2 * np.pi) * sigma) * _gauss(
            lam, centre, sigma
        )
    metal = np.sqrt(zeta)
    for centre, ew, sigma, is_calcium in _METALS:
        depth = ew * metal * (calcium if is_calcium else cool) / (np.sqrt(2 * np.pi) * sigma)
        tau = tau + depth * _gauss(lam, centre, sigma)
    return body * np.exp(-tau)


@functools.lru_cache(maxsize=1)
def _mass_grid():
    """Stellar masses [Msun] with Kroupa IMF weights phi dM normalised to 1 Msun formed,
    main-sequence luminosity [Lsun], temperature [K] and lifetime [Gyr] at solar Z."""
    m = np.geomspace(0.08, 100.0, 1200)
    dm = np.gradient(m)
    phi = np.where(m < 0.5, m**-1.3, 0.5 * m**-2.3)
    phi = phi / np.sum(m * phi * dm)
    lum = np.where(m < 0.43, 0.23 * m**2.3, np.where(m < 2, m**4.0, 1.4 * m**3.5))
    lum = np.where(m > 55, 32000.0 * m, lum)
    radius = np.where(m < 1, m**0.8, m**0.57)
    temp = 5778.0 * (lum / radius**2) ** 0.25
    life = 10.0 * m / lum + 0.003
    return m, phi * dm, lum, temp, life


def _deposit(out, temp, lum, spread=0.0):
    """Add luminosities ``lum`` at temperatures ``temp`` into the ``_T_GRID`` bins ``out``
    (linear in log T), optionally spread as a Gaussian of ``spread`` dex."""
    log_grid = np.log10(_T_GRID)
    if spread > 0:
        offsets = np.linspace(-2.5, 2.5, 11)
        weights = np.exp(-0.5 * offsets**2)
        weights /= weights.sum()
        for off, w in zip(offsets, weights, strict=True):
            _deposit(out, temp * 10 ** (off * spread), lum * w)
        return
    pos = np.interp(np.log10(temp), log_grid, np.arange(log_grid.size))
    low = np.floor(pos).astype(int).clip(0, log_grid.size - 2)
    frac = np.clip(pos - low, 0, 1)
    np.add.at(out, low, lum * (1 - frac))
    np.add.at(out, low + 1, lum * frac)


def _isochrone(age: float, zeta: float) -> np.ndarray:
    """(nT,) luminosity [Lsun per Msun formed] of an SSP of ``age`` [Gyr] per temperature bin."""
    m, weight, lum, temp, life = _mass_grid()
    life = life * zeta**0.1
    temp = temp * zeta**-0.03
    out = np.zeros(_T_GRID.size)
    alive = life > age
    _deposit(out, temp[alive], (lum * weight)[alive])
    # post-main sequence: fuel-consumption theorem, L = 9.75e10 Lsun b(t) F(M_TO)
    log_life, log_m = np.log(life[::-1]), np.log(m[::-1])
    turnoff = np.exp(np.interp(np.log(age), log_life, log_m))
    if age < life.min() or turnoff <= m[0]:
        return out
    eps = 0.02
    slope = (
        np.interp(np.log(age) + eps, log_life, log_m)
        - np.interp(np.log(age) - eps, log_life, log_m)
    ) / (2 * eps)
    dm_dt = abs(slope) * turnoff / age * 1e-9  # Msun per yr
    phi_to = 1.0 / np.sum(m * np.where(m < 0.5, m**-1.3, 0.5 * m**-2.3) * np.gradient(m))
    phi_to *= turnoff**-1.3 if turnoff < 0.5 else 0.5 * turnoff**-2.3
    # capped at 0.6 L_MS: near the shortest lifetimes dM_TO/dt diverges
    l_pms = min(9.75e10 * phi_to * dm_dt * 0.5 * turnoff**0.6, 0.6 * out.sum())
    t_turnoff = np.interp(turnoff, m, temp)
    t_rgb = 4450.0 * zeta**-0.07
    t_hb = np.clip(5000.0 * zeta**-0.15, 4800.0, 9000.0)
    massive = special.expit((np.log10(turnoff) - np.log10(8.0)) / 0.08)
    old = special.expit((np.log10(2.2) - np.log10(turnoff)) / 0.08)
    mid = max(0.0, 1.0 - massive - old)
    parts = ((0.35 * massive, 0.7 * t_turnoff), (0.65 * massive, 3900.0), (0.3 * mid, 7000.0),
             (0.7 * mid, t_rgb + 300.0), (0.55 * old, t_rgb), (0.2 * old, t_rgb - 500.0),
             (0.25 * old, t_hb))  # fmt: skip
    for share, t in parts:
        if share > 0:
            _deposit(out, np.array([t]), np.array([share * l_pms]), spread=0.025)
    return out


@functools.lru_cache(maxsize=1)
def _ssp_basis() -> np.ndarray:
    """(nZ * nA, R) float32 SSP spectra [Lsun/A per Msun formed] on the internal rest grid."""
    lam = 10 ** _rest_grid()
    basis = []
    for metallicity in SSP_METALLICITIES:
        zeta = metallicity / Z_SOLAR
        library = _stellar_library(lam, zeta)
        weights = np.array([_isochrone(a, zeta) for a in SSP_AGES])
        basis.append(weights @ library)
    return np.concatenate(basis).astype(np.float32)


# ----------------------------------------------------------------------------- galaxies


def _mean_time_fraction(x):
    """h(x) = <t> / t_form for SFR ~ t exp(-t/tau) on [0, t_form], x = t_form / tau."""
    x = np.asarray(x, dtype=np.float64)
    return 2 * special.gammainc(3, x) / (x * special.gammainc(2, x))


@functools.lru_cache(maxsize=1)
def _age_fraction_table():
    x = np.geomspace(0.02, 60.0, 2000)
    return x, 1.0 - _mean_time_fraction(x)  # mass-weighted age / t_form, increasing in x


def _sfh_masses(age, x, mass):
    """Mass [Msun] formed per SSP age bin (N, nA), t_form, tau_sf [Gyr] and the mean SFR of the
    last 100 Myr [Msun/yr] of a delayed-tau history with mass-weighted ``age`` and x."""
    frac = np.interp(x, *_age_fraction_table())
    t_form = age / frac
    tau = t_form / x
    edges = np.concatenate([[0.0], np.sqrt(SSP_AGES[1:] * SSP_AGES[:-1]), [np.inf]])
    u = np.clip(t_form[:, None] - edges[None, :], 0, None) / tau[:, None]
    cdf = special.gammainc(2, u)  # mass formed before each lookback edge, unnormalised
    total = special.gammainc(2, x)
    masses = mass[:, None] * (cdf[:, :-1] - cdf[:, 1:]) / total[:, None]
    recent = special.gammainc(2, np.clip(t_form - 0.1, 0, None) / tau)
    sfr = mass * (total - recent) / total / 1e8
    return masses, t_form, tau, sfr


def _metallicity_weights(metallicity):
    """Index of the lower basis metallicity and the weight of the upper one (linear in log Z)."""
    log_z = np.log10(np.clip(metallicity, SSP_METALLICITIES[0], SSP_METALLICITIES[-1]))
    pos = np.interp(log_z, np.log10(SSP_METALLICITIES), np.arange(SSP_METALLICITIES.size))
    low = np.minimum(np.floor(pos).astype(int), SSP_METALLICITIES.size - 2)
    return low, pos - low


def _draw_labels(n: int, rng, z_range) -> pd.DataFrame:
    """Physical labels and the quiescent flag of ``n`` galaxies (see the module docstring)."""
    log_m = np.clip(special.ndtri(rng.uniform(special.ndtr(-3.2), special.ndtr(2.2), n)) * 0.5
                    + 10.6, 9.0, 11.7)  # fmt: skip
    quiescent = rng.uniform(size=n) < special.expit((log_m - 10.6) / 0.3)
    # a flux-limited sample: D_L,max grows as sqrt(M); z ~ z^2 (volume) below it
    z_tab, d_tab, age_tab = _cosmology_tables()
    d_max = np.interp(0.12, z_tab, d_tab) * 10 ** (0.5 * (log_m - 10.6))
    lo, hi = z_range
    z_max = np.clip(np.interp(d_max, d_tab, z_tab), lo + 0.25 * (hi - lo), hi)
    z = (lo**3 + rng.uniform(size=n) * (z_max**3 - lo**3)) ** (1 / 3)
    log_age = 0.55 + 0.25 * (log_m - 10.5) + 0.25 * quiescent + rng.normal(0, 0.12, n)
    t_universe = np.interp(z, z_tab, age_tab)
    age = np.clip(10**log_age, 0.3, 0.92 * t_universe)
    log_zeta = -0.15 + 0.28 * (log_m - 10.5) + rng.normal(0, 0.15, n)
    metallicity = np.clip(Z_SOLAR * 10**log_zeta, 0.0045, 0.045)
    return pd.DataFrame(
        {"z": z, "age": age, "metallicity": metallicity, "smass": 10**log_m, "quiescent": quiescent}
    )


def _draw_hidden(labels: pd.DataFrame, rng, quiescent=None) -> pd.DataFrame:
    """SFH shape, dust and velocity dispersion given the labels (drawn, seeded)."""
    n = len(labels)
    z, age = labels["z"].to_numpy(float), labels["age"].to_numpy(float)
    log_m = np.log10(labels["smass"].to_numpy(float))
    u_q, u_x, e_dust, e_sigma = rng.uniform(size=n), rng.uniform(size=n), *rng.normal(size=(2, n))
    if quiescent is None:  # drawn from its probability given the mass and the age (Bayes)
        prior = special.expit((log_m - 10.6) / 0.3)
        offset = np.log10(age) - (0.55 + 0.25 * (log_m - 10.5))  # _draw_labels' age relation
        like_q = np.exp(-0.5 * ((offset - 0.25) / 0.12) ** 2)
        like_s = np.exp(-0.5 * (offset / 0.12) ** 2)
        quiescent = u_q < prior * like_q / (prior * like_q + (1 - prior) * like_s + 1e-300)
    quiescent = np.asarray(quiescent, dtype=bool)
    x = np.where(quiescent, 8.0 + 8.0 * u_x, 0.2 + 2.8 * u_x)
    # t_form = age / frac(x) may not exceed the age of the universe at z: raise x if needed
    z_tab, _, age_tab = _cosmology_tables()
    need = age / (0.98 * np.interp(z, z_tab, age_tab))
    x_tab, frac_tab = _age_fraction_table()
    x = np.maximum(x, np.interp(np.clip(need, frac_tab[0], frac_tab[-1]), frac_tab, x_tab))
    _, t_form, tau_sf, sfr = _sfh_masses(age, x, 10**log_m)
    tau_v = np.clip(0.35 + 0.3 * np.log10(sfr + 1e-3) + 0.12 * e_dust, 0.0, 2.0)
    log_sigma = 2.05 + 0.28 * (log_m - 10.0) + 0.05 * quiescent + 0.04 * e_sigma
    sigma_v = np.clip(10**log_sigma, 40.0, 400.0)
    return pd.DataFrame(
        {
            "tau_v": tau_v,
            "sigma_v": sigma_v,
            "sfr_recent": sfr,
            "tau_sf": tau_sf,
            "t_form": t_form,
            "quiescent": quiescent,
            "x": x,
        }
    )


@functools.lru_cache(maxsize=1)
def _line_profiles():
    """Per emission line: first pixel on the rest grid and a unit-flux profile [1/A]."""
    grid = _rest_grid()
    width = _SIGMA_GAS / _PIXEL_KMS
    out = {}
    for name, centre in _EMISSION.items():
        pos = (np.log10(centre) - grid[0]) / LOGLAM_STEP
        first = int(np.floor(pos)) - 8
        pix = np.arange(first, first + 18)
        prof = np.exp(-0.5 * ((pix - pos) / width) ** 2)
        prof /= prof.sum() * centre * np.log(10) * LOGLAM_STEP
        out[name] = (first, prof.astype(np.float32))
    return out


def _line_luminosities(sfr, metallicity, mass):
    """Emission-line luminosities [Lsun] before dust, one (N,) array per line."""
    ssfr = sfr / mass
    on = np.clip((np.log10(ssfr + 1e-30) + 11.2) / 0.4, 0.0, 1.0)
    halpha = 1.26e41 / _LSUN * sfr * on
    hbeta = halpha / 2.86
    oh = np.clip(8.74 + np.log10(metallicity / Z_SOLAR), 7.9, 9.2)
    n2 = np.clip((oh - 8.90) / 0.57, -2.0, -0.3)
    o3n2 = (8.73 - oh) / 0.32
    oiii = hbeta * 10 ** (o3n2 + n2)
    nii = halpha * 10**n2
    oii = hbeta * 10 ** (0.45 - 0.5 * (oh - 8.5))
    sii = 0.3 * halpha
    return {"OII_3727": 0.43 * oii, "OII_3730": 0.57 * oii, "Hdelta": 0.259 * hbeta,
            "Hgamma": 0.468 * hbeta, "Hbeta": hbeta, "OIII_4960": oiii / 2.98,
            "OIII_5008": oiii, "NII_6550": nii / 3.05, "Halpha": halpha, "NII_6585": nii,
            "SII_6718": 0.58 * sii, "SII_6733": 0.42 * sii}  # fmt: skip


def _distance_factor(z):
    """Lsun / (4 pi D_L^2) in 1e-17 erg/s/cm2 for redshifts ``z`` (N,)."""
    z_tab, d_tab, _ = _cosmology_tables()
    d_cm = np.interp(np.abs(z), z_tab, d_tab) * _MPC_CM
    return _LSUN / (4 * np.pi * d_cm**2) / 1e-17


def _rest_model(z, metallicity, mass, age, hidden) -> np.ndarray:
    """(N, R) float32 rest-frame f_lambda = L_lambda / (4 pi D_L^2) [1e-17 erg/s/cm2/A] on the
    internal rest grid, before the velocity broadening."""
    basis = _ssp_basis()
    n_age = SSP_AGES.size
    masses, *_ = _sfh_masses(age, hidden["x"].to_numpy(float), mass)
    scale = _distance_factor(z)
    low, frac = _metallicity_weights(metallicity)
    weights = np.zeros((len(z), SSP_METALLICITIES.size, n_age))
    rows = np.arange(len(z))
    weights[rows, low] = masses * (scale * (1 - frac))[:, None]
    weights[rows, low + 1] = masses * (scale * frac)[:, None]
    flux = weights.reshape(len(z), -1).astype(np.float32) @ basis
    dust = _calzetti(10 ** _rest_grid()).astype(np.float32)
    tau_v = hidden["tau_v"].to_numpy(np.float32)
    flux *= np.exp(-tau_v[:, None] * dust[None, :])
    lines = _line_luminosities(hidden["sfr_recent"].to_numpy(float), metallicity, mass)
    for name, (first, prof) in _line_profiles().items():
        gas = np.exp(-hidden["tau_v"].to_numpy(float) / 0.44 * _calzetti(_EMISSION[name]))
        amp = (lines[name] * gas * scale).astype(np.float32)
        flux[:, first : first + prof.size] += amp[:, None] * prof[None, :]
    return flux


def _broaden_and_shift(flux, sigma_v, shift, n_out):
    """Gaussian broadening by sigma_v (+ instrument) [km/s] and a shift by ``shift`` pixels
    (out[j] = in[j + shift]) of each row, as one FFT; returns (N, n_out)."""
    n, length = flux.shape
    start = np.floor(shift).astype(int)
    frac = (shift - start).astype(np.float32)
    size = fft.next_fast_len(length + 64, real=True)
    spec = fft.rfft(flux, n=size, axis=1, workers=1)
    freq = np.fft.rfftfreq(size).astype(np.float32)
    sigma_pix = (np.sqrt(sigma_v**2 + _SIGMA_INSTRUMENT**2) / _PIXEL_KMS).astype(np.float32)
    phase = (2 * np.pi) * freq[None, :] * frac[:, None]
    spec *= np.exp(-2 * np.pi**2 * (freq[None, :] * sigma_pix[:, None]) ** 2) * (
        np.cos(phase) + 1j * np.sin(phase)
    ).astype(np.complex64)
    full = fft.irfft(spec, n=size, axis=1, workers=1)
    idx = start[:, None] + np.arange(n_out)[None, :]
    return np.take_along_axis(full, idx, axis=1).astype(np.float32, copy=False)


# ----------------------------------------------------------------------------- observing


@functools.lru_cache(maxsize=4)
def _instrument(loglam_key: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky [1e-17 erg/s/cm2/A per fibre], relative throughput and the BRIGHTSKY pixels."""
    loglam = observed_loglam(*loglam_key)
    lam = 10**loglam
    sky = 3.0 + 5.0 * (lam / 9000.0) ** 1.5
    pix_a = lam * np.log(10) * LOGLAM_STEP
    line_sigma = 1.2 * pix_a
    forest = np.random.default_rng(12345)  # fixed OH-forest line list, not the simulation's seed
    oh_lines = [(w, f) for w, f in zip(np.sort(forest.uniform(6800, 9300, 90)),
                                       np.exp(forest.uniform(np.log(15), np.log(300), 90)),
                                       strict=True)]  # fmt: skip
    for centre, total in (*_SKY_LINES, *oh_lines):
        sky += total / (np.sqrt(2 * np.pi) * line_sigma) * _gauss(lam, centre, line_sigma)
    through = np.exp(-0.5 * (np.log10(lam / 6300.0) / 0.17) ** 4) / (
        1.0 + np.exp((lam - 9000.0) / 120.0)
    )
    bright = np.zeros(lam.size, dtype=bool)
    for centre in _BRIGHT_SKY:
        bright |= np.abs(loglam - np.log10(centre)) <= 2.5 * LOGLAM_STEP
    return sky, through, bright


def _noise_sigma(model, sky, through, snr_scale):
    """Per-pixel sigma [flux units]: Poisson noise of source + sky and read noise, in counts
    ``_GAIN * throughput`` per unit flux, divided by ``snr_scale``."""
    counts = _GAIN * through
    var = (np.maximum(model, 0) + sky) / counts + (_READ_NOISE / counts) ** 2
    return np.sqrt(var) / snr_scale


# ----------------------------------------------------------------------------- public


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}.")
    return int(value)


def _check_z_range(z_range):
    try:
        lo, hi = (float(v) for v in z_range)
    except (TypeError, ValueError):
        raise ValueError(f"z_range must be a pair (lo, hi), got {z_range!r}.") from None
    if not (np.isfinite([lo, hi]).all() and 0 <= lo < hi <= Z_MAX):
        raise ValueError(
            f"z_range must satisfy 0 <= lo < hi <= {Z_MAX} (the rest model starts at 2600 A), "
            f"got {z_range!r}."
        )
    return lo, hi


def simulate_spectra(
    n: int,
    *,
    seed: int = 0,
    z_range=(0.02, 0.25),
    unphysical_fraction: float = 0.01,
    snr_scale: float = 1.0,
    noise: bool = True,
    cache: bool = False,
    labels: pd.DataFrame | None = None,
) -> GalaxySpectra:
    """``n`` SDSS-like galaxy spectra on :func:`observed_loglam` (see the module docstring).

    ``snr_scale`` multiplies every pixel's S/N (median about 10 at 5000-6000 A at 1).
    ``noise=False`` returns the noiseless model with the same labels, truth, ivar and mask (the
    noise has its own random stream), for checks. A fraction ``unphysical_fraction`` of records
    gets unphysical labels (``truth.problem``). ``labels`` (a DataFrame of ``n`` physical rows
    with z, age, metallicity, smass) observes new galaxies with those labels instead of drawing
    them, their hidden parameters drawn given the labels: a perfect generator's redraw (needs
    ``unphysical_fraction=0`` and no cache). Same arguments, same arrays. With ``cache=True``
    the result is kept in ``a3net.data.fetch.data_dir() / "simulated"`` (``A3NET_DATA``) under a
    name made of every argument and ``SIMULATOR_VERSION`` and read back instead.
    """
    n = _check_int(n, "n", 1)
    seed = check_seed(seed)
    # flux, ivar, masks and the working arrays of a chunk: about 24 bytes a pixel
    check_memory(n * observed_loglam().size * 24 + 1e8, f"simulate_spectra({n})")
    z_range = _check_z_range(z_range)
    unphysical_fraction = float(unphysical_fraction)
    if not 0 <= unphysical_fraction <= 0.5:
        raise ValueError(f"unphysical_fraction must lie in [0, 0.5], got {unphysical_fraction}.")
    snr_scale = float(snr_scale)
    if not (np.isfinite(snr_scale) and snr_scale > 0):
        raise ValueError(f"snr_scale must be a positive number, got {snr_scale}.")
    args = (n, seed, z_range, unphysical_fraction, snr_scale, bool(noise))
    if labels is not None:
        labels = _check_labels(labels)
        if len(labels) != n or unphysical_fraction or cache:
            raise ValueError(
                f"with labels, n must be len(labels) = {len(labels)} (got {n}), "
                "unphysical_fraction 0 and cache False."
            )
        return _simulate(*args, labels=labels)
    path = _cache_path(args) if cache else None
    cached = _load(path, n) if path is not None else None
    if cached is not None:
        return cached
    result = _simulate(*args)
    if path is not None:
        _save(path, result)
    return result


def _simulate(n, seed, z_range, unphysical_fraction, snr_scale, noise, labels=None):
    rng = np.random.default_rng([seed, 0])
    if labels is None:
        labels = _draw_labels(n, rng, z_range)
        hidden = _draw_hidden(labels, rng, quiescent=labels.pop("quiescent").to_numpy())
    else:
        labels = labels[list(SPECTRUM_LABELS)].reset_index(drop=True).astype(float)
        hidden = _draw_hidden(labels, rng)
    loglam = observed_loglam()
    sky, through, bright = _instrument((3800.0, 9200.0, LOGLAM_STEP))
    length = loglam.size
    flux = np.empty((n, length), dtype=np.float32)
    ivar = np.empty((n, length), dtype=np.float32)
    snr = np.empty(n)
    noise_rng = np.random.default_rng([seed, 1])
    z = labels["z"].to_numpy()
    shift = (loglam[0] - np.log10(1 + z) - _rest_grid()[0]) / LOGLAM_STEP
    window = (loglam > np.log10(5000)) & (loglam < np.log10(6000))
    for lo in range(0, n, _CHUNK):
        part = slice(lo, min(n, lo + _CHUNK))
        rest = _rest_model(z[part], labels["metallicity"].to_numpy()[part],
                           labels["smass"].to_numpy()[part], labels["age"].to_numpy()[part],
                           hidden.iloc[part])  # fmt: skip
        model = _broaden_and_shift(rest, hidden["sigma_v"].to_numpy()[part], shift[part], length)
        model /= (1 + z[part]).astype(np.float32)[:, None]
        sigma = _noise_sigma(model, sky, through, snr_scale).astype(np.float32)
        snr[part] = np.median(model[:, window] / sigma[:, window], axis=1)
        ivar[part] = 1.0 / sigma**2
        if noise:
            draw = noise_rng.standard_normal(model.shape, dtype=np.float32)
            flux[part] = model + sigma * draw
        else:
            flux[part] = model
    and_mask = _masks(n, length, bright, np.random.default_rng([seed, 2]))
    if noise:  # sky-subtraction residuals where the sky lines are brightest
        resid = np.random.default_rng([seed, 3]).standard_normal((n, bright.sum()))
        flux[:, bright] += (0.05 * sky[bright] * resid).astype(np.float32)
        flux[(and_mask & MASK_BITS["FULLREJECT"]) > 0] = 0.0
    ivar[and_mask > 0] = 0.0
    truth = hidden.drop(columns="x")
    truth["snr"] = snr
    labels, truth["problem"] = _unphysical(labels, unphysical_fraction, rng)
    return GalaxySpectra(loglam, flux, ivar, and_mask, labels.reset_index(drop=True), truth)


def _masks(n, length, bright, rng) -> np.ndarray:
    """(n, L) int32: BRIGHTSKY at the brightest sky lines; up to 3 runs of 1-8 bad pixels."""
    mask = np.zeros((n, length), dtype=np.int32)
    mask[:, bright] = MASK_BITS["BRIGHTSKY"]
    runs = rng.poisson(0.6, n).clip(0, 3)
    start = rng.integers(0, length - 8, (n, 3))
    size = rng.integers(1, 9, (n, 3))
    pix = np.arange(length)
    for k in range(3):
        on = k < runs
        bad = (pix[None, :] >= start[on, k, None]) & (pix[None, :] < (start + size)[on, k, None])
        mask[on] |= np.where(bad, MASK_BITS["FULLREJECT"], 0).astype(np.int32)
    return mask


def _unphysical(labels: pd.DataFrame, fraction: float, rng):
    """Labels with ``fraction`` of records made unphysical, and the problem per record."""
    labels = labels.copy()
    problem = np.full(len(labels), "", dtype=object)
    n_bad = int(round(fraction * len(labels)))
    if n_bad == 0:
        return labels, problem
    share = _PROBLEM_SHARES / _PROBLEM_SHARES.sum() * n_bad
    counts = np.floor(share).astype(int)
    counts[np.argsort(counts - share)[: n_bad - counts.sum()]] += 1  # largest remainders
    chosen = rng.permutation(len(labels))[:n_bad]
    kinds = np.repeat(np.arange(3), counts)
    for kind, rows in ((k, chosen[kinds == k]) for k in range(3)):
        problem[rows] = PROBLEMS[kind]
        if kind == 0:
            labels.loc[rows, "z"] = -rng.uniform(1e-4, 3e-3, rows.size)
        elif kind == 1:
            labels.loc[rows, ["age", "metallicity", "smass"]] = -1.0
        else:
            labels.loc[rows, "smass"] = 10 ** rng.uniform(13.05, 14.0, rows.size)
    return labels, problem


def _check_labels(labels) -> pd.DataFrame:
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(f"labels must be a pandas DataFrame, got {type(labels).__name__}.")
    missing = [c for c in SPECTRUM_LABELS if c not in labels.columns]
    if missing:
        raise ValueError(f"labels lacks the columns {missing}; it needs {SPECTRUM_LABELS}.")
    if len(labels) == 0:
        raise ValueError("labels is empty; pass at least one row.")
    values = labels[list(SPECTRUM_LABELS)].to_numpy(float)
    limits = {"z": (1e-3, Z_MAX), "age": (0.01, 13.5), "metallicity": (1e-4, 0.1),
              "smass": (1e6, 1e13)}  # fmt: skip
    for j, name in enumerate(SPECTRUM_LABELS):
        lo, hi = limits[name]
        bad = ~((values[:, j] >= lo) & (values[:, j] <= hi))
        if bad.any():
            raise ValueError(
                f"labels[{name!r}] must lie in [{lo:g}, {hi:g}] (got {values[bad, j][0]!r} in "
                f"{int(bad.sum())} rows); remove unphysical records first (clean_spectra)."
            )
    return labels


def rest_frame_spectra(labels, *, loglam=None, seed: int = 0, truth=None):
    """Noiseless rest-frame model spectra for ``labels`` (DataFrame with z, age, metallicity,
    smass): returns (loglam (B,) float64, flux (N, B) float32), flux = f_lambda,obs (1 + z) =
    L_lambda / (4 pi D_L^2) [1e-17 erg/s/cm2/A], velocity-broadened.

    The hidden parameters (SFH shape, dust, sigma_v) are drawn given the labels with ``seed``
    (a new galaxy with these labels), or taken from ``truth`` (rows of
    ``simulate_spectra(...).truth``: then the spectra are that simulation's noiseless ones).
    ``loglam`` (increasing, within about 2630-9190 A) defaults to :func:`rest_loglam`; the
    model is averaged over each new bin (edges halfway between centres).
    """
    labels = _check_labels(labels)
    seed = _check_int(seed, "seed", 0)
    if truth is None:
        hidden = _draw_hidden(labels, np.random.default_rng([seed, 4]))
    else:
        if not isinstance(truth, pd.DataFrame) or len(truth) != len(labels):
            raise ValueError("truth must be the DataFrame simulate_spectra returned, one row per "
                             "label row.")  # fmt: skip
        missing = [c for c in ("tau_v", "sigma_v", "sfr_recent", "tau_sf", "t_form") if
                   c not in truth.columns]  # fmt: skip
        if missing:
            raise ValueError(f"truth lacks the columns {missing}.")
        hidden = truth.reset_index(drop=True).copy()
        hidden["x"] = hidden["t_form"] / hidden["tau_sf"]
    grid = _rest_grid()
    z = labels["z"].to_numpy(float)
    out = []
    for lo in range(0, len(labels), _CHUNK):
        part = slice(lo, min(len(labels), lo + _CHUNK))
        rest = _rest_model(z[part], labels["metallicity"].to_numpy(float)[part],
                           labels["smass"].to_numpy(float)[part],
                           labels["age"].to_numpy(float)[part], hidden.iloc[part])  # fmt: skip
        out.append(_broaden_and_shift(rest, hidden["sigma_v"].to_numpy(float)[part],
                                      np.zeros(rest.shape[0]), grid.size))  # fmt: skip
    flux = np.concatenate(out)
    if loglam is None:
        return rest_loglam(), flux[:, _REST_TRIM:-_REST_TRIM].copy()
    new = _check_rest_grid(loglam)
    return new, _bin_average(grid, flux, new)


def _check_rest_grid(loglam) -> np.ndarray:
    new = np.asarray(loglam, dtype=np.float64)
    inside = rest_loglam()
    if new.ndim != 1 or new.size < 2 or not np.all(np.isfinite(new)) or np.any(np.diff(new) <= 0):
        raise ValueError("loglam must be a finite, increasing 1-D log10(lambda/A) grid.")
    if new[0] < inside[0] or new[-1] > inside[-1]:
        raise ValueError(
            f"loglam must lie within the rest model's {10 ** inside[0]:.0f}-"
            f"{10 ** inside[-1]:.0f} A, got {10 ** new[0]:.0f}-{10 ** new[-1]:.0f} A."
        )
    return new


def _bin_average(grid, flux, new):
    """Mean of piecewise-constant ``flux`` (N, R) on ``grid`` over bins centred on ``new``."""
    step = grid[1] - grid[0]
    edges = np.concatenate([[1.5 * new[0] - 0.5 * new[1]], 0.5 * (new[1:] + new[:-1]),
                            [1.5 * new[-1] - 0.5 * new[-2]]])  # fmt: skip
    cum = np.concatenate([np.zeros((flux.shape[0], 1)), np.cumsum(flux, axis=1, dtype=np.float64)],
                         axis=1)  # fmt: skip
    pos = np.clip((edges - grid[0]) / step + 0.5, 0, grid.size)
    low = np.minimum(np.floor(pos).astype(int), grid.size - 1)
    at_edge = cum[:, low] + (pos - low) * (cum[:, low + 1] - cum[:, low])
    return (np.diff(at_edge, axis=1) / np.diff(pos)).astype(np.float32)


TEMPLATE_NAMES = ("elliptical", "S0", "Sa", "Sb", "Sc", "starburst")
# age [Gyr], Z, x = t_form/tau_sf, tau_V, sigma_v [km/s]: early to late type
_TEMPLATE_PARAMS = {"elliptical": (10.0, 0.03, 14.0, 0.0, 220.0),
                    "S0": (7.5, 0.025, 7.0, 0.1, 170.0), "Sa": (5.5, 0.02, 4.0, 0.3, 140.0),
                    "Sb": (4.0, 0.018, 2.0, 0.4, 110.0), "Sc": (2.5, 0.012, 0.6, 0.5, 80.0),
                    "starburst": (0.5, 0.008, 0.3, 0.6, 60.0)}  # fmt: skip


def galaxy_templates(loglam=None, *, names=TEMPLATE_NAMES) -> dict:
    """Noiseless rest-frame templates, early to late type: name -> (loglam (B,), flux (B,),
    0.0), flux normalised to median 1, on :func:`rest_loglam` (step 1e-4, about 2630-9190 A)
    by default, the form ``a3net.metrics.best_template_redshift`` takes."""
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [k for k in names if k not in _TEMPLATE_PARAMS]
    if unknown or not names:
        raise ValueError(f"names must be a non-empty subset of {TEMPLATE_NAMES}, got {unknown}.")
    params = np.array([_TEMPLATE_PARAMS[k] for k in names])
    age, metallicity, x, tau_v, sigma_v = params.T
    mass = np.full(len(names), 1e10)
    masses, t_form, tau_sf, sfr = _sfh_masses(age, x, mass)
    labels = pd.DataFrame({"z": 0.05, "age": age, "metallicity": metallicity, "smass": mass})
    truth = pd.DataFrame({"tau_v": tau_v, "sigma_v": sigma_v, "sfr_recent": sfr,
                          "tau_sf": tau_sf, "t_form": t_form})  # fmt: skip
    grid, flux = rest_frame_spectra(labels, loglam=loglam, truth=truth)
    flux = flux / np.median(flux, axis=1, keepdims=True)
    return {k: (grid, flux[i].astype(np.float64), 0.0) for i, k in enumerate(names)}


# ----------------------------------------------------------------------------- cache


def _cache_path(args) -> Path:
    from .fetch import data_dir

    key = hashlib.sha256(repr((SIMULATOR_VERSION, *args)).encode()).hexdigest()[:16]
    return data_dir() / "simulated" / f"spectra-{args[0]}-{key}.npz"


def _save(path: Path, result: GalaxySpectra) -> None:
    """Cache ``result`` at ``path`` atomically (a3net.data._cache); a failure only warns."""
    from ._cache import write_cached

    columns = {f"labels__{k}": result.labels[k].to_numpy() for k in result.labels.columns}
    columns.update({f"truth__{k}": result.truth[k].to_numpy() for k in result.truth.columns})
    columns["truth__problem"] = result.truth["problem"].to_numpy().astype(str)
    arrays = {"loglam": result.loglam, "flux": result.flux, "ivar": result.ivar,
              "and_mask": result.and_mask, **columns}  # fmt: skip
    write_cached(path, arrays, what="simulate_spectra")


def _load(path: Path, n: int) -> GalaxySpectra | None:
    """The cached spectra of ``n`` galaxies at ``path``, or None (absent, or damaged or of the
    wrong shape: deleted with a warning, to be simulated again)."""
    from ._cache import read_cached

    size = observed_loglam().size
    expect = {
        "loglam": ((size,), np.float64),
        "flux": ((n, size), np.float32),
        "ivar": ((n, size), np.float32),
        "and_mask": ((n, size), np.int32),
        "labels__*": ((n,), None),
        "truth__*": ((n,), None),
        "truth__problem": ((n,), None),
    }
    data = read_cached(path, what="simulate_spectra", expect=expect)
    if data is None:
        return None
    labels = pd.DataFrame({k[8:]: v for k, v in data.items() if k.startswith("labels__")})
    truth = pd.DataFrame({k[7:]: v for k, v in data.items() if k.startswith("truth__")})
    truth["problem"] = truth["problem"].astype(object)
    return GalaxySpectra(data["loglam"], data["flux"], data["ivar"], data["and_mask"],
                         labels, truth)  # fmt: skip
