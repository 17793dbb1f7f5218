"""a3net.data.camels_files: the partial download of a CMD maps file by HTTP range requests.

A local server on 127.0.0.1 (written here: http.server's SimpleHTTPRequestHandler ignores
Range) serves small files in the CMD format, float32 (15 n, 16, 16), counts the bytes it sends
and can misbehave on request (ignore ranges, cut a part short, answer another part). No network
beyond localhost.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import threading
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from a3net.data import _cache
from a3net.data import camels_files as CF
from a3net.data import fetch as F
from a3net.data.registry import cosmology as RC

N_SIMS = 6
S = 16
SIM_BYTES = 15 * S * S * 4  # 15,360 bytes of maps per simulation
HEADER = 128  # bytes of a version 1.0 .npy header of a 3-D float32 array
MAPS_NAME = "Maps_Mtot_IllustrisTNG_LH_z=0.00.npy"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private, empty cache; online by default; no proxies for loopback; no retry waits."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("A3NET_DATA", str(cache))
    monkeypatch.delenv("A3NET_OFFLINE", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(CF, "_RETRY_WAIT_S", 0.0)
    return cache


class _State:
    """What the server does and what it sent: ``mode`` (None: honour ranges), ``cut(start)``
    (True: send half of that part and close), ``ranges`` (the Range headers received, None for
    none) and ``sent`` (body bytes written)."""

    def __init__(self, www: Path):
        self.www = www
        self.mode: str | None = None
        self.cut = None
        self.ranges: list = []
        self.sent = 0
        self.lock = threading.Lock()


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        state: _State = self.server.state
        path = state.www / urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        asked = self.headers.get("Range")
        with state.lock:
            state.ranges.append(asked)
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", asked or "")
        if match is None or state.mode == "ignore":
            self._send(200, {"Content-Length": str(size)}, path.read_bytes())
            return
        start, end = int(match[1]), min(int(match[2]), size - 1)
        if start >= size:
            self.send_error(416)
            return
        if state.mode == "shift" and start > 0:  # another part than the one asked for
            start, end = start + 4, end + 4
        with open(path, "rb") as fh:  # only the part (the sparse 3.9 GB file is never read)
            fh.seek(start)
            body = fh.read(end - start + 1)
        headers = {
            "Content-Range": f"bytes {start}-{end}/{size}",
            "Content-Length": str(len(body)),
        }
        if state.mode == "length" and start > 0:
            headers["Content-Length"] = str(len(body) + 4)
        elif state.mode == "total" and start > 0:
            headers["Content-Range"] = f"bytes {start}-{end}/{size + SIM_BYTES}"
        elif state.mode == "no content-range":
            del headers["Content-Range"]
        if state.cut is not None and state.cut(start):
            self._send(206, headers, body[: len(body) // 2])
            self.close_connection = True
            return
        self._send(206, headers, body)

    def _send(self, status, headers, body):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
            pass
        with self.server.state.lock:
            self.server.state.sent += len(body)


@pytest.fixture
def server(tmp_path):
    """A Range-honouring server of tmp_path/www; yields (base_url, state, stop())."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    httpd.state = _State(www)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stopped = []

    def stop():
        if not stopped:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=10)
            stopped.append(True)

    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.state, stop
    stop()


def _maps(n=N_SIMS, seed=1, offset=0.0):
    """Positive float32 maps whose values encode their index i (i + 1 + noise)."""
    rng = np.random.default_rng(seed)
    index = np.arange(15 * n, dtype=np.float32)[:, None, None]
    return (index + 1 + offset + rng.random((15 * n, S, S))).astype(np.float32)


def _params(n=N_SIMS):
    rng = np.random.default_rng(0)
    low = np.array([CF.PARAMETER_RANGES[p][0] for p in CF.PARAMETER_NAMES])
    high = np.array([CF.PARAMETER_RANGES[p][1] for p in CF.PARAMETER_NAMES])
    return np.round(low + (high - low) * rng.random((n, 6)), 5)


