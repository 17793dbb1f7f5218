"""The ring simulator (chapter F): shapes, physics, reproducibility, reference, bad input."""

import numpy as np
import pandas as pd
import pytest

from a3net.data import rings
from a3net.data.rings_reference import render_hits_reference


def test_shapes_dtypes_and_columns():
    images, labels = rings.simulate_rings(50, max_rings=3, seed=1)
    assert images.shape == (50, 1, 28, 28) and images.dtype == np.float32
    assert list(labels.columns) == rings.ring_columns(3)
    assert set(labels["n_rings"]) <= {1, 2, 3}
    np.testing.assert_allclose(images.max(axis=(1, 2, 3)), 1.0, rtol=1e-6)
    assert images.min() >= 0


def test_same_seed_same_arrays_other_seed_other_arrays():
    a, la = rings.simulate_rings(20, max_rings=2, seed=5)
    b, lb = rings.simulate_rings(20, max_rings=2, seed=5)
    c, _ = rings.simulate_rings(20, max_rings=2, seed=6)
    np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(la, lb)
    assert not np.array_equal(a, c)


def test_parameters_respect_design_ranges():
    labels = rings.sample_ring_parameters(5000, max_rings=2, seed=2)
    for k in (1, 2):
        present = labels["n_rings"] >= k
        x, y, r = (labels.loc[present, f"{p}_{k}"] for p in ("x", "y", "radius"))
        assert x.between(5, 23).all() and y.between(5, 23).all()
        assert (x != np.round(x)).mean() > 0.99  # continuous centres by default
        edge = np.minimum(np.minimum(x, y) + 0.5, 27.5 - np.maximum(x, y))
        assert (r >= 3).all() and (r <= edge - 1.5 + 1e-9).all()
        assert labels.loc[present, f"thickness_{k}"].between(0.2, 1.5).all()
        assert labels.loc[present, f"deformation_{k}"].between(0.5, 3.0).all()
        assert labels.loc[~present, f"x_{k}"].isna().all()
    assert set(np.bincount(labels["n_rings"])[1:] > 2000) == {True}  # both counts common


def test_photon_yield_is_poisson_in_circumference():
    labels = rings.sample_ring_parameters(20000, seed=3)
    expected = 3.0 * 2 * np.pi * labels["radius_1"]
    ratio = labels["photons_1"].sum() / expected.sum()
    assert abs(ratio - 1) < 0.01
    # Poisson: variance equals mean (normalised residuals have unit variance)
    z = (labels["photons_1"] - expected) / np.sqrt(expected)
    assert abs(z.var() - 1) < 0.05


def test_hits_lie_within_the_deformation_band_uniformly():
    """The hack's deformation: every hit at R + U(-d, d) px, independent of R."""
    ideal = rings.RingConfig(noise_hits=0.0, detector="spots")  # positions before the detector
    labels = rings.sample_ring_parameters(4000, seed=4, config=ideal)
    hx, hy, width, valid = rings.sample_hits(labels, seed=4, config=ideal)
    x, y, r, d = (labels[f"{p}_1"].to_numpy()[:, None] for p in ("x", "y", "radius", "deformation"))
    u = ((np.hypot(hx - x, hy - y) - r) / d)[valid]  # U(-1, 1) if the jitter is absolute
    assert np.abs(u).max() <= 1 + 1e-9
    assert abs(u.mean()) < 0.01 and abs(u.var() - 1 / 3) < 0.01
    assert abs(np.mean(np.abs(u) > 0.5) - 0.5) < 0.01  # flat, not Gaussian
    small, large = r[:, 0] < 5, r[:, 0] > 8
    spread = (np.hypot(hx - x, hy - y) - r) / d
    assert abs(spread[small][valid[small]].std() - spread[large][valid[large]].std()) < 0.02
    assert (valid.sum(axis=1) == labels["photons_1"]).all()


def test_photons_are_displaced_by_the_resolution_in_x_and_y():
    """detector="photons": every photon lands N(0, t^2) off its ideal position, in x and in y
    independently (the same seed gives the same ideal positions with detector="spots")."""
    labels = rings.sample_ring_parameters(3000, seed=6)
    spots = rings.sample_hits(
        labels, seed=7, config=rings.RingConfig(noise_hits=0, detector="spots")
    )
    photons = rings.sample_hits(labels, seed=7, config=rings.RingConfig(noise_hits=0))
    valid = spots[3]
    assert (photons[3] == valid).all()
    t = labels["thickness_1"].to_numpy()[:, None]
    zx = ((photons[0] - spots[0]) / t)[valid]
    zy = ((photons[1] - spots[1]) / t)[valid]
    for z in (zx, zy):
        assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.02
        assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.005  # Gaussian, not uniform
    assert abs(np.corrcoef(zx, zy)[0, 1]) < 0.01


