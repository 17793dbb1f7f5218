"""Constructor checks of the models, written once for their PyTorch and Keras twins.

Each function takes the model and its constructor's arguments, raises one clear ``ValueError``
or ``TypeError`` for a bad one, sets the model's contract (``sample_shape``, ``n_outputs``,
``n_classes``, ``n_conditions``, ``latent_dim``) and returns the checked values the layers need.
"""

from __future__ import annotations

from .._validation import (
    check_channels,
    check_option,
    check_output_activation,
    check_positive_int,
    check_rate,
    check_side_multiple,
    valid_conv_side,
)

FILL_MODES = ("constant", "nearest", "reflect")  # of RandomRotation, in both frameworks
NORMS = ("layer", "group", "batch", "none")
PADDINGS = ("zeros", "circular")


def _square_images(model, image_size, minimum: int = 1, in_channels: int = 1) -> int:
    image_size = check_positive_int(image_size, "image_size", minimum=minimum)
    model.sample_shape = (in_channels, image_size, image_size)
    return image_size


def pooled_side(image_size: int, n_pools: int) -> int:
    """Side of the feature maps after ``n_pools`` 2x2 max-poolings (28 -> 14 -> 7 -> 3)."""
    side = image_size // 2**n_pools
    if side < 1:
        raise ValueError(f"image_size is too small for {n_pools} 2x2 poolings.")
    return side


def ring_cnn(model, image_size, channels, hidden, dropout):
    """RingCounterCNN and RingRegressorCNN: returns channels, hidden, dropout and the side of the
    last feature maps (px)."""
    image_size = _square_images(model, image_size, minimum=8)
    channels, hidden = check_channels(channels), check_positive_int(hidden, "hidden")
    side = pooled_side(image_size, len(channels))
    return channels, hidden, check_rate(dropout, "dropout"), side


def ring_mlp(model, n_outputs, image_size, hidden, dropout):
    """RingRegressorMLP: returns the widths ``hidden`` and ``dropout``."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    _square_images(model, image_size, minimum=8)
    dropout = check_rate(dropout, "dropout")
    return check_channels(hidden, "hidden"), dropout


def ring_cvae(model, n_conditions, latent_dim, image_size, hidden, beta):
    """RingCVAE: returns ``hidden`` and the side of the encoder's last maps (image_size / 4)."""
    model.n_conditions = check_positive_int(n_conditions, "n_conditions")
    model.latent_dim = check_positive_int(latent_dim, "latent_dim")
    image_size = check_positive_int(image_size, "image_size", minimum=8)
    if image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4 for the cVAE, got {image_size}.")
    hidden = check_positive_int(hidden, "hidden")
    if not beta >= 0:
        raise ValueError(f"beta must be non-negative, got {beta!r}.")
    model.beta = float(beta)
    model.sample_shape = (1, image_size, image_size)
    return hidden, image_size // 4


