"""Self-checks for the chapter F exercises (Cherenkov rings). Each prints PASS or FAIL.

Every check builds its own inputs, computes its reference itself and calls the student's
function; a stub (``NotImplementedError``) or a bug in it is a FAIL line, never a traceback.
"""

from __future__ import annotations

import importlib

import numpy as np

from ..data.rings import ring_targets, sample_ring_parameters, simulate_rings
from .checks import (
    _as_float_array,
    call_student,
    check,
    check_better_than,
    check_shape,
    student_answer_in_hand,
    student_check,
)


def _show(value) -> str:
    return np.array2string(np.asarray(value), precision=3, threshold=8)


RADIUS_RMSE_MAX = 0.3
"""Pass mark of exercise F.1 [px]: the solution gets about 0.2 px, one that keeps the noise 0.38."""


@student_check
def check_radius_estimator(radius_from_moments, *, n: int = 400, seed: int = 123) -> bool:
    """Exercise F.1: ``radius_from_moments(images, x, y)`` -> radii (N,) within 0.3 px RMSE.

    On the check's photon-count images the intensity-weighted mean distance of the lit pixels,
    recomputed twice over the pixels within 4 px of the current estimate, reaches about 0.21 px;
    the plain mean over all lit pixels, which keeps the noise hits, about 0.39 px (a threshold at
    20% of the maximum does not help: a noise hit counts one photon, as most ring pixels do).
    """
    images, labels = simulate_rings(n, seed=seed)
    truth = ring_targets(labels)
    radii, err = call_student(radius_from_moments, images, truth[:, 0], truth[:, 1])
    if err:
        return check(False, "radius_from_moments runs", err)
    if not check_shape(radii, (n,), "radius_from_moments returns one radius per image"):
        return False
    rmse = float(np.sqrt(np.mean((radii - truth[:, 2]) ** 2)))
    trivial = float(np.std(truth[:, 2]))
    return check_better_than(
        rmse, trivial, "radius RMSE beats predicting the mean radius"
    ) and check(
        rmse < RADIUS_RMSE_MAX,
        f"radius RMSE {rmse:.3f} px is below {RADIUS_RMSE_MAX} px",
        "weight each pixel's distance from the centre by its intensity, then recompute the "
        "mean over the pixels within 4 px of that first estimate (twice), which drops the "
        "noise hits.",
    )


def _separation(labels) -> np.ndarray:
    """Separation s = |c1 - c2| / (R1 + R2) of rings 1 and 2 of every image in ``labels``
    (NaN where an image has fewer than two rings).

    The two circles cross when |R1 - R2| < |c1 - c2| < R1 + R2; at s >= 1 they are apart, and
    below s = |R1 - R2| / (R1 + R2) one lies inside the other.
    """
    distance = np.hypot(
        labels["x_1"].to_numpy(float) - labels["x_2"].to_numpy(float),
        labels["y_1"].to_numpy(float) - labels["y_2"].to_numpy(float),
    )
    return distance / (labels["radius_1"].to_numpy(float) + labels["radius_2"].to_numpy(float))


def _error_rate_reference(labels, predicted_counts, edges):
    """The check's own answer to exercise F.2 (see :func:`check_error_rate_by_separation`)."""
    edges = np.asarray(edges, float)
    two = labels["n_rings"].to_numpy() == 2
    s = _separation(labels)[two]
    wrong = np.asarray(predicted_counts)[two] != 2
    index = np.digitize(s, edges) - 1  # bin i holds edges[i] <= s < edges[i + 1]
    keep = (index >= 0) & (index < len(edges) - 1)
    count = np.bincount(index[keep], minlength=len(edges) - 1)
    errors = np.bincount(index[keep], weights=wrong[keep], minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(count > 0, errors / count, np.nan)
        stderr = np.where(count > 0, np.sqrt(rate * (1 - rate) / count), np.nan)
    return rate, stderr, count.astype(float)


def _made_up_counts(labels, rng) -> np.ndarray:
    """Predicted ring counts of an imaginary counter that fails more often on close rings."""
    n_rings = labels["n_rings"].to_numpy()
    s = np.nan_to_num(_separation(labels), nan=10.0)
    p_wrong = np.where(n_rings == 2, 0.03 + 0.6 * np.exp(-s / 0.35), 0.15)
    wrong = rng.random(len(labels)) < p_wrong
    # a miss on two rings says one; on one ring, two; on three rings, two
    return np.where(wrong, np.where(n_rings == 2, 1, 2), n_rings).astype(int)


def _run_error_rate(error_rate_by_separation, labels, counts, edges, what):
    """Call the student's function; return (rate, stderr, count) as float arrays, or None."""
    student_answer_in_hand()
    try:
        result = error_rate_by_separation(labels.copy(), counts.copy(), edges.copy())
    except NotImplementedError:
        check(
            False, "error_rate_by_separation runs", "the function is still a stub: write its body."
        )
        return None
    except Exception as err:  # noqa: BLE001 - a student's bug is a FAIL, not a traceback
        check(
            False, "error_rate_by_separation runs", f"calling it raised {type(err).__name__}: {err}"
        )
        return None
    n_bins = len(edges) - 1
    try:
        arrays = tuple(np.asarray(a, dtype=float).reshape(-1) for a in result)
    except (TypeError, ValueError):
        arrays = ()
    if not check(
        len(arrays) == 3 and all(a.shape == (n_bins,) for a in arrays),
        f"error_rate_by_separation returns (rate, stderr, count), one value per bin ({what})",
        f"expected three arrays of length len(edges) - 1 = {n_bins}; got "
        + (", ".join(f"shape {a.shape}" for a in arrays) if arrays else f"{type(result).__name__}"),
    ):
        return None
    return arrays


def _same(got, expected) -> bool:
    return bool(np.allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True))


