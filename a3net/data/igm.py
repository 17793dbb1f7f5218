"""The mean intergalactic transmission of Inoue, Shimizu, Iwata & Tanaka (2014, MNRAS 442,
1805), the IGM model of EAZY and eazy-py, written from the paper's analytic formulas.

The IGM is two populations of absorbers, the Lyman-alpha forest (LAF) and damped Lyman-alpha
systems (DLA), each with a column-density distribution and a number density per unit redshift
dN/dz ∝ (1 + z)**gamma, a broken power law continuous at its breaks:

* LAF: gamma = 0.2 (z < 1.2), 2.7 (1.2 <= z < 4.7), 4.5 (z >= 4.7);
* DLA: gamma = 1.0 (z < 2.0), 2.0 (z >= 2.0).

With x_j = lambda_obs / lambda_j and x = lambda_obs / lambda_L (lambda_L = 911.8 A) the optical
depths are, for a source at z_S:

* Lyman series (eqs. 21-22), summed over the lines j = 2..40 (Lyman alpha to n = 40), for
  lambda_j < lambda_obs < lambda_j (1 + z_S):
  LAF  A_j1 x_j**1.2 (x_j < 2.2), A_j2 x_j**3.7 (2.2 <= x_j < 5.7), A_j3 x_j**5.5 (x_j >= 5.7);
  DLA  A_j1 x_j**2 (x_j < 3), A_j2 x_j**3 (x_j >= 3);
  the A_j are read from EAZY's ``LAFcoeff.txt`` and ``DLAcoeff.txt``.
* Lyman continuum (eqs. 25-28), for x < 1 + z_S. The paper's piecewise formulas are the closed
  forms of two integrals over the absorber's 1 + z = u, from x (the absorber that sees the
  photon at its Lyman limit) up to 1 + z_S::

      tau_LAF^LC = K x**2.1 int_x^{1+z_S} g_LAF(u) u**-2.1 du,        K = 0.9 * 0.325
      tau_DLA^LC = int_x^{1+z_S} g_DLA(u) (a - b (u / x)**0.3) du,    a = 2 * 0.2114,
                                                                      b = 2.3 * 7.662e-2

  with g(u) = (1 + z)**gamma as above (g = u**gamma in the first regime). Evaluating them piece
  by piece gives every coefficient of eqs. 25 and 28: e.g. for 1.2 <= z_S < 4.7 and x < 2.2,
  2.55e-2 (1+z_S)**1.6 x**2.1 + 0.325 x**1.2 - 0.250 x**2.1, and for z_S >= 2 and x < 3,
  0.634 + 4.70e-2 (1+z_S)**3 - 1.78e-2 (1+z_S)**3.3 x**-0.3 - 0.135 x**2 - 0.291 x**-0.3
  (``tests/test_igm.py`` checks all of them against the printed values). Here they are computed
  from the three printed normalisations (0.325; 0.211 and 7.66e-2, taken as 0.2114 and
  7.662e-2, see ``_DLA_LC_A``) and the gamma's, so the pieces are exactly continuous in
  wavelength and in z_S, where the paper's rounded coefficients jump by up to 0.04 in tau
  (x = 5.7, z_S >= 4.7: terms of 8 and 16 cancel). Below the observed Lyman limit
  (x < 1, never seen through a filter) the integrals start at u = 1 (z = 0): all absorbers
  between the source and us absorb.

The transmission is exp(-(tau_LAF^LS + tau_DLA^LS + tau_LAF^LC + tau_DLA^LC)), 1 redward of
Lyman alpha at the source (lambda_obs >= 1215.67 (1 + z_S)), clipped to [0, 1].
"""

from __future__ import annotations

import functools

import numpy as np

from .sed import _igm_inputs

__all__ = ["INOUE_LYMAN_LIMIT", "inoue_igm_transmission", "inoue_lc_coefficients"]

INOUE_LYMAN_LIMIT = 911.8  # A, lambda_L of Inoue et al. (2014)
LYMAN_ALPHA = 1215.67  # A

# dN/dz ∝ (1 + z)**gamma: breaks in u = 1 + z and the exponents between them.
_LAF_BREAKS = (2.2, 5.7)  # z = 1.2, 4.7
_LAF_GAMMA = (0.2, 2.7, 4.5)
_DLA_BREAKS = (3.0,)  # z = 2.0
_DLA_GAMMA = (1.0, 2.0)
# The normalisations: eq. 25's 0.325 (the x**1.2 term) and eq. 28's 0.211 and 7.66e-2 (the
# (1+z_S)**2 and (1+z_S)**2.3 x**-0.3 terms for z_S < 2), taken as 0.2114 and 7.662e-2: with
# these all eight printed coefficients of eq. 28 round to their printed digits, while 0.2110 and
# 7.660e-2 give 0.633, 2.91e-2 and 0.290 where the paper prints 0.634, 2.92e-2 and 0.291 (the
# paper rounded the values it derived the others from).
_LAF_LC_K = 0.9 * 0.325
_DLA_LC_A = 2.0 * 0.2114
_DLA_LC_B = 2.3 * 7.662e-2


