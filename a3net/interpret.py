"""Re-exports :mod:`a3net.evaluation.saliency` (saliency maps: computing and reading them)."""

from .evaluation.saliency import (
    SALIENCY_METHODS,
    enclosed_fraction,
    normalise_maps,
    outskirt_to_core_ratio,
    radial_profile,
)
from .evaluation.saliency import _attribution_maps as _attribution_maps  # the torch/keras cores

__all__ = [
    "SALIENCY_METHODS",
    "enclosed_fraction",
    "normalise_maps",
    "outskirt_to_core_ratio",
    "radial_profile",
]
