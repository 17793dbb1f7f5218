"""The registry of real datasets: public URL + sha256 of every file, fetched into a local cache.

``fetch("sdss/spDR2-023.fit")`` returns the path of the cached file, downloading it (with
pooch's HTTP downloader, checksum verified) only when the cache lacks a valid copy. The cache
folder is ``A3NET_DATA`` if set, else pooch's per-user cache for "a3net". Offline
(``offline=True`` or ``A3NET_OFFLINE=1``) or when the download fails, a missing file raises
:class:`DataUnavailableError` with one sentence naming the file, where to put it and where to
get it by hand. A download (and :func:`fill_cache`'s copy) goes to a temporary file in the
cache folder and is renamed into place only once complete and verified, so an interrupted one
leaves nothing under the final name (temporary files of a killed earlier download are removed);
a cache folder that cannot be written is reported in one sentence. ``A3NET_OFFLINE`` accepts
1/true/yes/on and 0/false/no/off. Loaders in ``a3net.data`` call :func:`fetch`; every chapter
runs offline on its simulator by default, so none of this is needed to read the book.

The files themselves are listed per domain in ``a3net.data.registry`` (``spectra``,
``photometry``, ``clusters``); this module holds only the fetching logic and registers them.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
import shutil
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

import pooch

from . import _cache, _open, registry

__all__ = [
    "ChecksumError",
    "DataUnavailableError",
    "Dataset",
    "REGISTRY",
    "data_dir",
    "fetch",
    "fill_cache",
    "fetch_url",
    "file_sha256",
    "is_available",
    "path_in_cache",
    "register",
    "resolve_source",
    "url_cache_path",
]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.+\-]+(/[A-Za-z0-9_.+\-]+)*$")


class DataUnavailableError(FileNotFoundError):
    """A registered file is not in the cache and cannot be downloaded (offline or network down)."""


class ChecksumError(ValueError):
    """A downloaded or cached file does not have the sha256 the registry expects."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One real data file: registry name (a relative path in the cache), source and checksum.

    ``how_to_get`` is one sentence (no final full stop needed) saying where a user can
    download the file by hand and where to put it; ``size_bytes`` is informative only.
    """

    name: str
    url: str
    sha256: str
    description: str
    how_to_get: str
    size_bytes: int | None = None


REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add ``dataset`` to :data:`REGISTRY` after checking its name, URL and sha256."""
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"register() expects an a3net.data.fetch.Dataset, got {type(dataset).__name__}."
        )
    name = dataset.name
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name.split("/"):
        raise ValueError(
            f"dataset name {name!r} is invalid; use a relative path of letters, digits and "
            "'._+-' separated by '/', such as 'sdss/spDR2-023.fit'."
        )
    if name in REGISTRY:
        raise ValueError(
            f"dataset {name!r} is already registered (url {REGISTRY[name].url}); choose another "
            "name or leave the existing entry alone."
        )
    sha = dataset.sha256
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ValueError(
            f"sha256 of dataset {name!r} must be 64 lowercase hexadecimal characters, got {sha!r}; "
            "compute it with a3net.data.fetch.file_sha256(path) or `sha256sum`."
        )
    scheme = urllib.parse.urlsplit(dataset.url).scheme if isinstance(dataset.url, str) else ""
    if scheme not in ("http", "https", "file"):
        raise ValueError(
            f"url of dataset {name!r} must start with http://, https:// or file://, got "
            f"{dataset.url!r}."
        )
    if dataset.size_bytes is not None and (
        not isinstance(dataset.size_bytes, int) or dataset.size_bytes < 0
    ):
        raise ValueError(
            f"size_bytes of dataset {name!r} must be a non-negative int or None, got "
            f"{dataset.size_bytes!r}."
        )
    if not dataset.how_to_get or not dataset.description:
        raise ValueError(f"dataset {name!r} needs a non-empty description and how_to_get sentence.")
    REGISTRY[name] = dataset
    return dataset