def _serve_cmd(folder: Path, n=N_SIMS):
    """CMD-format files of IllustrisTNG in ``folder``; returns (params, mtot, p)."""
    folder.mkdir(parents=True, exist_ok=True)
    params, mtot, p = _params(n), _maps(n), _maps(n, seed=2, offset=1000.0)
    np.savetxt(folder / "params_LH_IllustrisTNG.txt", params, fmt="%.5f")
    np.save(folder / MAPS_NAME, mtot)
    np.save(folder / "Maps_P_IllustrisTNG_LH_z=0.00.npy", p)
    return params, mtot, p


def _where():
    return CF._Where("The file under test", MAPS_NAME, "pass its path as sources", "sources")


def _download(base, target, sims, **kwargs):
    kwargs.setdefault("expected_shape", (15 * N_SIMS, S, S))
    kwargs.setdefault("offline", False)
    return CF._partial_maps((f"{base}/{MAPS_NAME}",), target, sims, where=_where(), **kwargs)


def _sidecar(target: Path) -> dict:
    return json.loads(target.with_name(target.name + ".json").read_text())


# ----------------------------------------------------------------------------------------------
# Only the bytes needed
# ----------------------------------------------------------------------------------------------


def test_the_first_sims_download_only_their_bytes(server, tmp_path, capsys):
    base, state, _ = server
    _, mtot, _ = _serve_cmd(state.www)
    target = tmp_path / "partial" / MAPS_NAME
    path, n_bytes = _download(base, target, np.arange(2))
    assert path == target and n_bytes == 2 * SIM_BYTES
    # the header probe (1 kB) and one range: the maps of simulations 0 and 1, nothing else
    assert state.ranges == ["bytes=0-1023", f"bytes={HEADER}-{HEADER + 2 * SIM_BYTES - 1}"]
    assert state.sent == 1024 + 2 * SIM_BYTES
    full = (state.www / MAPS_NAME).stat().st_size
    assert full == HEADER + N_SIMS * SIM_BYTES and state.sent < full / 2
    # a valid .npy of the FULL shape, read as a memory map; the rest is zeros, unmarked
    local = np.load(target, mmap_mode="r")
    assert local.shape == mtot.shape and local.dtype == np.dtype("<f4")
    np.testing.assert_array_equal(local[:30], mtot[:30])
    assert not local[30:].any()
    meta = _sidecar(target)
    assert meta["simulations"] == [[0, 2]] and meta["shape"] == [90, S, S]
    assert meta["remote_bytes"] == full and meta["remote_offset"] == HEADER
    out = capsys.readouterr().out
    assert "downloading 30.7 kB of 92.3 kB (" + MAPS_NAME + "): maps of 2 simulations (0-1)" in out
    assert "in 1 range request from 127.0.0.1" in out and "HTTP 206" in out and "'<f4'" in out


def test_a_second_call_downloads_only_the_difference(server, tmp_path):
    base, state, stop = server
    _, mtot, _ = _serve_cmd(state.www)
    target = tmp_path / "partial" / MAPS_NAME
    _download(base, target, np.arange(2))
    state.ranges.clear()
    state.sent = 0
    path, n_bytes = _download(base, target, [1, 3, 4])
    assert n_bytes == 2 * SIM_BYTES  # simulations 3 and 4, one run
    start = HEADER + 3 * SIM_BYTES
    assert state.ranges == ["bytes=0-1023", f"bytes={start}-{start + 2 * SIM_BYTES - 1}"]
    assert state.sent == 1024 + 2 * SIM_BYTES
    assert _sidecar(target)["simulations"] == [[0, 2], [3, 5]]
    local = np.load(path, mmap_mode="r")
    np.testing.assert_array_equal(local[45:75], mtot[45:75])
    assert not local[30:45].any() and not local[75:].any()
    stop()  # all there: neither the server nor the network is needed, offline or not
    assert _download(base, target, [0, 4], offline=True) == (target, 0)
    assert _download(base, target, [1, 3], offline=False) == (target, 0)


