"""Chapter F models (Keras 3): ring counter, ring regressors and a conditional VAE.

Twins of ``a3net.torch.rings``: same names, arguments and trainable-parameter counts. Inputs are
(N, 1, 28, 28) channels-first images, transposed to channels last inside each model.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from .._engine import checks
from .._validation import check_positive_int
from .core import Classifier, ConditionalGenerator, Regressor

_TO_CHANNELS_LAST = (2, 3, 1)
_TO_CHANNELS_FIRST = (3, 1, 2)


class RingCounterCNN(Classifier):
    """CNN that counts rings: images (N, 1, 28, 28) -> logits (N, max_rings), class k = k+1 rings.

    Conv blocks (3x3 convolution, ReLU, 2x2 max-pooling: 28 -> 14 -> 7 -> 3), a dense hidden
    layer with dropout, one logit per class.
    """

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
        channels, hidden, dropout, side = checks.ring_cnn(
            self, image_size, channels, hidden, dropout
        )
        blocks = [layers.Permute(_TO_CHANNELS_LAST)]  # (N, 28, 28, 1)
        for ch in channels:
            blocks += [
                layers.Conv2D(ch, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),
            ]
        self.net = keras.Sequential(
            [
                *blocks,
                layers.Flatten(),  # (N, side * side * channels[-1])
                layers.Dense(hidden, activation="relu"),
                layers.Dropout(dropout),
                layers.Dense(self.n_classes),
            ]
        )
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class RingRegressorCNN(Regressor):
    """CNN regressor: images (N, 1, 28, 28) -> (N, n_outputs) standardised ring parameters.

    With ``n_outputs=5``: x, y, radius, thickness, deformation of one ring; with ``n_outputs=6``
    it is the ellipse regressor (x, y, semi-major, semi-minor, cos 2psi, sin 2psi). Conv blocks
    (3x3 convolution, ReLU, 2x2 max-pooling: 28 -> 14 -> 7 -> 3), a dense hidden layer, a
    linear output.
    """

    def __init__(
        self,
        n_outputs: int = 5,
        image_size: int = 28,
        channels=(16, 32, 64),
        hidden: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_outputs = check_positive_int(n_outputs, "n_outputs")
        channels, hidden, dropout, side = checks.ring_cnn(
            self, image_size, channels, hidden, dropout
        )
        blocks = [layers.Permute(_TO_CHANNELS_LAST)]  # (N, 28, 28, 1)
        for ch in channels:
            blocks += [
                layers.Conv2D(ch, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),
            ]
        self.net = keras.Sequential(
            [
                *blocks,
                layers.Flatten(),  # (N, side * side * channels[-1])
                layers.Dense(hidden, activation="relu"),
                layers.Dropout(dropout),
                layers.Dense(self.n_outputs),
            ]
        )
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class RingRegressorMLP(Regressor):
    """Fully-connected regressor: images (N, 1, 28, 28) -> (N, n_outputs), flattened to 784
    pixels, dense ReLU layers of widths ``hidden`` with dropout, a linear output. The reference
    the CNN is compared with."""

    def __init__(
        self, n_outputs: int = 5, image_size: int = 28, hidden=(256, 128), dropout: float = 0.0
    ):
        super().__init__()
        hidden, dropout = checks.ring_mlp(self, n_outputs, image_size, hidden, dropout)
        stack = [layers.Flatten()]
        for width in hidden:
            stack += [layers.Dense(width, activation="relu"), layers.Dropout(dropout)]
        stack.append(layers.Dense(self.n_outputs))
        self.net = keras.Sequential(stack)
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)


class RingCVAE(ConditionalGenerator):
    """Conditional VAE (Kingma & Welling 2014; Sohn et al. 2015) of ring images given parameters.

    Encoder q(z | x, c): images (N, 1, 28, 28) through two conv blocks (28 -> 14 -> 7), joined
    with the conditions c (N, n_conditions), a dense ``hidden`` layer, then mean and log-variance
    (N, latent_dim). Decoder p(x | z, c): dense layers to 64x7x7, two nearest-neighbour
    upsamplings with 3x3 convolutions, pixel logits (N, 1, 28, 28). Loss per image: binary
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
        hidden, side = checks.ring_cvae(self, n_conditions, latent_dim, image_size, hidden, beta)
        self.side = side
        self.encoder = keras.Sequential(
            [
                layers.Permute(_TO_CHANNELS_LAST),  # (N, 28, 28, 1)
                layers.Conv2D(32, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),  # 28 -> 14
                layers.Conv2D(64, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),  # 14 -> 7
                layers.Flatten(),  # (N, 7 * 7 * 64)
            ]
        )
        self.enc_dense = layers.Dense(hidden, activation="relu")
        self.to_mean = layers.Dense(self.latent_dim)
        self.to_logvar = layers.Dense(self.latent_dim)
        self.dec_dense = keras.Sequential(
            [
                layers.Dense(hidden, activation="relu"),
                layers.Dense(64 * side**2, activation="relu"),
                layers.Reshape((side, side, 64)),
            ]
        )
        self.decoder = keras.Sequential(
            [
                layers.UpSampling2D(2, interpolation="nearest"),  # 7 -> 14
                layers.Conv2D(32, 3, padding="same", activation="relu"),
                layers.UpSampling2D(2, interpolation="nearest"),  # 14 -> 28
                layers.Conv2D(1, 3, padding="same"),  # pixel logits
                layers.Permute(_TO_CHANNELS_FIRST),  # (N, 1, 28, 28)
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