def _default_data_dir() -> Path:
    env = os.environ.get("A3NET_DATA", "").strip()
    return Path(env).expanduser() if env else Path(pooch.os_cache("a3net"))


def data_dir() -> Path:
    """The cache folder: ``A3NET_DATA`` if set, else ``pooch.os_cache("a3net")`` (not created)."""
    return _default_data_dir()


def _lookup(name: str) -> Dataset:
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a str, got {type(name).__name__}.")
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(sorted(REGISTRY))}."
        ) from None


def path_in_cache(name: str, *, data_dir: str | os.PathLike | None = None) -> Path:
    """Where dataset ``name`` lives (or will live) in the cache; nothing is read or downloaded."""
    ds = _lookup(name)
    root = Path(data_dir).expanduser() if data_dir is not None else _default_data_dir()
    return root.joinpath(*PurePosixPath(ds.name).parts)


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of the file at ``path`` (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_available(name: str, *, data_dir: str | os.PathLike | None = None) -> bool:
    """True if ``name`` is in the cache with the right checksum (no network access)."""
    target = path_in_cache(name, data_dir=data_dir)
    return target.is_file() and file_sha256(target) == REGISTRY[name].sha256


_OFFLINE_WORDS = {"1": True, "true": True, "yes": True, "on": True}
_OFFLINE_WORDS.update({"": False, "0": False, "false": False, "no": False, "off": False})


def _offline_from_env() -> bool:
    """``A3NET_OFFLINE`` as a bool: 1/true/yes/on or 0/false/no/off (or unset); else ValueError."""
    value = os.environ.get("A3NET_OFFLINE", "")
    try:
        return _OFFLINE_WORDS[value.strip().lower()]
    except KeyError:
        raise ValueError(
            f"A3NET_OFFLINE={value!r} is not understood; set it to 1, true, yes or on (offline) "
            "or 0, false, no or off (online), or unset it."
        ) from None


def _file_downloader(url: str, output_file, pooch_obj=None, check_only: bool = False):
    """A pooch downloader for ``file://`` URLs: copies the local file to ``output_file``."""
    source = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    if check_only:
        return source.is_file()
    if not source.is_file():
        raise FileNotFoundError(f"no file at {source}")
    if hasattr(output_file, "write"):
        with open(source, "rb") as fh:
            shutil.copyfileobj(fh, output_file)
    else:
        shutil.copyfile(source, output_file)
    return None


def _quarantine(path: Path, expected: str, actual: str) -> Path:
    """Rename a file with a wrong checksum to ``<name>.corrupt`` so it never passes as valid; a
    cache folder that forbids it (read-only) gets one sentence, not a raw PermissionError."""
    bad = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, bad)
    except OSError as err:
        raise PermissionError(
            f"The cached file {path} is corrupt (sha256 {actual[:12]}..., expected "
            f"{expected[:12]}...) and cannot be moved aside because the cache folder is not "
            f"writable ({_open.describe(err)}); delete it by hand or set A3NET_DATA to a writable "
            "folder."
        ) from err
    return bad


