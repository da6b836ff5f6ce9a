"""Plots for reports, drawn with matplotlib's object API on an Agg canvas (no pyplot, no display).

Every function returns a ``matplotlib.figure.Figure``; pass it to ``Section.figure``. matplotlib is
imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

SIM_COLOUR = "#1f77b4"
REAL_COLOUR = "#d62728"
PALETTE = (SIM_COLOUR, REAL_COLOUR, "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def new_figure(width_in: float = 8.0, height_in: float = 4.0) -> Any:
    """A Figure with its own Agg canvas: safe in threads, never opens a window."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def overlay_panels(
    t: np.ndarray, curves: Mapping[str, np.ndarray], channels: Sequence[str], xlabel: str = "time [s]",
    units: Sequence[str] | None = None, max_panels: int = 12, title: str = "",
) -> Any:
    """One panel per channel with every curve overlaid (e.g. sim vs real, or measured vs fitted).

    ``curves`` maps a label to an ``(N, C)`` array sampled at ``t`` (N,).
    """
    n = min(len(channels), max_panels)
    cols = 1 if n <= 3 else 2
    rows = int(np.ceil(n / cols))
    fig = new_figure(10.0 if cols == 2 else 8.0, 1.9 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for i in range(rows * cols):
        ax = axes[i // cols][i % cols]
        if i >= n:
            ax.set_visible(False)
            continue
        for j, (label, values) in enumerate(curves.items()):
            ax.plot(t, np.asarray(values)[:, i], color=PALETTE[j % len(PALETTE)], lw=1.2, label=label)
        unit = f" [{units[i]}]" if units and units[i] else ""
        ax.set_ylabel(f"{channels[i]}{unit}", fontsize=9)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(loc="upper right", fontsize=8)
        if i // cols == rows - 1 or i + cols >= n:
            ax.set_xlabel(xlabel)
    if title:
        fig.suptitle(title)
    return fig


def histogram(
    values: Mapping[str, np.ndarray], xlabel: str, bins: int = 40, threshold: float | None = None,
    title: str = "", log_y: bool = False,
) -> Any:
    """Overlaid histograms of one or more samples, with an optional threshold line."""
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    finite = [np.asarray(v, float)[np.isfinite(v)] for v in values.values()]
    data = np.concatenate(finite) if finite else np.zeros(0)
    lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 1.0)
    if threshold is not None and math.isfinite(threshold):  # keep the threshold line in view
        lo, hi = min(lo, threshold), max(hi, threshold)
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):  # (nearly) constant data: a narrow band around it
        pad = max(0.01 * abs(hi), 1e-9)
        lo, hi = lo - pad, hi + pad
    edges = np.linspace(lo, hi, bins + 1)
    for j, (label, v) in enumerate(zip(values, finite, strict=True)):
        ax.hist(v, bins=edges, alpha=0.55 if len(values) > 1 else 0.85, color=PALETTE[j % len(PALETTE)], label=label)
    if threshold is not None:
        ax.axvline(threshold, color="black", ls="--", lw=1, label=f"threshold {threshold:g}")
    return _finish(fig, ax, xlabel, "count", title, log_y=log_y)


def series(
    x: np.ndarray, ys: Mapping[str, np.ndarray], xlabel: str, ylabel: str, title: str = "",
    hlines: Mapping[str, float] | None = None, log_x: bool = False, log_y: bool = False,
) -> Any:
    """Several curves on one axis (rolling errors, spectra, learning curves), with labelled levels."""
    fig = new_figure(8.0, 3.4)
    ax = fig.subplots()
    for j, (label, y) in enumerate(ys.items()):
        ax.plot(x, y, color=PALETTE[j % len(PALETTE)], lw=1.2, label=label)
    for label, level in (hlines or {}).items():
        ax.axhline(level, color="black", ls="--", lw=1, label=label)
    return _finish(fig, ax, xlabel, ylabel, title, log_x=log_x, log_y=log_y)


def paths_2d(curves: Mapping[str, np.ndarray], xlabel: str = "x [m]", ylabel: str = "y [m]", title: str = "") -> Any:
    """Top-down paths: ``curves`` maps a label to an ``(N, 2)`` array; equal axis scales."""
    fig = new_figure(5.5, 5.0)
    ax = fig.subplots()
    for j, (label, xy) in enumerate(curves.items()):
        xy = np.asarray(xy)
        ax.plot(xy[:, 0], xy[:, 1], color=PALETTE[j % len(PALETTE)], lw=1.2, label=label)
        ax.plot(xy[:1, 0], xy[:1, 1], "o", color=PALETTE[j % len(PALETTE)], ms=4)
    ax.set_aspect("equal", adjustable="datalim")
    return _finish(fig, ax, xlabel, ylabel, title)


def bars(labels: Sequence[str], groups: Mapping[str, Sequence[float]], ylabel: str, title: str = "") -> Any:
    """Grouped bars: one group per label, one bar per series (e.g. sim vs real per colour channel)."""
    fig = new_figure(max(5.0, 0.6 * len(labels) * max(1, len(groups)) + 2), 3.4)
    ax = fig.subplots()
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(groups))
    for j, (name, vals) in enumerate(groups.items()):
        ax.bar(x + (j - (len(groups) - 1) / 2) * width, vals, width, label=name, color=PALETTE[j % len(PALETTE)])
    ax.set_xticks(x, labels)
    return _finish(fig, ax, "", ylabel, title)


def _finish(fig: Any, ax: Any, xlabel: str, ylabel: str, title: str, log_x: bool = False, log_y: bool = False) -> Any:
    """Labels, scales, grid, legend and title: the same dressing for every single-axis plot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def epoch_curves(curves: Mapping[str, Sequence[float]], ylabel: str, marks: Mapping[str, int] | None = None,
                 title: str = "") -> Any:
    """One line per series over epochs 1..N, with an optional marked epoch per series (the checkpoint
    a validator chose). Epochs are whole numbers: the x ticks are integers."""
    from matplotlib.ticker import MaxNLocator

    fig = new_figure(6.0, 3.2)
    ax = fig.subplots()
    for j, (label, ys) in enumerate(curves.items()):
        epochs = np.arange(1, len(ys) + 1)
        colour = PALETTE[j % len(PALETTE)]
        ax.plot(epochs, ys, marker="o", ms=3, lw=1.3, color=colour, label=label)
        mark = (marks or {}).get(label)
        if mark is not None and 1 <= mark <= len(ys):
            ax.plot([mark], [ys[mark - 1]], marker="*", ms=12, color=colour, ls="none")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(fig, ax, "epoch", ylabel, title)