@student_check
def check_error_rate_by_separation(
    error_rate_by_separation, *, n: int = 3000, seed: int = 2024
) -> bool:
    """Exercise F.2: ``error_rate_by_separation(labels, predicted_counts, edges)`` ->
    ``(rate, stderr, count)``, arrays of length ``len(edges) - 1``.

    For the two-ring images of ``labels`` (``n_rings == 2``) with separation
    s = |c1 - c2| / (R1 + R2), bin i holds edges[i] <= s < edges[i + 1] (``np.digitize(s, edges)
    - 1``; images outside [edges[0], edges[-1]) are left out): ``count`` the number of images,
    ``rate`` the fraction whose predicted count is not 2 and ``stderr`` its binomial standard
    error sqrt(rate (1 - rate) / count); both NaN for an empty bin.

    The check simulates its own labels (``n`` images of one or two rings, rows shuffled as a test
    split leaves them) and the counts of an imaginary counter that errs more often on close
    rings, computes its own answer and compares; then it does the same on images of one to three
    rings with edges that leave some separations out.
    """
    rng = np.random.default_rng(seed)
    labels = sample_ring_parameters(n, max_rings=2, min_rings=1, seed=seed)
    labels = labels.iloc[rng.permutation(n)]  # a test split: shuffled, not a 0..n-1 index
    counts = _made_up_counts(labels, rng)
    edges = np.r_[np.linspace(0.0, 2.0, 9), 3.0, 6.0, 8.0]  # the last bin is empty
    got = _run_error_rate(error_rate_by_separation, labels, counts, edges, "1 or 2 rings")
    if got is None:
        return False
    rate, stderr, count = got
    expected = _error_rate_reference(labels, counts, edges)
    passed = check(
        _same(count, expected[2]),
        "count: the number of two-ring images in each separation bin",
        f"got {_show(count)}; keep the images with n_rings == 2, compute "
        "s = |c1 - c2| / (R1 + R2) and put s in bin i when edges[i] <= s < edges[i + 1].",
    )
    passed &= check(
        _same(rate, expected[0]),
        "rate: the fraction of two-ring images counted wrong in each bin",
        f"got {_show(rate)}; a two-ring image is wrong when its predicted count is not 2 "
        "(use predicted_counts, not the true n_rings); an empty bin has rate NaN.",
    )
    passed &= check(
        _same(stderr, expected[1]),
        "stderr: the binomial standard error of each rate",
        f"got {_show(stderr)}; sqrt(rate * (1 - rate) / count), NaN for an empty bin.",
    )
    if not passed:
        return False
    # Images of up to three rings, and edges that leave out s < 0.2 and s >= 1.4.
    labels = sample_ring_parameters(n, max_rings=3, min_rings=1, seed=seed + 1)
    labels = labels.iloc[rng.permutation(n)]
    counts = _made_up_counts(labels, rng)
    edges = np.array([0.2, 0.6, 1.0, 1.4])
    got = _run_error_rate(error_rate_by_separation, labels, counts, edges, "1 to 3 rings")
    if got is None:
        return False
    expected = _error_rate_reference(labels, counts, edges)
    return check(
        all(_same(g, e) for g, e in zip(got, expected, strict=True)),
        "on images of 1 to 3 rings, only the two-ring images count, and separations outside "
        "the edges are left out",
        "select n_rings == 2 (three-ring images have a second ring too), and drop s below "
        "edges[0] or at or above edges[-1] instead of putting it in the first or last bin.",
    )


@student_check
def check_confusion(confusion, *, seed: int = 7) -> bool:
    """Exercise F.3: ``confusion(true, pred, n_classes)`` -> counts, rows true, columns
    predicted; checked on 500 random labels against scikit-learn's confusion matrix."""
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(seed)
    true, pred = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    got, err = call_student(confusion, true, pred, 4)
    if err:
        return check(False, "confusion runs", err)
    expected = confusion_matrix(true, pred, labels=np.arange(4))
    return check(
        got.shape == (4, 4) and np.array_equal(got, expected),
        "confusion matrix of 500 random labels is right",
        "row index = true class, column index = predicted class, entries are counts.",
    )


