"""Self-checks for the exercises of chapters E and H (cosmology from maps): PASS or FAIL lines.

Every check builds its own inputs, computes its reference itself and calls the student's
function; a stub (``NotImplementedError``) or a bug in it is a FAIL line, never a traceback.
"""

from __future__ import annotations

import numpy as np

from ..data.cosmology import SLAB_THICKNESS
from ..data.cosmology_linear import RHO_CRIT
from .checks import allclose_or_false as _close
from .checks import call_student, check, check_shape, student_check

__all__ = [
    "check_dihedral_average",
    "check_mean_density_estimator",
    "check_mean_removal",
    "check_power_spectrum",
    "check_r2",
    "check_saliency_by_web",
]


def _lognormal_maps(n: int, size: int, rng, *, channels: int | None = None) -> np.ndarray:
    """Positive, clustered float32 maps (n, size, size), or (n, channels, size, size), each
    with mean 1: exp of a smoothed Gaussian field, a stand-in for projected densities."""
    shape = (n, size, size) if channels is None else (n, channels, size, size)
    k = np.fft.fftfreq(size)
    window = np.exp(-0.5 * (np.hypot(k[:, None], k[None, :]) / 0.1) ** 2)
    field = np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) * window).real
    field /= field.std(axis=(-2, -1), keepdims=True)
    maps = np.exp(field)
    return (maps / maps.mean(axis=(-2, -1), keepdims=True)).astype(np.float32)


# --- chapter E -----------------------------------------------------------------------------


@student_check
def check_mean_density_estimator(omega_m_from_mean, *, seed: int = 4) -> bool:
    """Exercise E.1: ``omega_m_from_mean(mtot_maps)`` -> (N,) Omega_m of each Mtot map (N, S, S)
    [(Msun/h)/(Mpc/h)^2], estimated as mean(map) / (RHO_CRIT * SLAB_THICKNESS)."""
    rng = np.random.default_rng(seed)
    omega_m = rng.uniform(0.1, 0.5, 12)
    column = RHO_CRIT * SLAB_THICKNESS  # (Msun/h)/(Mpc/h)^2 of a slab at the critical density
    maps = _lognormal_maps(12, 32, rng) * (omega_m * column)[:, None, None].astype(np.float32)
    value, err = call_student(omega_m_from_mean, maps.copy())
    if err:
        return check(False, "omega_m_from_mean runs", err)
    if not check_shape(value, (len(maps),), "omega_m_from_mean returns one Omega_m per map"):
        return False
    reference = maps.mean(axis=(1, 2), dtype=np.float64) / column
    ratio = np.median(value / reference) if np.all(np.isfinite(value)) else np.nan
    hint = (
        "average every map over its pixels (axis=(1, 2)), not over the stack, and divide by "
        "RHO_CRIT * SLAB_THICKNESS: a column density is a volume density times 5 Mpc/h."
    )
    if np.isclose(ratio, SLAB_THICKNESS, rtol=0.01):
        hint = "divide by the slab thickness too: the maps are column densities through 5 Mpc/h."
    elif np.allclose(value, np.median(maps, axis=(1, 2)) / column, rtol=1e-3):
        hint = "use the mean, not the median: the maps are skewed, their median lies below it."
    return check(
        np.allclose(value, reference, rtol=1e-4),
        "Omega_m = mean(map) / (RHO_CRIT * 5 Mpc/h) for every map matches the reference",
        hint,
    ) and check(
        np.allclose(value, omega_m, rtol=1e-3),
        "it recovers the Omega_m (0.1 to 0.5) that each test map was made with",
        "return the estimate of each map in the order of the maps.",
    )


