"""Chapters D and G models (PyTorch): galaxy-cluster masses from mock X-ray images.

Inputs are photon-count images (N, 1, S, S), S = ``image_size``; outputs (N, n_outputs), the
standardised log10 M500c. ``ClusterCNN`` is the CNN of Ntampaka et al. (2019) and hack G's;
``DeepClusterCNN`` is hack D's deeper CNN with optional random-rotation and flip layers;
``EquivariantClusterCNN`` is a p4 (90-degree) group-equivariant CNN built with e2cnn (or, where
e2cnn is not installed, with a3net's own p4 layers, as the Keras twin is), whose output does not
change when the image is turned by a multiple of 90 degrees; with ``group="p4m"`` it is built
from a3net's own p4m layers and does not change when the image is mirrored either; with
``group="plain"`` it is the same network with ordinary convolutions, its non-equivariant twin.
The Keras twins in ``a3net.keras.clusters`` have the same names, arguments and
trainable-parameter counts.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn
from torch.nn import functional as F

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

# e2cnn 0.2.3 indexes with uint8 masks, which torch 2 warns about for every convolution it builds
warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8", category=UserWarning)


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
        blocks, prev = [], 1
        for ch in channels:
            blocks += [nn.Conv2d(prev, ch, 3), nn.ReLU(), nn.MaxPool2d(2)]  # 'valid'
            prev = ch
        head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout)]  # (N, channels[-1])
        for i, width in enumerate(dense):
            head += [nn.Linear(prev, width), nn.ReLU()] + ([nn.Dropout(dropout)] if i == 0 else [])
            prev = width
        head.append(nn.Linear(prev, self.n_outputs))
        if output == "softplus":
            head.append(nn.Softplus())
        self.net = nn.Sequential(*blocks, *head)

    def forward(self, x):
        return self.net(x)


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
        augment = []
        if rotation_factor > 0:
            augment.append(RandomRotation(rotation_factor, fill_mode=fill_mode))
        if random_flip:
            augment.append(RandomFlip())
        self.net = nn.Sequential(
            *augment,
            nn.Conv2d(1, c1, 3),  # 'valid': 64 -> 62
            nn.ReLU(),
            nn.Conv2d(c1, c1, 3),  # 62 -> 60
            nn.ReLU(),
            nn.MaxPool2d(2),  # 60 -> 30
            nn.Conv2d(c1, c2, 3),  # 30 -> 28
            nn.ReLU(),
            nn.Conv2d(c2, c2, 3),  # 28 -> 26
            nn.ReLU(),
            nn.MaxPool2d(2),  # 26 -> 13
            nn.Conv2d(c2, c3, 3),  # 13 -> 11
            nn.ReLU(),
            nn.Conv2d(c3, c3, 3),  # 11 -> 9
            nn.ReLU(),
            nn.AvgPool2d(4, stride=4) if side >= 4 else nn.Identity(),  # 9 -> 2
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # (N, c3)
            nn.Dropout(dropout),
            nn.Linear(c3, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, 1),
        )

    def forward(self, x):
        return self.net(x)


class EquivariantClusterCNN(Regressor):
    """p4-equivariant CNN of cluster mass (Cohen & Welling 2016) with e2cnn: images
    (N, 1, S, S) -> (N, 1), exactly the same for an image turned by 90, 180 or 270 degrees.

    A lifting convolution turns the image into ``channels[0]`` regular fields of the rotation
    group C4 (four maps each, one per 90-degree turn of the kernel); group convolutions map
    fields to fields; each 3x3 convolution ('same' padding) is followed by ReLU and 2x2
    max-pooling (64 -> 32 -> 16 -> 8 px, so ``image_size`` must be a multiple of
    2**len(channels)). Group pooling (the maximum over the four turns) leaves maps that turn
    with the image; global average pooling makes them invariant; dropout and dense ReLU layers
    ``dense`` then give a linear output. Built with e2cnn (``pip install 'a3net[e2cnn]'``) where
    it is installed; without it, from a3net's own ``P4ConvZ2``, ``P4ConvP4`` and ``P4Pool``, as
    the Keras twin is: the same network, the same number of weights (only the initial weights
    are drawn differently). ``implementation`` says which was used.

    ``group="p4m"`` adds the mirror flips (the dihedral group D4 of the square): eight maps per
    channel, one per quarter turn of the kernel and of its mirror image, from a3net's own
    ``P4MConvZ2``, ``P4MConvP4M`` and ``P4MPool``; the output is then also the same for the
    mirrored image. Its group convolutions have twice the weights of p4's (36 -> 72 per pair of
    channels) and its maps twice the values.

    ``group="plain"`` is the same network without a group: ordinary 3x3 convolutions
    (``nn.Conv2d``, 'same' padding, one map per channel) in place of the group convolutions,
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
        if group == "plain":  # the non-equivariant twin: ordinary convolutions, (N, C, S, S) maps
            self.implementation = "plain convolutions"
            self.equivariant = None
            self.plain = nn.ModuleList([nn.Conv2d(1, channels[0], 3, padding=1)])
            self.plain.extend(
                nn.Conv2d(a, b, 3, padding=1) for a, b in zip(channels, channels[1:], strict=False)
            )
        elif group == "p4m":
            # a3net's own layers, not e2cnn's FlipRot2dOnR2(N=4): e2cnn 0.2.3 cannot build a
            # convolution between its regular fields under NumPy 2 (its D4 kernel basis calls
            # np.array(..., copy=False) on a float), and these layers are the Keras twin's
            self.implementation = "a3net p4m layers"
            self.equivariant = None
            self.p4m = nn.ModuleList([P4MConvZ2(1, channels[0])])  # (N, C, 8, S, S) maps
            self.p4m.extend(P4MConvP4M(a, b) for a, b in zip(channels, channels[1:], strict=False))
            self.group_pool = P4MPool()  # maximum over the eight turns and flips
        else:
            try:
                from e2cnn import gspaces
                from e2cnn import nn as enn
            except ImportError:  # a3net's own p4 layers: the Keras twin's network
                self.implementation = "a3net p4 layers (e2cnn is not installed)"
                self.equivariant = None
                self.p4 = nn.ModuleList([P4ConvZ2(1, channels[0])])  # (N, C, 4, S, S) maps
                self.p4.extend(P4ConvP4(a, b) for a, b in zip(channels, channels[1:], strict=False))
                self.group_pool = P4Pool()  # maximum over the four turns
            else:
                self.implementation = "e2cnn"
                self.equivariant = self._e2cnn(gspaces, enn, channels)
        head, prev = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout)], channels[-1]
        for i, width in enumerate(dense):
            head += [nn.Linear(prev, width), nn.ReLU()] + ([nn.Dropout(dropout)] if i == 0 else [])
            prev = width
        self.head = nn.Sequential(*head, nn.Linear(prev, 1))

    @staticmethod
    def _e2cnn(gspaces, enn, channels):
        c4 = gspaces.Rot2dOnR2(N=4)  # the four 90-degree turns of the plane
        field = enn.FieldType(c4, [c4.trivial_repr])  # the image: one scalar field
        blocks = []
        for ch in channels:
            out = enn.FieldType(c4, ch * [c4.regular_repr])  # ch fields of 4 maps each
            blocks += [
                # kernels on rings through the 3x3 grid's centre, edge and corner pixels, with
                # angular frequencies up to 2 on the edge ring and 1 on the corner ring: 9 numbers
                # per (scalar, regular) pair of fields and 36 per (regular, regular) pair, which
                # span all p4 kernels, as the Keras twin's do (e2cnn's defaults give 6 and 24)
                enn.R2Conv(
                    field,
                    out,
                    3,
                    padding=1,
                    rings=[0.0, 1.0, math.sqrt(2)],
                    frequencies_cutoff=lambda radius: 2 if radius < 1.2 else 1,
                ),
                enn.ReLU(out),
                enn.PointwiseMaxPool(out, 2),
            ]
            field = out
        return enn.SequentialModule(*blocks, enn.GroupPooling(field))

    def forward(self, x):
        if self.group == "plain":
            for conv in self.plain:
                x = F.max_pool2d(torch.relu(conv(x)), 2)  # (N, C, H, W)
            return self.head(x)
        if self.equivariant is None:
            for conv in self.p4m if self.group == "p4m" else self.p4:
                x = torch.relu(conv(x))  # (N, C, 4 or 8, H, W)
                n, c, r, h, w = x.shape
                x = F.max_pool2d(x.reshape(n, c * r, h, w), 2).view(n, c, r, h // 2, w // 2)
            return self.head(self.group_pool(x))
        from e2cnn.nn import GeometricTensor  # loaded by __init__

        maps = self.equivariant(GeometricTensor(x, self.equivariant.in_type)).tensor
        return self.head(maps)  # maps (N, channels[-1], S / 2**len(channels), same)
