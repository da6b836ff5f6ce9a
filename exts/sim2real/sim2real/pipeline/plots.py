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