@student_check
def check_mean_removal(preprocess, *, seed: int = 6) -> bool:
    """Exercise E.2: ``preprocess(maps)`` -> log10(map / mean(map)) of every map and channel of
    ``maps`` (N, C, S, S), float32 of the same shape: each map's own mean is removed."""
    rng = np.random.default_rng(seed)
    scales = np.array([1e12, 1e6], dtype=np.float32)[None, :, None, None]  # Mtot, P-like
    spread = 10 ** rng.uniform(-1, 1, (8, 2, 1, 1)).astype(np.float32)  # each map its own mean
    maps = _lognormal_maps(8, 24, rng, channels=2) * scales * spread
    got, err = call_student(preprocess, maps.copy(), as_array=False)
    if err:
        return check(False, "preprocess runs", err)
    if not check_shape(got, maps.shape, "preprocess keeps the shape (N, C, S, S)"):
        return False
    if not check(
        np.asarray(got).dtype == np.float32,
        "preprocess returns float32",
        f"got {np.asarray(got).dtype}; end with .astype(np.float32).",
    ):
        return False
    got = np.asarray(got, dtype=np.float64)
    reference = np.log10(maps / maps.mean(axis=(2, 3), keepdims=True, dtype=np.float64))
    factor = 10 ** rng.uniform(-3, 3, (8, 2, 1, 1))
    scaled, err = call_student(preprocess, (maps * factor).astype(np.float32))
    return check(
        not err and _close(scaled, got, atol=1e-4),
        "multiplying one map and channel by a constant leaves its output unchanged",
        "divide each map by its own mean over its pixels (axis=(2, 3), keepdims=True), not by "
        "a mean over the stack or over the channels.",
    ) and check(
        np.allclose(got, reference, atol=1e-4),
        "the values are log10(map / mean(map))",
        "take the log10 (not ln) of the map divided by its arithmetic mean; the mean of the "
        "log (a geometric mean) or a standardisation gives other numbers.",
    )


def _reference_power(delta, box_size, n_bins, *, low=True, high=True):
    """Binned power of ``delta`` (S, S); ``low``/``high``: whether modes exactly at 2 pi / box
    and at the Nyquist pi S / box count (rounding may put them either side of the edge)."""
    size = delta.shape[0]
    step = np.fft.fftfreq(size) * size  # integer wave numbers, in units of 2 pi / box
    u = np.hypot(step[:, None], step[None, :])
    edges_u = np.linspace(1.0, size / 2, n_bins + 1)
    power = np.abs(np.fft.fft2(delta)) ** 2 * box_size**2 / size**4
    index = np.searchsorted(edges_u, u, side="right") - 1
    index[np.isclose(u, size / 2)] = n_bins - 1 if high else -1
    if not low:
        index[np.isclose(u, 1.0)] = -1
    keep = (index >= 0) & (index < n_bins)
    counts = np.bincount(index[keep], minlength=n_bins)
    sums = np.bincount(index[keep], power[keep], minlength=n_bins)
    edges = edges_u * 2 * np.pi / box_size
    return 0.5 * (edges[1:] + edges[:-1]), sums / counts


def _student_power(fn, delta, box_size, n_bins):
    """(power, matched, k_ok, reason): the student's power against the reference's variants."""
    out, err = call_student(fn, delta.copy(), box_size, n_bins, as_array=False)
    if err:
        return None, False, False, err
    try:
        k, power = (np.asarray(v, dtype=float) for v in out)
    except (TypeError, ValueError):
        return None, False, False, "return a pair (k_centres, power) of arrays."
    if k.shape != (n_bins,) or power.shape != (n_bins,):
        reason = (
            f"k_centres and power must have n_bins = {n_bins} values each, got shapes "
            f"{k.shape} and {power.shape}."
        )
        return None, False, False, reason
    k_ref, _ = _reference_power(delta, box_size, n_bins)
    variants = [
        _reference_power(delta, box_size, n_bins, low=low, high=high)[1]
        for low in (True, False)
        for high in (True, False)
    ]
    matched = any(np.allclose(power, v, rtol=1e-4, atol=1e-9 * np.abs(v).max()) for v in variants)
    return power, matched, bool(np.allclose(k, k_ref, rtol=1e-6)), ""


