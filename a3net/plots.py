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
