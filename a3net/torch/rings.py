"""Chapter F models (PyTorch): ring counter, ring regressors and a conditional VAE.

Inputs are ring images (N, 1, 28, 28). The Keras twins in ``a3net.keras.rings`` have the same
names, arguments and trainable-parameter counts.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_channels, check_positive_int, check_rate
from .core import Classifier, ConditionalGenerator, Regressor


def _conv_trunk(channels, in_channels: int = 1) -> nn.Sequential:
    """3x3 'same' convolutions with ReLU, each followed by 2x2 max-pooling: 28 -> 14 -> 7 -> 3."""
    layers, prev = [], in_channels
    for ch in channels:
        layers += [nn.Conv2d(prev, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        prev = ch
    return nn.Sequential(*layers)


def _pooled_size(image_size: int, n_pools: int) -> int:
    for _ in range(n_pools):
        image_size //= 2
    if image_size < 1:
        raise ValueError(f"image_size is too small for {n_pools} 2x2 poolings.")
    return image_size


class _ConvHead(nn.Module):
    """Conv trunk, flatten, one hidden dense layer with dropout, linear output."""

    def __init__(self, n_out, image_size, channels, hidden, dropout):
        super().__init__()
        side = _pooled_size(image_size, len(channels))
        self.features = _conv_trunk(channels)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels[-1] * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_out),
        )

    def forward(self, x):
        return self.head(self.features(x))


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
        self.net = _ConvHead(
            self.n_classes,
            image_size,
            check_channels(channels),
            check_positive_int(hidden, "hidden"),
            check_rate(dropout, "dropout"),
        )

    def forward(self, x):
        return self.net(x)


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
        self.net = _ConvHead(
            self.n_outputs,
            image_size,
            check_channels(channels),
            check_positive_int(hidden, "hidden"),
            check_rate(dropout, "dropout"),
        )

    def forward(self, x):
        return self.net(x)


class RingRegressorMLP(Regressor):
    """Fully-connected regressor on the flattened image: the reference the CNN is compared with."""

    def __init__(
        self, n_outputs: int = 5, image_size: int = 28, hidden=(256, 128), dropout: float = 0.0
    ):
        super().__init__()
        self.n_outputs = check_positive_int(n_outputs, "n_outputs")
        self.sample_shape = (1, check_positive_int(image_size, "image_size", minimum=8), image_size)
        layers, prev = [nn.Flatten()], image_size * image_size
        for width in check_channels(hidden, "hidden"):
            layers += [
                nn.Linear(prev, width),
                nn.ReLU(),
                nn.Dropout(check_rate(dropout, "dropout")),
            ]
            prev = width
        layers.append(nn.Linear(prev, self.n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


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
        self.encoder = nn.Sequential(_conv_trunk((32, 64)), nn.Flatten())
        self.enc_dense = nn.Sequential(
            nn.Linear(64 * self.side**2 + self.n_conditions, hidden), nn.ReLU()
        )
        self.to_mean = nn.Linear(hidden, self.latent_dim)
        self.to_logvar = nn.Linear(hidden, self.latent_dim)
        self.dec_dense = nn.Sequential(
            nn.Linear(self.latent_dim + self.n_conditions, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 64 * self.side**2),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(64, 32, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(32, 1, 3, padding=1),
        )

    def encode(self, x, c):
        """Mean and log-variance of q(z | x, c), each (N, latent_dim)."""
        h = self.enc_dense(torch.cat([self.encoder(x), c], dim=1))
        return self.to_mean(h), self.to_logvar(h)

    def decode(self, z, c):
        """Pixel logits (N, 1, H, W) of p(x | z, c)."""
        h = self.dec_dense(torch.cat([z, c], dim=1)).view(-1, 64, self.side, self.side)
        return self.decoder(h)

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
