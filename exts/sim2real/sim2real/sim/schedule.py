"""``IntervalSchedule``: which interval firings are due after a physics step, a chunk drawn at a time.

``RandomizedSim`` owns one. After physics step ``s``, the terms of period ``p`` fire when ``p`` divides
``s`` (firing ``s / p`` of the episode); their values come from the Randomizer a chunk of ``CHUNK``
consecutive firings at a time, and a backend that ``PreparesInterval`` turns each chunk into model writes
once. A firing's values depend on (episode, firing) alone, so ``chunk`` is a cache size: it trades memory
(``n_envs * chunk`` values per (term, entity) and period) for fewer draws and preparations, and changes
no value. 64 covers a typical episode (10 s at 500 Hz firing every 100 steps: 50 firings) with one chunk.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..randomize.interval import IntervalChunk

CHUNK = 64  # firings drawn (and prepared) at once per period: a cache size


class Firing(NamedTuple):  # (a tuple: made at every firing, on the physics-step path)
    """Row ``row`` of ``chunk``: one firing of the interval terms of the chunk's period."""

    chunk: IntervalChunk
    row: int


class IntervalSchedule:
    def __init__(self, randomizer: Any, chunk: int = CHUNK) -> None:
        """``randomizer``: a ``sim2real.randomize.runtime.Randomizer``; ``chunk``: firings drawn at once."""
        if chunk < 1:
            raise ValueError(f"chunk: expected a positive number of firings (got {chunk})")
        self.randomizer, self.chunk = randomizer, int(chunk)
        self.periods = randomizer.periods
        signal_periods = [int(run.period) for run in randomizer.signals.values()]
        every = self.periods + signal_periods
        self.period = math.gcd(*every) if every else None  # steps between steps at which something is due
        self._chunks: dict[int, IntervalChunk] = {}  # period -> the chunk of its current firings

    def start(self) -> None:
        """A new episode (the randomizer has been reset): its firings are drawn afresh. Call it at every
        reset (``RandomizedSim.reset`` does)."""
        self._chunks.clear()

    def due(self, step: int) -> list[Firing]:
        """The firings due after physics step ``step`` (1-based since the reset), one per period that fires."""
        out = []
        for period in self.periods:
            if step % period:
                continue
            number = step // period  # the episode's firing number, 1 for the first
            chunk = self._chunks.get(period)
            if chunk is None or not chunk.first <= number < chunk.first + chunk.count:
                chunk = self._chunks[period] = self.randomizer.interval(period, number, self.chunk)
            out.append(Firing(chunk, number - chunk.first))
        return out
