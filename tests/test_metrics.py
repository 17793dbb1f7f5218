"""a3net.evaluation.regression, masses and rings: (y_true, y_pred) order, per-column RMSE, the
majority baseline, photo-z and cluster-mass scores, Cramer-Rao bounds, clear errors."""

import numpy as np
import pandas as pd
import pytest

from a3net.evaluation import masses, regression, rings


def test_rmse_per_column_and_over_everything():
    y_true = np.array([[0.0, 0.0], [0.0, 0.0]])
    y_pred = np.array([[1.0, 3.0], [1.0, -3.0]])
    np.testing.assert_allclose(regression.rmse(y_true, y_pred), [1.0, 3.0])
    assert regression.rmse(y_true, y_pred, axis=None) == pytest.approx(np.sqrt(5))


def test_rmse_table_labels_columns_in_order():
    y_true = np.zeros((4, 2))
    y_pred = np.column_stack([np.ones(4), np.full(4, 2.0)])
    table = regression.rmse_table(y_true, y_pred, ["a", "b"])
    assert isinstance(table, pd.Series) and table.name == "rmse"
    assert table.to_dict() == {"a": 1.0, "b": 2.0}


def test_argument_order_is_y_true_first_in_messages():
    with pytest.raises(ValueError, match=r"y_true and y_pred .* got \(3,\) and \(4,\)"):
        regression.rmse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        regression.rmse(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"shape \(N, 3\) to match names"):
        regression.rmse_table(np.zeros((4, 2)), np.zeros((4, 2)), ["a", "b", "c"])


def test_majority_accuracy():
    assert regression.majority_accuracy([0, 0, 1], [0, 1, 0, 0]) == 0.75
    assert regression.majority_accuracy(["e", "mu", "mu"], ["e", "e"]) == 0.0
    with pytest.raises(ValueError, match="non-empty 1-D"):
        regression.majority_accuracy([], [0, 1])


def test_photoz_statistics_on_known_residuals():
    z_true = np.array([0.0, 1.0, 1.0, 3.0, 0.5])
    dz = np.array([0.01, -0.02, 0.0, 0.30, 0.02])  # one catastrophic outlier
    z_pred = z_true + dz * (1 + z_true)
    np.testing.assert_allclose(regression.normalized_residuals(z_true, z_pred), dz, atol=1e-6)
    assert regression.redshift_bias(z_true, z_pred) == pytest.approx(0.01, abs=1e-6)
    # |dz - 0.01| = 0, 0.03, 0.01, 0.29, 0.01 -> median 0.01
    assert regression.sigma_nmad(z_true, z_pred) == pytest.approx(1.4826 * 0.01, rel=1e-4)
    assert regression.outlier_fraction(z_true, z_pred) == pytest.approx(0.2)
    scores = regression.photoz_scores(z_true, z_pred)
    assert set(scores) == {"sigma_nmad", "outlier_fraction", "bias", "mae", "rmse", "r2"}
    assert scores["mae"] == pytest.approx(np.mean(np.abs(dz * (1 + z_true))), rel=1e-5)


def test_sigma_nmad_is_the_gaussian_sigma_and_ignores_outliers():
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 3, 200_000)
    z_pred = z + 0.04 * (1 + z) * rng.standard_normal(z.size)
    z_pred[:10_000] = rng.uniform(0, 6, 10_000)  # 5% catastrophic failures
    nmad = regression.sigma_nmad(z, z_pred)
    assert nmad == pytest.approx(0.04, rel=0.1)  # 5% outliers move it by ~6% only
    assert np.std(regression.normalized_residuals(z, z_pred)) > 5 * nmad  # the std does not resist
    assert 0.03 < regression.outlier_fraction(z, z_pred) < 0.06


