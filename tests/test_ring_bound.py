"""The Cramer-Rao bound of a photon-count ring image (chapter F): the Fisher information equals
the covariance of the Poisson score over simulated images, the bound is not beaten by a
least-squares fit, and it sits above the bound of an observer who sees every photon."""

import numpy as np
import pandas as pd
import pytest

from a3net.baselines.ring_fits import circle_fit
from a3net.data import rings
from a3net.evaluation import rings as bound

RING = dict(x=14.3, y=13.8, radius=7.0, thickness=0.6, deformation=1.5)


def one_ring_labels(n, seed, **ring):
    """n images of the same ring, a Poisson number of photons each (as the simulator draws)."""
    rng = np.random.default_rng(seed)
    table = {"n_rings": np.ones(n, int)} | {f"{k}_1": np.full(n, v) for k, v in ring.items()}
    table["photons_1"] = rng.poisson(3.0 * 2 * np.pi * ring["radius"], n)
    return pd.DataFrame(table)


def raw_counts(n, seed, **ring):
    hx, hy, _, valid = rings.sample_hits(one_ring_labels(n, seed, **ring), seed=seed + 1)
    return rings.count_hits(hx, hy, valid, normalise=False).reshape(n, -1).astype(float)


def test_expected_image_matches_the_simulator():
    counts = raw_counts(4000, 1, **RING)
    mean = bound.ring_image_mean(**RING).reshape(-1)
    assert counts.sum(axis=1).mean() == pytest.approx(mean.sum(), rel=0.01)
    # pixel by pixel, where the ring is: the average count within 4 of its standard errors
    bright = mean > 0.2
    z = (counts[:, bright].mean(axis=0) - mean[bright]) / np.sqrt(mean[bright] / len(counts))
    assert np.abs(z).max() < 4.5 and abs(z.mean()) < 0.3


def test_fisher_information_is_the_covariance_of_the_score():
    """F = Cov(score) for the Poisson image model, if the simulator draws exactly that model."""
    n = 8000
    counts = raw_counts(n, 2, **RING)
    mean = bound.ring_image_mean(**RING).reshape(-1)
    step, grads = 1e-3, []
    for name in bound.IMAGE_PARAMETERS:
        up, down = dict(RING), dict(RING)
        up[name] += step
        down[name] -= step
        diff = bound.ring_image_mean(**up) - bound.ring_image_mean(**down)
        grads.append(diff.reshape(-1) / (2 * step))
    score = (counts / mean - 1) @ np.array(grads).T
    fisher = bound.ring_image_fisher(**RING)[0]
    ratio = np.diag(np.cov(score.T)) / np.diag(fisher)
    np.testing.assert_allclose(ratio, 1.0, atol=4 * np.sqrt(2 / n))
    assert np.all(np.linalg.eigvalsh(fisher) > 0)


def test_bound_converges_with_the_pixel_integration():
    coarse = bound.ring_image_cramer_rao(**RING, subsamples=6).to_numpy()
    fine = bound.ring_image_cramer_rao(**RING, subsamples=16).to_numpy()
    np.testing.assert_allclose(coarse, fine, rtol=0.02)


def test_pixels_lose_information_against_seeing_every_photon():
    image = bound.ring_image_cramer_rao(**RING).iloc[0]
    photons = bound.circle_cramer_rao(3.0 * 2 * np.pi * RING["radius"], 0.6, 1.5).iloc[0]
    assert image["x"] > photons["x"] and image["y"] > photons["y"]
    # more photons or a sharper ring: a tighter bound
    denser = bound.ring_image_cramer_rao(**RING, photon_density=12.0).iloc[0]
    assert denser["x"] < 0.6 * image["x"]
    sharper = bound.ring_image_cramer_rao(**(RING | {"deformation": 0.5})).iloc[0]
    assert sharper["radius"] < image["radius"]


def test_least_squares_fit_does_not_beat_the_bound():
    """A Monte Carlo of the least-squares circle fit on one ring well inside the detector: its
    spread lies above the bound (by the noise of 400 images at most) and within 1.6 times it."""
    n = 400
    images = rings.render_rings(one_ring_labels(n, 3, **RING), seed=4)
    truth = pd.DataFrame(
        np.tile([RING["x"], RING["y"], RING["radius"]], (n, 1)), columns=["x", "y", "radius"]
    )
    fit = circle_fit(images, seed=truth)
    assert not fit["failed"].any()
    spread = fit[["x", "y", "radius"]].std().to_numpy()
    limit = bound.ring_image_cramer_rao(**RING).iloc[0][["x", "y", "radius"]].to_numpy()
    assert np.all(spread > limit * (1 - 3 / np.sqrt(2 * n)))
    assert np.all(spread < 1.6 * limit)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(noise_hits=0.0), "noise_hits must be positive"),
        (dict(photon_density=-1.0), "photon_density must be"),
        (dict(radius=-2.0), "radius must be positive"),
        (dict(thickness=0.0), "thickness must be positive"),
        (dict(x=[1.0, 2.0], y=[1.0, 2.0, 3.0]), "must broadcast together"),
    ],
)
def test_bad_arguments_get_one_sentence(kwargs, match):
    args = RING | kwargs
    rates = {k: args.pop(k) for k in ("noise_hits", "photon_density") if k in args}
    with pytest.raises(ValueError, match=match):
        bound.ring_image_fisher(**args, **rates)


def test_bound_controls_pass_on_the_simulator_and_fail_on_a_wrong_model():
    table = pd.DataFrame([RING])
    n = 600
    good = bound.bound_controls(table, n, seed=5).iloc[0]
    noise = np.sqrt(2 / n)
    assert abs(good["score / Fisher, x"] - 1) < 4 * noise
    assert abs(good["score / Fisher, radius"] - 1) < 4 * noise
    assert good["fit / bound, x"] > 1 - 3 / np.sqrt(2 * n)
    # The check can fail: against the bound of a ring with a quarter of the photons (a wrong
    # yardstick, twice as wide), the least-squares fit comes out "better than the bound".
    sparser = bound.ring_image_cramer_rao(**RING, photon_density=0.75).iloc[0]
    assert good["fit / bound, x"] * good["bound x"] / sparser["x"] < 1 - 3 / np.sqrt(2 * n)
    with pytest.raises(ValueError, match="give the ring as"):
        bound.same_ring_labels(3, x=1.0, y=2.0)
