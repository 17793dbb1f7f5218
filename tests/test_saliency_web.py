"""a3net.saliency_web: halos in the cosmic web, saliency per pixel class, masking a class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from a3net.evaluation.bootstrap import group_bootstrap
from a3net.saliency_web import (
    HALO_WEB_CLASSES,
    background_maps,
    class_ratios,
    class_saliency_sums,
    halo_web_labels,
    mask_classes,
    random_mask_like,
)

S = 64  # 25 Mpc/h over 64 px: 0.39 Mpc/h per pixel; a smoothing of 1.5 Mpc/h is 3.8 px
ROWS, COLS = np.mgrid[0:S, 0:S]
CLASS = {name: i for i, name in enumerate(HALO_WEB_CLASSES)}


def _blob(x0, y0, width):
    return np.exp(-((COLS - x0) ** 2 + (ROWS - y0) ** 2) / (2 * width**2))


def _web():
    """Two filaments crossing at (x, y) = (40, 20), a halo at the crossing and one on the
    filament y = 20 far from it."""
    ridges = 3 * np.exp(-((ROWS - 20) ** 2) / (2 * 1.5**2)) + 3 * np.exp(
        -((COLS - 40) ** 2) / (2 * 1.5**2)
    )
    density = 1 + ridges + 4 * _blob(40, 20, 0.8) + 4 * _blob(10, 20, 0.8)
    halos = pd.DataFrame(
        {
            "map_index": [0, 0],
            "px": [20.0, 20.0],  # along the first array axis (rows): y here
            "py": [40.0, 10.0],  # along the second (columns): x
            "radius_px": [1.5, 1.0],
            "mass": [1e14, 1e13],
            "sim_id": [3, 3],
        }
    )
    return density[None], halos


def test_a_halo_on_a_line_is_a_filament_halo_and_one_at_a_crossing_a_node_halo():
    assert HALO_WEB_CLASSES == (
        "void", "filament", "node", "void halo", "filament halo", "node halo",
    )  # fmt: skip
    maps, halos = _web()
    labels = halo_web_labels(maps, halos, smoothing=1.5)
    assert labels.shape == (1, S, S) and labels.dtype == np.int8
    assert labels[0, 20, 40] == CLASS["node halo"]
    assert labels[0, 21, 41] == CLASS["node halo"]  # within 1.5 px of the centre
    assert labels[0, 20, 10] == CLASS["filament halo"]
    assert labels[0, 20, 25] == CLASS["filament"]  # on the line, no halo
    assert labels[0, 5, 5] == CLASS["void"]
    # (N, 1, S, S) is the same; halos lighter than min_mass are left out
    np.testing.assert_array_equal(halo_web_labels(maps[:, None], halos, smoothing=1.5), labels)
    light = halo_web_labels(maps, halos, smoothing=1.5, min_mass=5e13)
    assert light[0, 20, 10] == CLASS["filament"] and light[0, 20, 40] == CLASS["node halo"]


def test_a_halo_owns_its_centre_pixel_its_radius_wraps_and_the_heavier_halo_wins():
    maps = np.ones((2, 1, 16, 16))
    maps[:, 0, 8, 8] = 3.0  # something for the web to see
    halos = pd.DataFrame(
        {
            "map_index": [0, 1, 1],
            "px": [15.4, 5.0, 5.0],
            "py": [0.2, 5.0, 6.0],
            "radius_px": [0.0, 2.0, 2.0],
            "mass": [1e12, 1e12, 1e13],
        }
    )
    labels = halo_web_labels(maps, halos, smoothing=0.0, halo_radius=1.0)
    halo_classes = np.arange(3, 6)
    assert np.isin(labels[0], halo_classes).sum() == 1 and labels[0, 15, 0] in halo_classes
    wide = halo_web_labels(maps, halos.iloc[:1].assign(radius_px=1.3), smoothing=0.0)
    assert wide[0, 0, 0] in halo_classes and wide[0, 15, 15] in halo_classes  # periodic
    assert labels[1, 5, 5] in halo_classes and labels[1, 5, 8] in halo_classes
    no_halos = halo_web_labels(maps, halos.iloc[:0], smoothing=0.0)
    assert not np.isin(no_halos, halo_classes).any()


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda h: h.drop(columns="radius_px"), ValueError, "lacks the columns radius_px"),
        (lambda h: h.assign(map_index=[0, 1]), ValueError, "map_index must be whole numbers"),
        (lambda h: h.assign(px=[np.nan, 1.0]), ValueError, "NaN"),
        (lambda h: h.assign(mass=[0.0, 1.0]), ValueError, "mass > 0"),
        (lambda h: h.to_numpy(), TypeError, "must be a pandas DataFrame"),
    ],
)
def test_bad_halo_tables_are_refused(change, error, match):
    maps, halos = _web()
    with pytest.raises(error, match=match):
        halo_web_labels(maps, change(halos))


def test_bad_maps_and_settings_are_refused():
    maps, halos = _web()
    with pytest.raises(ValueError, match="must have shape"):
        halo_web_labels(maps[0], halos)
    with pytest.raises(ValueError, match="halo_radius must be a finite number >= 0"):
        halo_web_labels(maps, halos, halo_radius=-1.0)
    with pytest.raises(TypeError, match="min_mass must be a number"):
        halo_web_labels(maps, halos, min_mass="1e12")


def test_ratios_are_one_for_a_flat_map_and_follow_a_class_that_is_brighter():
    labels = np.zeros((3, 8, 8), dtype=np.int8)
    labels[:, :2] = 4  # a quarter of every map
    flat = np.ones((3, 8, 8))
    sums, counts = class_saliency_sums(flat, labels)
    assert sums.shape == counts.shape == (3, len(HALO_WEB_CLASSES))
    ratios = class_ratios(sums, counts)
    np.testing.assert_allclose(ratios[[0, 4]], 1.0)
    assert np.isnan(ratios[[1, 2, 3, 5]]).all()
    bright = flat.copy()
    bright[labels == 4] = 4.0  # mean of a map: (16 * 4 + 48) / 64 = 1.75
    bright[1] *= 100  # the scale of a map does not matter
    ratios = class_ratios(*class_saliency_sums(bright, labels))
    np.testing.assert_allclose(ratios[[0, 4]], [1 / 1.75, 4 / 1.75])
    # a blind map (saliency 0) drops out; channels are summed after |.|
    blind = np.stack([bright, -bright], axis=1)
    blind[2] = 0.0
    sums, counts = class_saliency_sums(blind, labels)
    assert counts[2].sum() == 0 and sums[2].sum() == 0
    np.testing.assert_allclose(class_ratios(sums, counts)[[0, 4]], [1 / 1.75, 4 / 1.75])


def test_ratios_bootstrap_over_groups():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, (30, 8, 8)).astype(np.int8)
    sal = rng.random((30, 8, 8)) + (labels == 5)
    sums, counts = class_saliency_sums(sal, labels)
    value, error = group_bootstrap(class_ratios, sums, counts, groups=np.repeat(range(10), 3))
    assert value.shape == error.shape == (6,)
    assert value[5] > 1 > value[0] and np.all(error > 0) and np.all(error < 0.2)
    with pytest.raises(ValueError, match="labels must lie in 0 .. 5"):
        class_saliency_sums(sal, labels + 1)
    with pytest.raises(TypeError, match="labels must be integer"):
        class_saliency_sums(sal, labels.astype(float))
    with pytest.raises(ValueError, match="same shape"):
        class_ratios(sums, counts[:, :3])


def test_background_fills_masked_pixels_from_their_surroundings():
    maps = np.full((2, 2, 16, 16), 5.0)
    maps[:, 1] = 7.0
    maps[0, :, 4, 4] = 1000.0  # a halo
    exclude = np.zeros((2, 16, 16), dtype=bool)
    exclude[0, 3:6, 3:6] = True
    back = background_maps(maps, exclude, smoothing_px=1.5)
    assert back.shape == maps.shape and back.dtype == np.float32
    np.testing.assert_allclose(back[0, :, 4, 4], [5.0, 7.0], rtol=1e-5)  # the halo is gone
    np.testing.assert_allclose(back[1], maps[1], rtol=1e-5)
    masked = mask_classes(maps, exclude, None, back)
    np.testing.assert_allclose(masked[0, 0, 4, 4], 5.0, rtol=1e-5)
    assert masked[0, 0, 10, 10] == 5.0 and masked[1, 1, 4, 4] == 7.0
    labels = exclude.astype(np.int8) * 4
    np.testing.assert_array_equal(mask_classes(maps, labels, [4], back), masked)
    np.testing.assert_array_equal(mask_classes(maps, labels, 3, back), maps)
    with pytest.raises(ValueError, match="exclude must be a boolean mask"):
        background_maps(maps, exclude[:1])
    with pytest.raises(ValueError, match="without a single pixel"):
        background_maps(maps, np.ones_like(exclude))
    with pytest.raises(ValueError, match="background must have the maps' shape"):
        mask_classes(maps, labels, 4, back[:1])


def test_random_masks_match_the_counts_per_map_and_stay_where_allowed():
    rng = np.random.default_rng(1)
    mask = rng.random((5, 12, 12)) < 0.1
    allowed = ~mask
    random = random_mask_like(mask, seed=3, allowed=allowed)
    assert random.dtype == bool and random.shape == mask.shape
    np.testing.assert_array_equal(random.sum(axis=(1, 2)), mask.sum(axis=(1, 2)))
    assert not (random & mask).any()
    np.testing.assert_array_equal(random_mask_like(mask, seed=3, allowed=allowed), random)
    assert not np.array_equal(random_mask_like(mask, seed=4, allowed=allowed), random)
    with pytest.raises(ValueError, match="fewer allowed pixels"):
        random_mask_like(np.ones((1, 4, 4), bool), allowed=np.eye(4, dtype=bool)[None])
    with pytest.raises(ValueError, match="boolean"):
        random_mask_like(mask.astype(int))