def test_pit_is_uniform_for_calibrated_pz_and_u_shaped_for_overconfident():
    rng = np.random.default_rng(1)
    grid = np.linspace(0, 5, 1001)
    z = rng.uniform(0.5, 3, 3000)
    sigma = 0.05 * (1 + z)
    centre = z + sigma * rng.standard_normal(z.size)

    def gaussian(width):
        return np.exp(-0.5 * ((grid[None] - centre[:, None]) / width[:, None]) ** 2)

    calibrated = np.histogram(regression.pit(z, grid, gaussian(sigma)), bins=5, range=(0, 1))[0]
    assert calibrated.min() > 0.8 * z.size / 5
    narrow = np.histogram(regression.pit(z, grid, gaussian(sigma / 3)), bins=5, range=(0, 1))[0]
    assert narrow[0] + narrow[-1] > 3 * (narrow[1] + narrow[2] + narrow[3]) / 3 * 2


def test_photoz_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        regression.sigma_nmad([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="above -1"):
        regression.outlier_fraction([-1.0, 0.2], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        regression.redshift_bias([np.nan, 0.2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"pz must have shape \(N, Z\)"):
        regression.pit([0.1, 0.2], np.linspace(0, 1, 5), np.ones((2, 4)))


def test_ring_fisher_information_limits():
    t = np.array([0.2, 0.5, 1.5])
    # d = 0: a Gaussian of sd t, I = 1 / t^2 (and continuously so as d -> 0)
    np.testing.assert_allclose(rings.ring_fisher_information(t, 0.0), 1 / t**2)
    np.testing.assert_allclose(rings.ring_fisher_information(t, 1e-3), 1 / t**2, rtol=1e-3)
    # sharp edges (t -> 0, d > 0) carry ever more information, about 0.903 / (t d)
    sharp = rings.ring_fisher_information([0.1, 0.01, 0.001], 2.0)
    assert np.all(np.diff(sharp) > 0) and sharp[-1] > 400
    np.testing.assert_allclose(sharp[1:] * np.array([0.01, 0.001]) * 2.0, 0.903, rtol=0.01)
    # in between: more than the Gaussian of the same variance (Cramer-Rao: I >= 1 / variance)
    info = rings.ring_fisher_information(0.5, np.array([0.5, 1.0, 3.0]))
    assert np.all(info > 1 / (0.25 + np.array([0.5, 1.0, 3.0]) ** 2 / 3))
    assert rings.ring_fisher_information(np.ones((2, 1)), np.ones(3)).shape == (2, 3)


def test_circle_cramer_rao_formula():
    crb = rings.circle_cramer_rao([100, 400], 0.5, 0.0)
    assert list(crb.columns) == ["x", "y", "radius"]
    np.testing.assert_allclose(crb["x"], np.sqrt(2 * 0.25 / np.array([100, 400])))
    np.testing.assert_allclose(crb["radius"], crb["x"] / np.sqrt(2))
    np.testing.assert_array_equal(crb["x"], crb["y"])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rings.ring_fisher_information(0.0, 1.0), "thickness must be positive"),
        (lambda: rings.ring_fisher_information(0.5, -1.0), "deformation must be non-negative"),
        (lambda: rings.ring_fisher_information(np.nan, 1.0), "thickness contains NaN"),
        (lambda: rings.ring_fisher_information([1, 2], [1, 2, 3]), "must broadcast"),
        (lambda: rings.circle_cramer_rao(0, 0.5, 1.0), "photons must be positive"),
    ],
)
def test_ring_bounds_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_least_squares_circle_fits_reach_the_cramer_rao_bound_for_gaussian_hits():
    from a3net.baselines.ring_fits import circle_fit_points

    rng = np.random.default_rng(0)
    n_rings, n_hits, radius = 2000, 60, 6.0

    def centre_scatter(thickness, deformation):
        phi = rng.uniform(0, 2 * np.pi, (n_rings, n_hits))
        r = radius + rng.uniform(-deformation, deformation, phi.shape)
        x = r * np.cos(phi) + rng.normal(0, thickness, phi.shape)
        y = r * np.sin(phi) + rng.normal(0, thickness, phi.shape)
        fit = circle_fit_points(x, y)
        assert not fit["failed"].any()
        return np.sqrt(np.mean(fit[["x", "y"]].to_numpy() ** 2))

    # Gaussian hits (d = 0): least squares is maximum likelihood, efficient within ~15%
    bound = rings.circle_cramer_rao(n_hits, 0.5, 0.0)["x"][0]
    assert bound == pytest.approx(np.sqrt(2 * 0.25 / n_hits))
    assert centre_scatter(0.5, 0.0) == pytest.approx(bound, rel=0.15)
    # sharp uniform bands (d >> t): the bound is far below what least squares reaches
    bound = rings.circle_cramer_rao(n_hits, 0.2, 2.0)["x"][0]
    assert centre_scatter(0.2, 2.0) > 1.5 * bound


