"""a3net.data.camels_files: the CMD LH maps and params files, read through a memory map.

The tests write small files in the exact CMD format (float32 (15 n, S, S) .npy, a whitespace
params table of n rows x 6) into tmp_path; downloads go to a local http.server on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from a3net.data import camels_files as CF
from a3net.data import fetch as F
from a3net.data import registry
from a3net.data.registry import cosmology as RC

S = 32  # pixels of the test maps (the real ones have 256)
N_SIMS = 3


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private, empty cache; online by default; no proxies for loopback."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("A3NET_DATA", str(cache))
    monkeypatch.delenv("A3NET_OFFLINE", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return cache


def _params(n=N_SIMS, seed=0):
    rng = np.random.default_rng(seed)
    low = np.array([CF.PARAMETER_RANGES[p][0] for p in CF.PARAMETER_NAMES])
    high = np.array([CF.PARAMETER_RANGES[p][1] for p in CF.PARAMETER_NAMES])
    return np.round(low + (high - low) * rng.random((n, 6)), 5)


def _maps(n=N_SIMS, size=S, seed=1, offset=0.0):
    """Positive float32 maps whose values also encode their index i (i + 1 + noise)."""
    rng = np.random.default_rng(seed)
    index = np.arange(15 * n, dtype=np.float32)[:, None, None]
    return (index + 1 + offset + rng.random((15 * n, size, size))).astype(np.float32)


def _write(folder, *, n=N_SIMS, size=S, params=None, mtot=None, p=None):
    """CMD-format files in ``folder``; returns (sources dict, params, mtot, p)."""
    folder.mkdir(parents=True, exist_ok=True)
    params = _params(n) if params is None else params
    mtot = _maps(n, size) if mtot is None else mtot
    p = _maps(n, size, seed=2, offset=1000.0) if p is None else p
    files = {
        "params": folder / "params_LH_IllustrisTNG.txt",
        "Mtot": folder / "Maps_Mtot_IllustrisTNG_LH_z=0.00.npy",
        "P": folder / "Maps_P_IllustrisTNG_LH_z=0.00.npy",
    }
    np.savetxt(files["params"], params, fmt="%.5f")
    np.save(files["Mtot"], mtot)
    np.save(files["P"], p)
    return {k: str(v) for k, v in files.items()}, params, mtot, p


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


def test_params_one_row_per_simulation(tmp_path):
    sources, params, _, _ = _write(tmp_path / "d")
    df = CF.load_camels_params("IllustrisTNG", source=sources["params"])
    assert list(df.columns) == list(CF.PARAMETER_NAMES)
    assert df.index.name == "sim_id" and list(df.index) == [0, 1, 2]
    np.testing.assert_allclose(df.to_numpy(), params)
    assert df.attrs["source"] == sources["params"]


def test_params_errors(tmp_path):
    bad = tmp_path / "seven.txt"
    np.savetxt(bad, np.full((4, 7), 0.5))
    with pytest.raises(ValueError, match="has 7 columns but a CMD LH params file has 6"):
        CF.load_camels_params("SIMBA", source=bad)
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("0.3 0.8 1 1 1 1\n0.3 0.8 1 1 1\n")
    with pytest.raises(ValueError, match="same number of columns"):
        CF.load_camels_params("SIMBA", source=ragged)
    text = tmp_path / "text.txt"
    text.write_text("Omega_m sigma_8 A_SN1 A_AGN1 A_SN2 A_AGN2\n0.3 0.8 1 1 1 1\n")
    with pytest.raises(ValueError, match="not a table of numbers"):
        CF.load_camels_params("SIMBA", source=text)
    swapped = tmp_path / "swapped.txt"
    values = _params(5)
    np.savetxt(swapped, values[:, [1, 0, 2, 3, 4, 5]])  # sigma_8 first
    with pytest.raises(
        ValueError, match=r"column 1 \(omega_m\) has \d+ values outside .*0\.1, 0\.5"
    ):
        CF.load_camels_params("SIMBA", source=swapped)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="no rows"):
        CF.load_camels_params("SIMBA", source=empty)
    with pytest.raises(ValueError, match="does not exist"):
        CF.load_camels_params("SIMBA", source=tmp_path / "absent.txt")
    with pytest.raises(ValueError, match="'IllustrisTNG', 'SIMBA'"):
        CF.load_camels_params("TNG", source=swapped)


# ----------------------------------------------------------------------------------------------
# Maps: shapes, catalogue, downsampling, rows read
# ----------------------------------------------------------------------------------------------


def test_maps_shapes_catalogue_and_parameters(tmp_path):
    sources, params, mtot, p = _write(tmp_path / "d")
    maps, cat = CF.load_camels_maps("IllustrisTNG", sources=sources, map_size=8)
    assert maps.shape == (45, 2, 8, 8) and maps.dtype == np.float32
    assert list(cat.columns) == ["sim_id", "axis", "slab", *CF.PARAMETER_NAMES]
    i = np.arange(45)
    np.testing.assert_array_equal(cat["sim_id"], i // 15)
    np.testing.assert_array_equal(cat["axis"], (i % 15) // 5)
    np.testing.assert_array_equal(cat["slab"], i % 5)
    np.testing.assert_allclose(cat[list(CF.PARAMETER_NAMES)].to_numpy(), params[i // 15])
    # channel order as requested, each map from its own row: value i + 1 + U(0, 1) in Mtot
    assert np.all(np.floor(maps[:, 0].min(axis=(1, 2))) == i + 1)
    assert np.all(maps[:, 1] > 1000)
    assert cat.attrs["suite"] == "IllustrisTNG" and cat.attrs["fields"] == ("Mtot", "P")
    assert cat.attrs["map_size"] == 8
    swapped, _ = CF.load_camels_maps("IllustrisTNG", ("P", "Mtot"), sources=sources, map_size=8)
    np.testing.assert_array_equal(swapped, maps[:, ::-1])
    one, cat1 = CF.load_camels_maps("IllustrisTNG", "P", sources=sources, n_sims=1, map_size=16)
    assert one.shape == (15, 1, 16, 16) and list(cat1["sim_id"]) == [0] * 15


def test_block_mean_conserves_the_mean_and_matches_a_direct_average(tmp_path):
    sources, _, mtot, _ = _write(tmp_path / "d")
    full, _ = CF.load_camels_maps("IllustrisTNG", ("Mtot",), sources=sources, map_size=S)
    np.testing.assert_array_equal(full[:, 0], mtot)  # map_size = S: the maps as they are
    small, _ = CF.load_camels_maps("IllustrisTNG", ("Mtot",), sources=sources, map_size=8)
    np.testing.assert_allclose(small.mean(axis=(2, 3))[:, 0], mtot.mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(small[7, 0, 2, 3], mtot[7, 8:12, 12:16].mean(), rtol=1e-6)
    assert small.std() < mtot.std()  # averaging 4 x 4 blocks smooths the noise
    np.testing.assert_allclose(CF.block_mean(mtot, 4), small[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="cannot be cut into 3 x 3 blocks"):
        CF.block_mean(mtot, 3)


def test_sims_are_read_from_a_memmap_in_the_order_asked(tmp_path, monkeypatch):
    n = 20
    sources, params, mtot, p = _write(tmp_path / "d", n=n)
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("mmap_mode"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    maps, cat = CF.load_camels_maps("IllustrisTNG", sources=sources, sims=[2], map_size=S)
    assert calls == ["r", "r"]  # both maps files opened as memory maps
    np.testing.assert_array_equal(maps[:, 0], mtot[30:45])
    np.testing.assert_array_equal(maps[:, 1], p[30:45])
    assert list(cat["sim_id"]) == [2] * 15
    np.testing.assert_allclose(cat.loc[0, list(CF.PARAMETER_NAMES)].to_numpy(float), params[2])
    picked, cat2 = CF.load_camels_maps(
        "IllustrisTNG", "Mtot", sources=sources, sims=[7, 0, 13], map_size=16
    )
    assert list(cat2["sim_id"]) == [7] * 15 + [0] * 15 + [13] * 15
    np.testing.assert_allclose(picked[:15, 0], CF.block_mean(mtot[105:120], 2), rtol=1e-6)
    np.testing.assert_allclose(picked[15:30, 0], CF.block_mean(mtot[:15], 2), rtol=1e-6)


def test_only_the_requested_rows_are_read_and_bad_pixels_are_reported(tmp_path):
    mtot = _maps()
    mtot[17, 3, 4] = np.nan  # simulation 1
    mtot[20, 0, 0] = 0.0  # simulation 1
    mtot[40, 1, 1] = -2.0  # simulation 2
    sources, _, _, _ = _write(tmp_path / "d", mtot=mtot)
    maps, cat = CF.load_camels_maps("IllustrisTNG", sources=sources, sims=[0], map_size=8)
    assert np.isfinite(maps).all() and set(cat["sim_id"]) == {0}
    with pytest.raises(
        ValueError,
        match=r"field 'Mtot'\) holds 2 non-positive and 1 NaN or infinite pixels in 2 "
        r"simulations \(1, 2\).*positive and finite.*sims=",
    ):
        CF.load_camels_maps("IllustrisTNG", sources=sources, map_size=8)


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def test_wrong_files_and_arguments(tmp_path):
    sources, _, mtot, _ = _write(tmp_path / "d")

    def load(*args, **kwargs):
        kwargs.setdefault("map_size", 16)
        return CF.load_camels_maps(*args, **kwargs)

    flat = tmp_path / "flat.npy"
    np.save(flat, mtot[:, 0])  # 2-D
    with pytest.raises(ValueError, match=r"shape \(45, 32\), but a CMD maps file holds"):
        load("IllustrisTNG", "Mtot", sources={**sources, "Mtot": str(flat)})
    oblong = tmp_path / "oblong.npy"
    np.save(oblong, mtot[:, :, :16])
    with pytest.raises(ValueError, match=r"\(N, S, S\)"):
        load("IllustrisTNG", "Mtot", sources={**sources, "Mtot": str(oblong)})
    short = tmp_path / "short.npy"
    np.save(short, mtot[:30])
    with pytest.raises(
        ValueError, match="params file has 3 rows but the maps file holds 30 maps = 2 simulations"
    ):
        load("IllustrisTNG", "Mtot", sources={**sources, "Mtot": str(short)})
    odd = tmp_path / "odd.npy"
    np.save(odd, mtot[:40])
    with pytest.raises(ValueError, match="40 maps, not a multiple of 15"):
        load("IllustrisTNG", "Mtot", sources={**sources, "Mtot": str(odd)})
    smaller = tmp_path / "smaller.npy"
    np.save(smaller, mtot[:, :16, :16])
    with pytest.raises(ValueError, match="different shapes"):
        load("IllustrisTNG", sources={**sources, "P": str(smaller)})
    cut = tmp_path / "cut.npy"
    cut.write_bytes(open(sources["Mtot"], "rb").read()[:5000])  # an interrupted download
    with pytest.raises(ValueError, match="not a complete .npy array file"):
        load("IllustrisTNG", "Mtot", sources={**sources, "Mtot": str(cut)})
    with pytest.raises(ValueError, match="map_size=5 does not divide the maps' 32 pixels"):
        load("IllustrisTNG", sources=sources, map_size=5)
    with pytest.raises(ValueError, match="map_size must be a whole number"):
        load("IllustrisTNG", sources=sources, map_size=0)
    with pytest.raises(ValueError, match=r"unknown names \['HI'\].*'Mtot', 'P'"):
        load("IllustrisTNG", ("Mtot", "HI"), sources=sources)
    with pytest.raises(ValueError, match="twice"):
        load("IllustrisTNG", ("P", "P"), sources=sources)
    with pytest.raises(ValueError, match="suite must be one of 'IllustrisTNG', 'SIMBA'"):
        load("Astrid", sources=sources)
    with pytest.raises(ValueError, match=r"unknown keys \['maps'\]"):
        load("IllustrisTNG", sources={"maps": sources["Mtot"]})
    with pytest.raises(ValueError, match="not both"):
        load("IllustrisTNG", sources=sources, n_sims=1, sims=[0])
    with pytest.raises(ValueError, match="n_sims=4 asks for more simulations"):
        load("IllustrisTNG", sources=sources, n_sims=4)
    with pytest.raises(ValueError, match=r"sims must be simulation ids in \[0, 2\]"):
        load("IllustrisTNG", sources=sources, sims=[1, 3])
    with pytest.raises(ValueError, match="more than once"):
        load("IllustrisTNG", sources=sources, sims=[1, 1])
    with pytest.raises(ValueError, match="integer simulation ids"):
        load("IllustrisTNG", sources=sources, sims=[0.5])


# ----------------------------------------------------------------------------------------------
# Where the files come from: cache folder, download, offline
# ----------------------------------------------------------------------------------------------


def test_offline_and_missing_gives_one_clear_sentence(isolated, monkeypatch):
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    with pytest.raises(F.DataUnavailableError) as info:
        CF.load_camels_maps("SIMBA", "Mtot", n_sims=2)
    message = str(info.value)
    assert "'params_LH_SIMBA.txt'" in message and "offline mode is on" in message
    assert str(isolated / "camels" / "params_LH_SIMBA.txt") in message
    assert RC.params_file("SIMBA").urls[0] in message and "sources={'params': path}" in message
    assert message.count(". ") == 0 and message.endswith(".")
    with pytest.raises(F.DataUnavailableError, match="'Maps_P_IllustrisTNG_LH_z=0.00.npy' \\(3.9"):
        sources, *_ = _write(isolated.parent / "d")
        CF.load_camels_maps("IllustrisTNG", "P", sources={"params": sources["params"]})


def test_files_placed_by_hand_in_the_cache_folder_are_used_offline(isolated, monkeypatch):
    _, params, mtot, p = _write(isolated / "camels")
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    maps, cat = CF.load_camels_maps("IllustrisTNG", map_size=16)
    assert maps.shape == (45, 2, 16, 16)
    np.testing.assert_allclose(maps[:, 1], CF.block_mean(p, 2), rtol=1e-6)
    df = CF.load_camels_params("IllustrisTNG")
    np.testing.assert_allclose(df.to_numpy(), params)


def test_whole_download_from_the_second_address_then_cache_hit_offline(
    served, monkeypatch, isolated
):
    """http.server's plain handler ignores Range: with allow_full_download=True the whole file
    is downloaded once, as before partial downloads (tests/test_camels_partial.py)."""
    base, www, stop = served
    _, params, mtot, _ = _write(www / "IllustrisTNG")
    monkeypatch.setattr(RC, "BASE_URLS", (f"{base}/missing", base))  # first address answers 404
    monkeypatch.setattr(RC, "MAPS_SHAPE", mtot.shape)
    with pytest.raises(CF.RangeRequestError, match="allow_full_download=True"):
        CF.load_camels_maps("IllustrisTNG", "Mtot", map_size=S)
    maps, cat = CF.load_camels_maps("IllustrisTNG", "Mtot", map_size=S, allow_full_download=True)
    np.testing.assert_array_equal(maps[:, 0], mtot)
    np.testing.assert_allclose(cat[list(CF.PARAMETER_NAMES)].to_numpy()[::15], params)
    assert all(str(isolated / "urls") in f for f in cat.attrs["files"])
    stop()
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    again, _ = CF.load_camels_maps("IllustrisTNG", "Mtot", map_size=S)  # from the cache
    np.testing.assert_array_equal(again, maps)


def test_download_failure_names_the_reason(served, monkeypatch):
    base, www, stop = served
    monkeypatch.setattr(RC, "BASE_URLS", (f"{base}/nothing",))
    with pytest.raises(F.DataUnavailableError, match="or pass its path as source=path"):
        CF.load_camels_params("SIMBA")
    with pytest.raises(
        F.DataUnavailableError, match=r"could not be downloaded \(the server answered HTTP 404\)"
    ):
        CF.load_camels_params("SIMBA")


def test_sources_may_be_urls(served):
    base, www, stop = served
    _, params, mtot, _ = _write(www)
    sources = {
        "params": f"{base}/params_LH_IllustrisTNG.txt",
        "Mtot": f"{base}/Maps_Mtot_IllustrisTNG_LH_z=0.00.npy",
    }
    maps, _ = CF.load_camels_maps(
        "IllustrisTNG", "Mtot", sources=sources, sims=[1], map_size=S, allow_full_download=True
    )
    np.testing.assert_array_equal(maps[:, 0], mtot[15:30])


# ----------------------------------------------------------------------------------------------
# Registry and conventions
# ----------------------------------------------------------------------------------------------


def test_registry_lists_the_cmd_urls_outside_the_checksummed_domains():
    names = {entry.filename for entry in RC.URL_FILES}
    assert names == {
        f"{kind}_{suite}{tail}"
        for suite in CF.SUITES
        for kind, tail in (("Maps_Mtot", "_LH_z=0.00.npy"), ("Maps_P", "_LH_z=0.00.npy"))
    } | {f"params_LH_{suite}.txt" for suite in CF.SUITES}
    entry = RC.maps_file("Mtot", "IllustrisTNG")
    assert entry.urls[0] == (
        "https://users.flatironinstitute.org/~camels/CMD/2D_maps/data/IllustrisTNG/"
        "Maps_Mtot_IllustrisTNG_LH_z=0.00.npy"
    )
    assert entry.size_bytes > 3.9e9 and len(entry.urls) == 2
    assert RC not in registry.DOMAINS  # no sha256 is published: not a checksummed Row
    assert not any("flatironinstitute" in d.url for d in F.REGISTRY.values())


def test_conventions_match_the_cosmology_module():
    cosmology = pytest.importorskip("a3net.data.cosmology")
    assert tuple(cosmology.PARAMETER_NAMES) == CF.PARAMETER_NAMES
    assert {k: tuple(v) for k, v in cosmology.PARAMETER_RANGES.items()} == CF.PARAMETER_RANGES
    assert set(cosmology.LOG_UNIFORM) == set(CF.LOG_UNIFORM)
    assert tuple(cosmology.FIELDS) == CF.FIELDS and tuple(cosmology.SUITES) == CF.SUITES
    assert cosmology.MAPS_PER_SIMULATION == CF.MAPS_PER_SIMULATION


def test_catalogue_columns_match_the_simulator(tmp_path):
    cosmology = pytest.importorskip("a3net.data.cosmology")
    if not hasattr(cosmology, "simulate_maps"):
        pytest.skip("a3net.data.cosmology.simulate_maps is not written yet")
    sources, *_ = _write(tmp_path / "d")
    _, cat = CF.load_camels_maps("IllustrisTNG", sources=sources, n_sims=1, map_size=16)
    params = cosmology.latin_hypercube(1, seed=0)
    _, sim_cat = cosmology.simulate_maps(params, map_size=16, seed=0)
    assert list(cat.columns) == list(sim_cat.columns)
    assert isinstance(cat, pd.DataFrame)


@pytest.mark.parametrize(
    "damage",
    [
        "binary params",
        "nul in params",
        "png params",
        "flipped maps header",
        "text maps",
        "npz maps",
    ],
)
def test_damaged_camels_files_are_one_sentence(tmp_path, damage):
    sources, *_ = _write(tmp_path / "cmd")
    params, mtot = Path(sources["params"]), Path(sources["Mtot"])
    if damage == "binary params":
        params.write_bytes(bytes(range(256)) * 4)
    elif damage == "nul in params":
        params.write_bytes(params.read_bytes().replace(b" ", b"\x00", 1))
    elif damage == "png params":
        params.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    elif damage == "flipped maps header":
        data = bytearray(mtot.read_bytes())
        data[10:20] = b"\xff" * 10
        mtot.write_bytes(bytes(data))
    elif damage == "text maps":
        mtot.write_text("a page of notes\n")
    else:
        with open(mtot, "wb") as fh:
            np.savez(fh, maps=np.ones((15, 8, 8), np.float32))
    with pytest.raises(ValueError, match="is not a complete|is a .npz archive") as info:
        if "params" in damage:
            CF.load_camels_params("IllustrisTNG", source=sources["params"])
        else:
            CF.load_camels_maps("IllustrisTNG", "Mtot", sources=sources, map_size=8)
    message = str(info.value)
    assert ("params" in damage and params.name in message) or mtot.name in message
    assert "\n" not in message and len(message) <= 400
