"""Chapter C baselines that give a photo-z *distribution*, not only a point: a quantile regression
forest (Meinshausen 2006, JMLR 7, 983) and split-conformal intervals around any point photo-z
(Lei et al. 2018, JASA 113, 1094). Score them with :mod:`a3net.evaluation.photoz_pdf`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.ensemble import RandomForestRegressor

__all__ = ["QuantileForest", "SplitConformal"]

_CHUNK_ELEMENTS = 2**22  # dense (queries x training rows) weights per chunk: 32 MiB of float64


def _matrix(X, name: str = "X") -> np.ndarray:
    """(N, F) float64 features; NaN allowed (the forest routes missing values), inf refused."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a numeric (N, F) feature array, got {type(X).__name__}."
        ) from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array (N, F) of features, got {arr.shape}."
        )
    if np.isinf(arr).any():
        raise ValueError(f"{name} has infinite values; replace them by NaN (missing) or drop them.")
    return arr


def _vector(y, n: int, name: str) -> np.ndarray:
    try:
        arr = np.ravel(np.asarray(y, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric 1-D array, got {type(y).__name__}.") from None
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} values but {n} were expected; they must match.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite values; drop those rows first.")
    return arr


def _predictions(values, name: str) -> np.ndarray:
    """(N,) point redshifts, N >= 1, finite and above -1 (so that 1 + z > 0)."""
    try:
        pred = np.ravel(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a numeric 1-D array, got {type(values).__name__}."
        ) from None
    if pred.size == 0 or not np.isfinite(pred).all() or np.any(pred <= -1):
        raise ValueError(f"{name} must be a non-empty array of finite redshifts above -1.")
    return pred


def _grid(z_grid) -> np.ndarray:
    try:
        grid = np.asarray(z_grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"z_grid must be a numeric 1-D array, got {type(z_grid).__name__}."
        ) from None
    if grid.ndim != 1 or grid.size < 2 or not np.isfinite(grid).all() or np.any(np.diff(grid) <= 0):
        raise ValueError(
            "z_grid must be a strictly increasing 1-D redshift grid of at least 2 finite values."
        )
    return grid


def _level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a probability in (0, 1), got {level!r}.")
    return float(level)


class QuantileForest:
    """Quantile regression forest: the conditional distribution of z given features, from the
    training redshifts that share leaves with the query (Meinshausen 2006, JMLR 7, 983).

    A scikit-learn ``RandomForestRegressor`` is grown as usual (its constructor arguments below
    are passed through; ``min_samples_leaf`` defaults to 5, the value of Meinshausen's
    quantregForest, so that every leaf holds a small sample). ``fit`` then keeps every training
    redshift y_i and the leaf it falls in, in every tree (``apply``). A query x gives training
    row i the weight

        w_i(x) = (1 / T) sum_trees 1[i in leaf_t(x)] / (number of training rows in leaf_t(x)),

    which sums to 1 over i. The predicted CDF is F(z | x) = sum_i w_i 1[y_i <= z]:
    ``predict_quantiles`` inverts it (the smallest y_i with F >= q, as in the paper),
    ``predict`` is its median and ``predict_pdf`` a smoothed weighted histogram of the y_i.

    Calibration depends on the leaves, so check it on held-out data (``calibration_table``):
    on a 1-D toy problem (tests/test_photoz_pdf.py) leaves of 5 rows follow the noise and the
    68% intervals cover only ~0.64 of fresh points (10 rows and ``max_features=0.5`` give
    ~0.68); on the simulated photo-z catalogue they are too wide instead (~0.8). Where the
    coverage must hold, wrap the median in :class:`SplitConformal`.

    Missing features (NaN) are accepted in ``fit`` and ``predict*`` as the forest accepts them
    (scikit-learn >= 1.4 learns at each split which side missing values go to).

    Memory: the leaf memberships are a sparse (training rows x leaves) matrix with one entry per
    row and tree; queries are processed in chunks of at most ``2**22`` (query x training row)
    weights, so any number of queries fits in bounded memory. No Python loop over queries.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        min_samples_leaf: int = 5,
        max_features=1.0,
        max_depth: int | None = None,
        n_jobs: int | None = None,
        random_state=None,
    ):
        if isinstance(n_estimators, bool) or not isinstance(n_estimators, numbers.Integral):
            raise TypeError(f"n_estimators must be a positive integer, got {n_estimators!r}.")
        if n_estimators < 1:
            raise ValueError(f"n_estimators must be a positive integer, got {n_estimators}.")
        self.n_estimators = int(n_estimators)
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.max_depth = max_depth
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.forest_: RandomForestRegressor | None = None

    def __repr__(self) -> str:
        return (
            f"QuantileForest(n_estimators={self.n_estimators}, "
            f"min_samples_leaf={self.min_samples_leaf}, max_features={self.max_features!r}, "
            f"max_depth={self.max_depth}, n_jobs={self.n_jobs}, "
            f"random_state={self.random_state!r})"
        )

    # ------------------------------------------------------------------ fitting

    def fit(self, X, y) -> QuantileForest:
        """Grow the forest on features X (N, F) (NaN = missing) and redshifts y (N,), and keep
        every training row's leaf in every tree. Returns self."""
        x = _matrix(X)
        y = _vector(y, len(x), "y")
        forest = RandomForestRegressor(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            max_depth=self.max_depth,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        )
        forest.fit(x, y)
        leaves = forest.apply(x)  # (N, T) node index of each row's leaf in each tree
        sizes = [est.tree_.node_count for est in forest.estimators_]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        cols = leaves + self._offsets  # one column per (tree, node)
        n_cols = int(np.sum(sizes))
        count = np.bincount(cols.ravel(), minlength=n_cols)
        # Training rows sorted by redshift, so that a cumulative sum of weights is the CDF.
        order = np.argsort(y, kind="stable")
        self.y_sorted_ = y[order]
        cols = cols[order]
        n, t = cols.shape
        values = 1.0 / (t * count[cols.ravel()])
        rows = np.repeat(np.arange(n), t)
        # (leaves, training rows): the weight each leaf gives each training row.
        self._leaf_weights = sparse.csr_matrix((values, (cols.ravel(), rows)), shape=(n_cols, n))
        self.forest_ = forest
        self.feature_names_ = list(X.columns) if isinstance(X, pd.DataFrame) else None
        self.n_features_in_ = x.shape[1]
        return self

    # ------------------------------------------------------------------ weights

    def _check_X(self, X) -> np.ndarray:
        if self.forest_ is None:
            raise ValueError("QuantileForest is not fitted yet; call fit(X, y) first.")
        if (
            self.feature_names_ is not None
            and isinstance(X, pd.DataFrame)
            and list(X.columns) != self.feature_names_
        ):
            raise ValueError(
                "X has different columns from those the forest was fitted on; pass the same "
                f"feature columns in the same order ({len(self.feature_names_)} columns)."
            )
        x = _matrix(X)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features but the forest was fitted on "
                f"{self.n_features_in_}; pass the same feature columns as in fit."
            )
        return x

    def _query_leaves(self, x: np.ndarray) -> sparse.csr_matrix:
        """(N, leaves) sparse: 1 at the leaf of every query in every tree."""
        cols = self.forest_.apply(x) + self._offsets
        n, t = cols.shape
        return sparse.csr_matrix(
            (np.ones(n * t), cols.ravel(), np.arange(0, n * t + 1, t)),
            shape=(n, self._leaf_weights.shape[0]),
        )

    def _chunks(self, n: int):
        step = max(1, _CHUNK_ELEMENTS // len(self.y_sorted_))
        for start in range(0, n, step):
            yield slice(start, min(n, start + step))

    def weights(self, X) -> sparse.csr_matrix:
        """The weights w_i(x) (N queries, n_train), sparse, each row summing to 1; columns are
        the training rows sorted by redshift (``self.y_sorted_``)."""
        x = self._check_X(X)
        return self._query_leaves(x) @ self._leaf_weights

    # ------------------------------------------------------------------ predictions

    def predict_quantiles(self, X, q) -> np.ndarray:
        """Conditional quantiles of z: for each query, the smallest training redshift y with
        F(y | x) >= q (Meinshausen's estimator); shape (N,) for a scalar ``q`` in [0, 1],
        (N, Q) for a 1-D array of Q fractions."""
        qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if qs.ndim != 1 or qs.size == 0 or not np.all((qs >= 0) & (qs <= 1)):
            raise ValueError(
                f"q must be a fraction (or 1-D array of fractions) in [0, 1], got {q}."
            )
        x = self._check_X(X)
        leaves = self._query_leaves(x)
        n_train = len(self.y_sorted_)
        out = np.empty((len(x), qs.size))
        for rows in self._chunks(len(x)):
            cdf = np.cumsum((leaves[rows] @ self._leaf_weights).toarray(), axis=1)
            cdf /= cdf[:, -1:]  # exactly 1 at the end, against rounding
            for j, qj in enumerate(qs):  # a loop over fractions, not over queries
                k = np.minimum((cdf < qj - 1e-12).sum(axis=1), n_train - 1)
                out[rows, j] = self.y_sorted_[k]
        return out[:, 0] if np.ndim(q) == 0 else out

    def predict(self, X) -> np.ndarray:
        """The conditional median of z, (N,): a photo-z point estimate robust to outliers."""
        return self.predict_quantiles(X, 0.5)

    def predict_pdf(self, X, z_grid, smoothing: float | None = None) -> np.ndarray:
        """p(z | x) on ``z_grid`` (Z,), strictly increasing: (N, Z), each row integrating to 1
        over the grid (trapezoid rule), in units of 1 / z.

        p(z) = sum_i w_i(x) K(z - y_i): each training redshift y_i is first shared between its
        two neighbouring grid points by linear interpolation (a y_i outside the grid goes to
        the nearest end), then spread by a Gaussian kernel K of standard deviation
        ``smoothing`` (in z; default 2 median grid steps), so that p(z) is smooth and positive
        near the data instead of a comb of training values (positive as far as the Gaussian
        does not underflow: about 38 kernel widths from the nearest weighted training z; floor
        it yourself before taking logarithms far out). The kernel widens the distribution
        by ``smoothing`` in quadrature; keep it well below the photo-z scatter.
        ``smoothing=0`` gives the plain weighted histogram on the grid.
        """
        x = self._check_X(X)
        grid = _grid(z_grid)
        if smoothing is None:
            smoothing = 2.0 * float(np.median(np.diff(grid)))
        if (
            isinstance(smoothing, bool)
            or not isinstance(smoothing, numbers.Real)
            or not np.isfinite(smoothing)
            or smoothing < 0
        ):
            raise ValueError(
                f"smoothing must be a kernel width >= 0 in units of z, got {smoothing!r}."
            )
        # Training redshifts -> grid points (linear interpolation), sparse (n_train, Z).
        y = np.clip(self.y_sorted_, grid[0], grid[-1])
        k = np.clip(np.searchsorted(grid, y, side="right") - 1, 0, grid.size - 2)
        frac = (y - grid[k]) / (grid[k + 1] - grid[k])
        n = len(y)
        to_grid = sparse.csr_matrix(
            (
                np.concatenate([1 - frac, frac]),
                (np.tile(np.arange(n), 2), np.concatenate([k, k + 1])),
            ),
            shape=(n, grid.size),
        )
        leaf_hist = (self._leaf_weights @ to_grid).tocsr()  # (leaves, Z)
        if smoothing > 0:
            kernel = np.exp(-0.5 * ((grid[None, :] - grid[:, None]) / smoothing) ** 2)
        else:  # mass at a node spread over its trapezoid cell: divide by the cell width
            width = np.zeros(grid.size)
            width[:-1] += 0.5 * np.diff(grid)
            width[1:] += 0.5 * np.diff(grid)
            kernel = np.diag(1.0 / width)
        leaves = self._query_leaves(x)
        out = np.empty((len(x), grid.size))
        for rows in self._chunks(len(x)):
            out[rows] = (leaves[rows] @ leaf_hist).toarray() @ kernel
        total = np.sum(0.5 * (out[:, 1:] + out[:, :-1]) * np.diff(grid), axis=1, keepdims=True)
        return out / total


class SplitConformal:
    """Split-conformal prediction intervals around any regressor's point photo-z (Lei et al.
    2018, JASA 113, 1094).

    ``fit`` takes the regressor's predictions on a calibration set it was *not* trained on, and
    the true redshifts there; it keeps the scores

        s_i = |z_i - z_pred,i| / (1 + z_pred,i),

    the residuals in units of (1 + z), the photo-z convention (errors grow as 1 + z), scaled by
    the *predicted* redshift since the true one is unknown when the interval is used.
    ``interval(predictions, level)`` returns z_pred -/+ q (1 + z_pred), where q is the
    ceil((n + 1) level)-th smallest of the n scores (the ceil((n + 1) level) / n empirical
    quantile). If calibration and test galaxies are exchangeable, the interval then holds the
    truth with probability >= level (and < level + 1 / (n + 1)), whatever the regressor:
    coverage on average, not per galaxy. The lower end is not clipped at z = 0.
    """

    def __init__(self):
        self.scores_: np.ndarray | None = None

    def fit(self, predictions_cal, z_cal) -> SplitConformal:
        """Keep the calibration scores from predictions (N,) and true redshifts z_cal (N,) of
        a calibration set held out from the regressor's training. Returns self."""
        pred = _predictions(predictions_cal, "predictions_cal")
        z = _vector(z_cal, pred.size, "z_cal")
        self.scores_ = np.sort(np.abs(z - pred) / (1.0 + pred))
        return self

    def quantile(self, level: float = 0.68) -> float:
        """The score q whose intervals z_pred -/+ q (1 + z_pred) cover ``level`` of new
        galaxies: the ceil((n + 1) level)-th smallest calibration score."""
        if self.scores_ is None:
            raise ValueError("SplitConformal is not fitted yet; call fit(predictions_cal, z_cal).")
        level = _level(level)
        n = self.scores_.size
        rank = math.ceil((n + 1) * level - 1e-9)  # guard against (n + 1) * 0.95 = 1900.0000001
        if rank > n:
            raise ValueError(
                f"level {level} needs at least {math.ceil(level / (1 - level))} calibration "
                f"galaxies, got {n}; use a larger calibration set or a lower level."
            )
        return float(self.scores_[rank - 1])

    def interval(self, predictions, level: float = 0.68) -> tuple[np.ndarray, np.ndarray]:
        """(z_lo, z_hi), each (N,), around point predictions (N,): z_pred -/+ q (1 + z_pred)."""
        q = self.quantile(level)
        pred = _predictions(predictions, "predictions")
        half = q * (1.0 + pred)
        return pred - half, pred + half
