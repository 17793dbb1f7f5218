"""Chapters D and G models (Keras 3): galaxy-cluster masses from mock X-ray images.

Twins of ``a3net.torch.clusters``: same names, arguments and trainable-parameter counts. Inputs
are (N, 1, S, S) channels-first photon-count images, transposed to channels last inside each
model; outputs (N, n_outputs), the standardised log10 M500c. The equivariant CNN is built from
a3net's own p4 (or, with ``group="p4m"``, p4m) layers (e2cnn, which the PyTorch twin uses for
p4, is PyTorch only); with ``group="plain"``, from ordinary convolutions.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from .._engine import checks
from .core import Regressor
from .layers import (
    P4ConvP4,
    P4ConvZ2,
    P4MConvP4M,
    P4MConvZ2,
    P4MPool,
    P4Pool,
    RandomFlip,
    RandomRotation,
)

_TO_CHANNELS_LAST = (2, 3, 1)


class ClusterCNN(Regressor):
    """CNN of cluster mass (Ntampaka et al. 2019): images (N, 1, S, S) -> (N, n_outputs).

    For each of ``channels`` a 3x3 'valid' convolution, ReLU and 2x2 max-pooling
    (64 -> 31 -> 14 -> 6 px); global average pooling; dropout; dense ReLU layers of widths
    ``dense`` with dropout after the first; an output with activation ``output`` ("linear" or
    "softplus", which keeps the output positive). With ``channels=(32, 64, 64)``,
    ``output="softplus"`` and 140 px images it is hack G's network, 90,885 parameters.
    """

    def __init__(
        self,
        image_size: int = 64,
        channels=(16, 32, 64),
        dense=(200, 100, 20),
        dropout: float = 0.1,
        output: str = "linear",
        n_outputs: int = 1,
    ):
        super().__init__()
        channels, dense, dropout, output = checks.cluster_cnn(
            self, image_size, channels, dense, dropout, output, n_outputs
        )
        blocks = [layers.Permute(_TO_CHANNELS_LAST)]  # (N, S, S, 1)
        for ch in channels:
            blocks += [
                layers.Conv2D(ch, 3, padding="valid", activation="relu"),
                layers.MaxPooling2D(2),
            ]
        head = [layers.GlobalAveragePooling2D(), layers.Dropout(dropout)]  # (N, channels[-1])
        for i, width in enumerate(dense):
            head += [layers.Dense(width, activation="relu")]
            head += [layers.Dropout(dropout)] if i == 0 else []
        head.append(layers.Dense(self.n_outputs, activation=output))
        self.net = keras.Sequential([*blocks, *head])
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class DeepClusterCNN(Regressor):
    """Hack D's deeper CNN of cluster mass: images (N, 1, S, S) -> (N, 1).

    Two 3x3 'valid' convolutions of 32 channels, 2x2 max-pooling, two of 64, 2x2 max-pooling,
    two of 128 (ReLU after each), 4x4 average pooling with stride 4 (skipped when the maps are
    smaller than 4 px: 9 px at S = 64 gives 2 px, 140 px gives 7), global average pooling,
    dropout, dense 128, dropout, dense 64 and 32 (ReLU), a linear output. With
    ``rotation_factor > 0`` it starts with a ``RandomRotation(rotation_factor, fill_mode)``
    layer and with ``random_flip=True`` with a ``RandomFlip`` layer: the hack's augmentation
    layers, active only while training. ``channels`` sets the widths of the three pairs of
    convolutions: the hack's (32, 64, 128) by default; narrower ones train faster on a CPU.
    """

    def __init__(
        self,
        image_size: int = 64,
        rotation_factor: float = 0.0,
        random_flip: bool = False,
        fill_mode: str = "constant",
        dropout: float = 0.2,
        channels=(32, 64, 128),
    ):
        super().__init__()
        (c1, c2, c3), dropout, side, rotation_factor = checks.deep_cluster_cnn(
            self, image_size, rotation_factor, random_flip, fill_mode, dropout, channels
        )
        augment = [layers.Permute(_TO_CHANNELS_LAST)]  # (N, S, S, 1)
        if rotation_factor > 0:
            augment.append(RandomRotation(rotation_factor, fill_mode=fill_mode))
        if random_flip:
            augment.append(RandomFlip())
        self.net = keras.Sequential(
            [
                *augment,
                layers.Conv2D(c1, 3, padding="valid", activation="relu"),  # 64 -> 62
                layers.Conv2D(c1, 3, padding="valid", activation="relu"),  # 62 -> 60
                layers.MaxPooling2D(2),  # 60 -> 30
                layers.Conv2D(c2, 3, padding="valid", activation="relu"),  # 30 -> 28
                layers.Conv2D(c2, 3, padding="valid", activation="relu"),  # 28 -> 26
                layers.MaxPooling2D(2),  # 26 -> 13
                layers.Conv2D(c3, 3, padding="valid", activation="relu"),  # 13 -> 11
                layers.Conv2D(c3, 3, padding="valid", activation="relu"),  # 11 -> 9
                layers.AveragePooling2D(4, strides=4) if side >= 4 else layers.Identity(),
                layers.GlobalAveragePooling2D(),  # (N, c3)
                layers.Dropout(dropout),
                layers.Dense(128, activation="relu"),
                layers.Dropout(dropout),
                layers.Dense(64, activation="relu"),
                layers.Dense(32, activation="relu"),
                layers.Dense(1),
            ]
        )
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class EquivariantClusterCNN(Regressor):
    """p4-equivariant CNN of cluster mass (Cohen & Welling 2016): images (N, 1, S, S) -> (N, 1),
    exactly the same for an image turned by 90, 180 or 270 degrees.

    A lifting convolution turns the image into ``channels[0]`` p4 feature maps (four maps each,
    one per 90-degree turn of the kernel); group convolutions map them on; each 3x3 convolution
    ('same' padding) is followed by ReLU and 2x2 max-pooling (64 -> 32 -> 16 -> 8 px, so
    ``image_size`` must be a multiple of 2**len(channels)). Pooling over the four turns leaves
    maps that turn with the image; global average pooling makes them invariant; dropout and
    dense ReLU layers ``dense`` then give a linear output. The PyTorch twin builds the same
    network with e2cnn.

    ``group="p4m"`` adds the mirror flips (the dihedral group D4 of the square): eight maps per
    channel, one per quarter turn of the kernel and of its mirror image (``P4MConvZ2``,
    ``P4MConvP4M``, ``P4MPool``); the output is then also the same for the mirrored image. Its
    group convolutions have twice the weights of p4's (36 -> 72 per pair of channels) and its
    maps twice the values.

    ``group="plain"`` is the same network without a group: ordinary 3x3 convolutions
    (``layers.Conv2D``, 'same' padding, one map per channel) in place of the group convolutions,
    the same ReLUs, 2x2 max-poolings, head, dropout and output, and no group pooling. It is
    the non-equivariant twin to train with augmentation against p4 or p4m. A plain convolution
    has 9 weights per pair of channels against p4's 36 (P4ConvP4: in x 4 x out x 9), so with the
    same ``channels`` it is much smaller; doubling the channels roughly matches p4's weights:
    ``channels=(8, 16, 16)`` p4 has 17,137 (13,936 in its convolutions), ``channels=(16, 32,
    32)`` plain 18,273 (14,048 in its convolutions), both with the default ``dense=(64, 32)``.
    """

    def __init__(
        self,
        image_size: int = 64,
        channels=(8, 16, 16),
        dense=(64, 32),
        dropout: float = 0.1,
        group: str = "p4",
    ):
        super().__init__()
        if not (isinstance(group, str) and group in ("p4", "p4m", "plain")):
            raise ValueError(
                "group must be 'p4' (quarter turns), 'p4m' (quarter turns and mirror flips) or "
                f"'plain' (ordinary convolutions, no group), got {group!r}."
            )
        self.group = group
        group_size = {"p4": 4, "p4m": 8, "plain": 1}[group]  # maps per channel
        channels, dense, dropout = checks.equivariant_cluster_cnn(
            self, image_size, channels, dense, dropout, group_size=group_size
        )
        pairs = list(zip(channels, channels[1:], strict=False))
        if group == "plain":  # the non-equivariant twin: ordinary convolutions, (N, S, S, C) maps
            self.implementation = "plain convolutions"
            self.convs = [layers.Conv2D(c, 3, padding="same") for c in channels]
        elif group == "p4m":
            self.implementation = "a3net p4m layers"
            self.convs = [P4MConvZ2(1, channels[0])]  # lifting: image -> (N, S, S, C, 8) maps
            self.convs += [P4MConvP4M(a, b) for a, b in pairs]
        else:
            self.implementation = "a3net p4 layers"  # Keras has no e2cnn
            self.convs = [P4ConvZ2(1, channels[0])]  # lifting: image -> p4 maps (N, S, S, C, 4)
            self.convs += [P4ConvP4(a, b) for a, b in pairs]
        self.pool = layers.MaxPooling2D(2)
        # maximum over the four turns (p4) or the eight turns and flips (p4m); plain has none
        self.group_pool = None if group == "plain" else P4MPool() if group == "p4m" else P4Pool()
        head = [layers.GlobalAveragePooling2D(), layers.Dropout(dropout)]
        for i, width in enumerate(dense):
            head += [layers.Dense(width, activation="relu")]
            head += [layers.Dropout(dropout)] if i == 0 else []
        self.head = keras.Sequential([*head, layers.Dense(1)])
        self._build_with_zeros()

    def call(self, x, training=False):
        x = ops.transpose(x, (0, 2, 3, 1))  # (N, S, S, 1)
        if self.group == "plain":
            for conv in self.convs:
                x = self.pool(ops.relu(conv(x)))  # (N, H, W, C)
            return self.head(x, training=training)
        for conv in self.convs:
            x = ops.relu(conv(x))  # (N, H, W, C, 4 or 8)
            _, height, width, channels, elements = x.shape
            x = self.pool(ops.reshape(x, (-1, height, width, channels * elements)))  # 2x2 per map
            x = ops.reshape(x, (-1, height // 2, width // 2, channels, elements))
        return self.head(self.group_pool(x), training=training)
