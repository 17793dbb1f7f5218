"""How chapters A and B judge a conditional generator of rest-frame galaxy spectra.

:class:`GeneratorJudge` holds the held-out real spectra and their labels, and scores a set of
spectra generated for those labels by four measures, each with a reference from real spectra:

* the Frechet distance in a PCA feature space fitted on the real training spectra, in units of
  its noise floor (two disjoint halves of the held-out spectra; see ``frechet.FrechetScore``);
* the Tonry & Davis r-value of the best-matching galaxy template (median over a subset), and the
  redshift of that match, which for a rest-frame spectrum should be 0;
* the rank correlation of Dn4000 with the requested age;
* the error of the labels read back by a regressor trained on real training spectra, in units
  of each standardised condition.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from .._validation import check_seed
from ..baselines import spectra as baselines  # a module: baselines.spectra imports frechet
from ..data.spectra_prep import LABEL_FEATURES
from .frechet import FrechetScore
from .spectra import dn4000, xcorr_redshift

__all__ = ["CONTINUUM_LOG_WIDTH", "GeneratorJudge"]

# the running-median continuum of the cross-correlation spans about 1.5% in wavelength, as the
# 151 pixels of 1e-4 in log10(lambda) of xcorr_redshift's default on the SDSS grid
CONTINUUM_LOG_WIDTH = 151e-4


class GeneratorJudge:
    """Scores of spectra generated for held-out labels, against held-out real spectra.

    ``loglam`` (B,) is the rest-frame grid; ``x_train`` (N, B) and ``c_train`` (N, 4) the real
    training spectra and their standardised conditions (for the feature space and the label
    regressor); ``x_test`` (M, B), ``test_labels`` (DataFrame with ``age`` [Gyr]) and ``c_test``
    the held-out ones; ``templates`` name -> (loglam, flux, z) on the step of ``loglam``
    (``spectra_prep.templates_on_grid``). ``n_xcorr`` spectra of each set are cross-correlated.
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
        n_components: int = 16,
        n_xcorr: int = 200,
        n_floor: int = 10,
        seed: int = 0,
    ):
        seed = check_seed(seed)
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
        self.frechet = FrechetScore(x_train, n_components)
        self.floor, self.floor_std = self.frechet.floor(self.x_test, n_floor, seed)
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

    def frechet_ratio(self, generated) -> float:
        """Frechet distance of ``generated`` to the held-out spectra over the floor."""
        return self.frechet.distance(self._check(generated), self.x_test) / self.floor

    def r_values(self, spectra) -> tuple[np.ndarray, np.ndarray]:
        """Best-template r-value and redshift of the ``n_xcorr`` chosen rows of ``spectra``."""
        x = np.asarray(spectra, dtype=np.float64)[self.xcorr_rows]
        best_r, best_z = np.full(len(x), -np.inf), np.zeros(len(x))
        for t_loglam, t_flux, z_t in self.templates.values():
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
        """The scores of the held-out real spectra themselves (the Frechet ratio is 1 by
        definition of the floor, whose relative spread is given too)."""
        scores = {"frechet ratio": 1.0, "floor spread": self.floor_std / self.floor}
        return scores | self._scores(self.x_test)

    def score(self, generated) -> dict:
        """All scores of spectra ``generated`` (M, B) for the held-out conditions, in order."""
        x = self._check(generated)
        return {"frechet ratio": self.frechet_ratio(x)} | self._scores(x)