def test_explicit_sims_are_coalesced_into_runs_cut_into_chunks(server, tmp_path, monkeypatch):
    base, state, _ = server
    _, mtot, _ = _serve_cmd(state.www)
    monkeypatch.setattr(CF, "_DOWNLOAD_CHUNK_BYTES", 2 * SIM_BYTES + 100)  # 2 simulations
    target = tmp_path / "partial" / MAPS_NAME
    _, n_bytes = _download(base, target, [5, 0, 2, 3, 4])
    assert n_bytes == 5 * SIM_BYTES

    def part(a, b):
        return f"bytes={HEADER + a * SIM_BYTES}-{HEADER + b * SIM_BYTES - 1}"

    assert state.ranges == ["bytes=0-1023", part(0, 1), part(2, 4), part(4, 6)]
    assert state.sent == 1024 + 5 * SIM_BYTES  # simulation 1 never travelled
    local = np.load(target, mmap_mode="r")
    np.testing.assert_array_equal(local[:15], mtot[:15])
    np.testing.assert_array_equal(local[30:], mtot[30:])
    assert _sidecar(target)["simulations"] == [[0, 1], [2, 6]]


# ----------------------------------------------------------------------------------------------
# Through load_camels_maps
# ----------------------------------------------------------------------------------------------


def test_the_loader_downloads_only_what_it_reads_then_reads_offline(
    server, monkeypatch, isolated, capsys
):
    base, state, stop = server
    params, mtot, p = _serve_cmd(state.www / "IllustrisTNG")
    monkeypatch.setattr(RC, "BASE_URLS", (f"{base}/missing", base))  # the first answers 404
    monkeypatch.setattr(RC, "MAPS_SHAPE", (15 * N_SIMS, S, S))
    maps, cat = CF.load_camels_maps("IllustrisTNG", n_sims=2, map_size=S)
    np.testing.assert_array_equal(maps[:, 0], mtot[:30])
    np.testing.assert_array_equal(maps[:, 1], p[:30])
    np.testing.assert_allclose(cat[list(CF.PARAMETER_NAMES)].to_numpy()[::15], params[:2])
    assert cat.attrs["downloaded_bytes"] == {"Mtot": 2 * SIM_BYTES, "P": 2 * SIM_BYTES}
    partial = isolated / "camels" / "partial"
    p_name = "Maps_P_IllustrisTNG_LH_z=0.00.npy"
    assert cat.attrs["files"][1:] == (str(partial / MAPS_NAME), str(partial / p_name))
    assert capsys.readouterr().out.count("downloading 30.7 kB of 92.3 kB") == 2
    picked, cat2 = CF.load_camels_maps("IllustrisTNG", "Mtot", sims=[4, 1], map_size=8)
    assert cat2.attrs["downloaded_bytes"] == {"Mtot": SIM_BYTES}  # only simulation 4
    np.testing.assert_allclose(picked[:15, 0], CF.block_mean(mtot[60:75], 2), rtol=1e-6)
    np.testing.assert_allclose(picked[15:, 0], CF.block_mean(mtot[15:30], 2), rtol=1e-6)
    stop()
    monkeypatch.setenv("A3NET_OFFLINE", "1")
    again, cat3 = CF.load_camels_maps("IllustrisTNG", "Mtot", sims=[0, 1, 4], map_size=S)
    assert cat3.attrs["downloaded_bytes"] == {"Mtot": 0}
    np.testing.assert_array_equal(again[:30, 0], mtot[:30])
    with pytest.raises(F.DataUnavailableError) as info:
        CF.load_camels_maps("IllustrisTNG", "Mtot", n_sims=4, map_size=S)
    message = str(info.value)
    assert f"'{MAPS_NAME}' (" in message and "offline mode is on" in message
    assert "lacks the maps of 2 of the 4 simulations asked for" in message
    assert "run once online" in message and "sources={'Mtot': path}" in message
    assert message.count(". ") == 0 and message.endswith(".") and "\n" not in message


