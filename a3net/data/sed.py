"""Spectral energy distributions seen through filters: the physics shared by the photometry
simulator (chapter C) and the template-fitting baseline.

Units: wavelengths in Angstrom; f_lambda in any fixed unit (erg/s/cm2/A for absolute fluxes);
band fluxes are mean f_nu in the photon-counting AB convention,
``<f_nu> = int f_lambda T lambda dlambda / int T (c / lambda) dlambda``, returned in erg/s/cm2/Hz
when f_lambda is in erg/s/cm2/A. Catalogues (3D-HST, EAZY) store fluxes with AB zero-point 25:
``mag_AB = 25 - 2.5 log10(flux)``, so one catalogue unit is 10**(-0.4 * (25 + 48.6)) erg/s/cm2/Hz.

``madau_igm_transmission`` is the mean intergalactic transmission of Madau (1995): Lyman-series
line blanketing plus photoelectric absorption by Lyman-limit systems below 912 A (rest).
``igm_transmission(wave_obs, z, model)`` selects it or the Inoue et al. (2014) model of
``a3net.data.igm`` (EAZY's default) by name: ``IGM_MODELS``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = [
    "AB_ZEROPOINT",
    "C_ANGSTROM_PER_S",
    "IGM_MODELS",
    "FilterCurve",
    "band_flux_matrix",
    "band_fluxes",
    "catalogue_flux_to_fnu",
    "fnu_to_catalogue_flux",
    "igm_model",
    "igm_transmission",
    "madau_igm_transmission",
    "redshift_sed",
]

C_ANGSTROM_PER_S = 2.99792458e18  # speed of light in A/s
AB_ZEROPOINT = 25.0  # catalogue fluxes: mag_AB = 25 - 2.5 log10(flux)
_CATALOGUE_UNIT_FNU = 10 ** (-0.4 * (AB_ZEROPOINT + 48.6))  # erg/s/cm2/Hz per catalogue unit

LYMAN_LIMIT = 911.75  # A, rest frame
# Madau (1995), eq. 12-15: rest wavelengths [A] and optical-depth amplitudes of the first four
# Lyman-series lines; tau_j = A_j (lambda_obs / lambda_j) ** 3.46 below lambda_j (1 + z).
_LYMAN_SERIES = ((1215.67, 3.6e-3), (1025.72, 1.7e-3), (972.537, 1.2e-3), (949.743, 9.3e-4))


@dataclasses.dataclass(frozen=True)
class FilterCurve:
    """A filter's transmission ``throughput`` (L,) at wavelengths ``wave`` (L,) [A], strictly
    increasing, with a ``name`` (e.g. "F160W")."""

    name: str
    wave: np.ndarray
    throughput: np.ndarray

    def __post_init__(self):
        wave = np.asarray(self.wave, dtype=float)
        thru = np.asarray(self.throughput, dtype=float)
        label = f"filter {self.name!r}"
        if wave.ndim != 1 or thru.shape != wave.shape or wave.size < 2:
            raise ValueError(
                f"{label}: wave and throughput must be 1-D arrays of the same length (at least "
                f"2), got shapes {wave.shape} and {thru.shape}."
            )
        if not (np.isfinite(wave).all() and np.isfinite(thru).all()):
            raise ValueError(f"{label}: wave and throughput must be finite (no NaN).")
        if np.any(np.diff(wave) <= 0):
            raise ValueError(
                f"{label}: wavelengths must be strictly increasing; sort the curve by "
                "wavelength and drop repeated points."
            )
        if np.any(thru < 0) or not np.any(thru > 0):
            raise ValueError(f"{label}: throughput must be non-negative and somewhere positive.")
        object.__setattr__(self, "wave", wave)
        object.__setattr__(self, "throughput", thru)

    @property
    def pivot(self) -> float:
        """Pivot wavelength [A]: sqrt(int T lambda dlambda / int T / lambda dlambda)."""
        w, t = self.wave, self.throughput
        return float(np.sqrt(np.trapezoid(t * w, w) / np.trapezoid(t / w, w)))

    @property
    def edges(self) -> tuple[float, float]:
        """Shortest and longest wavelength [A] where the throughput exceeds 1% of its peak."""
        lit = self.wave[self.throughput > 0.01 * self.throughput.max()]
        return float(lit[0]), float(lit[-1])


def _check_filters(filters) -> list[FilterCurve]:
    filters = list(filters)
    if not filters or not all(isinstance(f, FilterCurve) for f in filters):
        raise TypeError("filters must be a non-empty sequence of a3net.data.sed.FilterCurve.")
    return filters


def _check_wave(wave) -> np.ndarray:
    wave = np.asarray(wave, dtype=float)
    if wave.ndim != 1 or wave.size < 2 or np.any(np.diff(wave) <= 0):
        raise ValueError(
            f"wave must be a strictly increasing 1-D wavelength grid [A], got shape {wave.shape}."
        )
    return wave


def band_flux_matrix(wave, filters) -> np.ndarray:
    """The (n_filters, L) matrix ``M`` with ``M @ f_lambda = <f_nu>`` for f_lambda sampled on
    ``wave`` (L,) [A]: each filter interpolated onto the grid, trapezoid weights, AB
    photon-counting normalisation. A filter reaching beyond the grid raises an error."""
    wave = _check_wave(wave)
    filters = _check_filters(filters)
    dw = np.gradient(wave)  # trapezoid-like weights; exact enough on fine grids
    matrix = np.zeros((len(filters), wave.size))
    for k, filt in enumerate(filters):  # loop over a handful of filters, not over galaxies
        lo, hi = filt.edges
        if lo < wave[0] or hi > wave[-1]:
            raise ValueError(
                f"filter {filt.name!r} ({lo:.0f}-{hi:.0f} A) reaches beyond the SED grid "
                f"({wave[0]:.0f}-{wave[-1]:.0f} A); extend the SED's wavelength grid."
            )
        t = np.interp(wave, filt.wave, filt.throughput, left=0.0, right=0.0)
        norm = np.sum(t * C_ANGSTROM_PER_S / wave * dw)
        matrix[k] = t * wave * dw / norm
    return matrix


def band_fluxes(wave, flam, filters) -> np.ndarray:
    """Mean f_nu in each filter of SEDs ``flam`` (..., L) sampled on ``wave`` (L,) [A]; shape
    (..., n_filters). erg/s/cm2/Hz when f_lambda is in erg/s/cm2/A."""
    flam = np.asarray(flam, dtype=float)
    wave = _check_wave(wave)
    if flam.shape[-1] != wave.size:
        raise ValueError(
            f"flam must end in the wavelength axis of length {wave.size}, got {flam.shape}."
        )
    return flam @ band_flux_matrix(wave, filters).T


def fnu_to_catalogue_flux(fnu) -> np.ndarray:
    """f_nu [erg/s/cm2/Hz] to catalogue flux with AB zero-point 25."""
    return np.asarray(fnu, dtype=float) / _CATALOGUE_UNIT_FNU


def catalogue_flux_to_fnu(flux) -> np.ndarray:
    """Catalogue flux (AB zero-point 25) to f_nu [erg/s/cm2/Hz]."""
    return np.asarray(flux, dtype=float) * _CATALOGUE_UNIT_FNU


def _igm_inputs(wave_obs, z) -> tuple[np.ndarray, np.ndarray]:
    """The checked (L,) observed wavelengths and (N,) redshifts of an IGM transmission."""
    wave = np.asarray(wave_obs, dtype=float)
    z = np.atleast_1d(np.asarray(z, dtype=float))
    if wave.ndim != 1 or z.ndim != 1:
        raise ValueError(
            f"wave_obs must be 1-D (L,) and z 1-D (N,), got {wave.shape} and {z.shape}."
        )
    if not np.isfinite(wave).all() or np.any(wave <= 0):
        raise ValueError("wave_obs must be finite, positive wavelengths in Angstrom (no NaN).")
    if not np.isfinite(z).all() or np.any(z < 0):
        raise ValueError("z must be finite and non-negative.")
    return wave, z


def madau_igm_transmission(wave_obs, z) -> np.ndarray:
    """Mean IGM transmission exp(-tau) of Madau (1995) at observed wavelengths ``wave_obs`` (L,)
    [A] for sources at redshifts ``z`` (N,); shape (N, L), values in [0, 1].

    Lyman-series blanketing of Lyman alpha to delta (eq. 12-15) plus the photoelectric optical
    depth of Lyman-limit systems below 912 A (rest) in the approximation of Madau's footnote 3.
    """
    wave, z = _igm_inputs(wave_obs, z)
    w = wave[None, :]
    one_z = 1.0 + z[:, None]
    tau = np.zeros((z.size, wave.size))
    for line, amplitude in _LYMAN_SERIES:
        tau += np.where(w < line * one_z, amplitude * (w / line) ** 3.46, 0.0)
    xc = np.maximum(w / LYMAN_LIMIT, 1.0)  # observed wavelength in units of the Lyman limit
    below = w < LYMAN_LIMIT * one_z
    tau_pe = (
        0.25 * xc**3 * (one_z**0.46 - xc**0.46)
        + 9.4 * xc**1.5 * (one_z**0.18 - xc**0.18)
        - 0.7 * xc**3 * (xc**-1.32 - one_z**-1.32)
        - 0.023 * (one_z**1.68 - xc**1.68)
    )
    tau += np.where(below, np.maximum(tau_pe, 0.0), 0.0)
    return np.exp(-tau)


#: The IGM models by name: True is "madau" (the historical default), False/None no IGM.
IGM_MODELS = ("madau", "inoue")


def igm_model(igm) -> str | None:
    """The canonical name of an IGM choice: True or "madau" -> "madau" (Madau 1995), "inoue" ->
    "inoue" (Inoue et al. 2014), False or None -> None (no IGM absorption)."""
    if isinstance(igm, bool | np.bool_):
        return "madau" if igm else None
    if igm is None:
        return None
    if isinstance(igm, str) and igm.lower() in IGM_MODELS:
        return igm.lower()
    raise ValueError(
        f"igm must be True or 'madau' (Madau 1995), 'inoue' (Inoue et al. 2014), or False/None "
        f"for no IGM absorption, got {igm!r}."
    )


def igm_transmission(wave_obs, z, igm="madau") -> np.ndarray:
    """Mean IGM transmission (N, L) of the model ``igm`` (see :func:`igm_model`) at observed
    wavelengths ``wave_obs`` (L,) [A] for redshifts ``z`` (N,); all ones for no IGM."""
    model = igm_model(igm)
    if model == "inoue":
        from .igm import inoue_igm_transmission  # the Inoue model reads EAZY's coefficient files

        return inoue_igm_transmission(wave_obs, z)
    if model == "madau":
        return madau_igm_transmission(wave_obs, z)
    wave, z = _igm_inputs(wave_obs, z)
    return np.ones((z.size, wave.size))


def redshift_sed(rest_wave, rest_flam, z, obs_wave, *, igm=True) -> np.ndarray:
    """Rest-frame SEDs ``rest_flam`` (T, L_rest) (or (L_rest,)) at ``rest_wave`` [A], seen at
    redshifts ``z`` (Z,) on the observed grid ``obs_wave`` (L,) [A]: shape (Z, T, L) (or (Z, L)).

    f_lambda,obs(lambda) = f_lambda,rest(lambda / (1 + z)) / (1 + z) times the IGM transmission
    of ``igm``: True or "madau" (Madau 1995, the default), "inoue" (Inoue et al. 2014, as EAZY),
    False or None (none). The luminosity-distance factor is left to the caller (template fits
    only need shapes).
    """
    model = igm_model(igm)
    rest_wave = _check_wave(rest_wave)
    obs_wave = _check_wave(obs_wave)
    flam = np.asarray(rest_flam, dtype=float)
    single = flam.ndim == 1
    flam = np.atleast_2d(flam)
    if flam.shape[-1] != rest_wave.size:
        raise ValueError(
            f"rest_flam must end in the rest wavelength axis ({rest_wave.size}), got {flam.shape}."
        )
    z = np.atleast_1d(np.asarray(z, dtype=float))
    rest_at = obs_wave[None, :] / (1.0 + z[:, None])  # (Z, L)
    out = np.empty((z.size, flam.shape[0], obs_wave.size))
    for t, row in enumerate(flam):  # a loop over templates (a handful), vectorised over z
        out[:, t] = np.interp(rest_at, rest_wave, row, left=0.0, right=0.0)
    out /= (1.0 + z)[:, None, None]
    if model is not None:
        out *= igm_transmission(obs_wave, z, model)[:, None, :]
    return out[:, 0] if single else out