def test_photon_images_count_the_hits_in_each_pixel():
    hx = np.array([[0.0, 0.49, 0.51, 27.4, 27.6, -0.6, 13.0]])
    hy = np.array([[0.0, 0.0, 0.0, 27.0, 27.0, 5.0, 13.5]])
    valid = np.array([[True, True, True, True, True, True, False]])
    image = rings.count_hits(hx, hy, valid, normalise=False)[0, 0]
    assert image[0, 0] == 2 and image[0, 1] == 1 and image[27, 27] == 1
    assert image.sum() == 4  # off the detector (27.6, -0.6) or not valid: not counted
    images, _ = rings.simulate_rings(200, seed=3)
    counts = images * 1.0
    levels = np.unique(counts[0])  # a normalised count image: k / (largest count)
    largest = 1 / levels[levels > 0].min()
    np.testing.assert_allclose(levels * largest, np.round(levels * largest), atol=1e-5)
    with pytest.raises(ValueError, match="detector must be one of"):
        rings.RingConfig(detector="ccd")


def test_spot_images_remain_available_and_differ():
    labels = rings.sample_ring_parameters(20, seed=1)
    spots = rings.render_rings(labels, config=rings.RingConfig(detector="spots"), seed=2)
    photons = rings.render_rings(labels, seed=2)
    assert spots.shape == photons.shape == (20, 1, 28, 28)
    assert np.mean(spots > 0) > 2 * np.mean(photons > 0)  # spots paint a blur, photons a pixel


def test_inclined_tracks_draw_ellipses():
    cfg = rings.RingConfig(noise_hits=0.0, inclination_range=(10.0, 40.0))
    labels = rings.sample_ring_parameters(3000, seed=14, config=cfg)
    assert list(labels.columns) == rings.ring_columns(1, inclined=True)
    a, b, alpha = (labels[f"{p}_1"] for p in ("semi_major", "semi_minor", "inclination"))
    cos_a = np.cos(np.radians(alpha))
    np.testing.assert_allclose(b, a * cos_a)
    np.testing.assert_allclose(labels["radius_1"], a * cos_a**2)
    x, y = labels["x_1"], labels["y_1"]
    edge = np.minimum(np.minimum(x, y) + 0.5, 27.5 - np.maximum(x, y))
    assert (a <= edge - 1.5 + 1e-9).all() and alpha.between(10, 40).all()
    # More photons for the longer path through the radiator.
    expected = 3.0 * 2 * np.pi * labels["radius_1"] / cos_a
    assert abs(labels["photons_1"].sum() / expected.sum() - 1) < 0.01
    # With no deformation, every hit satisfies the ellipse equation (u/a)^2 + (v/b)^2 = 1.
    flat = labels.assign(deformation_1=0.0)
    hx, hy, _, valid = rings.sample_hits(
        flat,
        seed=3,
        config=rings.RingConfig(noise_hits=0.0, inclination_range=(10.0, 40.0), detector="spots"),
    )
    psi = labels["orientation_1"].to_numpy()[:, None]
    dx, dy = hx - x.to_numpy()[:, None], hy - y.to_numpy()[:, None]
    u = dx * np.cos(psi) + dy * np.sin(psi)
    v = -dx * np.sin(psi) + dy * np.cos(psi)
    q = (u / a.to_numpy()[:, None]) ** 2 + (v / b.to_numpy()[:, None]) ** 2
    np.testing.assert_allclose(q[valid], 1.0, atol=1e-9)
    t = rings.ellipse_targets(labels)
    assert t.shape == (3000, 6) and t.dtype == np.float32
    np.testing.assert_allclose(
        rings.orientation_from_targets(t[:, 4], t[:, 5]), labels["orientation_1"], atol=1e-5
    )


def test_ellipse_options_fail_clearly():
    with pytest.raises(ValueError, match="inclination_range"):
        rings.RingConfig(inclination_range=(0.0, 75.0))
    with pytest.raises(ValueError, match="inclination_range"):
        rings.RingConfig(inclination_range=(20.0, 10.0))
    _, circles = rings.simulate_rings(5, seed=0)
    with pytest.raises(ValueError, match="inclination_range=\\(low, high\\)"):
        rings.ellipse_targets(circles)
    with pytest.raises(ValueError, match="whole pixels"):
        rings.RingConfig(integer_centres=True, centre_range=(5.5, 23))


