"""The Randomizer: a profile resolved against a scene, producing Samples for each event.

Backends call it from their event hooks (start-up, reset, every physics step, every rendered
frame) and apply the Samples it returns::

    r = Randomizer(profile, seed=7, entities=backend.entities(), n_envs=1, dt=backend_dt)
    backend.apply(r.startup())
    for episode in range(n):
        backend.reset(); backend.apply(r.reset(episode))
        for step in range(1, T + 1):
            backend.step(); s = r.step(step)           # sim.driver.RandomizedSim does this from the
            if s is not None: backend.apply(s)        # physics-step callback, a chunk of firings at a time
        ...
        r.report(success)          # ADR only: the episode's performance per env

A value depends only on (profile, seed, event, index, term, entity, env) plus the curriculum phase
and the ADR ranges in force, which are part of ``state_dict()``: any sample can be regenerated from
its index by a fresh Randomizer given the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from ..fsutil import atomic_write_json
from .adr import AdrState, Change
from .curriculum import CurriculumState
from .draws import FiringDraws, KeyedDraws
from .interval import IntervalChunk, firing
from .plan import EventPlan, ResolvedProfile
from .profile import Profile
from .resolved import ResolvedTerm
from .sample import Sample
from .streams import FRAME, RESET, STARTUP, Streams

log = logging.getLogger(__name__)
STATE_FILE = "randomizer_state.json"
_CODES = {"startup": STARTUP, "reset": RESET, "frame": FRAME}


class Randomizer:
    def __init__(
        self,
        profile: Profile,
        seed: int,
        entities: Mapping[str, Sequence[str]],
        n_envs: int = 1,
        dt: float = 0.002,
    ) -> None:
        if n_envs < 1:
            raise ValueError(f"expected n_envs >= 1 (got {n_envs})")
        if not dt > 0:
            raise ValueError(f"expected a physics step dt > 0 s (got {dt})")
        self.profile, self.seed, self.n_envs, self.dt = profile, seed, n_envs, dt
        self.streams = Streams(seed)
        self.resolved = ResolvedProfile(profile, self.streams, entities, dt)
        self.signals = self.resolved.signals
        self.curriculum = CurriculumState(profile.curriculum) if profile.curriculum is not None else None
        self.adr = AdrState(profile.adr, {t.id: t for t in profile.terms}) if profile.adr is not None else None
        self._adr_prefix = self.streams.prefix("adr")
        self.episode = -1
        self._phase = 0

    @property
    def ops(self) -> dict[str, dict[str, str]]:
        """The op of every resolved key, per event."""
        return self.resolved.ops

    @property
    def skipped(self) -> list[str]:
        """Optional terms whose selector matched no entity of this scene."""
        return self.resolved.skipped

    @property
    def overridden(self) -> list[tuple[str, str, str, str]]:
        """(event, key, winning term, overridden term) for each key several terms set."""
        return self.resolved.overridden

    @property
    def periods(self) -> list[int]:
        """The physics-step periods of the interval terms."""
        return list(self.resolved.periods)

    @property
    def keys(self) -> dict[str, list[str]]:
        """Resolved keys per event (``startup``, ``reset``, ``interval``, ``frame``)."""
        return {w: list(ops) for w, ops in self.ops.items()}

    # ------------------------------------------------------------------ events
    def startup(self) -> Sample:
        """Values drawn once when the scene is loaded (``when = "startup"``)."""
        return self._sample("startup", 0, {"phase": self._phase})

    def reset(self, episode: int) -> Sample:
        """Values for episode ``episode``: reset terms, ADR boundaries, signal values at step 0."""
        self.episode = episode
        self._phase = self.curriculum.phase(episode) if self.curriculum else 0
        meta: dict[str, Any] = {"episode": episode, "phase": self._phase}
        if self.adr is not None:
            meta["adr_boundary"] = self.adr.assign(self.streams, self._adr_prefix, episode, self.n_envs).copy()
            meta["adr_ranges"] = {n: self.adr.range(n) for n in self.adr.names}
        sample = self._sample("reset", episode, meta)
        for ident, run in self.signals.items():
            base = {st.key: sample.values[st.key] for st in run.own}
            scale = self._phase_scale() if ident in self.resolved.scaled else 1.0
            run.start(self.streams, episode, base, run.unit.dist_at(scale), self.n_envs, scale)
            sample.values.update(run.values(0))  # type: ignore[attr-defined]
        return sample

    def interval(self, period: int, first: int, count: int) -> IntervalChunk:
        """Firings ``first .. first + count - 1`` of this episode's interval terms of ``period``, for every
        environment at once. A firing's values depend on (episode, firing) alone, however many are drawn."""
        episode = max(self.episode, 0)
        plan = self.resolved.plan("interval", self._phase_scale(), period=period, n_envs=self.n_envs)
        assert plan.layout is not None
        flat: dict[str, np.ndarray] = {}
        self._fill(plan, FiringDraws(self.streams, plan.layout, episode, first, count), flat)
        values = {k: v.reshape(self.n_envs, count, *v.shape[1:]) for k, v in flat.items()}
        ops = {k: self.resolved.step_ops[k] for k in values}
        return IntervalChunk(self.seed, period, episode, first, count, self.n_envs, values, ops)

    def step(self, step: int) -> Sample | None:
        """After physics step ``step`` (1-based since the last reset): the interval terms due now and the
        current values of time-varying terms; None when nothing changes at this step."""
        values: dict[str, np.ndarray] = {}
        for period in self.resolved.periods:
            number = firing(step, period)
            if number is not None:
                values.update(self.interval(period, number, 1).row(0))
        varying = self.varying(step)
        if varying is not None:
            values.update(varying.values)
        return self.step_sample(step, values)

    def varying(self, step: int) -> Sample | None:
        """The values of the time-varying (signal) terms due after physics step ``step``."""
        if step < 1:
            raise ValueError(f"expected a physics step index >= 1 since the reset (got {step})")
        values: dict[str, np.ndarray] = {}
        if self.episode >= 0:
            for run in self.signals.values():
                if run.due(step):
                    values.update(run.values(step))
        return self.step_sample(step, values)

    def step_sample(self, step: int, values: dict[str, np.ndarray]) -> Sample | None:
        """The Sample of the step values applied after physics step ``step`` (None when there are none)."""
        if not values:
            return None
        ops = {k: self.resolved.step_ops[k] for k in values}
        return Sample(self.seed, step, "step", self.n_envs, values, ops, {"episode": self.episode})

    def frame(self, index: int) -> Sample:
        """Values for rendered frame ``index`` (``when = "frame"``, e.g. image noise and blur)."""
        return self._sample("frame", index, {"episode": self.episode, "phase": self._phase})

    def _sample(self, when: str, index: int, meta: dict[str, Any]) -> Sample:
        adr = self.adr.names if self.adr is not None and when == "reset" else ()
        plan = self.resolved.plan(when, self._phase_scale(), adr, n_envs=self.n_envs)
        values: dict[str, Any] = dict.fromkeys(plan.keys)  # the draws fill them in, in the plan's order
        self._fill(plan, KeyedDraws(self.streams, _CODES[when], index, 0, self.n_envs), values)
        if plan.block is not None:
            plan.block.fill(self.streams, _CODES[when], index, values)
        return Sample(self.seed, index, when, self.n_envs, values, self.ops[when], meta)

    def _fill(self, plan: EventPlan, draws: Any, out: dict[str, np.ndarray]) -> None:
        """Draw a plan's values (the hot loop: one keyed stream per (term, entity))."""
        scale, adr = self._phase_scale(), self.adr
        for item in plan.draws:
            item.fill(draws, out, scale, adr)

    def _phase_scale(self) -> float:
        return self.curriculum.scales[self._phase] if self.curriculum is not None else 1.0

    # ------------------------------------------------------------------ placement (sim.placement)
    def placed_terms(self) -> dict[str, Any]:
        """``object:<e>/position`` keys drawn at reset by a term that places them clear of the others
        (``no_overlap``, on unless false; a ``shared`` position stays one draw for all), each with its term."""
        terms = {t.id: t for t in self.profile.terms}
        out = {}
        for key in self.ops["reset"]:
            unit = self.resolved.owner("reset", key)
            term = terms.get(unit.ident) if isinstance(unit, ResolvedTerm) else None
            if key.startswith("object:") and key.endswith("/position") and term is not None \
                    and term.no_overlap is not False and not term.shared and self._redrawable(unit):
                out[key] = term
        return out

    def _redrawable(self, unit: ResolvedTerm) -> bool:
        return unit.signal is None and not (self.adr is not None and unit.ident in self.adr.names)

    def redraw(self, key: str, episode: int, attempt: int) -> np.ndarray:
        """Alternative ``attempt`` (>= 1) of reset key ``key``'s value in ``episode``, ``(n_envs, *shape)``:
        its term's distribution from the key's own stream at sub-index ``attempt`` (the first draw is
        sub-index 0), so redrawing one value changes no other (a key of ``placed_terms``)."""
        unit = self.resolved.owner("reset", key)
        assert isinstance(unit, ResolvedTerm) and self._redrawable(unit), key
        prefix = next(s.prefix for s in unit.streams if s.key == key)
        scale = self._phase_scale() if unit.ident in self.resolved.scaled else 1.0
        return KeyedDraws(self.streams, RESET, episode, attempt, self.n_envs).values(prefix, unit.dist_at(scale))

    # ------------------------------------------------------------------ curriculum and ADR
    def set_phase(self, phase: int | None) -> None:
        """Fix the curriculum phase (None: follow the episode index again)."""
        if self.curriculum is None:
            raise ConfigError(self.profile.source, "curriculum", "a [curriculum] table to set a phase on")
        self.curriculum.set_phase(phase)

    def report(self, performance: Any, envs: Sequence[int] | None = None) -> list[Change]:
        """ADR: the performance of the episode that just ended, per env (or for ``envs``)."""
        if self.adr is None:
            raise ConfigError(self.profile.source, "adr", "an [adr] table to report performance to")
        return self.adr.report(performance, envs)

    def state_dict(self) -> dict[str, Any]:
        return {
            "profile_hash": self.profile.hash,
            "seed": self.seed,
            "episode": self.episode,
            "curriculum": self.curriculum.state_dict() if self.curriculum else None,
            "adr": self.adr.state_dict() if self.adr else None,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("profile_hash") not in (None, self.profile.hash):
            raise InputError(
                f"randomizer state is for profile {state.get('profile_hash')}, "
                f"not {self.profile.hash}; it cannot be restored onto another profile"
            )
        try:
            if self.curriculum is not None and state.get("curriculum") is not None:
                self.curriculum.load_state_dict(state["curriculum"])
            if self.adr is not None and state.get("adr") is not None:
                self.adr.load_state_dict(state["adr"])
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise InputError(f"randomizer state does not fit this profile: {exc}") from None
        self.episode = int(state.get("episode", -1))

    def save_state(self, directory: str | PathLike[str]) -> Path:
        """Write the curriculum and ADR state into a run folder (atomically)."""
        return atomic_write_json(Path(directory) / STATE_FILE, self.state_dict())

    def load_state(self, directory: str | PathLike[str]) -> bool:
        """Restore a state saved by ``save_state``; False when the folder has none yet."""
        import json

        path = Path(directory) / STATE_FILE
        if not path.is_file():
            return False
        try:
            state = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: unreadable randomizer state ({exc})") from None
        self.load_state_dict(state)
        return True
