"""Size guards and the seed check (issue 25): a3net._validation.check_memory and check_seed, and
the estimates of every simulator, which must refuse absurd sizes at once and never what a
chapter asks for, up to the ``full`` profile."""

from __future__ import annotations

import numpy as np
import pytest

from a3net import config
from a3net._validation import DEFAULT_MAX_GB, check_memory, check_seed, memory_limit_gb
from a3net.data import clusters, cosmology, gaussian_maps, photometry, rings, spectra

# ------------------------------------------------------------------ check_seed


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, np.int64(7), np.uint32(3)])
def test_check_seed_accepts_whole_numbers_below_2_32(seed):
    assert check_seed(seed) == int(seed) and type(check_seed(seed)) is int


@pytest.mark.parametrize(
    ("seed", "error"),
    [
        (-1, ValueError),
        (2**32, ValueError),
        (2**40, ValueError),
        (1.5, TypeError),
        (1.0, TypeError),
        ("3", TypeError),
        (True, TypeError),
        (np.bool_(False), TypeError),
        (None, TypeError),
        ([1], TypeError),
    ],
)
def test_check_seed_refuses_with_one_sentence(seed, error):
    with pytest.raises(error, match=r"seed must be a whole number in \[0, 2\*\*32\)"):
        check_seed(seed)


def test_check_seed_options_and_name():
    rng = np.random.default_rng(0)
    assert check_seed(rng, generator=True) is rng
    assert check_seed(None, none=True) is None
    with pytest.raises(TypeError, match="or a numpy Generator"):
        check_seed("a", generator=True)
    with pytest.raises(TypeError, match="random_state must"):
        check_seed(rng, "random_state")


# ------------------------------------------------------------------ check_memory


def test_check_memory_limit_and_message(monkeypatch):
    monkeypatch.delenv("A3NET_MAX_GB", raising=False)
    assert memory_limit_gb() == DEFAULT_MAX_GB
    assert check_memory(2**30, "one GiB") == pytest.approx(1.0)
    with pytest.raises(MemoryError, match=r"ten GiB would need about 10 GiB .* A3NET_MAX_GB"):
        check_memory(10 * 2**30, "ten GiB")
    assert check_memory(10 * 2**30, "ten GiB", limit=16) == pytest.approx(10.0)
    monkeypatch.setenv("A3NET_MAX_GB", "32")
    assert check_memory(10 * 2**30, "ten GiB") == pytest.approx(10.0)
    monkeypatch.setenv("A3NET_MAX_GB", "0.5")
    with pytest.raises(MemoryError, match="limit of 0.5 GiB"):
        check_memory(2**30, "one GiB")
    for bad in ("lots", "-1", "0", "nan", "inf"):
        monkeypatch.setenv("A3NET_MAX_GB", bad)
        with pytest.raises(ValueError, match="A3NET_MAX_GB must be a positive number of GiB"):
            check_memory(1, "anything")


def test_absurd_sizes_are_refused_at_once(monkeypatch):
    monkeypatch.delenv("A3NET_MAX_GB", raising=False)
    for call in (
        lambda: rings.simulate_rings(10**9),
        lambda: clusters.simulate_clusters(10**9),
        lambda: photometry.simulate_catalogue(10**9),
        lambda: spectra.simulate_spectra(10**9),
        lambda: cosmology.simulate_maps(cosmology.latin_hypercube(1), map_size=5000),
        lambda: gaussian_maps.gaussian_control_maps(cosmology.latin_hypercube(1), map_size=10**5),
    ):
        with pytest.raises(MemoryError, match="A3NET_MAX_GB"):
            call()


# ------------------------------------------------------------------ the chapters' sizes pass


class _Estimated(Exception):
    pass


def _estimate(monkeypatch, module, call) -> float:
    """The memory [GiB] ``call`` estimates through ``module.check_memory``, without running it."""
    seen = []

    def record(n_bytes, what, *, limit=None):
        seen.append(check_memory(n_bytes, what, limit=float("inf")))
        raise _Estimated

    monkeypatch.setattr(module, "check_memory", record)
    with pytest.raises(_Estimated):
        call()
    monkeypatch.undo()
    return seen[0]


def _full(chapter):
    return config.settings(chapter, "full")


def _chapter_calls():
    a, b, c, d = (_full(x) for x in "ABCD")
    e, f, g, h = (_full(x) for x in "EFGH")
    params = cosmology.latin_hypercube(max(e.n_sims, h.n_sims, e.n_sims_shift))
    yield "A spectra", spectra, lambda: spectra.simulate_spectra(a.n_spectra)
    yield "B spectra", spectra, lambda: spectra.simulate_spectra(b.n_spectra)
    yield "C catalogue", photometry, lambda: photometry.simulate_catalogue(c.n_galaxies)
    for name, p in (("D", d), ("G", g)):
        yield (
            f"{name} clusters",
            clusters,
            lambda p=p: clusters.simulate_clusters(
                p.n_clusters,
                projections=p.projections,
                config=clusters.ClusterConfig(image_size=p.image_size),
            ),
        )
    for name, p in (("E", e), ("H", h)):
        yield (
            f"{name} maps",
            cosmology,
            lambda p=p: cosmology.simulate_maps(
                params[: p.n_sims], map_size=p.map_size, grid=p.grid
            ),
        )
    yield (
        "H control maps",
        gaussian_maps,
        lambda: gaussian_maps.gaussian_control_maps(
            params[: h.n_control_sims], map_size=h.map_size
        ),
    )
    largest = max(f.n_count, f.n_regress, f.n_ellipse, f.n_cvae)
    yield "F rings", rings, lambda: rings.simulate_rings(largest, max_rings=max(f.count_max_rings))


@pytest.mark.parametrize(("name", "module", "call"), list(_chapter_calls()), ids=lambda v: v)
def test_the_full_profile_fits_the_default_limit(name, module, call, monkeypatch):
    gib = _estimate(monkeypatch, module, call)
    assert 0 < gib < DEFAULT_MAX_GB, f"{name}: {gib:.2f} GiB"
