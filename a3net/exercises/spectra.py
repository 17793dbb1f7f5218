"""Self-checks for the exercises of chapters A and B (galaxy spectra): PASS or FAIL lines.

Every check builds its own inputs, computes its reference itself and calls the student's
function; a stub (``NotImplementedError``) or a bug in it is a FAIL line, never a traceback.
"""

from __future__ import annotations

import numpy as np

from .checks import allclose_or_false as _close
from .checks import call_student, check, check_shape, student_check

__all__ = [
    "check_dn4000",
    "check_frechet_gaussian",
    "check_rest_frame",
    "check_slerp",
]


def _toy_spectra(n: int, wavelength: np.ndarray, rng) -> np.ndarray:
    """Positive f_lambda (n, L): a power-law continuum with a step at 4000 A of random depth
    and a few absorption lines, a stand-in for galaxy spectra."""
    slope = rng.uniform(-2.5, 0.5, (n, 1))
    step = rng.uniform(0.1, 0.6, (n, 1))
    continuum = (wavelength / 5000.0) ** slope
    continuum = continuum * (1 - step / (1 + np.exp((wavelength - 4000.0) / 15.0)))
    for centre in (3934.0, 3969.0, 4102.0, 4304.0, 4861.0):
        continuum = continuum * (1 - 0.3 * np.exp(-0.5 * ((wavelength - centre) / 4.0) ** 2))
    return (continuum * rng.uniform(5, 50, (n, 1))).astype(np.float64)


# --- chapter A -----------------------------------------------------------------------------


def _reference_dn4000(wavelength, flux, *, f_nu=True, swap=False):
    blue, red = ((3850.0, 3950.0), (4000.0, 4100.0))
    if swap:
        blue, red = red, blue
    flux = flux * wavelength**2 if f_nu else flux
    in_blue = (wavelength >= blue[0]) & (wavelength <= blue[1])
    in_red = (wavelength >= red[0]) & (wavelength <= red[1])
    return flux[:, in_red].mean(axis=1) / flux[:, in_blue].mean(axis=1)


@student_check
def check_dn4000(dn4000, *, seed: int = 3) -> bool:
    """Exercise A.1: ``dn4000(wavelength, flux)`` -> (N,) the narrow 4000 A break of Balogh et
    al. (1999) of rest-frame spectra ``flux`` (N, L) [f_lambda] on ``wavelength`` (L,) [A]: the
    mean of f_nu over 4000-4100 A divided by its mean over 3850-3950 A, f_nu ∝ f_lambda
    lambda^2."""
    rng = np.random.default_rng(seed)
    wavelength = 10 ** np.arange(np.log10(3700.0), np.log10(4500.0), 1e-4)
    flux = _toy_spectra(16, wavelength, rng)
    value, err = call_student(dn4000, wavelength.copy(), flux.copy())
    if err:
        return check(False, "dn4000 runs", err)
    if not check_shape(value, (len(flux),), "dn4000 returns one value per spectrum"):
        return False
    hint = (
        "average f_nu = f_lambda * lambda^2 over each window (boolean masks on the wavelength), "
        "then divide the red window (4000-4100 A) by the blue one (3850-3950 A)."
    )
    if _close(value, _reference_dn4000(wavelength, flux, f_nu=False), rtol=1e-3):
        hint = "convert to f_nu first (multiply by lambda^2): the index is defined in f_nu."
    elif _close(value, _reference_dn4000(wavelength, flux, swap=True), rtol=1e-3):
        hint = "red over blue: the 4000-4100 A window goes in the numerator."
    return check(
        _close(value, _reference_dn4000(wavelength, flux), rtol=1e-3),
        "Dn4000 matches the reference on 16 spectra with breaks of random depth",
        hint,
    ) and check(
        _close(call_student(dn4000, wavelength, 7.0 * flux)[0], value, rtol=1e-6),
        "it does not change when a spectrum is multiplied by a constant",
        "a ratio of two means of the same spectrum cannot depend on its flux scale.",
    )


@student_check
def check_rest_frame(rest_frame, *, seed: int = 5) -> bool:
    """Exercise A.2: ``rest_frame(wavelength, flux, ivar, z)`` -> (wavelength_rest, flux_rest,
    ivar_rest) for one observed spectrum: lambda / (1 + z), f_lambda (1 + z) and
    ivar / (1 + z)^2, so that the integrated flux (sum of f_lambda d lambda) is unchanged."""
    rng = np.random.default_rng(seed)
    wavelength = 10 ** np.arange(np.log10(3800.0), np.log10(9200.0), 1e-4)
    flux = _toy_spectra(1, wavelength / 1.1, rng)[0]
    ivar = rng.uniform(0.5, 2.0, wavelength.size)
    z = 0.137
    out, err = call_student(
        rest_frame, wavelength.copy(), flux.copy(), ivar.copy(), z, as_array=False
    )
    if err:
        return check(False, "rest_frame runs", err)
    try:
        rest_wave, rest_flux, rest_ivar = (np.asarray(v, dtype=float) for v in out)
    except (TypeError, ValueError):
        return check(False, "rest_frame returns (wavelength, flux, ivar)", "return three arrays.")
    if not check(
        _close(rest_wave, wavelength / (1 + z), rtol=1e-9),
        "the rest-frame wavelengths are lambda / (1 + z)",
        "divide by (1 + z), not by z or (1 - z).",
    ):
        return False
    observed = np.sum(flux * np.gradient(wavelength))
    moved = np.sum(rest_flux * np.gradient(rest_wave)) if rest_flux.shape == flux.shape else 0.0
    return check(
        np.isclose(moved, observed, rtol=1e-9),
        "the integrated flux (sum of f_lambda d lambda) is the same in both frames",
        "the wavelength intervals shrink by (1 + z), so f_lambda must grow by (1 + z).",
    ) and check(
        _close(rest_ivar, ivar / (1 + z) ** 2, rtol=1e-9),
        "the inverse variance follows the flux: ivar / (1 + z)^2",
        "a flux multiplied by a has its variance multiplied by a^2, its ivar divided by a^2.",
    )


