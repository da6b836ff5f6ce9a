"""Plots of the run report that the shared ``sim2real.report.plots`` does not have."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..report.plots import PALETTE, new_figure


def histogram_panels(values: Mapping[str, np.ndarray], columns: int = 4, bins: int = 20) -> Any:
    """Small histograms, one panel per named sample."""
    n = len(values)
    rows = max(1, math.ceil(n / columns))
    fig = new_figure(11.0, 1.9 * rows + 0.3)
    axes = fig.subplots(rows, columns, squeeze=False)
    for i in range(rows * columns):
        ax = axes[i // columns][i % columns]
        if i >= n:
            ax.set_visible(False)
            continue
        name = list(values)[i]
        ax.hist(np.asarray(values[name], float), bins=bins, color=PALETTE[0], alpha=0.85)
        ax.set_title(name if len(name) <= 38 else "…" + name[-37:], fontsize=8)
        ax.tick_params(labelsize=7)
    return fig


def epoch_curves(curves: Mapping[str, Sequence[float]], ylabel: str, marks: Mapping[str, int] | None = None,
                 title: str = "") -> Any:
    """One line per series over epochs 1..N, with an optional marked epoch per series (the checkpoint
    a validator chose)."""
    fig = new_figure(6.0, 3.2)
    ax = fig.subplots()
    for j, (label, ys) in enumerate(curves.items()):
        epochs = np.arange(1, len(ys) + 1)
        colour = PALETTE[j % len(PALETTE)]
        ax.plot(epochs, ys, marker="o", ms=3, lw=1.3, color=colour, label=label)
        mark = (marks or {}).get(label)
        if mark is not None and 1 <= mark <= len(ys):
            ax.plot([mark], [ys[mark - 1]], marker="*", ms=12, color=colour, ls="none")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
