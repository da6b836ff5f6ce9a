"""A profile resolved against a scene: what each event draws, in which order, and who owns each key.

``ResolvedProfile`` expands every term and group over the scene's entities (``resolved.py``), decides
which term holds a key several of them set (the later one: general terms first, exceptions after, as
calibrated profiles are written), and keeps each event's ``EventPlan``: the draws in order, as small
dataclasses that each know how to fill their values (``TermDraw`` for a term's entities, ``GroupDraw``
for a group drawn jointly, ``AdrDraw`` for a term whose range ADR moves). Plans are cached per curriculum
scale; an interval period's plan also holds the ``FiringLayout`` its firings are hashed with, and a keyed
event's plan (start-up, reset, frame) the ``KeyedBlock`` its continuous terms draw into (block.py).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from .block import KeyedBlock, stackable
from .dists import Dist, Uniform
from .draws import FiringLayout, dist_width
from .profile import Profile
from .resolved import ResolvedGroup, ResolvedTerm, resolve_term
from .signals import SignalRun
from .streams import Streams
from .curriculum_checks import curriculum_applies

log = logging.getLogger(__name__)
EVENTS = ("startup", "reset", "interval", "frame")
Unit = ResolvedTerm | ResolvedGroup


@dataclass(frozen=True, slots=True)
class TermDraw:
    """A term on the entities whose keys no later term overrides: their keys, streams and the term's
    distribution (at the plan's curriculum scale)."""

    keys: tuple[str, ...]
    prefixes: tuple[Any, ...]
    dist: Dist

    def fill(self, draws: Any, out: dict[str, np.ndarray], scale: float, adr: Any) -> None:
        for key, values in zip(self.keys, draws.term(self.prefixes, self.dist), strict=True):
            out[key] = values

    def uniform_streams(self) -> list[tuple[Any, int]]:
        return [(p, dist_width(self.dist)) for p in self.prefixes]

    def written(self) -> tuple[str, ...]:
        return self.keys


@dataclass(frozen=True, slots=True)
class GroupDraw:
    """A group's members, drawn jointly (the curriculum's scale on its curriculum members)."""

    unit: ResolvedGroup

    def fill(self, draws: Any, out: dict[str, np.ndarray], scale: float, adr: Any) -> None:
        self.unit.draw(draws, scale, out)

    def uniform_streams(self) -> list[tuple[Any, int]]:
        return self.unit.uniform_streams()

    def written(self) -> tuple[str, ...]:
        return tuple(self.unit.keys)


@dataclass(frozen=True, slots=True)
class AdrDraw:
    """A term whose range ADR moves (reset only): drawn from the current range, then pinned at a boundary
    for the environments ADR is evaluating."""

    unit: ResolvedTerm

    def fill(self, draws: Any, out: dict[str, np.ndarray], scale: float, adr: Any) -> None:
        self.unit.draw(draws, Uniform(*adr.range(self.unit.ident)), out)
        adr.pin(self.unit.ident, out, self.unit.keys)

    def written(self) -> tuple[str, ...]:
        return tuple(self.unit.keys)


Draw = TermDraw | GroupDraw | AdrDraw


@dataclass(frozen=True)
class EventPlan:
    """An event's draws in order. A keyed event's continuous terms draw into ``block`` instead, after
    ``draws`` (a later term wins a key, and only the later of two writers can be in the block); ``keys`` is
    the sample's key order, the order the draws first write them in."""

    draws: tuple[Draw, ...]
    layout: FiringLayout | None = None  # interval periods: the streams their firings hash, in one pass
    block: KeyedBlock | None = None
    keys: tuple[str, ...] = ()


class ResolvedProfile:
    """``profile`` resolved against ``entities`` (see the module docstring)."""

    def __init__(self, profile: Profile, streams: Streams, entities: Mapping[str, Sequence[str]], dt: float) -> None:
        self.profile, self.source = profile, profile.source
        self.units: dict[str, list[Unit]] = {w: [] for w in EVENTS}
        self.skipped: list[str] = []  # optional terms whose selector matched no entity of this scene
        cur = profile.curriculum
        self.scaled = {i for i in profile.checked.targets if cur is not None and curriculum_applies(cur, i)}
        self._expand(streams, entities)
        self.overridden: list[tuple[str, str, str, str]] = []  # (event, key, winning term, overridden term)
        self._owner: dict[str, dict[str, Unit]] = {}
        self.ops = {w: self._resolve(w, units) for w, units in self.units.items()}
        self.signals = self._signal_runs(dt)
        step_units = self.units["interval"] + [r.unit for r in self.signals.values()]
        self.step_ops = self._resolve("step", step_units, signals={s.key for r in self.signals.values() for s in r.own})
        self.periods = self._interval_periods()
        self._plans: dict[tuple[str, int | None, float], EventPlan] = {}

    def _expand(self, streams: Streams, entities: Mapping[str, Sequence[str]]) -> None:
        checked = self.profile.checked
        for i, term in enumerate(self.profile.terms):
            unit = resolve_term(term, i, checked.targets[term.id], checked.files.get(term.id), streams, entities,
                                self.source)
            if unit is None:
                self.skipped.append(term.id)
                log.info("optional term %r (%s) matches nothing in this scene; skipped", term.id, term.target)
                continue
            self.units[term.when].append(unit)
        for g, group in enumerate(self.profile.groups):
            self.units[group.when].append(ResolvedGroup(group, g, checked, streams, entities, self.source,
                                                        self.scaled))

    def _signal_runs(self, dt: float) -> dict[str, SignalRun]:
        """The time-varying terms, each on the entities whose value no later reset term overrides."""
        runs = {}
        for u in self.units["reset"]:
            if isinstance(u, ResolvedTerm) and u.signal is not None:
                run = SignalRun(u, dt)
                run.own = [s for s in u.streams if self._owner["reset"][s.key] is u]
                if run.own:
                    runs[u.ident] = run
        return runs

    def _interval_periods(self) -> dict[int, list[Unit]]:
        """Interval units by period (physics steps between firings). Terms of different periods may
        not set one value: which one holds would depend on the step."""
        periods: dict[int, list[Unit]] = {}
        setters: dict[str, tuple[int, str]] = {}
        for u in self.units["interval"]:
            period = int(u.every or 1)
            periods.setdefault(period, []).append(u)
            for key in u.keys:
                other = setters.setdefault(key, (period, u.ident))
                if other[0] != period:
                    raise ConfigError(self.source, f"{u.ident!r}", f"every = {other[0]}, the period of the interval "
                                      f"term {other[1]!r}, which also sets {key}", period)
        return periods

    def _resolve(self, when: str, units: list[Unit], signals: Collection[str] = ()) -> dict[str, str]:
        """The op of every key at an event. When several terms set one value, the later one wins
        (terms in file order, then groups): general terms first, exceptions after — how calibrated
        terms (Profile.calibrated) override the broad ones. Between physics steps, an interval term
        and a time-varying term may not share a value (which one holds would depend on the step)."""
        ops: dict[str, str] = {}
        owner: dict[str, Unit] = {}
        for u in units:
            unit_ops = u.ops() if isinstance(u, ResolvedGroup) else {k: u.op for k in u.keys}
            for key, op in unit_ops.items():
                if when == "step" and key not in signals and _varies(u):
                    continue  # a signal's value overridden at reset does not vary
                prev = owner.get(key)
                if prev is not None and when == "step" and _varies(prev) != _varies(u):
                    varying, interval = (prev, u) if _varies(prev) else (u, prev)
                    raise ConfigError(self.source, f"{interval.ident!r}", f"no interval term setting {key}, which "
                                      f"the time-varying term {varying.ident!r} also sets")
                if prev is not None and when != "step":  # (between intervals, "interval" recorded it)
                    self.overridden.append((when, key, u.ident, prev.ident))
                    log.info("%s: %r overrides %r for %s", when, u.ident, prev.ident, key)
                owner[key], ops[key] = u, op
        self._owner[when] = owner
        return ops

    def owner(self, when: str, key: str) -> Unit | None:
        """The unit whose value of ``key`` holds at event ``when`` (None: no unit sets it)."""
        return self._owner[when].get(key)

    def plan(self, when: str, scale: float, adr: Collection[str] = (), period: int | None = None,
             n_envs: int = 1) -> EventPlan:
        """The event's draws in order for ``n_envs`` environments (``interval``: one period's, with its
        firing layout; a keyed event: with its block), for the curriculum ``scale``; only the keys no later
        term overrides are drawn. ``adr``: the terms ADR moves (reset only)."""
        cached = self._plans.get((when, period, scale))
        if cached is not None:
            return cached
        owner, draws = self._owner[when], []
        for u in self.units[when] if period is None else self.periods[period]:
            if isinstance(u, ResolvedGroup):
                draws.append(GroupDraw(u))
            elif u.ident in adr:
                draws.append(AdrDraw(u))
            else:
                own = [s for s in u.streams if owner[s.key] is u]
                if own:
                    dist = u.dist_at(scale if u.ident in self.scaled else 1.0)
                    draws.append(TermDraw(tuple(s.key for s in own), tuple(s.prefix for s in own), dist))
        if period is not None:
            pairs = [pair for d in draws for pair in d.uniform_streams()]  # type: ignore[union-attr]
            plan = EventPlan(tuple(draws), FiringLayout([p for p, _ in pairs], [w for _, w in pairs], n_envs))
        else:
            plan = _keyed_plan(draws, n_envs)
        self._plans[(when, period, scale)] = plan
        return plan


def _keyed_plan(draws: list[Draw], n_envs: int) -> EventPlan:
    """A keyed event's plan: its continuous terms in a block, the other draws in order."""
    stacked = [d for d in draws if isinstance(d, TermDraw) and stackable(d.dist)]
    rows = [(k, p, d.dist) for d in stacked for k, p in zip(d.keys, d.prefixes, strict=True)]
    rest = tuple(d for d in draws if not any(d is s for s in stacked))
    keys = tuple(dict.fromkeys(k for d in draws for k in d.written()))
    return EventPlan(rest, block=KeyedBlock(rows, n_envs) if rows else None, keys=keys)


def _varies(u: Unit) -> bool:
    return isinstance(u, ResolvedTerm) and u.signal is not None
