"""Self-checks for the chapter F exercises (Cherenkov rings). Each prints PASS or FAIL.

Every check builds its own inputs, computes its reference itself and calls the student's
function; a stub (``NotImplementedError``) or a bug in it is a FAIL line, never a traceback.
"""

from __future__ import annotations

import importlib

import numpy as np

from ..data.rings import ring_targets, simulate_rings
from .checks import check, check_better_than, check_shape


def _call(fn, *args):
    try:
        return np.asarray(fn(*args), dtype=float), None
    except NotImplementedError:
        return None, "the function is still a stub: write its body."
    except Exception as err:  # noqa: BLE001 - a student's bug is a FAIL, not a traceback
        return None, f"calling it raised {type(err).__name__}: {err}"


def _show(value) -> str:
    return np.array2string(np.asarray(value), precision=3, threshold=8)


def check_radius_estimator(radius_from_moments, *, n: int = 400, seed: int = 123) -> bool:
    """Exercise F.1: ``radius_from_moments(images, x, y)`` -> radii (N,) within 0.6 px RMSE."""
    images, labels = simulate_rings(n, seed=seed)
    truth = ring_targets(labels)
    radii, err = _call(radius_from_moments, images, truth[:, 0], truth[:, 1])
    if err:
        return check(False, "radius_from_moments runs", err)
    if not check_shape(radii, (n,), "radius_from_moments returns one radius per image"):
        return False
    rmse = float(np.sqrt(np.mean((radii - truth[:, 2]) ** 2)))
    trivial = float(np.std(truth[:, 2]))
    return check_better_than(
        rmse, trivial, "radius RMSE beats predicting the mean radius"
    ) and check(
        rmse < 0.6,
        f"radius RMSE {rmse:.3f} px is below 0.6 px",
        "weight each pixel's distance from the centre by its intensity, and drop "
        "faint pixels (noise hits).",
    )


def check_n_components(
    n_components_for, images=None, fraction: float = 0.9, *, n: int = 300, seed: int = 5
) -> bool:
    """Exercise F.2: ``n_components_for(images, fraction)`` -> the smallest number of principal
    components whose explained variance reaches ``fraction``; checked at 50% and at ``fraction``
    on ``images`` (default: ``n`` simulated images of one or two rings)."""
    from sklearn.decomposition import PCA

    if not 0 < fraction <= 1:
        raise ValueError(f"check_n_components(): fraction must be in (0, 1], got {fraction}.")
    if images is None:
        images, _ = simulate_rings(n, max_rings=2, seed=seed)
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    cumulative = np.cumsum(PCA(svd_solver="full").fit(flat).explained_variance_ratio_)
    passed = True
    for share in sorted({0.5, fraction}):
        expected = int(min(np.searchsorted(cumulative, share) + 1, len(cumulative)))
        got, err = _call(n_components_for, images, share)
        if err:
            return check(False, "n_components_for runs", err)
        passed &= check(
            got.size == 1 and float(got.reshape(-1)[0]) == expected,
            f"n_components_for(images, {share}) is the smallest count reaching {share:.0%}",
            f"got {_show(got)}; accumulate the PCA explained-variance ratios and find where the "
            f"sum first reaches {share}.",
        )
    return passed


def check_confusion(confusion, *, seed: int = 7) -> bool:
    """Exercise F.3: ``confusion(true, pred, n_classes)`` -> counts, rows true, columns
    predicted; checked on 500 random labels against scikit-learn's confusion matrix."""
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(seed)
    true, pred = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    got, err = _call(confusion, true, pred, 4)
    if err:
        return check(False, "confusion runs", err)
    expected = confusion_matrix(true, pred, labels=np.arange(4))
    return check(
        got.shape == (4, 4) and np.array_equal(got, expected),
        "confusion matrix of 500 random labels is right",
        "row index = true class, column index = predicted class, entries are counts.",
    )


def check_radius_sweep(requested, measured) -> bool:
    """Exercise F.4: radii measured on cVAE rings follow the requested radii (rank correlation
    above 0.9, RMSE below 1.5 px)."""
    from scipy.stats import spearmanr

    requested, measured = np.asarray(requested, float), np.asarray(measured, float)
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
    got, err = _call(measured_radii, cvae, regressor, scaler, radii, seed)
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
