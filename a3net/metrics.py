"""Metrics used across the chapters (NumPy in, floats or pandas objects out)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import as_float_array


def _pair(pred, true):
    p = as_float_array(pred, "pred")
    t = as_float_array(true, "true")
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same shape, got {p.shape} and {t.shape}.")
    return p, t


def rmse(pred, true, axis=0):
    """Root-mean-square error along ``axis`` (per column by default)."""
    p, t = _pair(pred, true)
    return np.sqrt(np.mean((p - t) ** 2, axis=axis))


def rmse_table(pred, true, names) -> pd.Series:
    """RMSE of every column of (N, K) predictions, labelled by ``names``."""
    p, t = _pair(pred, true)
    if p.ndim != 2 or p.shape[1] != len(names):
        raise ValueError(f"pred must have shape (N, {len(names)}) to match names, got {p.shape}.")
    return pd.Series(rmse(p, t), index=list(names), name="rmse")


def accuracy(pred_labels, true_labels) -> float:
    """Fraction of equal labels."""
    p, t = np.asarray(pred_labels), np.asarray(true_labels)
    if p.shape != t.shape or p.ndim != 1:
        raise ValueError(f"pred_labels and true_labels must be 1-D of the same length, got {p.shape} and {t.shape}.")
    return float(np.mean(p == t))


def majority_accuracy(train_labels, test_labels) -> float:
    """Accuracy of always predicting the most frequent training class: the trivial classifier."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    return float(np.mean(np.asarray(test_labels) == values[np.argmax(counts)]))


def confusion_matrix(true_labels, pred_labels, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    t, p = np.asarray(true_labels, np.int64), np.asarray(pred_labels, np.int64)
    if t.shape != p.shape:
        raise ValueError(f"true_labels and pred_labels must have the same shape, got {t.shape} and {p.shape}.")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}].")
    return np.bincount(t * n_classes + p, minlength=n_classes ** 2).reshape(n_classes, n_classes)