def test_offline_with_nothing_cached_is_one_sentence_naming_the_fix(isolated, tmp_path):
    folder = tmp_path / "cmd"
    _serve_cmd(folder)
    with pytest.raises(F.DataUnavailableError) as info:
        CF.load_camels_maps(
            "IllustrisTNG",
            "Mtot",
            n_sims=1,
            sources={"params": str(folder / "params_LH_IllustrisTNG.txt")},
            offline=True,
        )
    message = str(info.value)
    local = isolated / "camels" / MAPS_NAME
    assert message.startswith(f"The CAMELS file '{MAPS_NAME}' (3.9 GB) is not in the a3net cache")
    assert "offline mode is on" in message and "run once online" in message
    assert RC.maps_file("Mtot", "IllustrisTNG").urls[0] in message and str(local) in message
    assert message.count(". ") == 0 and message.endswith(".") and "\n" not in message
    assert not (isolated / "camels").exists()


def test_urls_in_sources_are_read_by_range(server, isolated):
    base, state, _ = server
    params, mtot, _ = _serve_cmd(state.www)
    sources = {
        "params": f"{base}/params_LH_IllustrisTNG.txt",
        "Mtot": f"{base}/{MAPS_NAME}",
    }
    maps, cat = CF.load_camels_maps("IllustrisTNG", "Mtot", sources=sources, sims=[1], map_size=S)
    np.testing.assert_array_equal(maps[:, 0], mtot[15:30])
    assert cat.attrs["downloaded_bytes"] == {"Mtot": SIM_BYTES}
    assert "/urls/" in cat.attrs["files"][1] and "/partial/" in cat.attrs["files"][1]
    with pytest.raises(F.DataUnavailableError, match=r"\(sources\['Mtot'\]\) .*lacks the maps"):
        CF.load_camels_maps("IllustrisTNG", "Mtot", sources=sources, n_sims=2, offline=True)


# ----------------------------------------------------------------------------------------------
# Servers that do not answer as asked
# ----------------------------------------------------------------------------------------------


def test_a_server_that_ignores_ranges_is_refused_unless_allowed(server, tmp_path, capsys):
    base, state, _ = server
    _, mtot, _ = _serve_cmd(state.www)
    state.mode = "ignore"
    target = tmp_path / "partial" / MAPS_NAME
    with pytest.raises(CF.RangeRequestError) as info:
        _download(base, target, [0])
    message = str(info.value)
    assert "with the whole file (HTTP 200 instead of 206)" in message
    assert "allow_full_download=True" in message and message.count(". ") == 0
    assert isinstance(info.value, F.DataUnavailableError)
    assert not target.exists() and not target.parent.exists()
    assert state.ranges == ["bytes=0-1023"]
    # the opt-in: the whole file once, into fetch_url's cache
    sources = {"params": str(_write_params(tmp_path)), "Mtot": f"{base}/{MAPS_NAME}"}
    maps, cat = CF.load_camels_maps(
        "IllustrisTNG", "Mtot", sources=sources, n_sims=1, map_size=S, allow_full_download=True
    )
    np.testing.assert_array_equal(maps[:, 0], mtot[:15])
    assert cat.attrs["downloaded_bytes"] == {"Mtot": HEADER + N_SIMS * SIM_BYTES}
    assert cat.attrs["files"][1] == str(F.url_cache_path(sources["Mtot"]))
    assert "does not answer range requests" in capsys.readouterr().out


def _write_params(tmp_path):
    path = tmp_path / "params.txt"
    np.savetxt(path, _params(), fmt="%.5f")
    return path


def test_the_plain_test_server_without_ranges_is_refused(served, tmp_path):
    base, www, _ = served  # http.server's SimpleHTTPRequestHandler: always HTTP 200
    np.save(www / MAPS_NAME, _maps())
    sources = {"params": str(_write_params(tmp_path)), "Mtot": f"{base}/{MAPS_NAME}"}
    with pytest.raises(CF.RangeRequestError, match="HTTP 200 instead of 206"):
        CF.load_camels_maps("IllustrisTNG", "Mtot", sources=sources, n_sims=1)


