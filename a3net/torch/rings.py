"""Chapter F models (PyTorch): ring counter, ring regressors and a conditional VAE.

Inputs are ring images (N, 1, 28, 28). The Keras twins in ``a3net.keras.rings`` have the same
names, arguments and trainable-parameter counts, and draw their initial weights as PyTorch does
(see ``a3net.keras.rings._init_like_torch``: the cVAE trained differently under Keras' default).
"""

from __future__ import annotations

import torch
from torch import nn

from .._engine import checks
from .._validation import check_positive_int
from .core import Classifier, ConditionalGenerator, Regressor


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
        blocks, prev = [], 1
        for ch in channels:
            blocks += [nn.Conv2d(prev, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            prev = ch
        self.net = nn.Sequential(
            *blocks,
            nn.Flatten(),  # (N, channels[-1] * side * side)
            nn.Linear(prev * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, self.n_classes),
        )

    def forward(self, x):
        return self.net(x)


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
        blocks, prev = [], 1
        for ch in channels:
            blocks += [nn.Conv2d(prev, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            prev = ch
        self.net = nn.Sequential(
            *blocks,
            nn.Flatten(),  # (N, channels[-1] * side * side)
            nn.Linear(prev * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, self.n_outputs),
        )

    def forward(self, x):
        return self.net(x)


class RingRegressorMLP(Regressor):
    """Fully-connected regressor: images (N, 1, 28, 28) -> (N, n_outputs), flattened to 784
    pixels, dense ReLU layers of widths ``hidden`` with dropout, a linear output. The reference
    the CNN is compared with."""

    def __init__(
        self, n_outputs: int = 5, image_size: int = 28, hidden=(256, 128), dropout: float = 0.0
    ):
        super().__init__()
        hidden, dropout = checks.ring_mlp(self, n_outputs, image_size, hidden, dropout)
        layers, prev = [nn.Flatten()], image_size * image_size
        for width in hidden:
            layers += [nn.Linear(prev, width), nn.ReLU(), nn.Dropout(dropout)]
            prev = width
        layers.append(nn.Linear(prev, self.n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


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
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14 -> 7
            nn.Flatten(),  # (N, 64 * 7 * 7)
        )
        self.enc_dense = nn.Sequential(
            nn.Linear(64 * side**2 + self.n_conditions, hidden), nn.ReLU()
        )
        self.to_mean = nn.Linear(hidden, self.latent_dim)
        self.to_logvar = nn.Linear(hidden, self.latent_dim)
        self.dec_dense = nn.Sequential(
            nn.Linear(self.latent_dim + self.n_conditions, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 64 * side**2),
            nn.ReLU(),
            nn.Unflatten(1, (64, side, side)),
        )
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),  # 7 -> 14
            nn.Conv2d(64, 32, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # 14 -> 28
            nn.Conv2d(32, 1, 3, padding=1),  # pixel logits
        )

    def encode(self, x, c):
        """Mean and log-variance of q(z | x, c), each (N, latent_dim)."""
        h = self.enc_dense(torch.cat([self.encoder(x), c], dim=1))
        return self.to_mean(h), self.to_logvar(h)

    def decode(self, z, c):
        """Pixel logits (N, 1, H, W) of p(x | z, c)."""
        return self.decoder(self.dec_dense(torch.cat([z, c], dim=1)))

    def decode_samples(self, z, c):
        """Pixel means in [0, 1] (N, 1, H, W): the images ``generate`` draws."""
        return torch.sigmoid(self.decode(z, c))

    def forward(self, x, c):
        """Reconstruction logits, mean and log-variance for images ``x`` with conditions ``c``."""
        mean, logvar = self.encode(x, c)
        z = mean + self.normal_noise(mean) * torch.exp(0.5 * logvar)
        return self.decode(z, c), mean, logvar

    def training_loss(self, x, c, training=False):
        logits, mean, logvar = self(x, c)
        rec = (
            nn.functional.binary_cross_entropy_with_logits(logits.float(), x, reduction="none")
            .sum(dim=(1, 2, 3))
            .mean()
        )
        kl = (-0.5 * (1 + logvar - mean**2 - logvar.exp()).sum(dim=1)).mean()
        return rec + self.beta * kl, {"reconstruction": rec, "kl": kl}
