"""Chapters E and H models (PyTorch): cosmological parameters from CAMELS-like maps.

Inputs are map stacks (N, C, S, S), by default C = 2 fields (log10 Mtot and log10 P,
standardised) of S = 64 px over a periodic 25 Mpc/h box; outputs (N, n_outputs), standardised
parameters (Omega_m, sigma_8, ...). ``CosmoCNN`` is hack H's simple CNN, ``CosmoBatchNormCNN``
hack E's Keras CNN, ``CosmoResNet`` hack E's shortened ResNet18 and ``CosmoMomentCNN`` a CNN that
predicts a mean and an error for every parameter (moment network). ``padding="circular"`` pads
each convolution with the opposite edge of the map, as the periodic box does. The Keras twins in
``a3net.keras.cosmology`` have the same names, arguments and parameter counts, and give the same
outputs with the same weights.

Normalisation layers use eps = 1e-5 (PyTorch's default) and BatchNorm a running-statistics
momentum of 0.1 (Keras: momentum 0.9), in both frameworks.
"""

from __future__ import annotations

import torch
from torch import nn

from .._engine import checks
from .._validation import check_positive_int, check_targets
from .core import Regressor


def _norm(norm: str, channels: int, side: int) -> nn.Module:
    """The normalisation of ``channels`` feature maps of ``side`` x ``side`` px."""
    if norm == "layer":  # statistics over (C, H, W), one scale and shift per feature: 2 C H W
        return nn.LayerNorm([channels, side, side], eps=1e-5)
    if norm == "group":  # the same statistics, one scale and shift per channel: 2 C
        return nn.GroupNorm(1, channels, eps=1e-5)
    if norm == "batch":  # statistics over (N, H, W) per channel; running ones for predict
        return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    return nn.Identity()


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
        blocks, prev, side = [], in_channels, image_size
        for ch in channels:
            blocks += [
                nn.Conv2d(prev, ch, 3, padding=1, padding_mode=padding),  # 'same'
                nn.ReLU(),
                _norm(norm, ch, side),
                nn.MaxPool2d(2),
            ]
            prev, side = ch, side // 2
        head = [nn.Flatten(), nn.Linear(prev * side * side, dense), nn.ReLU()]  # (N, C * s * s)
        head += [nn.Dropout(dropout)] if dropout else []
        self.net = nn.Sequential(*blocks, *head, nn.Linear(dense, self.n_outputs))

    def forward(self, x):
        return self.net(x)


