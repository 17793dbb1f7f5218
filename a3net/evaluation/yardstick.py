"""Chapter A's yardstick for conditional generators of spectra: distances measured where the
signal is, extrapolated to infinite sample size, with intervals, and a classifier test.

* :func:`noise_edge`: how many principal components of real spectra carry more variance than
  their pixel noise (the rest are mostly noise; whitening them would amplify noise);
* :func:`add_noise`: the forward model of the noise, for noiseless generator outputs;
* :func:`frechet_infinity`: the Frechet distance extrapolated to infinite sample size
  (Chong & Forsyth 2020), free of the ~1/n bias of :func:`~.frechet.frechet_distance`;
* :class:`SpectrumYardstick`: FD-infinity in the signal components and jointly with the labels,
  each with a bootstrap interval, and a classifier two-sample test (Lopez-Paz & Oquab 2017).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_seed
from .frechet import SpectrumFeatures, frechet_distance

__all__ = [
    "NORM_WINDOW",
    "FrechetInfinity",
    "NoiseEdge",
    "SpectrumYardstick",
    "add_noise",
    "frechet_infinity",
    "noise_edge",
    "window_bins",
]

NORM_WINDOW = (4400.0, 4600.0)
"""The rest-frame window [A] that ``spectra_prep.normalise`` divides spectra by by default."""


# ----------------------------------------------------------------------------- checks


def _array2d(value, name: str, *, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a numeric array (N, B), got {type(value).__name__}."
        ) from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, B) (one row per spectrum), got {arr.shape}.")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(
            f"{name} has {arr.shape[0]} rows but must have {rows}, one per spectrum; "
            "pass matching rows."
        )
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(
            f"{name} has {arr.shape[1]} columns but must have {cols}; put it on the same grid."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop those rows.")
    return arr


def _ivar(value, name: str, shape: tuple) -> np.ndarray:
    arr = _array2d(value, name, rows=shape[0], cols=shape[1])
    if (arr < 0).any():
        raise ValueError(f"{name} has negative values; inverse variances must be >= 0.")
    return arr


def _whole(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value}.")
    return int(value)


def _variance(ivar: np.ndarray) -> np.ndarray:
    """(N, B) noise variance 1/ivar; pixels with ivar 0 get their spectrum's median variance
    (the median over all pixels with data where a spectrum has none)."""
    good = ivar > 0
    if not good.any():
        raise ValueError("ivar is 0 everywhere; pass inverse variances with data.")
    var = np.where(good, 1.0 / np.where(good, ivar, 1.0), np.nan)
    median = np.nanmedian(np.where(good.any(axis=1, keepdims=True), var, 0.0), axis=1)
    median = np.where(good.any(axis=1), median, np.median(var[good]))
    return np.where(good, var, median[:, None])


# ----------------------------------------------------------------------------- noise edge


class NoiseEdge(NamedTuple):
    """Where the principal components of spectra turn into noise: ``n_signal`` leading
    components carry more than ``ratio`` times their noise variance; ``eigenvalues`` and
    ``noise_variance`` (K,) in squared flux units, per component."""

    n_signal: int
    eigenvalues: np.ndarray
    noise_variance: np.ndarray


def noise_edge(x, ivar, *, max_components: int = 32, ratio: float = 2.0) -> NoiseEdge:
    """PCA of spectra ``x`` (N, B) against their noise ``ivar`` (N, B): the noise variance along
    component v_k is the mean over spectra of sum_b v_kb^2 / ivar_nb (ivar 0: the spectrum's
    median variance); ``n_signal`` counts the leading components whose eigenvalue exceeds
    ``ratio`` times it (at least 1). K = min(max_components, N, B)."""
    x = _array2d(x, "x")
    if x.shape[0] < 2:
        raise ValueError(f"x needs at least 2 spectra for a covariance, got {x.shape[0]}.")
    var = _variance(_ivar(ivar, "ivar", x.shape))
    max_components = _whole(max_components, "max_components", 1)
    ratio = float(ratio)
    if not (np.isfinite(ratio) and ratio > 0):
        raise ValueError(f"ratio must be a positive number, got {ratio}.")
    k = min(max_components, *x.shape)
    vals, vecs = np.linalg.eigh(np.cov(x, rowvar=False))
    order = np.argsort(vals)[::-1][:k]
    eigenvalues = np.clip(vals[order], 0, None)
    noise = (vecs[:, order] ** 2).T @ var.mean(axis=0)
    above = eigenvalues > ratio * noise
    n_signal = max(1, int(np.argmin(above)) if not above.all() else k)
    return NoiseEdge(n_signal, eigenvalues, noise)


def _norm_bins(value, n_bins: int) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (n_bins,):
            raise ValueError(f"norm_bins as a mask must have shape ({n_bins},), got {arr.shape}.")
        arr = np.flatnonzero(arr)
    elif not np.issubdtype(arr.dtype, np.integer) or arr.ndim != 1:
        raise ValueError("norm_bins must be a boolean mask (B,) or a 1-D array of bin indices.")
    if arr.size == 0 or arr.min() < -n_bins or arr.max() >= n_bins:
        raise ValueError(
            f"norm_bins must name at least one of the {n_bins} bins; pass the normalisation "
            "window's bins."
        )
    return arr


def window_bins(loglam, window=NORM_WINDOW) -> np.ndarray:
    """(B,) bool: the bins of the rest-frame grid ``loglam`` (B,) [log10 A] inside ``window``
    [A], the normalisation window of ``spectra_prep.normalise`` (default 4400-4600 A)."""
    lam = 10.0 ** np.asarray(loglam, dtype=np.float64)
    lo, hi = (float(v) for v in window)
    inside = (lam >= lo) & (lam <= hi)
    if lam.ndim != 1 or not inside.any():
        raise ValueError(
            f"loglam must be a 1-D grid with at least one bin inside window {window} A; "
            "pass the spectra's rest-frame grid."
        )
    return inside


def add_noise(flux, ivar, seed=0, *, norm_bins=None) -> np.ndarray:
    """``flux`` (N, B) plus Gaussian noise of variance 1/``ivar`` (N, B) where ivar > 0 (flux
    unchanged where ivar is 0), float32: the noise of real spectra, row by row, for noiseless
    generator outputs. ``seed``: a whole number or a numpy Generator.

    ``norm_bins`` (a (B,) mask, e.g. :func:`window_bins`, or bin indices): real spectra were
    divided by their noisy ivar-weighted mean over these bins, a noise common to all their bins
    (~0.6% at S/N 10, more than the pixel noise of bright bins); with it the noisy spectrum is
    rescaled as the pipeline would, so that this mean is that of the noiseless ``flux``."""
    flux = _array2d(flux, "flux")
    ivar = _ivar(ivar, "ivar", flux.shape)
    bins = _norm_bins(norm_bins, flux.shape[1])
    rng = np.random.default_rng(check_seed(seed, generator=True))
    good = ivar > 0
    sigma = np.where(good, 1.0 / np.sqrt(np.where(good, ivar, 1.0)), 0.0)
    noisy = flux + rng.standard_normal(flux.shape) * sigma
    if bins is not None:
        w = ivar[:, bins]
        if (w.sum(axis=1) <= 0).any():
            raise ValueError("ivar is 0 in every norm_bins bin of some spectra; pass other bins.")
        before, after = ((w * v[:, bins]).sum(axis=1) for v in (flux, noisy))
        if (after <= 0).any() or (before <= 0).any():
            raise ValueError("flux must have a positive mean over norm_bins to be renormalised.")
        noisy *= (before / after)[:, None]
    return noisy.astype(np.float32)


# ----------------------------------------------------------------------------- FD infinity


class FrechetInfinity(NamedTuple):
    """``fd_inf``: the Frechet distance extrapolated to infinite sample size (may be slightly
    negative for identical distributions); ``fd_n``: the distance of the full sets; both in
    squared feature units."""

    fd_inf: float
    fd_n: float


def _check_fractions(fractions) -> np.ndarray:
    f = np.atleast_1d(np.asarray(fractions, dtype=np.float64))
    if f.ndim != 1 or f.size < 2 or not np.all((f > 0) & (f <= 1)) or np.unique(f).size < f.size:
        raise ValueError(
            f"fractions must be 2 or more distinct numbers in (0, 1], got {fractions!r}."
        )
    return np.sort(f)


def _subset_sizes(n: int, fractions: np.ndarray) -> np.ndarray:
    sizes = np.round(fractions * n).astype(int)
    if sizes.min() < 3 or np.unique(sizes).size < sizes.size:
        raise ValueError(
            f"{n} rows are too few for fractions {fractions.tolist()}: every subset needs a "
            "distinct size of 3 or more rows; pass more rows or fewer fractions."
        )
    return sizes


def _extrapolate(sizes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Intercepts of least-squares lines of ``values`` (..., S) against 1/sizes (S,)."""
    design = np.column_stack([np.ones(sizes.size), 1.0 / sizes])
    coef = np.linalg.lstsq(design, np.moveaxis(values, -1, 0).reshape(sizes.size, -1), rcond=None)
    return coef[0][0].reshape(values.shape[:-1])


