"""Self-checks for the chapter F exercises (Cherenkov rings). Each prints PASS or FAIL."""
from __future__ import annotations

import numpy as np

from ..data.rings import ring_targets, simulate_rings
from ..metrics import confusion_matrix
from .checks import check, check_better_than, check_shape


def _call(fn, *args):
    try:
        return np.asarray(fn(*args), dtype=float), None
    except NotImplementedError:
        return None, "the function is still a stub: write its body."
    except Exception as err:  # a student's bug: report it as a FAIL, not a traceback
        return None, f"calling it raised {type(err).__name__}: {err}"


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
    return check_better_than(rmse, trivial, "radius RMSE beats predicting the mean radius") and check(
        rmse < 0.6, f"radius RMSE {rmse:.3f} px is below 0.6 px",
        "weight each pixel's distance from the centre by its intensity, and drop faint pixels (noise hits).")


def check_n_components(n_components_for, images, fraction: float = 0.9) -> bool:
    """Exercise F.2: ``n_components_for(images, fraction)`` -> the smallest number of principal
    components whose explained variance reaches ``fraction``."""
    from sklearn.decomposition import PCA

    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    ratios = PCA().fit(flat).explained_variance_ratio_
    expected = int(np.searchsorted(np.cumsum(ratios), fraction) + 1)
    got, err = _call(n_components_for, images, fraction)
    if err:
        return check(False, "n_components_for runs", err)
    return check(got.size == 1 and int(got) == expected,
                 f"{fraction:.0%} of the pixel variance needs {expected} components",
                 f"got {got}; sort the PCA eigenvalues, accumulate their share, find where it reaches {fraction}.")


def check_confusion(confusion, *, seed: int = 7) -> bool:
    """Exercise F.3: ``confusion(true, pred, n_classes)`` -> counts, rows true, columns predicted."""
    rng = np.random.default_rng(seed)
    true, pred = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    got, err = _call(confusion, true, pred, 4)
    if err:
        return check(False, "confusion runs", err)
    return check(got.shape == (4, 4) and np.array_equal(got, confusion_matrix(true, pred, 4)),
                 "confusion matrix of 500 random labels is right",
                 "row index = true class, column index = predicted class, entries are counts.")


def check_radius_sweep(requested, measured) -> bool:
    """Exercise F.4: radii measured on cVAE rings follow the requested radii (rank correlation
    above 0.9, RMSE below 1.5 px)."""
    from scipy.stats import spearmanr

    requested, measured = np.asarray(requested, float), np.asarray(measured, float)
    if not check_shape(measured, requested.shape, "one measured radius per requested radius"):
        return False
    rho = float(spearmanr(requested, measured).statistic)
    rmse = float(np.sqrt(np.mean((requested - measured) ** 2)))
    return check(rho > 0.9, f"measured radii rise with the requested ones (Spearman {rho:.2f} > 0.9)",
                 "condition the cVAE on the standardised parameters, as in training.") and check(
        rmse < 1.5, f"radius RMSE {rmse:.2f} px is below 1.5 px", "train the cVAE longer or on more rings.")