def _pieces(breaks, gammas):
    """(lower bound, upper bound, amplitude, gamma) of each piece of g(u) = c u**gamma, with
    c = 1 on the first piece (from u = 1) and g continuous at the breaks."""
    lows = (1.0, *breaks)
    highs = (*breaks, np.inf)
    amps = [1.0]
    for b, g0, g1 in zip(breaks, gammas[:-1], gammas[1:], strict=True):
        amps.append(amps[-1] * b ** (g0 - g1))
    return list(zip(lows, highs, amps, gammas, strict=True))


def _integral(u, breaks, gammas, p):
    """F(u) = int_1^u g(t) t**p dt for g the broken power law (elementwise in ``u`` >= 1)."""
    u = np.asarray(u, dtype=float)
    total = np.zeros_like(u)
    for lo, hi, c, g in _pieces(breaks, gammas):
        e = g + p + 1.0
        top = np.clip(u, lo, hi)
        total += c * (top**e - lo**e) / e
    return total


def inoue_lc_coefficients() -> dict[str, float]:
    """The coefficients of Inoue et al. (2014) eqs. 25 and 28 as this module computes them (from
    the three printed normalisations and the continuity of dN/dz), keyed by where they stand,
    e.g. ``"laf2_zs"`` is the (1+z_S)**1.6 x**2.1 coefficient of the regime 1.2 <= z_S < 4.7,
    signed as they enter tau; for comparison with the printed (rounded) values."""
    (_, _, c1, _), (_, _, c2, _), (_, _, c3, _) = _pieces(_LAF_BREAKS, _LAF_GAMMA)
    k = _LAF_LC_K
    laf2 = k * c2 / 1.6
    laf3 = k * c3 / 3.4
    f_laf = functools.partial(_integral, breaks=_LAF_BREAKS, gammas=_LAF_GAMMA, p=-2.1)
    (_, _, d1, _), (_, _, d2, _) = _pieces(_DLA_BREAKS, _DLA_GAMMA)
    a, b = _DLA_LC_A, _DLA_LC_B
    return {
        "laf1_x1.2": k * c1 / 0.9,  # 0.325
        # 1.2 <= z_S < 4.7
        "laf2_zs": laf2,  # 2.55e-2
        "laf2_x2.1_below2.2": k * (float(f_laf(2.2)) - 1 / 0.9) - laf2 * 2.2**1.6,  # -0.250
        "laf2_x3.7_above2.2": -laf2,  # -2.55e-2
        # z_S >= 4.7
        "laf3_zs": laf3,  # 5.22e-4
        "laf3_x2.1_below2.2": k * (float(f_laf(5.7)) - 1 / 0.9) - laf3 * 5.7**3.4,  # -3.14e-2
        "laf3_x2.1_2.2to5.7": laf2 * 5.7**1.6 - laf3 * 5.7**3.4,  # 0.218
        "laf3_x3.7_2.2to5.7": -laf2,  # -2.55e-2
        "laf3_x5.5_above5.7": -laf3,  # -5.22e-4
        # DLA, z_S < 2
        "dla1_zs2": a * d1 / 2.0,  # 0.211
        "dla1_zs2.3": -b * d1 / 2.3,  # -7.66e-2
        "dla1_x2": -(a * d1 / 2.0 - b * d1 / 2.3),  # -0.135
        # DLA, z_S >= 2
        "dla2_const": a * d1 / 2.0 * 9.0 - a * d2 / 3.0 * 27.0,  # 0.634
        "dla2_zs3": a * d2 / 3.0,  # 4.70e-2
        "dla2_zs3.3": -b * d2 / 3.3,  # -1.78e-2
        "dla2_x-0.3": -(b * d1 / 2.3 * 3.0**2.3 - b * d2 / 3.3 * 3.0**3.3),  # -0.291
        "dla2_x2_below3": -(a * d1 / 2.0 - b * d1 / 2.3),  # -0.135
        "dla2_x3_above3": -(a * d2 / 3.0 - b * d2 / 3.3),  # -2.92e-2
    }


