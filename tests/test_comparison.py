"""a3net.evaluation.tables, a3net.evaluation.bootstrap and a3net.neural_estimator: the
cross-validated table, paired bootstrap margins, and a network of either framework inside
scikit-learn."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from a3net.evaluation import bootstrap, regression, tables
from a3net.neural_estimator import NeuralRegressor


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = 1.0 + 0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.01 * rng.standard_normal(n)
    return X, np.clip(y, 0.01, None)


def test_compare_regressors_ranks_a_real_model_above_the_dummy():
    X, y = _data()
    table = tables.compare_regressors(
        {"dummy": DummyRegressor(), "ridge": Ridge(1e-3)}, pd.DataFrame(X), y, cv=3
    )
    assert list(table.index) == ["ridge", "dummy"]  # sorted by MAE
    assert {"MAE", "RMSE", "R2", "sigma_NMAD", "fit_s", "predict_s", "MAE_std"} <= set(table)
    assert table.loc["ridge", "R2"] > 0.95 and abs(table.loc["dummy", "R2"]) < 0.05
    assert table.loc["ridge", "MSE"] == pytest.approx(table.loc["ridge", "RMSE"] ** 2, rel=0.1)


def test_compare_regressors_caps_training_rows_and_rejects_bad_input():
    X, y = _data()
    capped = tables.compare_regressors({"ridge": Ridge()}, X, y, cv=2, max_train={"ridge": 10})
    full = tables.compare_regressors({"ridge": Ridge()}, X, y, cv=2)
    assert capped.loc["ridge", "MAE"] > full.loc["ridge", "MAE"]  # 10 rows learn less
    with pytest.raises(ValueError, match="one value per row"):
        tables.compare_regressors({"r": Ridge()}, X, y[:-1])
    with pytest.raises(ValueError, match="folds"):
        tables.compare_regressors({"r": Ridge()}, X, y, cv=1)
    with pytest.raises(TypeError, match="non-empty dict"):
        tables.compare_regressors({}, X, y)


def test_bootstrap_difference_sees_a_real_gap_and_not_a_fake_one():
    rng = np.random.default_rng(2)
    z = rng.uniform(0, 2, 4000)
    good = z + 0.02 * (1 + z) * rng.standard_normal(z.size)
    bad = z + 0.03 * (1 + z) * rng.standard_normal(z.size)
    diff, err = bootstrap.bootstrap_difference(z, bad, good, regression.sigma_nmad, n_boot=200)
    assert diff == pytest.approx(0.01, abs=0.002) and diff > 5 * err
    same, err_same = bootstrap.bootstrap_difference(z, good, good, regression.sigma_nmad)
    assert same == 0 and err_same == 0
    assert 0 < bootstrap.bootstrap_error(z, good, regression.sigma_nmad, n_boot=100) < 0.002


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_neural_regressor_learns_inside_scikit_learn(framework):
    X, y = _data(400)
    X[::17, 2] = np.nan  # missing features are median-filled, not fatal
    model = NeuralRegressor(
        framework=framework, model_kwargs={"hidden": (32, 32)}, epochs=40, batch_size=32
    )
    scores = cross_val_score(model, X, y, cv=2, scoring="r2")
    assert scores.min() > 0.8, scores
    fitted = model.fit(X, y)
    assert fitted.predict(X[:5]).shape == (5,)
    assert fitted.framework_ == framework and len(fitted.history_["loss"]) == 40
    with pytest.raises(ValueError, match="not a model"):
        NeuralRegressor(model="Nope", framework=framework).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        NeuralRegressor(framework=framework, epochs=1).fit(X, np.full(len(X), np.nan))


def test_group_bootstrap_resamples_whole_groups():
    from a3net.evaluation.bootstrap import group_bootstrap

    groups = np.repeat(np.arange(20), 15)  # 20 simulations of 15 maps
    rows = np.arange(groups.size)

    def whole_groups(r):
        """1 if every drawn simulation came with all 15 of its maps."""
        counts = np.bincount(groups[r], minlength=20)
        return float(np.all(counts % 15 == 0))

    value, error = group_bootstrap(whole_groups, rows, groups=groups, n_boot=50, seed=1)
    assert value == 1.0 and error == 0.0
    # the error of a mean over groups is the spread of the group means / sqrt(n_groups)
    rng = np.random.default_rng(0)
    group_means = rng.normal(size=20)
    x = np.repeat(group_means, 15) + 0.01 * rng.normal(size=groups.size)
    mean, err = group_bootstrap(np.mean, x, groups=groups, n_boot=2000, seed=0)
    assert mean == pytest.approx(x.mean())
    assert err == pytest.approx(group_means.std() / np.sqrt(20), rel=0.15)


def test_group_bootstrap_rejects_mismatched_rows():
    from a3net.evaluation.bootstrap import group_bootstrap

    with pytest.raises(ValueError, match="one row per entry of groups"):
        group_bootstrap(np.mean, np.arange(5), groups=np.arange(6))
    with pytest.raises(ValueError, match="n_boot"):
        group_bootstrap(np.mean, np.arange(5), groups=np.arange(5), n_boot=1)
