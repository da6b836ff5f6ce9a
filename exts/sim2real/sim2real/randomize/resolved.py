"""A profile resolved against a scene's entities: the units the sampler draws.

A ``ResolvedTerm`` is one term expanded over the entities its selector matches; a ``ResolvedGroup`` is a
group of members sampled jointly. Each (unit, entity) pair owns a keyed stream (streams.py), so a
unit's values never depend on another unit, and an entity's values never depend on the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, closest
from . import dists
from .draws import dist_width, width
from .schema import Group, Member, Signal, Term
from .streams import Streams
from .targets import SINGLETONS, Attribute, Target
from .check_context import Checked
from .group_checks import floors


def entity_names(entities: Mapping[str, Sequence[str]], kind: str) -> list[str]:
    """The entity names of ``kind``; singletons always exist and image effects target cameras."""
    names = list(entities.get(kind, ()))
    if not names and kind in SINGLETONS:
        return [SINGLETONS[kind]]
    if not names and kind == "image":
        return list(entities.get("camera", ()))
    return names


def resolve(target: Target, entities: Mapping[str, Sequence[str]], source: Any, key: str) -> list[str]:
    available = entity_names(entities, target.kind)
    matched = target.match(available)
    if not matched:
        listing = ", ".join(available) if available else f"none: the scene has no {target.kind} entities"
        close = closest(target.pattern, available)
        raise ConfigError(
            source,
            f"{key}.target",
            f"a selector matching at least one {target.kind} (available: {listing})",
            target.text,
            hint=f"did you mean '{target.kind}:{close}/{target.attribute.name}'?" if close else "",
        )
    return matched


@dataclass
class Stream:
    """The resolved key and stream prefix of one (unit, entity) pair."""

    entity: str
    key: str
    prefix: Any


def _streams(streams: Streams, ident: str, target: Target, names: list[str], shared: bool = False) -> list[Stream]:
    """One stream per entity; ``shared``: every entity keyed alike (an entity name is never empty), so each
    draws the same values — interval blocks, signals and ADR included, with no code of their own."""
    return [Stream(e, target.key(e), streams.prefix(ident, "" if shared else e)) for e in names]


@dataclass
class ResolvedTerm:
    ident: str
    attr: Attribute
    op: str
    dist: dists.Dist
    streams: list[Stream]
    when: str
    every: int | None
    signal: Signal | None
    _scaled: dict[float, dists.Dist] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.streams]

    def dist_at(self, scale: float) -> dists.Dist:
        if scale == 1.0:
            return self.dist
        d = self._scaled.get(scale)
        if d is None:
            d = self._scaled[scale] = self.dist.scaled(scale)
        return d

    def draw(self, draws: Any, dist: dists.Dist, out: dict[str, np.ndarray]) -> None:
        """Each entity's values from ``draws`` (``draws.KeyedDraws`` or ``draws.FiringDraws``)."""
        for s in self.streams:
            out[s.key] = draws.values(s.prefix, dist)

    def uniform_streams(self) -> list[tuple[Any, int]]:
        """(stream prefix, uniforms per environment) of a draw by inverse CDF (interval firings)."""
        return [(s.prefix, dist_width(self.dist)) for s in self.streams]


def resolve_term(
    term: Term,
    i: int,
    target: Target,
    files: list[str] | None,
    streams: Streams,
    entities: Mapping[str, Sequence[str]],
    source: Any,
) -> ResolvedTerm | None:
    """The term resolved against ``entities``; None for an optional term that matches nothing."""
    if term.optional and not target.match(entity_names(entities, target.kind)):
        return None
    names = resolve(target, entities, source, f"terms[{i}] {term.id!r}")
    attr = target.attribute
    return ResolvedTerm(
        term.id,
        attr,
        term.op_for(attr),
        term.compile(attr, files),
        _streams(streams, term.id, target, names, bool(term.shared)),
        term.when,
        term.every,
        term.signal,
    )


@dataclass
class ResolvedMember:
    name: str
    ident: str
    attr: Attribute
    op: str
    spec: Member
    dist: dists.Dist | None
    streams: list[Stream]


