"""Linear theory for the cosmology maps of chapters E and H: constants and the matter spectrum.

The linear matter power spectrum today uses the Eisenstein & Hu (1998) transfer function without
baryon wiggles, a primordial slope ``N_S`` and the amplitude ``sigma_8`` (the rms of the linear
density in spheres of 8 Mpc/h). Omega_b, h and n_s are fixed at the CAMELS values, so a spectrum
depends on (Omega_m, sigma_8) only: Omega_m sets its shape (the turnover near k_eq, through
Omega_m h), sigma_8 its amplitude. Units: k in h/Mpc, P(k) in (Mpc/h)^3, masses in Msun/h.

Halo concentration (``concentration_200c``): the Diemer & Joyce (2019) c200c(M) model at z = 0,
computed here from this module's spectrum (a few ms per box) and tested against colossus (Diemer
2018; ``colossus_concentration``, for a flat cosmology with these Omega_b, h, n_s, T_CMB, no
relativistic species and the no-wiggle spectrum 'eisenstein98_zb', as here; about 50 ms per new
cosmology, too slow to call per box). It depends on the cosmology through the peak height
nu = delta_c / sigma(M), the slope of the spectrum and the growth rate, so at fixed mass c rises
with sigma_8 (halos of a given mass form earlier).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

OMEGA_B = 0.049  # baryon density of every CAMELS simulation
HUBBLE = 0.6711  # h
N_S = 0.9624  # primordial spectral index
T_CMB = 2.7255  # K
RHO_CRIT = 2.775e11  # critical density today [(Msun/h) / (Mpc/h)^3]
DELTA_C = 1.686  # linear overdensity at spherical collapse

_LOG_K = np.linspace(np.log(1e-4), np.log(1e3), 4000)  # integration grid for sigma(R) [h/Mpc]


def _check_cosmology(omega_m, sigma_8) -> tuple[float, float]:
    try:
        om, s8 = float(omega_m), float(sigma_8)
    except (TypeError, ValueError):
        raise TypeError(
            f"omega_m and sigma_8 must be numbers, got {omega_m!r} and {sigma_8!r}."
        ) from None
    if not (OMEGA_B < om <= 1.0):
        raise ValueError(f"omega_m must lie in ({OMEGA_B}, 1], got {om}.")
    if not (0.0 < s8 < 3.0):
        raise ValueError(f"sigma_8 must lie in (0, 3), got {s8}.")
    return om, s8


def transfer_no_wiggle(k, omega_m: float) -> np.ndarray:
    """Eisenstein & Hu (1998, eqs. 26-31) zero-wiggle transfer function at k [h/Mpc]."""
    om, _ = _check_cosmology(omega_m, 0.8)
    k = np.asarray(k, dtype=np.float64)
    h, fb = HUBBLE, OMEGA_B / om
    wm, wb = om * h * h, OMEGA_B * h * h
    theta = T_CMB / 2.7
    sound_horizon = 44.5 * np.log(9.83 / wm) / np.sqrt(1 + 10 * wb**0.75)  # Mpc
    alpha = 1 - 0.328 * np.log(431 * wm) * fb + 0.38 * np.log(22.3 * wm) * fb * fb
    k_mpc = k * h
    gamma = om * h * (alpha + (1 - alpha) / (1 + (0.43 * k_mpc * sound_horizon) ** 4))
    q = k * theta * theta / gamma
    l0 = np.log(2 * np.e + 1.8 * q)
    c0 = 14.2 + 731 / (1 + 62.5 * q)
    return l0 / (l0 + c0 * q * q)


def _tophat(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, 1e-8)
    small = x < 1e-3
    w = 3 * (np.sin(x) - x * np.cos(x)) / x**3
    return np.where(small, 1 - x * x / 10, w)


def sigma_r(radius, omega_m: float, sigma_8: float) -> np.ndarray:
    """rms linear density today in top-hat spheres of ``radius`` [Mpc/h] (any shape)."""
    om, s8 = _check_cosmology(omega_m, sigma_8)
    r = np.asarray(radius, dtype=np.float64)
    k = np.exp(_LOG_K)
    pk = linear_power(k, om, s8)
    integrand = k**3 * pk / (2 * np.pi**2) * _tophat(np.multiply.outer(r, k)) ** 2
    return np.sqrt(np.trapezoid(integrand, _LOG_K, axis=-1))


def linear_power(k, omega_m: float, sigma_8: float) -> np.ndarray:
    """Linear matter power spectrum today, P(k) [(Mpc/h)^3] at k [h/Mpc], normalised to sigma_8.

    ``k`` may have any shape; k = 0 gives 0 (the mean carries no fluctuation).
    """
    om, s8 = _check_cosmology(omega_m, sigma_8)
    k = np.asarray(k, dtype=np.float64)
    grid = np.exp(_LOG_K)
    shape = grid**N_S * transfer_no_wiggle(grid, om) ** 2
    s8_raw = np.trapezoid(grid**3 * shape / (2 * np.pi**2) * _tophat(8.0 * grid) ** 2, _LOG_K)
    norm = s8 * s8 / s8_raw
    safe = np.where(k > 0, k, 1.0)
    pk = norm * safe**N_S * transfer_no_wiggle(safe, om) ** 2
    return np.where(k > 0, pk, 0.0)


def lagrangian_radius(mass, omega_m: float) -> np.ndarray:
    """Radius [Mpc/h] of the sphere that holds ``mass`` [Msun/h] at the mean matter density."""
    return (3 * np.asarray(mass, dtype=np.float64) / (4 * np.pi * omega_m * RHO_CRIT)) ** (1 / 3)


# ----------------------------------------------------------------------------- concentration

CONCENTRATION_MODEL = "diemer19"  # Diemer & Joyce (2019), median c200c
DELTA_COLLAPSE = 1.68647  # colossus' delta_c for peak heights
_DJ19 = dict(kappa=0.41, a_0=2.45, a_1=1.82, b_0=3.20, b_1=2.30, c_alpha=0.21)  # median fit
_POWER_MODEL = {"model": "eisenstein98_zb", "path": None}  # colossus' Eisenstein & Hu no-wiggle
_LOG10_C = np.linspace(-1.0, 3.0, 400)  # concentration grid of the G(c) inversion


def growth_rate(omega_m: float) -> float:
    """d ln D / d ln a today in a flat LCDM universe without radiation (Heath 1977)."""
    om, _ = _check_cosmology(omega_m, 0.8)
    a = np.linspace(1e-6, 1.0, 20001)
    e = np.sqrt(om / a**3 + (1 - om))
    integral = np.trapezoid(1.0 / (a * e) ** 3, a)
    return float(-1.5 * om + 1.0 / integral)


def concentration_200c(mass, omega_m: float, sigma_8: float) -> np.ndarray:
    """NFW concentration c200c at z = 0 of halos of M200c = ``mass`` [Msun/h] (any shape).

    The median Diemer & Joyce (2019) model: with nu = delta_c / sigma(M), the effective slope
    n = -2 dln sigma / dln R - 3 at R = 0.41 R_L(M) and alpha = dln D / dln a,
    c = (1 - 0.21 (1 - alpha)) G^-1(A(n) / nu (1 + nu^2 / B(n))), G(c) = c / mu(c)^((5 + n) / 6),
    mu(c) = ln(1 + c) - c / (1 + c), A = 2.45 (1 + 1.82 (n + 3)), B = 3.20 (1 + 2.30 (n + 3)).
    Computed with this module's spectrum; it agrees with colossus' 'diemer19' to 1 % (tested).
    """
    om, s8 = _check_cosmology(omega_m, sigma_8)
    m = np.asarray(mass, dtype=np.float64)
    if m.size == 0:
        return np.zeros(m.shape)
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ValueError("mass must hold positive finite masses [Msun/h].")
    # sigma and its slope on a grid of radii spanning the masses' kappa R_L and R_L
    r_l = lagrangian_radius(m, om).ravel()
    lo, hi = np.log(_DJ19["kappa"] * r_l.min()) - 0.1, np.log(r_l.max()) + 0.1
    log_r = np.linspace(lo, hi, max(8, int((hi - lo) / 0.05) + 2))
    log_sigma = np.log(sigma_r(np.exp(log_r), om, s8))
    slope = np.gradient(log_sigma, log_r)
    nu = DELTA_COLLAPSE / np.exp(np.interp(np.log(r_l), log_r, log_sigma))
    n_eff = -2.0 * np.interp(np.log(_DJ19["kappa"] * r_l), log_r, slope) - 3.0
    a_n = _DJ19["a_0"] * (1.0 + _DJ19["a_1"] * (n_eff + 3.0))
    b_n = _DJ19["b_0"] * (1.0 + _DJ19["b_1"] * (n_eff + 3.0))
    c_alpha = 1.0 - _DJ19["c_alpha"] * (1.0 - growth_rate(om))
    rhs = np.log10(a_n / nu * (1.0 + nu**2 / b_n))
    # invert G on the rising branch (G has a minimum at low c for shallow slopes)
    c = 10.0**_LOG10_C
    mu = np.log1p(c) - c / (1 + c)
    lhs = np.log10(c[None, :] / mu[None, :] ** ((5.0 + n_eff[:, None]) / 6.0))  # (N, n_c)
    start = np.argmin(lhs, axis=1)
    after = np.arange(c.size)[None, :] >= start[:, None]
    j = start + np.sum(after & (lhs < rhs[:, None]), axis=1) - 1
    j = np.clip(j, 0, c.size - 2)
    rows = np.arange(j.size)
    y0, y1 = lhs[rows, j], lhs[rows, j + 1]
    t = np.clip((rhs - y0) / (y1 - y0), 0.0, 1.0)
    log_c = _LOG10_C[j] + t * (_LOG10_C[1] - _LOG10_C[0])
    return (c_alpha * 10.0**log_c).reshape(m.shape)


@lru_cache(maxsize=64)
def colossus_cosmology(omega_m: float, sigma_8: float):
    """The colossus Cosmology matching this module (flat; OMEGA_B, HUBBLE, N_S, T_CMB; no
    radiation), not stored on disk (``persistence=''``), cached per (Omega_m, sigma_8); use it
    with ``ps_args=_POWER_MODEL`` (colossus' Eisenstein & Hu no-wiggle spectrum)."""
    from colossus.cosmology import cosmology

    om, s8 = _check_cosmology(omega_m, sigma_8)
    return cosmology.Cosmology(
        name=f"a3net-{om:.6f}-{s8:.6f}", flat=True, Om0=om, Ob0=OMEGA_B, H0=100 * HUBBLE,
        sigma8=s8, ns=N_S, Tcmb0=T_CMB, relspecies=False, persistence="", print_warnings=False,
    )  # fmt: skip


def colossus_concentration(mass, omega_m: float, sigma_8: float) -> np.ndarray:
    """colossus' own 'diemer19' c200c(M) at z = 0 for the matching cosmology (a reference for
    ``concentration_200c``; about 50 ms for a new cosmology)."""
    from colossus.halo import concentration

    with colossus_current(omega_m, sigma_8):
        c = concentration.concentration(
            np.asarray(mass, dtype=np.float64), "200c", 0.0, model=CONCENTRATION_MODEL,
            range_warning=False, ps_args=_POWER_MODEL,
        )  # fmt: skip
    return np.asarray(c, dtype=np.float64)


@contextmanager
def colossus_current(omega_m: float, sigma_8: float):
    """Within the block, colossus' current cosmology is ``colossus_cosmology(omega_m, sigma_8)``
    and its warnings are silenced; the previous current cosmology is restored after it."""
    from colossus.cosmology import cosmology

    om, s8 = _check_cosmology(omega_m, sigma_8)
    previous = cosmology.current_cosmo
    cosmology.setCurrent(colossus_cosmology(round(om, 6), round(s8, 6)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if previous is not None:
            cosmology.setCurrent(previous)
