"""Real 3D-HST v4.1 catalogues (Skelton et al. 2014) with their filter curves and EAZY redshifts
(chapter C): :func:`load_3dhst` reads a field's ``*_3dhst.v4.1.cat``, matches every ``f_<band>``
column to its transmission curve in EAZY's ``FILTER.RES.latest`` and joins the EAZY ``.zout``.

One band name means different instruments in different fields, so the mapping is per field:
``THREEDHST_FILTERS[field][band]`` is the ``FILTER.RES.latest`` number of the curve (numbers as in
``FILTER.RES.latest.info``; every number is checked against a word of its description when the
curves are looked up, so a renumbered filter file fails loudly). The 3D-HST team's own choices,
in order of authority:

- **AEGIS, GOODS-N**: the EAZY parameter files of the v4.1 release
  (``aegis_3dhst.v4.1.param``, ``goodsn_3dhst.v4.1.param``, which list ``Filter #k, RES#n``
  in the order of the catalogue's flux columns);
- **UDS**: the FAST filter list of the v4.1/v4.2 release readme (``# Filters: 205 88 122 79 236
  123 124 239 125 203 263 204 264 265 18 19 20 21``, the 18 bands in column order);
- **GOODS-S**: the 3D-HST team's zero-point code (G. Brammer's ``unicorn``, which fixes or
  starts from 1, 4, 5, 7, 236, 239, 240, 203-205 for the HST bands, 46, 50, 54, 58 for B V Rc I,
  36, 37, 103, 107, 220, 222 and 181-198 for H, Ks, U, U38, tenisJ, tenisK and the Subaru medium
  bands) and Skelton et al. Table 3 (R: VIMOS, 260; J: ISAAC, 34);
- **COSMOS**: no released parameter file was found; the numbers follow Skelton et al. Table 3's
  instruments (CFHTLS u* g' r' i' z' = U G R I Z; Subaru B V r+ i+ z+ = B V Rp Ip Zp; NMBS
  NEWFIRM J1-H2, K; WIRDS WIRCam J H Ks; UltraVISTA Y J H Ks; Subaru medium bands), with the
  numbers that the team's zero-point code uses for U (88), V (79), Rp (81), Ip (82), IA624 (190)
  and IA679 (192), and the same NEWFIRM and WIRCam curves as AEGIS.

The release readmes' known issues stay: GOODS-N's R and I use Subaru r' and i' curves for
the Rc and Ic data, and UDS's Subaru B R i z curves lack the atmosphere (the release's
zero-point corrections absorb most of this). UDS is released as v4.2 (``uds_3dhst.v4.2.cat``).

Band -> curve (FILTER.RES.latest number) [fields]:

- F125W, F140W, F160W: WFC3/IR (203, 204, 205) [all];
- F606W: ACS f606w_t81 (236, observed after July 2006: CANDELS) [AEGIS COSMOS GOODS-N UDS];
  ACS f606w_t77 (4, before July 2006: GOODS) [GOODS-S];
- F814W: ACS f814w_t81 (239) [AEGIS COSMOS UDS];
- F435W, F775W, F850LP: ACS t81 (233, 238, 240) [GOODS-N]; ACS t77 (1, 5, 7) [GOODS-S];
- F606Wcand, F814Wcand, F850LPcand (CANDELS): ACS t81 (236, 239, 240) [GOODS-S];
- IRAC1-IRAC4: IRAC channels 1-4 (18-21) [all];
- U / u: CFHT MegaCam u* (88) [AEGIS COSMOS UDS]; KPNO MOSAIC U (227) [GOODS-N]; VIMOS U
  (103) [GOODS-S]; U38: WFI U38 (107) [GOODS-S];
- B: Subaru B (78) [COSMOS], (114) [GOODS-N]; SXDS B (122) [UDS]; WFI B (46) [GOODS-S];
- G: CFHT g' (89) [AEGIS COSMOS]; Keck LRIS g (229) [GOODS-N];
- V: Subaru V (79) [COSMOS UDS], (115) [GOODS-N]; WFI V (50) [GOODS-S];
- R: CFHT r' (90) [AEGIS COSMOS]; Subaru R (116) [GOODS-N]; SXDS R (123) [UDS]; VIMOS R
  (260) [GOODS-S]; Rp: Subaru r+ (81) [COSMOS]; Rs: LRIS Rs (231) [GOODS-N]; Rc: WFI Rc (54)
  [GOODS-S];
- I / i: CFHT i' (91) [AEGIS COSMOS]; Subaru I (117) [GOODS-N]; WFI I (58) [GOODS-S]; SXDS
  i' (124) [UDS]; Ip: Subaru i+ (82) [COSMOS];
- Z / z: CFHT z' (92) [AEGIS COSMOS]; Subaru z' (118) [GOODS-N]; SXDS z' (125) [UDS]; Zp:
  Subaru z+ (83) [COSMOS];
- J1 J2 J3 H1 H2: NEWFIRM medium bands (128-132) [AEGIS COSMOS]; K: NEWFIRM K (134) [AEGIS
  COSMOS], WFCAM K (265) [UDS];
- J: WIRCam (220) [AEGIS COSMOS]; MOIRCS (224) [GOODS-N]; ISAAC (34) [GOODS-S]; WFCAM (263)
  [UDS]; tenisJ: WIRCam (220) [GOODS-S];
- H: WIRCam (221) [AEGIS COSMOS]; MOIRCS (225) [GOODS-N]; ISAAC (36) [GOODS-S]; WFCAM (264)
  [UDS];
- Ks: WIRCam (222) [AEGIS COSMOS]; MOIRCS (226) [GOODS-N]; ISAAC (37) [GOODS-S]; tenisK:
  WIRCam (222) [GOODS-S];
- UVISTA_Y, UVISTA_J, UVISTA_H, UVISTA_Ks: VISTA (256-259) [COSMOS];
- IAnnn: Subaru medium bands (181-198; the catalogues' IA767 is the curve IA768, 195)
  [COSMOS GOODS-S].

So "Ks" is WIRCam in AEGIS and COSMOS, ISAAC in GOODS-S and MOIRCS in GOODS-N, and UDS calls its
WFCAM band "K"; "J" and "H" likewise change instrument with the field, and "I" is 7676 A (CFHT
i') in AEGIS but 8637 A (WFI I) in GOODS-S. Bands of a catalogue missing from its field's table
(e.g. a column added by hand) are never guessed: :func:`filters_for` refuses them and
:func:`load_3dhst` drops them with a warning that names them.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import catalogues as _catalogues
from .sed import FilterCurve

__all__ = [
    "THREEDHST_FIELDS",
    "THREEDHST_FILTERS",
    "ThreeDHSTCatalogue",
    "field_from_path",
    "filters_for",
    "load_3dhst",
]

THREEDHST_FIELDS = ("AEGIS", "COSMOS", "GOODS-N", "GOODS-S", "UDS")
"""The five 3D-HST fields, as ``a3net.data.photometry.FIELDS`` names them."""

_HST_WFC3 = {"F125W": (203, "f125w"), "F140W": (204, "f140w"), "F160W": (205, "f160w")}
_IRAC = {f"IRAC{k}": (17 + k, f"irac_tr{k}") for k in (1, 2, 3, 4)}
_NMBS = {
    "J1": (128, "j1_atmos"),
    "J2": (129, "j2_atmos"),
    "J3": (130, "j3_atmos"),
    "H1": (131, "h1_atmos"),
    "H2": (132, "h2_atmos"),
    "K": (134, "NEWFIRM/k_atmos"),
}
_WIRCAM = {"J": (220, "cfh8101_J"), "H": (221, "cfh8201_H"), "Ks": (222, "cfh8302_Ks")}
_CFHTLS = {
    "U": (88, "cfht_mega_u"),
    "G": (89, "cfht_mega_g"),
    "R": (90, "cfht_mega_r"),
    "I": (91, "cfht_mega_i"),
    "Z": (92, "cfht_mega_z"),
}
_SUBARU_MB = {
    "IA427": (181, "IA427"),
    "IA445": (182, "IA445"),
    "IA464": (183, "IA464"),
    "IA484": (184, "IA484"),
    "IA505": (185, "IA505"),
    "IA527": (186, "IA527"),
    "IA550": (187, "IA550"),
    "IA574": (188, "IA574"),
    "IA598": (189, "IA598"),
    "IA624": (190, "IA624"),
    "IA651": (191, "IA651"),
    "IA679": (192, "IA679"),
    "IA709": (193, "IA709"),
    "IA738": (194, "IA738"),
    "IA767": (195, "IA768"),  # the catalogue's IA767 is the curve Subaru_MB/IA768
    "IA797": (196, "IA797"),
    "IA827": (197, "IA827"),
    "IA856": (198, "IA856"),
}


def _mb(*names: str) -> dict[str, tuple[int, str]]:
    return {name: _SUBARU_MB[name] for name in names}


# field -> band -> (FILTER.RES.latest number, a word of that filter's description)
_TABLE: dict[str, dict[str, tuple[int, str]]] = {
    "AEGIS": {
        **_HST_WFC3,
        "U": _CFHTLS["U"],
        "G": _CFHTLS["G"],
        "F606W": (236, "f606w_t81"),
        "R": _CFHTLS["R"],
        "I": _CFHTLS["I"],
        "F814W": (239, "f814w_t81"),
        "Z": _CFHTLS["Z"],
        **_NMBS,
        **_WIRCAM,
        **_IRAC,
    },
    "COSMOS": {
        **_HST_WFC3,
        **_CFHTLS,
        "B": (78, "SUBARU_filter_B"),
        "V": (79, "SUBARU_filter_V"),
        "Rp": (81, "SUBARU_filter_r"),
        "Ip": (82, "SUBARU_filter_i"),
        "Zp": (83, "SUBARU_filter_z"),
        "F606W": (236, "f606w_t81"),
        "F814W": (239, "f814w_t81"),
        "UVISTA_Y": (256, "VISTA/Y_"),
        "UVISTA_J": (257, "VISTA/J_"),
        "UVISTA_H": (258, "VISTA/H_"),
        "UVISTA_Ks": (259, "VISTA/Ks_"),
        **_NMBS,
        **_WIRCAM,
        **_IRAC,
        **_mb(
            "IA427",
            "IA464",
            "IA484",
            "IA505",
            "IA527",
            "IA574",
            "IA624",
            "IA679",
            "IA709",
            "IA738",
            "IA767",
            "IA827",
        ),  # fmt: skip
    },
    "GOODS-N": {
        **_HST_WFC3,
        "U": (227, "MOSAIC-U-2004+atm"),
        "F435W": (233, "f435w_t81"),
        "B": (114, "B_subaru"),
        "G": (229, "g_blue_transmission.dat +atm"),
        "V": (115, "V_subaru"),
        "F606W": (236, "f606w_t81"),
        "R": (116, "r_subaru"),
        "Rs": (231, "Rs_LRISred_transmission.dat +atm"),
        "I": (117, "i_subaru"),
        "F775W": (238, "f775w_t81"),
        "Z": (118, "z_subaru"),
        "F850LP": (240, "f850lp_t81"),
        "J": (224, "MOIRCS/J277"),
        "H": (225, "MOIRCS/H117"),
        "Ks": (226, "MOIRCS/Ks_"),
        **_IRAC,
    },
    "GOODS-S": {
        **_HST_WFC3,
        "U38": (107, "wfi_BB_U38"),
        "U": (103, "vimos_u"),
        "F435W": (1, "f435w_t77"),
        "B": (46, "B_cdfs"),
        "V": (50, "V_cdfs"),
        "F606Wcand": (236, "f606w_t81"),
        "F606W": (4, "f606w_t77"),
        "R": (260, "ESO/VIMOS/R.dat"),
        "Rc": (54, "R_cdfs"),
        "F775W": (5, "f775w_t77"),
        "I": (58, "I_cdfs"),
        "F814Wcand": (239, "f814w_t81"),
        "F850LP": (7, "f850lp_t77"),
        "F850LPcand": (240, "f850lp_t81"),
        "J": (34, "isaac_j.res"),
        "tenisJ": (220, "cfh8101_J"),
        "H": (36, "isaac_h.res"),
        "tenisK": (222, "cfh8302_Ks"),
        "Ks": (37, "isaac_ks.res"),
        **_IRAC,
        **_mb(
            "IA427",
            "IA445",
            "IA505",
            "IA527",
            "IA550",
            "IA574",
            "IA598",
            "IA624",
            "IA651",
            "IA679",
            "IA738",
            "IA767",
            "IA797",
            "IA856",
        ),  # fmt: skip
    },
    "UDS": {
        **_HST_WFC3,
        "u": (88, "cfht_mega_u"),
        "B": (122, "UKIDSS/B_qe"),
        "V": (79, "SUBARU_filter_V"),
        "F606W": (236, "f606w_t81"),
        "R": (123, "UKIDSS/R_qe"),
        "i": (124, "UKIDSS/i_qe"),
        "F814W": (239, "f814w_t81"),
        "z": (125, "UKIDSS/z_qe"),
        "J": (263, "WFCAM_J"),
        "H": (264, "WFCAM_H"),
        "K": (265, "WFCAM_K"),
        **_IRAC,
    },
}

THREEDHST_FILTERS: dict[str, dict[str, int]] = {
    field: {band: number for band, (number, _) in table.items()} for field, table in _TABLE.items()
}
"""``{field: {band: FILTER.RES.latest number}}`` for the five 3D-HST v4.1 fields (the module
docstring says which curve each number is and where it came from)."""


class ThreeDHSTCatalogue(NamedTuple):
    """A 3D-HST catalogue with its filters (see :func:`load_3dhst`)."""

    catalogue: pd.DataFrame  # load_3dhst_catalogue's table, .zout columns joined when present
    bands: list[str]  # the bands with a known filter, in the catalogue's column order
    filters: list[FilterCurve]  # one per band, same order
    field: str  # one of THREEDHST_FIELDS
    z_eazy: np.ndarray | None  # (N,) the .zout's z_peak per catalogue row, NaN where none
    filter_numbers: list[int]  # FILTER.RES.latest number of each filter


_FIELD_ALIASES = {re.sub(r"[^a-z]", "", f.lower()): f for f in THREEDHST_FIELDS}


def _check_field(field) -> str:
    if not isinstance(field, str):
        raise TypeError(
            f"field must be a field name such as 'GOODS-S', got {type(field).__name__}."
        )
    key = re.sub(r"[^a-z]", "", field.lower())
    if key not in _FIELD_ALIASES:
        raise ValueError(
            f"field must be one of {', '.join(THREEDHST_FIELDS)} (case and '-' ignored), "
            f"got {field!r}."
        )
    return _FIELD_ALIASES[key]


def field_from_path(path) -> str | None:
    """The field of a 3D-HST file from its name (``goodss_3dhst.v4.1.cat`` -> ``"GOODS-S"``),
    or None when the name does not start with a field's name."""
    name = Path(os.fspath(path)).name.lower()
    prefix = re.split(r"[_.\s]", name, maxsplit=1)[0]
    return _FIELD_ALIASES.get(re.sub(r"[^a-z]", "", prefix))