@pytest.mark.parametrize("mode", ["shift", "length", "total", "no content-range"])
def test_a_wrong_part_is_refused_and_nothing_marked(server, tmp_path, mode):
    base, state, _ = server
    _serve_cmd(state.www)
    state.mode = mode
    target = tmp_path / "partial" / MAPS_NAME
    with pytest.raises(CF.RangeRequestError) as info:
        _download(base, target, [0, 1])
    message = str(info.value)
    why = "changed size" if mode == "total" else "not the part asked for"
    assert why in message and "marked nothing more as downloaded" in message
    assert "\n" not in message and message.count(". ") == 0
    if mode == "no content-range":  # even the header probe is refused: nothing written
        assert not target.exists()
    else:
        assert _sidecar(target)["simulations"] == []


def test_a_part_cut_short_is_retried_then_not_marked_and_resumed(server, tmp_path, monkeypatch):
    base, state, _ = server
    _, mtot, _ = _serve_cmd(state.www)
    monkeypatch.setattr(CF, "_DOWNLOAD_CHUNK_BYTES", SIM_BYTES)  # one simulation per request
    target = tmp_path / "partial" / MAPS_NAME
    state.cut = lambda start: start == HEADER + SIM_BYTES  # simulation 1 always cut in half
    with pytest.raises(F.DataUnavailableError) as info:
        _download(base, target, np.arange(3))
    message = str(info.value)
    assert (
        "of simulations 1 of " + MAPS_NAME in message
        and "connection closed after 7680 of 15360" in message
    )
    assert "3 tries" in message and "run again to resume" in message
    assert "(1 of the 3 simulations to download are)" in message and "\n" not in message
    assert state.ranges.count(f"bytes={HEADER + SIM_BYTES}-{HEADER + 2 * SIM_BYTES - 1}") == 3
    assert _sidecar(target)["simulations"] == [[0, 1]]  # the half part is not marked present
    # once the server behaves, only what is missing is downloaded
    state.cut, state.ranges = None, []
    _, n_bytes = _download(base, target, np.arange(3))
    assert n_bytes == 2 * SIM_BYTES and len(state.ranges) == 3  # the probe + simulations 1, 2
    np.testing.assert_array_equal(np.load(target, mmap_mode="r")[:45], mtot[:45])
    # a part cut once is asked for again and kept
    cuts = []
    state.cut = lambda start: start == HEADER + 3 * SIM_BYTES and not cuts and not cuts.append(1)
    _, n_bytes = _download(base, target, [3])
    assert n_bytes == SIM_BYTES and cuts == [1]
    np.testing.assert_array_equal(np.load(target, mmap_mode="r")[45:60], mtot[45:60])


def test_a_missing_file_and_a_dead_server_give_the_reason(server, tmp_path):
    base, state, stop = server
    target = tmp_path / "partial" / MAPS_NAME
    with pytest.raises(F.DataUnavailableError, match=r"could not be downloaded \(the server "):
        _download(base, target, [0])  # no such file: HTTP 404
    stop()
    with pytest.raises(F.DataUnavailableError, match="could not be downloaded .no connection"):
        _download(base, target, [0])
    assert not target.exists()


# ----------------------------------------------------------------------------------------------
# The header and the partial copy are checked
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["float64", "fortran", "2-D", "oblong", "not npy", "cut"])
def test_a_header_that_is_not_a_cmd_maps_file_is_refused(server, tmp_path, kind):
    base, state, _ = server
    maps = _maps()
    path = state.www / MAPS_NAME
    if kind == "float64":
        np.save(path, maps.astype(np.float64))
    elif kind == "fortran":
        np.save(path, np.asfortranarray(maps))
    elif kind == "2-D":
        np.save(path, maps[:, 0])
    elif kind == "oblong":
        np.save(path, maps[:, :, :8])
    elif kind == "not npy":
        path.write_bytes(b"<html>maintenance</html>" * 100)
    else:
        np.save(path, maps)
        path.write_bytes(path.read_bytes()[:-100])
    target = tmp_path / "partial" / MAPS_NAME
    expected = {
        "float64": "'<f8', C order",
        "fortran": "Fortran order",
        "2-D": "shape (90, 16)",
        "oblong": "shape (90, 16, 8)",
        "not npy": "does not start like a .npy file",
        "cut": "cut short or padded",
    }[kind]
    with pytest.raises(ValueError, match=re.escape(expected)):
        _download(base, target, [0], expected_shape=(None, None, None))
    assert not target.exists() and state.ranges == ["bytes=0-1023"]


