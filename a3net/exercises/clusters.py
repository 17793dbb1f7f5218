"""Self-checks for the exercises of chapters D and G (cluster masses). Each prints PASS or FAIL.

Every check builds its own inputs, computes its reference itself and calls the student's
function; a stub (``NotImplementedError``) or a bug in it is a FAIL line, never a traceback.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..data.clusters import ClusterConfig, simulate_clusters
from .checks import call_student, check, check_shape, student_check


def _annulus(images, r500_pix, inner):
    size = images.shape[-1]
    axis = np.arange(size) - (size - 1) / 2
    dist = np.hypot(axis[None, :], axis[:, None])[None]
    r = np.asarray(r500_pix, float)[:, None, None]
    return (dist < r) & (dist >= inner * r)


# --- chapter D -----------------------------------------------------------------------------


@student_check
def check_core_excised_counts(core_excised_counts, *, seed: int = 11) -> bool:
    """Exercise D.1: ``core_excised_counts(images, r500_pix, background, inner)`` -> (N,)
    background-subtracted counts of the pixels with inner R500 <= r < R500 about the centre."""
    cfg = ClusterConfig(image_size=32)
    images, cat = simulate_clusters(20, projections=1, config=cfg, seed=seed)
    r500, bkg = cat.r500_pix.to_numpy(), cfg.background_per_pixel
    counts, err = call_student(core_excised_counts, images.copy(), r500.copy(), bkg, 0.15)
    if err:
        return check(False, "core_excised_counts runs", err)
    if not check_shape(counts, (len(images),), "core_excised_counts returns one number per image"):
        return False
    mask = _annulus(images[:, 0], r500, 0.15)
    reference = (images[:, 0] * mask).sum(axis=(1, 2)) - bkg * mask.sum(axis=(1, 2))
    whole, err = call_student(core_excised_counts, images.copy(), r500.copy(), bkg, 0.0)
    inside = _annulus(images[:, 0], r500, 0.0)
    whole_ref = (images[:, 0] * inside).sum(axis=(1, 2)) - bkg * inside.sum(axis=(1, 2))
    return check(
        np.allclose(counts, reference, rtol=1e-4, atol=1e-2),
        "counts between 0.15 and 1 R500, background subtracted, match the reference",
        "distances from the image centre ((S - 1) / 2, (S - 1) / 2), keep inner * R500 <= r < "
        "R500, and subtract background x the number of pixels kept.",
    ) and check(
        whole is not None and np.allclose(whole, whole_ref, rtol=1e-4, atol=1e-2),
        "with inner = 0 it gives the total counts within R500",
        "use the inner argument instead of a fixed 0.15.",
    )


def _mean_log1p_reference(rate):
    rate = np.asarray(rate, float)
    k = np.arange(int(rate.max() + 12 * np.sqrt(rate.max() + 1) + 30))
    pmf = stats.poisson.pmf(k[None, :], rate[:, None])
    return (pmf * np.log1p(k)[None, :]).sum(axis=1)


@student_check
def check_mean_log_counts(mean_log_counts) -> bool:
    """Exercise D.2: ``mean_log_counts(rate)`` -> E[log(1 + N)] for N ~ Poisson(rate), (M,)."""
    rate = np.array([0.1, 0.5, 1.0, 3.0, 10.0, 40.0])
    value, err = call_student(mean_log_counts, rate.copy())
    if err:
        return check(False, "mean_log_counts runs", err)
    if not check_shape(value, rate.shape, "mean_log_counts returns one value per rate"):
        return False
    reference = _mean_log1p_reference(rate)
    return check(
        np.allclose(value, reference, atol=2e-3),
        "E[log(1 + N)] matches the sum over the Poisson probabilities",
        "sum log(1 + k) x P(N = k) over k = 0, 1, ... far enough into the tail "
        "(scipy.stats.poisson.pmf), for every rate at once.",
    ) and check(
        bool(np.all(value < np.log1p(rate))),
        "it lies below log(1 + rate) (Jensen's inequality)",
        "log is concave: the mean of the logarithm is below the logarithm of the mean.",
    )


def _asymmetric_predictor(images):
    """A made-up 'network': a weighted sum of log counts with fixed random weights, which have
    neither a rotational nor a mirror symmetry."""
    size = images.shape[-1]
    weight = 1.0 + np.random.default_rng(size).random((size, size))
    return (np.log1p(images[:, 0]) * weight).mean(axis=(1, 2))


@student_check
def check_symmetrised_prediction(symmetrised_prediction) -> bool:
    """Exercise D.3: ``symmetrised_prediction(predict, images)`` -> (N,) the mean prediction
    over the eight quarter turns and mirror images of each image."""
    rng = np.random.default_rng(5)
    images = rng.poisson(3.0, (6, 1, 16, 16)).astype(np.float32)
    value, err = call_student(symmetrised_prediction, _asymmetric_predictor, images.copy())
    if err:
        return check(False, "symmetrised_prediction runs", err)
    if not check_shape(value, (len(images),), "one prediction per image"):
        return False
    views = []
    for flip in (False, True):
        base = images[..., ::-1] if flip else images
        views += [np.rot90(base, k, axes=(2, 3)) for k in range(4)]
    reference = np.mean([_asymmetric_predictor(v) for v in views], axis=0)
    turned, err = call_student(
        symmetrised_prediction, _asymmetric_predictor, np.rot90(images, 1, axes=(2, 3)).copy()
    )
    return check(
        np.allclose(value, reference, rtol=1e-5),
        "the mean over the 4 turns x 2 mirror images matches the reference",
        "average predict() over np.rot90(images, k, axes=(2, 3)) for k = 0..3, of the images "
        "and of their mirror images images[..., ::-1].",
    ) and check(
        turned is not None and np.allclose(turned, value, rtol=1e-5),
        "the symmetrised prediction does not change when the images are turned",
        "all eight symmetries must be included, not only the four turns.",
    )


# --- chapter G -----------------------------------------------------------------------------


@student_check
def check_test_set_spread(test_set_spread) -> bool:
    """Exercise G.1: ``test_set_spread(residuals, n_test, n_draws, seed)`` -> (mean, std) of the
    MSE of ``n_draws`` random test sets of ``n_test`` residuals drawn without replacement."""
    rng = np.random.default_rng(3)
    residuals = rng.standard_t(5, 900) * 0.04
    out, err = call_student(test_set_spread, residuals.copy(), 99, 2000, 0)
    if err:
        return check(False, "test_set_spread runs", err)
    if not check_shape(out, (2,), "test_set_spread returns (mean, std)"):
        return False
    squared = residuals**2
    n, big = 99, len(residuals)
    expected_std = np.sqrt(squared.var() / n * (big - n) / (big - 1))
    return check(
        abs(out[0] - squared.mean()) < 0.1 * squared.mean(),
        f"the mean test MSE {out[0]:.5f} is close to the MSE of all residuals {squared.mean():.5f}",
        "draw n_test residuals without replacement (rng.choice(..., replace=False)) for each "
        "draw and take the mean of their squares.",
    ) and check(
        abs(out[1] - expected_std) < 0.1 * expected_std,
        f"the spread {out[1]:.5f} matches sqrt(var(r²)/n x (N - n)/(N - 1)) = {expected_std:.5f}",
        "return the standard deviation of the n_draws MSEs, one MSE per drawn test set.",
    )


@student_check
def check_core_share(core_share) -> bool:
    """Exercise G.2: ``core_share(maps, r_core)`` -> (N,) share of each map's total within
    r_core pixels of the centre (r < r_core)."""
    rng = np.random.default_rng(8)
    maps = rng.random((5, 1, 24, 24)).astype(np.float32)
    r_core = np.array([2.0, 3.0, 4.5, 6.0, 8.0])
    value, err = call_student(core_share, maps.copy(), r_core.copy())
    if err:
        return check(False, "core_share runs", err)
    if not check_shape(value, (5,), "core_share returns one share per map"):
        return False
    inside = _annulus(maps[:, 0], r_core, 0.0)
    reference = (maps[:, 0] * inside).sum(axis=(1, 2)) / maps[:, 0].sum(axis=(1, 2))
    return check(
        np.allclose(value, reference, rtol=1e-4),
        "the share of each map inside its core radius matches the reference",
        "distances from ((S - 1) / 2, (S - 1) / 2); sum the map where r < r_core and divide by "
        "the map's total.",
    )


@student_check
def check_max_rotation_change(max_rotation_change) -> bool:
    """Exercise G.3: ``max_rotation_change(predict, images)`` -> the largest |change| of a
    prediction when the images are turned by 90, 180 or 270 degrees."""
    rng = np.random.default_rng(2)
    images = rng.poisson(3.0, (6, 1, 16, 16)).astype(np.float32)

    def invariant(x):
        return np.log1p(x[:, 0]).mean(axis=(1, 2))

    reference = max(
        np.abs(
            _asymmetric_predictor(np.rot90(images, k, axes=(2, 3))) - _asymmetric_predictor(images)
        ).max()
        for k in (1, 2, 3)
    )
    value, err = call_student(max_rotation_change, _asymmetric_predictor, images.copy())
    if err:
        return check(False, "max_rotation_change runs", err)
    zero, _ = call_student(max_rotation_change, invariant, images.copy())
    return check(
        np.ndim(value) == 0 and np.isclose(float(value), reference, rtol=1e-5),
        f"the largest change of a non-invariant predictor is {reference:.4f}",
        "compare predict(np.rot90(images, k, axes=(2, 3))) with predict(images) for k = 1, 2, "
        "3 and return the largest absolute difference.",
    ) and check(
        zero is not None and float(zero) < 1e-6,
        "an invariant predictor changes by nothing",
        "return a single number, the maximum over images and turns.",
    )
