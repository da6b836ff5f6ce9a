"""``RandomizedSim``: a Backend driven by a Randomizer, as Isaac Sim's event manager drives a scene.

* ``start()``: the start-up terms, once (the backend keeps them across resets);
* ``reset(episode)``: the backend's defaults, then the episode's reset terms, objects placed clear of
  each other (``placement.py``) and, with the profile's ``settle_steps``, that many physics steps;
* physics steps: interval terms and time-varying (signal) terms are applied from the backend's
  physics-step callback, so they land between physics steps exactly as Isaac Sim's physics callbacks
  apply them, whoever steps the simulation;
* ``render(camera, index)``: the frame's terms (image effects, per-frame jitter), then the Frame.

The interval firings come from its ``IntervalSchedule`` (``schedule.py``), a chunk of firings at a time;
a backend that ``PreparesInterval`` turns each chunk into model writes once. The callback is registered
to fire only every ``period`` steps (the gcd of the profile's interval and signal periods), so a backend
can run the steps in between in one engine call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..errors import UnsupportedError
from ..randomize.interval import IntervalChunk
from ..randomize.sample import Sample
from .backend import Backend, PreparesInterval
from .placement import DescribesFootprints, place
from .rendered_frame import Frame
from .schedule import CHUNK, Firing, IntervalSchedule

log = logging.getLogger(__name__)


class RandomizedSim:
    def __init__(self, backend: Backend, randomizer: Any, env: int | None = 0, chunk: int = CHUNK) -> None:
        """``randomizer``: a ``sim2real.randomize.runtime.Randomizer`` built on ``backend.entities()``
        with ``dt = backend.dt``; ``env``: which of its environments this backend simulates (None: all
        of them, for backends that simulate several, such as Isaac Sim's cloned environments);
        ``chunk``: interval firings drawn at once (a cache size: it changes no value)."""
        if abs(randomizer.dt - backend.dt) > 1e-12:
            raise ValueError(f"the randomizer's dt ({randomizer.dt} s) differs from the backend's physics "
                             f"step ({backend.dt} s): signals would run at the wrong speed")
        self.backend, self.randomizer, self.env = backend, randomizer, env
        self.schedule = IntervalSchedule(randomizer, chunk)
        self.period = self.schedule.period
        self.episode = -1
        self._prepares = isinstance(backend, PreparesInterval)
        self._varies = bool(randomizer.signals)  # any time-varying terms (else no signal work per firing)
        self._prepared: dict[int, tuple[IntervalChunk, Callable[[int], None]]] = {}  # period -> its chunk's fire
        self._startup: Sample | None = None
        self._placed, self._footprints = self._placement()
        self.settle_steps = randomizer.profile.settle_steps or 0
        if self.period is not None:
            backend.add_step_callback(self._on_step, every=self.period)

    def _placement(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The position keys to keep apart and the backend's slot shapes (None: nothing to place)."""
        placed = self.randomizer.placed_terms()
        if not placed:
            return {}, None
        if isinstance(self.backend, DescribesFootprints):
            footprints = self.backend.footprints()
            return {k: t for k, t in placed.items() if k.split(":", 1)[1].rsplit("/", 1)[0] in footprints}, footprints
        asked = sorted({t.id for t in placed.values() if t.no_overlap})
        if asked:
            raise UnsupportedError(f"{self.randomizer.profile.source}: terms {asked[0]!r}: the {self.backend.name} "
                                   "backend cannot place objects clear of each other (no_overlap = true); remove it "
                                   "or use the mujoco backend")
        log.info("%s backend: object positions are not checked for overlap (it has no footprints)", self.backend.name)
        return {}, None

    def start(self) -> Sample:
        sample = self._startup = self.randomizer.startup()
        self.backend.apply(sample, self.env)
        return sample

    def reset(self, episode: int) -> Sample:
        self.backend.reset()
        sample = self.randomizer.reset(episode)
        if self._footprints is not None:
            envs = range(sample.n_envs) if self.env is None else range(self.env, self.env + 1)
            place(sample, self._startup, self._footprints, self.randomizer, self._placed, envs)
        self.backend.apply(sample, self.env)
        self.episode = episode
        self.schedule.start()
        self._prepared.clear()
        if self.settle_steps:
            self.backend.step(self.settle_steps)  # interval and time-varying terms fire as in any step
        return sample

    def step(self, n: int = 1) -> None:
        self.backend.step(n)

    def _on_step(self, step: int, time_s: float) -> None:
        if self.episode < 0:
            return  # signals and interval terms start with the first episode
        firings = self.schedule.due(step)
        if self._prepares:
            for f in firings:
                self._fire(f.chunk)(f.row)
            sample = self.randomizer.varying(step) if self._varies else None
        else:
            sample = self._step_sample(step, firings)
        if sample is not None:
            self.backend.apply(sample, self.env)

    def _step_sample(self, step: int, firings: list[Firing]) -> Sample | None:
        """The firings and the time-varying values after ``step`` as one Sample (``Randomizer.step``'s)."""
        values = {}
        for f in firings:
            values.update(f.chunk.row(f.row))
        varying = self.randomizer.varying(step) if self._varies else None
        if varying is not None:
            values.update(varying.values)
        return self.randomizer.step_sample(step, values)

    def _fire(self, chunk: IntervalChunk) -> Callable[[int], None]:
        prepared = self._prepared.get(chunk.period)
        if prepared is None or prepared[0] is not chunk:
            fire = self.backend.prepare_interval(chunk, self.env)  # type: ignore[attr-defined]
            prepared = self._prepared[chunk.period] = (chunk, fire)
        return prepared[1]

    def render(self, camera: str | None = None, index: int = 0) -> Frame:
        """Apply frame ``index``'s terms, render, and label the Frame with that index."""
        self.backend.apply(self.randomizer.frame(index), self.env)
        frame = self.backend.render(camera)
        frame.index = index
        return frame

    def close(self) -> None:
        """Detach from the backend (the backend itself stays open)."""
        if self.period is not None:
            self.backend.remove_step_callback(self._on_step)