def frechet_infinity(
    features_a,
    features_b,
    *,
    fractions=(0.125, 0.25, 0.5, 1.0),
    repeats: int = 4,
    rng=0,
) -> FrechetInfinity:
    """Frechet distance of paired feature sets ``features_a`` and ``features_b`` (N, D), row i of
    each for the same label, extrapolated to infinite sample size (Chong & Forsyth 2020): the
    distance of the same random ``fraction * N`` rows of both, mean over ``repeats`` draws, is
    fitted by a line in 1/m; its intercept is ``fd_inf``. ``rng``: a seed or a Generator."""
    a = _array2d(features_a, "features_a")
    b = _array2d(features_b, "features_b", rows=a.shape[0], cols=a.shape[1])
    fractions = _check_fractions(fractions)
    repeats = _whole(repeats, "repeats", 1)
    rng = np.random.default_rng(check_seed(rng, "rng", generator=True))
    sizes = _subset_sizes(a.shape[0], fractions)
    values = np.empty(sizes.size)
    for i, m in enumerate(sizes):
        if m == a.shape[0]:
            values[i] = frechet_distance(a, b)
            continue
        draws = [rng.choice(a.shape[0], m, replace=False) for _ in range(repeats)]
        values[i] = np.mean([frechet_distance(a[rows], b[rows]) for rows in draws])
    fd_n = frechet_distance(a, b) if sizes[-1] != a.shape[0] else float(values[-1])
    return FrechetInfinity(float(_extrapolate(sizes, values)), float(fd_n))