@student_check
def check_power_spectrum(power_spectrum_1d, *, seed: int = 2) -> bool:
    """Exercise E.3: ``power_spectrum_1d(delta, box_size, n_bins)`` -> (k_centres, power), each
    (n_bins,), of a contrast map ``delta`` (S, S) over a square of side ``box_size`` [Mpc/h]:
    the mean of |FFT(delta)|^2 * box_size^2 / S^4 [(Mpc/h)^2] over the modes in each of
    ``n_bins`` linear bins of |k| [h/Mpc], edges np.linspace(2 pi / box_size, pi S / box_size,
    n_bins + 1), a mode in bin i when edges[i] <= |k| < edges[i + 1] (the last bin also holding
    the Nyquist |k| = pi S / box_size); k_centres are the midpoints of the edges."""
    rng = np.random.default_rng(seed)
    size, box, n_bins = 32, 25.0, 7  # no mode lies on an inner edge
    k = np.fft.fftfreq(size)
    kk = np.hypot(k[:, None], k[None, :])
    amplitude = np.where(kk > 0, 1.0 / np.where(kk > 0, kk, 1.0), 0.0)  # P(k) ~ k^-2
    delta = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amplitude).real
    delta /= delta.std()
    _, matched, k_ok, reason = _student_power(power_spectrum_1d, delta, box, n_bins)
    if reason:
        return check(False, "power_spectrum_1d runs and returns (k_centres, power)", reason)
    if not check(
        k_ok,
        "k_centres are the midpoints of the bin edges [h/Mpc]",
        "edges = np.linspace(2 * np.pi / box_size, np.pi * S / box_size, n_bins + 1); return "
        "0.5 * (edges[1:] + edges[:-1]).",
    ):
        return False
    if not check(
        matched,
        "the binned power of a random map matches the reference",
        "|k| from 2 pi np.fft.fftfreq(S, d=box_size / S) along both axes; power = "
        "|np.fft.fft2(delta)|^2 * box_size^2 / S^4 on the full plane (not rfft2's half); "
        "average (not sum) the power of the modes in each bin, leaving out k = 0 and the "
        "corners beyond the Nyquist.",
    ):
        return False
    # a plane wave of 6 periods along x: all its power sits in the bin holding |k| = 6 (2 pi / L)
    cols = np.arange(48)[None, :] * np.ones((48, 1))
    wave = 0.3 * np.cos(2 * np.pi * 6 * cols / 48)
    power, matched, _, reason = _student_power(power_spectrum_1d, wave, 50.0, 10)
    k_wave, k_low, k_nyquist = 6 * 2 * np.pi / 50.0, 2 * np.pi / 50.0, np.pi * 48 / 50.0
    expected_bin = int((k_wave - k_low) / ((k_nyquist - k_low) / 10))
    alone = power is not None and int(np.argmax(power)) == expected_bin
    alone = alone and bool(np.all(np.delete(power, expected_bin) < 1e-10 * power.max()))
    return check(
        matched and alone,
        f"a plane wave with k = {k_wave:.3f} h/Mpc puts all its power in bin {expected_bin} "
        "(48 px, 50 Mpc/h, 10 bins)",
        reason or "use the box_size, S and n_bins of the call, not fixed numbers.",
    )


# --- chapter H -----------------------------------------------------------------------------


def _lopsided_predictor(maps):
    """A made-up 'network' for (N, C, S, S) maps with two outputs: weighted sums of the pixels
    whose fixed random weights have neither a rotational nor a mirror symmetry."""
    c, s = maps.shape[1], maps.shape[-1]
    weights = np.random.default_rng(100 * c + s).standard_normal((2, c, s, s))
    return np.einsum("nchw,pchw->np", np.asarray(maps, dtype=np.float64), weights) / s


def _dihedral_views(maps):
    views = []
    for base in (maps, maps[..., ::-1]):
        views += [np.rot90(base, k, axes=(2, 3)) for k in range(4)]
    return views


@student_check
def check_dihedral_average(average_over_symmetries, *, seed: int = 9) -> bool:
    """Exercise H.1: ``average_over_symmetries(predict, maps)`` -> (N, P), the mean of
    ``predict`` (a function of (N, C, S, S) maps returning (N, P)) over the 8 quarter turns and
    mirror images of ``maps``."""
    rng = np.random.default_rng(seed)
    maps = np.log10(_lognormal_maps(5, 16, rng, channels=2))
    value, err = call_student(average_over_symmetries, _lopsided_predictor, maps.copy())
    if err:
        return check(False, "average_over_symmetries runs", err)
    if not check_shape(value, (5, 2), "one averaged prediction (N, P) per map"):
        return False
    reference = np.mean([_lopsided_predictor(v) for v in _dihedral_views(maps)], axis=0)
    turned, err_t = call_student(
        average_over_symmetries, _lopsided_predictor, np.rot90(maps, 1, axes=(2, 3)).copy()
    )
    mirrored, err_m = call_student(
        average_over_symmetries, _lopsided_predictor, maps[..., ::-1].copy()
    )
    return check(
        np.allclose(value, reference, rtol=1e-5, atol=1e-8),
        "the mean over the 4 turns x 2 mirror images matches the reference",
        "average predict() over np.rot90(maps, k, axes=(2, 3)) for k = 0..3, of the maps and "
        "of their mirror images maps[..., ::-1], keeping the outputs' axis (N, P).",
    ) and check(
        not (err_t or err_m)
        and _close(turned, value, rtol=1e-5, atol=1e-8)
        and _close(mirrored, value, rtol=1e-5, atol=1e-8),
        "the average does not change when the maps are turned or mirrored",
        "include all eight symmetries, the mirror images too, not only the four turns.",
    )