def test_mass_bias_scatter_on_known_residuals():
    true = np.array([14.0, 14.2, 14.4, 14.6, 14.8])
    resid = np.array([-0.1, 0.0, 0.05, 0.1, 0.2])
    got = masses.mass_bias_scatter(true, (true + resid)[:, None])  # predict()'s (N, 1) column
    assert got["n"] == 5
    assert got["bias_dex"] == pytest.approx(0.05)
    assert got["mean_bias_dex"] == pytest.approx(0.05)
    assert got["scatter_dex"] == pytest.approx(np.sqrt(np.mean((resid - 0.05) ** 2)))
    assert got["scatter_percent"] == pytest.approx(100 * np.log(10) * got["scatter_dex"])
    assert got["mse"] == pytest.approx(np.mean(resid**2))
    # NMAD: |r - 0.05| = 0.15, 0.05, 0, 0.05, 0.15 -> median 0.05
    assert got["robust_scatter_dex"] == pytest.approx(1.4826 * 0.05)


def test_mass_scatter_percent_is_the_fractional_mass_error():
    rng = np.random.default_rng(0)
    true = rng.uniform(13.5, 15, 200_000)
    pred = true + rng.normal(-0.02, 0.05, true.size)  # Ntampaka et al.: -0.02 dex, ~12%
    got = masses.mass_bias_scatter(true, pred)
    assert got["bias_dex"] == pytest.approx(-0.02, abs=1e-3)
    assert got["scatter_dex"] == pytest.approx(0.05, rel=0.01)
    assert got["robust_scatter_dex"] == pytest.approx(0.05, rel=0.02)
    assert got["scatter_percent"] == pytest.approx(11.5, abs=0.2)
    fractional = 10 ** (pred - true - got["bias_dex"]) - 1  # dM / M about the bias
    assert got["scatter_percent"] == pytest.approx(100 * fractional.std(), rel=0.02)


def test_mass_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="same length, got 3 and 4"):
        masses.mass_bias_scatter(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="log_m_pred contains NaN"):
        masses.mass_bias_scatter(np.ones(2), np.array([14.0, np.nan]))
    with pytest.raises(ValueError, match=r"log_m_true must be a 1-D array .* got shape \(2, 2\)"):
        masses.mass_bias_scatter(np.ones((2, 2)), np.ones(4))
    with pytest.raises(ValueError, match="edges must be at least 2 finite, strictly increasing"):
        masses.binned_bias(np.ones(3), np.ones(3), [14.0, 13.5])


def test_binned_bias_per_true_mass_bin():
    true = np.array([13.6, 13.7, 13.8, 14.2, 14.4, 14.6, 15.0, 16.0])
    pred = true + np.array([0.1, 0.2, 0.3, 0.0, 0.0, 0.0, -0.2, 9.0])
    table = masses.binned_bias(true, pred, [13.5, 14.0, 14.5, 15.0])
    assert isinstance(table, pd.DataFrame) and len(table) == 3
    assert table["n"].tolist() == [3, 2, 2]  # 15.0 is in the last bin, 16.0 in none
    np.testing.assert_allclose(table["bias_dex"], [0.2, 0.0, -0.1])
    np.testing.assert_allclose(table["scatter_dex"], [np.sqrt(2 / 3) * 0.1, 0.0, 0.1])
    np.testing.assert_allclose(table[["lo", "hi"]].to_numpy()[1], [14.0, 14.5])
    empty = masses.binned_bias(true, pred, [12.0, 13.0, 14.0])
    assert empty["n"].tolist() == [0, 3] and np.isnan(empty["bias_dex"][0])


