"""Chapter C model (PyTorch): the hack's MLP photometric-redshift regressor.

Inputs are feature tables (N, n_features), standardised by the caller; the output is one
redshift per galaxy. The Keras twin in ``a3net.keras.photoz`` has the same name, arguments and
trainable-parameter count.
"""

from __future__ import annotations

from torch import nn

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
        layers, prev = [], self.sample_shape[0]
        for width in hidden:
            layers += [
                nn.Linear(prev, width),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
            prev = width
        layers.append(nn.Linear(prev, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)

    def training_loss(self, x, y, training=False):
        pred = self(x).float()
        loss = nn.functional.l1_loss(pred, y)
        return loss, {"rmse": ((pred - y) ** 2).mean().sqrt()}
