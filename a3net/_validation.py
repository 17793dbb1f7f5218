"""Input checks shared by both framework variants: one clear sentence per bad argument."""

from __future__ import annotations

import numpy as np


def as_float_array(
    value,
    name: str,
    *,
    shape_tail: tuple | None = None,
    ndim: int | None = None,
    allow_nan: bool = False,
) -> np.ndarray:
    """``value`` as a float32 NumPy array, checked for dimensions, trailing shape and NaN."""
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}.") from None
    if ndim is not None and arr.ndim != ndim:
        expected = f"(N, {', '.join(map(str, shape_tail))})" if shape_tail else f"{ndim} dimensions"
        raise ValueError(f"{name} must have shape {expected}, got an array of shape {arr.shape}.")
    if shape_tail is not None and tuple(arr.shape[1:]) != tuple(shape_tail):
        raise ValueError(
            f"{name} must have shape (N, {', '.join(map(str, shape_tail))}) (channels first), "
            f"got {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass at least one sample.")
    if not allow_nan and not np.isfinite(arr).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; clean or drop those samples first."
        )
    return arr


def check_targets(
    y,
    n: int,
    name: str = "y",
    *,
    classification: bool = False,
    n_classes: int | None = None,
    n_outputs: int | None = None,
) -> np.ndarray:
    """Targets for ``n`` samples: class indices (int64) or float32 targets (N, n_outputs)."""
    if y is None:
        raise ValueError(f"{name} is required for this model.")
    arr = np.asarray(y)
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} rows but the inputs have {n}; they must match.")
    if classification:
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            if (
                arr.ndim == 1
                and np.issubdtype(arr.dtype, np.floating)
                and np.all(np.mod(arr, 1) == 0)
            ):
                arr = arr.astype(np.int64)
            else:
                raise ValueError(
                    f"{name} must be a 1-D array of integer class labels, got shape "
                    f"{arr.shape} and dtype {arr.dtype}."
                )
        if arr.min() < 0 or (n_classes is not None and arr.max() >= n_classes):
            raise ValueError(
                f"{name} must hold class labels in [0, {n_classes - 1}], got values from "
                f"{arr.min()} to {arr.max()}."
            )
        return arr.astype(np.int64)
    arr = as_float_array(arr, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if n_outputs is not None and arr.shape[1:] != (n_outputs,):
        raise ValueError(f"{name} must have shape (N, {n_outputs}), got {arr.shape}.")
    return arr


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def check_channels(channels, name: str = "channels") -> tuple[int, ...]:
    try:
        values = tuple(channels)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of positive integers, got {channels!r}."
        ) from None
    if not values:
        raise ValueError(f"{name} must not be empty.")
    for v in values:
        check_positive_int(v, name)
    return tuple(int(v) for v in values)


def check_rate(value, name: str) -> float:
    if not isinstance(value, (int, float, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}.")
    return float(value)


def rotation_range(factor) -> tuple[float, float]:
    """(low, high) rotation in degrees from Keras's ``factor``: a fraction of a full turn,
    either one number f (angles in [-f, f] x 360) or a pair (low, high) x 360."""
    pair = (-factor, factor) if isinstance(factor, (int, float)) else tuple(factor)
    if (
        len(pair) != 2
        or not all(isinstance(v, (int, float)) for v in pair)
        or not (-1 <= pair[0] <= pair[1] <= 1)
    ):
        raise ValueError(
            f"factor must be a fraction of a full turn in [0, 1] or a pair (low, high) "
            f"within [-1, 1], got {factor!r}."
        )
    return 360.0 * pair[0], 360.0 * pair[1]


def check_conv_shape(in_channels, out_channels, kernel_size) -> tuple[int, int, int]:
    """Channels in and out and an odd kernel size ('same' padding that keeps rotations exact)."""
    k = check_positive_int(kernel_size, "kernel_size")
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd for 'same' padding, got {k}.")
    return (
        check_positive_int(in_channels, "in_channels"),
        check_positive_int(out_channels, "out_channels"),
        k,
    )


def check_non_negative(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating))
        or (not value >= 0)
    ):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return float(value)


def valid_conv_side(image_size: int, blocks) -> int:
    """Side of the feature maps after ``blocks``: each a number of 3x3 'valid' convolutions
    followed by a 2x2 max-pooling (pool=True) or not; ValueError if a map would vanish."""
    side = image_size
    for n_convs, pool in blocks:
        side -= 2 * n_convs
        if pool:
            side //= 2
        if side < 1:
            raise ValueError(
                f"image_size is too small for {len(blocks)} blocks of 3x3 'valid' convolutions "
                f"and 2x2 poolings, got {image_size}; use larger images or fewer blocks."
            )
    return side


OUTPUT_ACTIVATIONS = ("linear", "softplus")


def check_output_activation(output) -> str:
    """``output``, the activation of a regressor's last layer: "linear" or "softplus"."""
    if output not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"output must be 'linear' or 'softplus', got {output!r}.")
    return output


def check_option(value, name: str, options) -> str:
    """``value`` if it is one of the strings ``options``; ValueError naming them otherwise."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}.")
    return value


def check_side_multiple(image_size, stride: int, what: str) -> int:
    """``image_size`` as an int, a multiple of the total ``stride`` of the network ``what``."""
    image_size = check_positive_int(image_size, "image_size")
    if image_size % stride:
        raise ValueError(
            f"image_size must be a multiple of {stride} for {what}, got {image_size}; "
            "crop or resample the maps."
        )
    return image_size


def check_positive_number(value, name: str) -> float:
    """``value`` as a positive finite float; TypeError or ValueError naming ``name`` otherwise."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not np.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return out


SEED_LIMIT = 2**32
"""Seeds are whole numbers in [0, 2**32): what NumPy, torch and TensorFlow all accept."""


def check_seed(seed, name: str = "seed", *, generator: bool = False, none: bool = False):
    """``seed`` as a Python int in [0, 2**32) (NumPy integers accepted); with ``generator`` a
    ``numpy.random.Generator`` is passed through, with ``none`` so is None. Bools, floats,
    strings and negative or too large numbers get a TypeError or ValueError naming ``name``."""
    if generator and isinstance(seed, np.random.Generator):
        return seed
    if none and seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        kinds = "a whole number in [0, 2**32)"
        if generator:
            kinds += " or a numpy Generator"
        raise TypeError(f"{name} must be {kinds}, got {type(seed).__name__} {seed!r}.")
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name} must be a whole number in [0, 2**32), got {seed}.")
    return int(seed)


MEMORY_ENV = "A3NET_MAX_GB"
DEFAULT_MAX_GB = 8.0
_GIB = 2.0**30


def memory_limit_gb() -> float:
    """The memory limit of :func:`check_memory` in GiB: ``A3NET_MAX_GB`` or 8."""
    import os

    raw = os.environ.get(MEMORY_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_GB
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"the environment variable {MEMORY_ENV} must be a positive number of GiB, got {raw!r}."
        )
    return value


def check_memory(n_bytes, what: str, *, limit: float | None = None) -> float:
    """Refuse, before allocating, work that needs more than ``limit`` GiB (default: the
    environment variable ``A3NET_MAX_GB``, else 8): a MemoryError that says how much ``what``
    needs and how to raise the limit. Returns the estimate in GiB."""
    gib = float(n_bytes) / _GIB
    limit = memory_limit_gb() if limit is None else float(limit)
    if not gib <= limit:
        raise MemoryError(
            f"{what} would need about {gib:.3g} GiB of memory, above the limit of {limit:g} GiB; "
            f"use smaller sizes or raise the limit with the environment variable {MEMORY_ENV}."
        )
    return gib