def test_the_public_path_requires_the_cmd_shape(server, monkeypatch, isolated):
    base, state, _ = server
    _serve_cmd(state.www / "IllustrisTNG")  # 6 simulations, not the CMD's 1,000
    monkeypatch.setattr(RC, "BASE_URLS", (base,))
    with pytest.raises(ValueError, match="params file has 6 rows but the CMD maps file"):
        CF.load_camels_maps("IllustrisTNG", "Mtot", n_sims=1)
    assert state.ranges == [None]  # the params file, whole; no byte of the maps file
    simba = state.www / "SIMBA"
    simba.mkdir()
    np.savetxt(simba / "params_LH_SIMBA.txt", np.tile(_params(), (167, 1))[:1000], fmt="%.5f")
    np.save(simba / "Maps_Mtot_SIMBA_LH_z=0.00.npy", _maps())
    with pytest.raises(ValueError) as info:
        CF.load_camels_maps("SIMBA", "Mtot", n_sims=1)
    assert "says shape (90, 16, 16), but a3net expects (15000, 256, 256)" in str(info.value)
    assert state.ranges == [None, None, "bytes=0-1023"]
    assert not (isolated / "camels" / "partial" / "Maps_Mtot_SIMBA_LH_z=0.00.npy").exists()


def test_map_size_is_checked_before_the_download(server, tmp_path):
    base, state, _ = server
    _serve_cmd(state.www)
    with pytest.raises(ValueError, match="map_size=5 does not divide the maps' 16 pixels"):
        _download(base, tmp_path / "p" / MAPS_NAME, [0], map_size=5)
    assert state.ranges == ["bytes=0-1023"]


@pytest.mark.parametrize("damage", ["sidecar text", "sidecar range", "no file", "file size"])
def test_a_damaged_partial_copy_is_discarded_and_downloaded_again(server, tmp_path, damage):
    base, state, _ = server
    _, mtot, _ = _serve_cmd(state.www)
    target = tmp_path / "partial" / MAPS_NAME
    _download(base, target, [0, 1])
    sidecar = target.with_name(target.name + ".json")
    if damage == "sidecar text":
        sidecar.write_text("{not json")
    elif damage == "sidecar range":
        meta = json.loads(sidecar.read_text())
        meta["simulations"] = [[0, 99]]
        sidecar.write_text(json.dumps(meta))
    elif damage == "no file":
        target.unlink()
    else:
        with open(target, "ab") as fh:
            fh.write(b"x")
    state.ranges = []
    with pytest.warns(_cache.CacheWarning, match="was discarded because it was damaged"):
        _, n_bytes = _download(base, target, [1])
    assert n_bytes == SIM_BYTES and len(state.ranges) == 2
    assert _sidecar(target)["simulations"] == [[1, 2]]
    np.testing.assert_array_equal(np.load(target, mmap_mode="r")[15:30], mtot[15:30])


def test_a_changed_server_file_discards_the_copy(server, tmp_path):
    base, state, _ = server
    _serve_cmd(state.www)
    target = tmp_path / "partial" / MAPS_NAME
    _download(base, target, [0])
    bigger = _maps(N_SIMS + 1, seed=5)
    np.save(state.www / MAPS_NAME, bigger)
    with pytest.warns(_cache.CacheWarning, match="is not the one it was copied from"):
        _download(base, target, [0, 6], expected_shape=(None, S, S))
    local = np.load(target, mmap_mode="r")
    assert local.shape == bigger.shape and _sidecar(target)["simulations"] == [[0, 1], [6, 7]]
    np.testing.assert_array_equal(local[:15], bigger[:15])
    np.testing.assert_array_equal(local[90:], bigger[90:])