def _writable_folder(folder: Path) -> None:
    """Create ``folder`` (the cache's) or say in one sentence why it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PermissionError(
            f"The a3net cache folder {folder} cannot be created ({_open.describe(err)}); set "
            "A3NET_DATA to a writable folder."
        ) from err
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"The a3net cache folder {folder} is not writable; set A3NET_DATA to a writable "
            "folder or fix its permissions."
        )


def _download(url: str, target: Path, *, sha256: str | None, progress: bool = False) -> None:
    """Download ``url`` to ``target`` atomically: into a temporary file in the same folder,
    checked against ``sha256`` (when known), then renamed. An interrupted or failed download
    leaves nothing under the final name, and its temporary file is removed (orphans of an
    earlier, killed download are removed first). Raises :class:`ChecksumError` on a mismatch
    and ``OSError`` (requests' errors included) when the download fails."""
    _writable_folder(target.parent)
    _cache.clean_orphans(target)
    scheme = urllib.parse.urlsplit(url).scheme
    downloader = (
        _file_downloader
        if scheme == "file"
        else pooch.HTTPDownloader(progressbar=progress, timeout=60)
    )
    tmp = _cache.temporary_path(target)
    try:
        downloader(url, str(tmp), None)
        if sha256 is not None:
            actual = file_sha256(tmp)
            if actual != sha256:
                raise ChecksumError(actual)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _one_line(exc: BaseException, url: str) -> str:
    """A short reason for a failed download (HTTP status, no connection, or the error text)."""
    import requests  # pooch's own dependency; imported lazily like pooch does

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"the server answered HTTP {exc.response.status_code}"
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return f"no connection to {urllib.parse.urlsplit(url).netloc}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160].rstrip(" .")


def _unavailable(ds: Dataset, target: Path, reason: str) -> DataUnavailableError:
    return DataUnavailableError(
        f"The data file {ds.name!r} is not in the a3net cache and {reason}: download it from "
        f"{ds.url} and place it at {target}; {ds.how_to_get.rstrip(' .')}."
    )


def fetch(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    offline: bool | None = None,
    progress: bool = False,
) -> Path:
    """Path of the cached, checksum-verified file ``name``, downloading it if needed.

    ``data_dir`` overrides the cache folder; ``offline`` (default: env ``A3NET_OFFLINE``)
    forbids network access; ``progress`` shows a download progress bar (needs tqdm).
    Raises ValueError for an unknown name, :class:`DataUnavailableError` when the file is
    absent and cannot be downloaded, :class:`ChecksumError` when the download is corrupt.
    """
    ds = _lookup(name)
    target = path_in_cache(name, data_dir=data_dir)
    if offline is None:
        offline = _offline_from_env()

    if target.is_file():
        actual = file_sha256(target)
        if actual == ds.sha256:
            return target
        bad = _quarantine(target, ds.sha256, actual)
        if offline:
            raise ChecksumError(
                f"The cached file {target} has the wrong sha256 (expected {ds.sha256}, got "
                f"{actual}) and was moved to {bad.name}; run again online or place a good copy "
                f"from {ds.url} at {target}."
            )
    if offline:
        raise _unavailable(ds, target, "offline mode is on (offline=True or A3NET_OFFLINE=1)")

    _writable_folder(target.parent)  # one sentence for a read-only cache, before the network
    try:
        _download(ds.url, target, sha256=ds.sha256, progress=progress)
    except ChecksumError as exc:  # the temporary download is already deleted
        actual = str(exc.args[0]) if exc.args else "unknown"
        raise ChecksumError(
            f"The file {ds.name!r} downloaded from {ds.url} has sha256 {actual} but the registry "
            f"expects {ds.sha256}, so it was not kept in {target.parent}; the source may have "
            "changed: report it to the a3net maintainers."
        ) from None
    except OSError as exc:  # requests' errors derive from OSError, as do file:// failures
        raise _unavailable(ds, target, f"the download failed ({_one_line(exc, ds.url)})") from exc
    return target


def url_cache_path(url: str) -> Path:
    """Where :func:`fetch_url` keeps (or will keep) its whole copy of ``url``:
    ``data_dir()/urls/<16 hex digits of the URL's sha256>/<file name>``; nothing is read."""
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    name = re.sub(r"[^A-Za-z0-9_.+\-]", "_", name) or "download"
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return data_dir() / "urls" / key / name


def fetch_url(url: str, what: str, *, offline: bool | None) -> Path:
    """A user-supplied http(s) URL downloaded (no checksum known) into ``data_dir()/urls/``.

    A copy already in the cache is reused without network access. Offline or when the download
    fails: :class:`~a3net.data.fetch.DataUnavailableError` with one sentence.
    """
    target = url_cache_path(url)
    if target.is_file():
        return target
    if offline is None:
        offline = _offline_from_env()
    fix = f"download it by hand and pass its local path as {what}, or place it at {target}"
    if offline:
        raise DataUnavailableError(
            f"The file {url} ({what}) is not in the a3net cache and offline mode is on "
            f"(offline=True or A3NET_OFFLINE=1): {fix}."
        )
    _writable_folder(target.parent)
    try:
        _download(url, target, sha256=None)
    except OSError as exc:  # requests' errors derive from OSError
        reason = _one_line(exc, url)
        raise DataUnavailableError(
            f"The file {url} ({what}) could not be downloaded ({reason}): {fix}."
        ) from exc
    return target


def resolve_source(source, what: str, *, offline: bool | None) -> Path:
    """A local path, ``file://`` URL (read in place) or http(s) URL (downloaded) as a Path."""
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"{what} must be a path or an http(s)/file URL (str or os.PathLike), got "
            f"{type(source).__name__}."
        )
    text = os.fspath(source)
    scheme = urllib.parse.urlsplit(text).scheme.lower() if isinstance(text, str) else ""
    if scheme in ("http", "https"):
        return fetch_url(text, what, offline=offline)
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(text).path))
    else:
        path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(
            f"{what}: the file {str(path)!r} does not exist; pass the path of an existing file "
            "or an http(s)/file URL."
        )
    return path