def test_parameter_scores_match_sklearn_and_their_definitions():
    from sklearn.metrics import r2_score

    from a3net.evaluation.regression import parameter_scores, r2_per_parameter

    rng = np.random.default_rng(3)
    truth = rng.uniform([0.1, 0.6], [0.5, 1.0], size=(200, 2))
    pred = truth + rng.normal(0, [0.05, 0.02], size=(200, 2)) + [0.01, -0.02]
    table = parameter_scores(truth, pred, ["omega_m", "sigma_8"])
    np.testing.assert_allclose(
        table["R2"], r2_score(truth, pred, multioutput="raw_values"), rtol=1e-6
    )
    np.testing.assert_allclose(r2_per_parameter(truth, pred), table["R2"])
    np.testing.assert_allclose(table["bias"], (pred - truth).mean(axis=0), atol=1e-7)
    np.testing.assert_allclose(
        table["relative error"], (np.abs(pred - truth) / truth).mean(0), rtol=1e-5
    )
    with pytest.raises(ValueError, match="one name per column"):
        parameter_scores(truth, pred, ["omega_m"])


# ------------------------------------------------------------------ degenerate input (issue 25)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: regression.photoz_scores([0.5], [0.4]), "at least 2 samples"),
        (lambda: regression.photoz_scores([0.5, 0.5, 0.5], [0.4, 0.5, 0.6]), "constant"),
        (lambda: regression.r2_per_parameter([[0.3, 0.8]], [[0.3, 0.8]]), "at least 2"),
        (
            lambda: regression.r2_per_parameter([[0.3, 0.8], [0.4, 0.8]], np.ones((2, 2))),
            "column 1",
        ),
        (
            lambda: regression.parameter_scores([[0.3, 0.8], [0.3, 0.9]], np.ones((2, 2)), "ab"),
            "names",
        ),
        (
            lambda: regression.parameter_scores(
                [[0.3, 0.8], [0.3, 0.9]], np.ones((2, 2)), ["a", "b"]
            ),
            "constant in a",
        ),
        (
            lambda: regression.parameter_scores(
                [[0.0, 0.8], [0.3, 0.9]], np.ones((2, 2)), ["a", "b"]
            ),
            "relative error",
        ),
        (lambda: regression.pit([np.nan], [0.0, 1.0], [[1.0, 1.0]]), "NaN"),
        (lambda: regression.pit([0.5], [0.0, np.inf], [[1.0, 1.0]]), "finite"),
    ],
)
def test_degenerate_scores_are_refused_not_nan(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_scores_of_ordinary_input_raise_no_warning():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 2.0, 50)
    y = rng.uniform(0.1, 1.0, (50, 2))
    grid = np.linspace(0.0, 3.0, 31)
    with np.errstate(all="raise"):
        scores = regression.photoz_scores(z, z + 0.01)
        r2 = regression.r2_per_parameter(y, y + 0.01)
        table = regression.parameter_scores(y, y + 0.01, ["omega_m", "sigma_8"])
        values = regression.pit(z, grid, np.ones((50, grid.size)))
    assert all(np.isfinite(v) for v in scores.values())
    assert np.isfinite(r2).all() and np.isfinite(table.to_numpy()).all()
    assert np.all((values >= 0) & (values <= 1))


def test_pit_outside_the_grid_is_zero_or_one():
    grid = np.linspace(0.5, 1.5, 11)
    values = regression.pit([0.1, 3.0], grid, np.ones((2, grid.size)))
    np.testing.assert_allclose(values, [0.0, 1.0])
