"""a3net.data.fetch: registry validation, download + checksum, cache hits, offline messages.

Downloads go to a small file served by a local http.server on 127.0.0.1 (no outside traffic).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from a3net.data import fetch as F
from a3net.data import registry

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
PAYLOAD = b"# a3net test file\n1 2 3 4 5\n" * 50


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private cache, no proxies for loopback, online by default, and the registry restored."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("A3NET_DATA", str(cache))
    monkeypatch.delenv("A3NET_OFFLINE", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    saved = dict(F.REGISTRY)
    yield cache
    F.REGISTRY.clear()
    F.REGISTRY.update(saved)


def _register(name, url, sha):
    return F.register(
        F.Dataset(
            name=name,
            url=url,
            sha256=sha,
            description="a tiny test table",
            how_to_get="ask the test suite for it and put it in A3NET_DATA",
            size_bytes=len(PAYLOAD),
        )
    )


def test_data_dir_follows_env(isolated, monkeypatch):
    assert F.data_dir() == isolated
    monkeypatch.delenv("A3NET_DATA")
    assert F.data_dir().name == "a3net"


def test_download_verify_then_cache_hit_without_server(served, isolated):
    base, www, stop = served
    (www / "table.txt").write_bytes(PAYLOAD)
    _register("test/table.txt", f"{base}/table.txt", hashlib.sha256(PAYLOAD).hexdigest())

    assert not F.is_available("test/table.txt")
    path = F.fetch("test/table.txt")
    assert path == isolated / "test" / "table.txt" == F.path_in_cache("test/table.txt")
    assert path.read_bytes() == PAYLOAD
    assert F.is_available("test/table.txt")

    stop()  # no server any more: the cached, verified copy must be returned without network
    assert F.fetch("test/table.txt") == path
    assert F.fetch("test/table.txt", offline=True) == path


def test_data_dir_argument_overrides_env(served, tmp_path):
    base, www, _ = served
    (www / "t.txt").write_bytes(PAYLOAD)
    _register("test/t.txt", f"{base}/t.txt", hashlib.sha256(PAYLOAD).hexdigest())
    other = tmp_path / "elsewhere"
    assert F.fetch("test/t.txt", data_dir=other) == other / "test" / "t.txt"
    assert F.is_available("test/t.txt", data_dir=other)
    assert not F.is_available("test/t.txt")


@pytest.mark.parametrize("how", ["argument", "env"])
def test_offline_and_absent_raises_one_clear_sentence(served, monkeypatch, how):
    base, www, _ = served
    (www / "table.txt").write_bytes(PAYLOAD)
    url = f"{base}/table.txt"
    _register("test/table.txt", url, hashlib.sha256(PAYLOAD).hexdigest())
    kwargs = {"offline": True} if how == "argument" else {}
    if how == "env":
        monkeypatch.setenv("A3NET_OFFLINE", "1")
    with pytest.raises(F.DataUnavailableError) as info:
        F.fetch("test/table.txt", **kwargs)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "'test/table.txt'" in msg and url in msg
    assert str(F.path_in_cache("test/table.txt")) in msg
    assert "ask the test suite" in msg  # the how_to_get sentence
    assert msg.count(". ") == 0 and "\n" not in msg  # one sentence
    assert not F.path_in_cache("test/table.txt").exists()


def test_network_failure_is_data_unavailable(served):
    base, www, stop = served
    _register("test/missing.txt", f"{base}/missing.txt", "0" * 64)  # 404 on the server
    with pytest.raises(F.DataUnavailableError, match="missing.txt.*download failed.*HTTP 404"):
        F.fetch("test/missing.txt")
    stop()
    with pytest.raises(F.DataUnavailableError, match=r"no connection to 127\.0\.0\.1"):
        F.fetch("test/missing.txt")
    assert not F.path_in_cache("test/missing.txt").exists()


def test_wrong_hash_is_rejected_and_not_kept(served):
    base, www, _ = served
    (www / "table.txt").write_bytes(PAYLOAD)
    expected = hashlib.sha256(b"something else").hexdigest()
    actual = hashlib.sha256(PAYLOAD).hexdigest()
    _register("test/table.txt", f"{base}/table.txt", expected)
    with pytest.raises(F.ChecksumError) as info:
        F.fetch("test/table.txt")
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "test/table.txt" in msg and expected in msg and actual in msg
    target = F.path_in_cache("test/table.txt")
    assert not target.exists()
    assert not F.is_available("test/table.txt")
    leftovers = [p for p in target.parent.glob("*")] if target.parent.exists() else []
    assert leftovers == []


def test_corrupt_cached_file_is_replaced_or_set_aside(served):
    base, www, stop = served
    (www / "table.txt").write_bytes(PAYLOAD)
    _register("test/table.txt", f"{base}/table.txt", hashlib.sha256(PAYLOAD).hexdigest())
    target = F.path_in_cache("test/table.txt")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated")
    assert F.fetch("test/table.txt").read_bytes() == PAYLOAD  # online: downloaded again

    target.write_bytes(b"truncated again")
    stop()
    with pytest.raises(F.ChecksumError, match="wrong sha256"):
        F.fetch("test/table.txt", offline=True)
    assert not target.exists()  # moved aside, never returned as valid
    assert (target.parent / "table.txt.corrupt").read_bytes() == b"truncated again"


def test_file_url(tmp_path):
    src = tmp_path / "local.bin"
    src.write_bytes(PAYLOAD)
    _register("test/local.bin", src.as_uri(), hashlib.sha256(PAYLOAD).hexdigest())
    assert F.fetch("test/local.bin").read_bytes() == PAYLOAD


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown dataset 'sdss/spDR2-23\.fit'.*spDR2-023\.fit"):
        F.fetch("sdss/spDR2-23.fit")
    with pytest.raises(ValueError, match="Known datasets: .*clusters/DeepPlanck.csv"):
        F.path_in_cache("nothing/like/this")
    with pytest.raises(TypeError, match="must be a str"):
        F.fetch(42)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("sha256", "abc", "64 lowercase hexadecimal"),
        ("sha256", "G" * 64, "64 lowercase hexadecimal"),
        ("url", "ftp://example.org/x", "http://, https:// or file://"),
        ("url", "example.org/x", "http://, https:// or file://"),
        ("name", "../escape.txt", "is invalid"),
        ("name", "/abs/path.txt", "is invalid"),
        ("size_bytes", -1, "non-negative"),
        ("how_to_get", "", "how_to_get"),
    ],
)
def test_bad_registrations_are_rejected(field, value, message):
    good = dict(
        name="test/ok.txt",
        url="https://example.org/ok.txt",
        sha256="a" * 64,
        description="d",
        how_to_get="h",
    )
    good[field] = value
    with pytest.raises(ValueError, match=message):
        F.register(F.Dataset(**good))
    assert "test/ok.txt" not in F.REGISTRY


def test_duplicates_and_wrong_types_are_rejected():
    with pytest.raises(ValueError, match="already registered"):
        F.register(F.REGISTRY["sdss/spDR2-023.fit"])
    with pytest.raises(TypeError, match="Dataset"):
        F.register({"name": "x"})


def test_registry_contents():
    names = set(F.REGISTRY)
    assert {f"sdss/spDR2-0{i}.fit" for i in range(23, 29)} <= names
    assert "sdss/spec-0266-51602-0013.fits" in names
    assert "photoz/sdss-ugriz-train.dat" in names
    assert "clusters/DeepPlanck.csv" in names
    for ds in F.REGISTRY.values():
        assert ds.url.startswith("https://raw.githubusercontent.com/")
        assert ds.how_to_get and ds.description and ds.size_bytes


def test_registry_is_the_rows_of_the_domain_modules():
    rows = registry.rows()
    assert [row.name for row in rows] == list(F.REGISTRY)  # each row registered, exactly once
    assert {d.__name__.rsplit(".", 1)[1] for d in registry.DOMAINS} >= {
        "spectra",
        "photometry",
        "clusters",
    }
    folders = [{row.name.split("/")[0] for row in d.FILES} for d in registry.DOMAINS]
    assert all(folders) and sum(map(len, folders)) == len(set().union(*folders)), (
        f"each cache folder belongs to one domain, got {folders}"
    )
    for row in rows:
        assert F.REGISTRY[row.name].url.endswith(f"/{row.source.commit}/{row.path}")
        assert row.source.by_hand in F.REGISTRY[row.name].how_to_get


def _shared_copy(ds: F.Dataset, index) -> Path:
    """The ../shared/realdata file with the same repository, commit and path as ``ds.url``."""
    parts = urllib.parse.unquote(urllib.parse.urlsplit(ds.url).path).lstrip("/").split("/")
    repo, commit, path = "/".join(parts[:2]), parts[2], "/".join(parts[3:])
    for folder, filename, _size, src_repo, src_path, src_commit in index:
        if (src_repo, src_commit, src_path) == (repo, commit, path):
            return REALDATA / folder / filename
    raise AssertionError(f"{ds.name}: {ds.url} is not in provenance_index.json")


def test_registered_sha256_match_shared_realdata():
    if not REALDATA.is_dir():
        pytest.skip(f"the shared real-data folder {REALDATA} is absent")
    index = json.loads((REALDATA / "provenance_index.json").read_text())
    for ds in F.REGISTRY.values():
        copy = _shared_copy(ds, index)
        assert copy.stat().st_size == ds.size_bytes, ds.name
        assert F.file_sha256(copy) == ds.sha256, ds.name


def test_real_file_placed_by_hand_is_used_offline(isolated):
    if not REALDATA.is_dir():
        pytest.skip(f"the shared real-data folder {REALDATA} is absent")
    src = REALDATA / "sdss_spDR2_templates" / "spDR2-023.fit"
    target = F.path_in_cache("sdss/spDR2-023.fit")
    target.parent.mkdir(parents=True)
    shutil.copyfile(src, target)  # into the tmp cache, never into the repository
    assert F.is_available("sdss/spDR2-023.fit")
    assert F.fetch("sdss/spDR2-023.fit", offline=True) == target


def test_fill_cache_copies_registered_files_found_by_checksum(isolated, tmp_path):
    """A folder holding a registered file under another name fills the cache; others are skipped."""
    payload = b"u g r i z\n" * 50
    F.register(
        F.Dataset(
            name="test/fill_me.dat",
            url="https://example.invalid/fill_me.dat",
            sha256=hashlib.sha256(payload).hexdigest(),
            description="test file",
            how_to_get="nowhere",
            size_bytes=len(payload),
        )
    )
    folder = tmp_path / "local"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "renamed.txt").write_bytes(payload)
    (folder / "other.txt").write_bytes(b"x" * len(payload))  # same size, wrong checksum
    assert F.fill_cache(folder) == ["test/fill_me.dat"]
    assert F.fetch("test/fill_me.dat", offline=True).read_bytes() == payload
    assert F.fill_cache(folder) == []  # already cached: nothing copied again
    with pytest.raises(FileNotFoundError, match="does not exist"):
        F.fill_cache(tmp_path / "missing")


# ----------------------------------------------------------------------------------------------
# Atomic downloads, orphans, fill_cache, A3NET_OFFLINE, read-only caches (issue 25)
# ----------------------------------------------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _interrupting_download(payload: bytes):
    """An HTTPDownloader.__call__ that writes half the file, then is interrupted (Ctrl-C)."""

    def call(self, url, output_file, pooch_obj, check_only=False):
        with open(output_file, "wb") as fh:
            fh.write(payload[: len(payload) // 2])
        raise KeyboardInterrupt

    return call


def test_interrupted_download_leaves_nothing_under_the_final_name(served, monkeypatch):
    import pooch

    base, www, _ = served
    (www / "table.txt").write_bytes(PAYLOAD)
    _register("test/table.txt", f"{base}/table.txt", hashlib.sha256(PAYLOAD).hexdigest())
    target = F.path_in_cache("test/table.txt")
    with monkeypatch.context() as patch:
        patch.setattr(pooch.HTTPDownloader, "__call__", _interrupting_download(PAYLOAD))
        with pytest.raises(KeyboardInterrupt):
            F.fetch("test/table.txt")
    assert not target.exists()
    assert _leftovers(target.parent) == []  # the temporary file went too
    assert F.fetch("test/table.txt").read_bytes() == PAYLOAD  # and the next try works


def test_interrupted_fetch_url_leaves_nothing(served, monkeypatch):
    import pooch

    base, www, _ = served
    (www / "map.fits").write_bytes(PAYLOAD)
    with monkeypatch.context() as patch:
        patch.setattr(pooch.HTTPDownloader, "__call__", _interrupting_download(PAYLOAD))
        with pytest.raises(KeyboardInterrupt):
            F.fetch_url(f"{base}/map.fits", "source", offline=False)
    folders = list((F.data_dir() / "urls").glob("*"))
    assert all(_leftovers(f) == [] for f in folders)
    assert F.fetch_url(f"{base}/map.fits", "source", offline=False).read_bytes() == PAYLOAD


def test_orphans_of_a_killed_download_are_removed_but_not_those_of_a_live_one(served):
    import os
    import subprocess
    import sys

    base, www, _ = served
    (www / "table.txt").write_bytes(PAYLOAD)
    _register("test/table.txt", f"{base}/table.txt", hashlib.sha256(PAYLOAD).hexdigest())
    target = F.path_in_cache("test/table.txt")
    target.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    orphan = target.parent / f".table.txt.{dead.stdout.strip()}.x1.a3net-partial"
    mine = target.parent / f".table.txt.{os.getpid()}.x2.a3net-partial"
    live = target.parent / f".table.txt.{os.getppid()}.x3.a3net-partial"
    other = target.parent / "notes.txt"
    for path in (orphan, mine, live, other):
        path.write_bytes(b"half")
    assert F.fetch("test/table.txt").read_bytes() == PAYLOAD
    left = _leftovers(target.parent)
    assert orphan.name not in left and mine.name not in left
    if os.name != "nt":
        assert live.name in left  # another process may still be writing it
    assert "notes.txt" in left and "table.txt" in left


def test_fill_cache_interrupted_leaves_no_half_file(isolated, tmp_path, monkeypatch):
    payload = b"u g r i z\n" * 500
    F.register(
        F.Dataset(
            name="test/fill_me.dat",
            url="https://example.invalid/fill_me.dat",
            sha256=hashlib.sha256(payload).hexdigest(),
            description="test file",
            how_to_get="nowhere",
            size_bytes=len(payload),
        )
    )
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "fill_me.dat").write_bytes(payload)

    def half_then_interrupt(src, dst, length=0):
        dst.write(src.read(len(payload) // 2))
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(shutil, "copyfileobj", half_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            F.fill_cache(folder)
    target = F.path_in_cache("test/fill_me.dat")
    assert not target.exists() and _leftovers(target.parent) == []
    assert F.fill_cache(folder) == ["test/fill_me.dat"]
    assert target.read_bytes() == payload


@pytest.mark.parametrize("word", ["1", "true", "TRUE", " yes ", "on"])
def test_offline_words(word, monkeypatch):
    monkeypatch.setenv("A3NET_OFFLINE", word)
    assert F._offline_from_env() is True


@pytest.mark.parametrize("word", ["", "0", "false", "No", "off"])
def test_online_words(word, monkeypatch):
    monkeypatch.setenv("A3NET_OFFLINE", word)
    assert F._offline_from_env() is False


@pytest.mark.parametrize("word", ["maybe", "2", "offline", "y"])
def test_other_offline_words_are_refused_listing_the_accepted_ones(word, monkeypatch):
    monkeypatch.setenv("A3NET_OFFLINE", word)
    _register(
        "test/table.txt", "https://example.invalid/t.txt", hashlib.sha256(PAYLOAD).hexdigest()
    )
    with pytest.raises(ValueError, match="A3NET_OFFLINE") as info:
        F.fetch("test/table.txt")
    message = str(info.value)
    assert repr(word) in message and "true" in message and "off" in message


def test_corrupt_file_in_a_read_only_cache_is_one_sentence(served, monkeypatch):
    import os

    base, www, _ = served
    (www / "table.txt").write_bytes(PAYLOAD)
    _register("test/table.txt", f"{base}/table.txt", hashlib.sha256(PAYLOAD).hexdigest())
    target = F.path_in_cache("test/table.txt")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"half a file")
    denied = PermissionError(13, "Read-only file system")

    def replace(src, dst):
        raise denied

    monkeypatch.setattr(os, "replace", replace)  # what a read-only folder does (even to root)
    with pytest.raises(PermissionError) as info:
        F.fetch("test/table.txt")
    message = str(info.value)
    assert str(target) in message and "A3NET_DATA" in message and "corrupt" in message
    assert message.count(". ") == 0 and len(message) < 400
    assert target.read_bytes() == b"half a file"


# ----------------------------------------------------------------------------------------------
# Simulator caches: damaged files are simulated again, never returned
# ----------------------------------------------------------------------------------------------


def _cached_file(pattern: str) -> Path:
    (path,) = (F.data_dir() / "simulated").glob(pattern)
    return path


@pytest.mark.parametrize(
    "spoil",
    ["truncate", "empty", "flip", "wrong_shape", "wrong_dtype", "missing_array"],
)
def test_damaged_spectra_cache_is_simulated_again(spoil):
    from a3net.data import spectra as S
    from a3net.data._cache import CacheWarning

    first = S.simulate_spectra(3, seed=5, cache=True)
    path = _cached_file("spectra-*.npz")
    data = path.read_bytes()
    if spoil == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif spoil == "empty":
        path.write_bytes(b"")
    elif spoil == "flip":
        path.write_bytes(data[:100] + bytes(b ^ 0xFF for b in data[100:400]) + data[400:])
    else:
        with np.load(path) as archive:
            arrays = {k: archive[k] for k in archive.files}
        if spoil == "wrong_shape":
            arrays["flux"] = arrays["flux"][:2]
        elif spoil == "wrong_dtype":
            arrays["and_mask"] = arrays["and_mask"].astype(np.float64)
        else:
            del arrays["loglam"]
        np.savez(path, **arrays)
    with pytest.warns(CacheWarning, match="simulated again"):
        again = S.simulate_spectra(3, seed=5, cache=True)
    assert np.array_equal(again.flux, first.flux) and again.labels.equals(first.labels)
    third = S.simulate_spectra(3, seed=5, cache=True)  # the cache was written again
    assert np.array_equal(third.flux, first.flux)


@pytest.mark.parametrize("spoil", ["truncate", "text", "wrong_shape", "wrong_dtype", "npz"])
def test_damaged_maps_cache_is_simulated_again(spoil):
    from a3net.data import cosmology as C
    from a3net.data._cache import CacheWarning

    params = C.latin_hypercube(1, seed=0)
    first, _ = C.simulate_maps(params, map_size=8, grid=16, cache=True)
    path = _cached_file("cosmology-*.npy")
    if spoil == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif spoil == "text":
        path.write_text("not an array\n")
    elif spoil == "npz":
        with open(path, "wb") as fh:
            np.savez(fh, maps=first)
    else:
        wrong = first[:5] if spoil == "wrong_shape" else first.astype(np.float64)
        with open(path, "wb") as fh:
            np.save(fh, wrong)
    with pytest.warns(CacheWarning, match="simulated again"):
        again, _ = C.simulate_maps(params, map_size=8, grid=16, cache=True)
    assert again.dtype == np.float32 and np.array_equal(again, first)


def test_unwritable_simulator_cache_only_warns(monkeypatch):
    import os

    from a3net.data import spectra as S
    from a3net.data._cache import CacheWarning

    def replace(src, dst):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.warns(CacheWarning, match="could not be written"):
        result = S.simulate_spectra(2, seed=1, cache=True)
    assert result.flux.shape[0] == 2
    folder = F.data_dir() / "simulated"
    assert _leftovers(folder) == []  # no temporary file left behind


def test_interrupted_cache_write_leaves_no_file(monkeypatch):
    from a3net.data import cosmology as C

    params = C.latin_hypercube(1, seed=0)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(np, "save", interrupted)
        with pytest.raises(KeyboardInterrupt):
            C.simulate_maps(params, map_size=8, grid=16, cache=True)
    assert _leftovers(F.data_dir() / "simulated") == []
