"""Time-varying terms: a value that moves during the episode (lighting flicker, friction drift).

A signal rides on a ``when = "reset"`` term: at every reset the term's distribution draws the
episode's base value, then after physics step ``k`` (time ``k * dt``) the value is

* ``sinusoid``:    base + amplitude * sin(2 pi frequency_hz t + phase)   (phase in rad or "random")
* ``ou``:          base + x_k,  x an Ornstein-Uhlenbeck process reverting to 0 at rate ``theta`` (1/s)
                   with diffusion ``sigma`` (units/sqrt(s)), discretised exactly:
                   x_{k+1} = x_k e^{-theta h} + sigma sqrt((1 - e^{-2 theta h}) / (2 theta)) N(0, 1)
* ``random_walk``: base + x_k,  x_{k+1} = x_k + sigma sqrt(h) N(0, 1)
* ``hold``:        a fresh draw of the term's distribution every ``hold_s`` seconds (piecewise constant)

where ``h = every * dt`` is the update interval. Values are clipped to ``clip`` and, for attributes that
cannot be negative (with op set/scale), at 0. Every random number comes from a stream keyed by
(term, entity, episode, step), so the value at step k is a function of the episode and k alone:
a Randomizer asked for an earlier step replays the episode from its start.
"""

from __future__ import annotations

import math

import numpy as np

from . import dists
from .streams import HOLD, PHASE, SIGNAL, Streams
from .resolved import ResolvedTerm


class SignalRun:
    """One signal term during one episode."""

    def __init__(self, unit: ResolvedTerm, dt: float) -> None:
        assert unit.signal is not None
        self.unit, self.sig, self.dt = unit, unit.signal, dt
        self.own = list(unit.streams)  # the (entity) streams whose values no later term overrides
        self.hold_steps = max(1, round(self.sig.hold_s / dt)) if self.sig.kind == "hold" else 0
        self.period = self.hold_steps or self.sig.every
        h = self.period * dt
        if self.sig.kind == "ou":
            theta = float(self.sig.theta)  # type: ignore[arg-type]
            self._decay = math.exp(-theta * h)
            self._kick = np.asarray(self.sig.sigma, dtype=np.float64) * math.sqrt(
                (1.0 - math.exp(-2.0 * theta * h)) / (2.0 * theta)
            )
        elif self.sig.kind == "random_walk":
            self._decay, self._kick = 1.0, np.asarray(self.sig.sigma, dtype=np.float64) * math.sqrt(h)
        lo, hi = self.sig.clip or (-math.inf, math.inf)
        if unit.attr.nonnegative and unit.op != "add":
            lo = max(lo, 0.0)
        self._clip = (lo, hi) if (lo, hi) != (-math.inf, math.inf) else None
        self.episode = -1
        self.k = 0

    def start(
        self,
        streams: Streams,
        episode: int,
        base: dict[str, np.ndarray],
        dist: dists.Dist,
        n: int,
        scale: float = 1.0,
    ) -> None:
        """Begin an episode from the base values drawn at reset; ``dist`` and ``scale`` are the
        curriculum's (the amplitude and diffusion of the signal shrink and grow with the ranges)."""
        self.streams, self.episode, self.base, self.dist, self.n = streams, episode, base, dist, n
        self.scale = scale
        self.k = 0
        self.x = {s.key: np.zeros_like(base[s.key]) for s in self.own}
        self.phase: dict[str, np.ndarray | float] = {}
        if self.sig.kind == "sinusoid":
            for s in self.own:
                if self.sig.phase == "random":
                    ph = streams.generator(s.prefix, PHASE, episode).uniform(0.0, 2.0 * math.pi, n)
                    self.phase[s.key] = ph.reshape((n,) + (1,) * len(self.unit.attr.shape))
                else:
                    self.phase[s.key] = float(self.sig.phase or 0.0)

    def due(self, k: int) -> bool:
        return k % self.period == 0

    def values(self, k: int) -> dict[str, np.ndarray]:
        """The values after physics step ``k`` of the current episode (0 = right after reset)."""
        kind = self.sig.kind
        if kind == "sinusoid":
            t = k * self.dt
            w = 2.0 * math.pi * float(self.sig.frequency_hz) * t  # type: ignore[arg-type]
            amp = np.asarray(self.sig.amplitude, dtype=np.float64) * self.scale
            out = {key: b + amp * np.sin(w + self.phase[key]) for key, b in self.base.items()}
        elif kind == "hold":
            j = (k // self.hold_steps) * self.hold_steps
            if j == 0:
                out = dict(self.base)
            else:
                out = {
                    s.key: self.dist.draw(self.streams.generator(s.prefix, HOLD, self.episode, j), self.n)
                    for s in self.own
                }
        else:
            self._advance(k)
            out = {key: b + self.x[key] for key, b in self.base.items()}
        if self._clip is not None:
            out = {key: np.clip(v, *self._clip) for key, v in out.items()}
        return out

    def _advance(self, k: int) -> None:
        if k < self.k:  # asked for the past: replay the episode from its start
            self.x = {key: np.zeros_like(v) for key, v in self.x.items()}
            self.k = 0
        first = (self.k // self.period + 1) * self.period
        for j in range(first, k + 1, self.period):
            for s in self.own:
                noise = self.streams.generator(s.prefix, SIGNAL, self.episode, j).standard_normal(
                    self.x[s.key].shape
                )
                self.x[s.key] = self._decay * self.x[s.key] + (self._kick * self.scale) * noise
        self.k = max(self.k, k)