@student_check
def check_radius_sweep(requested, measured) -> bool:
    """Exercise F.4: radii measured on cVAE rings follow the requested radii (rank correlation
    above 0.9, RMSE below 1.5 px)."""
    from scipy.stats import spearmanr

    student_answer_in_hand()
    requested, measured = np.asarray(requested, float), _as_float_array(measured)
    if measured is None:
        return check(False, "measured radii are numbers", "pass the array of measured radii.")
    if not check_shape(measured, requested.shape, "one measured radius per requested radius"):
        return False
    rho = float(spearmanr(requested, measured).statistic)
    rmse = float(np.sqrt(np.mean((requested - measured) ** 2)))
    return check(
        rho > 0.9,
        f"measured radii rise with the requested ones (Spearman {rho:.2f} > 0.9)",
        "condition the cVAE on the standardised parameters, as in training, and train "
        "it longer or on more rings.",
    ) and check(
        rmse < 1.5,
        f"radius RMSE {rmse:.2f} px is below 1.5 px",
        "train the cVAE longer or on more rings.",
    )


SWEEP_CENTRE = (14.0, 14.0)
SWEEP_THICKNESS = 0.8
SWEEP_DEFORMATION = 1.5


def _framework_of(model):
    """``a3net.torch`` or ``a3net.keras``: the framework whose model class ``model`` is."""
    for cls in type(model).__mro__:
        parts = cls.__module__.split(".")
        if parts[0] == "a3net" and len(parts) > 1 and parts[1] in ("torch", "keras"):
            return importlib.import_module(f"a3net.{parts[1]}")
    raise TypeError(
        f"expected a model from a3net.torch or a3net.keras, got {type(model).__name__}; "
        "pass the chapter's trained cVAE and CNN regressor."
    )


def sweep_conditions(radii) -> np.ndarray:
    """Ring parameters (N, 5) for rings at the sweep centre with ``radii`` [px]: x, y, radius,
    thickness, deformation (unscaled)."""
    radii = np.asarray(radii, np.float64).reshape(-1)
    ones = np.ones_like(radii)
    return np.column_stack(
        [
            SWEEP_CENTRE[0] * ones,
            SWEEP_CENTRE[1] * ones,
            radii,
            SWEEP_THICKNESS * ones,
            SWEEP_DEFORMATION * ones,
        ]
    ).astype(np.float32)


def _reference_radii(cvae, regressor, scaler, radii, seed: int) -> np.ndarray:
    nn = _framework_of(cvae)
    conditions = np.asarray(scaler.transform(sweep_conditions(radii)), np.float32)
    drawn = nn.generate(cvae, conditions, seed=seed)
    peak = drawn.max(axis=(1, 2, 3), keepdims=True)
    measured = nn.predict(regressor, drawn / np.maximum(peak, 1e-6))
    return np.asarray(scaler.inverse_transform(measured), float)[:, 2]


@student_check
def check_measured_radii(
    measured_radii, cvae, regressor, scaler, *, seed: int = 0, atol: float = 0.05
) -> bool:
    """Exercise F.4: ``measured_radii(cvae, regressor, scaler, radii, seed)`` -> the radii (N,)
    that ``regressor`` reads off the rings ``cvae`` draws at centre (14, 14) with ``radii``
    (thickness 0.8, deformation 1.5, latent draws seeded with ``seed``).

    The check asks for its own sweep (7 radii from 8 down to 3.5 px), measures it itself and
    compares within ``atol`` px; then it reports, ungraded, how well the radii follow the
    request, which depends on how long the cVAE trained.
    """
    radii = np.linspace(8.0, 3.5, 7)
    expected = _reference_radii(cvae, regressor, scaler, radii, seed)
    got, err = call_student(measured_radii, cvae, regressor, scaler, radii, seed)
    if err:
        return check(False, "measured_radii runs", err)
    if not check_shape(got, radii.shape, "measured_radii returns one radius per requested radius"):
        return False
    if not check(
        not np.allclose(got, radii, rtol=0, atol=1e-6),
        "measured_radii measures the drawn rings",
        "it returned the requested radii: draw the rings with the cVAE, then measure "
        "them with the regressor.",
    ):
        return False
    if not check(
        bool(np.all(np.abs(got - expected) <= atol)),
        f"measured radii of the check's sweep (8 to 3.5 px) match its own, within {atol} px",
        f"got {_show(got)}, expected {_show(expected)}: condition on "
        "scaler.transform(x, y, radius, thickness, deformation), draw with "
        "nn.generate(cvae, ..., seed=seed), scale each image to a maximum of 1, "
        "predict, and undo the scaling (column 2 is the radius).",
    ):
        return False
    # How well the cVAE follows the request depends on its training (the profile), not on the
    # student's function: reported, not graded.
    from scipy.stats import spearmanr

    rho = float(spearmanr(radii, got).statistic)
    rmse = float(np.sqrt(np.mean((radii - got) ** 2)))
    print(
        f"Your cVAE: rank correlation {rho:.2f} and RMSE {rmse:.2f} px between requested and "
        "measured radii (a well-trained one gives above 0.9 and below 1.5 px)."
    )
    return True