def test_thicker_rings_spread_light_wider():
    base = rings.sample_ring_parameters(1, seed=0).assign(
        x_1=14.0, y_1=14.0, radius_1=7.0, deformation_1=0.5, photons_1=200
    )
    thin = rings.render_rings(
        base.assign(thickness_1=0.3), seed=1, config=rings.RingConfig(noise_hits=0)
    )
    thick = rings.render_rings(
        base.assign(thickness_1=1.4), seed=1, config=rings.RingConfig(noise_hits=0)
    )
    yy, xx = np.mgrid[0:28, 0:28]
    dist = np.hypot(xx - 14, yy - 14)

    def radial_spread(img):
        w = img[0, 0] / img[0, 0].sum()
        mean = (w * dist).sum()
        return np.sqrt((w * (dist - mean) ** 2).sum())

    assert radial_spread(thick) > 1.5 * radial_spread(thin)


def test_vectorised_renderer_matches_dot_by_dot_reference():
    labels = rings.sample_ring_parameters(6, max_rings=3, seed=8)
    hits = rings.sample_hits(labels, seed=8)
    np.testing.assert_allclose(rings.render_hits(*hits), render_hits_reference(*hits), atol=1e-5)


def test_pixel_integration_conserves_light_inside_the_image():
    hx = np.array([[14.2, 6.7]])
    hy = np.array([[10.9, 20.1]])
    width = np.array([[0.3, 1.2]])
    valid = np.ones((1, 2), bool)
    image = rings.render_hits(hx, hy, width, valid, normalise=False)
    assert image.sum() == pytest.approx(2.0, rel=1e-4)


def test_ring_targets():
    _, labels = rings.simulate_rings(10, seed=0)
    t = rings.ring_targets(labels)
    assert t.shape == (10, 5) and t.dtype == np.float32
    _, labels2 = rings.simulate_rings(30, max_rings=2, seed=0)
    with pytest.raises(ValueError, match="n_rings >= 2"):
        rings.ring_targets(labels2, ring=2)
    with pytest.raises(ValueError, match="lack the columns"):
        rings.ring_targets(labels, ring=3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=-3), "n must be at least 1"),
        (dict(n=2.5), "n must be a whole number"),
        (dict(n=5, max_rings=0), "max_rings must be at least 1"),
        (dict(n=5, min_rings=3, max_rings=2), "must not exceed"),
        (dict(n=5, seed=-1), "seed must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        rings.simulate_rings(**kwargs)


def test_radius_that_does_not_fit_is_rejected():
    with pytest.raises(ValueError, match="does not fit the image"):
        rings.RingConfig(radius_min=6.0)
    with pytest.raises(ValueError, match="thickness_range"):
        rings.RingConfig(thickness_range=(-1.0, 1.0))


def test_nan_labels_and_bad_images_are_rejected():
    labels = rings.sample_ring_parameters(4, seed=0)
    labels.loc[2, "radius_1"] = np.nan
    with pytest.raises(ValueError, match="NaN ring parameters"):
        rings.render_rings(labels)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 28, 28\)"):
        rings.check_images(np.zeros((3, 28, 28)))
    bad = np.zeros((2, 1, 28, 28))
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rings.check_images(bad)


def test_integer_centres_on_request():
    labels = rings.sample_ring_parameters(
        2000, seed=9, config=rings.RingConfig(integer_centres=True)
    )
    x = labels["x_1"]
    assert x.between(5, 23).all() and (x == np.round(x)).all()
    edge = np.minimum(np.minimum(x, labels["y_1"]) + 0.5, 27.5 - np.maximum(x, labels["y_1"]))
    assert (labels["radius_1"] <= edge - 1.5 + 1e-9).all()


def test_radial_profile_peaks_at_the_radius_and_separates_equal_width_pairs():
    """Two rings of equal radial rms width sqrt(t^2 + d^2 / 3): a wide spot and a narrow band
    have different profiles (flat-topped for the large deformation)."""
    base = rings.sample_ring_parameters(2, seed=0).assign(x_1=14.0, y_1=13.6, radius_1=8.0)
    pairs = base.assign(thickness_1=[1.2, 0.3], deformation_1=[0.6, 2.05], photons_1=[20000, 20000])
    images = rings.render_rings(pairs, seed=2, config=rings.RingConfig(noise_hits=0))
    edges = np.arange(0, 13.01, 0.5)
    profile = rings.radial_profile(images, pairs["x_1"], pairs["y_1"], edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    assert profile.shape == (2, 26)
    hits_per_radius = profile * centres  # surface brightness x circumference
    mean_radius = (hits_per_radius * centres).sum(axis=1) / hits_per_radius.sum(axis=1)
    np.testing.assert_allclose(mean_radius, 8.0, atol=0.25)
    near = np.abs(centres - 8) <= 1.0
    flatness = hits_per_radius[:, near].min(axis=1) / hits_per_radius[:, near].max(axis=1)
    assert flatness[1] > flatness[0] + 0.1  # the uniform band is flat-topped
    with pytest.raises(ValueError, match="one centre per image"):
        rings.radial_profile(images, [14.0], [13.6], edges)
