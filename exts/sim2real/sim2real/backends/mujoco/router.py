"""Where each sampled key goes: the applier that owns its kind of target, planned once per key set.

The samples of an event share their keys and operations, so the routing (and its validation: the
target is supported, the entity exists) is done once per distinct ``(keys, ops)`` and cached as a
``Plan``. Physics keys, and the bodies of object slots, are written through ``tables.FieldTables``
(one store per row); every other key through its applier's ``apply``, in key order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import UnsupportedError, UserError
from ...randomize.interval import IntervalChunk
from ...randomize.sample import Capabilities, Sample
from ...randomize.targets import CATALOGUE, split_key
from . import cameras, objects, physics, signals, visuals
from . import state as state_targets
from .loader import Appliers
from .tables import FieldTables

_TABLES = (physics.TARGETS, objects.TARGETS, visuals.TARGETS, cameras.TARGETS, signals.TARGETS,
           state_targets.TARGETS)
Write = Callable[[Mapping[str, np.ndarray], Mapping[str, str], int], None]


def supported_targets() -> frozenset[tuple[str, str]]:
    """(kind, attribute) pairs some applier owns and profiles can name (``randomize.targets.CATALOGUE``)."""
    pairs = {(kind, attr) for table in _TABLES for kind, attrs in table.items() for attr in attrs}
    return frozenset(pairs & {(a.kind, a.name) for a in CATALOGUE})


@dataclass(frozen=True)
class Route:
    """One key and the applier that owns it."""

    owner: Any
    kind: str
    entity: str
    attr: str
    op: str
    key: str


@dataclass
class Plan:
    tabular: list[Route]  # written through field tables
    writes: list[Write]  # the others, in key order
    sensors: bool  # the sample sets sensor noise: reseed its generator
    slot_bound: bool  # tables hold object slots' bodies: they follow the slots' assets and scales
    tables: tuple[int, FieldTables] | None = None  # (Objects.generation they were made for, tables)


class Router:
    """Routes sampled keys to ``parts``' appliers and writes them (``write``, ``prepare``)."""

    def __init__(self, parts: Appliers, capabilities: Capabilities, backend: str) -> None:
        self.parts, self.capabilities, self.backend = parts, capabilities, backend
        owners = [(physics.TARGETS, parts.physics), (objects.TARGETS, parts.objects),
                  (cameras.TARGETS, parts.cameras), (signals.TARGETS, parts.signals),
                  (state_targets.TARGETS, parts.dynamic_state), ({"light": visuals.TARGETS["light"]}, parts.lights),
                  ({"material": visuals.TARGETS["material"]}, parts.materials)]
        self._routes = {(kind, attr): owner for table, owner in owners for kind, attrs in table.items()
                        for attr in attrs}
        self._plans: dict[tuple[tuple[str, ...], tuple[str, ...]], Plan] = {}

    def write(self, sample: Sample, env: int) -> None:
        """Write environment ``env`` of ``sample`` into the appliers (not flushed into the model yet)."""
        plan = self.plan(tuple(sample.values), sample.ops)
        tables = self.tables(plan)
        if tables is not None:
            tables.write(tables.tables({k: sample.values[k][env:env + 1] for k in tables.keys}), 0)
        for write in plan.writes:
            write(sample.values, sample.ops, env)
        if plan.sensors:
            self.parts.signals.noise.rng = np.random.default_rng(
                [sample.seed % 2**63, sample.index % 2**63, env, 0x5E])

    def prepare(self, chunk: IntervalChunk, env: int, apply: Callable[[Sample, int], None],
                fired: Callable[[IntervalChunk, int, int], None]) -> Callable[[int], None]:
        """``fire(k)`` for the chunk's rows: the tabulated keys stored straight into the model, the rest
        through ``apply``; ``fired`` is told of each row written without ``apply``."""
        plan = self.plan(tuple(chunk.values), chunk.ops)
        tables = self.tables(plan)
        if tables is None:
            return lambda k: apply(chunk.sample(k), env)
        rows = tables.tables({k: chunk.values[k][env] for k in tables.keys})
        tabulated = set(tables.keys)
        rest = [k for k in chunk.values if k not in tabulated]
        objs, world = self.parts.objects, self.parts.world
        generation = objs.generation

        def fire(k: int) -> None:
            if plan.slot_bound and objs.generation != generation:  # a slot changed asset or scale
                apply(chunk.sample(k), env)
                return
            tables.write(rows, k)
            if rest:
                apply(chunk.sample(k, rest), env)  # (refreshes the constants too)
            else:
                world.refresh_constants()
            fired(chunk, k, env)

        return fire

    def plan(self, keys: tuple[str, ...], ops: Mapping[str, str]) -> Plan:
        """Where each key goes, validated once per distinct key set and operations. Bodies of object
        slots go through the tables unless the sample also changes objects (then, in key order: a mass
        drawn with a new asset belongs to that asset)."""
        signature = (keys, tuple([ops.get(k, "set") for k in keys]))
        plan = self._plans.get(signature)
        if plan is None:
            plan = self._plans[signature] = self._make_plan(keys, ops)
        return plan

    def _make_plan(self, keys: tuple[str, ...], ops: Mapping[str, str]) -> Plan:
        entities = self.parts.entities()
        routed = [self._route(key, ops.get(key, "set"), entities) for key in keys]
        objs = self.parts.objects
        objects_change = any(r.owner is objs and r.kind != "body" for r in routed)
        tabular = [r for r in routed if r.owner is self.parts.physics
                   or (r.owner is objs and r.kind == "body" and not objects_change)]
        writes = [_single(r) for r in routed if r not in tabular]
        return Plan(tabular, writes, any(r.kind == "sensor" for r in routed), any(r.owner is objs for r in tabular))

    def _route(self, key: str, op: str, entities: dict[str, list[str]]) -> Route:
        try:
            kind, entity, attr = split_key(key)
        except ValueError:
            raise UserError(f"{key}: expected a resolved key kind:entity/attribute") from None
        self.capabilities.require(self.backend, [(kind, attr)], source=key)
        owner = self._routes[(kind, attr)]
        if kind == "body" and entity in self.parts.objects.slots and attr in objects.SLOT_BODY_ATTRS:
            owner = self.parts.objects
        known = entities.get(kind, [])
        if entity not in known:
            raise UnsupportedError(f"{key}: no {kind} named {entity!r} in {self.parts.world.scene.path.name}; "
                                   f"known: {', '.join(known) or 'none'}")
        return Route(owner, kind, entity, attr, op, key)

    def tables(self, plan: Plan) -> FieldTables | None:
        """The plan's field tables, made again when they hold slot bodies and a slot changed asset or scale."""
        if not plan.tabular:
            return None
        generation = self.parts.objects.generation if plan.slot_bound else 0
        if plan.tables is None or plan.tables[0] != generation:
            elements = [(r.key, r.owner.elements(r.kind, r.entity, r.attr, r.op, r.key)) for r in plan.tabular]
            plan.tables = (generation, FieldTables(self.parts.world, elements))
        return plan.tables[1]


def _single(route: Route) -> Write:
    owner, kind, entity, attr, key = route.owner, route.kind, route.entity, route.attr, route.key

    def write(values: Mapping[str, np.ndarray], ops: Mapping[str, str], env: int) -> None:
        value = values[key][env]
        owner.apply(kind, entity, attr, value.item() if isinstance(value, np.generic) else value,
                    ops.get(key, "set"), key)
    return write
