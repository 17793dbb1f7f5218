"""Metrics used across the chapters (NumPy in, floats or pandas objects out).

Every metric takes ``(y_true, y_pred, ...)`` in that order, as scikit-learn's do. Where
scikit-learn already has a metric, use it: ``sklearn.metrics.accuracy_score(y_true, y_pred)``,
``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(n_classes))``. This module
keeps only what scikit-learn lacks: RMSE per column, a labelled RMSE table, and the accuracy of
the trivial majority-class classifier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import as_float_array


def _pair(y_true, y_pred):
    t = as_float_array(y_true, "y_true")
    p = as_float_array(y_pred, "y_pred")
    if p.shape != t.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {t.shape} and {p.shape}."
        )
    return t, p


def rmse(y_true, y_pred, axis=0):
    """Root-mean-square error along ``axis``: per column of (N, K) arrays by default (K,),
    in the units of the targets; ``axis=None`` gives one float over all entries."""
    t, p = _pair(y_true, y_pred)
    return np.sqrt(np.mean((p - t) ** 2, axis=axis))


def rmse_table(y_true, y_pred, names) -> pd.Series:
    """RMSE of every column of (N, K) targets and predictions, as a Series indexed by ``names``
    (K labels)."""
    t, p = _pair(y_true, y_pred)
    if t.ndim != 2 or t.shape[1] != len(names):
        raise ValueError(
            f"y_true and y_pred must have shape (N, {len(names)}) to match names, got {t.shape}."
        )
    return pd.Series(rmse(t, p), index=list(names), name="rmse")


def majority_accuracy(y_train, y_test) -> float:
    """Accuracy on ``y_test`` (N,) of always predicting the most frequent class of ``y_train``:
    the trivial classifier that a real one must beat."""
    train, test = np.asarray(y_train), np.asarray(y_test)
    if train.ndim != 1 or test.ndim != 1 or not train.size or not test.size:
        raise ValueError(
            f"y_train and y_test must be non-empty 1-D label arrays, got shapes {train.shape} "
            f"and {test.shape}."
        )
    values, counts = np.unique(train, return_counts=True)
    return float(np.mean(test == values[np.argmax(counts)]))
