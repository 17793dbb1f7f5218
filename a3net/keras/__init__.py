"""Keras 3 (TensorFlow backend) variants of every a3net model, with fit / predict / evaluate /
saliency / generate: the same public names, signatures and parameter counts as ``a3net.torch``.
"""

# ruff: noqa: F401 (the names are re-exported through the computed __all__)

from .._engine.contract import public_names as _public_names
from . import core  # noqa: F401 - first, so that a missing TensorFlow is reported clearly
from .clusters import ClusterCNN, DeepClusterCNN, EquivariantClusterCNN
from .core import (
    A3Model,
    Classifier,
    ConditionalGenerator,
    Regressor,
    count_parameters,
    device,
    evaluate,
    fit,
    generate,
    predict,
    saliency,
)
from .cosmology import CosmoBatchNormCNN, CosmoCNN, CosmoMomentCNN, CosmoResNet
from .layers import P4ConvP4, P4ConvZ2, P4Pool, RandomFlip, RandomRotation
from .photoz import PhotoZMLP
from .rings import RingCounterCNN, RingCVAE, RingRegressorCNN, RingRegressorMLP
from .spectra_gan import CBAM1d, ResidualCBAM1d, SpectrumWGAN
from .spectra_latent import LatentSpectrumWGAN
from .spectra_vae import SpectrumCVAE

NAME = "keras"

# every public name imported above, submodules left out: the parity tests walk it
__all__ = _public_names(globals())