def _moments(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means (K, D) and covariances (K, D, D) (ddof 1) of x[rows] for rows (K, m)."""
    sub = x[rows]
    mean = sub.mean(axis=1)
    dev = sub - mean[:, None, :]
    return mean, (np.swapaxes(dev, 1, 2) @ dev) / (rows.shape[1] - 1)


def _frechet_batch(mu_a, cov_a, mu_b, cov_b) -> np.ndarray:
    """:func:`~.frechet.frechet_gaussian` for stacks of moments (K, D) and (K, D, D)."""
    vals, vecs = np.linalg.eigh(cov_a)
    root = (vecs * np.sqrt(np.clip(vals, 0, None))[:, None, :]) @ np.swapaxes(vecs, 1, 2)
    middle = root @ cov_b @ root
    eig = np.linalg.eigvalsh(0.5 * (middle + np.swapaxes(middle, 1, 2)))
    trace = np.trace(cov_a, axis1=1, axis2=2) + np.trace(cov_b, axis1=1, axis2=2)
    value = ((mu_a - mu_b) ** 2).sum(axis=1) + trace - 2 * np.sqrt(np.clip(eig, 0, None)).sum(1)
    return np.clip(value, 0, None)


def _frechet_rows(a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Frechet distances of a[rows[k]] and b[rows[k]] for rows (K, m): (K,)."""
    return _frechet_batch(*_moments(a, rows), *_moments(b, rows))


def _bootstrap_fd_inf(a, b, boot, sizes, repeats, rng) -> np.ndarray:
    """FD-infinity of the bootstrap resamples a[boot[k]], b[boot[k]] for boot (K, N): (K,)."""
    n_boot, n = boot.shape
    values = np.empty((n_boot, sizes.size))
    # `repeats` random orders of each resample's rows: subsets of m rows are their first m
    picks = np.argsort(rng.random((n_boot, repeats, n)), axis=2)
    for i, m in enumerate(sizes):
        if m == n:
            values[:, i] = _frechet_rows(a, b, boot)
            continue
        rows = np.take_along_axis(boot[:, None, :], picks[..., :m], axis=2).reshape(-1, m)
        values[:, i] = _frechet_rows(a, b, rows).reshape(n_boot, repeats).mean(axis=1)
    return _extrapolate(sizes, values)


# ----------------------------------------------------------------------------- C2ST


def _auc_weighted(score_real: np.ndarray, score_gen: np.ndarray, weights: np.ndarray):
    """ROC AUC of generated (positive) against real scores (N,), each object counted
    ``weights`` (K, N) times in K resamples (ties count half): (K,)."""
    order = np.argsort(score_real, kind="stable")
    sorted_real = score_real[order]
    cum = np.concatenate(
        [np.zeros((weights.shape[0], 1)), np.cumsum(weights[:, order], axis=1)], axis=1
    )
    lo = np.searchsorted(sorted_real, score_gen, side="left")
    hi = np.searchsorted(sorted_real, score_gen, side="right")
    below = cum[:, lo] + 0.5 * (cum[:, hi] - cum[:, lo])  # (K, N): real under each generated
    total = weights.sum(axis=1)
    return (weights * below).sum(axis=1) / total**2


def _c2st_scores(real: np.ndarray, gen: np.ndarray, seed: int, n_folds: int = 5):
    """Out-of-fold probabilities of 'generated' for the real and generated rows (N,) each, from
    gradient-boosted trees; folds split test objects, so the two rows of one object share one."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    n = real.shape[0]
    fold = np.random.default_rng(seed).permutation(n) % n_folds
    x = np.concatenate([real, gen])
    y = np.repeat([0, 1], n)
    folds = np.concatenate([fold, fold])
    proba = np.empty(2 * n)
    for k in range(n_folds):
        test = folds == k
        model = HistGradientBoostingClassifier(
            max_iter=100, max_leaf_nodes=15, early_stopping=False, random_state=seed
        )
        model.fit(x[~test], y[~test])
        proba[test] = model.predict_proba(x[test])[:, 1]
    return proba[:n], proba[n:]


# ----------------------------------------------------------------------------- yardstick


class SpectrumYardstick:
    """Scores of spectra generated for held-out labels against the held-out real spectra.

    ``x_train``, ``ivar_train`` (N, B): real training spectra and inverse variances, which fix
    the feature space: the ``n_signal`` principal components above the noise
    (:func:`noise_edge` with ``max_components``, ``edge_ratio``), whitened. ``x_test``,
    ``ivar_test`` (M, B) and ``c_test`` (M, P) standardised labels: the held-out objects; a
    generator's row i is for ``c_test[i]``. ``n_boot`` bootstrap resamples of the test objects
    give the intervals; ``seed`` fixes every random draw. ``loglam`` (B,), the rest-frame grid,
    lets ``score(..., noiseless=True)`` renormalise the noisy spectra over the normalisation
    ``window`` [A] as the pipeline did the real ones (:func:`add_noise`); pass it for
    spectra from ``spectra_prep.preprocess``.
    """

    def __init__(
        self,
        x_train,
        ivar_train,
        x_test,
        ivar_test,
        c_test,
        *,
        max_components: int = 32,
        edge_ratio: float = 2.0,
        n_boot: int = 100,
        seed: int = 0,
        fractions=(0.125, 0.25, 0.5, 1.0),
        repeats: int = 4,
        loglam=None,
        window=NORM_WINDOW,
    ):
        x_train = _array2d(x_train, "x_train")
        if loglam is not None and np.shape(loglam) != (x_train.shape[1],):
            raise ValueError(
                f"loglam must have shape ({x_train.shape[1]},), one centre per bin of x_train, "
                f"got {np.shape(loglam)}."
            )
        self.norm_bins = None if loglam is None else window_bins(loglam, window)
        self.edge = noise_edge(x_train, ivar_train, max_components=max_components, ratio=edge_ratio)
        self.n_signal = self.edge.n_signal
        self._features = SpectrumFeatures(self.n_signal, whiten=True).fit(x_train)
        self.x_test = _array2d(x_test, "x_test", cols=x_train.shape[1])
        self.ivar_test = _ivar(ivar_test, "ivar_test", self.x_test.shape)
        self.c_test = _array2d(c_test, "c_test", rows=self.x_test.shape[0])
        self.n_boot = _whole(n_boot, "n_boot", 2)
        self.seed = check_seed(seed)
        self.fractions = _check_fractions(fractions)
        self.repeats = _whole(repeats, "repeats", 1)
        self._sizes = _subset_sizes(self.x_test.shape[0], self.fractions)
        self.real = self.features(self.x_test)
        self.real_joint = np.column_stack([self.real, self.c_test])
        rng = np.random.default_rng([self.seed, 1])
        n = self.x_test.shape[0]
        self._boot = rng.integers(0, n, size=(self.n_boot, n))
        self._weights = np.stack([np.bincount(rows, minlength=n) for rows in self._boot])

    def features(self, x) -> np.ndarray:
        """(N, n_signal) whitened signal components of spectra ``x`` (N, B)."""
        return self._features.transform(x)

    def _fd_inf(self, a, b, key: str, seed: int) -> tuple[dict, float]:
        rng = np.random.default_rng([self.seed, seed, 2])
        point = frechet_infinity(a, b, fractions=self.fractions, repeats=self.repeats, rng=rng)
        boot = _bootstrap_fd_inf(a, b, self._boot, self._sizes, self.repeats, rng)
        # the resamples' FD-infinity estimates the distance of the two empirical sets, FD(n):
        # their spread about it is the estimate's about the true distance
        lo, hi = np.percentile(boot - point.fd_n + point.fd_inf, [16, 84])
        return {key: point.fd_inf, f"{key} lo": float(lo), f"{key} hi": float(hi)}, point.fd_n

    def score(self, generated, *, noiseless: bool = False, seed: int = 0) -> dict:
        """Scores of ``generated`` (M, B), row i for ``c_test[i]``: "FD∞" in the signal
        features, "joint FD∞" with the labels, each with "lo" and "hi" (16th and 84th
        percentiles over bootstrap resamples of the test objects, real and generated rows
        together; each resample's FD∞ estimates FD(n), the distance of the empirical sets, so
        they are shifted by FD∞ - FD(n) to centre on the estimate), "FD(n)" of the full sets,
        and "C2ST AUC" (0.5: a classifier cannot tell generated from real) with its interval.
        ``noiseless``: first add the noise of the paired real spectra (:func:`add_noise`,
        renormalised when the yardstick has ``loglam``)."""
        gen = _array2d(generated, "generated", rows=self.x_test.shape[0], cols=self.x_test.shape[1])
        seed = check_seed(seed)
        if noiseless:
            rng = np.random.default_rng([self.seed, seed, 3])
            gen = add_noise(gen, self.ivar_test, rng, norm_bins=self.norm_bins)
        feats = self.features(gen)
        joint = np.column_stack([feats, self.c_test])
        out, fd_n = self._fd_inf(self.real, feats, "FD∞", seed)
        out["FD(n)"] = fd_n
        out.update(self._fd_inf(self.real_joint, joint, "joint FD∞", seed)[0])
        p_real, p_gen = _c2st_scores(self.real_joint, joint, self.seed)
        auc = _auc_weighted(p_real, p_gen, np.ones((1, p_real.size)))[0]
        lo, hi = np.percentile(_auc_weighted(p_real, p_gen, self._weights), [16, 84])
        out.update({"C2ST AUC": float(auc), "C2ST AUC lo": float(lo), "C2ST AUC hi": float(hi)})
        return out