def test_sims_beyond_the_file_are_refused_before_the_download(server, tmp_path):
    base, state, _ = server
    _serve_cmd(state.www)
    with pytest.raises(
        ValueError, match="holds 90 maps = 6 simulations .* no maps of simulation 7"
    ):
        _download(base, tmp_path / "p" / MAPS_NAME, [0, 7], expected_shape=(None, S, S))
    assert state.ranges == ["bytes=0-1023"]


def test_the_sizes_said_for_the_real_files():
    assert RC.MAPS_SHAPE == (15_000, 256, 256)
    per_sim = 15 * 256 * 256 * 4
    assert CF._bytes_text(200 * per_sim) == "786.4 MB" and CF._bytes_text(RC.MAPS_BYTES) == "3.9 GB"
    assert CF._runs([5, 0, 2, 3, 4, 9]) == [(0, 1), (2, 6), (9, 10)]
    assert CF._runs_text(CF._runs(range(200))) == "0-199"


def test_the_real_cmd_shape_end_to_end_on_sparse_files(server, monkeypatch, isolated, capsys):
    """A 3.9 GB server file of the real shape (15000, 256, 256), sparse: only the maps of
    simulations 0, 1 and 999 hold data (a few MB on disk); the loader downloads 11.8 MB."""
    base, state, _ = server
    folder = state.www / "IllustrisTNG"
    folder.mkdir()
    probe = folder / "sparse-probe"
    with open(probe, "wb") as fh:
        fh.truncate(1 << 30)
    sparse = os.stat(probe).st_blocks * 512 < 1 << 20
    probe.unlink()
    if not sparse:
        pytest.skip("this file system does not keep sparse files sparse")
    source = folder / MAPS_NAME
    remote = np.lib.format.open_memmap(source, mode="w+", dtype="<f4", shape=RC.MAPS_SHAPE)
    rng = np.random.default_rng(3)
    for sim in (0, 1, 999):
        remote[15 * sim : 15 * sim + 15] = 1 + sim + rng.random((15, 256, 256), np.float32)
    expected = np.array(remote[15:30]), np.array(remote[-15:])
    del remote
    np.savetxt(folder / "params_LH_IllustrisTNG.txt", np.tile(_params(), (167, 1))[:1000])
    monkeypatch.setattr(RC, "BASE_URLS", (base,))
    real_sim_bytes = 15 * 256 * 256 * 4
    maps, cat = CF.load_camels_maps("IllustrisTNG", "Mtot", sims=[999, 1], map_size=256)
    assert cat.attrs["downloaded_bytes"] == {"Mtot": 2 * real_sim_bytes}
    np.testing.assert_array_equal(maps[:15, 0], expected[1])
    np.testing.assert_array_equal(maps[15:, 0], expected[0])
    params_bytes = (folder / "params_LH_IllustrisTNG.txt").stat().st_size  # downloaded whole
    start_1, start_999 = 128 + real_sim_bytes, 128 + 999 * real_sim_bytes
    assert state.ranges == [
        None,
        "bytes=0-1023",
        f"bytes={start_1}-{start_1 + real_sim_bytes - 1}",
        f"bytes={start_999}-{start_999 + real_sim_bytes - 1}",
    ]
    assert state.sent == params_bytes + 1024 + 2 * real_sim_bytes  # 7.9 MB of the 3,932 MB file
    out = capsys.readouterr().out
    assert "downloading 7.9 MB of 3.9 GB (" + MAPS_NAME + "): maps of 2 simulations (1, 999)" in out
    assert "shape (15000, 256, 256)" in out
    local = isolated / "camels" / "partial" / MAPS_NAME
    assert local.stat().st_size == source.stat().st_size  # the full shape, sparse
    small, cat2 = CF.load_camels_maps("IllustrisTNG", "Mtot", n_sims=2, map_size=64)
    assert cat2.attrs["downloaded_bytes"] == {"Mtot": real_sim_bytes}  # simulation 0 only
    assert small.shape == (30, 1, 64, 64)
    np.testing.assert_allclose(small[15:, 0], CF.block_mean(expected[0], 4), rtol=1e-6)
