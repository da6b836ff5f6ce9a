"""Automatic domain randomization (ADR), independent of any simulator.

The algorithm is Algorithm 1 of OpenAI et al., "Solving Rubik's Cube with a Robot Hand" (2019,
arXiv:1910.07113), as used by DeXtreme (Handa et al., "DeXtreme: Transfer of Agile In-hand
Manipulation from Simulation to Reality", ICRA 2023, arXiv:2210.13702):

* each ADR parameter is a uniform term whose range [low, high] starts at the profile's range;
* at every reset each environment is, with probability ``boundary_fraction`` (DeXtreme: 0.4), a
  *boundary worker* evaluating one boundary (one parameter, low or high side, uniformly at random):
  that parameter is pinned to the boundary value; every other value is sampled as usual;
* when an episode ends, the caller reports its performance (any task metric: success rate,
  consecutive successes); a boundary worker's result goes into that boundary's buffer;
* once a buffer holds ``buffer_size`` results (DeXtreme: 256), its mean is compared with the
  thresholds: above ``threshold_high`` the boundary moves outward by ``step`` (widening, up to
  ``limits``); below ``threshold_low`` it moves inward (never inside the profile's initial range);
  a moved boundary's buffer is cleared (all buffers with ``clear_all_buffers``);
* ``step_mode = "add"`` moves by ``step`` in attribute units (DeXtreme's additive deltas, e.g.
  0.01); ``"mul"`` multiplies/divides by ``1 + step``.

The state (ranges and buffers) is a plain dict saved with the run, so training resumes where it was.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .schema import Adr, Term
from .streams import ADR, Streams

SIDES = ("low", "high")


@dataclass(frozen=True)
class Change:
    term: str
    side: str
    old: float
    new: float
    mean: float  # the buffer mean that triggered it


class AdrState:
    def __init__(self, cfg: Adr, terms: Mapping[str, Term]) -> None:
        self.cfg = cfg
        self.names = [p.term for p in cfg.params]
        self.params = {p.term: p for p in cfg.params}
        self.init = {n: (float(terms[n].low), float(terms[n].high)) for n in self.names}  # type: ignore[arg-type]
        self.ranges: dict[str, list[float]] = {n: list(r) for n, r in self.init.items()}
        self.buffers: dict[tuple[str, str], deque[float]] = {
            (n, side): deque(maxlen=cfg.buffer_size) for n in self.names for side in SIDES
        }
        self.assigned: np.ndarray | None = None  # per env: -1 (rollout) or 2 * param + side

    # ------------------------------------------------------------------ sampling
    def assign(self, streams: Streams, prefix: Any, episode: int, n: int) -> np.ndarray:
        """Which environments evaluate which boundary this episode (prefix-stable per env)."""
        u = streams.generator(prefix, ADR, episode).random((n, 2))
        slots = np.minimum((u[:, 1] * 2 * len(self.names)).astype(np.int64), 2 * len(self.names) - 1)
        self.assigned = np.where(u[:, 0] < self.cfg.boundary_fraction, slots, -1)
        return self.assigned

    def range(self, name: str) -> tuple[float, float]:
        lo, hi = self.ranges[name]
        return lo, hi

    def pin(self, name: str, values: dict[str, np.ndarray], keys: Sequence[str]) -> None:
        """Set the boundary workers' values of ``name`` to the boundary they evaluate."""
        if self.assigned is None:
            return
        p = self.names.index(name)
        for side in (0, 1):
            envs = self.assigned == 2 * p + side
            if envs.any():
                for key in keys:
                    values[key][envs] = self.ranges[name][side]

    # ------------------------------------------------------------------ updating
    def report(self, performance: Any, envs: Sequence[int] | None = None) -> list[Change]:
        """Record the performance of finished episodes; move boundaries whose buffers are full."""
        if self.assigned is None:
            raise ValueError(
                "ADR: report() needs a reset() first (it tells which envs evaluated which boundary)"
            )
        perf = np.atleast_1d(np.asarray(performance, dtype=np.float64))
        idx = np.arange(len(self.assigned)) if envs is None else np.asarray(envs, dtype=np.int64)
        if perf.shape != idx.shape:
            raise ValueError(f"ADR: one performance value per env ({idx.size}), got {perf.size}")
        if not np.all(np.isfinite(perf)):
            raise ValueError("ADR: performance values must be finite")
        for env, value in zip(idx.tolist(), perf.tolist(), strict=True):
            slot = int(self.assigned[env])
            if slot >= 0:
                self.buffers[(self.names[slot // 2], SIDES[slot % 2])].append(value)
                self.assigned[env] = -1  # one result per boundary episode
        return self._update()

    def _update(self) -> list[Change]:
        changes: list[Change] = []
        for (name, side), buf in self.buffers.items():
            if len(buf) < self.cfg.buffer_size:
                continue
            mean = float(np.mean(buf))
            if mean > self.cfg.threshold_high:
                new = self._move(name, side, outward=True)
            elif mean < self.cfg.threshold_low:
                new = self._move(name, side, outward=False)
            else:
                continue
            old = self.ranges[name][SIDES.index(side)]
            if new == old:
                continue
            self.ranges[name][SIDES.index(side)] = new
            changes.append(Change(name, side, old, new, mean))
            if self.cfg.clear_all_buffers:
                for b in self.buffers.values():
                    b.clear()
            else:
                buf.clear()
        return changes

    def _move(self, name: str, side: str, outward: bool) -> float:
        p = self.params[name]
        lo, hi = self.ranges[name]
        value = lo if side == "low" else hi
        up = (side == "high") == outward  # widening the high side or narrowing the low side moves up
        if p.step_mode == "add":
            value = value + p.step if up else value - p.step
        else:
            value = value * (1.0 + p.step) if up else value / (1.0 + p.step)
        init_lo, init_hi = self.init[name]
        if side == "low":
            value = max(value, p.limits[0]) if outward else min(value, init_lo)
            return min(value, hi)
        value = min(value, p.limits[1]) if outward else max(value, init_hi)
        return max(value, lo)

    # ------------------------------------------------------------------ reporting and state
    def metrics(self) -> dict[str, float]:
        """Current bounds and DeXtreme's 'nats per dimension' (mean log range width) for logs."""
        out: dict[str, float] = {}
        nats = []
        for name in self.names:
            lo, hi = self.ranges[name]
            out[f"adr/{name}/low"], out[f"adr/{name}/high"] = lo, hi
            nats.append(math.log(max(hi - lo, 1e-3)))
        out["adr/npd"] = float(np.mean(nats))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "ranges": {n: list(r) for n, r in self.ranges.items()},
            "buffers": {f"{n}:{side}": list(b) for (n, side), b in self.buffers.items()},
            "assigned": None if self.assigned is None else self.assigned.tolist(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        ranges = state.get("ranges", {})
        if set(ranges) != set(self.names):
            raise ValueError(
                f"ADR state is for parameters {sorted(ranges)}, this profile has {sorted(self.names)}"
            )
        self.ranges = {n: [float(ranges[n][0]), float(ranges[n][1])] for n in self.names}
        for (n, side), buf in self.buffers.items():
            buf.clear()
            buf.extend(float(v) for v in state.get("buffers", {}).get(f"{n}:{side}", []))
        assigned = state.get("assigned")
        self.assigned = None if assigned is None else np.asarray(assigned, dtype=np.int64)
