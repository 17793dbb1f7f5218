"""Old home of the training loop, kept for ``from a3net._training import ...`` (a3net.interpret
imports ``saliency_unit``): everything now lives in ``a3net._engine``."""

from ._engine.contract import ModelContract, check_use, saliency_unit
from ._engine.latent import LATENT_NOISES, latent_draws, latent_vectors
from ._engine.training import (
    SCHEDULES,
    Backend,
    check_optimizer_groups,
    check_step_output,
    evaluate_loop,
    fit_loop,
    learning_rates,
    prepare_fit,
)

__all__ = [
    "Backend",
    "LATENT_NOISES",
    "ModelContract",
    "SCHEDULES",
    "check_optimizer_groups",
    "check_step_output",
    "check_use",
    "evaluate_loop",
    "fit_loop",
    "latent_draws",
    "latent_vectors",
    "learning_rates",
    "prepare_fit",
    "saliency_unit",
]
