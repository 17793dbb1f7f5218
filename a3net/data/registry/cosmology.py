"""The CAMELS Multifield Dataset (chapters E/H): the 2D maps of the LH set and their parameters.

CMD is described by Villaescusa-Navarro et al. (2022, ApJS). Its files are not GitHub blobs
and their sha256 is not published, so they cannot be :class:`~a3net.data.registry.Row` entries
(``fetch`` registers only checksummed files at a fixed commit). They are listed here as
:class:`UrlFile` entries instead, and this module is deliberately not in ``DOMAINS``.
:mod:`a3net.data.camels_files` reads them from ``A3NET_DATA/camels/<file name>`` (where a copy
downloaded by hand goes), else downloads the params file with
:func:`a3net.data.fetch.fetch_url` and, from a maps file, only the maps of the simulations asked
for, by HTTP range requests (no checksum; the loader checks the .npy header, the byte counts and
the row counts instead).

The URLs are the two download addresses the documentation gives: the CAMELS data-access page
(``https://users.flatironinstitute.org/~camels/``) and the CMD documentation's own link. In
both, the 2D maps of a suite sit in ``CMD/2D_maps/data/<suite>/``. A maps file holds 15,000 float32
maps of 256 x 256 pixels (3.9 GB, a 128-byte .npy header). Its params file has 1,000 rows of 6
numbers (Omega_m, sigma_8, A_SN1, A_AGN1, A_SN2, A_AGN2). Map i belongs to simulation i // 15.
"""

from __future__ import annotations

from typing import NamedTuple

BASE_URLS = (
    "https://users.flatironinstitute.org/~camels/CMD/2D_maps/data",
    "https://users.flatironinstitute.org/~fvillaescusa/priv/DEPnzxoWlaTQ6CjrXqsm0vYi8L7Jy/CMD/"
    "2D_maps/data",
)
"""Folders that hold ``<suite>/<file>``; they are tried in this order."""

BY_HAND = (
    "or through Globus: see 'Data access' at camels-multifield-dataset.readthedocs.io, folder "
    "CMD/2D_maps/data/{suite}/"
)
"""Where a user can get a file by hand (format with ``suite``)."""

FOLDER = "camels"
"""Subfolder of the a3net cache (``A3NET_DATA``) where hand-downloaded CMD files are looked for."""

MAPS_SHAPE = (15_000, 256, 256)
"""Shape of every CMD LH maps file (float32, little-endian '<f4', C order): what the partial
download of :mod:`a3net.data.camels_files` requires of the server's .npy header."""

MAPS_BYTES = 128 + 15_000 * 256 * 256 * 4  # about: a 128-byte .npy header + float32 data


class UrlFile(NamedTuple):
    """A public file without a published checksum: its real file name, the URLs to try in
    order, its size in bytes (None if unknown) and a one-line description."""

    filename: str
    urls: tuple[str, ...]
    size_bytes: int | None
    description: str


def maps_file(field: str, suite: str) -> UrlFile:
    """The LH maps file of ``field`` ("Mtot", "P") in ``suite`` ("IllustrisTNG", "SIMBA")."""
    filename = f"Maps_{field}_{suite}_LH_z=0.00.npy"
    unit = {
        "Mtot": "total-mass column density [(Msun/h)/(Mpc/h)^2]",
        "P": "gas pressure [h^2 Msun (km/s)^2 / kpc^3]",
    }.get(field, field)
    return UrlFile(
        filename,
        tuple(f"{base}/{suite}/{filename}" for base in BASE_URLS),
        MAPS_BYTES,
        f"CMD {suite} LH, z = 0: 15,000 maps (1,000 simulations x 15) of the {unit}, "
        "float32 (15000, 256, 256), 25 Mpc/h on a side",
    )


def params_file(suite: str) -> UrlFile:
    """The LH parameter file of ``suite`` (1,000 rows of 6 whitespace-separated numbers)."""
    filename = f"params_LH_{suite}.txt"
    return UrlFile(
        filename,
        tuple(f"{base}/{suite}/{filename}" for base in BASE_URLS),
        None,
        f"CMD {suite} LH parameters: 1,000 rows (one per simulation) of Omega_m, sigma_8, "
        "A_SN1, A_AGN1, A_SN2, A_AGN2",
    )


URL_FILES: tuple[UrlFile, ...] = tuple(
    entry
    for suite in ("IllustrisTNG", "SIMBA")
    for entry in (maps_file("Mtot", suite), maps_file("P", suite), params_file(suite))
)
"""Every CMD file the chapters use (not checksum-registered, see the module docstring)."""
