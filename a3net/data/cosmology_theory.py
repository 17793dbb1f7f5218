"""Theory to check the CAMELS-like simulator of chapters E and H against (``cosmology``).

Units: masses in Msun/h, lengths in Mpc/h, k in h/Mpc, 3D spectra in (Mpc/h)^3, projected (2D)
spectra in (Mpc/h)^2, number densities in (Mpc/h)^-3; z = 0 throughout, the flat cosmology of
``cosmology_linear`` (Omega_b, h, n_s fixed; Omega_m and sigma_8 free; Eisenstein & Hu no-wiggle
linear spectrum).

- ``mass_function``: dn/dlnM from colossus (Diemer 2018) with the matching cosmology and
  spectrum: Tinker et al. (2008) for spherical-overdensity M200m (Tinker's fit has no FoF
  version); Sheth & Tormen (1999) and Press & Schechter (1974) for FoF-like masses.
  The simulator's halos are excursion-set regions of the linear field (their mass is the mass
  of their particles, a FoF-like mass); Tinker's 200m is the nearest SO definition (FoF masses
  with b = 0.2 are close to M200m: within ~10 % on average, White 2001; More et al. 2011).
- ``concentration``: the c200c(M) the simulator uses (Diemer & Joyce 2019;
  ``cosmology_linear.concentration_200c``).
- ``projected_power_linear``: the linear spectrum averaged through a slab
  (``gaussian_maps.projected_power``).
- ``projected_power_nonlinear``: the same projection of the Halofit spectrum (Smith et al. 2003
  with the revised parameters of Takahashi et al. 2012), implemented here.
- ``projected_power_zeldovich``: the same projection of the simulator's truncated Zel'dovich
  field to first order (its linear spectrum damped by the displacement dispersion).
- ``mass_function_deviation``: how far a simulated mass function lies from one of the models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from .cosmology import BOX_SIZE, TZA_SMOOTHING, nonlinear_wavenumber
from .cosmology_linear import (
    _POWER_MODEL,
    _check_cosmology,
    colossus_current,
    concentration_200c,
    linear_power,
)
from .gaussian_maps import _slab_quadrature, projected_power

__all__ = [
    "MASS_FUNCTION_MODELS",
    "concentration",
    "halofit_power",
    "mass_function",
    "mass_function_deviation",
    "projected_power_linear",
    "projected_power_nonlinear",
    "projected_power_zeldovich",
    "zeldovich_displacement_rms",
]

# our name -> (colossus model, mass definition)
MASS_FUNCTION_MODELS = {
    "tinker08": ("tinker08", "200m"),
    "sheth_tormen": ("sheth99", "fof"),
    "press_schechter": ("press74", "fof"),
}

_LOG_K = np.linspace(np.log(1e-4), np.log(2e3), 6000)  # Halofit integration grid [h/Mpc]


# ----------------------------------------------------------------------------- halos


def mass_function(mass, omega_m: float, sigma_8: float, *, model: str = "tinker08") -> np.ndarray:
    """dn/dlnM [(Mpc/h)^-3] at z = 0 of halos of ``mass`` [Msun/h] (any shape, > 0).

    ``model``: "tinker08" (M200m), "sheth_tormen" or "press_schechter" (FoF); see the module
    docstring for the mass definitions.
    """
    if model not in MASS_FUNCTION_MODELS:
        raise ValueError(f"model must be one of {', '.join(MASS_FUNCTION_MODELS)}, got {model!r}.")
    om, s8 = _check_cosmology(omega_m, sigma_8)
    m = np.asarray(mass, dtype=np.float64)
    if m.size and (np.any(~np.isfinite(m)) or np.any(m <= 0)):
        raise ValueError("mass must hold positive finite masses [Msun/h].")
    from colossus.lss import mass_function as colossus_mf

    name, mdef = MASS_FUNCTION_MODELS[model]
    with colossus_current(om, s8):
        out = colossus_mf.massFunction(
            m.ravel(), 0.0, q_in="M", q_out="dndlnM", mdef=mdef, model=name, ps_args=_POWER_MODEL
        )
    return np.asarray(out, dtype=np.float64).reshape(m.shape)


def concentration(mass, omega_m: float, sigma_8: float) -> np.ndarray:
    """c200c at z = 0 of halos of M200c = ``mass`` [Msun/h], the model the simulator uses
    (Diemer & Joyce 2019 median; same shape as ``mass``)."""
    return concentration_200c(mass, omega_m, sigma_8)


def mass_function_deviation(
    halos,
    n_boxes: int,
    omega_m: float,
    sigma_8: float,
    *,
    model: str = "tinker08",
    min_count: int = 20,
    bin_width: float = 0.2,
) -> dict:
    """How far the mass function of ``halos`` lies from ``mass_function(model)``.

    ``halos``: a ``halo_catalogue`` DataFrame (or an array of masses [Msun/h]) pooled over
    ``n_boxes`` boxes of one cosmology (BOX_SIZE^3 (Mpc/h)^3 each). Masses are binned in
    log10 M (``bin_width`` dex, from the smallest halo up); a bin counts when it holds at least
    ``min_count`` halos. Per bin: the measured dn/dlnM = N / (V dlnM), the model averaged over
    the bin, the deviation log10(measured / model) [dex] and its Poisson error
    1 / (ln 10 sqrt(N)) [dex].

    Returns a dict: "rms" (root mean square deviation over the counted bins, dex), "mean" (their
    mean, dex), "rms_error" (the rms the Poisson errors alone would give, dex: a deviation within
    it is noise), "n_bins" and "bins" (a DataFrame with log10_mass_lo, log10_mass_hi, count,
    measured, model, deviation, error for every bin, counted or not).
    """
    mass = np.asarray(halos["mass"] if isinstance(halos, pd.DataFrame) else halos, dtype=float)
    if isinstance(n_boxes, bool) or not isinstance(n_boxes, int | np.integer) or n_boxes < 1:
        raise ValueError(f"n_boxes must be a positive whole number, got {n_boxes!r}.")
    if mass.size == 0:
        raise ValueError("halos holds no halo; simulate more or larger boxes.")
    volume = n_boxes * BOX_SIZE**3
    log_m = np.log10(mass)
    edges = np.arange(log_m.min() - 1e-9, log_m.max() + bin_width, bin_width)
    count = np.histogram(log_m, edges)[0]
    dlnm = bin_width * np.log(10.0)
    measured = count / (volume * dlnm)
    # the model averaged over each bin (Simpson-like: 9 nodes per bin)
    nodes = edges[:-1, None] + bin_width * (np.arange(9)[None, :] + 0.5) / 9
    model_mean = mass_function(10.0**nodes, omega_m, sigma_8, model=model).mean(axis=1)
    with np.errstate(divide="ignore"):
        deviation = np.log10(measured / model_mean)
        error = 1.0 / (np.log(10.0) * np.sqrt(count))
    bins = pd.DataFrame({
        "log10_mass_lo": edges[:-1], "log10_mass_hi": edges[1:], "count": count,
        "measured": measured, "model": model_mean, "deviation": deviation, "error": error,
    })  # fmt: skip
    used = count >= min_count
    if not used.any():
        raise ValueError(f"no mass bin holds {min_count} halos; pool more boxes.")
    return {
        "rms": float(np.sqrt(np.mean(deviation[used] ** 2))),
        "mean": float(np.mean(deviation[used])),
        "rms_error": float(np.sqrt(np.mean(error[used] ** 2))),
        "n_bins": int(used.sum()),
        "bins": bins,
    }


# ----------------------------------------------------------------------------- spectra


def projected_power_linear(k, omega_m: float, sigma_8: float, thickness: float = 5.0):
    """Linear P2D(k) [(Mpc/h)^2] of the contrast averaged through a slab of ``thickness``
    Mpc/h, at k [h/Mpc] of any shape (``gaussian_maps.projected_power``)."""
    return projected_power(k, omega_m, sigma_8, thickness=thickness)


def _halofit_parameters(omega_m: float, sigma_8: float) -> dict:
    """k_sigma [h/Mpc], n_eff and C of the linear spectrum (Smith et al. 2003, Gaussian filter)."""
    k = np.exp(_LOG_K)
    delta2 = k**3 * linear_power(k, omega_m, sigma_8) / (2 * np.pi**2)

    def moments(log_r):
        y2 = (k * np.exp(log_r)) ** 2
        w = delta2 * np.exp(-y2)
        return (
            np.trapezoid(w, _LOG_K),
            np.trapezoid(w * y2, _LOG_K),
            np.trapezoid(w * y2 * y2, _LOG_K),
        )

    log_r = brentq(lambda x: np.log(moments(x)[0]), np.log(1e-3), np.log(1e2), xtol=1e-10)
    s0, s1, s2 = moments(log_r)
    n_eff = -3.0 + 2.0 * s1 / s0
    curvature = (3.0 + n_eff) ** 2 + 4.0 * (s1 - s2) / s0
    return {"k_sigma": float(np.exp(-log_r)), "n_eff": float(n_eff), "C": float(curvature)}


def halofit_power(k, omega_m: float, sigma_8: float) -> np.ndarray:
    """Nonlinear P(k) [(Mpc/h)^3] at z = 0 from Halofit (Smith et al. 2003) with the parameters
    of Takahashi et al. (2012, eqs. A4-A13; flat LCDM, w = -1), at k [h/Mpc] of any shape."""
    om, s8 = _check_cosmology(omega_m, sigma_8)
    k = _check_k(k)
    par = _halofit_parameters(om, s8)
    n, c = par["n_eff"], par["C"]
    a_n = 10 ** (1.5222 + 2.8553 * n + 2.3706 * n**2 + 0.9903 * n**3 + 0.2250 * n**4 - 0.6038 * c)
    b_n = 10 ** (-0.5642 + 0.5864 * n + 0.5716 * n**2 - 1.5474 * c)
    c_n = 10 ** (0.3698 + 2.0404 * n + 0.8161 * n**2 + 0.5869 * c)
    gamma_n = 0.1971 - 0.0843 * n + 0.8460 * c
    alpha_n = abs(6.0835 + 1.3373 * n - 0.1959 * n**2 - 5.5274 * c)
    beta_n = 2.0379 - 0.7354 * n + 0.3157 * n**2 + 1.2490 * n**3 + 0.3980 * n**4 - 0.1682 * c
    nu_n = 10 ** (5.2105 + 3.6902 * n)
    f1, f2, f3 = om**-0.0307, om**-0.0585, om**0.0743
    safe = np.where(k > 0, k, 1.0)
    plin = linear_power(safe, om, s8)
    d2l = safe**3 * plin / (2 * np.pi**2)
    y = safe / par["k_sigma"]
    d2q = d2l * (1 + d2l) ** beta_n / (1 + alpha_n * d2l) * np.exp(-(y / 4 + y**2 / 8))
    d2h = a_n * y ** (3 * f1) / (1 + b_n * y**f2 + (c_n * f3 * y) ** (3 - gamma_n))
    d2h = d2h / (1 + nu_n / y**2)
    return np.where(k > 0, (d2q + d2h) * 2 * np.pi**2 / safe**3, 0.0)


def _check_k(k) -> np.ndarray:
    k = np.asarray(k, dtype=np.float64)
    if np.any(~np.isfinite(k)) or np.any(k < 0):
        raise ValueError("k must hold finite wavenumbers >= 0 [h/Mpc].")
    return k


def _project(k: np.ndarray, power_3d, thickness) -> np.ndarray:
    """P2D(k) = int dk_z / (2 pi) P3D(sqrt(k^2 + k_z^2)) sinc^2(k_z L / 2), with the quadrature of
    ``gaussian_maps.projected_power`` and ln P3D interpolated on 256 nodes in ln q."""
    length = float(thickness)
    if not (np.isfinite(length) and length > 0):
        raise ValueError(f"thickness must be a positive length [Mpc/h], got {thickness!r}.")
    u, weight = _slab_quadrature()
    q = np.sqrt(k.reshape(-1, 1) ** 2 + (2.0 * u / length) ** 2)  # (n_k, n_nodes)
    nodes = np.geomspace(max(q.min(), 1e-5), q.max(), 256)
    values = np.maximum(power_3d(nodes), 1e-300)
    log_p = np.interp(np.log(q), np.log(nodes), np.log(values))
    p2d = 2.0 / (np.pi * length) * (np.exp(log_p) @ weight)
    return np.where(k > 0, p2d.reshape(k.shape), 0.0)


def projected_power_nonlinear(k, omega_m: float, sigma_8: float, thickness: float = 5.0):
    """Halofit P2D(k) [(Mpc/h)^2]: ``halofit_power`` averaged through a slab of ``thickness``
    Mpc/h, P2D(k) = int dk_z / (2 pi) P3D(sqrt(k^2 + k_z^2)) sinc^2(k_z L / 2), with the
    quadrature of ``gaussian_maps.projected_power``; k [h/Mpc] of any shape, k = 0 gives 0."""
    k = _check_k(k)
    return _project(k, lambda q: halofit_power(q, omega_m, sigma_8), thickness)


def zeldovich_displacement_rms(omega_m: float, sigma_8: float) -> float:
    """1-D rms [Mpc/h] of the simulator's truncated Zel'dovich displacement: the linear
    displacement of the box's modes (|k| >= 2 pi / BOX_SIZE) smoothed with a Gaussian at
    TZA_SMOOTHING k_NL, sigma_psi^2 = int dk P(k) exp(-k^2 / k_s^2) / (6 pi^2)."""
    om, s8 = _check_cosmology(omega_m, sigma_8)
    k_s = TZA_SMOOTHING * nonlinear_wavenumber(om, s8)
    k = np.geomspace(2 * np.pi / BOX_SIZE, 100.0, 4000)
    integrand = linear_power(k, om, s8) * np.exp(-((k / k_s) ** 2)) / (6 * np.pi**2)
    return float(np.sqrt(np.trapezoid(integrand, k)))


def projected_power_zeldovich(k, omega_m: float, sigma_8: float, thickness: float = 5.0):
    """The first-order (propagator) part of the simulator's truncated Zel'dovich spectrum,
    projected through a slab: P3D = P_lin(k) exp(-k^2 / k_s^2) exp(-k^2 sigma_psi^2)
    [(Mpc/h)^3] (the smoothed linear field, damped by the displacements' dispersion: Crocce &
    Scoccimarro 2006; Tassev & Zaldarriaga 2012), k_s = TZA_SMOOTHING k_NL and sigma_psi from
    ``zeldovich_displacement_rms``. The Zel'dovich spectrum is this plus mode-coupling terms
    (all positive), which are small at k << 1 / sigma_psi; P2D [(Mpc/h)^2] at k [h/Mpc]."""
    k = _check_k(k)
    om, s8 = _check_cosmology(omega_m, sigma_8)
    k_s = TZA_SMOOTHING * nonlinear_wavenumber(om, s8)
    sigma2 = zeldovich_displacement_rms(om, s8) ** 2

    def damped(q):
        return linear_power(q, om, s8) * np.exp(-(q**2) * (1.0 / k_s**2 + sigma2))

    return _project(k, damped, thickness)
