"""The real data files of every domain, one module per domain, registered by ``a3net.data.fetch``.

Each domain module (``spectra``: chapters A/B, ``photometry``: chapter C, ``clusters``: chapters
D/G) lists its files as :class:`Row` entries in ``FILES``. Every file is a verbatim copy of a blob
in a public GitHub repository at a fixed commit (a :class:`Source`), so its raw URL never changes;
sha256 and sizes were computed from those blobs. To add a file, add a row to its domain (or a new
domain module listed in ``DOMAINS``); ``fetch`` builds the URL and the how-to-get sentence.
"""

from __future__ import annotations

from typing import NamedTuple


class Source(NamedTuple):
    """A GitHub repository at a fixed commit, and where a user can get its files by hand."""

    repo: str
    commit: str
    by_hand: str


class Row(NamedTuple):
    """One file: its name in the cache, its source, path in the repository, sha256, size in
    bytes and a one-line description (format, columns, units)."""

    name: str
    source: Source
    path: str
    sha256: str
    size_bytes: int
    description: str


# The domain modules import Source and Row from this package, so they come after them.
from . import clusters, photometry, spectra  # noqa: E402

DOMAINS = (spectra, photometry, clusters)


def rows() -> list[Row]:
    """Every registered file of every domain, domain by domain."""
    return [row for domain in DOMAINS for row in domain.FILES]
