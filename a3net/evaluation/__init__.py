"""How the chapters score their methods: one module per kind of score, NumPy in, floats or
pandas objects out, no deep-learning framework imported.

``regression`` (RMSE, R2, the majority baseline; photo-z sigma_NMAD, outliers, bias, PIT; chapters
C, E, H), ``photoz_pdf`` (CRPS, credible intervals and their coverage, calibration of redshift
PDFs; C), ``masses`` (cluster-mass bias and scatter in dex; D, G), ``rings`` (Fisher information
and Cramer-Rao bounds of ring fits; F), ``spectra`` (cross-correlation redshift and r-value,
Dn4000; A, B), ``frechet`` (Frechet distance of spectra in a PCA space and its floor; A, B),
``yardstick`` (the noise edge, forward-modelled noise, the Frechet distance extrapolated to
infinite samples, the joint distance and the classifier two-sample test; A, B), ``judge`` (the
judge of a spectrum generator, built on the three before; A, B), ``saliency``
(the framework-free part of ``saliency`` and reading its maps; G, H), ``bootstrap`` (bootstrap
errors, paired margins, group resampling) and ``tables`` (cross-validated comparison tables; C).
Every public name is also importable from ``a3net.evaluation`` itself.
"""

from __future__ import annotations

from . import (
    bootstrap,
    frechet,
    judge,
    masses,
    photoz_pdf,
    regression,
    rings,
    saliency,
    spectra,
    tables,
    yardstick,
)
from .bootstrap import *  # noqa: F403
from .frechet import *  # noqa: F403
from .judge import *  # noqa: F403
from .masses import *  # noqa: F403
from .photoz_pdf import *  # noqa: F403
from .regression import *  # noqa: F403
from .rings import *  # noqa: F403
from .saliency import *  # noqa: F403
from .spectra import *  # noqa: F403
from .tables import *  # noqa: F403
from .yardstick import *  # noqa: F403

MODULES = (
    regression,
    photoz_pdf,
    masses,
    rings,
    spectra,
    frechet,
    yardstick,
    judge,
    saliency,
    bootstrap,
    tables,
)

__all__ = sorted(name for module in MODULES for name in module.__all__)
