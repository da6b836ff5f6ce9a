"""#26: epoch curves had ticks at 0.5, 1.5, 2.5 (an epoch is a whole number), in the reports' matplotlib
figures and the panel's SVG plots."""

from __future__ import annotations

import re

from sim2real.report.plots import epoch_curves
from sim2real.web.svgplot import line_plot


def test_epoch_curves_tick_whole_epochs_only() -> None:
    fig = epoch_curves({"dann": [0.9, 0.5, 0.4]}, "loss", marks={"dann": 2})
    ticks = [t for t in fig.axes[0].get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    svg = line_plot({"epoch.loss": [(1, 0.9), (2, 0.5), (3, 0.4)]})
    labels = re.findall(r'text-anchor="middle" font-size="11">([^<]+)<', svg)
    assert labels and all(float(x).is_integer() for x in labels), labels
    fractional = line_plot({"t": [(0.0, 1.0), (0.25, 2.0), (1.0, 0.5)]})  # not whole: tick between them
    assert "0.5" in re.findall(r'text-anchor="middle" font-size="11">([^<]+)<', fractional)