class CosmoBatchNormCNN(Regressor):
    """Hack E's Keras CNN: maps (N, in_channels, S, S) -> (N, n_outputs) parameters.

    A 5x5 convolution of 8 channels, then 3x3 ones of 32 and 64, all 'same', each followed by
    ReLU, BatchNorm (Ioffe & Szegedy 2015), 2x2 max-pooling (64 -> 32 -> 16 -> 8 px) and
    dropout; flatten; dense 1024 and 32 (ReLU); a linear output. The hack's summary shows
    convolution, BatchNorm, pooling, dropout but not where the ReLU sits: here it acts on the
    convolution's output, before BatchNorm. With the defaults 4,249,609 trainable parameters,
    plus 208 BatchNorm running statistics: the hack's 4,249,817.
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
        side = image_size // 8
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 8, 5, padding=2, padding_mode=padding),  # 'same'
            nn.ReLU(),
            nn.BatchNorm2d(8, eps=1e-5, momentum=0.1),
            nn.MaxPool2d(2),  # 64 -> 32
            nn.Dropout(dropout),
            nn.Conv2d(8, 32, 3, padding=1, padding_mode=padding),
            nn.ReLU(),
            nn.BatchNorm2d(32, eps=1e-5, momentum=0.1),
            nn.MaxPool2d(2),  # 32 -> 16
            nn.Dropout(dropout),
            nn.Conv2d(32, 64, 3, padding=1, padding_mode=padding),
            nn.ReLU(),
            nn.BatchNorm2d(64, eps=1e-5, momentum=0.1),
            nn.MaxPool2d(2),  # 16 -> 8
            nn.Dropout(dropout),
            nn.Flatten(),  # (N, 64 * 8 * 8)
            nn.Linear(64 * side * side, 1024),
            nn.ReLU(),
            nn.Linear(1024, 32),
            nn.ReLU(),
            nn.Linear(32, self.n_outputs),
        )

    def forward(self, x):
        return self.net(x)


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
        # after the ReLU every value is >= 0, so zero padding before the max-pooling is the
        # -inf padding of ResNet's MaxPool2d(3, 2, padding=1)
        pool_pad = nn.CircularPad2d(1) if padding == "circular" else nn.ZeroPad2d(1)
        self.stem = nn.Sequential(
            nn.Conv2d(
                in_channels, stages[0], 7, stride=2, padding=3, padding_mode=padding, bias=False
            ),  # 64 -> 32 px
            nn.BatchNorm2d(stages[0], eps=1e-5, momentum=0.1),
            nn.ReLU(),
            pool_pad,
            nn.MaxPool2d(3, stride=2),  # 32 -> 16 px
        )
        mains, shortcuts, prev = [], [], stages[0]
        for i, width in enumerate(stages):
            for j in range(n_blocks):
                stride = 2 if i > 0 and j == 0 else 1
                mains.append(
                    nn.Sequential(
                        nn.Conv2d(
                            prev,
                            width,
                            3,
                            stride=stride,
                            padding=1,
                            padding_mode=padding,
                            bias=False,
                        ),
                        nn.BatchNorm2d(width, eps=1e-5, momentum=0.1),
                        nn.ReLU(),
                        nn.Conv2d(width, width, 3, padding=1, padding_mode=padding, bias=False),
                        nn.BatchNorm2d(width, eps=1e-5, momentum=0.1),
                    )
                )
                if stride == 1 and prev == width:
                    shortcuts.append(nn.Identity())
                else:
                    shortcuts.append(
                        nn.Sequential(
                            nn.Conv2d(prev, width, 1, stride=stride, bias=False),
                            nn.BatchNorm2d(width, eps=1e-5, momentum=0.1),
                        )
                    )
                prev = width
        self.mains, self.shortcuts = nn.ModuleList(mains), nn.ModuleList(shortcuts)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(prev, self.n_outputs)
        )

    def forward(self, x):
        x = self.stem(x)
        for main, shortcut in zip(self.mains, self.shortcuts, strict=True):
            x = torch.relu(main(x) + shortcut(x))  # a basic block
        return self.head(x)


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
        blocks, prev, side = [], in_channels, image_size
        for ch in channels:
            blocks += [
                nn.Conv2d(prev, ch, 3, padding=1, padding_mode=padding),  # 'same'
                nn.ReLU(),
                _norm(norm, ch, side),
                nn.MaxPool2d(2),
            ]
            prev, side = ch, side // 2
        head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(prev, dense), nn.ReLU()]
        head += [nn.Dropout(dropout)] if dropout else []
        self.net = nn.Sequential(*blocks, *head, nn.Linear(dense, self.n_outputs))

    def forward(self, x):
        out = self.net(x)
        n = self.n_params
        return torch.cat([out[:, :n], nn.functional.softplus(out[:, n:])], dim=1)

    def check_targets(self, y, n: int, name: str | None = None):
        """Targets theta (N, n_params) as float32: the model predicts their means and errors."""
        return check_targets(y, n, name or "y", n_outputs=self.n_params)

    def training_loss(self, x, y, training=False):
        out = self(x).float()
        mu, sigma = out[:, : self.n_params], out[:, self.n_params :]
        squared = (y - mu) ** 2  # (N, n_params)
        loss = torch.log(squared.mean(dim=0)).sum()
        loss = loss + torch.log(((squared - sigma**2) ** 2).mean(dim=0)).sum()
        return loss, {"mae": (mu - y).abs().mean()}
