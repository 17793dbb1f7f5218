"""Re-exports a3net.evaluation.tables (comparison tables) and a3net.evaluation.bootstrap."""

from .evaluation.bootstrap import bootstrap_difference, bootstrap_error, group_bootstrap
from .evaluation.tables import SCORE_COLUMNS, compare_regressors, scores_row

__all__ = [
    "SCORE_COLUMNS",
    "bootstrap_difference",
    "bootstrap_error",
    "compare_regressors",
    "group_bootstrap",
    "scores_row",
]
