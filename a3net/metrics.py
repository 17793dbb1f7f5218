"""Re-exports the scores now in a3net.evaluation (regression, masses, rings, spectra, frechet)."""

from .evaluation.frechet import FrechetScore, SpectrumFeatures, frechet_distance, frechet_gaussian
from .evaluation.masses import binned_bias, mass_bias_scatter
from .evaluation.regression import (
    NMAD,
    OUTLIER_THRESHOLD,
    majority_accuracy,
    normalized_residuals,
    outlier_fraction,
    parameter_scores,
    photoz_scores,
    pit,
    r2_per_parameter,
    redshift_bias,
    rmse,
    rmse_table,
    sigma_nmad,
)
from .evaluation.rings import circle_cramer_rao, ring_fisher_information
from .evaluation.spectra import (
    DN4000_BLUE,
    DN4000_RED,
    CrossCorrelation,
    best_template_redshift,
    dn4000,
    xcorr_redshift,
)

__all__ = [
    "DN4000_BLUE",
    "DN4000_RED",
    "NMAD",
    "OUTLIER_THRESHOLD",
    "CrossCorrelation",
    "FrechetScore",
    "SpectrumFeatures",
    "best_template_redshift",
    "binned_bias",
    "circle_cramer_rao",
    "dn4000",
    "frechet_distance",
    "frechet_gaussian",
    "majority_accuracy",
    "mass_bias_scatter",
    "normalized_residuals",
    "outlier_fraction",
    "parameter_scores",
    "photoz_scores",
    "pit",
    "r2_per_parameter",
    "redshift_bias",
    "ring_fisher_information",
    "rmse",
    "rmse_table",
    "sigma_nmad",
    "xcorr_redshift",
]