class ResolvedGroup:
    """Members drawn jointly: constrained members top-down, then free ones, then derived ones.

    A constraint ``a <= b`` is met exactly by conditional inverse-CDF sampling: ``b`` is drawn from
    [floor(b), high_b], where floor(b) is the least value that leaves room for everything below it,
    then ``a`` from [floor(a), min(high_a, b)]. Per-element bounds keep it vectorised and
    prefix-stable; the marginals of constrained members are no longer exactly their declared ones.
    """

    def __init__(
        self,
        group: Group,
        g: int,
        checked: Checked,
        streams: Streams,
        entities: Mapping[str, Sequence[str]],
        source: Any,
        curriculum: set[str],
    ) -> None:
        targets = checked.targets
        self.ident = group.name
        self.when, self.every = group.when, group.every
        self.members: dict[str, ResolvedMember] = {}
        for m, member in enumerate(group.members):
            ident = f"{group.name}/{member.name}"
            target = targets[ident]
            names = resolve(
                target, entities, source, f"groups[{g}] {group.name!r}.members[{m}] {member.name!r}"
            )
            dist = None if member.derive is not None else member.compile(target.attribute)
            self.members[member.name] = ResolvedMember(
                member.name,
                ident,
                target.attribute,
                member.op_for(target.attribute),
                member,
                dist,
                _streams(streams, ident, target, names),
            )
        self.constrained, self.edges = checked.constraints.get(group.name, ([], []))
        self.free = [n for n, p in self.members.items() if p.dist is not None and n not in self.constrained]
        self.derived = [n for n in checked.order[group.name] if self.members[n].dist is None]  # sources first
        self.curriculum = {n for n, p in self.members.items() if p.ident in curriculum}
        self._floors: dict[float, dict[str, Any]] = {}
        self._check_entities(g, source)

    def _check_entities(self, g: int, source: Any) -> None:
        pairs = [(a, b) for a, b in self.edges]
        pairs += [(n, self.members[n].spec.derive.source) for n in self.derived]  # type: ignore[union-attr]
        for a, b in pairs:
            ea, eb = len(self.members[a].streams), len(self.members[b].streams)
            if ea != eb and 1 not in (ea, eb):
                raise ConfigError(
                    source,
                    f"groups[{g}] {self.ident!r}",
                    f"members {a!r} and {b!r} to select the "
                    f"same number of entities or one entity (they select {ea} and {eb})",
                )
            if a in self.derived and ea == 1 and eb > 1:
                raise ConfigError(
                    source,
                    f"groups[{g}] {self.ident!r}",
                    f"derived member {a!r} to select as many "
                    f"entities as its source {b!r} ({eb}), or the source one entity",
                )

    @property
    def keys(self) -> list[str]:
        return [s.key for p in self.members.values() for s in p.streams]

    def ops(self) -> dict[str, str]:
        return {s.key: p.op for p in self.members.values() for s in p.streams}

    def _dist(self, name: str, scale: float) -> dists.Dist:
        d = self.members[name].dist
        assert d is not None
        return d.scaled(scale) if name in self.curriculum and scale != 1.0 else d

    def floors_at(self, scale: float) -> dict[str, Any]:
        if scale not in self._floors:
            compiled = {n: self._dist(n, scale) for n in self.constrained}
            self._floors[scale] = floors(self.constrained, self.edges, compiled)
        return self._floors[scale]

    def uniform_streams(self) -> list[tuple[Any, int]]:
        """(stream prefix, uniforms per environment) of every member stream that draws (interval firings)."""
        out = []
        for name, p in self.members.items():
            if name in self.constrained:
                out += [(s.prefix, width(p.attr.shape)) for s in p.streams]
            elif p.dist is None and p.spec.derive.noise_std > 0:  # type: ignore[union-attr]
                out += [(s.prefix, 2 * width(p.attr.shape)) for s in p.streams]  # normals: two uniforms each
            elif p.dist is not None:
                out += [(s.prefix, dist_width(p.dist)) for s in p.streams]
        return out

    def draw(self, draws: Any, scale: float, out: dict[str, np.ndarray]) -> None:
        """Every member's values from ``draws`` (``draws.KeyedDraws`` or ``draws.FiringDraws``), ``draws.rows``
        per stream, with the curriculum's ``scale`` on its curriculum members."""
        n = draws.rows
        values: dict[str, np.ndarray] = {}  # member -> (n, E, *shape)
        lows = self.floors_at(scale) if self.constrained else {}
        for name in self.constrained:
            plan, dist = self.members[name], self._dist(name, scale)
            u = np.stack([draws.uniform(s.prefix, plan.attr.shape) for s in plan.streams], axis=1)
            high = np.asarray(dist.high, dtype=np.float64)  # type: ignore[attr-defined]
            for lower, upper in self.edges:
                if lower == name:
                    up = values[upper]
                    if up.shape[1] != u.shape[1]:
                        up = up.min(axis=1, keepdims=True) if u.shape[1] == 1 else up
                    high = np.minimum(high, up)
            low = np.minimum(lows[name], high)  # equal up to rounding when an upper sits on its floor
            values[name] = dist.at(u, low, high)  # type: ignore[attr-defined]
        for name in self.free:
            plan, dist = self.members[name], self._dist(name, scale)
            values[name] = np.stack([draws.values(s.prefix, dist) for s in plan.streams], axis=1)
        for name in self.derived:
            plan = self.members[name]
            d = plan.spec.derive
            assert d is not None
            v = np.asarray(d.offset, dtype=np.float64) + d.scale * values[d.source]
            if v.shape[1] != len(plan.streams):
                v = np.broadcast_to(v, (n, len(plan.streams), *v.shape[2:]))
            if d.noise_std > 0:
                noise = np.stack([draws.normal(s.prefix, plan.attr.shape) for s in plan.streams], axis=1)
                v = v + d.noise_std * noise.reshape(v.shape)
            if d.clip is not None:
                v = np.clip(v, d.clip[0], d.clip[1])
            if plan.attr.nonnegative and plan.op != "add":
                v = np.maximum(v, 0.0)
            values[name] = v
        for name, plan in self.members.items():
            arr = values[name]
            for e, s in enumerate(plan.streams):
                out[s.key] = arr[:, e]