@student_check
def check_saliency_by_web(saliency_share, *, seed: int = 13) -> bool:
    """Exercise H.2: ``saliency_share(saliency, labels)`` -> (3,), the share of the total
    |saliency| over all maps that falls on void, filament and node pixels (labels 0, 1, 2 of
    ``a3net.cosmic_web.classify_web``); saliency and labels (N, S, S)."""
    from ..cosmic_web import classify_web

    rng = np.random.default_rng(seed)
    density = _lognormal_maps(6, 32, rng)
    labels = classify_web(density, box_size=25.0, smoothing=0.5, threshold=0.2)
    # signed saliency, larger and mostly negative on the nodes: the sign must not cancel
    saliency = rng.standard_normal(labels.shape) * (1.0 + 2.0 * labels) - 1.5 * (labels == 2)
    saliency *= rng.uniform(0.2, 5.0, (len(labels), 1, 1))  # maps of different total saliency
    value, err = call_student(saliency_share, saliency.copy(), labels.copy())
    if err:
        return check(False, "saliency_share runs", err)
    if not check_shape(value, (3,), "saliency_share returns three shares (void, filament, node)"):
        return False
    magnitude = np.abs(saliency)
    reference = np.array([magnitude[labels == i].sum() for i in range(3)]) / magnitude.sum()
    no_nodes = np.where(labels == 2, 1, labels).astype(np.int8)
    empty, err = call_student(saliency_share, saliency.copy(), no_nodes)
    empty_ref = np.array([magnitude[no_nodes == i].sum() for i in range(3)]) / magnitude.sum()
    if not check(
        np.allclose(value.sum(), 1.0, atol=1e-6),
        "the three shares sum to 1",
        "divide each class's sum of |saliency| by the total over all pixels of all maps.",
    ):
        return False
    return check(
        np.allclose(value, reference, rtol=1e-5, atol=1e-8),
        "the shares of |saliency| on voids, filaments and nodes match the reference",
        "take np.abs(saliency) first (signs cancel otherwise), then sum it where labels == 0, 1 "
        "and 2 over all maps together and divide by the total; the pixel fractions are not it.",
    ) and check(
        not err and _close(empty, empty_ref, rtol=1e-5, atol=1e-8),
        "a class with no pixel gets a share of 0",
        "return three values even when a class is absent (np.bincount with minlength=3, or a "
        "sum over an empty mask).",
    )


@student_check
def check_r2(r2_per_parameter, *, seed: int = 21) -> bool:
    """Exercise H.3: ``r2_per_parameter(y_true, y_pred)`` -> (P,), the coefficient of
    determination 1 - sum((y - y_pred)^2) / sum((y - mean(y))^2) of each column of (N, P)
    arrays, as ``sklearn.metrics.r2_score(y_true, y_pred, multioutput="raw_values")``."""
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(seed)
    n = 300
    y_true = np.column_stack(
        [rng.uniform(0.1, 0.5, n), rng.uniform(0.6, 1.0, n), np.exp(rng.uniform(-1.4, 1.4, n))]
    )
    # a shrunk prediction of Omega_m, a biased one of sigma_8, and a feedback amplitude the
    # "network" cannot predict (worse than the mean: negative R2)
    y_pred = np.column_stack(
        [
            0.3 + 0.8 * (y_true[:, 0] - 0.3) + rng.normal(0, 0.03, n),
            y_true[:, 1] + 0.05 + rng.normal(0, 0.04, n),
            np.exp(rng.uniform(-1.4, 1.4, n)),
        ]
    )
    value, err = call_student(r2_per_parameter, y_true.copy(), y_pred.copy())
    if err:
        return check(False, "r2_per_parameter runs", err)
    if not check_shape(value, (3,), "one R2 per parameter (column)"):
        return False
    reference = r2_score(y_true, y_pred, multioutput="raw_values")
    return check(
        np.allclose(value, reference, rtol=1e-6, atol=1e-9),
        f"R2 per parameter matches sklearn's r2_score: {np.round(reference, 4).tolist()}",
        "per column (axis=0): 1 - sum((y_true - y_pred)^2) / sum((y_true - y_true.mean(0))^2); "
        "the spread is that of y_true, not y_pred, and R2 can be negative: do not clip it.",
    )
