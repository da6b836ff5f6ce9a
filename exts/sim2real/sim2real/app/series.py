"""Live series for plots: the ``metric`` events of a job (loss per epoch, cost per iteration).

A point is ``(step, value)``; a series is named by the event's ``series`` and the value's key, e.g.
``("epoch", "loss")``. Non-finite values arrive as ``null`` in the protocol and are skipped (a plot
cannot draw them). Each line keeps at most ``max_points`` points, halving its resolution (every other
point dropped) when full, so a long run stays cheap to draw and its whole history stays visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .observable import Observable


class Series(Observable):
    def __init__(self, max_points: int = 2000) -> None:
        super().__init__()
        if max_points < 2:
            raise ValueError("max_points must be at least 2")
        self.max_points = max_points
        self._lines: dict[tuple[str, str], tuple[list[float], list[float]]] = {}

    def add(self, series: str, step: float, values: Mapping[str, Any]) -> None:
        """Append one point per finite numeric value."""
        with self._lock:
            for key, value in values.items():
                if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                    continue
                steps, ys = self._lines.setdefault((series, key), ([], []))
                steps.append(float(step))
                ys.append(float(value))
                if len(ys) > self.max_points:
                    del steps[1::2], ys[1::2]
        self._changed()

    def names(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._lines)

    def points(self, series: str, key: str) -> tuple[list[float], list[float]]:
        """(steps, values) of one line; empty lists when it has no point yet."""
        with self._lock:
            steps, ys = self._lines.get((series, key), ([], []))
            return list(steps), list(ys)

    def values(self, series: str, key: str) -> list[float]:
        """The values alone, in step order (what ``omni.ui.Plot`` draws)."""
        return self.points(series, key)[1]

    def last(self, series: str, key: str) -> float | None:
        ys = self.values(series, key)
        return ys[-1] if ys else None

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()
        self._changed()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, dict[str, Any]] = {}
            for (series, key), (steps, ys) in sorted(self._lines.items()):
                out.setdefault(series, {})[key] = {"steps": list(steps), "values": list(ys)}
            return {"revision": self.revision, "series": out}
