"""Linear theory for the cosmology maps of chapters E and H: constants and the matter spectrum.

The linear matter power spectrum today uses the Eisenstein & Hu (1998) transfer function without
baryon wiggles, a primordial slope ``N_S`` and the amplitude ``sigma_8`` (the rms of the linear
density in spheres of 8 Mpc/h). Omega_b, h and n_s are fixed at the CAMELS values, so a spectrum
depends on (Omega_m, sigma_8) only: Omega_m sets its shape (the turnover near k_eq, through
Omega_m h), sigma_8 its amplitude. Units: k in h/Mpc, P(k) in (Mpc/h)^3, masses in Msun/h.
"""

from __future__ import annotations

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
