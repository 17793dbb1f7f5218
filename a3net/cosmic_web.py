"""The cosmic web of projected density maps (a 2-D T-web) and where a network's saliency lies.

Chapter H asks which structures a network that infers Omega_m and sigma_8 looks at. This module
classifies every pixel of a projected density map as void, filament or node, and splits a
saliency map by web type and by density. NumPy only, vectorised over the stack of maps.

The T-web (Hahn et al. 2007, MNRAS 375, 489; Forero-Romero et al. 2009, MNRAS 396, 1815), in 2-D:

1. the density contrast delta = map / mean(map) - 1 of each map (or ln(1 + delta), ``log=True``)
   is smoothed with a periodic Gaussian of standard deviation ``smoothing`` [Mpc/h];
2. the Poisson equation laplacian(phi) = delta is solved in Fourier space, phi_k = -delta_k / k^2
   (the k = 0 mode, the mean, is dropped);
3. the tidal tensor T_ij = d^2 phi / dx_i dx_j (in Fourier space k_i k_j delta_k / k^2) has two
   eigenvalues per pixel, lambda_1 >= lambda_2, whose sum is the smoothed contrast;
4. the number of eigenvalues above ``threshold`` gives the web type: 0 void (expanding in both
   directions), 1 filament (collapsing along one), 2 node (collapsing along both). A projected
   map has no sheets: the 3-D sheets and filaments cut by the slab both look like filaments.

Units and defaults. ``box_size`` is the side of a map [Mpc/h] (25 for CAMELS-like maps, so a
pixel of a 64 x 64 map is 0.39 Mpc/h). ``smoothing = 0.5`` Mpc/h (1.3 pixels of a 64 x 64 map,
5 of a 256 x 256 one) removes pixel noise but keeps filaments, which are about 1 Mpc/h wide;
smoothing over several Mpc/h would merge them into blobs. ``threshold`` is dimensionless, in the
units of delta (the eigenvalues sum to delta): 0.2 lies in the range 0.2 - 0.4 that Forero-Romero
et al. (2009) found to reproduce the visual impression of the web; with 0 (Hahn et al. 2007) any
slight overdensity counts as collapsing and voids shrink. Projected maps have a larger contrast
than the 3-D field, so the share of voids depends on both choices: quote them with the result.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_positive_int

WEB_TYPES = ("void", "filament", "node")

_CHUNK = 256  # maps per FFT batch: bounds the memory of a 15000-map stack


def _number(value, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum:g}, got {value:g}.")
    return value


def _stack(value, name: str, *, channels: bool = False) -> np.ndarray:
    """``value`` as float64 (N, S, S); (N, 1, S, S) loses its channel axis. With ``channels``
    an (N, C, S, S) stack stays four-dimensional. Rejects NaN, empty and non-square maps."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}.") from None
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 4 and not channels:
        raise ValueError(
            f"{name} must have one channel, (N, S, S) or (N, 1, S, S), got shape {arr.shape}; "
            f"pass the density channel only, e.g. {name}[:, :1]."
        )
    elif arr.ndim != 3 and not (channels and arr.ndim == 4):
        raise ValueError(
            f"{name} must be a stack of maps (N, S, S) or (N, 1, S, S), got shape {arr.shape}; "
            f"add the stack axis to a single map with {name}[None]."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass at least one map.")
    if arr.shape[-1] != arr.shape[-2] or arr.shape[-1] < 2:
        raise ValueError(f"{name} must hold square maps of at least 2 x 2 pixels, got {arr.shape}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop those maps first.")
    return arr


def _one_plus_delta(density: np.ndarray, name: str, contrast: bool) -> np.ndarray:
    """1 + delta of every map: map / mean(map) for densities, delta + 1 for contrasts."""
    if contrast:
        if np.any(density <= 0):
            raise ValueError(
                f"{name} must be positive densities (contrast=True computes map / mean(map) - 1); "
                "pass contrast=False if the maps already hold the contrast delta."
            )
        return density / density.mean(axis=(1, 2), keepdims=True)
    if np.any(density <= -1):
        raise ValueError(
            f"{name} holds contrasts delta <= -1 (contrast=False), which have no log10(1 + delta); "
            "pass positive densities with contrast=True."
        )
    return density + 1.0


def _tidal_eigenvalues(field: np.ndarray, box_size: float, smoothing: float) -> np.ndarray:
    """(lambda_1, lambda_2) (2, N, S, S) of the tidal tensor of a float64 source (N, S, S)."""
    s = field.shape[-1]
    spacing = box_size / s
    ky = 2 * np.pi * np.fft.fftfreq(s, d=spacing)[:, None]  # h/Mpc, along the rows (y)
    kx = 2 * np.pi * np.fft.rfftfreq(s, d=spacing)[None, :]  # along the columns (x)
    k2 = kx**2 + ky**2
    window = np.exp(-0.5 * k2 * smoothing**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.where(k2 > 0, window / np.where(k2 > 0, k2, 1.0), 0.0)
    # An odd derivative has no sign on a Nyquist line (k and -k are the same mode): drop them
    # from T_xy so that turns and mirror images of a map turn and mirror its web exactly.
    odd = np.ones_like(k2)
    if s % 2 == 0:
        odd[s // 2, :] = 0.0
        odd[:, -1] = 0.0
    kernels = (kx * kx * green, ky * ky * green, kx * ky * green * odd)
    fk = np.fft.rfft2(field, axes=(1, 2))
    txx, tyy, txy = (np.fft.irfft2(fk * g, s=(s, s), axes=(1, 2)) for g in kernels)
    half_trace = 0.5 * (txx + tyy)
    radius = np.hypot(0.5 * (txx - tyy), txy)
    return np.stack([half_trace + radius, half_trace - radius])


def tidal_eigenvalues(
    maps, *, box_size: float = 25.0, smoothing: float = 0.5, contrast: bool = True,
    log: bool = False,
) -> np.ndarray:  # fmt: skip
    """The two eigenvalues of the tidal tensor at every pixel, float32 (N, 2, S, S).

    ``maps``: (N, S, S) or (N, 1, S, S) positive densities (``contrast=True``, the contrast
    delta = map / mean(map) - 1 is taken per map) or contrasts delta (``contrast=False``).
    ``log=True`` uses ln(1 + delta) as the source instead of delta. ``box_size`` [Mpc/h] is
    the side of a map, ``smoothing`` [Mpc/h] the standard deviation of the periodic Gaussian
    (0: none). Channel 0 holds lambda_1 >= lambda_2 in channel 1; lambda_1 + lambda_2 is the
    smoothed source minus its mean (dimensionless, as delta).
    """
    field = _stack(maps, "maps")
    box = _number(box_size, "box_size", minimum=0.0, strict=True)
    sigma = _number(smoothing, "smoothing", minimum=0.0)
    out = np.empty((len(field), 2, *field.shape[1:]), dtype=np.float32)
    for start in range(0, len(field), _CHUNK):
        part = _one_plus_delta(field[start : start + _CHUNK], "maps", contrast)
        source = np.log(part) if log else part - 1.0
        out[start : start + _CHUNK] = _tidal_eigenvalues(source, box, sigma).transpose(1, 0, 2, 3)
    return out


def classify_web(
    maps, *, box_size: float = 25.0, smoothing: float = 0.5, threshold: float = 0.2,
    contrast: bool = True, log: bool = False,
) -> np.ndarray:  # fmt: skip
    """Web type of every pixel, int8 (N, S, S): 0 void, 1 filament, 2 node (``WEB_TYPES``).

    The number of tidal eigenvalues above ``threshold`` (dimensionless, in units of delta) after
    a Gaussian smoothing of ``smoothing`` [Mpc/h] over maps of side ``box_size`` [Mpc/h]; see
    the module's docstring for the method and the choice of the defaults. ``maps``: (N, S, S)
    or (N, 1, S, S) positive densities, or contrasts delta with ``contrast=False``; ``log=True``
    classifies with ln(1 + delta) as the source. Periodic: rolling a map rolls its labels.
    """
    th = _number(threshold, "threshold")
    eigen = tidal_eigenvalues(
        maps, box_size=box_size, smoothing=smoothing, contrast=contrast, log=log
    )
    return (eigen > th).sum(axis=1, dtype=np.int8)


def _saliency_stack(saliency, signed: bool) -> np.ndarray:
    """Saliency (N, S, S): the channels of an (N, C, S, S) stack summed, |values| unless signed."""
    sal = _stack(saliency, "saliency", channels=True)
    if not signed:
        sal = np.abs(sal)
    return sal.sum(axis=1) if sal.ndim == 4 else sal


def _same_shape(sal: np.ndarray, other: np.ndarray, name: str) -> None:
    if sal.shape != other.shape:
        raise ValueError(
            f"saliency and {name} must describe the same maps, got (N, S, S) = {sal.shape} and "
            f"{other.shape}; pass the {name} of the images the saliency was computed for."
        )


def saliency_by_density(
    saliency, density, *, n_bins: int = 10, signed: bool = False, contrast: bool = True
) -> dict:
    """Saliency against the local density, in bins that hold equal numbers of pixels.

    ``saliency``: (N, S, S) or (N, C, S, S), channels summed after taking absolute values (the
    signed values with ``signed=True``); ``density``: (N, S, S) or (N, 1, S, S) positive
    densities of the same maps (their contrast is taken per map) or contrasts with
    ``contrast=False``. The pixels of all maps are sorted by x = log10(1 + delta) and cut at
    the quantiles of x into ``n_bins`` bins (equal counts up to ties). Returns a dict of
    float64 arrays (n_bins,) (``bin_edges`` (n_bins + 1,)): ``bin_edges`` and ``bin_centres``
    (the median x of each bin's pixels), ``counts`` (pixels per bin), ``mean_saliency`` (per
    pixel) and ``share`` (the bin's fraction of the total saliency; the shares sum to 1).
    """
    n_bins = check_positive_int(n_bins, "n_bins")
    sal = _saliency_stack(saliency, signed)
    den = _stack(density, "density")
    _same_shape(sal, den, "density")
    x = np.log10(_one_plus_delta(den, "density", contrast)).ravel()
    if n_bins > x.size:
        raise ValueError(f"n_bins must be at most the number of pixels ({x.size}), got {n_bins}.")
    values = sal.ravel()
    total = values.sum()
    if total == 0:
        raise ValueError("saliency sums to zero over all maps: there is no share to split.")
    edges = np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1))
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins).astype(np.float64)
    sums = np.bincount(index, weights=values, minlength=n_bins)
    order = np.argsort(index, kind="stable")
    groups = np.split(x[order], np.cumsum(counts.astype(int))[:-1])
    centres = np.array([np.median(g) if g.size else np.nan for g in groups])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return {
        "bin_edges": edges,
        "bin_centres": centres,
        "counts": counts,
        "mean_saliency": mean,
        "share": sums / total,
    }


