"""A straightforward ring renderer, dot by dot in Python, as the original hack drew its images.

Kept as the reference for the vectorised simulator: tests check that both give the same image
for the same hits, and ``make bench`` measures the speed-up.
"""

from __future__ import annotations

import math

import numpy as np


def render_hits_reference(hx, hy, width, valid, *, image_size: int = 28) -> np.ndarray:
    """Same result as ``rings.render_hits`` with Python loops over images, hits and pixels."""
    n = len(hx)
    out = np.zeros((n, 1, image_size, image_size), np.float32)
    for i in range(n):
        image = [[0.0] * image_size for _ in range(image_size)]
        for h in range(len(hx[i])):
            if not valid[i][h]:
                continue
            s = math.sqrt(2.0) * width[i][h]
            wx = [
                0.5 * (math.erf((j + 0.5 - hx[i][h]) / s) - math.erf((j - 0.5 - hx[i][h]) / s))
                for j in range(image_size)
            ]
            wy = [
                0.5 * (math.erf((j + 0.5 - hy[i][h]) / s) - math.erf((j - 0.5 - hy[i][h]) / s))
                for j in range(image_size)
            ]
            for row in range(image_size):
                for col in range(image_size):
                    image[row][col] += wy[row] * wx[col]
        peak = max(max(row) for row in image)
        if peak > 0:
            out[i, 0] = np.asarray(image) / peak
    return out