def _lyman_series(wave, one_z, lam, amp, breaks, powers):
    """Sum over lines of the Lyman-series optical depth, (N, L). Each line's tau_j(lambda) is
    computed once on the wavelength grid; a source at z_S adds the lines with lambda_j (1 + z_S)
    > lambda, i.e. the first m lines (lambda_j decreases), taken from a cumulative sum."""
    xj = wave[None, :] / lam[:, None]  # (J, L)
    piece = np.searchsorted(np.asarray(breaks), xj, side="right")  # 0, 1, 2 ...
    coef = amp[np.arange(lam.size)[:, None], piece]  # (J, L)
    tau_j = np.where(xj > 1.0, coef * xj ** np.asarray(powers)[piece], 0.0)
    cum = np.vstack([np.zeros((1, wave.size)), np.cumsum(tau_j, axis=0)])  # (J + 1, L)
    rest = wave[None, :] / one_z  # (N, L)
    m = np.searchsorted(-lam, -rest, side="left")  # number of lines with lambda_j > rest
    return np.take_along_axis(cum, m, axis=0)


def _lyman_continuum(x, zs1):
    """tau_LAF^LC + tau_DLA^LC at x = lambda_obs / lambda_L (1, L) for 1 + z_S = zs1 (N, 1)."""
    lo = np.maximum(x, 1.0)
    inside = x < zs1
    top = np.maximum(zs1, lo)  # zero-length integral where the source is blueward
    laf = (
        _LAF_LC_K
        * x**2.1
        * (
            _integral(top, _LAF_BREAKS, _LAF_GAMMA, -2.1)
            - _integral(lo, _LAF_BREAKS, _LAF_GAMMA, -2.1)
        )
    )
    dla = _DLA_LC_A * (
        _integral(top, _DLA_BREAKS, _DLA_GAMMA, 0.0) - _integral(lo, _DLA_BREAKS, _DLA_GAMMA, 0.0)
    ) - _DLA_LC_B * x**-0.3 * (
        _integral(top, _DLA_BREAKS, _DLA_GAMMA, 0.3) - _integral(lo, _DLA_BREAKS, _DLA_GAMMA, 0.3)
    )
    return np.where(inside, np.maximum(laf, 0.0) + np.maximum(dla, 0.0), 0.0)


@functools.lru_cache(maxsize=1)
def _default_coefficients():
    from .eazy import load_inoue_coefficients

    return load_inoue_coefficients()


def inoue_igm_transmission(wave_obs, z, *, coefficients=None) -> np.ndarray:
    """Mean IGM transmission of Inoue et al. (2014) at observed wavelengths ``wave_obs`` (L,)
    [A] for sources at redshifts ``z`` (N,); shape (N, L), values in [0, 1] (see the module
    docstring for the formulas).

    ``coefficients``: ``{"laf": (lambda_j, A (J, 3)), "dla": (lambda_j, A (J, 2))}`` as
    :func:`a3net.data.eazy.load_inoue_coefficients` returns them (the default: EAZY's
    ``LAFcoeff.txt`` and ``DLAcoeff.txt``, fetched once and kept in memory).
    """
    wave, z = _igm_inputs(wave_obs, z)
    if coefficients is None:
        coefficients = _default_coefficients()
    if not isinstance(coefficients, dict) or set(coefficients) != {"laf", "dla"}:
        raise TypeError(
            "coefficients must be a dict {'laf': (lambda_j, A), 'dla': (lambda_j, A)} as "
            "a3net.data.eazy.load_inoue_coefficients() returns it."
        )
    laf_lam, laf_amp = (np.asarray(a, dtype=float) for a in coefficients["laf"])
    dla_lam, dla_amp = (np.asarray(a, dtype=float) for a in coefficients["dla"])
    if laf_amp.shape != (laf_lam.size, 3) or dla_amp.shape != (dla_lam.size, 2):
        raise ValueError(
            "coefficients: 'laf' needs amplitudes of shape (J, 3) and 'dla' of shape (J, 2), "
            f"got {laf_amp.shape} and {dla_amp.shape}."
        )
    one_z = 1.0 + z[:, None]
    tau = _lyman_series(wave, one_z, laf_lam, laf_amp, (2.2, 5.7), (1.2, 3.7, 5.5))
    tau += _lyman_series(wave, one_z, dla_lam, dla_amp, (3.0,), (2.0, 3.0))
    tau += _lyman_continuum(wave[None, :] / INOUE_LYMAN_LIMIT, one_z)
    trans = np.clip(np.exp(-tau), 0.0, 1.0)
    return np.where(wave[None, :] >= LYMAN_ALPHA * one_z, 1.0, trans)
