"""Chapters E and H models (Keras 3): cosmological parameters from CAMELS-like maps.

Twins of ``a3net.torch.cosmology``: same names, arguments and parameter counts, and the same
outputs with the same weights. Inputs are (N, C, S, S) channels-first map stacks (by default
log10 Mtot and log10 P, standardised), transposed to channels last inside each model; outputs
(N, n_outputs), standardised parameters. Every convolution pads explicitly and then convolves
'valid', as PyTorch does: with zeros, or with the opposite edge of the map
(``padding="circular"``, the periodic box; Keras has no such padding mode) and, for strided
convolutions, symmetrically (Keras' own 'same' pads one pixel more at the end than at the start).

Normalisation layers use epsilon = 1e-5 (PyTorch's default; Keras' is 1e-3) and BatchNorm a
moving-statistics momentum of 0.9 (PyTorch: momentum 0.1; Keras' default is 0.99), in both
frameworks.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .._engine import checks
from .._validation import check_positive_int, check_targets
from .core import Regressor, init_like_torch

_TO_CHANNELS_LAST = (2, 3, 1)


class _CircularPad2D(layers.Layer):
    """Pads maps (N, H, W, C) by ``width`` px on every side with the opposite edge (periodic),
    as PyTorch's ``padding_mode="circular"``."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = int(width)

    def call(self, x):
        p = self.width
        x = ops.concatenate([x[:, -p:], x, x[:, :p]], axis=1)
        return ops.concatenate([x[:, :, -p:], x, x[:, :, :p]], axis=2)

    def get_config(self):
        return {**super().get_config(), "width": self.width}

    def compute_output_shape(self, shape):
        grow = [None if s is None else s + 2 * self.width for s in shape[1:3]]
        return (shape[0], *grow, shape[3])


def _pad(width: int, padding: str) -> layers.Layer:
    """Padding of ``width`` px before a 'valid' convolution: zeros or periodic."""
    return _CircularPad2D(width) if padding == "circular" else layers.ZeroPadding2D(width)


def _norm(norm: str) -> layers.Layer:
    """The normalisation of feature maps (N, H, W, C)."""
    if norm == "layer":  # statistics over (H, W, C), one scale and shift per feature: 2 C H W
        return layers.LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)
    if norm == "group":  # the same statistics, one scale and shift per channel: 2 C
        return layers.GroupNormalization(groups=1, epsilon=1e-5)
    if norm == "batch":  # statistics over (N, H, W) per channel; moving ones for predict
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    return layers.Identity()


