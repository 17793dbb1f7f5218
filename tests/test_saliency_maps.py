"""a3net.evaluation.saliency, reading saliency maps (NumPy only): normalisation, radial profiles,
enclosed fractions and the outskirt-to-core ratio on maps whose answers are known."""

import numpy as np
import pytest

from a3net.evaluation import saliency


def disc_maps(n=3, size=21, radius=5.0, centre=None):
    """Maps uniform (value 2) at pixel centres r < radius, zero outside: (n, 1, size, size)."""
    c = (size - 1) / 2 if centre is None else centre
    y, x = np.mgrid[0:size, 0:size]
    disc = (np.hypot(x - c, y - c) < radius).astype(np.float32) * 2
    return np.repeat(disc[None, None], n, axis=0), int(disc.astype(bool).sum())


def test_normalise_maps_gives_unit_sums_and_names_dead_maps():
    maps = np.random.default_rng(0).random((4, 2, 5, 5)).astype(np.float32)
    norm = saliency.normalise_maps(maps)
    assert norm.dtype == np.float32 and norm.shape == maps.shape
    np.testing.assert_allclose(norm.sum(axis=(1, 2, 3)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(norm[1] / norm[1, 0, 0, 0], maps[1] / maps[1, 0, 0, 0], rtol=1e-5)
    maps[[1, 3]] = 0
    with pytest.raises(ValueError, match="2 of 4 maps sum to zero"):
        saliency.normalise_maps(maps)
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        saliency.normalise_maps(np.ones((5, 5)))
    with pytest.raises(ValueError, match="non-negative"):
        saliency.normalise_maps(-np.ones((1, 1, 3, 3)))


@pytest.mark.parametrize("size", [21, 20])
def test_radial_profile_of_a_uniform_disc_is_flat_inside_and_zero_outside(size):
    maps, n_in = disc_maps(size=size)
    r, mean, sem = saliency.radial_profile(maps)
    assert len(r) == len(mean) == len(sem) == size // 2  # 1-px annuli out to the edge
    np.testing.assert_allclose(r[:3], [0.5, 1.5, 2.5])
    np.testing.assert_allclose(mean[:5], 1 / n_in, rtol=1e-5)  # per pixel: 1 / disc area
    np.testing.assert_allclose(mean[5:], 0, atol=1e-12)
    np.testing.assert_allclose(sem, 0, atol=1e-9)  # identical maps
    # the annuli's shares add up to the whole map
    _, mean2, _ = saliency.radial_profile(maps, r_max=6.0, n_bins=3)
    np.testing.assert_allclose(mean2, [1 / n_in, 1 / n_in, mean2[2]], rtol=1e-5)
    assert 0 < mean2[2] < 1 / n_in  # the 4-6 px annulus is half inside the disc


def test_radial_profile_standard_error_over_maps():
    maps = np.ones((4, 1, 9, 9), np.float32)
    maps[:2, 0, 4, 4] = 3.0  # two maps with a bright centre pixel
    _, mean, sem = saliency.radial_profile(maps)
    centre = np.array([3 / 83, 3 / 83, 1 / 81, 1 / 81])
    assert mean[0] == pytest.approx(centre.mean())
    assert sem[0] == pytest.approx(centre.std(ddof=1) / 2)
    _, _, one = saliency.radial_profile(maps[:1])
    assert np.isnan(one).all()


def test_enclosed_fraction_is_exact_and_takes_one_radius_per_map():
    maps, n_in = disc_maps(n=2, size=21)
    np.testing.assert_allclose(saliency.enclosed_fraction(maps, 5.0), [1, 1])
    y, x = np.mgrid[0:21, 0:21]
    r = np.hypot(x - 10, y - 10)
    inside3 = np.sum(r < 3)
    got = saliency.enclosed_fraction(maps, np.array([3.0, 100.0]))
    np.testing.assert_allclose(got, [inside3 / n_in, 1.0])
    flat = np.ones((1, 1, 21, 21), np.float32)
    np.testing.assert_allclose(saliency.enclosed_fraction(flat, 3.0), inside3 / 441)
    shifted, _ = disc_maps(n=1, size=21, centre=6.0)
    assert saliency.enclosed_fraction(shifted, 5.0)[0] < 0.5
    assert saliency.enclosed_fraction(shifted, 5.0, centre=(6, 6))[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"radius must be a number or an array of shape \(2,\)"):
        saliency.enclosed_fraction(maps, [1.0, 2.0, 3.0])


def test_outskirt_to_core_ratio_per_pixel_and_total_share():
    size = 41
    y, x = np.mgrid[0:size, 0:size]
    r = np.hypot(x - 20, y - 20)
    flat = np.ones((2, 1, size, size), np.float32)
    per_pixel = saliency.outskirt_to_core_ratio(flat, 3.0, 9.0)
    np.testing.assert_allclose(per_pixel, [1.0, 1.0])  # flat: equal surface density
    share = saliency.outskirt_to_core_ratio(flat, 3.0, 9.0, per_pixel=False)
    area = np.sum((r >= 3) & (r < 9)) / np.sum(r < 3)
    np.testing.assert_allclose(share, area)  # ... but the annulus has ~8x the area
    assert 7 < area < 10
    peaked = np.where(r < 3, 4.0, 1.0).astype(np.float32)[None, None]
    np.testing.assert_allclose(saliency.outskirt_to_core_ratio(peaked, 3.0, 9.0), 0.25)
    both = saliency.outskirt_to_core_ratio(np.concatenate([flat[:1], peaked]), [3.0, 3.0], 9.0)
    np.testing.assert_allclose(both, [1.0, 0.25])
    with pytest.raises(ValueError, match="r_outer must be larger than r_core"):
        saliency.outskirt_to_core_ratio(flat, 5.0, 4.0)
    with pytest.raises(ValueError, match="holds no pixel centre"):
        saliency.outskirt_to_core_ratio(np.ones((1, 1, 4, 4), np.float32), 0.5, 2.0)
