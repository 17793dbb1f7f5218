"""Chapter F baselines: a PCA + SVM ring counter and a Hough-transform circle fit.

Both take ring images (N, 1, H, W) as the networks do.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from skimage.transform import hough_circle, hough_circle_peaks
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .._validation import as_float_array, check_positive_int, check_targets


def _flatten(images, name="images") -> np.ndarray:
    arr = as_float_array(images, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {arr.shape}.")
    return arr.reshape(len(arr), -1)


class PCASVMCounter:
    """Ring counter: pixels -> PCA (``n_components``) -> standardise -> RBF support-vector machine.

    Labels are class indices as for ``RingCounterCNN`` (class k = k + 1 rings).
    """

    def __init__(self, n_components: int = 40, C: float = 10.0, gamma: str | float = "scale", seed: int = 0):
        self.n_components = check_positive_int(n_components, "n_components")
        self.pipeline = make_pipeline(
            PCA(n_components=self.n_components, random_state=seed), StandardScaler(),
            SVC(C=C, gamma=gamma, random_state=seed),
        )

    def fit(self, images, labels) -> "PCASVMCounter":
        x = _flatten(images)
        if self.n_components > min(x.shape):
            raise ValueError(
                f"n_components={self.n_components} exceeds what {x.shape[0]} images of {x.shape[1]} pixels allow; lower it."
            )
        self.pipeline.fit(x, check_targets(labels, len(x), "labels", classification=True))
        return self

    def predict(self, images) -> np.ndarray:
        """Predicted class indices (N,)."""
        return self.pipeline.predict(_flatten(images))

    @property
    def explained_variance(self) -> float:
        """Fraction of the pixel variance kept by the principal components."""
        return float(self.pipeline[0].explained_variance_ratio_.sum())


def hough_ring_fit(images, *, radius_range=(3.0, 12.0), radius_step: float = 0.5,
                   threshold: float = 0.3) -> pd.DataFrame:
    """Centre and radius of the strongest circle in each image by the Hough transform (Duda & Hart 1972).

    Pixels above ``threshold`` (images scaled to a maximum of 1) vote for circles of radii
    ``radius_range`` in steps of ``radius_step``; the best-voted circle wins. Returns a DataFrame
    with columns x, y, radius (pixels). scikit-image works image by image, so this loops in Python.
    """
    arr = as_float_array(images, "images")
    if arr.ndim != 4 or arr.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {arr.shape}.")
    lo, hi = radius_range
    if not 0 < lo <= hi:
        raise ValueError(f"radius_range must be (low, high) with 0 < low <= high, got {radius_range!r}.")
    if not radius_step > 0:
        raise ValueError(f"radius_step must be positive, got {radius_step!r}.")
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}.")
    radii = np.arange(lo, hi + 1e-9, radius_step)
    out = np.full((len(arr), 3), np.nan, np.float32)
    for i, image in enumerate(arr[:, 0]):
        peak = image.max()
        edges = image > threshold * peak if peak > 0 else np.zeros_like(image, bool)
        accumulator = hough_circle(edges, radii)
        _, cx, cy, r = hough_circle_peaks(accumulator, radii, total_num_peaks=1)
        if len(r):
            out[i] = cx[0], cy[0], r[0]
    return pd.DataFrame(out, columns=["x", "y", "radius"])