# --- chapter B -----------------------------------------------------------------------------


def _reference_slerp(z1, z2, alphas):
    n1, n2 = np.linalg.norm(z1), np.linalg.norm(z2)
    omega = np.arccos(np.clip(np.dot(z1 / n1, z2 / n2), -1.0, 1.0))
    a = np.asarray(alphas, dtype=float)[:, None]
    if omega < 1e-6:
        return (1 - a) * z1 + a * z2
    return (np.sin((1 - a) * omega) * z1 + np.sin(a * omega) * z2) / np.sin(omega)


@student_check
def check_slerp(slerp, *, seed: int = 8) -> bool:
    """Exercise B.1: ``slerp(z1, z2, alphas)`` -> (len(alphas), d): spherical interpolation
    (sin((1 - a) w) z1 + sin(a w) z2) / sin(w) between latent vectors z1, z2 (d,), with w the
    angle between them; it keeps the norm of typical Gaussian draws, where the hack's linear
    interpolation (1 - a) z1 + a z2 shrinks it in the middle."""
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((2, 64))
    alphas = np.linspace(0, 1, 9)
    value, err = call_student(slerp, z1.copy(), z2.copy(), alphas.copy())
    if err:
        return check(False, "slerp runs", err)
    if not check_shape(value, (len(alphas), len(z1)), "slerp returns one vector per alpha"):
        return False
    linear = (1 - alphas[:, None]) * z1 + alphas[:, None] * z2
    hint = "use the angle w = arccos(z1.z2 / (|z1| |z2|)) and the sines of (1 - a) w and a w."
    if _close(value, linear, rtol=1e-6):
        hint = "that is the linear interpolation; weight z1 and z2 by sines of the angle."
    ends = _close(value[[0, -1]], np.stack([z1, z2]), atol=1e-8)
    return (
        check(ends, "it starts at z1 and ends at z2", "alpha = 0 gives z1 and alpha = 1 gives z2.")
        and check(
            _close(value, _reference_slerp(z1, z2, alphas), rtol=1e-6, atol=1e-9),
            "it matches the reference spherical interpolation",
            hint,
        )
        and check(
            _close(
                call_student(slerp, z1, 2.5 * z1, alphas)[0],
                _reference_slerp(z1, 2.5 * z1, alphas),
                rtol=1e-6,
            ),
            "parallel vectors (angle 0) give the straight line, not NaN",
            "when sin(w) is about 0, fall back to (1 - a) z1 + a z2.",
        )
    )


def _reference_frechet(mu1, cov1, mu2, cov2):
    values, vectors = np.linalg.eigh(cov1)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    return float(
        np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2)
        - 2 * np.sum(np.sqrt(np.clip(middle, 0, None)))
    )  # fmt: skip


@student_check
def check_frechet_gaussian(frechet, *, seed: int = 11) -> bool:
    """Exercise B.2: ``frechet(mu1, cov1, mu2, cov2)`` -> float: the Frechet (2-Wasserstein)
    distance |mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)) between two Gaussians, the quantity
    behind the Frechet Inception Distance."""
    rng = np.random.default_rng(seed)
    d = 6
    a, b = rng.standard_normal((2, d, d))
    cov1, cov2 = a @ a.T / d + 0.1 * np.eye(d), b @ b.T / d + 0.1 * np.eye(d)
    mu1, mu2 = rng.standard_normal((2, d))
    value, err = call_student(frechet, mu1, cov1, mu2, cov2)
    if err:
        return check(False, "frechet runs", err)
    reference = _reference_frechet(mu1, cov1, mu2, cov2)
    elementwise = float(
        np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * np.sqrt(np.abs(cov1 * cov2)))
    )
    hint = "the trace term needs the matrix square root of C1 C2 (scipy.linalg.sqrtm), "
    hint += "not an element-wise one."
    if value is not None and np.size(value) == 1 and np.isclose(float(value), elementwise):
        hint = "np.sqrt is element-wise; the distance needs the matrix square root of C1 C2."
    same, _ = call_student(frechet, mu1, cov1, mu1, cov1)
    return (
        check(
            value is not None
            and np.size(value) == 1
            and np.isclose(float(value), reference, rtol=1e-6),
            "the distance between two random Gaussians matches the reference",
            hint,
        )
        and check(
            same is not None and abs(float(same)) < 1e-6,
            "a Gaussian is at distance 0 from itself",
            "Tr(C + C - 2 (C C)^(1/2)) = 0: take the real part of sqrtm's result.",
        )
        and check(
            _close(call_student(frechet, mu1, cov1, mu1 + 3.0, cov1)[0], 9.0 * d, rtol=1e-6),
            "shifting the mean by 3 in each of 6 dimensions gives 54",
            "the mean term is the squared distance |mu1 - mu2|^2, summed over dimensions.",
        )
    )
