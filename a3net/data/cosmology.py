"""CAMELS-like maps of total mass and gas pressure (chapters E and H).

Each simulation is a periodic box of 25 Mpc/h at z = 0 with its own six parameters: Omega_m,
sigma_8 and four feedback amplitudes (A_SN1, A_AGN1, A_SN2, A_AGN2), drawn from a Latin hypercube
over the CAMELS ranges. Like the CAMELS Multifield Dataset (Villaescusa-Navarro et al. 2022), a
box gives 15 maps: 5 slabs of 5 Mpc/h along each of its 3 axes.

What a box is made of, in order:

1. **Linear field.** A Gaussian field on a grid of n^3 particles with the Eisenstein & Hu (1998)
   no-wiggle spectrum normalised to sigma_8 (``cosmology_linear``).
2. **Large scales: truncated Zel'dovich.** Particles move by the Zel'dovich (1970) displacement of
   the linear field smoothed with a Gaussian at 1.5 k_NL of the given cosmology, where the
   linear variance of the box's modes up to k_NL is 1 (the truncated Zel'dovich approximation,
   Coles, Melott & Shandarin 1993; Melott, Pellman & Shandarin 1994, whose best match to N-body
   densities is a Gaussian at ~1-1.5 k_NL): this makes the sheets, filaments and voids of the
   cosmic web, with a skewed density that depends on sigma_8 and Omega_m. Smoothing at the
   given cosmology's k_NL is the standard choice; at the box's largest scales its power is the
   linear power damped by the dispersion of the displacements (tested against
   ``cosmology_theory.projected_power_zeldovich``), and smoothing less (3 k_NL, or not at all)
   leaves that unchanged within 5 % while it smears the small scales more.
3. **Small scales: halos.** An excursion set on the grid (Press & Schechter 1974; Bond et al.
   1991) as in DexM (Mesinger & Furlanetto 2007): from the largest mass scale down, every
   connected region of unclaimed particles whose top-hat smoothed linear overdensity exceeds
   delta_c = 1.686 gives one halo, centred on its highest cell, of the Lagrangian mass at which
   that cell first crosses delta_c (interpolated between the 10 scales), which claims the
   unclaimed particles of its Lagrangian sphere. Its mass is the mass of its particles (so
   mass is conserved and the mean density stays Omega_m rho_crit); its centre moves with the
   Zel'dovich flow; its particles are redrawn on an NFW profile (Navarro, Frenk & White
   1997) out to 2 R200c with the Diemer & Joyce (2019) concentration c200c(M; Omega_m, sigma_8)
   (``cosmology_linear.concentration_200c``): halos of a given mass are more concentrated at
   higher sigma_8, as in N-body simulations. The number and masses of halos therefore follow
   from Omega_m and sigma_8, as in a real mass function.
4. **Gas.** Every particle carries gas of mass Omega_b / Omega_m of its own. Diffuse gas has the
   photo-ionised temperature-density relation T = 10^4 K (1 + delta)^0.6. Gas in a halo of mass
   M has the virial temperature T_vir = 7e5 K (M / 10^12 Msun/h)^(2/3). Feedback ejects a
   fraction f = 1 - (1 - f_SN)(1 - f_AGN) of it (the AGN act on what the winds left), as in the
   baryonic correction model (Schneider & Teyssier 2015) but with the two sources apart, each
   acting where it does in CAMELS (Villaescusa-Navarro et al. 2021: A_SN1 and A_AGN1 scale the
   energy of supernova winds and of AGN feedback, A_SN2 the wind speed, A_AGN2 the AGN kinetic
   burstiness (TNG) or jet speed (SIMBA)):

   - supernova winds, f_SN = A_SN1 / (A_SN1 + 1) / (1 + (M / m_SN)^2): more energy ejects more
     gas from small halos; above m_SN ~ 1e12 Msun/h a hot corona forms and buoyant winds no
     longer escape (Bower et al. 2017), so their effect falls as M^-2 there. The ejected gas
     lands at 1 to 1 + eta_SN A_SN2 R200c (faster winds go farther) at 0.5 T_vir;
   - AGN, f_AGN = A_AGN1 / (A_AGN1 + a_half) y^2 / (1 + y^2) with y = M / m_AGN: black holes
     grow large enough to empty halos only in groups, m_AGN ~ 5e12-1e13 Msun/h (the kinetic mode
     of TNG, Weinberger et al. 2017; SIMBA's jets, Dave et al. 2019), so their effect falls as
     M^2 below it. Their gas lands at 1 to 1 + eta_AGN A_AGN2 R200c; the bound gas of those halos
     is heated by a factor 1 + heating A_AGN1 y^2 / (1 + y^2).

   The forms and numbers are ours, chosen from these physical descriptions and not tuned to any
   result downstream; no cluster-scale turnover of f_AGN is modelled (a 25 Mpc/h box holds
   halos up to ~1e14 Msun/h).
5. **Two suites.** "IllustrisTNG" and "SIMBA" differ in how feedback acts: SIMBA-like jets
   (Dave et al. 2019) turn on in smaller groups (m_AGN 5e12 against 1e13), empty them more
   (a_half 0.5 against 1), carry the gas three times farther (eta_AGN 3 against 1) and leave it
   hot (1.5 T_vir), and heat the diffuse gas (twice the temperature); TNG-like kinetic winds
   (Pillepich et al. 2018) keep the gas within about two R200c and let the ejected gas cool to
   half the virial temperature. SIMBA's supernova winds stop at a lower mass (m_SN 6e11 against
   1e12). The numbers are in ``SUITE_FEEDBACK``.
6. **Maps.** Mass and gas pressure (gas mass times temperature) are deposited on a grid of
   map-pixel cells with cloud-in-cell weights and summed through 5 Mpc/h slabs (a cell on a
   slab boundary is shared by its overlap). Mtot maps are column densities
   [(Msun/h)/(Mpc/h)^2], so the mean over a box's 15 maps is exactly Omega_m rho_crit 5 Mpc/h;
   P maps are [K (Msun/h)/(Mpc/h)^2]. Pixels no particle reaches are floored at 1e-3 of the
   mean column density (Mtot) or of the pressure of gas at the mean density and 1e4 K (P).

``simulate_maps(..., stage=...)`` stops after step 1 ("gaussian": log-normal maps of the slab-
averaged linear field), 2 ("zeldovich"), 3 ("halos": no feedback) or 6 ("gas", the default);
``halo_catalogue`` lists the halos of step 3 and ``halos_in_maps`` where they fall in the maps.

Checked against theory (``tests/test_cosmology_theory.py``, ``a3net.data.cosmology_theory``; 4-8
boxes at 64^3 for (Omega_m, sigma_8) = (0.2, 0.7), (0.3, 0.8), (0.45, 0.95)), and how it deviates:

- Mass function: Press & Schechter within Poisson noise and 0.05 dex (rms 0.06-0.12 dex); above
  Tinker et al. (2008) by 0.10-0.15 dex on average, as PS is below M*. Below M* it constrains
  sigma_8 weakly (theory at sigma_8 = 1.0 does not reject boxes at 0.6).
- Projected Mtot power at 0.2 < k < 0.5 h/Mpc: the "zeldovich" stage has 0.42-0.70 of the
  linear power of its own initial conditions, as the damped-linear theory says; halos raise it
  to 0.55-0.76. Halofit (infinite volume) predicts ~2x linear there: the maps hold 0.26-0.32
  of it. The Zel'dovich smearing of the mass outside halos is not undone.
- At 1 < k < 4 h/Mpc the "halos" and "gas" stages hold 0.57-1.09 of Halofit (a 25 Mpc/h box
  has few halos above 1e14 Msun/h, whose 1-halo term carries k ~ 1); the "zeldovich" stage
  0.03-0.05: particles outside halos carry no small-scale structure.

What it leaves out: gravitational evolution beyond Zel'dovich (no shell crossing outside halos,
no halo mergers or tidal stripping), halo triaxiality and substructure, gas cooling and star
formation, a temperature profile inside halos, and redshift-dependent feedback. A real map also
has a resolution set by the particle mass; here the grid sets it (0.39 Mpc/h at 64^3).
The mean of an Mtot map reveals Omega_m exactly, as in the real maps; chapter E removes it per
map (``a3net.data.cosmology_prep.remove_map_mean``) before asking what else the maps know.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import fft, ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import qmc

from .._validation import check_memory, check_seed
from .cosmology_linear import (
    DELTA_C,
    OMEGA_B,
    RHO_CRIT,
    concentration_200c,
    lagrangian_radius,
    linear_power,
)

PARAMETER_NAMES = ("omega_m", "sigma_8", "a_sn1", "a_agn1", "a_sn2", "a_agn2")
PARAMETER_RANGES = {
    "omega_m": (0.1, 0.5),
    "sigma_8": (0.6, 1.0),
    "a_sn1": (0.25, 4.0),
    "a_agn1": (0.25, 4.0),
    "a_sn2": (0.5, 2.0),
    "a_agn2": (0.5, 2.0),
}
LOG_UNIFORM = ("a_sn1", "a_agn1", "a_sn2", "a_agn2")
FIELDS = ("Mtot", "P")
STAGES = ("gaussian", "zeldovich", "halos", "gas")  # the information ladder of chapter E
SUITES = ("IllustrisTNG", "SIMBA")
SIMULATOR_VERSION = 5  # part of every cache name: raise it when the simulator's output changes
BOX_SIZE = 25.0  # Mpc/h
SLAB_THICKNESS = 5.0  # Mpc/h
N_SLABS = 5
MAPS_PER_SIMULATION = 3 * N_SLABS

# Feedback of each suite (see the module docstring and _feedback_fractions): m_sn [Msun/h], above
# which supernova winds stop ejecting gas; m_agn [Msun/h], around which AGN start to; a_half_agn,
# the A_AGN1 at which AGN eject half of what they can; eta_sn, eta_agn, the extra ejection distance
# in R200c at unit A_SN2, A_AGN2 (proportional to them); t_sn, t_agn, the temperature of gas
# ejected by each in T_vir; heating, the heating of bound gas per unit A_AGN1 in AGN-hosting halos;
# igm_heating, a factor on the temperature of diffuse gas.
SUITE_FEEDBACK = {
    "IllustrisTNG": dict(
        m_sn=1e12, m_agn=1e13, a_half_agn=1.0, eta_sn=1.0, eta_agn=1.0, t_sn=0.5, t_agn=0.5,
        heating=0.1, igm_heating=1.0,
    ),
    "SIMBA": dict(
        m_sn=6e11, m_agn=5e12, a_half_agn=0.5, eta_sn=1.0, eta_agn=3.0, t_sn=0.5, t_agn=1.5,
        heating=0.05, igm_heating=2.0,
    ),
}  # fmt: skip

_T_IGM = 1e4  # K, temperature of diffuse gas at the mean density
_T_VIR_1E12 = 7e5  # K, virial temperature of a 10^12 Msun/h halo
TZA_SMOOTHING = 1.5  # the Zel'dovich displacement is smoothed at this many k_NL
_MIN_HALO_PARTICLES = 16
_N_MASS_SCALES = 10
_NFW_TRUNCATION = 2.0  # halo particles are drawn out to this many R200c, where infall takes over
_FLOOR = 1e-3  # map floor for pixels no particle reaches, relative to the mean column density
# (Mtot) and to the pressure of gas at the mean density and 1e4 K (P)


# ----------------------------------------------------------------------------- parameters


def check_parameters(params, *, name: str = "params") -> np.ndarray:
    """``params`` as a (n, 6) float64 array; ValueError if a value is NaN or outside its range."""
    arr = np.asarray(params, dtype=np.float64)
    if arr.ndim == 1 and arr.size == len(PARAMETER_NAMES):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != len(PARAMETER_NAMES):
        raise ValueError(
            f"{name} must have shape (n, 6) with columns {', '.join(PARAMETER_NAMES)}, "
            f"got {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; remove those simulations.")
    for j, key in enumerate(PARAMETER_NAMES):
        low, high = PARAMETER_RANGES[key]
        bad = (arr[:, j] < low - 1e-9) | (arr[:, j] > high + 1e-9)
        if bad.any():
            raise ValueError(
                f"{name}: {key} must lie in [{low}, {high}], got {arr[bad, j][0]:g} "
                f"({int(bad.sum())} rows outside); draw parameters with latin_hypercube."
            )
    return arr


def latin_hypercube(n_sims: int, *, seed: int = 0) -> np.ndarray:
    """(n_sims, 6) parameters on a Latin hypercube over the CAMELS ranges (feedback log-uniform)."""
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 1:
        raise ValueError(f"n_sims must be a positive integer, got {n_sims!r}.")
    seed = check_seed(seed)
    check_memory(n_sims * len(PARAMETER_NAMES) * 8 * 4, f"latin_hypercube({n_sims})")
    unit = qmc.LatinHypercube(d=len(PARAMETER_NAMES), seed=seed).random(int(n_sims))
    out = np.empty_like(unit)
    for j, key in enumerate(PARAMETER_NAMES):
        low, high = PARAMETER_RANGES[key]
        if key in LOG_UNIFORM:
            out[:, j] = np.exp(np.log(low) + unit[:, j] * (np.log(high) - np.log(low)))
        else:
            out[:, j] = low + unit[:, j] * (high - low)
    return out


def check_maps(maps, *, name: str = "maps") -> np.ndarray:
    """``maps`` as float32 (N, C, S, S), finite and positive; ValueError otherwise."""
    arr = np.asarray(maps, dtype=np.float32)
    if arr.ndim != 4 or arr.shape[2] != arr.shape[3]:
        raise ValueError(f"{name} must have shape (N, C, S, S) with square maps, got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; check the file or the simulator.")
    if np.any(arr <= 0):
        raise ValueError(
            f"{name} holds {int((arr <= 0).sum())} non-positive values; Mtot and P maps are "
            "positive, so take the log only after adding a floor."
        )
    return arr


# ----------------------------------------------------------------------------- one box


def _wavenumbers(n: int) -> np.ndarray:
    """|k| [h/Mpc] of the rfftn grid of an n^3 box of side BOX_SIZE, shape (n, n, n//2+1)."""
    k1 = 2 * np.pi * np.fft.fftfreq(n, d=BOX_SIZE / n)
    kz = 2 * np.pi * np.fft.rfftfreq(n, d=BOX_SIZE / n)
    return k1[:, None, None], k1[None, :, None], kz[None, None, :]


def nonlinear_wavenumber(omega_m: float, sigma_8: float) -> float:
    """k_NL [h/Mpc]: the linear variance of the box's modes (from 2 pi / BOX_SIZE) up to k_NL is 1.

    Modes longer than the box do not exist in it (they would only move it as a whole), so they
    must not set the truncation: counting them would smooth high-sigma_8 boxes the most.
    """
    k = np.logspace(np.log10(2 * np.pi / BOX_SIZE), 2, 2000)
    var = np.cumsum(
        k**3 * linear_power(k, omega_m, sigma_8) / (2 * np.pi**2) * np.gradient(np.log(k))
    )
    return float(np.interp(1.0, var, k))


def _linear_field(n: int, omega_m: float, sigma_8: float, rng) -> tuple[np.ndarray, tuple]:
    """Fourier modes of the linear density contrast on the n^3 grid, and the wavevector axes."""
    kx, ky, kz = _wavenumbers(n)
    kk = np.sqrt(kx**2 + ky**2 + kz**2)
    cell_volume = (BOX_SIZE / n) ** 3
    white = fft.rfftn(rng.standard_normal((n, n, n)))
    delta_k = white * np.sqrt(linear_power(kk, omega_m, sigma_8) / cell_volume)
    delta_k[0, 0, 0] = 0.0
    return delta_k, (kx, ky, kz, kk)


def _periodic_labels(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected components of a 3-D boolean mask with periodic boundaries (6-connectivity)."""
    labels, n_labels = ndimage.label(mask)
    if n_labels == 0:
        return labels, 0
    pairs = []
    for axis in range(3):
        a = np.take(labels, 0, axis=axis).ravel()
        b = np.take(labels, -1, axis=axis).ravel()
        both = (a > 0) & (b > 0)
        pairs.append(np.stack([a[both], b[both]]))
    pairs = np.concatenate(pairs, axis=1)
    if pairs.size == 0:
        return labels, n_labels
    graph = coo_matrix(
        (np.ones(pairs.shape[1]), (pairs[0] - 1, pairs[1] - 1)), shape=(n_labels, n_labels)
    )
    n_merged, merged = connected_components(graph, directed=False)
    lookup = np.concatenate([[-1], merged])
    return lookup[labels] + 1, n_merged


def _sphere_offsets(radius_cells: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer offsets (m, 3) of the lattice points within ``radius_cells`` of the origin, and
    their squared lengths (m,), nearest first."""
    r = int(np.ceil(radius_cells))
    axis = np.arange(-r, r + 1)
    off = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    d2 = (off**2).sum(axis=1)
    keep = d2 <= radius_cells**2
    order = np.argsort(d2[keep], kind="stable")
    return off[keep][order], d2[keep][order]


def _find_halos(delta_k, kk, n: int, omega_m: float) -> np.ndarray:
    """Halo id of every grid particle (-1: not in a halo), from the excursion set on the grid.

    From the largest mass scale down (top-hat radii R_i), every connected region of unclaimed
    particles whose smoothed linear contrast exceeds delta_c gives one halo, centred on the
    region's highest cell (Mesinger & Furlanetto 2007, DexM). Its Lagrangian mass M* is where the
    contrast at that cell first crosses delta_c: between this scale and the previous (larger)
    one, linear in ln M. It claims the unclaimed particles within R(M*) of the centre (higher
    peaks first) and is kept if it has at least 16 of them.
    """
    particle_mass = omega_m * RHO_CRIT * (BOX_SIZE / n) ** 3
    cell = BOX_SIZE / n
    m_min = _MIN_HALO_PARTICLES * particle_mass
    m_max = max(2e15, 10 * m_min)
    masses = np.geomspace(m_max, m_min, _N_MASS_SCALES)
    radii = lagrangian_radius(masses, omega_m)
    keep_scale = (radii > 1.2 * cell) & (radii < BOX_SIZE / 2)
    masses, radii = masses[keep_scale], radii[keep_scale]
    halo_of = np.full(n**3, -1, dtype=np.int64)
    n_halos = 0
    previous = None  # smoothed field of the previous (larger) scale
    for i, radius in enumerate(radii):
        x = np.maximum(kk * radius, 1e-8)
        window = np.where(x < 1e-3, 1.0, 3 * (np.sin(x) - x * np.cos(x)) / x**3)
        smoothed = fft.irfftn(delta_k * window, s=(n, n, n)).ravel()
        candidate = (smoothed > DELTA_C) & (halo_of < 0)
        if candidate.any():
            labels, _ = _periodic_labels(candidate.reshape(n, n, n))
            cells = np.flatnonzero(candidate)
            lab = labels.ravel()[cells]
            order = np.lexsort((-smoothed[cells], lab))
            first = np.ones(order.size, dtype=bool)
            first[1:] = lab[order][1:] != lab[order][:-1]
            peaks = cells[order][first]
            # first crossing of delta_c, between this scale and the previous one
            log_m = np.full(peaks.size, np.log(masses[i]))
            if previous is not None:
                hi, lo = smoothed[peaks], previous[peaks]
                t = np.clip((hi - DELTA_C) / np.maximum(hi - lo, 1e-12), 0.0, 1.0)
                log_m += t * np.log(masses[i - 1] / masses[i])
            rank = np.argsort(-log_m, kind="stable")
            peaks, log_m = peaks[rank], log_m[rank]
            r_cells = lagrangian_radius(np.exp(log_m), omega_m) / cell
            offsets, d2 = _sphere_offsets(float(r_cells.max()))
            centre = np.stack(np.unravel_index(peaks, (n, n, n)), 1)
            inside = d2[None, :] <= r_cells[:, None] ** 2  # (n_peaks, n_offsets)
            owner, off_idx = np.nonzero(inside)
            points = (centre[owner] + offsets[off_idx]) % n
            flat = (points[:, 0] * n + points[:, 1]) * n + points[:, 2]
            free = halo_of[flat] < 0
            owner, flat = owner[free], flat[free]
            # a particle within two spheres goes to the higher peak (owners are in rank order)
            flat, first_seen = np.unique(flat, return_index=True)
            owner = owner[first_seen]
            size = np.bincount(owner, minlength=peaks.size)
            kept = size >= _MIN_HALO_PARTICLES
            new_id = np.full(peaks.size, -1, dtype=np.int64)
            new_id[kept] = n_halos + np.arange(int(kept.sum()))
            n_halos += int(kept.sum())
            claimed = new_id[owner]
            halo_of[flat[claimed >= 0]] = claimed[claimed >= 0]
        previous = smoothed
    return halo_of


def _nfw_inverse_table():
    """x = r / R200c at which an NFW halo of concentration c encloses a fraction u of its mass."""
    conc = np.linspace(2.0, 30.0, 57)  # Diemer & Joyce c200c spans ~3-25 over the prior
    x = np.linspace(0.0, _NFW_TRUNCATION, 400)[1:]
    u = np.linspace(0.0, 1.0, 257)

    def m(y):
        return np.log1p(y) - y / (1 + y)

    table = np.empty((conc.size, u.size))
    for i, c in enumerate(conc):
        frac = np.concatenate([[0.0], m(c * x) / m(c)])
        table[i] = np.interp(u, frac, np.concatenate([[0.0], x]))
    return conc, u, table


_NFW_C, _NFW_U, _NFW_X = _nfw_inverse_table()


def _nfw_radii(concentration: np.ndarray, rng) -> np.ndarray:
    """Radii in units of R200c drawn from NFW profiles of the given concentrations."""
    u = rng.random(concentration.size)
    ci = np.clip((concentration - _NFW_C[0]) / (_NFW_C[1] - _NFW_C[0]), 0, _NFW_C.size - 1.001)
    ui = u * (_NFW_U.size - 1)
    i0, j0 = ci.astype(int), ui.astype(int)
    j0 = np.minimum(j0, _NFW_U.size - 2)
    fc, fu = ci - i0, ui - j0
    t = _NFW_X
    return (
        (1 - fc) * (1 - fu) * t[i0, j0]
        + fc * (1 - fu) * t[i0 + 1, j0]
        + (1 - fc) * fu * t[i0, j0 + 1]
        + fc * fu * t[i0 + 1, j0 + 1]
    )


def _random_directions(n: int, rng) -> np.ndarray:
    v = rng.standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _circular_mean(positions: np.ndarray, ids: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group mean of periodic positions [Mpc/h], (n_groups, 3)."""
    angle = positions * (2 * np.pi / BOX_SIZE)
    out = np.empty((n_groups, 3))
    for axis in range(3):
        c = np.bincount(ids, np.cos(angle[:, axis]), minlength=n_groups)
        s = np.bincount(ids, np.sin(angle[:, axis]), minlength=n_groups)
        out[:, axis] = np.mod(np.arctan2(s, c), 2 * np.pi) * BOX_SIZE / (2 * np.pi)
    return out


def _feedback_fractions(halo_mass, params, feedback):
    """Per-halo fractions of its gas ejected by supernova winds and by AGN, (f_sn, f_agn).

    f_sn = e(A_SN1) / (1 + (M / m_sn)^2): winds empty small halos and stop working above m_sn
    (~1e12 Msun/h), where a hot corona confines them (Bower et al. 2017); f_agn = e_agn(A_AGN1)
    y^2 / (1 + y^2) with y = M / m_agn (~1e13 Msun/h): AGN empty groups. e(A) = A / (A + 1),
    e_agn(A) = A / (A + a_half): the feedback energy A_SN1 (A_AGN1) sets the efficiency.
    """
    _, _, a_sn1, a_agn1, _, _ = params
    f_sn = a_sn1 / (a_sn1 + 1.0) / (1.0 + (halo_mass / feedback["m_sn"]) ** 2)
    y2 = (halo_mass / feedback["m_agn"]) ** 2
    f_agn = a_agn1 / (a_agn1 + feedback["a_half_agn"]) * y2 / (1.0 + y2)
    return f_sn, f_agn


def _box(params: np.ndarray, suite: str, n: int, rng, stage: str) -> dict:
    """One box up to ``stage``; every stage draws the same random numbers in the same order, so
    a stage shares its initial conditions (and its halos) with the stages after it.

    Returns a dict: "delta_k" (the linear modes) always; from "zeldovich" on "pos" [Mpc/h],
    "mass" (Mtot weights [Msun/h]) and "pressure" (P weights [K Msun/h]) of the mass elements;
    from "halos" on (and for stage "catalogue", which stops after the halo finder) "halo_mass"
    [Msun/h], "centres" [Mpc/h] (n_halos, 3), "r200" [Mpc/h] and "concentration".
    """
    omega_m, sigma_8, _, a_agn1, a_sn2, a_agn2 = params
    feedback = SUITE_FEEDBACK[suite]
    delta_k, (kx, ky, kz, kk) = _linear_field(n, omega_m, sigma_8, rng)
    box = {"delta_k": delta_k}
    if stage == "gaussian":
        return box

    # truncated Zel'dovich displacement psi_k = i k delta_k / k^2 of the smoothed field
    k_smooth = TZA_SMOOTHING * nonlinear_wavenumber(omega_m, sigma_8)
    smooth_k = delta_k * np.exp(-0.5 * (kk / k_smooth) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(kk > 0, 1j * smooth_k / kk**2, 0.0)
    cell = BOX_SIZE / n
    # Lagrangian positions: the lattice, each particle jittered within its cell so that the
    # projected maps show no lattice pattern in voids
    grid = (np.indices((n, n, n)).reshape(3, -1).T + rng.random((n**3, 3))) * cell
    psi = np.stack([fft.irfftn(factor * k, s=(n, n, n)).ravel() for k in (kx, ky, kz)], 1)
    pos = np.mod(grid + psi, BOX_SIZE)
    particle_mass = omega_m * RHO_CRIT * cell**3

    # halos from the excursion set
    if stage == "zeldovich":
        halo_of = np.full(n**3, -1, dtype=np.int64)
    else:
        halo_of = _find_halos(delta_k, kk, n, omega_m)
    in_halo = halo_of >= 0
    n_halos = int(halo_of.max()) + 1 if in_halo.any() else 0
    ids = halo_of[in_halo]
    halo_mass = np.bincount(ids, minlength=n_halos) * particle_mass
    centres = _circular_mean(pos[in_halo], ids, n_halos)
    r200 = (3 * halo_mass / (4 * np.pi * 200 * RHO_CRIT)) ** (1 / 3)
    concentration = concentration_200c(halo_mass, omega_m, sigma_8)
    box.update(halo_mass=halo_mass, centres=centres, r200=r200, concentration=concentration)
    if stage == "catalogue":
        return box

    # halo particles redrawn on NFW profiles
    m_of = halo_mass[ids]
    r_of = r200[ids]
    radius = _nfw_radii(concentration[ids], rng) * r_of
    pos[in_halo] = np.mod(centres[ids] + radius[:, None] * _random_directions(ids.size, rng),
                          BOX_SIZE)  # fmt: skip

    # gas: diffuse (T-rho relation), bound (virial; heated by AGN) or ejected by feedback
    f_b = OMEGA_B / omega_m
    ngp = np.floor(pos / cell).astype(np.int64) % n
    flat = (ngp[:, 0] * n + ngp[:, 1]) * n + ngp[:, 2]
    counts = np.bincount(flat, minlength=n**3)
    with_feedback = stage == "gas"
    igm = feedback["igm_heating"] if with_feedback else 1.0
    temperature = _T_IGM * igm * np.maximum(counts[flat], 0.1) ** 0.6
    t_vir = _T_VIR_1E12 * (m_of / 1e12) ** (2 / 3)
    f_sn, f_agn = _feedback_fractions(halo_mass, params, feedback)
    if with_feedback:
        y2 = (m_of / feedback["m_agn"]) ** 2
        temperature[in_halo] = t_vir * (1 + feedback["heating"] * a_agn1 * y2 / (1 + y2))
    else:
        temperature[in_halo] = t_vir
    # one uniform per halo particle: ejected by supernovae if u < f_sn, else by AGN if
    # u < f = 1 - (1 - f_sn)(1 - f_agn) (the AGN act on the gas the winds left)
    u = rng.random(ids.size)
    f_total = 1 - (1 - f_sn) * (1 - f_agn)
    by_sn_h = u < f_sn[ids]
    ejected_h = (u < f_total[ids]) & with_feedback
    by_sn_h &= ejected_h
    ejected = np.zeros(pos.shape[0], dtype=bool)
    ejected[np.flatnonzero(in_halo)] = ejected_h
    ej_ids = ids[ejected_h]
    by_sn = by_sn_h[ejected_h]
    eta = np.where(by_sn, feedback["eta_sn"] * a_sn2, feedback["eta_agn"] * a_agn2)
    shell = 1 + eta * rng.random(ej_ids.size) ** (1 / 3)
    gas_pos = np.mod(centres[ej_ids] + (shell * r200[ej_ids])[:, None]
                     * _random_directions(ej_ids.size, rng), BOX_SIZE)  # fmt: skip
    t_ejected = (
        np.where(by_sn, feedback["t_sn"], feedback["t_agn"])
        * _T_VIR_1E12
        * (halo_mass[ej_ids] / 1e12) ** (2 / 3)
    )

    # mass elements: every particle (its dark matter, and its gas unless ejected), ejected gas
    kept_gas = np.where(ejected, 0.0, f_b)
    box["pos"] = np.concatenate([pos, gas_pos])
    box["mass"] = particle_mass * np.concatenate([(1 - f_b) + kept_gas, np.full(ej_ids.size, f_b)])
    box["pressure"] = particle_mass * f_b * np.concatenate([
        np.where(ejected, 0.0, temperature), t_ejected
    ])  # fmt: skip
    return box


def _slab_overlap(map_size: int) -> np.ndarray:
    """(S, 5) share of each pixel-wide cell along the line of sight that lies in each slab."""
    edges = np.arange(map_size + 1) * (BOX_SIZE / map_size)
    slab_edges = np.arange(N_SLABS + 1) * SLAB_THICKNESS
    lo = np.maximum(edges[:-1, None], slab_edges[None, :-1])
    hi = np.minimum(edges[1:, None], slab_edges[None, 1:])
    return np.clip(hi - lo, 0.0, None) / (BOX_SIZE / map_size)


def _project(pos, weights, map_size: int) -> np.ndarray:
    """Weighted points -> the 15 slab maps (15, n_w, S, S), per unit area.

    Cloud-in-cell deposit on an S^3 grid, then each cell is shared between the slabs it
    overlaps (slabs are 12.8 cells thick at S = 64).
    """
    pixel = BOX_SIZE / map_size
    u = pos / pixel - 0.5
    base = np.floor(u).astype(np.int64)
    frac = u - base
    cells = [[base[:, a] % map_size, (base[:, a] + 1) % map_size] for a in range(3)]
    fracs = [[1 - frac[:, a], frac[:, a]] for a in range(3)]
    index, share = [], []
    for cx, cy, cz in np.ndindex(2, 2, 2):
        index.append((cells[0][cx] * map_size + cells[1][cy]) * map_size + cells[2][cz])
        share.append(fracs[0][cx] * fracs[1][cy] * fracs[2][cz])
    index, share = np.concatenate(index), np.concatenate(share)
    out = np.empty((MAPS_PER_SIMULATION, len(weights), map_size, map_size))
    for f, w in enumerate(weights):
        cube = np.bincount(index, share * np.tile(w, 8), minlength=map_size**3)
        out[:, f] = _slab_sums(cube.reshape(map_size, map_size, map_size))
    return out / pixel**2


def _slab_sums(cube: np.ndarray) -> np.ndarray:
    """An (S, S, S) cube summed through the 5 slabs of each axis: (15, S, S), axis-major.

    Axis 0 gives maps of (y, z), axis 1 of (x, z), axis 2 of (x, y); a cell on a slab boundary is
    shared by its overlap.
    """
    size = cube.shape[0]
    overlap = _slab_overlap(size)  # (S, 5)
    out = np.empty((3, N_SLABS, size, size))
    out[0] = np.tensordot(overlap, cube, axes=(0, 0))  # along x: maps of (y, z)
    out[1] = np.tensordot(cube, overlap, axes=(1, 0)).transpose(2, 0, 1)  # (x, z)
    out[2] = (cube.reshape(-1, size) @ overlap).reshape(size, size, N_SLABS).transpose(2, 0, 1)
    return out.reshape(MAPS_PER_SIMULATION, size, size)


def _resampled_field(delta_k: np.ndarray, n: int, size: int) -> np.ndarray:
    """The linear contrast of an n^3 box's rfftn modes on a size^3 grid (modes above the smaller
    grid's Nyquist frequency dropped), real, (size, size, size)."""
    half = min(n, size) // 2
    keep = np.abs(np.fft.fftfreq(n, 1.0 / n)) < half
    idx = np.flatnonzero(keep)
    out = np.zeros((size, size, size // 2 + 1), dtype=complex)
    dest = np.fft.fftfreq(n, 1.0 / n)[idx].astype(int) % size
    sub = delta_k[np.ix_(idx, idx, np.arange(half))]
    out[np.ix_(dest, dest, np.arange(half))] = sub
    return fft.irfftn(out, s=(size, size, size)) * (size / n) ** 3


def _gaussian_maps(delta_k, n, params, fields, map_size) -> np.ndarray:
    """Stage "gaussian": mean column density x exp(delta_2D - var / 2), (15, C, S, S)."""
    omega_m = params[0]
    cube = _resampled_field(delta_k, n, map_size)
    delta_2d = _slab_sums(cube) * (BOX_SIZE / map_size) / SLAB_THICKNESS
    mtot = omega_m * RHO_CRIT * SLAB_THICKNESS * np.exp(delta_2d - delta_2d.var() / 2)
    weights = {"Mtot": mtot, "P": mtot * (OMEGA_B / omega_m) * _T_IGM}
    return np.stack([weights[f] for f in fields], axis=1)


# ----------------------------------------------------------------------------- public


def simulate_maps(
    params,
    *,
    suite: str = "IllustrisTNG",
    fields=FIELDS,
    map_size: int = 64,
    grid: int | None = None,
    seed: int = 0,
    cache: bool = False,
    stage: str = "gas",
):
    """Maps of the simulations whose parameters are the rows of ``params`` (n, 6).

    Returns ``(maps, catalogue)``: maps float32 (n * 15, C, S, S) with the requested ``fields``
    ("Mtot" [(Msun/h)/(Mpc/h)^2], "P" [K (Msun/h)/(Mpc/h)^2]) in that order and S = ``map_size``;
    the catalogue (pandas) has one row per map: ``sim_id``, ``axis``, ``slab`` and the six
    parameters. ``grid`` is the number of particles per side (default ``map_size``, at least
    32); simulation i draws its random numbers from (seed, i), so a box does not depend on which
    others are made with it. With ``cache=True`` the maps are kept in
    ``a3net.data.fetch.data_dir() / "simulated"`` (``A3NET_DATA``) under a name made of every
    argument and ``SIMULATOR_VERSION``, and read back instead of simulated again.

    ``stage`` (one of ``STAGES``) stops the simulator early, for chapter E's information ladder;
    the same params and seed give the same initial conditions (and halos) at every stage:

    - "gaussian": the box's linear density contrast averaged through each slab, delta_2D, on
      the map grid, as a log-normal map: Mtot = mean column density x exp(delta_2D - var / 2),
      var the variance of delta_2D over the box's 15 maps, so log10 Mtot is Gaussian and the
      mean is kept on average; P = Mtot (Omega_b / Omega_m) 1e4 K, the same field times the
      pressure of gas at the mean density.
    - "zeldovich": particles moved by the truncated Zel'dovich displacement, no halos; all gas
      on the temperature-density relation, no feedback.
    - "halos": plus the excursion-set halos redrawn on NFW profiles; their gas bound at T_vir,
      no feedback (nothing ejected, nothing heated, neither in halos nor in the diffuse gas).
    - "gas": everything, with the feedback of ``suite``.
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}.")
    params = check_parameters(params)
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, got {suite!r}.")
    fields = (fields,) if isinstance(fields, str) else tuple(fields)
    unknown = [f for f in fields if f not in FIELDS]
    if unknown or not fields:
        raise ValueError(f"fields must be a non-empty subset of {FIELDS}, got {fields!r}.")
    if isinstance(map_size, bool) or not isinstance(map_size, (int, np.integer)) or map_size < 8:
        raise ValueError(f"map_size must be an integer of at least 8, got {map_size!r}.")
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, (int, np.integer))):
        raise TypeError(f"grid must be a whole number of particles per side, got {grid!r}.")
    grid = int(grid) if grid is not None else max(int(map_size), 32)
    if grid < 16:
        raise ValueError(f"grid must be at least 16 particles per side, got {grid}.")
    seed = check_seed(seed)
    # the maps, the particles of one box (about 600 bytes each) and its deposit grid
    need = params.shape[0] * MAPS_PER_SIMULATION * len(fields) * 4 * map_size**2
    need += 600 * grid**3 + 32 * map_size**3
    check_memory(need, f"simulate_maps with map_size={map_size} and grid={grid}")
    path = _cache_path(params, suite, fields, map_size, grid, seed, stage) if cache else None
    shape = (params.shape[0] * MAPS_PER_SIMULATION, len(fields), map_size, map_size)
    maps = _cache_load(path, shape) if path is not None else None
    if maps is None:
        maps = _simulate(params, suite, fields, map_size, grid, seed, stage)
        if path is not None:
            _cache_save(path, maps)
    return maps, _catalogue(params)


def _cache_path(params, suite, fields, map_size, grid, seed, stage="gas") -> Path:
    from .fetch import data_dir

    key = hashlib.sha256(params.tobytes())
    key.update(repr((SIMULATOR_VERSION, suite, fields, map_size, grid, seed, stage)).encode())
    return data_dir() / "simulated" / f"cosmology-{suite}-{map_size}px-{key.hexdigest()[:16]}.npy"


def _cache_load(path: Path, shape: tuple) -> np.ndarray | None:
    """The cached maps at ``path`` if they are a complete float32 array of ``shape``, else None
    (a damaged or wrong-shaped file is deleted with a warning and simulated again)."""
    from ._cache import read_cached

    return read_cached(path, what="simulate_maps", expect=(shape, np.float32))


def _cache_save(path: Path, maps: np.ndarray) -> None:
    """Cache ``maps`` at ``path`` atomically; a failure to write only warns."""
    from ._cache import write_cached

    write_cached(path, maps, what="simulate_maps")


def _simulate(params, suite, fields, map_size, grid, seed, stage="gas") -> np.ndarray:
    maps = np.empty((params.shape[0] * MAPS_PER_SIMULATION, len(fields), map_size, map_size),
                    dtype=np.float32)  # fmt: skip
    for i, row in enumerate(params):
        rng = np.random.default_rng([seed, i])
        box = _box(row, suite, grid, rng, stage)
        if stage == "gaussian":  # positive already: no floor, so that its log stays Gaussian
            out = _gaussian_maps(box["delta_k"], grid, row, fields, map_size)
        else:
            weights = {"Mtot": box["mass"], "P": box["pressure"]}
            out = _project(box["pos"], [weights[f] for f in fields], map_size)
            floor = {"Mtot": 1.0, "P": (OMEGA_B / row[0]) * _T_IGM}
            mean = row[0] * RHO_CRIT * SLAB_THICKNESS
            scale = np.array([floor[f] for f in fields])[None, :, None, None]
            out = np.maximum(out, _FLOOR * mean * scale)
        maps[i * MAPS_PER_SIMULATION : (i + 1) * MAPS_PER_SIMULATION] = out
    return maps


_HALO_COLUMNS = ("sim_id", "mass", "x", "y", "z", "r200c", "concentration")


def halo_catalogue(
    params, *, grid: int = 64, seed: int = 0, suite: str = "IllustrisTNG", cache: bool = False
):
    """The halos of the boxes that ``simulate_maps(params, grid=grid, seed=seed, suite=suite)``
    makes (at stages "halos" and "gas"): a pandas DataFrame, one row per halo, with

    - ``sim_id``: row of ``params`` (the box), as in the maps' catalogue;
    - ``mass`` [Msun/h]: the mass of its particles (an excursion-set mass: its Lagrangian sphere
      less what larger halos claimed first; compare it with FoF mass functions; the
      simulator also uses it as M200c);
    - ``x``, ``y``, ``z`` [Mpc/h]: its centre in the periodic box, in [0, 25), the one its NFW
      particles are drawn around in the maps;
    - ``r200c`` [Mpc/h]: the radius within which its mean density is 200 rho_crit;
    - ``concentration``: its NFW c200c (``cosmology_linear.concentration_200c``).

    Halos have at least 16 particles. The suite does not change the halos (only the gas); it is
    an argument so that a call mirrors a ``simulate_maps`` call. With ``cache=True`` the
    catalogue is kept beside the cached maps (``A3NET_DATA/simulated``), under a name made of
    ``params``, ``grid``, ``seed`` and ``SIMULATOR_VERSION``, and read back instead of found again.
    """
    params = check_parameters(params)
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, got {suite!r}.")
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 16:
        raise ValueError(f"grid must be a whole number of at least 16 particles, got {grid!r}.")
    seed = check_seed(seed)
    check_memory(600 * int(grid) ** 3, f"halo_catalogue with grid={grid}")
    path = _halo_cache_path(params, int(grid), seed) if cache else None
    if path is not None:
        from ._cache import read_cached

        table = read_cached(path, what="halo_catalogue", expect=((None, 7), np.float64))
        if table is not None:
            return _halo_frame(table)
    frames = []
    for i, row in enumerate(params):
        box = _box(row, suite, int(grid), np.random.default_rng([seed, i]), "catalogue")
        centres = box["centres"]
        frames.append(pd.DataFrame({
            "sim_id": np.full(len(centres), i, dtype=np.int64),
            "mass": box["halo_mass"],
            "x": centres[:, 0], "y": centres[:, 1], "z": centres[:, 2],
            "r200c": box["r200"],
            "concentration": box["concentration"],
        }))  # fmt: skip
    halos = pd.concat(frames, ignore_index=True)
    if path is not None:
        from ._cache import write_cached

        write_cached(path, halos[list(_HALO_COLUMNS)].to_numpy(np.float64), what="halo_catalogue")
    return halos


def _halo_cache_path(params, grid: int, seed: int) -> Path:
    from .fetch import data_dir

    key = hashlib.sha256(params.tobytes())
    key.update(repr((SIMULATOR_VERSION, "halos", grid, seed)).encode())
    return data_dir() / "simulated" / f"halos-grid{grid}-{key.hexdigest()[:16]}.npy"


def _halo_frame(table: np.ndarray) -> pd.DataFrame:
    """The catalogue DataFrame of a cached (n_halos, 7) table, columns as ``_HALO_COLUMNS``."""
    halos = pd.DataFrame(table, columns=list(_HALO_COLUMNS))
    halos["sim_id"] = halos["sim_id"].astype(np.int64)
    return halos


def halos_in_maps(halos: pd.DataFrame, catalogue: pd.DataFrame, map_size: int) -> pd.DataFrame:
    """Where the halos of ``halo_catalogue`` fall in the maps of ``simulate_maps``.

    ``catalogue`` is the maps' catalogue (one row per map: sim_id, axis, slab); a halo is listed
    for a map when its centre lies in the map's slab ([slab, slab + 1) x 5 Mpc/h along the axis).
    Returns a DataFrame, one row per (map, halo): ``map_index`` (the row of ``catalogue`` and of
    the maps array), ``sim_id``, ``px``, ``py``, ``radius_px`` (r200c in pixels) and ``mass``
    [Msun/h]. (px, py) are the centre in pixel units along the map's first and second array
    axes, so that pixel index i has its centre at i (its position is (i + 0.5) x pixel): the
    halo sits in ``maps[map_index, :, round(px) % S, round(py) % S]``. As in ``_project``, axis 0
    maps are (y, z), axis 1 (x, z) and axis 2 (x, y).
    """
    if isinstance(map_size, bool) or not isinstance(map_size, (int, np.integer)) or map_size < 1:
        raise ValueError(f"map_size must be a positive whole number of pixels, got {map_size!r}.")
    pixel = BOX_SIZE / map_size
    coords = halos[["x", "y", "z"]].to_numpy(dtype=np.float64)
    halo_sim = halos["sim_id"].to_numpy()
    map_sim = catalogue["sim_id"].to_numpy()
    map_axis = catalogue["axis"].to_numpy()
    map_slab = catalogue["slab"].to_numpy()
    # pair every halo with the maps of its box, then keep the pair if the slab holds it
    order = np.argsort(map_sim, kind="stable")
    first = np.searchsorted(map_sim[order], halo_sim, side="left")
    last = np.searchsorted(map_sim[order], halo_sim, side="right")
    counts = last - first
    halo_idx = np.repeat(np.arange(len(halos)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    map_idx = order[np.repeat(first, counts) + offsets]
    axis = map_axis[map_idx]
    depth = coords[halo_idx, axis]
    slab = np.minimum(np.floor(depth / SLAB_THICKNESS).astype(np.int64), N_SLABS - 1)
    keep = slab == map_slab[map_idx]
    halo_idx, map_idx, axis = halo_idx[keep], map_idx[keep], axis[keep]
    first_axis = np.where(axis == 0, 1, 0)  # (y, z), (x, z), (x, y)
    second_axis = np.where(axis == 2, 1, 2)
    out = pd.DataFrame({
        "map_index": map_idx.astype(np.int64),
        "sim_id": halo_sim[halo_idx],
        "px": coords[halo_idx, first_axis] / pixel - 0.5,
        "py": coords[halo_idx, second_axis] / pixel - 0.5,
        "radius_px": halos["r200c"].to_numpy()[halo_idx] / pixel,
        "mass": halos["mass"].to_numpy()[halo_idx],
    })  # fmt: skip
    return out.sort_values(["map_index", "mass"], ascending=[True, False], ignore_index=True)


def _catalogue(params: np.ndarray) -> pd.DataFrame:
    """One row per map: sim_id, axis, slab and the six parameters."""
    n = params.shape[0]
    catalogue = pd.DataFrame({
        "sim_id": np.repeat(np.arange(n), MAPS_PER_SIMULATION),
        "axis": np.tile(np.repeat(np.arange(3), N_SLABS), n),
        "slab": np.tile(np.arange(N_SLABS), 3 * n),
    })  # fmt: skip
    for j, key in enumerate(PARAMETER_NAMES):
        catalogue[key] = np.repeat(params[:, j], MAPS_PER_SIMULATION)
    return catalogue
