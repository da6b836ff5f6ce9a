"""The Randomizer: a profile resolved against a scene, producing Samples for each event.

Backends call it from their event hooks (start-up, reset, every physics step, every rendered
frame) and apply the Samples it returns::

    r = Randomizer(profile, seed=7, entities=backend.entities(), n_envs=1, dt=backend_dt)
    backend.apply(r.startup())
    for episode in range(n):
        backend.reset(); backend.apply(r.reset(episode))
        for step in range(1, T + 1):
            backend.step(); s = r.step(step)
            if s is not None: backend.apply(s)
        ...
        r.report(success)          # ADR only: the episode's performance per env

A value depends only on (profile, seed, event, index, term, entity, env) plus the curriculum phase
and the ADR ranges in force, which are part of ``state_dict()``: any sample can be regenerated from
its index by a fresh Randomizer given the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from ..fsutil import atomic_write_json
from .adr import AdrState, Change
from .curriculum import CurriculumState
from .dists import Uniform
from .interval import BLOCK, IntervalBlock, firing_row
from .profile import Profile
from .sample import Sample
from .signals import SignalRun
from .streams import FRAME, INTERVAL, RESET, STARTUP, Streams
from .units import GroupUnit, TermUnit, term_unit
from .validate import curriculum_applies

log = logging.getLogger(__name__)
STATE_FILE = "randomizer_state.json"
_CODES = {"startup": STARTUP, "reset": RESET, "interval": INTERVAL, "frame": FRAME}


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
        checked, source = profile.checked, profile.source
        cur = profile.curriculum
        in_cur = {i for i in checked.targets if cur is not None and curriculum_applies(cur, i)}
        self.units: dict[str, list[TermUnit | GroupUnit]] = {w: [] for w in _CODES}
        self.skipped: list[str] = []  # optional terms whose selector matched no entity of this scene
        for i, term in enumerate(profile.terms):
            unit = term_unit(
                term, i, checked.targets[term.id], checked.files.get(term.id), self.streams, entities, source
            )
            if unit is None:
                self.skipped.append(term.id)
                log.info("optional term %r (%s) matches nothing in this scene; skipped", term.id, term.target)
                continue
            self.units[term.when].append(unit)
        for g, group in enumerate(profile.groups):
            self.units[group.when].append(
                GroupUnit(group, g, checked, self.streams, entities, source, in_cur)
            )
        self.scaled = in_cur
        self.signals = {
            u.ident: SignalRun(u, dt)
            for u in self.units["reset"]
            if isinstance(u, TermUnit) and u.signal is not None
        }
        self.curriculum = CurriculumState(cur) if cur is not None else None
        self.adr = (
            AdrState(profile.adr, {t.id: t for t in profile.terms}) if profile.adr is not None else None
        )
        self._adr_prefix = self.streams.prefix("adr")
        self.overridden: list[tuple[str, str, str, str]] = []  # (event, key, winning term, overridden term)
        self._owner: dict[str, dict[str, TermUnit | GroupUnit]] = {}
        self.ops = {w: self._resolve(w, units) for w, units in self.units.items()}
        for ident, run in list(self.signals.items()):
            run.own = [s for s in run.unit.streams if self._owner["reset"][s.key] is run.unit]
            if not run.own:
                del self.signals[ident]
        step_units = self.units["interval"] + [r.unit for r in self.signals.values()]
        self._step_ops = self._resolve(
            "step", step_units, signals={s.key for r in self.signals.values() for s in r.own}
        )
        self._plans: dict[tuple[str, int | None, float], list[Any]] = {}
        self._periods = self._interval_periods()
        self._blocks: dict[int, IntervalBlock] = {}  # the current block of each period
        self._pending: dict[int, tuple[IntervalBlock, int]] = {}  # firings not yet merged into _latest
        self.episode = -1
        self._phase = 0
        self._latest: dict[str, np.ndarray] = {}

    def _interval_periods(self) -> dict[int, list[TermUnit | GroupUnit]]:
        """Interval units by period (physics steps between firings). Terms of different periods may
        not set one value: which one holds would depend on the step."""
        periods: dict[int, list[TermUnit | GroupUnit]] = {}
        setters: dict[str, tuple[int, str]] = {}
        for u in self.units["interval"]:
            period = int(u.every or 1)
            periods.setdefault(period, []).append(u)
            for key in u.keys:
                other = setters.setdefault(key, (period, u.ident))
                if other[0] != period:
                    raise ConfigError(
                        self.profile.source,
                        f"{u.ident!r}",
                        f"every = {other[0]}, the period of the interval term {other[1]!r}, which also "
                        f"sets {key}",
                        period,
                    )
        return periods

    def _resolve(
        self, when: str, units: list[TermUnit | GroupUnit], signals: Collection[str] = ()
    ) -> dict[str, str]:
        """The op of every key at an event. When several terms set one value, the later one wins
        (terms in file order, then groups): general terms first, exceptions after — how calibrated
        terms (Profile.calibrated) override the broad ones. Between physics steps, an interval term
        and a time-varying term may not share a value (which one holds would depend on the step)."""
        ops: dict[str, str] = {}
        owner: dict[str, TermUnit | GroupUnit] = {}
        for u in units:
            unit_ops = u.ops() if isinstance(u, GroupUnit) else {k: u.op for k in u.keys}
            for key, op in unit_ops.items():
                if when == "step" and key not in signals and isinstance(u, TermUnit) and u.signal is not None:
                    continue  # a signal's value overridden at reset does not vary
                prev = owner.get(key)
                if prev is not None and when == "step" and _varies(prev) != _varies(u):
                    varying, interval = (prev, u) if _varies(prev) else (u, prev)
                    raise ConfigError(
                        self.profile.source,
                        f"{interval.ident!r}",
                        f"no interval term setting "
                        f"{key}, which the time-varying term {varying.ident!r} also sets",
                    )
                if prev is not None and when != "step":  # (between intervals, "interval" recorded it)
                    self.overridden.append((when, key, u.ident, prev.ident))
                    log.info("%s: %r overrides %r for %s", when, u.ident, prev.ident, key)
                owner[key], ops[key] = u, op
        self._owner[when] = owner
        return ops

    # ------------------------------------------------------------------ events
    def startup(self) -> Sample:
        """Values drawn once when the scene is loaded (``when = "startup"``)."""
        return self._sample("startup", 0, 0, {"phase": self._phase})

    def reset(self, episode: int) -> Sample:
        """Values for episode ``episode``: reset terms, ADR boundaries, signal values at step 0."""
        self.episode = episode
        self._phase = self.curriculum.phase(episode) if self.curriculum else 0
        meta: dict[str, Any] = {"episode": episode, "phase": self._phase}
        if self.adr is not None:
            meta["adr_boundary"] = self.adr.assign(
                self.streams, self._adr_prefix, episode, self.n_envs
            ).copy()
            meta["adr_ranges"] = {n: self.adr.range(n) for n in self.adr.names}
        sample = self._sample("reset", episode, 0, meta)
        for ident, run in self.signals.items():
            base = {st.key: sample.values[st.key] for st in run.own}
            scale = self._phase_scale() if ident in self.scaled else 1.0
            run.start(self.streams, episode, base, run.unit.dist_at(scale), self.n_envs, scale)
            sample.values.update(run.values(0))  # type: ignore[attr-defined]
        # a reset restores the scene's defaults: the last episode's step values no longer hold
        self._pending.clear()
        self._blocks.clear()
        keep = self.ops["startup"].keys() | self.ops["frame"].keys()
        self._latest = {k: v for k, v in self._latest.items() if k in keep}
        self._remember(sample)
        return sample

    def step(self, step: int) -> Sample | None:
        """After physics step ``step`` (1-based since the last reset): interval terms due now and the
        current values of time-varying terms; None when nothing changes at this step."""
        values: dict[str, np.ndarray] = {}
        for block, k in self.due(step):
            values.update(block.row(k))
        varying = self.varying(step)
        if varying is not None:
            values.update(varying.values)
        if not values:
            return None
        ops = {k: self._step_ops[k] for k in values}
        # (recorded already: due() keeps its firings pending, varying() remembered its sample)
        return Sample(self.seed, step, "step", self.n_envs, values, ops, {"episode": self.episode})

    def due(self, step: int) -> list[tuple[IntervalBlock, int]]:
        """The interval terms due after physics step ``step``: (block, row) per period that fires.

        What ``step`` returns for them is ``block.row(row)``; a backend may instead prepare a whole
        block's writes once (``Backend.prepare_interval``). Either way they count as applied."""
        if step < 1:
            raise ValueError(f"expected a physics step index >= 1 since the reset (got {step})")
        out = []
        for period in self._periods:
            at = firing_row(step, period)
            if at is None:
                continue
            number, k = at
            block = self._blocks.get(period)
            if block is None or block.index != number:
                block = self._blocks[period] = self._draw_block(period, number)
            self._pending.pop(period, None)  # re-inserted last: the newest firing settles last
            self._pending[period] = (block, k)
            out.append((block, k))
        return out

    def varying(self, step: int) -> Sample | None:
        """The values of the time-varying (signal) terms due after physics step ``step``."""
        if step < 1:
            raise ValueError(f"expected a physics step index >= 1 since the reset (got {step})")
        values: dict[str, np.ndarray] = {}
        if self.episode >= 0:
            for run in self.signals.values():
                if run.due(step):
                    values.update(run.values(step))
        if not values:
            return None
        ops = {k: self._step_ops[k] for k in values}
        sample = Sample(self.seed, step, "step", self.n_envs, values, ops, {"episode": self.episode})
        self._remember(sample)
        return sample

    def _draw_block(self, period: int, number: int) -> IntervalBlock:
        """``BLOCK`` firings of the period's units at once: each stream fills ``(n_envs * BLOCK, ...)``
        environment-major, so environment i's firings never depend on how many environments there are."""
        episode, n = max(self.episode, 0), self.n_envs
        flat: dict[str, np.ndarray] = {}
        self._fill(self._plan("interval", period), INTERVAL, episode, number, n * BLOCK, flat)
        values = {k: v.reshape(n, BLOCK, *v.shape[1:]) for k, v in flat.items()}
        ops = {k: self._step_ops[k] for k in values}
        return IntervalBlock(self.seed, period, episode, number, n, values, ops)

    def frame(self, index: int) -> Sample:
        """Values for rendered frame ``index`` (``when = "frame"``, e.g. image noise and blur)."""
        return self._sample("frame", index, 0, {"episode": self.episode, "phase": self._phase})

    def _sample(self, when: str, index: int, sub: int, meta: dict[str, Any]) -> Sample:
        values: dict[str, np.ndarray] = {}
        self._fill(self._plan(when), _CODES[when], index, sub, self.n_envs, values)
        sample = Sample(self.seed, index, when, self.n_envs, values, self.ops[when], meta)
        if when != "reset":
            self._remember(sample)
        return sample

    def _fill(self, plan: list[Any], code: int, index: int, sub: int, n: int, out: dict[str, np.ndarray]) -> None:
        """Draw a plan's values, ``n`` rows per stream (the hot loop: one keyed stream per (term, entity))."""
        generator = self.streams.generator
        for item in plan:
            if item.__class__ is tuple:
                key, prefix, dist = item
                out[key] = dist.draw(generator(prefix, code, index, sub), n)
            else:
                self._draw(item, code, index, sub, out, n)

    def _draw(
        self, u: TermUnit | GroupUnit, code: int, index: int, sub: int, out: dict[str, np.ndarray],
        n: int | None = None,
    ) -> None:
        """``n`` rows per stream (default: one per environment)."""
        n = self.n_envs if n is None else n
        if isinstance(u, GroupUnit):  # the group applies the phase's scale to its curriculum members
            u.draw(self.streams, code, index, sub, n, self._phase_scale(), out)
            return
        scale = self._phase_scale() if u.ident in self.scaled else 1.0
        if self.adr is not None and u.ident in self.adr.params and code == RESET:
            u.draw(self.streams, code, index, sub, n, Uniform(*self.adr.range(u.ident)), out)
            self.adr.pin(u.ident, out, u.keys)
        else:
            u.draw(self.streams, code, index, sub, n, u.dist_at(scale), out)

    def _plan(self, when: str, period: int | None = None) -> list[Any]:
        """The event's draws in order (interval: one period's), cached per curriculum scale: plain
        (key, stream prefix, distribution) tuples for terms — only the keys no later term overrides —
        and whole units for groups and ADR terms."""
        scale = self._phase_scale()
        plan = self._plans.get((when, period, scale))
        if plan is None:
            plan = []
            owner = self._owner[when]
            adr = set(self.adr.names) if self.adr is not None and when == "reset" else set()
            for u in self.units[when] if period is None else self._periods[period]:
                if isinstance(u, GroupUnit) or u.ident in adr:
                    plan.append(u)
                else:
                    dist = u.dist_at(scale if u.ident in self.scaled else 1.0)
                    plan.extend((s.key, s.prefix, dist) for s in u.streams if owner[s.key] is u)
            self._plans[(when, period, scale)] = plan
        return plan

    def _phase_scale(self) -> float:
        return self.curriculum.scales[self._phase] if self.curriculum is not None else 1.0

    def _remember(self, sample: Sample) -> None:
        self._settle()
        self._latest.update(sample.values)

    def _settle(self) -> None:
        """Merge the interval firings since the last sample into ``_latest`` (kept as (block, row)
        until a record needs them: a firing costs no per-key work)."""
        for block, k in self._pending.values():
            self._latest.update(block.row(k))
        self._pending.clear()

    # ------------------------------------------------------------------ records
    def record(self, env: int = 0) -> dict[str, Any]:
        """The latest value of every randomized key for env ``env``: what the world looks like now.

        Datasets store this with every frame: the start-up values, this episode's reset values, the
        step values since, and the last frame's values, merged."""
        self._settle()
        return Sample(self.seed, 0, "record", self.n_envs, self._latest, {}).record(env)

    @property
    def keys(self) -> dict[str, list[str]]:
        """Resolved keys per event (``startup``, ``reset``, ``interval``, ``frame``)."""
        return {w: list(ops) for w, ops in self.ops.items()}

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
        self._blocks.clear()

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


def _varies(u: TermUnit | GroupUnit) -> bool:
    return isinstance(u, TermUnit) and u.signal is not None
