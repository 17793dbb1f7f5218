"""Re-exports :mod:`a3net.evaluation.judge` (the judge of a generator of galaxy spectra)."""

from .evaluation.judge import CONTINUUM_LOG_WIDTH, GeneratorJudge

__all__ = ["CONTINUUM_LOG_WIDTH", "GeneratorJudge"]
