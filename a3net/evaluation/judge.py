"""How chapters A and B judge a conditional generator of rest-frame galaxy spectra.

:class:`GeneratorJudge` holds the held-out real spectra, their noise and their labels, and scores
a set of spectra generated for those labels by four measures:

* the yardstick of :mod:`a3net.evaluation.yardstick`: the Frechet distance in the principal
  components above the noise, extrapolated to infinite sample size (FD-infinity, 0 for a
  perfect generator), the same with the labels among the features, and a classifier two-sample
  test, each with a bootstrap interval over the test objects;
* the Tonry & Davis r-value of the best-matching galaxy template (median over a subset), and the
  redshift of that match, which for a rest-frame spectrum should be 0;
* the rank correlation of Dn4000 with the requested age;
* the error of the labels read back by a regressor trained on real training spectra, in units
  of each standardised condition.

Noiseless generator outputs (``noiseless=True``) get the noise of the paired real spectrum first
(forward-modelled, renormalised as the pipeline normalised the real ones), and every measure is
taken on the noisy result.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from .._validation import check_seed
from ..baselines import spectra as baselines  # a module: baselines.spectra imports frechet
from ..data.spectra_prep import LABEL_FEATURES
from .frechet import frechet_distance
from .spectra import dn4000, xcorr_redshift
from .yardstick import SpectrumYardstick, add_noise

__all__ = ["CONTINUUM_LOG_WIDTH", "GeneratorJudge"]

# the running-median continuum of the cross-correlation spans about 1.5% in wavelength, as the
# 151 pixels of 1e-4 in log10(lambda) of xcorr_redshift's default on the SDSS grid
CONTINUUM_LOG_WIDTH = 151e-4


class GeneratorJudge:
    """Scores of spectra generated for held-out labels, against held-out real spectra.

    ``loglam`` (B,) is the rest-frame grid; ``x_train`` (N, B) and ``c_train`` (N, 4) the real
    training spectra and their standardised conditions (for the feature space and the label
    regressor); ``x_test`` (M, B), ``test_labels`` (DataFrame with ``age`` [Gyr]) and ``c_test``
    the held-out ones; ``ivar_train`` and ``ivar_test`` their inverse variances (the noise edge
    of the feature space, the forward-modelled noise); ``templates`` name -> (loglam, flux, z)
    on the step of ``loglam`` (``spectra_prep.templates_on_grid``). ``n_xcorr`` spectra of each
    set are cross-correlated; ``max_components``, ``edge_ratio`` and ``n_boot`` go to
    :class:`~a3net.evaluation.yardstick.SpectrumYardstick`.
    """

    def __init__(
        self,
        loglam,
        x_train,
        c_train,
        x_test,
        test_labels,
        c_test,
        templates: dict,
        *,
        ivar_train,
        ivar_test,
        max_components: int = 32,
        edge_ratio: float = 2.0,
        n_boot: int = 100,
        n_xcorr: int = 200,
        seed: int = 0,
    ):
        seed = check_seed(seed)
        self.seed = seed
        self.loglam = np.asarray(loglam, dtype=np.float64)
        self.x_test = np.asarray(x_test, dtype=np.float32)
        self.c_test = np.asarray(c_test, dtype=np.float32)
        if self.x_test.ndim != 2 or self.x_test.shape[1] != self.loglam.size:
            raise ValueError(
                f"x_test must be (M, {self.loglam.size}) like loglam, got {self.x_test.shape}."
            )
        if len(test_labels) != len(self.x_test) or len(self.c_test) != len(self.x_test):
            raise ValueError("x_test, test_labels and c_test must have one row per spectrum.")
        if not templates:
            raise ValueError("templates is empty; pass name -> (loglam, flux, z_template).")
        self.age = np.asarray(test_labels["age"], dtype=np.float64)
        self.templates = templates
        self.yardstick = SpectrumYardstick(
            x_train, ivar_train, self.x_test, ivar_test, self.c_test,
            max_components=max_components, edge_ratio=edge_ratio, n_boot=n_boot, seed=seed,
            loglam=self.loglam,
        )  # fmt: skip
        self.regressor = baselines.LabelRegressor(seed=seed).fit(x_train, c_train)
        rng = np.random.default_rng(seed)
        self.xcorr_rows = np.sort(
            rng.choice(len(self.x_test), min(n_xcorr, len(self.x_test)), replace=False)
        )
        step = float(np.mean(np.diff(self.loglam)))
        self.continuum_width = int(2 * round(CONTINUUM_LOG_WIDTH / step / 2) + 1)

    def _check(self, generated) -> np.ndarray:
        x = np.asarray(generated, dtype=np.float32)
        if x.shape != self.x_test.shape:
            raise ValueError(
                f"generated must be one spectrum per held-out label, {self.x_test.shape}, "
                f"got {x.shape}."
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("generated holds NaN or infinite values; the model diverged.")
        return x

    def _observed(self, generated, noiseless: bool, seed: int) -> np.ndarray:
        """``generated`` checked, with the paired real spectra's noise added if ``noiseless``."""
        x = self._check(generated)
        if not noiseless:
            return x
        rng = np.random.default_rng([self.seed, check_seed(seed), 5])
        return add_noise(x, self.yardstick.ivar_test, rng, norm_bins=self.yardstick.norm_bins)

    def distance(self, generated, *, noiseless: bool = False, seed: int = 0) -> float:
        """The Frechet distance at the test size, FD(n), of ``generated`` to the held-out
        spectra in the yardstick's features: quick (no extrapolation, no bootstrap), for
        learning curves; compare it only with other sets of the same size."""
        x = self._observed(generated, noiseless, seed)
        return frechet_distance(self.yardstick.features(x), self.yardstick.real)

    def r_values(self, spectra, templates: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best-template r-value and redshift of the ``n_xcorr`` chosen rows of ``spectra``,
        against ``templates`` (default: the judge's own)."""
        x = np.asarray(spectra, dtype=np.float64)[self.xcorr_rows]
        best_r, best_z = np.full(len(x), -np.inf), np.zeros(len(x))
        for t_loglam, t_flux, z_t in (templates or self.templates).values():
            for i, flux in enumerate(x):
                found = xcorr_redshift(
                    self.loglam, flux, t_loglam, t_flux, z_template=z_t, z_range=(-0.02, 0.02),
                    continuum_width=self.continuum_width,
                )  # fmt: skip
                if found.r > best_r[i]:
                    best_r[i], best_z[i] = found.r, found.z
        return best_r, best_z

    def _scores(self, x) -> dict:
        r, z = self.r_values(x)
        readback = self.regressor.predict(x)
        error = np.sqrt(np.mean((readback - self.c_test) ** 2, axis=0))
        scores = {
            "r median": float(np.median(r)),
            "r > 3": float(np.mean(r > 3)),
            "|z| median": float(np.median(np.abs(z))),
            "Dn4000-age": float(spearmanr(dn4000(self.loglam, x), self.age).statistic),
        }
        for name, value in zip(LABEL_FEATURES, error, strict=True):
            scores[f"readback {name}"] = float(value)
        return scores

    def real_scores(self) -> dict:
        """The scores of the held-out real spectra themselves: the template match, the break
        and the read-back (the distances to themselves would be 0 and are left out)."""
        return self._scores(self.x_test)

    def score(self, generated, *, noiseless: bool = False, seed: int = 0) -> dict:
        """All scores of spectra ``generated`` (M, B) for the held-out conditions, row i for
        ``c_test[i]``; ``noiseless``: add the paired real spectra's noise first."""
        x = self._observed(generated, noiseless, seed)
        return self.yardstick.score(x, seed=seed) | self._scores(x)
