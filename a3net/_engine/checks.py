"""Constructor checks of the models, written once for their PyTorch and Keras twins.

Each function takes the model and its constructor's arguments, raises one clear ``ValueError``
or ``TypeError`` for a bad one, sets the model's contract (``sample_shape``, ``n_outputs``,
``n_classes``, ``n_conditions``, ``latent_dim``) and returns the checked values the layers need.
"""

from __future__ import annotations

from .._validation import (
    check_channels,
    check_memory,
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


def check_model_size(model, parameters: int, activations: int) -> None:
    """Refuse, before any layer is built, a model whose sizes need more memory than
    ``A3NET_MAX_GB`` (default 8 GiB) allows: ``parameters`` weights (stored with their gradient
    and two Adam moments) and ``activations`` values of one sample (kept for the backward
    pass), float32. A MemoryError says how to raise the limit."""
    check_memory(
        4 * (4 * int(parameters) + 2 * int(activations)),
        f"{type(model).__name__} with these sizes ({int(parameters):,} weights)",
    )


def _conv_stack(in_channels: int, side: int, widths, convs: int = 1, kernel: int = 3, dims=2):
    """Weights and one sample's activations of conv blocks of ``widths`` (``convs`` convolutions
    each, 'same' padding, each block followed by a 2x pooling) on ``dims``-D maps of ``side``
    pixels: (weights, activations)."""
    weights, values, prev = 0, in_channels * side**dims, in_channels
    for width in widths:
        for _ in range(convs):
            weights += kernel**dims * prev * width + width
            values += 2 * width * side**dims
            prev = width
        side = max(side // 2, 1)
    return weights, values


def _dense_stack(inputs: int, widths) -> tuple[int, int]:
    """Weights and activations of dense layers of ``widths`` after ``inputs`` values."""
    weights, values, prev = 0, inputs, inputs
    for width in widths:
        weights += prev * width + width
        values += 2 * width
        prev = width
    return weights, values


def _check_stacks(model, *stacks) -> None:
    check_model_size(model, sum(w for w, _ in stacks), sum(v for _, v in stacks))


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
    _check_stacks(
        model,
        _conv_stack(1, image_size, channels),
        _dense_stack(channels[-1] * side * side, (hidden, 16)),
    )
    return channels, hidden, check_rate(dropout, "dropout"), side


def ring_mlp(model, n_outputs, image_size, hidden, dropout):
    """RingRegressorMLP: returns the widths ``hidden`` and ``dropout``."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    image_size = _square_images(model, image_size, minimum=8)
    dropout = check_rate(dropout, "dropout")
    hidden = check_channels(hidden, "hidden")
    _check_stacks(model, _dense_stack(image_size * image_size, (*hidden, model.n_outputs)))
    return hidden, dropout


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
    side = image_size // 4
    _check_stacks(  # encoder and decoder: two conv stages, 64 x side x side <-> hidden <-> latent
        model,
        _conv_stack(1, image_size, (32, 64)),
        _conv_stack(64, side, (64, 32)),
        _dense_stack(64 * side * side + model.n_conditions, (hidden, 2 * model.latent_dim)),
        _dense_stack(model.latent_dim + model.n_conditions, (hidden, 64 * side * side)),
    )
    return hidden, side


def cluster_cnn(model, image_size, channels, dense, dropout, output, n_outputs):
    """ClusterCNN: returns channels, dense, dropout and the output activation."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    image_size = _square_images(model, image_size)
    channels, dense = check_channels(channels), check_channels(dense, "dense")
    dropout = check_rate(dropout, "dropout")
    output = check_output_activation(output)
    side = valid_conv_side(image_size, [(1, True)] * len(channels))
    _check_stacks(
        model,
        _conv_stack(1, image_size, channels),
        _dense_stack(channels[-1] * side * side, (*dense, model.n_outputs)),
    )
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
    _check_stacks(
        model, _conv_stack(1, image_size, channels, convs=2), _dense_stack(channels[-1], (128,))
    )
    rotation_factor = check_rate(rotation_factor, "rotation_factor")
    check_option(fill_mode, "fill_mode", FILL_MODES)
    if not isinstance(random_flip, bool):
        raise TypeError(f"random_flip must be True or False, got {random_flip!r}.")
    return channels, dropout, side, rotation_factor


def equivariant_cluster_cnn(model, image_size, channels, dense, dropout, group_size: int = 4):
    """EquivariantClusterCNN: returns channels, dense and dropout. ``group_size`` is the number
    of transformed copies of every map and kernel (4 for p4, 8 for p4m)."""
    model.n_outputs = 1
    image_size = _square_images(model, image_size)
    channels, dense = check_channels(channels), check_channels(dense, "dense")
    dropout = check_rate(dropout, "dropout")
    if image_size % 2 ** len(channels):
        raise ValueError(
            f"image_size must be a multiple of {2 ** len(channels)} for {len(channels)} "
            f"2x2 poolings that keep the 90-degree symmetry exact, got {image_size}."
        )
    _check_stacks(  # a rotated (or mirrored) copy of every map and kernel per group element
        model,
        _conv_stack(group_size, image_size, [group_size * c for c in channels]),
        _dense_stack(channels[-1], (*dense, 1)),
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
    side = image_size // 2 ** len(channels)
    _check_stacks(
        model,
        _conv_stack(in_channels, image_size, channels),
        _dense_stack(channels[-1] * side * side, (dense, 8)),
    )
    norm, padding = check_option(norm, "norm", NORMS), check_option(padding, "padding", PADDINGS)
    return image_size, channels, dense, norm, padding, check_rate(dropout, "dropout")


def cosmo_batchnorm_cnn(model, image_size, in_channels, n_outputs, dropout, padding):
    """CosmoBatchNormCNN: returns image_size, dropout and padding."""
    model.n_outputs = check_positive_int(n_outputs, "n_outputs")
    image_size = check_side_multiple(image_size, 8, "three 2x2 poolings")
    model.sample_shape = (check_positive_int(in_channels, "in_channels"), image_size, image_size)
    side = image_size // 8
    _check_stacks(
        model,
        _conv_stack(model.sample_shape[0], image_size, (8, 32, 64), kernel=4),
        _dense_stack(64 * side * side, (1024, 32, model.n_outputs)),
    )
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
    _check_stacks(  # the stem halves the side twice; each block has two convolutions
        model,
        _conv_stack(model.sample_shape[0], image_size, (stages[0],), kernel=7),
        _conv_stack(stages[0], image_size // 4, stages, convs=2 * n_blocks),
    )
    return stages, n_blocks, check_option(padding, "padding", PADDINGS)


def photoz_mlp(model, n_features, hidden, dropout):
    """PhotoZMLP: returns the widths ``hidden`` and ``dropout``."""
    model.n_outputs = 1
    model.sample_shape = (check_positive_int(n_features, "n_features"),)
    hidden = check_channels(hidden, "hidden")
    _check_stacks(model, _dense_stack(model.sample_shape[0], (*hidden, 1)))
    return hidden, check_rate(dropout, "dropout")


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
    hidden = check_positive_int(hidden, "hidden")
    _check_stacks(  # 1-D convolutions down and up, dense layers to and from z
        model,
        _conv_stack(1, n_bins, (channels // 4, channels // 2, channels), kernel=5, dims=1),
        _conv_stack(channels, n_bins // 8, (channels, channels // 2, channels // 4), 1, 5, 1),
        _dense_stack(channels * (n_bins // 8) + model.n_conditions, (hidden, 2 * model.latent_dim)),
        _dense_stack(model.latent_dim + model.n_conditions, (hidden, channels * (n_bins // 8))),
    )
    return n_bins, channels, hidden
