"""Chapter F models (Keras 3): ring counter, ring regressors and a conditional VAE.

Twins of ``a3net.torch.rings``: same names, arguments and trainable-parameter counts. Inputs are
(N, 1, 28, 28) channels-first images, transposed to channels last inside each model.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from .._validation import check_channels, check_positive_int, check_rate
from .core import Classifier, ConditionalGenerator, Regressor

_TO_CHANNELS_LAST = (2, 3, 1)
_TO_CHANNELS_FIRST = (3, 1, 2)


def _conv_trunk(channels) -> list:
    """3x3 'same' convolutions with ReLU, each followed by 2x2 max-pooling: 28 -> 14 -> 7 -> 3."""
    out = []
    for ch in channels:
        out += [layers.Conv2D(ch, 3, padding="same", activation="relu"), layers.MaxPooling2D(2)]
    return out


def _pooled_size(image_size: int, n_pools: int) -> int:
    for _ in range(n_pools):
        image_size //= 2
    if image_size < 1:
        raise ValueError(f"image_size is too small for {n_pools} 2x2 poolings.")
    return image_size


def _conv_head(n_out, image_size, channels, hidden, dropout) -> keras.Sequential:
    """Channels-first input, conv trunk, flatten, hidden dense layer with dropout, linear output."""
    _pooled_size(image_size, len(channels))
    return keras.Sequential(
        [
            layers.Permute(_TO_CHANNELS_LAST),
            *_conv_trunk(channels),
            layers.Flatten(),
            layers.Dense(hidden, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(n_out),
        ]
    )


class RingCounterCNN(Classifier):
    """CNN that counts rings: outputs one logit per count 1..``max_rings`` (class k = k+1 rings)."""

    def __init__(
        self,
        max_rings: int = 2,
        image_size: int = 28,
        channels=(16, 32, 64),
        hidden: int = 64,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.n_classes = check_positive_int(max_rings, "max_rings")
        self.sample_shape = (1, check_positive_int(image_size, "image_size", minimum=8), image_size)
        self.net = _conv_head(
            self.n_classes,
            image_size,
            check_channels(channels),
            check_positive_int(hidden, "hidden"),
            check_rate(dropout, "dropout"),
        )
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class RingRegressorCNN(Regressor):
    """CNN regressor of one ring's (standardised) x, y, radius, thickness and deformation."""

    def __init__(
        self,
        n_outputs: int = 5,
        image_size: int = 28,
        channels=(32, 64, 128),
        hidden: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_outputs = check_positive_int(n_outputs, "n_outputs")
        self.sample_shape = (1, check_positive_int(image_size, "image_size", minimum=8), image_size)
        self.net = _conv_head(
            self.n_outputs,
            image_size,
            check_channels(channels),
            check_positive_int(hidden, "hidden"),
            check_rate(dropout, "dropout"),
        )
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class RingRegressorMLP(Regressor):
    """Fully-connected regressor on the flattened image: the reference the CNN is compared with."""

    def __init__(
        self, n_outputs: int = 5, image_size: int = 28, hidden=(256, 128), dropout: float = 0.0
    ):
        super().__init__()
        self.n_outputs = check_positive_int(n_outputs, "n_outputs")
        self.sample_shape = (1, check_positive_int(image_size, "image_size", minimum=8), image_size)
        stack = [layers.Flatten()]
        for width in check_channels(hidden, "hidden"):
            stack += [
                layers.Dense(width, activation="relu"),
                layers.Dropout(check_rate(dropout, "dropout")),
            ]
        stack.append(layers.Dense(self.n_outputs))
        self.net = keras.Sequential(stack)
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class RingCVAE(ConditionalGenerator):
    """Conditional VAE (Kingma & Welling 2014; Sohn et al. 2015) of ring images given parameters.

    Encoder q(z | image, c): two conv blocks (28 -> 14 -> 7), dense ``hidden``, then mean and
    log-variance of a ``latent_dim`` Gaussian. Decoder p(image | z, c): dense to 64x7x7, two
    nearest-neighbour upsamplings with 3x3 convolutions, pixel logits. Loss per image: binary
    cross-entropy summed over pixels plus ``beta`` times the KL divergence to N(0, 1).
    """

    def __init__(
        self,
        n_conditions: int = 5,
        latent_dim: int = 8,
        image_size: int = 28,
        hidden: int = 128,
        beta: float = 1.0,
    ):
        super().__init__()
        self.n_conditions = check_positive_int(n_conditions, "n_conditions")
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        image_size = check_positive_int(image_size, "image_size", minimum=8)
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 for the cVAE, got {image_size}.")
        hidden = check_positive_int(hidden, "hidden")
        if not beta >= 0:
            raise ValueError(f"beta must be non-negative, got {beta!r}.")
        self.beta = float(beta)
        self.sample_shape = (1, image_size, image_size)
        self.side = image_size // 4
        self.encoder = keras.Sequential(
            [layers.Permute(_TO_CHANNELS_LAST), *_conv_trunk((32, 64)), layers.Flatten()]
        )
        self.enc_dense = layers.Dense(hidden, activation="relu")
        self.to_mean = layers.Dense(self.latent_dim)
        self.to_logvar = layers.Dense(self.latent_dim)
        self.dec_dense = keras.Sequential(
            [
                layers.Dense(hidden, activation="relu"),
                layers.Dense(64 * self.side**2, activation="relu"),
                layers.Reshape((self.side, self.side, 64)),
            ]
        )
        self.decoder = keras.Sequential(
            [
                layers.UpSampling2D(2, interpolation="nearest"),
                layers.Conv2D(32, 3, padding="same", activation="relu"),
                layers.UpSampling2D(2, interpolation="nearest"),
                layers.Conv2D(1, 3, padding="same"),
                layers.Permute(_TO_CHANNELS_FIRST),
            ]
        )
        self._build_with_zeros(tf.zeros((1, self.n_conditions)))

    def encode(self, x, c):
        """Mean and log-variance of q(z | x, c), each (N, latent_dim)."""
        h = self.enc_dense(tf.concat([self.encoder(x), c], axis=1))
        return self.to_mean(h), self.to_logvar(h)

    def decode(self, z, c):
        """Pixel logits (N, 1, H, W) of p(x | z, c)."""
        return self.decoder(self.dec_dense(tf.concat([z, c], axis=1)))

    def decode_samples(self, z, c):
        """Pixel means in [0, 1] (N, 1, H, W): the images ``generate`` draws."""
        return tf.sigmoid(self.decode(z, c))

    def call(self, x, c, training=False):
        """Reconstruction logits, mean and log-variance for images ``x`` with conditions ``c``."""
        mean, logvar = self.encode(x, c)
        z = mean + self.normal_noise(mean) * tf.exp(0.5 * logvar)
        return self.decode(z, c), mean, logvar

    def training_loss(self, x, c, training=False):
        logits, mean, logvar = self(x, c, training=training)
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=tf.cast(logits, tf.float32))
        rec = tf.reduce_mean(tf.reduce_sum(bce, axis=[1, 2, 3]))
        kl = tf.reduce_mean(
            -0.5 * tf.reduce_sum(1 + logvar - tf.square(mean) - tf.exp(logvar), axis=1)
        )
        return rec + self.beta * kl, {"reconstruction": rec, "kl": kl}
