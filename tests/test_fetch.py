"""a3net.data.fetch: registry validation, download + checksum, cache hits, offline messages.

Downloads go to a small file served by a local http.server on 127.0.0.1 (no outside traffic).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.parse
from pathlib import Path

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