def _known(bands: list[str], field: str) -> tuple[list[str], list[str]]:
    table = _TABLE[field]
    return [b for b in bands if b in table], [b for b in bands if b not in table]


def filters_for(bands, field, filters: dict[int, FilterCurve] | None = None) -> list[FilterCurve]:
    """The filter curves of 3D-HST ``bands`` (names after ``f_``) in ``field``, as
    :class:`~a3net.data.sed.FilterCurve` in the order of ``bands``, each named ``"<band>
    (#<number>)"``.

    ``filters``: EAZY's filters ``{number: FilterCurve}`` (default
    :func:`a3net.data.eazy.load_eazy_filters`, fetched once). A band the field's table does not
    list raises ValueError naming it; a number whose curve in ``filters`` is not the expected
    one (a FILTER.RES file numbered differently from FILTER.RES.latest) raises ValueError too.
    """
    bands = _catalogues._check_bands(bands)
    field = _check_field(field)
    _, unknown = _known(bands, field)
    if unknown:
        raise ValueError(
            f"no known filter for bands {unknown} in {field}; THREEDHST_FILTERS[{field!r}] lists "
            f"{', '.join(_TABLE[field])}: drop those bands or add their FILTER.RES numbers."
        )
    if filters is None:
        from .eazy import load_eazy_filters

        filters = load_eazy_filters()
    if not isinstance(filters, dict):
        raise TypeError(
            "filters must be a dict {number: FilterCurve} as returned by "
            f"a3net.data.eazy.load_eazy_filters(), got {type(filters).__name__}."
        )
    out = []
    for band in bands:
        number, word = _TABLE[field][band]
        curve = filters.get(number)
        if not isinstance(curve, FilterCurve):
            raise ValueError(
                f"band {band!r} of {field} needs filter {number} of FILTER.RES.latest, which "
                f"the filters passed do not hold ({len(filters)} filters); pass "
                "a3net.data.eazy.load_eazy_filters()."
            )
        if word.lower() not in curve.name.lower():
            raise ValueError(
                f"filter {number} is {curve.name[:60]!r}, not the {word!r} curve that band "
                f"{band!r} of {field} needs: the filters are not numbered as in "
                "FILTER.RES.latest; pass a3net.data.eazy.load_eazy_filters()."
            )
        out.append(FilterCurve(f"{band} (#{number})", curve.wave, curve.throughput))
    return out