def cluster_cnn(model, image_size, channels, dense, dropout, output, n_outputs):
    """ClusterCNN: returns channels, dense, dropout and the output activation."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    image_size = _square_images(model, image_size)
    channels, dense = check_channels(channels), check_channels(dense, "dense")
    dropout = check_rate(dropout, "dropout")
    output = check_output_activation(output)
    valid_conv_side(image_size, [(1, True)] * len(channels))
    return channels, dense, dropout, output


def deep_cluster_cnn(model, image_size, rotation_factor, random_flip, fill_mode, dropout, channels):
    """DeepClusterCNN: returns the three widths, dropout, the side of the last maps (px) and
    ``rotation_factor``."""
    model.n_outputs = 1
    channels = check_channels(channels)
    if len(channels) != 3:
        raise ValueError(
            f"channels must be three widths, one per pair of convolutions, got {channels!r}."
        )
    image_size = _square_images(model, image_size)
    dropout = check_rate(dropout, "dropout")
    side = valid_conv_side(image_size, [(2, True), (2, True), (2, False)])
    rotation_factor = check_rate(rotation_factor, "rotation_factor")
    check_option(fill_mode, "fill_mode", FILL_MODES)
    if not isinstance(random_flip, bool):
        raise TypeError(f"random_flip must be True or False, got {random_flip!r}.")
    return channels, dropout, side, rotation_factor


def equivariant_cluster_cnn(model, image_size, channels, dense, dropout):
    """EquivariantClusterCNN: returns channels, dense and dropout."""
    model.n_outputs = 1
    image_size = _square_images(model, image_size)
    channels, dense = check_channels(channels), check_channels(dense, "dense")
    dropout = check_rate(dropout, "dropout")
    if image_size % 2 ** len(channels):
        raise ValueError(
            f"image_size must be a multiple of {2 ** len(channels)} for {len(channels)} "
            f"2x2 poolings that keep the 90-degree symmetry exact, got {image_size}."
        )
    return channels, dense, dropout


def cosmo_cnn(model, image_size, in_channels, channels, dense, norm, padding, dropout):
    """CosmoCNN and CosmoMomentCNN (their outputs are set by the caller): returns image_size,
    channels, dense, norm, padding and dropout."""
    channels, dense = check_channels(channels), check_positive_int(dense, "dense")
    image_size = check_side_multiple(
        image_size, 2 ** len(channels), f"{len(channels)} 2x2 poolings"
    )
    in_channels = check_positive_int(in_channels, "in_channels")
    model.sample_shape = (in_channels, image_size, image_size)
    norm, padding = check_option(norm, "norm", NORMS), check_option(padding, "padding", PADDINGS)
    return image_size, channels, dense, norm, padding, check_rate(dropout, "dropout")


def cosmo_batchnorm_cnn(model, image_size, in_channels, n_outputs, dropout, padding):
    """CosmoBatchNormCNN: returns image_size, dropout and padding."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    image_size = check_side_multiple(image_size, 8, "three 2x2 poolings")
    model.sample_shape = (check_positive_int(in_channels, "in_channels"), image_size, image_size)
    return image_size, check_rate(dropout, "dropout"), check_option(padding, "padding", PADDINGS)


def cosmo_resnet(model, image_size, in_channels, stages, blocks_per_stage, n_outputs, padding):
    """CosmoResNet: returns stages, the blocks per stage and padding."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    stages = check_channels(stages, "stages")
    n_blocks = check_positive_int(blocks_per_stage, "blocks_per_stage")
    image_size = check_side_multiple(
        image_size, 4 * 2 ** (len(stages) - 1), f"the stem and {len(stages)} stages"
    )
    model.sample_shape = (check_positive_int(in_channels, "in_channels"), image_size, image_size)
    return stages, n_blocks, check_option(padding, "padding", PADDINGS)


def photoz_mlp(model, n_features, hidden, dropout):
    """PhotoZMLP: returns the widths ``hidden`` and ``dropout``."""
    model.n_outputs = 1
    model.sample_shape = (check_positive_int(n_features, "n_features"),)
    return check_channels(hidden, "hidden"), check_rate(dropout, "dropout")


def spectrum_cvae(model, n_bins, n_conditions, latent_dim, channels, hidden, beta):
    """SpectrumCVAE: ``n_bins`` (a multiple of 8), ``channels`` (a multiple of 4), ``beta``
    (>= 0); returns n_bins, channels and hidden."""
    n_bins = check_positive_int(n_bins, "n_bins", minimum=8)
    if n_bins % 8:
        raise ValueError(
            f"n_bins must be a multiple of 8 for the three 2x down- and upsamplings, got "
            f"{n_bins}; resample the spectra onto {8 * round(n_bins / 8) or 8} bins."
        )
    channels = check_positive_int(channels, "channels", minimum=4)
    if channels % 4:
        raise ValueError(
            f"channels must be a multiple of 4 (the stages have channels/4, channels/2 and "
            f"channels), got {channels}."
        )
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
        raise ValueError(f"beta must be a non-negative number, got {beta!r}.")
    model.beta = float(beta)
    model.n_conditions = check_positive_int(n_conditions, "n_conditions")
    model.latent_dim = check_positive_int(latent_dim, "latent_dim")
    model.sample_shape = (n_bins,)
    return n_bins, channels, check_positive_int(hidden, "hidden")