class CosmoCNN(Regressor):
    """Hack H's simple CNN: maps (N, in_channels, S, S) -> (N, n_outputs) parameters.

    For each of ``channels`` a 3x3 'same' convolution, ReLU, normalisation and 2x2 max-pooling
    (64 -> 32 -> 16 -> 8 px); flatten; a dense ReLU layer of ``dense`` units (with dropout if
    ``dropout`` > 0); a linear output. ``norm``: "layer" normalises each sample's whole (C, H, W)
    feature map with one scale and shift per feature (the hack's LayerNorm, 2 C H W parameters),
    "group" uses the same statistics with one scale and shift per channel (GroupNorm with one
    group, Wu & He 2018), "batch" is BatchNorm, "none" none. ``padding``: "zeros" or "circular"
    (periodic maps). Defaults: 4,450,194 parameters, the hack's network; ``dense=4096,
    n_outputs=6``: 17,058,710, its six-parameter variant.
    """

    def __init__(
        self,
        image_size: int = 64,
        in_channels: int = 2,
        channels=(16, 32, 64),
        dense: int = 1024,
        n_outputs: int = 2,
        norm: str = "layer",
        padding: str = "zeros",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_outputs = check_positive_int(n_outputs, "n_outputs")
        image_size, channels, dense, norm, padding, dropout = checks.cosmo_cnn(
            self, image_size, in_channels, channels, dense, norm, padding, dropout
        )
        blocks = [layers.Permute(_TO_CHANNELS_LAST)]  # (N, S, S, in_channels)
        for ch in channels:
            blocks += [
                _pad(1, padding),
                layers.Conv2D(ch, 3, activation="relu"),  # 'same' with the padding
                _norm(norm),
                layers.MaxPooling2D(2),
            ]
        head = [layers.Flatten(), layers.Dense(dense, activation="relu")]  # (N, s * s * C)
        head += [layers.Dropout(dropout)] if dropout else []
        self.net = keras.Sequential([*blocks, *head, layers.Dense(self.n_outputs)])
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class CosmoBatchNormCNN(Regressor):
    """Hack E's Keras CNN: maps (N, in_channels, S, S) -> (N, n_outputs) parameters.

    A 5x5 convolution of 8 channels, then 3x3 ones of 32 and 64, all 'same', each followed by
    ReLU, BatchNorm (Ioffe & Szegedy 2015), 2x2 max-pooling (64 -> 32 -> 16 -> 8 px) and
    dropout; flatten; dense 1024 and 32 (ReLU); a linear output. The hack's summary shows
    convolution, BatchNorm, pooling, dropout but not where the ReLU sits: here it acts on the
    convolution's output, before BatchNorm. With the defaults 4,249,609 trainable parameters,
    plus 208 BatchNorm moving statistics: the hack's 4,249,817.
    """

    def __init__(
        self,
        image_size: int = 64,
        in_channels: int = 2,
        n_outputs: int = 1,
        dropout: float = 0.25,
        padding: str = "zeros",
    ):
        super().__init__()
        image_size, dropout, padding = checks.cosmo_batchnorm_cnn(
            self, image_size, in_channels, n_outputs, dropout, padding
        )
        self.net = keras.Sequential(
            [
                layers.Permute(_TO_CHANNELS_LAST),  # (N, S, S, in_channels)
                _pad(2, padding),
                layers.Conv2D(8, 5, activation="relu"),  # 'same' with the padding
                layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                layers.MaxPooling2D(2),  # 64 -> 32
                layers.Dropout(dropout),
                _pad(1, padding),
                layers.Conv2D(32, 3, activation="relu"),
                layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                layers.MaxPooling2D(2),  # 32 -> 16
                layers.Dropout(dropout),
                _pad(1, padding),
                layers.Conv2D(64, 3, activation="relu"),
                layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                layers.MaxPooling2D(2),  # 16 -> 8
                layers.Dropout(dropout),
                layers.Flatten(),  # (N, 8 * 8 * 64)
                layers.Dense(1024, activation="relu"),
                layers.Dense(32, activation="relu"),
                layers.Dense(self.n_outputs),
            ]
        )
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class CosmoResNet(Regressor):
    """Hack E's shortened ResNet18 (He et al. 2016): maps (N, in_channels, S, S) -> (N, n_outputs).

    ResNet18's stem (7x7 stride-2 convolution of ``stages[0]`` channels, BatchNorm, ReLU, 3x3
    stride-2 max-pooling: 64 -> 16 px), then one stage of ``blocks_per_stage`` basic blocks per
    entry of ``stages`` (two 3x3 convolutions with BatchNorm; the shortcut is the identity, or a
    1x1 stride-2 convolution with BatchNorm where the block halves the maps: the first block of
    every stage after the first); global average pooling; a linear output. Convolutions have no
    bias, as in ResNet18. "We remove three layers" is read as keeping only the first of
    ResNet18's four stages: the default ``stages=(64,)``, 154,498 parameters.
    ``stages=(64, 128, 256, 512)`` with 3 channels and 1000 outputs is ResNet18 (11,689,512).
    """

    def __init__(
        self,
        image_size: int = 64,
        in_channels: int = 2,
        stages=(64,),
        blocks_per_stage: int = 2,
        n_outputs: int = 2,
        padding: str = "zeros",
    ):
        super().__init__()
        stages, n_blocks, padding = checks.cosmo_resnet(
            self, image_size, in_channels, stages, blocks_per_stage, n_outputs, padding
        )
        self.stem = keras.Sequential(
            [
                layers.Permute(_TO_CHANNELS_LAST),  # (N, S, S, in_channels)
                _pad(3, padding),
                layers.Conv2D(stages[0], 7, strides=2, use_bias=False),  # 64 -> 32 px
                layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                layers.ReLU(),
                _pad(1, padding),  # zeros after the ReLU act as PyTorch's -inf padding
                layers.MaxPooling2D(3, strides=2),  # 32 -> 16 px
            ]
        )
        mains, shortcuts, prev = [], [], stages[0]
        for i, width in enumerate(stages):
            for j in range(n_blocks):
                stride = 2 if i > 0 and j == 0 else 1
                mains.append(
                    keras.Sequential(
                        [
                            _pad(1, padding),
                            layers.Conv2D(width, 3, strides=stride, use_bias=False),
                            layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                            layers.ReLU(),
                            _pad(1, padding),
                            layers.Conv2D(width, 3, use_bias=False),
                            layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                        ]
                    )
                )
                if stride == 1 and prev == width:
                    shortcuts.append(layers.Identity())
                else:
                    shortcuts.append(
                        keras.Sequential(
                            [
                                layers.Conv2D(width, 1, strides=stride, use_bias=False),
                                layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                            ]
                        )
                    )
                prev = width
        self.mains, self.shortcuts = mains, shortcuts
        self.head = keras.Sequential(
            [layers.GlobalAveragePooling2D(), layers.Dense(self.n_outputs)]
        )
        self(np.zeros((1, *self.sample_shape), np.float32))  # build, then start as PyTorch does
        init_like_torch(self)

    def call(self, x, training=False):
        x = self.stem(x, training=training)
        for main, shortcut in zip(self.mains, self.shortcuts, strict=True):
            x = ops.relu(main(x, training=training) + shortcut(x, training=training))
        return self.head(x, training=training)


class CosmoMomentCNN(Regressor):
    """CNN of parameters and their errors (a moment network): maps (N, in_channels, S, S) ->
    (N, 2 n_params), the means mu (first n_params columns) and the errors sigma (last n_params).

    For each of ``channels`` a 3x3 'same' convolution, ReLU, normalisation (``norm`` as in
    :class:`CosmoCNN`) and 2x2 max-pooling; global average pooling; a dense ReLU layer of
    ``dense`` units (with dropout if ``dropout`` > 0); a linear layer of 2 n_params; sigma is
    the softplus log(1 + e^t) of the last n_params, so it stays positive. With circular padding
    and group, batch or no normalisation the output does not change when the maps are rolled
    cyclically by a multiple of 2**len(channels) px (the per-pixel scales of "layer" break it).

    Trained on targets theta (N, n_params) with the moment loss of Jeffrey & Wandelt (2020), as
    in the CAMELS multifield benchmark (Villaescusa-Navarro et al. 2022, ApJS 259, 61): the sum
    over parameters of log(mean_batch (theta - mu)^2) + log(mean_batch ((theta - mu)^2 -
    sigma^2)^2). Its minimum has mu the posterior mean and sigma^2 the posterior variance of each
    parameter, so sigma is the expected rms error of mu. The logged metric "mae" is that of mu.
    """

    def __init__(
        self,
        image_size: int = 64,
        in_channels: int = 2,
        channels=(16, 32, 64),
        dense: int = 256,
        n_params: int = 2,
        norm: str = "group",
        padding: str = "circular",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_params = check_positive_int(n_params, "n_params")
        self.n_outputs = 2 * self.n_params
        image_size, channels, dense, norm, padding, dropout = checks.cosmo_cnn(
            self, image_size, in_channels, channels, dense, norm, padding, dropout
        )
        blocks = [layers.Permute(_TO_CHANNELS_LAST)]  # (N, S, S, in_channels)
        for ch in channels:
            blocks += [
                _pad(1, padding),
                layers.Conv2D(ch, 3, activation="relu"),  # 'same' with the padding
                _norm(norm),
                layers.MaxPooling2D(2),
            ]
        head = [layers.GlobalAveragePooling2D(), layers.Dense(dense, activation="relu")]
        head += [layers.Dropout(dropout)] if dropout else []
        self.net = keras.Sequential([*blocks, *head, layers.Dense(self.n_outputs)])
        self._build_with_zeros()

    def call(self, x, training=False):
        out = self.net(x, training=training)
        n = self.n_params
        return ops.concatenate([out[:, :n], ops.softplus(out[:, n:])], axis=1)

    def check_targets(self, y, n: int, name: str | None = None):
        """Targets theta (N, n_params) as float32: the model predicts their means and errors."""
        return check_targets(y, n, name or "y", n_outputs=self.n_params)

    def training_loss(self, x, y, training=False):
        out = ops.cast(self(x, training=training), "float32")
        mu, sigma = out[:, : self.n_params], out[:, self.n_params :]
        squared = ops.square(y - mu)  # (N, n_params)
        loss = ops.sum(ops.log(ops.mean(squared, axis=0)))
        loss = loss + ops.sum(ops.log(ops.mean(ops.square(squared - sigma**2), axis=0)))
        return loss, {"mae": ops.mean(ops.abs(mu - y))}
