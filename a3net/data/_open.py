"""One guard around opening and reading every file format a3net reads.

A truncated, byte-flipped, empty or foreign file makes astropy, h5py, pandas or NumPy fail deep
inside with a message about buffers, SIMPLE cards or zip headers. Every reader in
``a3net.data`` reads its files inside :func:`reading` (or through the helpers below), which turns
any such failure into one sentence naming the file::

    spec.fits is not a complete FITS file (buffer is too small); download it again or check the
    path.

Errors that a3net's own code raises inside the guard (a missing column, a wrong shape: already a
clear sentence) pass through unchanged, as does ``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import os
import traceback
import warnings
from pathlib import Path

__all__ = [
    "KINDS",
    "Damaged",
    "describe",
    "existing_file",
    "read_npy",
    "open_fits",
    "open_hdf5",
    "read_csv",
    "read_text",
    "reading",
]

KINDS = {
    "fits": "FITS",
    "hdf5": "HDF5",
    "text": "text",
    "csv": "CSV",
    "npy": ".npy array",
    "npz": ".npz archive",
}
_PACKAGE = str(Path(__file__).resolve().parents[1])  # .../a3net
_CLEAR = (ValueError, TypeError, FileNotFoundError, PermissionError, MemoryError)


class Damaged(Exception):
    """Raised by a reader inside :func:`reading` for a file it finds damaged; the guard turns it
    into the one-sentence ValueError, its text becoming the reason in brackets."""


def _raised_by_a3net(err: BaseException) -> bool:
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename).startswith(_PACKAGE)


def _own_kind(err: BaseException) -> bool:
    """An error of one of the clear types itself (not a subclass such as UnicodeDecodeError),
    or one of a3net's own classes: a sentence a3net wrote, to pass through unchanged."""
    kind = type(err)
    return kind in _CLEAR or kind.__module__.startswith("a3net")


def describe(err: BaseException) -> str:
    """A short reason: the first line of the error's text (at most 100 characters), or its type."""
    text = " ".join(str(err).split()) if str(err).strip() else ""
    if isinstance(err, UnicodeDecodeError):
        text = f"byte {err.start} is not text ({err.encoding})"
    text = text.replace(". ", "; ").rstrip(" .")
    if len(text) > 100:
        text = text[:97].rstrip() + "..."
    return text or type(err).__name__


def _name(path) -> str:
    return Path(os.fspath(path)).name or str(path)


def existing_file(path, what: str) -> Path:
    """``path`` as a Path, checked to be a readable file: else one sentence naming ``what``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got {type(path).__name__}.")
    path = Path(os.fspath(path)).expanduser()
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder, not a file; pass the file's path.")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist or is not a file.")
    if not os.access(path, os.R_OK):
        raise PermissionError(
            f"{what} {str(path)!r} cannot be read (permission denied); fix its permissions."
        )
    return path


@contextlib.contextmanager
def reading(path, kind: str, what: str | None = None):
    """Run the block that opens and reads ``path``; turn any failure of a third-party reader
    (astropy, h5py, pandas, NumPy, the codecs) into one ValueError naming the file.

    ``kind``: a key of :data:`KINDS` or a free word ("FILTER.RES"); ``what``: how the message
    names the file (default: its name).
    """
    label = what or _name(path)
    try:
        yield
    except _CLEAR as err:
        if _raised_by_a3net(err) and _own_kind(err):
            raise
        raise _wrap(err, label, kind) from err
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as err:  # astropy VerifyError, OSError, EOFError, BadZipFile, KeyError ...
        raise _wrap(err, label, kind) from err


def _wrap(err: BaseException, label: str, kind: str) -> Exception:
    if isinstance(err, FileNotFoundError):
        return FileNotFoundError(f"{label} does not exist ({describe(err)}); check the path.")
    if isinstance(err, PermissionError):
        return PermissionError(
            f"{label} cannot be read (permission denied); fix its permissions or copy it to a "
            "folder you can read."
        )
    if isinstance(err, IsADirectoryError):
        return ValueError(f"{label} is a folder, not a file; pass the file's path.")
    if isinstance(err, MemoryError):
        return MemoryError(
            f"{label} is too large to read into memory here; read a part of it or use a machine "
            "with more memory."
        )
    noun = KINDS.get(kind, kind)
    return ValueError(
        f"{label} is not a complete {noun} file ({describe(err)}); download it again or check "
        "the path."
    )


@contextlib.contextmanager
def open_fits(path, what: str | None = None, **kwargs):
    """``astropy.io.fits.open(path, **kwargs)`` inside :func:`reading`; every HDU is checked
    to parse before the block runs (a truncated header or data block fails here)."""
    from astropy.io import fits

    with reading(path, "fits", what), warnings.catch_warnings():
        # astropy warns before it fails ("File may have been truncated"): the error says it all
        warnings.filterwarnings("ignore", module="astropy")
        kwargs.setdefault("memmap", False)
        hdul = fits.open(path, **kwargs)
        try:
            hdul.readall()  # parse every header now, not lazily later
            if len(hdul) == 0:
                raise Damaged("no HDU found")
            for hdu in hdul:
                _ = hdu.data  # read (and size-check) every data block now
        except BaseException:
            hdul.close()
            raise
    with hdul, reading(path, "fits", what):
        yield hdul


@contextlib.contextmanager
def open_hdf5(path, what: str | None = None):
    """``h5py.File(path, "r")`` inside :func:`reading` (a damaged file fails as it is read)."""
    import h5py

    with reading(path, "hdf5", what):
        handle = h5py.File(path, "r")
    with handle, reading(path, "hdf5", what):
        yield handle


def read_text(path, what: str | None = None, kind: str = "text") -> str:
    """The file as UTF-8 text (a binary or foreign file: one sentence)."""
    with reading(path, kind, what):
        data = Path(path).read_bytes()
        if b"\x00" in data:
            raise Damaged("it holds NUL bytes, so it is binary, not text")
        return data.decode("utf-8")


def read_csv(path, what: str | None = None, kind: str = "csv", **kwargs):
    """``pandas.read_csv(path, **kwargs)`` inside :func:`reading`; an empty file is refused."""
    import pandas as pd

    with reading(path, kind, what):
        if Path(path).stat().st_size == 0:
            raise Damaged("the file is empty")
        return pd.read_csv(path, **kwargs)


def read_npy(path, what: str | None = None, **kwargs):
    """``numpy.load(path, allow_pickle=False, **kwargs)`` inside :func:`reading`."""
    import numpy as np

    kind = "npz" if str(path).endswith(".npz") else "npy"
    with reading(path, kind, what):
        return np.load(path, allow_pickle=False, **kwargs)
