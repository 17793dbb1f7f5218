"""Layers one framework lacks, written here so that both have them (Keras side).

``RandomRotation`` is Keras's own layer with a3net's arguments (constant fill by default,
bilinear) and a ``rotate`` method for given angles; ``RandomFlip`` flips each axis on its own
(Keras's ``RandomFlip("horizontal_and_vertical")`` draws one coin per image for both axes, so it
flips both or neither); ``P4ConvZ2``, ``P4ConvP4`` and ``P4Pool`` are the p4 group
convolutions of Cohen & Welling (2016), the Keras twin of what e2cnn offers PyTorch for 90-degree
turns; ``P4MConvZ2``, ``P4MConvP4M`` and ``P4MPool`` are their p4m twins, equivariant to quarter
turns and mirror flips (the dihedral group D4 of the square, 8 elements). Layers work channels
last, as every layer inside an a3net.keras model: images (N, H, W, C); p4 feature maps
(N, H, W, C, 4), the last axis the rotation; p4m maps (N, H, W, C, 8), the last axis the group
element g = 4 m + r: the kernel mirrored left-right m times (0 or 1), then turned r quarter turns
counter-clockwise.
"""

from __future__ import annotations

import keras
from keras import ops

from .._validation import check_conv_shape, rotation_range

FILL_MODES = ("constant", "nearest", "reflect")


class RandomRotation(keras.layers.RandomRotation):
    """Rotates every image by its own random angle while training; the identity otherwise.

    Angles are uniform over ``factor`` x 360 degrees, counter-clockwise as an image is shown
    with its first row on top; bilinear interpolation about the image centre. Pixels that come
    from outside the image take ``fill_value`` (``fill_mode="constant"``), the nearest edge pixel
    (``"nearest"``) or their mirror image about the edge (``"reflect"``, d c b a | a b c d |
    d c b a).
    """

    def __init__(
        self,
        factor=0.5,
        fill_value: float = 0.0,
        seed: int | None = None,
        fill_mode: str = "constant",
    ):
        self.low, self.high = rotation_range(factor)
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"fill_mode must be one of {', '.join(map(repr, FILL_MODES))}, got {fill_mode!r}."
            )
        super().__init__(
            (self.low / 360, self.high / 360),
            fill_mode=fill_mode,
            interpolation="bilinear",
            seed=seed,
            fill_value=float(fill_value),
        )

    def call(self, x, training=True):
        """Images (N, H, W, C), each turned by a random angle when ``training``."""
        return super().call(x, training=training)

    def rotate(self, x, angles):
        """Images x (N, H, W, C) turned by ``angles`` (N,) degrees counter-clockwise."""
        angles = ops.convert_to_tensor(angles, dtype="float32")
        n, height, width = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
        zeros, ones = ops.zeros([n]), ops.ones([n])
        matrix = self._compute_affine_matrix(
            center_x=0.5,
            center_y=0.5,
            angle=angles,
            translate_x=zeros,
            translate_y=zeros,
            scale=ones,
            shear_x=zeros,
            shear_y=zeros,
            height=height,
            width=width,
        )
        return self._transform_images(x, {"rotation_matrix": matrix}, "bilinear")


class RandomFlip(keras.layers.Layer):
    """Flips every image left-right with probability 1/2 and, independently, top-bottom with
    probability 1/2 while training; the identity otherwise. Images (N, H, W, C)."""

    def __init__(self, seed: int | None = None):
        super().__init__()
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=True):
        if not training:
            return x
        flips = keras.random.uniform((ops.shape(x)[0], 2, 1, 1, 1), seed=self.generator) < 0.5
        x = ops.where(flips[:, 0], ops.flip(x, axis=2), x)  # left-right
        return ops.where(flips[:, 1], ops.flip(x, axis=1), x)  # top-bottom


def _rot90(kernel, times: int):
    """``kernel`` (k, k, ...) turned ``times`` x 90 degrees from its first axis to its second,
    as numpy.rot90 and torch.rot90 do."""
    for _ in range(times % 4):
        axes = list(range(len(kernel.shape)))
        axes[0], axes[1] = 1, 0
        kernel = ops.transpose(ops.flip(kernel, axis=1), axes)
    return kernel


