"""The registry of real datasets: public URL + sha256 of every file, fetched into a local cache.

``fetch("sdss/spDR2-023.fit")`` returns the path of the cached file, downloading it (with
pooch, checksum verified) only when the cache lacks a valid copy. The cache folder is
``A3NET_DATA`` if set, else pooch's per-user cache for "a3net". Offline (``offline=True`` or
``A3NET_OFFLINE=1``) or when the download fails, a missing file raises
:class:`DataUnavailableError` with one sentence naming the file, where to put it and where to
get it by hand. Loaders in ``a3net.data`` call :func:`fetch`; every chapter runs offline on its
simulator by default, so none of this is needed to read the book.
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

__all__ = [
    "ChecksumError",
    "DataUnavailableError",
    "Dataset",
    "REGISTRY",
    "data_dir",
    "fetch",
    "file_sha256",
    "is_available",
    "path_in_cache",
    "register",
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
        raise TypeError(f"register() expects an a3net.data.fetch.Dataset, got {type(dataset).__name__}.")
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
            f"url of dataset {name!r} must start with http://, https:// or file://, got {dataset.url!r}."
        )
    if dataset.size_bytes is not None and (
        not isinstance(dataset.size_bytes, int) or dataset.size_bytes < 0
    ):
        raise ValueError(
            f"size_bytes of dataset {name!r} must be a non-negative int or None, got {dataset.size_bytes!r}."
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


def _offline_from_env() -> bool:
    return os.environ.get("A3NET_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


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


def _quarantine(path: Path) -> Path:
    """Rename a file with a wrong checksum to ``<name>.corrupt`` so it never passes as valid."""
    bad = path.with_name(path.name + ".corrupt")
    os.replace(path, bad)
    return bad


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
        bad = _quarantine(target)
        if offline:
            raise ChecksumError(
                f"The cached file {target} has the wrong sha256 (expected {ds.sha256}, got "
                f"{actual}) and was moved to {bad.name}; run again online or place a good copy "
                f"from {ds.url} at {target}."
            )
    if offline:
        raise _unavailable(ds, target, "offline mode is on (offline=True or A3NET_OFFLINE=1)")

    scheme = urllib.parse.urlsplit(ds.url).scheme
    downloader = (
        _file_downloader
        if scheme == "file"
        else pooch.HTTPDownloader(progressbar=progress, timeout=60)
    )
    try:
        pooch.retrieve(
            ds.url,
            known_hash=f"sha256:{ds.sha256}",
            fname=target.name,
            path=target.parent,
            downloader=downloader,
            progressbar=progress,
        )
    except ValueError as exc:  # pooch's hash mismatch; the temporary download is already deleted
        found = re.search(r"but got ([0-9a-f]{64})", str(exc))
        actual = found.group(1) if found else "unknown"
        raise ChecksumError(
            f"The file {ds.name!r} downloaded from {ds.url} has sha256 {actual} but the registry "
            f"expects {ds.sha256}, so it was not kept in {target.parent}; the source may have "
            "changed: report it to the a3net maintainers."
        ) from exc
    except OSError as exc:  # requests' errors derive from OSError, as do file:// failures
        raise _unavailable(ds, target, f"the download failed ({_one_line(exc, ds.url)})") from exc
    return target


# --------------------------------------------------------------------------------------------
# The registry. Every file below is a verbatim copy of a blob in a public GitHub repository at a
# fixed commit, so its raw URL never changes; sha256 and sizes were computed from those blobs.
# --------------------------------------------------------------------------------------------

_ZSALT = ("crawfordsm/zSALT", "d16262751b62b2e68d022ca448be31ddea5792f8")
_PYQSOFIT = ("legolason/PyQSOFit", "084df5a7d2af76b38719af5851b114ad9ecf4d60")
_CNNSTELLAR = ("sddzwll/CNNforStellarp", "e21ea41c7d039ff5d22600262d195b37cca2e6c7")
_PPXF = ("bamford/ppxf", "ca75df76d83b177c658edca6400f5139ace0932e")
_COSMOPZ_EXT = ("COINtoolbox/CosmoPhotoz", "d22725a0e2a60e24090c3a64ca7c9da5794dc95d")
_COSMOPZ_PY = ("COINtoolbox/CosmoPhotoz", "5b66947e67339277fba3b387fde150c3e390155a")
_EAZY = ("gbrammer/eazy-photoz", "0499b4bbff588ce4f54e638678affd5588770fae")
_EAZY_FILTERS = ("gbrammer/eazy-photoz", "4747b5955ef95117615560c45b96e1d4487e6613")
_DEEPPLANCK = ("The300th/DeepPlanck", "c35adb54585320f3add567969751b46b3110a693")
_THE300_XRAY = ("ashleigharendt/ClusterMergersXrayOnly", "f077ecaa34e3530dcf02c7bdb0991d8991378c94")

# Where to get each source by hand (besides the raw URL).
_BY_HAND = {
    _ZSALT: "the SDSS DR2 template tarball spectemplatesDR2.tar.gz at "
    "classic.sdss.org/dr7/algorithms/spectemplates or from github.com/crawfordsm/zSALT",
    _PYQSOFIT: "the SDSS Science Archive Server data.sdss.org/sas as a spec-lite file or from "
    "github.com/legolason/PyQSOFit",
    _CNNSTELLAR: "the SDSS Science Archive Server data.sdss.org/sas as a spec-lite file or from "
    "github.com/sddzwll/CNNforStellarp",
    _PPXF: "the SDSS Science Archive Server or the pPXF examples at github.com/bamford/ppxf",
    _COSMOPZ_EXT: "github.com/COINtoolbox/CosmoPhotoz, folder inst/extdata at commit d22725a",
    _COSMOPZ_PY: "github.com/COINtoolbox/CosmoPhotoz, folder Python/CosmoPhotoz/data at commit 5b66947",
    _EAZY: "github.com/gbrammer/eazy-photoz",
    _EAZY_FILTERS: "github.com/gbrammer/eazy-photoz, folder filters",
    _DEEPPLANCK: "github.com/The300th/DeepPlanck",
    _THE300_XRAY: "github.com/ashleigharendt/ClusterMergersXrayOnly as Xray.fits",
}

_SP = "SDSS DR2 galaxy cross-correlation template {}: FITS image (4, NPIX), row 0 the flux, "
_SP += "log10(lambda/A) = COEFF0 + 1e-4 i"
_SPEC = "real SDSS spec-lite spectrum: HDU1 COADD (flux [1e-17 erg/s/cm2/A], loglam, ivar, masks), "
_SPEC += "HDU2 SPECOBJ (Z, CLASS), {}"
_EAZY_SED = "EAZY v1.1 template SED {} (two columns: lambda [A], f_lambda)"

# name in the cache | source (repo, commit) | path in repo | sha256 | bytes | description
_TABLE: tuple[tuple[str, tuple[str, str], str, str, int, str], ...] = (
    # SDSS DR2 galaxy templates 023-028 (chapters A/B: Tonry & Davis cross-correlation)
    ("sdss/spDR2-023.fit", _ZSALT, "zsalt/template/spDR2-023.fit",
     "f09914d6e5510de9e4b304891a50b6c0a7b2cfd7957053335eac3b0f2be313db", 95040,
     _SP.format("023 (early type), 3500-9197 A")),
    ("sdss/spDR2-024.fit", _ZSALT, "zsalt/template/spDR2-024.fit",
     "ce52b703b8603f3870eabba8aa421ab974117ae13e64e1a7ac1c9f18a1a7f194", 95040,
     _SP.format("024, 3500-9197 A")),
    ("sdss/spDR2-025.fit", _ZSALT, "zsalt/template/spDR2-025.fit",
     "ae15454eb81299e2da357a92b4aa1f1c196799816201d50beab6f1c1f0ef20e1", 95040,
     _SP.format("025, 3500-9197 A")),
    ("sdss/spDR2-026.fit", _ZSALT, "zsalt/template/spDR2-026.fit",
     "76fc2a3ef63149a0eaa36628f87c78f99ca62932a28c629323a985b225aabd88", 95040,
     _SP.format("026, 3500-9197 A")),
    ("sdss/spDR2-027.fit", _ZSALT, "zsalt/template/spDR2-027.fit",
     "fb80d419be992acded3f03b00d9201ff83725a1e8e5108233ab67e0e1fe1d279", 95040,
     _SP.format("027 (late type), 3500-9197 A")),
    ("sdss/spDR2-028.fit", _ZSALT, "zsalt/template/spDR2-028.fit",
     "e733449ed4f6c814042c6cbfa818e7fcc11d355bbf9acb9f858846b3c94bb457", 83520,
     _SP.format("028 (luminous red galaxy), 3000-6800 A")),
    # SDSS spectra (chapters A/B)
    ("sdss/spec-0266-51602-0013.fits", _PYQSOFIT, "example/data/spec-0266-51602-0013.fits",
     "47110160c6b2a19e4c62106d292f5b16e1a0906c575ae481590835382a4d3f35", 172800,
     _SPEC.format("galaxy at z = 0.12132")),
    ("sdss/spec-0266-51602-0056.fits", _CNNSTELLAR, "data/spec-0266-51602-0056.fits",
     "92e8ab6bb2b0c224e432ad0a963099db8ebf4db51f4b2e9303143c709b458770", 172800,
     _SPEC.format("galaxy at z = 0.20591 (velocity dispersion 267 km/s)")),
    ("sdss/spec-0266-51602-0107.fits", _PYQSOFIT, "example/data/spec-0266-51602-0107.fits",
     "a2a6915a0547ce129bae5191c2b085ee4fc11c21dfcfd60c28ea7b6fe17f8111", 172800,
     _SPEC.format("star-forming galaxy at z = 0.12315")),
    ("sdss/spec-0332-52367-0639.fits", _PYQSOFIT, "example/data/spec-0332-52367-0639.fits",
     "96b3361718b8fd9166c66723b6b1e13cc1968ff99317cd544fcfc962cd6a426e", 604800,
     _SPEC.format("broad-line QSO at z = 0.10061")),
    ("sdss/NGC4636_SDSS_DR12.fits", _PPXF, "spectra/NGC4636_SDSS_DR12.fits",
     "f22bcb22e846cdf3cdf21dd9acd73d91152d91d5855ff622aa8e8970e970f503", 604800,
     _SPEC.format("NGC 4636 (plate 522, MJD 52024, fiber 396) at z = 0.003025, plus 6 exposure HDUs")),
    ("sdss/NGC3522_SDSS_DR8.fits", _PPXF, "spectra/NGC3522_SDSS_DR8.fits",
     "022d34ab3a3a00078dcd22ecbd03cf687c511dd44042274450bbfe88687e0aff", 172800,
     "SDSS DR8 spectrum of NGC 3522 in the old pPXF-example layout: one table with flux, best_fit, "
     "wavelength, and_mask, or_mask, inverse_variance (z = 0.003129, no SPECOBJ)"),
    # Photometric redshifts (chapter C)
    ("photoz/sdss-ugriz-train.dat", _COSMOPZ_EXT, "inst/extdata/sdss-ugriz-train.dat",
     "51201f48ca8d028f11bf0b637573456feb3a745860c3d6d7f1a07eaa7cf6e3fb", 630000,
     "5000 real SDSS galaxies (ANNz example set): whitespace ASCII, no header, columns u g r i z, "
     "five magnitude errors, spectroscopic z (0.002-0.64)"),
    ("photoz/sdss-ugriz-test.dat", _COSMOPZ_EXT, "inst/extdata/sdss-ugriz-test.dat",
     "b03ae5fb18b469de31aba5cf7de77146ae74d8bb6b86681a0d8b04779bc995f9", 756000,
     "6000 real SDSS galaxies, same 11 columns as photoz/sdss-ugriz-train.dat"),
    ("photoz/2slaq_small.csv", _COSMOPZ_PY, "Python/CosmoPhotoz/data/2slaq_small.csv",
     "087c2032121a5de340b55df8f3417b57dd721c8cf1508c98d31976ed1c69a200", 594589,
     "14155 real 2SLAQ luminous red galaxies: CSV mag_u..mag_z, redshift (to 0.88)"),
    ("eazy/inputs/hdfn_fs99_eazy.cat", _EAZY, "inputs/hdfn_fs99_eazy.cat",
     "f2aef0d61e3848324b35d48276ff9f9c65df73b443892fce4b8396f150b3182c", 273344,
     "1067 real HDF-N galaxies (Fernandez-Soto et al. 1999), 3D-HST-like catalogue: fluxes and errors "
     "in F300W F450W F606W F814W J H K with AB zero-point 25, z_spec = -1 for none"),
    ("eazy/inputs/hdfn_fs99_eazy.cat.zspec.only", _EAZY, "inputs/hdfn_fs99_eazy.cat.zspec.only",
     "3b9c974965e1781d85103da1d98517e2b893407849c11aa69c89ba1d29ec2113", 29376,
     "the 114 HDF-N galaxies of eazy/inputs/hdfn_fs99_eazy.cat with a spectroscopic z (0.089-5.60)"),
    ("eazy/inputs/zphot.translate", _EAZY, "inputs/zphot.translate",
     "12cdc1e54d17aa918dab470dc20a07c4ab18e7123b6a5161feec687781eb50f1", 168,
     "EAZY translate file mapping the HDF-N catalogue columns to FILTER.RES filter numbers"),
    ("eazy/filters/FILTER.RES.latest", _EAZY_FILTERS, "filters/FILTER.RES.latest",
     "82392335069fc02f0025c70f884df6bedd1b1694641e295bd77f45d0362f7826", 3136167,
     "418 filter transmission curves in EAZY format ('N name' line, then N rows idx lambda[A] T)"),
    ("eazy/filters/FILTER.RES.latest.info", _EAZY_FILTERS, "filters/FILTER.RES.latest.info",
     "fdf3984cd2aaddeabf852f485254fb39cdfa0f6d691c9301cc16e5de51f53523", 34336,
     "index of the filters in eazy/filters/FILTER.RES.latest (SDSS ugriz = 156-160)"),
    ("eazy/templates/eazy_v1.3.spectra.param", _EAZY, "templates/eazy_v1.3.spectra.param",
     "378696f39f1ece3fa6c72f13d6321dcdf9c89f299ed745ab82707086faa4fc6d", 1178,
     "EAZY v1.3 template list (9 templates, paths relative to the eazy/ folder)"),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed1.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed1.dat",
     "89b870c68dbe91f9dae3200514765617f3df20ebb5cee8b8fe3ab03b5af4b099", 76086, _EAZY_SED.format(1)),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed2.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed2.dat",
     "b3a8dbded1e778793c3d6fba81029c370232f38b9efe276183953d97c1f6455e", 76086, _EAZY_SED.format(2)),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed3.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed3.dat",
     "da458bb0eacff220d00050979d1a7ed4ae12c4985d97a39e2d46cc4e27243b97", 76086, _EAZY_SED.format(3)),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed4.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed4.dat",
     "76906c2e78fc4740f0139618af024cc6065cb1f3832697c79dc850e8e88180c3", 76086, _EAZY_SED.format(4)),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed5.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed5.dat",
     "d1504561d12945f04ad8453819924fe7a8031d53fe81573a1c25f085d20ad84b", 76086, _EAZY_SED.format(5)),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed6.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed6.dat",
     "3aaebfdf767f38c9a505718a30e3458b1775a19da4d6c78bb4933495afc43aba", 76086, _EAZY_SED.format(6)),
    ("eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed7.dat", _EAZY,
     "templates/EAZY_v1.1_lines/eazy_v1.1_sed7.dat",
     "c9762fa3262cc5ff3fac4c1ee238720fa599b84424a2a4684fe41f432ea6e915", 12636, _EAZY_SED.format(7)),
    ("eazy/templates/Dusty/c09_del_8.6_z_0.019_chab_age09.40_av2.0.dat", _EAZY,
     "templates/Dusty/c09_del_8.6_z_0.019_chab_age09.40_av2.0.dat",
     "5b8aafaa704d1bab09c43d6a2d05ce11b1686709705837ee38f8bf8c0da22dd2", 31765,
     "EAZY v1.3 dusty old-population template (Av = 2; lambda [A], f_lambda)"),
    ("eazy/templates/erb2010_highEW.dat", _EAZY, "templates/erb2010_highEW.dat",
     "680a8e9b56ca1f574bd3027782fd845641443754db0aaa74beb1eef23978e4bf", 47450,
     "EAZY v1.3 high-equivalent-width emission-line template (Erb et al. 2010; lambda [A], f_lambda)"),
    ("eazy/templates/TEMPLATE_ERROR.eazy_v1.0", _EAZY, "templates/TEMPLATE_ERROR.eazy_v1.0",
     "ee9524b7a55626324ffafb45fe725730c0e0914e289c182c5e1f935fedc11de2", 2726,
     "EAZY template error function (rest-frame lambda [A], fractional error)"),
    ("eazy/templates/LAFcoeff.txt", _EAZY, "templates/LAFcoeff.txt",
     "a8f92be05b17b6f027ce40e2394cf499f98ece3237d3ee9919a3a2aa7fc2ce87", 2028,
     "Lyman-alpha forest IGM absorption coefficients (Inoue et al. 2014)"),
    ("eazy/templates/DLAcoeff.txt", _EAZY, "templates/DLAcoeff.txt",
     "ea7b4f8afe91f16430cc7ffeb541a2d51c7a1b6e853d52f2dfd79fd30ceabbe6", 1560,
     "damped Lyman-alpha system IGM absorption coefficients (Inoue et al. 2014)"),
    # Galaxy clusters (chapters D/G)
    ("clusters/DeepPlanck.csv", _DEEPPLANCK, "DeepPlanck.csv",
     "adc1734e3a7b06437c0c22a82c72d6fd2bbbdf9bed0cf893164771275b9c538f", 145208,
     "1094 real Planck PSZ2 clusters (de Andres et al. 2022): cluster, Planck_mass and CNN_mass "
     "[log10 Msun], err+, err-, redshift, Y_500, err_Y"),
    ("clusters/PSZ2G359.07-32.12.fits", _DEEPPLANCK, "PSZ2G359.07-32.12.fits",
     "a8679b2b8d603bbb81e5cccc42b697fdd2c8967202d2a4004d3d33f2641a33d4", 77760,
     "one real Planck Compton-y cutout, 96x96 float64, header Z = 0.1496 and M500"),
    ("clusters/The300_Xray.fits", _THE300_XRAY, "Xray.fits",
     "a9ea5d5d75f8cb144fdaf9cdaff96e6ef11acee81764b2683fa6072d991cba11", 3280320,
     "SIMULATED X-ray image of a The Three Hundred cluster, 640x640 float64 [erg/s/cm2], "
     "log10 M200 = 14.391 Msun/h, z = 0.363; open with fits.open(..., ignore_missing_simple=True)"),
)


def _github_raw_url(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{urllib.parse.quote(path)}"


for _name, _source, _path, _sha, _size, _description in _TABLE:
    register(
        Dataset(
            name=_name,
            url=_github_raw_url(*_source, _path),
            sha256=_sha,
            description=_description,
            how_to_get=(
                f"it is also available from {_BY_HAND[_source]}, to be saved as {_name} in the "
                "a3net data folder, A3NET_DATA"
            ),
            size_bytes=_size,
        )
    )
del _name, _source, _path, _sha, _size, _description
