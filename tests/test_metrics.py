"""a3net.metrics: (y_true, y_pred) order, per-column RMSE, the majority baseline, clear errors."""

import numpy as np
import pandas as pd
import pytest

from a3net import metrics


def test_rmse_per_column_and_over_everything():
    y_true = np.array([[0.0, 0.0], [0.0, 0.0]])
    y_pred = np.array([[1.0, 3.0], [1.0, -3.0]])
    np.testing.assert_allclose(metrics.rmse(y_true, y_pred), [1.0, 3.0])
    assert metrics.rmse(y_true, y_pred, axis=None) == pytest.approx(np.sqrt(5))


def test_rmse_table_labels_columns_in_order():
    y_true = np.zeros((4, 2))
    y_pred = np.column_stack([np.ones(4), np.full(4, 2.0)])
    table = metrics.rmse_table(y_true, y_pred, ["a", "b"])
    assert isinstance(table, pd.Series) and table.name == "rmse"
    assert table.to_dict() == {"a": 1.0, "b": 2.0}


def test_argument_order_is_y_true_first_in_messages():
    with pytest.raises(ValueError, match=r"y_true and y_pred .* got \(3,\) and \(4,\)"):
        metrics.rmse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        metrics.rmse(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"shape \(N, 3\) to match names"):
        metrics.rmse_table(np.zeros((4, 2)), np.zeros((4, 2)), ["a", "b", "c"])


def test_majority_accuracy():
    assert metrics.majority_accuracy([0, 0, 1], [0, 1, 0, 0]) == 0.75
    assert metrics.majority_accuracy(["e", "mu", "mu"], ["e", "e"]) == 0.0
    with pytest.raises(ValueError, match="non-empty 1-D"):
        metrics.majority_accuracy([], [0, 1])
