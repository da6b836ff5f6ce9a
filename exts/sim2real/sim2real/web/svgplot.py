"""Line plots as inline SVG: no JavaScript, no fetched library, one string per plot.

``line_plot({"loss": [(1, 0.9), (2, 0.5)]})`` draws every series on shared axes with a few round
ticks and a legend. Non-finite points are skipped (a diverged loss must not break the page).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
Point = tuple[float, float]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _finite(points: Sequence[Point]) -> list[Point]:
    return [(float(x), float(y)) for x, y in points if math.isfinite(x) and math.isfinite(y)]


def line_plot(series: Mapping[str, Sequence[Point]], width: int = 480, height: int = 220, x_label: str = "",
              title: str = "") -> str:
    """An ``<svg>`` element drawing each named series as a polyline with point markers."""
    clean = {name: _finite(pts) for name, pts in series.items()}
    clean = {name: pts for name, pts in clean.items() if pts}
    left, right, top, bottom = 52, 12, 22 if title else 10, 34
    pw, ph = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" data-points="{sum(len(p) for p in clean.values())}">']
    if title:
        parts.append(f'<text x="{width / 2}" y="14" text-anchor="middle" class="plot-title">{escape(title)}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>')
    if not clean:
        parts.append(f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle" fill="#888">no data yet</text>')
        return "".join(parts) + "</svg>"
    xs = [x for pts in clean.values() for x, _ in pts]
    ys = [y for pts in clean.values() for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 == y0:
        pad = abs(y0) * 0.1 or 1.0
        y0, y1 = y0 - pad, y1 + pad

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (y - y0) / (y1 - y0) * ph

    for t in nice_ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{sy(t) + 4:.1f}" text-anchor="end" font-size="11">{_fmt(t)}</text>')
    whole = all(float(x).is_integer() for x in xs)  # epochs, steps: no tick between two of them
    for t in (t for t in nice_ticks(x0, x1) if not whole or float(t).is_integer()):
        parts.append(f'<text x="{sx(t):.1f}" y="{top + ph + 14}" text-anchor="middle" font-size="11">{_fmt(t)}</text>')
    if x_label:
        parts.append(f'<text x="{left + pw / 2}" y="{height - 4}" text-anchor="middle" font-size="11">{escape(x_label)}</text>')
    for i, (name, pts) in enumerate(clean.items()):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        parts.append(f'<polyline class="series" data-series="{escape(name)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" points="{coords}"/>')
        parts.extend(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>' for x, y in pts)
        parts.append(f'<text x="{left + 8}" y="{top + 14 + 14 * i}" font-size="11" fill="{colour}">{escape(name)}</text>')
    return "".join(parts) + "</svg>"
