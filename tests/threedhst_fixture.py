"""A small GOODS-S catalogue and EAZY .zout in the real 3D-HST v4.1 layout, for
tests/test_threedhst.py: the rows come from the course's simulator
(:func:`a3net.data.photometry.simulate_catalogue`), renamed to the GOODS-S columns.

The catalogue has the GOODS-S release's header (``# id x y ra dec faper_F160W eaper_F160W
faper_F140W eaper_F140W f_F160W e_F160W w_F160W f_U38 ... f_IA856 e_IA856 tot_cor ... use_phot
near_star nexp_f125w nexp_f140w nexp_f160w``; Subaru medium bands without ``w_`` columns, as in
the release), whitespace-separated, fluxes with AB zero-point 25. The simulator's bands fill
their GOODS-S namesakes (its F814W is CANDELS's ``F814Wcand``; it has no F105W column, as the
release has none); the other bands are -99 (no coverage), with weight 0. The .zout has EAZY's
columns (``# id z_spec z_a z_m1 chi_a z_p chi_p z_m2 odds l99 l95 l68 u68 u95 u99 nfilt q_z
z_peak peak_prob z_mc`` then ``# EAZY $Rev: 34 $``), z_peak = truth + N(0, 0.03 (1 + z)), -99
in every fitted column for the objects with ``use_phot = 0``, rows shuffled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from a3net.data import photometry

GOODSS_BANDS = (
    "F160W", "U38", "U", "F435W", "B", "V", "F606Wcand", "F606W", "R", "Rc", "F775W", "I",
    "F814Wcand", "F850LP", "F850LPcand", "F125W", "J", "tenisJ", "F140W", "H", "tenisK", "Ks",
    "IRAC1", "IRAC2", "IRAC3", "IRAC4", "IA427", "IA445", "IA505", "IA527", "IA550", "IA574",
    "IA598", "IA624", "IA651", "IA679", "IA738", "IA767", "IA797", "IA856",
)  # fmt: skip
"""The flux columns of goodss_3dhst.v4.1.cat, in order (the release's readme)."""

SIMULATED_AS = {"F814W": "F814Wcand"}
"""Simulator band -> GOODS-S column where the names differ (all other simulated bands keep
their names; the simulator's F105W is not written)."""

_TAIL = (
    "tot_cor wmin_ground wmin_hst wmin_wfc3 wmin_irac z_spec star_flag kron_radius a_image "
    "b_image theta_J2000 class_star flux_radius fwhm_image flags IRAC1_contam IRAC2_contam "
    "IRAC3_contam IRAC4_contam contam_flag f140w_flag use_phot near_star nexp_f125w nexp_f140w "
    "nexp_f160w"
).split()
ZOUT_COLUMNS = (
    "id z_spec z_a z_m1 chi_a z_p chi_p z_m2 odds l99 l95 l68 u68 u95 u99 nfilt q_z z_peak "
    "peak_prob z_mc"
).split()


def simulated_bands() -> list[str]:
    """The simulator's bands written to the fixture (GOODS-S names), in catalogue order."""
    names = {SIMULATED_AS.get(b, b) for b in photometry.BANDS if b != "F105W"}
    return [b for b in GOODSS_BANDS if b in names]


def _goodss_rows(n: int, seed: int):
    bands = [b for b in photometry.BANDS if b != "F105W"]
    size = 6 * n + 30
    while True:
        sim = photometry.simulate_catalogue(size, seed=seed, bands=bands)
        keep = (sim.catalogue["field"] == "GOODS-S").to_numpy()
        if keep.sum() >= n:
            rows = np.flatnonzero(keep)[:n]
            cat = sim.catalogue.iloc[rows].reset_index(drop=True)
            truth = sim.truth.iloc[rows].reset_index(drop=True)
            return cat, truth
        size *= 2


def write_3dhst_files(
    folder,
    n: int = 80,
    seed: int = 0,
    *,
    stem: str = "goodss_3dhst.v4.1",
    extra_bands=(),
    zout: bool = True,
):
    """Write ``<folder>/<stem>.cat`` and (if ``zout``) ``<stem>.zout`` for ``n`` simulated
    GOODS-S objects; ``extra_bands``: names of further flux columns (``f_X e_X w_X``, placed
    after IRAC4, positive fluxes) that no real GOODS-S catalogue has.

    Returns ``(cat_path, zout_path or None, truth)``; ``truth`` has the catalogue's ``id``,
    ``z_true`` (0 for stars), ``z_peak`` (the .zout's value, NaN where it is -99) and
    ``is_star``, in catalogue row order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1000)
    sim, truth = _goodss_rows(n, seed)
    ids = np.arange(1, n + 1)

    out = {
        "id": ids,
        "x": sim["x"].to_numpy(),
        "y": sim["y"].to_numpy(),
        "ra": sim["ra"].to_numpy(),
        "dec": sim["dec"].to_numpy(),
        "faper_F160W": sim["faper_F160W"].to_numpy(),
        "eaper_F160W": sim["eaper_F160W"].to_numpy(),
        "faper_F140W": sim["faper_F160W"].to_numpy() * 0.95,
        "eaper_F140W": sim["eaper_F160W"].to_numpy() * 1.3,
    }
    sim_names = {SIMULATED_AS.get(b, b): b for b in photometry.BANDS if b != "F105W"}
    bands = list(GOODSS_BANDS)
    at = bands.index("IRAC4") + 1
    bands[at:at] = list(extra_bands)
    for band in bands:
        if band in sim_names:
            f = sim[f"f_{sim_names[band]}"].to_numpy(dtype=float)
            e = sim[f"e_{sim_names[band]}"].to_numpy(dtype=float)
        elif band in extra_bands:
            f = rng.uniform(0.5, 5.0, n)
            e = 0.1 * f
        else:
            f = np.full(n, -99.0)
            e = np.full(n, -99.0)
        out[f"f_{band}"] = f
        out[f"e_{band}"] = e
        if not band.startswith("IA"):  # the release has no w_ columns for the medium bands
            out[f"w_{band}"] = np.where(f > -90, 1.0, 0.0)
    star = sim["star_flag"].to_numpy()
    tail = {
        "tot_cor": sim["tot_cor"].to_numpy(),
        "wmin_ground": np.ones(n),
        "wmin_hst": np.ones(n),
        "wmin_wfc3": np.ones(n),
        "wmin_irac": np.ones(n),
        "z_spec": sim["z_spec"].to_numpy(),
        "star_flag": star,
        "kron_radius": sim["kron_radius"].to_numpy(),
        "a_image": sim["a_image"].to_numpy(),
        "b_image": sim["b_image"].to_numpy(),
        "theta_J2000": sim["theta_J2000"].to_numpy(),
        "class_star": sim["class_star"].to_numpy(),
        "flux_radius": sim["flux_radius"].to_numpy(),
        "fwhm_image": sim["fwhm_image"].to_numpy(),
        "flags": sim["flags"].to_numpy(),
        **{f"IRAC{k}_contam": rng.uniform(0, 0.3, n) for k in (1, 2, 3, 4)},
        "contam_flag": np.zeros(n, dtype=int),
        "f140w_flag": np.zeros(n, dtype=int),
        "use_phot": sim["use_phot"].to_numpy(),
        "near_star": sim["near_star"].to_numpy(),
        "nexp_f125w": sim["nexp_f160w"].to_numpy(),
        "nexp_f140w": np.full(n, 2),
        "nexp_f160w": sim["nexp_f160w"].to_numpy(),
    }
    assert list(tail) == _TAIL
    out.update(tail)
    table = pd.DataFrame(out)
    cat_path = folder / f"{stem}.cat"
    _write(table, cat_path, [f"# {' '.join(table.columns)}"])

    z_true = truth["z_true"].to_numpy(dtype=float)
    z_peak = z_true + rng.normal(0.0, 0.03, n) * (1 + z_true)
    z_peak = np.clip(z_peak, 0.01, 6.0)
    failed = sim["use_phot"].to_numpy() == 0
    zout_path = None
    if zout:
        width = 0.05 * (1 + z_peak)
        cols = {
            "id": ids,
            "z_spec": sim["z_spec"].to_numpy(),
            "z_a": z_peak + rng.normal(0, 0.01, n),
            "z_m1": z_peak + rng.normal(0, 0.01, n),
            "chi_a": rng.uniform(2, 30, n),
            "z_p": z_peak,
            "chi_p": rng.uniform(2, 30, n),
            "z_m2": z_peak + rng.normal(0, 0.01, n),
            "odds": rng.uniform(0.5, 1.0, n),
            "l99": z_peak - 3 * width,
            "l95": z_peak - 2 * width,
            "l68": z_peak - width,
            "u68": z_peak + width,
            "u95": z_peak + 2 * width,
            "u99": z_peak + 3 * width,
            "nfilt": (table[[f"f_{b}" for b in bands]].to_numpy() > -90).sum(axis=1),
            "q_z": rng.uniform(0.1, 2.0, n),
            "z_peak": z_peak,
            "peak_prob": rng.uniform(0.5, 1.0, n),
            "z_mc": z_peak + rng.normal(0, 0.05, n),
        }
        zt = pd.DataFrame(cols)
        fitted = [c for c in ZOUT_COLUMNS if c not in ("id", "z_spec", "nfilt")]
        zt.loc[failed, fitted] = -99.0
        zt = zt.iloc[rng.permutation(n)].reset_index(drop=True)  # another row order
        zout_path = folder / f"{stem}.zout"
        _write(zt, zout_path, [f"# {' '.join(ZOUT_COLUMNS)}", "# EAZY $Rev: 34 $"])
    truth_out = pd.DataFrame(
        {
            "id": ids,
            "z_true": z_true,
            "z_peak": np.where(failed, np.nan, z_peak),
            "is_star": truth["is_star"].to_numpy(),
        }
    )
    return cat_path, zout_path, truth_out


def _write(table: pd.DataFrame, path: Path, header: list[str]) -> None:
    lines = list(header)
    for row in table.itertuples(index=False):
        lines.append(
            " ".join(str(v) if isinstance(v, (int, np.integer)) else f"{float(v):.6g}" for v in row)
        )
    path.write_text("\n".join(lines) + "\n")
