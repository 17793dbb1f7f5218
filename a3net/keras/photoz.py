"""Chapter C model (Keras): the hack's MLP photometric-redshift regressor.

Inputs are feature tables (N, n_features), standardised by the caller; the output is one
redshift per galaxy. The PyTorch twin in ``a3net.torch.photoz`` has the same name, arguments and
trainable-parameter count.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from .._engine import checks
from .core import Regressor


class PhotoZMLP(Regressor):
    """Fully-connected regressor of redshift from photometric features, trained with the L1 loss
    (the mean absolute error, as the hack did: robust to the catastrophic outliers that a squared
    loss would chase). Hidden layers ``hidden`` (the hack's 256-256-256) with ReLU and dropout."""

    example_args = {"n_features": 13}  # the hack's 13 features (parity tests build it so)

    def __init__(self, n_features: int, hidden=(256, 256, 256), dropout: float = 0.0):
        super().__init__()
        hidden, dropout = checks.photoz_mlp(self, n_features, hidden, dropout)
        stack = []
        for width in hidden:
            stack += [
                layers.Dense(width, activation="relu"),
                layers.Dropout(dropout),
            ]
        stack.append(layers.Dense(1))
        self.net = keras.Sequential(stack)
        self._build_with_zeros()

    def call(self, x, training=False):
        return self.net(x, training=training)

    def training_loss(self, x, y, training=False):
        pred = tf.cast(self(x, training=training), tf.float32)
        loss = tf.reduce_mean(tf.abs(pred - y))
        return loss, {"rmse": tf.sqrt(tf.reduce_mean(tf.square(pred - y)))}
