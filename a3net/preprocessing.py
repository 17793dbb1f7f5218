"""Small, framework-free preprocessing steps shared by the chapters."""
from __future__ import annotations

import numpy as np

from ._validation import as_float_array


class Standardizer:
    """Per-column standardisation z = (v - mean) / std, fitted on the training set only."""

    def fit(self, values) -> "Standardizer":
        arr = as_float_array(values, "values")
        arr = arr.reshape(len(arr), -1)
        self.mean_ = arr.mean(axis=0)
        self.std_ = arr.std(axis=0)
        if (self.std_ == 0).any():
            cols = np.flatnonzero(self.std_ == 0).tolist()
            raise ValueError(f"columns {cols} are constant in the training set and cannot be standardised; drop them.")
        return self

    def _check_fitted(self, arr):
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer is not fitted; call fit(training_values) first.")
        if arr.shape[1:] != self.mean_.shape:
            raise ValueError(f"values must have {self.mean_.shape[0]} columns as in fit, got shape {arr.shape}.")

    def transform(self, values) -> np.ndarray:
        arr = as_float_array(values, "values").reshape(len(values), -1)
        self._check_fitted(arr)
        return ((arr - self.mean_) / self.std_).astype(np.float32)

    def inverse_transform(self, values) -> np.ndarray:
        arr = as_float_array(values, "values").reshape(len(values), -1)
        self._check_fitted(arr)
        return (arr * self.std_ + self.mean_).astype(np.float32)

    def fit_transform(self, values) -> np.ndarray:
        return self.fit(values).transform(values)
