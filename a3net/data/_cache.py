"""The simulators' disk caches (``A3NET_DATA/simulated``): written atomically, checked on read.

A cache file is written to a temporary file in the same folder and renamed into place, so an
interrupted write never leaves a half file under the final name (orphaned temporary files of
an interrupted earlier write are removed). Reading checks the file: a damaged one (truncated,
byte-flipped, not an archive) or one whose arrays do not have the expected shapes and dtypes
is never returned; it is deleted (where the folder allows) and the caller simulates again,
after a :class:`CacheWarning` saying so. A cache that cannot be written (a read-only folder, a
full disk) only warns: caching is an optimisation, the result is returned all the same.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ._open import describe

__all__ = ["CacheWarning", "atomic_write", "clean_orphans", "read_cached", "write_cached"]

_PARTIAL = ".a3net-partial"


class CacheWarning(UserWarning):
    """A simulator cache file was damaged or could not be written (the result is still right)."""


def clean_orphans(path: Path) -> list[Path]:
    """Remove temporary files left next to ``path`` by an interrupted earlier write or download
    (``.<name>.<pid>.<random>.a3net-partial``) whose writing process no longer runs."""
    path = Path(path)
    removed = []
    try:
        candidates = list(path.parent.glob(f".{path.name}.*{_PARTIAL}"))
    except OSError:
        return removed
    for orphan in candidates:
        parts = orphan.name[len(path.name) + 2 :].split(".")
        pid = int(parts[0]) if parts and parts[0].isdigit() else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue  # another process is writing it now
        try:
            orphan.unlink()
            removed.append(orphan)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def temporary_path(path: Path) -> Path:
    """A new, empty temporary file beside ``path`` (same folder, so the rename is atomic)."""
    path = Path(path)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=_PARTIAL, dir=path.parent
    )
    os.close(fd)
    return Path(name)


def atomic_write(path: Path, write) -> None:
    """Call ``write(handle)`` on a temporary file beside ``path`` then rename it to ``path``;
    on any failure (or an interrupt) the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_orphans(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_cached(path: Path, arrays, *, what: str) -> None:
    """Cache ``arrays`` (one ndarray: ``.npy``; a dict of ndarrays: ``.npz``) at ``path``,
    atomically; a failure to write only warns."""
    if isinstance(arrays, np.ndarray):

        def write(handle):
            np.save(handle, arrays, allow_pickle=False)
    else:

        def write(handle):
            np.savez(handle, **arrays)

    try:
        atomic_write(path, write)
    except OSError as err:
        warnings.warn(
            f"the {what} cache {path} could not be written ({describe(err)}); the result is "
            "returned uncached (set A3NET_DATA to a writable folder to cache it).",
            CacheWarning,
            stacklevel=3,
        )


def read_cached(path: Path, *, what: str, expect) -> np.ndarray | dict | None:
    """The cached arrays at ``path``, or None when there is no usable cache.

    ``expect``: for a ``.npy`` file a ``(shape, dtype)`` pair; for a ``.npz`` file a dict
    ``{key: (shape, dtype)}`` (``shape`` may hold None for any length; keys whose name ends in
    ``*`` match every key with that prefix), every listed key required. A damaged file or one
    that does not match is deleted (if it can be) after a :class:`CacheWarning`, and None is
    returned so that the caller simulates again.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        with open(path, "rb") as handle:  # closed even when NumPy fails half way
            loaded = np.load(handle, allow_pickle=False)
            if isinstance(loaded, np.ndarray):
                result = loaded
            else:
                result = {key: np.array(loaded[key]) for key in loaded.files}
        if isinstance(expect, tuple):
            if not isinstance(result, np.ndarray):
                raise ValueError("it is an .npz archive, not one .npy array")
            _check_array("the array", result, *expect)
        else:
            if not isinstance(result, dict):
                raise ValueError("it is one .npy array, not an .npz archive")
            _check_archive(result, expect)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # BadZipFile, EOFError, ValueError, OSError, zlib.error ...
        removed = _remove(path)
        warnings.warn(
            f"the {what} cache {path.name} was damaged or out of date ({describe(err)}), so it "
            f"was {'deleted' if removed else 'ignored'} and the data are simulated again.",
            CacheWarning,
            stacklevel=3,
        )
        return None
    return result


def _check_array(key: str, arr: np.ndarray, shape, dtype) -> None:
    if (
        dtype is not None
        and arr.dtype != np.dtype(dtype)
        and not (np.dtype(dtype).kind == "U" and arr.dtype.kind == "U")
    ):
        raise ValueError(f"{key} is {arr.dtype}, expected {np.dtype(dtype)}")
    if shape is not None and (
        arr.ndim != len(shape)
        or any(s is not None and a != s for a, s in zip(arr.shape, shape, strict=False))
    ):
        raise ValueError(f"{key} has shape {arr.shape}, expected {shape}")


def _check_archive(arrays: dict, expect: dict) -> None:
    for key, (shape, dtype) in expect.items():
        if key.endswith("*"):
            matched = [k for k in arrays if k.startswith(key[:-1])]
            if not matched:
                raise ValueError(f"no array {key} in the archive")
            for k in matched:
                _check_array(k, arrays[k], shape, dtype)
        elif key not in arrays:
            raise ValueError(f"no array {key!r} in the archive")
        else:
            _check_array(key, arrays[key], shape, dtype)


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False
