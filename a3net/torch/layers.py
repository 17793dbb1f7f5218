"""Layers one framework lacks, written here so that both have them (PyTorch side).

``RandomRotation`` is Keras's layer of that name, rebuilt for PyTorch (torchvision is not a
dependency); ``RandomFlip`` flips each axis on its own (Keras's
``RandomFlip("horizontal_and_vertical")`` draws one coin per image for both axes, so it flips
both or neither); ``P4ConvZ2``, ``P4ConvP4`` and ``P4Pool`` are the p4 group convolutions of
Cohen & Welling (2016), rotation-equivariant to 90-degree turns, written for both frameworks so
that the equivariant CNN needs no PyTorch-only library (e2cnn covers finer rotation groups);
``P4MConvZ2``, ``P4MConvP4M`` and ``P4MPool`` are their p4m twins, equivariant to quarter turns
and mirror flips (the dihedral group D4 of the square, 8 elements). Images are (N, C, H, W); p4
feature maps are (N, C, 4, H, W), the third axis the rotation; p4m maps (N, C, 8, H, W), the
third axis the group element g = 4 m + r: the kernel mirrored left-right m times (0 or 1), then
turned r quarter turns counter-clockwise.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._validation import check_conv_shape, rotation_range

FILL_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


class RandomRotation(nn.Module):
    """Rotates every image by its own random angle while training; the identity otherwise.

    Angles are uniform over ``factor`` x 360 degrees (Keras's convention), counter-clockwise as
    an image is shown with its first row on top; bilinear interpolation about the image centre.
    Pixels that come from outside the image take ``fill_value`` (``fill_mode="constant"``), the
    nearest edge pixel (``"nearest"``) or their mirror image about the edge (``"reflect"``,
    d c b a | a b c d | d c b a), as Keras's fill modes of those names do.
    """

    def __init__(
        self,
        factor=0.5,
        fill_value: float = 0.0,
        seed: int | None = None,
        fill_mode: str = "constant",
    ):
        super().__init__()
        self.low, self.high = rotation_range(factor)
        self.fill_value = float(fill_value)
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"fill_mode must be one of {', '.join(map(repr, FILL_MODES))}, got {fill_mode!r}."
            )
        self.fill_mode = fill_mode
        self.generator = None if seed is None else torch.Generator().manual_seed(int(seed))

    def forward(self, x):
        if not self.training:
            return x
        u = torch.rand(len(x), generator=self.generator).to(x.device, x.dtype)
        return self.rotate(x, self.low + (self.high - self.low) * u)

    def rotate(self, x, angles):
        """Images x (N, C, H, W) turned by ``angles`` (N,) degrees counter-clockwise."""
        n, _, height, width = x.shape
        theta = torch.deg2rad(torch.as_tensor(angles, dtype=x.dtype, device=x.device))
        cos, sin = torch.cos(theta), torch.sin(theta)
        aspect = (height - 1) / max(width - 1, 1)
        # output pixel (u, v) in [-1, 1] reads the input at R(theta) (u, v), in pixel units
        matrix = torch.stack(
            [
                torch.stack([cos, -sin / aspect, torch.zeros_like(cos)], dim=1),
                torch.stack([sin * aspect, cos, torch.zeros_like(cos)], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(matrix, [n, 1, height, width], align_corners=True)
        # from pixel centres at -1, 1 (align_corners=True) to pixel edges at -1, 1, so that
        # "reflect" mirrors about the edge as TensorFlow does, not about the last pixel's centre
        grid = grid * grid.new_tensor([(width - 1) / width, (height - 1) / height])
        padding = FILL_MODES[self.fill_mode]
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=False)
        if self.fill_value and self.fill_mode == "constant":
            inside = F.grid_sample(
                torch.ones_like(x[:, :1]),
                grid,
                mode="bilinear",
                padding_mode="zeros",
                align_corners=False,
            )
            out = out + self.fill_value * (1 - inside)
        return out


class RandomFlip(nn.Module):
    """Flips every image left-right with probability 1/2 and, independently, top-bottom with
    probability 1/2 while training; the identity otherwise. Images (N, C, H, W)."""

    def __init__(self, seed: int | None = None):
        super().__init__()
        self.generator = None if seed is None else torch.Generator().manual_seed(int(seed))

    def forward(self, x):
        if not self.training:
            return x
        flips = torch.rand(len(x), 2, generator=self.generator).to(x.device) < 0.5
        x = torch.where(flips[:, 0, None, None, None], x.flip(-1), x)  # left-right
        return torch.where(flips[:, 1, None, None, None], x.flip(-2), x)  # top-bottom


def _kaiming_uniform(shape, fan_in) -> nn.Parameter:
    bound = 1 / math.sqrt(fan_in)  # nn.Conv2d's default initialisation
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class P4ConvZ2(nn.Module):
    """Lifting p4 convolution: images (N, in, H, W) -> p4 maps (N, out, 4, H, W).

    One k x k kernel per (out, in) pair, applied at the four 90-degree turns; 'same' padding,
    one bias per output channel. Turning the input by 90 degrees turns every output map and
    shifts the rotation axis by one.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.in_channels, self.out_channels, k = check_conv_shape(
            in_channels, out_channels, kernel_size
        )
        self.kernel_size = k
        self.weight = _kaiming_uniform((out_channels, in_channels, k, k), in_channels * k * k)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x):
        k, out = self.kernel_size, self.out_channels
        turned = torch.stack([torch.rot90(self.weight, r, dims=(-2, -1)) for r in range(4)], 1)
        y = F.conv2d(x, turned.reshape(out * 4, self.in_channels, k, k), padding=k // 2)
        y = y.view(len(x), out, 4, *y.shape[-2:])
        return y + self.bias[None, :, None, None, None]


class P4ConvP4(nn.Module):
    """p4 group convolution: p4 maps (N, in, 4, H, W) -> p4 maps (N, out, 4, H, W).

    One k x k kernel per (out, in, input rotation); at output rotation r the kernel is turned
    r times and its rotation axis shifted by r (Cohen & Welling 2016, eq. 12).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.in_channels, self.out_channels, k = check_conv_shape(
            in_channels, out_channels, kernel_size
        )
        self.kernel_size = k
        self.weight = _kaiming_uniform(
            (out_channels, in_channels, 4, k, k), in_channels * 4 * k * k
        )
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x):
        k, n_in, out = self.kernel_size, self.in_channels, self.out_channels
        turned = torch.stack(
            [torch.rot90(torch.roll(self.weight, r, dims=2), r, dims=(-2, -1)) for r in range(4)],
            dim=1,
        )  # (out, 4, in, 4, k, k)
        y = F.conv2d(
            x.reshape(len(x), n_in * 4, *x.shape[-2:]),
            turned.reshape(out * 4, n_in * 4, k, k),
            padding=k // 2,
        )
        y = y.view(len(x), out, 4, *y.shape[-2:])
        return y + self.bias[None, :, None, None, None]


class P4Pool(nn.Module):
    """Maximum over the four rotations: p4 maps (N, C, 4, H, W) -> images (N, C, H, W)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return x.amax(dim=2)


def _d4_product(g: int, h: int) -> int:
    """The element g h of D4, elements g = 4 m + r standing for (turn by r) (mirror m times);
    a mirror reverses the turns it is moved past: mirror turn = turn^-1 mirror."""
    (mg, rg), (mh, rh) = divmod(g, 4), divmod(h, 4)
    return 4 * (mg ^ mh) + (rg + (-rh if mg else rh)) % 4


def _d4_inverse(g: int) -> int:
    mirror, turns = divmod(g, 4)
    return g if mirror else -turns % 4  # mirrors are their own inverses


# row g: for each input element g', the element g^-1 g' of the kernel's group axis that the
# filter of output element g reads there (row r of p4 would be the roll by r)
_D4_PERMUTATIONS = [[_d4_product(_d4_inverse(g), h) for h in range(8)] for g in range(8)]


def _d4_transform(w, g: int):
    """w (..., k, k) mirrored left-right if g >= 4, then turned g mod 4 quarter turns."""
    mirror, turns = divmod(g, 4)
    return torch.rot90(w.flip(-1) if mirror else w, turns, dims=(-2, -1))


class P4MConvZ2(P4ConvZ2):
    """Lifting p4m convolution: images (N, in, H, W) -> p4m maps (N, out, 8, H, W).

    One k x k kernel per (out, in) pair, applied at its four quarter turns and those of its
    mirror image; 'same' padding, one bias per output channel. Turning or mirroring the input
    (element h) transforms every output map by h and moves group element g to h g. Its weights
    are :class:`P4ConvZ2`'s; only the group they are applied over differs.
    """

    def forward(self, x):
        k, out = self.kernel_size, self.out_channels
        filters = torch.stack([_d4_transform(self.weight, g) for g in range(8)], 1)
        y = F.conv2d(x, filters.reshape(out * 8, self.in_channels, k, k), padding=k // 2)
        y = y.view(len(x), out, 8, *y.shape[-2:])
        return y + self.bias[None, :, None, None, None]


class P4MConvP4M(nn.Module):
    """p4m group convolution: p4m maps (N, in, 8, H, W) -> p4m maps (N, out, 8, H, W).

    One k x k kernel per (out, in, input group element); at output element g the kernel is
    transformed by g and its group axis permuted by g (the regular representation of D4: slot
    g' reads the kernel's g^-1 g'), as ``P4ConvP4`` turns and rolls it.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.in_channels, self.out_channels, k = check_conv_shape(
            in_channels, out_channels, kernel_size
        )
        self.kernel_size = k
        self.weight = _kaiming_uniform(
            (out_channels, in_channels, 8, k, k), in_channels * 8 * k * k
        )
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x):
        k, n_in, out = self.kernel_size, self.in_channels, self.out_channels
        filters = torch.stack(
            [_d4_transform(self.weight[:, :, _D4_PERMUTATIONS[g]], g) for g in range(8)], dim=1
        )  # (out, 8, in, 8, k, k)
        y = F.conv2d(
            x.reshape(len(x), n_in * 8, *x.shape[-2:]),
            filters.reshape(out * 8, n_in * 8, k, k),
            padding=k // 2,
        )
        y = y.view(len(x), out, 8, *y.shape[-2:])
        return y + self.bias[None, :, None, None, None]


class P4MPool(nn.Module):
    """Maximum over the eight group elements: p4m maps (N, C, 8, H, W) -> images (N, C, H, W)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return x.amax(dim=2)
