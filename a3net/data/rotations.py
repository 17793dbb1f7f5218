"""Rotations and flips of image stacks, vectorised (no per-image Python loop).

Chapters D and G ask what rotating a cluster image does to a CNN. Two different things happen
when an image is turned by an arbitrary angle:

- its content turns (the orientation changes), and
- its pixels are re-sampled: interpolation smooths the Poisson noise, and the corners that come
  from outside the original field are filled (with zeros, the nearest edge pixel or a
  reflection), so the distribution of pixel values shifts.

Turns by multiples of 90 degrees (:func:`rotate90`) and flips change only the orientation:
they move pixels without interpolating or filling. :func:`rotate_images` does the general case
with ``scipy.ndimage.map_coordinates`` over the whole stack at once, with the fill modes of
Keras's ``ImageDataGenerator`` and ``RandomRotation``. Angles are in degrees, counter-clockwise
as an image is shown with its first row on top (as ``a3net``'s ``RandomRotation`` layers).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._validation import check_seed

FILL_MODES = {"constant": "constant", "nearest": "nearest", "reflect": "mirror"}
"""Fill modes for pixels that come from outside the image, and scipy's names for them."""

__all__ = ["FILL_MODES", "augment_rotations", "flip_images", "rotate90", "rotate_images"]


def _check_stack(images, name: str = "images") -> np.ndarray:
    try:
        arr = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a numeric array (N, C, H, W), got {type(images).__name__}."
        ) from None
    if arr.ndim != 4 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {arr.shape}.")
    if arr.shape[2] != arr.shape[3]:
        raise ValueError(f"{name} must be square to be rotated, got H x W = {arr.shape[2:]}.")
    return arr


def _per_image(value, n: int, name: str, dtype) -> np.ndarray:
    """``value`` (one for all, or one per image) as an (n,) array of ``dtype``."""
    try:
        arr = np.asarray(value)
        if dtype is int and not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError
        arr = arr.astype(dtype)
    except (TypeError, ValueError):
        kind = "whole numbers" if dtype is int else "true/false values"
        raise TypeError(f"{name} must be {kind}, got {value!r}.") from None
    if arr.ndim > 1 or (arr.ndim == 1 and len(arr) not in (1, n)):
        raise ValueError(f"{name} must be one value or one per image ({n}), got shape {arr.shape}.")
    return np.broadcast_to(arr, (n,))


def rotate_images(images, angles, *, order: int = 1, fill: str = "constant", cval: float = 0.0):
    """Images (N, C, S, S) each turned by its angle in ``angles`` (N,) [deg] about the centre.

    ``order`` 1 is bilinear interpolation (0 nearest pixel, 3 cubic); ``fill`` says what the
    corners that come from outside become: "constant" (``cval``), "nearest" (the edge pixel)
    or "reflect" (a mirror image). Returns float32 of the same shape.
    """
    arr = _check_stack(images)
    if fill not in FILL_MODES:
        raise ValueError(f"fill must be one of {', '.join(FILL_MODES)}, got {fill!r}.")
    try:
        angles = np.asarray(angles, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"angles must be numbers of degrees, got {type(angles).__name__}."
        ) from None
    if angles.ndim > 1 or (angles.ndim == 1 and len(angles) not in (1, len(arr))):
        raise ValueError(
            f"angles must be one angle or one per image ({len(arr)}), got shape {angles.shape}."
        )
    theta = np.deg2rad(np.broadcast_to(angles, (len(arr),)))
    if not np.isfinite(theta).all():
        raise ValueError("angles must be finite numbers of degrees.")
    n, c, size, _ = arr.shape
    centre = (size - 1) / 2
    axis = np.arange(size) - centre
    rows, cols = np.meshgrid(axis, axis, indexing="ij")  # row (y down) and column (x) offsets
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    # counter-clockwise on screen: output (x, -y) = R(theta) input (x, -y); invert for sampling
    src_cols = cos * cols - sin * rows + centre
    src_rows = sin * cols + cos * rows + centre
    # quarter turns land on the grid: remove the 1e-16 rounding that would leave the field
    src_cols, src_rows = (
        np.where(np.abs(v - np.round(v)) < 1e-9, np.round(v), v) for v in (src_cols, src_rows)
    )
    stack = arr.reshape(n * c, size, size)
    index = np.broadcast_to(np.arange(n * c)[:, None, None], stack.shape)
    coords = np.stack([index, np.repeat(src_rows, c, axis=0), np.repeat(src_cols, c, axis=0)])
    out = ndimage.map_coordinates(
        stack, coords, order=order, mode=FILL_MODES[fill], cval=cval, prefilter=order > 1
    )
    return out.reshape(arr.shape).astype(np.float32)


def rotate90(images, k=1):
    """Images (N, C, S, S) turned by ``k`` quarter turns counter-clockwise: one k for all, or
    one per image (N,). No interpolation, nothing filled."""
    arr = _check_stack(images)
    turns = _per_image(k, len(arr), "k", int) % 4
    out = np.empty_like(arr)
    for quarter in range(4):  # four vectorised groups, not a loop over images
        picked = turns == quarter
        out[picked] = np.rot90(arr[picked], quarter, axes=(2, 3))
    return out


def flip_images(images, horizontal, vertical):
    """Images (N, C, H, W) mirrored left-right where ``horizontal`` (N,) and top-bottom where
    ``vertical`` (N,) are true."""
    arr = _check_stack(images).copy()
    h = _per_image(horizontal, len(arr), "horizontal", bool)
    v = _per_image(vertical, len(arr), "vertical", bool)
    arr[h] = arr[h][..., ::-1]
    arr[v] = arr[v][..., ::-1, :]
    return arr


def augment_rotations(
    images,
    targets,
    copies: int,
    *,
    rotation_range: float = 360.0,
    flips: bool = True,
    fill: str = "nearest",
    seed=0,
):
    """``copies`` randomly turned (and flipped) versions of every image, as Keras's
    ``ImageDataGenerator(rotation_range=..., horizontal_flip=True, vertical_flip=True)``
    draws them: angles uniform in [-rotation_range, rotation_range] deg (Keras's convention),
    bilinear, ``fill`` "nearest" (its default). Returns (images, targets), each ``copies`` times
    longer; the originals are not included.
    """
    arr = _check_stack(images)
    y = np.asarray(targets)
    if len(y) != len(arr):
        raise ValueError(f"targets has {len(y)} rows but images has {len(arr)}; they must match.")
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"copies must be a whole number of at least 1, got {copies!r}.")
    rng = np.random.default_rng(check_seed(seed))
    stack = np.concatenate([arr] * copies)
    angles = rng.uniform(-rotation_range, rotation_range, len(stack))
    out = rotate_images(stack, angles, fill=fill)
    if flips:
        out = flip_images(out, rng.random(len(out)) < 0.5, rng.random(len(out)) < 0.5)
    return out, np.concatenate([y] * copies)
