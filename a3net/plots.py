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