def fill_cache(
    folder: str | os.PathLike, *, data_dir: str | os.PathLike | None = None
) -> list[str]:
    """Copy into the cache every registered file found under ``folder`` (matched by size and
    sha256, whatever its name there) that the cache lacks; returns the names now cached from it.

    For machines that hold the real files locally (CI's copy of the data, a course server):
    ``python -m a3net.data.fetch --fill-from FOLDER`` fills ``A3NET_DATA`` without network.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"folder {str(root)!r} does not exist; pass a folder of data files."
        )
    wanted: dict[int, list[Dataset]] = {}
    for ds in REGISTRY.values():
        if not is_available(ds.name, data_dir=data_dir):
            wanted.setdefault(ds.size_bytes, []).append(ds)
    filled = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        candidates = wanted.get(path.stat().st_size, [])
        if not candidates:
            continue
        digest = file_sha256(path)
        for ds in [d for d in candidates if d.sha256 == digest]:
            target = path_in_cache(ds.name, data_dir=data_dir)
            _writable_folder(target.parent)
            _copy_atomically(path, target)
            candidates.remove(ds)
            filled.append(ds.name)
    return sorted(filled)


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary file in the target's folder and a rename:
    an interrupted copy never leaves a half file under the final name."""

    def write(handle):
        with open(source, "rb") as fh:
            shutil.copyfileobj(fh, handle, 1 << 20)

    _cache.atomic_write(target, write)


def _register_github_file(row: registry.Row) -> Dataset:
    """Register a registry row: a file of a public GitHub repository at a fixed commit."""
    repo, commit, by_hand = row.source
    return register(
        Dataset(
            name=row.name,
            url=f"https://raw.githubusercontent.com/{repo}/{commit}/{urllib.parse.quote(row.path)}",
            sha256=row.sha256,
            description=row.description,
            how_to_get=(
                f"it is also available from {by_hand}, to be saved as {row.name} in the a3net "
                "data folder, A3NET_DATA"
            ),
            size_bytes=row.size_bytes,
        )
    )


for _row in registry.rows():
    _register_github_file(_row)
del _row


def _main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m a3net.data.fetch", description="Fill the a3net data cache (A3NET_DATA)."
    )
    parser.add_argument("--fill-from", required=True, help="a folder holding real data files")
    args = parser.parse_args(argv)
    filled = fill_cache(args.fill_from)
    cached = sum(is_available(name) for name in REGISTRY)
    print(
        f"copied {len(filled)} files from {args.fill_from}; {cached} of {len(REGISTRY)} "
        f"registered files are now in {data_dir()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