def saliency_by_web(saliency, labels) -> dict:
    """Saliency per web type: ``{web type: {"pixel_fraction", "saliency_share",
    "mean_per_pixel"}}`` for every name of ``WEB_TYPES``, as floats.

    ``saliency``: (N, S, S) or (N, C, S, S) (absolute values, channels summed); ``labels``: the
    web types (N, S, S) or (N, 1, S, S) of ``classify_web``. ``pixel_fraction`` and
    ``saliency_share`` each sum to 1 over the types; ``mean_per_pixel`` is the mean saliency of
    a pixel of that type over the mean of all pixels (= share / fraction; 1 for a flat map, NaN
    for a type with no pixel).
    """
    sal = _saliency_stack(saliency, signed=False)
    lab = _stack(labels, "labels")
    _same_shape(sal, lab, "labels")
    if np.any((lab != np.round(lab)) | (lab < 0) | (lab >= len(WEB_TYPES))):
        raise ValueError(
            f"labels must hold the web types 0 to {len(WEB_TYPES) - 1} of classify_web "
            f"({', '.join(WEB_TYPES)})."
        )
    lab = lab.astype(np.int64).ravel()
    values = sal.ravel()
    total = values.sum()
    if total == 0:
        raise ValueError("saliency sums to zero over all maps: there is no share to split.")
    counts = np.bincount(lab, minlength=len(WEB_TYPES))
    sums = np.bincount(lab, weights=values, minlength=len(WEB_TYPES))
    result = {}
    for i, name in enumerate(WEB_TYPES):
        fraction, share = counts[i] / lab.size, sums[i] / total
        result[name] = {
            "pixel_fraction": float(fraction),
            "saliency_share": float(share),
            "mean_per_pixel": float(share / fraction) if counts[i] else float("nan"),
        }
    return result


__all__ = [
    "WEB_TYPES",
    "classify_web",
    "saliency_by_density",
    "saliency_by_web",
    "tidal_eigenvalues",
]