class P4ConvZ2(keras.layers.Layer):
    """Lifting p4 convolution: images (N, H, W, in) -> p4 maps (N, H, W, out, 4).

    One k x k kernel per (in, out) pair, applied at the four 90-degree turns; 'same' padding,
    one bias per output channel. Turning the input by 90 degrees turns every output map and
    shifts the rotation axis by one.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.in_channels, self.out_channels, k = check_conv_shape(
            in_channels, out_channels, kernel_size
        )
        self.kernel_size = k
        self.kernel = self.add_weight(
            shape=(k, k, in_channels, out_channels), initializer="glorot_uniform", name="kernel"
        )
        self.bias = self.add_weight(shape=(out_channels,), initializer="zeros", name="bias")

    def call(self, x):
        k, out = self.kernel_size, self.out_channels
        turned = ops.stack([_rot90(self.kernel, r) for r in range(4)], axis=-1)
        y = ops.conv(x, ops.reshape(turned, (k, k, self.in_channels, out * 4)), padding="same")
        y = ops.reshape(y, (-1, y.shape[1], y.shape[2], out, 4))
        return y + self.bias[:, None]


class P4ConvP4(keras.layers.Layer):
    """p4 group convolution: p4 maps (N, H, W, in, 4) -> p4 maps (N, H, W, out, 4).

    One k x k kernel per (in, input rotation, out); at output rotation r the kernel is turned
    r times and its rotation axis shifted by r (Cohen & Welling 2016, eq. 12).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.in_channels, self.out_channels, k = check_conv_shape(
            in_channels, out_channels, kernel_size
        )
        self.kernel_size = k
        self.kernel = self.add_weight(
            shape=(k, k, in_channels, 4, out_channels), initializer="glorot_uniform", name="kernel"
        )
        self.bias = self.add_weight(shape=(out_channels,), initializer="zeros", name="bias")

    def call(self, x):
        k, n_in, out = self.kernel_size, self.in_channels, self.out_channels
        turned = ops.stack(
            [_rot90(ops.roll(self.kernel, r, axis=3), r) for r in range(4)], axis=-1
        )  # (k, k, in, 4, out, 4)
        flat = ops.reshape(x, (-1, x.shape[1], x.shape[2], n_in * 4))
        y = ops.conv(flat, ops.reshape(turned, (k, k, n_in * 4, out * 4)), padding="same")
        y = ops.reshape(y, (-1, y.shape[1], y.shape[2], out, 4))
        return y + self.bias[:, None]


class P4Pool(keras.layers.Layer):
    """Maximum over the four rotations: p4 maps (N, H, W, C, 4) -> images (N, H, W, C)."""

    def __init__(self):
        super().__init__()

    def call(self, x):
        return ops.max(x, axis=-1)


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


def _d4_transform(kernel, g: int):
    """``kernel`` (k, k, ...) mirrored left-right if g >= 4, then turned g mod 4 quarter turns."""
    mirror, turns = divmod(g, 4)
    return _rot90(ops.flip(kernel, axis=1) if mirror else kernel, turns)


class P4MConvZ2(P4ConvZ2):
    """Lifting p4m convolution: images (N, H, W, in) -> p4m maps (N, H, W, out, 8).

    One k x k kernel per (in, out) pair, applied at its four quarter turns and those of its
    mirror image; 'same' padding, one bias per output channel. Turning or mirroring the input
    (element h) transforms every output map by h and moves group element g to h g. Its weights
    are :class:`P4ConvZ2`'s; only the group they are applied over differs.
    """

    def call(self, x):
        k, out = self.kernel_size, self.out_channels
        filters = ops.stack([_d4_transform(self.kernel, g) for g in range(8)], axis=-1)
        y = ops.conv(x, ops.reshape(filters, (k, k, self.in_channels, out * 8)), padding="same")
        y = ops.reshape(y, (-1, y.shape[1], y.shape[2], out, 8))
        return y + self.bias[:, None]


class P4MConvP4M(keras.layers.Layer):
    """p4m group convolution: p4m maps (N, H, W, in, 8) -> p4m maps (N, H, W, out, 8).

    One k x k kernel per (in, input group element, out); at output element g the kernel is
    transformed by g and its group axis permuted by g (the regular representation of D4: slot
    g' reads the kernel's g^-1 g'), as ``P4ConvP4`` turns and rolls it.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.in_channels, self.out_channels, k = check_conv_shape(
            in_channels, out_channels, kernel_size
        )
        self.kernel_size = k
        self.kernel = self.add_weight(
            shape=(k, k, in_channels, 8, out_channels), initializer="glorot_uniform", name="kernel"
        )
        self.bias = self.add_weight(shape=(out_channels,), initializer="zeros", name="bias")

    def call(self, x):
        k, n_in, out = self.kernel_size, self.in_channels, self.out_channels
        filters = ops.stack(
            [
                _d4_transform(ops.take(self.kernel, _D4_PERMUTATIONS[g], axis=3), g)
                for g in range(8)
            ],
            axis=-1,
        )  # (k, k, in, 8, out, 8)
        flat = ops.reshape(x, (-1, x.shape[1], x.shape[2], n_in * 8))
        y = ops.conv(flat, ops.reshape(filters, (k, k, n_in * 8, out * 8)), padding="same")
        y = ops.reshape(y, (-1, y.shape[1], y.shape[2], out, 8))
        return y + self.bias[:, None]


class P4MPool(keras.layers.Layer):
    """Maximum over the eight group elements: p4m maps (N, H, W, C, 8) -> images (N, H, W, C)."""

    def __init__(self):
        super().__init__()

    def call(self, x):
        return ops.max(x, axis=-1)
