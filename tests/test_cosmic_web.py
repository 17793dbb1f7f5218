"""a3net.cosmic_web: the 2-D T-web of projected maps and saliency by web type and density."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from a3net.cosmic_web import (
    WEB_TYPES,
    classify_web,
    saliency_by_density,
    saliency_by_web,
    tidal_eigenvalues,
)

S = 64
ROWS, COLS = np.mgrid[0:S, 0:S]  # rows are y, columns x


def _gaussian(x0, y0, width):
    return np.exp(-((COLS - x0) ** 2 + (ROWS - y0) ** 2) / (2 * width**2))


def _random_maps(n=4, size=S, seed=0):
    """Positive lognormal maps with structure on a few pixels (float32 (n, 1, size, size))."""
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(size)
    kk = np.hypot(k[:, None], k[None, :])
    amplitude = np.where(kk > 0, np.exp(-((kk / 0.08) ** 2)) / np.maximum(kk, 1e-9) ** 0.5, 0)
    noise = np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, size, size))) * amplitude).real
    noise /= noise.std()
    return np.exp(1.2 * noise)[:, None].astype(np.float32) * 1e12


def test_blob_ridge_and_underdense_region():
    assert WEB_TYPES == ("void", "filament", "node")
    blob = 1 + 5 * _gaussian(20, 30, 3.0)
    assert classify_web(blob[None])[0, 30, 20] == WEB_TYPES.index("node")
    ridge = 1 + 3 * np.exp(-((ROWS - 40) ** 2) / (2 * 2.0**2))  # denser along the row y = 40
    labels = classify_web(ridge[None])[0]
    assert np.all(labels[40] == WEB_TYPES.index("filament"))
    assert np.all(labels[10] == WEB_TYPES.index("void"))
    hole = 1 - 0.6 * _gaussian(32, 32, 8.0)
    assert classify_web(hole[None])[0, 32, 32] == WEB_TYPES.index("void")


def test_eigenvalues_sum_to_the_smoothed_contrast_and_are_ordered():
    maps = _random_maps(3)
    eig = tidal_eigenvalues(maps, smoothing=0.0)
    assert eig.shape == (3, 2, S, S) and eig.dtype == np.float32
    delta = maps[:, 0] / maps[:, 0].mean(axis=(1, 2), keepdims=True) - 1
    np.testing.assert_allclose(eig.sum(axis=1), delta, atol=2e-4 * np.abs(delta).max())
    assert np.all(eig[:, 0] >= eig[:, 1])
    # with smoothing: the contrast convolved with a periodic Gaussian of 1 Mpc/h = 2.56 px
    smooth = tidal_eigenvalues(maps, smoothing=1.0).sum(axis=1)
    blurred = ndimage.gaussian_filter(delta, (0, 2.56, 2.56), mode="wrap", truncate=6.0)
    np.testing.assert_allclose(smooth, blurred, atol=1e-4 * np.abs(delta).max())


def test_periodic_roll_turns_and_mirrors_commute_with_the_classification():
    maps = _random_maps(3, seed=1)
    labels = classify_web(maps)
    assert labels.shape == (3, S, S) and labels.dtype == np.int8
    assert set(np.unique(labels)) == {0, 1, 2}
    rolled = classify_web(np.roll(maps, (5, -17), axis=(2, 3)))
    np.testing.assert_array_equal(rolled, np.roll(labels, (5, -17), axis=(1, 2)))
    turned = classify_web(np.rot90(maps, 1, axes=(2, 3)))
    np.testing.assert_array_equal(turned, np.rot90(labels, 1, axes=(1, 2)))
    mirrored = classify_web(maps[..., ::-1])
    np.testing.assert_array_equal(mirrored, labels[..., ::-1])


def test_contrast_input_scale_and_shape_conventions():
    maps = _random_maps(2, seed=2)
    labels = classify_web(maps)
    np.testing.assert_array_equal(classify_web(maps[:, 0] * 7.5), labels)  # (N, S, S), scaled
    delta = maps[:, 0] / maps[:, 0].mean(axis=(1, 2), keepdims=True) - 1
    np.testing.assert_array_equal(classify_web(delta, contrast=False), labels)
    # more smoothing, a higher threshold: fewer nodes; the log source tames the peaks
    nodes = np.mean(labels == 2)
    assert np.mean(classify_web(maps, threshold=1.0) == 2) < nodes
    assert np.mean(classify_web(maps, threshold=-0.5) == 0) < np.mean(labels == 0)
    log_labels = classify_web(maps, log=True)
    assert log_labels.shape == labels.shape and 0 < np.mean(log_labels == 0) < 1
    # map size enters only through box_size: the same map at half the box is smoothed more
    assert not np.array_equal(classify_web(maps, box_size=12.5, smoothing=1.0), labels)


def test_classify_web_errors():
    maps = _random_maps(2)
    bad = maps.copy()
    bad[0, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        classify_web(bad)
    with pytest.raises(ValueError, match="positive densities"):
        classify_web(maps - maps.mean())
    with pytest.raises(ValueError, match="one channel"):
        classify_web(np.concatenate([maps, maps], axis=1))
    with pytest.raises(ValueError, match=r"maps\[None\]"):
        classify_web(maps[0, 0])
    with pytest.raises(ValueError, match="square"):
        classify_web(maps[..., :40])
    with pytest.raises(ValueError, match="smoothing must be >= 0"):
        classify_web(maps, smoothing=-1.0)
    with pytest.raises(ValueError, match="box_size must be > 0"):
        classify_web(maps, box_size=0)
    with pytest.raises(TypeError, match="threshold must be a number"):
        classify_web(maps, threshold="0.2")
    with pytest.raises(ValueError, match="delta <= -1"):
        classify_web(np.full((1, 8, 8), -1.0), contrast=False, log=True)


def test_saliency_by_density_recovers_a_rising_saliency():
    density = _random_maps(4, seed=3)
    result = saliency_by_density(density, density, n_bins=8)
    assert set(result) == {"bin_edges", "bin_centres", "counts", "mean_saliency", "share"}
    assert result["bin_edges"].shape == (9,) and result["share"].shape == (8,)
    assert np.all(np.diff(result["mean_saliency"]) > 0)
    assert np.all(np.diff(result["bin_centres"]) > 0)
    assert np.all(result["bin_centres"] > result["bin_edges"][:-1])
    assert np.all(result["bin_centres"] < result["bin_edges"][1:])
    assert result["share"].sum() == pytest.approx(1.0)
    counts = result["counts"]
    assert counts.sum() == density.size and counts.max() - counts.min() <= 1  # equal counts
    # the edges are quantiles of log10(1 + delta): its median is the middle edge
    x = np.log10(density[:, 0] / density[:, 0].mean(axis=(1, 2), keepdims=True))
    assert result["bin_edges"][4] == pytest.approx(np.median(x))
    # a saliency map that is flat gives every bin the same share; signed keeps the signs
    flat = saliency_by_density(np.ones_like(density), density, n_bins=4)
    np.testing.assert_allclose(flat["share"], 0.25, atol=1e-3)
    np.testing.assert_allclose(flat["mean_saliency"], 1.0)
    signed = saliency_by_density(-density, density, n_bins=4, signed=True)
    assert np.all(signed["mean_saliency"] < 0) and signed["share"].sum() == pytest.approx(1.0)
    assert np.allclose(saliency_by_density(-density, density, n_bins=4)["share"],
                       saliency_by_density(density, density, n_bins=4)["share"])  # fmt: skip


def test_saliency_by_density_channels_and_errors():
    density = _random_maps(2, seed=4)
    sal = np.concatenate([density, -density], axis=1)  # two channels: |values| summed
    twice = saliency_by_density(sal, density, n_bins=5)
    once = saliency_by_density(density, density[:, 0], n_bins=5)
    np.testing.assert_allclose(twice["share"], once["share"])
    with pytest.raises(ValueError, match="same maps"):
        saliency_by_density(density[:1], density)
    with pytest.raises(ValueError, match="same maps"):
        saliency_by_density(density[..., :32, :32], density)
    bad = density.copy()
    bad[1, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="saliency contains NaN"):
        saliency_by_density(bad, density)
    with pytest.raises(ValueError, match="density contains NaN"):
        saliency_by_density(density, bad)
    with pytest.raises(ValueError, match="sums to zero"):
        saliency_by_density(np.zeros_like(density), density)
    with pytest.raises(TypeError, match="n_bins"):
        saliency_by_density(density, density, n_bins=2.5)


def test_saliency_by_web_shares_and_fractions():
    maps = _random_maps(3, seed=5)
    labels = classify_web(maps)
    rng = np.random.default_rng(0)
    result = saliency_by_web(rng.standard_normal(maps.shape), labels)
    assert list(result) == list(WEB_TYPES)
    fractions = np.array([result[t]["pixel_fraction"] for t in WEB_TYPES])
    shares = np.array([result[t]["saliency_share"] for t in WEB_TYPES])
    assert fractions.sum() == pytest.approx(1.0) and shares.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(fractions, [np.mean(labels == i) for i in range(3)])
    # a flat map: each type's share is its area, and a pixel weighs the average
    flat = saliency_by_web(np.ones_like(maps), labels[:, None])
    for t in WEB_TYPES:
        assert flat[t]["saliency_share"] == pytest.approx(flat[t]["pixel_fraction"])
        assert flat[t]["mean_per_pixel"] == pytest.approx(1.0)
    # saliency on the nodes only
    nodes = saliency_by_web((labels == 2).astype(float), labels)
    assert nodes["node"]["saliency_share"] == pytest.approx(1.0)
    assert nodes["node"]["mean_per_pixel"] == pytest.approx(1 / np.mean(labels == 2))
    assert nodes["void"]["saliency_share"] == 0.0
    # a type with no pixel
    empty = saliency_by_web(np.ones((1, 4, 4)), np.zeros((1, 4, 4), np.int8))
    assert empty["void"]["mean_per_pixel"] == 1.0 and np.isnan(empty["node"]["mean_per_pixel"])


def test_saliency_by_web_errors():
    labels = np.zeros((2, 8, 8), np.int8)
    with pytest.raises(ValueError, match="same maps"):
        saliency_by_web(np.ones((2, 8, 8)), labels[:1])
    with pytest.raises(ValueError, match="web types 0 to 2"):
        saliency_by_web(np.ones((2, 8, 8)), labels + 3)
    with pytest.raises(ValueError, match="web types 0 to 2"):
        saliency_by_web(np.ones((2, 8, 8)), labels + 0.5)
    with pytest.raises(ValueError, match="NaN"):
        saliency_by_web(np.full((2, 8, 8), np.nan), labels)
    with pytest.raises(ValueError, match="sums to zero"):
        saliency_by_web(np.zeros((2, 8, 8)), labels)
