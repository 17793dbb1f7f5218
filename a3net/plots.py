"""The figures the chapters show. Every function returns the matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_images(images, titles=None, *, ncols: int = 8, size: float = 1.6, cmap: str = "magma"):
    """A grid of (N, 1, H, W) or (N, H, W) images with optional titles."""
    arr = np.asarray(images)
    if arr.ndim == 4:
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise ValueError(
            f"images must have shape (N, 1, H, W) or (N, H, W), got {np.shape(images)}."
        )
    n = len(arr)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, size * nrows + 0.3 * (titles is not None)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(arr[i], cmap=cmap, origin="lower")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def plot_history(history: dict, keys=("loss",), *, title: str = "", ax=None):
    """Training curves: each of ``keys`` and its ``val_`` twin against the epoch."""
    fig = ax.figure if ax is not None else plt.figure(figsize=(4.5, 3))
    ax = ax or fig.add_subplot()
    for key in keys:
        for name, style in ((key, "-"), (f"val_{key}", "--")):
            if name in history:
                ax.plot(np.arange(1, len(history[name]) + 1), history[name], style, label=name)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_pred_vs_true(pred, true, names, *, units=None, label: str = "prediction"):
    """One panel per column: predicted against true, with the identity line."""
    pred, true = np.asarray(pred), np.asarray(true)
    k = len(names)
    fig, axes = plt.subplots(1, k, figsize=(2.6 * k, 2.7), squeeze=False)
    for j, ax in enumerate(axes[0]):
        lo, hi = np.nanmin(true[:, j]), np.nanmax(true[:, j])
        ax.plot(true[:, j], pred[:, j], ".", ms=2, alpha=0.4)
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        unit = f" [{units[j]}]" if units and units[j] else ""
        ax.set_xlabel(f"true {names[j]}{unit}")
        ax.set_ylabel(f"{label}")
    fig.tight_layout()
    return fig


def plot_saliency(images, maps, titles=None, *, cmap: str = "magma"):
    """Images (top row) and their saliency maps (bottom row)."""
    images, maps = np.asarray(images), np.asarray(maps)
    if images.shape != maps.shape:
        raise ValueError(
            f"images and maps must have the same shape, got {images.shape} and {maps.shape}."
        )
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.8 * n, 3.8), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(images[i, 0], cmap=cmap, origin="lower")
        axes[1, i].imshow(maps[i, 0], cmap="viridis", origin="lower")
        if titles is not None:
            axes[0, i].set_title(titles[i], fontsize=8)
        for ax in axes[:, i]:
            ax.axis("off")
    axes[0, 0].text(
        -0.15, 0.5, "image", transform=axes[0, 0].transAxes, rotation=90, va="center", ha="right"
    )
    axes[1, 0].text(
        -0.15, 0.5, "saliency", transform=axes[1, 0].transAxes, rotation=90, va="center", ha="right"
    )
    fig.tight_layout()
    return fig


def plot_photoz(z_spec, z_phot, *, label: str = "photo-z", ax=None, zmax=None):
    """Photometric against spectroscopic redshift, with the 1:1 line and the outlier wedges
    |z_phot - z_spec| = 0.15 (1 + z_spec); the legend gives sigma_NMAD and the outlier share."""
    from . import metrics

    z_spec = np.asarray(z_spec, dtype=float).ravel()
    z_phot = np.asarray(z_phot, dtype=float).ravel()
    ax = ax or plt.subplots(figsize=(4.2, 4.2))[1]
    top = zmax or float(np.nanpercentile(np.r_[z_spec, z_phot], 99.5)) * 1.05
    grid = np.linspace(0, top, 50)
    ax.plot(grid, grid, color="k", lw=0.8)
    for sign in (-1, 1):
        ax.plot(grid, grid + sign * metrics.OUTLIER_THRESHOLD * (1 + grid), "k--", lw=0.6)
    nmad = metrics.sigma_nmad(z_spec, z_phot)
    out = metrics.outlier_fraction(z_spec, z_phot)
    ax.scatter(z_spec, z_phot, s=3, alpha=0.35, lw=0, label=label)
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="$z_\\mathrm{spec}$", ylabel="$z_\\mathrm{phot}$")
    ax.set_title(f"{label}: $\\sigma_\\mathrm{{NMAD}}$={nmad:.3f}, outliers {out:.1%}", fontsize=9)
    return ax.figure


def plot_pit(pit_values, *, bins: int = 20, ax=None, label: str = ""):
    """Histogram of probability-integral-transform values (flat = calibrated p(z); U-shaped =
    p(z) too narrow; a hump = too wide), with the uniform level for reference."""
    values = np.asarray(pit_values, dtype=float).ravel()
    ax = ax or plt.subplots(figsize=(4.2, 3.0))[1]
    ax.hist(values, bins=bins, range=(0, 1), density=True, alpha=0.7, label=label or None)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="PIT = CDF of p(z) at $z_\\mathrm{spec}$", ylabel="density")
    return ax.figure


def plot_cherenkov_geometry(*, theta_deg: float = 40.0, gap: float = 3.0, radiator: float = 1.0):
    """Schematic of a proximity-focusing RICH: a track crosses a radiator of thickness T, every
    point of it emits light on a cone of half-angle theta, and the cones reach the detector plane
    a gap L further on as a ring of radius about L tan(theta), widened by T tan(theta)."""
    theta = np.radians(theta_deg)
    fig, (side, face) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    top = radiator + gap
    side.axhspan(0, radiator, color="tab:blue", alpha=0.15)
    side.text(-4.4, radiator / 2, "radiator\n(index n, thickness T)", va="center", fontsize=8)
    side.axhline(top, color="k", lw=2)
    side.text(-4.4, top + 0.15, "photon detector", fontsize=8)
    side.annotate("", (0, top + 0.6), (0, -0.6), arrowprops=dict(arrowstyle="->", lw=1.5))
    side.text(0.1, -0.55, "charged track, $\\beta > 1/n$", fontsize=8)
    for z in np.linspace(0.05, radiator - 0.05, 5):
        reach = (top - z) * np.tan(theta)
        for sign in (-1, 1):
            side.plot([0, sign * reach], [z, top], color="tab:orange", lw=0.8, alpha=0.8)
    r_in, r_out = (top - radiator) * np.tan(theta), top * np.tan(theta)
    side.annotate(
        "", (r_in, top + 0.25), (r_out, top + 0.25), arrowprops=dict(arrowstyle="<->", lw=0.8)
    )
    side.text(r_out + 0.1, top + 0.35, "$T\\tan\\theta$", fontsize=8)
    side.text(-0.35, radiator + gap / 2, "gap L", rotation=90, va="center", fontsize=8)
    side.text(0.15, radiator + 0.5, "$\\theta$: $\\cos\\theta = 1/(n\\beta)$", fontsize=8)
    side.set(xlim=(-4.5, 4.5), ylim=(-0.8, top + 0.9), xticks=[], yticks=[], title="side view")
    phi = np.linspace(0, 2 * np.pi, 200)
    for r in np.linspace(r_in, r_out, 5):
        face.plot(r * np.cos(phi), r * np.sin(phi), color="tab:orange", lw=0.8)
    face.plot(0, 0, "k+")
    face.annotate("", (r_out * np.cos(0.6), r_out * np.sin(0.6)), (0, 0),
                  arrowprops=dict(arrowstyle="->", lw=0.8))  # fmt: skip
    face.text(0.2, -0.5, "$r = L\\tan\\theta$", fontsize=8)
    face.set(aspect="equal", xticks=[], yticks=[], title="detector plane: a ring")
    fig.tight_layout()
    return fig


def plot_ring_fits(images, truth, fits: dict, *, ncols: int = 6, size: float = 2.0):
    """Ring images with the true circle (white, dashed) and each method's circle drawn over them.

    ``truth`` is (N, 3) x, y, radius [px]; ``fits`` maps a method's name to (N, 3) estimates
    (NaN rows, failed fits, are not drawn)."""
    arr = np.asarray(images)[:, 0]
    truth = np.asarray(truth, float)
    n = min(len(arr), ncols)
    fig, axes = plt.subplots(1, n, figsize=(size * n, size + 0.5), squeeze=False)
    phi = np.linspace(0, 2 * np.pi, 120)
    colours = ("tab:cyan", "tab:orange", "tab:green", "tab:red")
    for i, ax in enumerate(axes[0]):
        ax.imshow(arr[i], cmap="gray", origin="lower")
        x, y, r = truth[i, :3]
        ax.plot(x + r * np.cos(phi), y + r * np.sin(phi), "w--", lw=1, label="true")
        for (name, est), colour in zip(fits.items(), colours, strict=False):
            ex, ey, er = np.asarray(est, float)[i, :3]
            if np.isfinite([ex, ey, er]).all():
                ax.plot(
                    ex + er * np.cos(phi), ey + er * np.sin(phi), color=colour, lw=1, label=name
                )
        ax.axis("off")
    axes[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=1 + len(fits))
    fig.tight_layout()
    return fig


def _count_images(images, name: str) -> np.ndarray:
    """(N, H, W) from (N, 1, H, W), (N, H, W) or one (H, W) image of photon counts."""
    arr = np.asarray(images, dtype=float)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or not len(arr):
        raise ValueError(
            f"{name} must have shape (N, 1, H, W), (N, H, W) or (H, W), got {np.shape(images)}."
        )
    return arr


def _count_norm(vmax: float, log: bool):
    """Colour scale for counts: asinh stretch (linear below 1 count, logarithmic above)."""
    from matplotlib.colors import AsinhNorm, Normalize

    vmax = max(float(vmax), 1.0)
    return AsinhNorm(linear_width=1.0, vmin=0.0, vmax=vmax) if log else Normalize(0.0, vmax)


def _count_colorbar(fig, shown, axes):
    """One colour bar in counts per pixel; ticks 0, 1, 10, 100, ... under an asinh stretch."""
    bar = fig.colorbar(shown, ax=axes, shrink=0.85, label="counts per pixel")
    norm = shown.norm
    if type(norm).__name__ == "AsinhNorm":
        top = int(np.floor(np.log10(norm.vmax)))
        bar.set_ticks([0, *(10.0**k for k in range(top + 1))])
        bar.set_ticklabels(["0", *(f"{10**k:g}" for k in range(top + 1))])
    return bar


def plot_cluster_gallery(
    images,
    titles=None,
    *,
    ncols: int = 5,
    size: float = 2.2,
    log: bool = True,
    shared: bool = True,
    cmap: str = "magma",
):
    """X-ray count images (N, 1, H, W) in a grid, with an asinh stretch when ``log``.

    ``shared``: one colour scale (0 to the largest count of all images) and one colour bar in
    counts per pixel; otherwise each image is scaled to its own maximum."""
    arr = _count_images(images, "images")
    n = len(arr)
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles needs one title per image ({n}), got {len(titles)}.")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols + 0.8 * shared, size * nrows + 0.3),
        squeeze=False,
        layout="constrained",
    )
    shown = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            norm = _count_norm(arr.max() if shared else arr[i].max(), log)
            shown = ax.imshow(arr[i], cmap=cmap, norm=norm, origin="lower")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if shared:
        _count_colorbar(fig, shown, axes.ravel().tolist())
    return fig


def plot_real_vs_simulated(
    real_image,
    sim_images,
    real_title: str = "The Three Hundred",
    sim_titles=None,
    *,
    size: float = 2.4,
    cmap: str = "magma",
):
    """A real (or other-simulation) count image next to simulator images on the same grid.

    All images must have the same (H, W) (regrid the real one first, e.g. with
    ``a3net.data.cluster_files.to_simulator_scale``); one asinh colour scale, from 0 to the
    largest count of all panels, and one colour bar in counts per pixel."""
    real = _count_images(real_image, "real_image")
    sims = _count_images(sim_images, "sim_images")
    if len(real) != 1:
        raise ValueError(f"real_image must be one image (H, W), got {len(real)} images.")
    if real.shape[1:] != sims.shape[1:]:
        raise ValueError(
            f"real_image is {real.shape[1:]} pixels but sim_images are {sims.shape[1:]}; put both "
            "on the same pixel grid first (to_simulator_scale)."
        )
    titles = [real_title, *(sim_titles or [f"simulated {i}" for i in range(len(sims))])]
    if len(titles) != 1 + len(sims):
        raise ValueError(f"sim_titles needs {len(sims)} titles, got {len(titles) - 1}.")
    panels = np.concatenate([real, sims])
    norm = _count_norm(panels.max(), True)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(size * len(panels) + 0.8, size + 0.4), layout="constrained"
    )
    axes = np.atleast_1d(axes)
    for ax, panel, title in zip(axes, panels, titles, strict=True):
        shown = ax.imshow(panel, cmap=cmap, norm=norm, origin="lower")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    _count_colorbar(fig, shown, axes.tolist())
    return fig


def plot_field_maps(maps, titles=None, *, fields=("Mtot", "P"), size: float = 2.0):
    """log10 of positive maps (N, C, S, S): one row per field, one column per map, each row on
    one colour scale (magma for mass, viridis for pressure)."""
    arr = np.asarray(maps, dtype=float)
    if arr.ndim != 4 or arr.shape[1] != len(fields):
        raise ValueError(
            f"maps must have shape (N, {len(fields)}, S, S) for fields {fields}, got {arr.shape}."
        )
    if np.any(arr <= 0) or not np.all(np.isfinite(arr)):
        raise ValueError("maps must be finite and positive (they are shown in log10).")
    n, c = arr.shape[:2]
    fig, axes = plt.subplots(c, n, figsize=(size * n, size * c + 0.4), squeeze=False)
    logs = np.log10(arr)
    for row, field in enumerate(fields):
        lo, hi = np.percentile(logs[:, row], [0.5, 99.8])
        cmap = "magma" if field == "Mtot" else "viridis"
        for col in range(n):
            ax = axes[row, col]
            ax.imshow(logs[col, row], cmap=cmap, vmin=lo, vmax=hi, origin="lower")
            ax.set_xticks([])
            ax.set_yticks([])
            if titles is not None and row == 0:
                ax.set_title(titles[col], fontsize=8)
            if col == 0:
                ax.set_ylabel(f"log10 {field}")
    fig.tight_layout()
    return fig
