"""``AppliedRecord``: what a backend applied since its last reset, for every backend alike.

Two things every backend must remember, with one owner here:

* the start-up samples (``when = "startup"``), re-applied after every reset: they last for the scene's
  lifetime, as Isaac Lab's start-up events do;
* the latest value of every key applied since the reset, which becomes the randomization record stored
  with each frame (``Backend.record(env)``), and the (seed, index) of the latest sample, which keys the
  image noise of the next frame.

Interval firings applied from a prepared chunk (``PreparesInterval``) are kept as (chunk, row) until a
record or the next sample needs them, so a firing costs no per-key work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..randomize.interval import IntervalChunk
from ..randomize.sample import Sample


class AppliedRecord:
    def __init__(self, n_envs: int = 1) -> None:
        """``n_envs``: how many environments the backend simulates. One: it takes whichever row of a sample
        it is given. Several: environment ``e`` takes row ``e``."""
        self.n_envs = n_envs
        self.startup: list[tuple[Sample, int | None]] = []  # (sample, env applied; None: every env)
        self._latest: dict[str, tuple[np.ndarray, int | None]] = {}  # key -> (values of every env, env applied)
        self._pending: dict[int, tuple[IntervalChunk, int, int | None]] = {}  # period -> (chunk, row, env)
        self._last = (0, 0)

    def applied(self, sample: Sample, env: int | None) -> None:
        """``sample`` was applied: row ``env`` of it (None: each environment its own row)."""
        self._settle()
        if sample.event == "startup" and not any(s is sample and e == env for s, e in self.startup):
            self.startup.append((sample, env))
        for key, values in sample.values.items():
            self._latest[key] = (values, env)
        self._last = (sample.seed, sample.index)

    def fired(self, chunk: IntervalChunk, row: int, env: int | None) -> None:
        """Row ``row`` of ``chunk`` was applied from a prepared chunk (it supersedes the period's last one)."""
        self._pending.pop(chunk.period, None)
        self._pending[chunk.period] = (chunk, row, env)  # inserted last: the newest firing settles last

    def reset(self) -> list[tuple[Sample, int | None]]:
        """Back to the defaults: nothing applied since. Returns the start-up samples to apply again."""
        self._latest, self._pending, self._last = {}, {}, (0, 0)
        return list(self.startup)

    def forget_startup(self) -> None:
        self.startup = []

    @property
    def last(self) -> tuple[int, int]:
        """(seed, index) of the latest sample or firing applied ((0, 0) after a reset)."""
        self._settle()
        return self._last

    def record(self, env: int = 0) -> dict[str, Any]:
        """The latest value of every key for environment ``env``, flat and JSON-ready."""
        self._settle()
        out: dict[str, Any] = {}
        for key, (values, applied) in self._latest.items():
            if applied is not None and self.n_envs > 1 and applied != env:
                continue  # applied to another environment only
            v = values[env if applied is None else applied]
            out[key] = v.tolist() if isinstance(v, np.ndarray) else v.item() if isinstance(v, np.generic) else v
        return out

    def _settle(self) -> None:
        for chunk, row, env in self._pending.values():
            for key, values in chunk.values.items():
                self._latest[key] = (values[:, row], env)
            self._last = (chunk.seed, chunk.step(row))
        self._pending.clear()