def _sibling_zout(path: Path) -> Path | None:
    """``<stem>.zout`` beside the catalogue, or in the release's ``../Eazy/`` folder."""
    name = path.name
    stem = re.sub(r"(\.cat)?(\.fits?)?(\.gz)?$", "", name, flags=re.IGNORECASE)
    candidates = [path.with_name(f"{stem}.zout"), path.parent.parent / "Eazy" / f"{stem}.zout"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _z_eazy(df: pd.DataFrame, zout: Path) -> np.ndarray:
    column = "z_peak" if "z_peak" in df.columns else None
    if column is None and "z_a" in df.columns:
        column = "z_a"
        warnings.warn(
            f"{zout.name} has no z_peak column; z_eazy is its z_a (the minimum-chi-square "
            "redshift) instead.",
            UserWarning,
            stacklevel=3,
        )
    if column is None:
        raise ValueError(
            f"{zout.name} has neither a z_peak nor a z_a column; pass an EAZY .zout file "
            "(columns id z_spec z_a ... z_peak)."
        )
    z = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    return np.where(z > -90, z, np.nan)  # EAZY writes -99 where it did not fit


def load_3dhst(path, zout=None, *, field=None, filters=None) -> ThreeDHSTCatalogue:
    """A 3D-HST v4.1 catalogue ``path`` (``*_3dhst.v4.1.cat``, ASCII or FITS) with the filter
    curve of every band and EAZY's photometric redshifts.

    ``catalogue``: :func:`a3net.data.catalogues.load_3dhst_catalogue` of ``path`` and the
    ``.zout`` (joined by ``id``); ``attrs["bands"]`` is set to the matched bands and
    ``attrs["field"]`` to the field. ``field``: one of ``THREEDHST_FIELDS``; default inferred
    from the file name (``goodss_3dhst.v4.1.cat`` -> GOODS-S). ``zout``: the EAZY output; when
    None, ``<stem>.zout`` next to the catalogue (``goodss_3dhst.v4.1.zout``) or in the
    release's ``../Eazy/`` folder is used if it exists. ``z_eazy`` (N,): the .zout's
    ``z_peak`` in catalogue row order, NaN where EAZY wrote -99; None without a .zout.
    ``bands``/``filters``/``filter_numbers``: the catalogue's flux bands with a filter in
    ``THREEDHST_FILTERS[field]``, in column order; the others are dropped with a warning that
    names them. ``filters`` (argument): EAZY's ``{number: FilterCurve}``, default
    :func:`a3net.data.eazy.load_eazy_filters`.
    """
    path = _catalogues._as_path(path, "path")
    if field is None:
        field = field_from_path(path)
        if field is None:
            raise ValueError(
                f"cannot tell the field of {path.name!r} from its name; pass field= one of "
                f"{', '.join(THREEDHST_FIELDS)}."
            )
    else:
        field = _check_field(field)
    if zout is None and path.is_file():
        zout = _sibling_zout(path)
    df = _catalogues.load_3dhst_catalogue(path, zout=zout)
    all_bands = list(df.attrs["bands"])
    bands, unknown = _known(all_bands, field)
    if unknown:
        warnings.warn(
            f"{path.name}: bands {unknown} have no known filter in {field} and were dropped "
            f"(THREEDHST_FILTERS[{field!r}] does not list them).",
            UserWarning,
            stacklevel=2,
        )
    if not bands:
        raise ValueError(
            f"{path.name}: none of its bands {all_bands} has a known filter in {field}; is "
            "field= right?"
        )
    curves = filters_for(bands, field, filters)
    z_eazy = None if zout is None else _z_eazy(df, Path(os.fspath(zout)))
    df.attrs["bands"] = bands
    df.attrs["errors"] = {f"f_{b}": f"e_{b}" for b in bands}
    df.attrs["unmatched_bands"] = unknown
    df.attrs["field"] = field
    numbers = [THREEDHST_FILTERS[field][b] for b in bands]
    return ThreeDHSTCatalogue(df, bands, curves, field, z_eazy, numbers)
