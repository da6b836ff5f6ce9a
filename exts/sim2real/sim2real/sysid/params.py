"""Which parameters to identify, named as randomization targets (``kind:pattern/attribute``).

The same names as profiles (``body:upper_arm/mass``, ``joint:*/damping``, ``actuator:*/kp``,
``actuator:*/latency``, ``sensor:shoulder_pos/bias``), so an estimate becomes a profile term without
translation. A pattern expands to one parameter per matched entity, or to one shared value with
``tied = true`` (the default for ``latency``: one command bus, one delay).

Each parameter is optimised in the space of its operation: ``scale`` (the default of physical
attributes) is a factor on the model's value, ``set`` an absolute value, ``add`` an offset. Where
each one is applied:

* ``model``: geom friction, body mass (inertia scaled with it), joint damping / armature /
  friction loss / stiffness, actuator kp / kv / gear — written into the model by the simulator;
* ``command``: ``actuator/latency`` (physics steps, fractional while fitting) and ``actuator/gain_error``
  (a factor on the commands) — applied to the command sequence;
* ``output``: ``sensor/bias`` — added to the simulated sensor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Literal

from pydantic import Field, StrictBool, StrictStr

from ..config import StrictModel, load_model
from ..errors import ConfigError, InputError
from ..randomize.schema import Name, Num, Pair
from ..randomize.targets import attribute, parse_target, resolved_key
from ..sim.rollout import Simulator

Route = Literal["model", "command", "output"]
COMMAND_ATTRS = {("actuator", "latency"), ("actuator", "gain_error")}
OUTPUT_ATTRS = {("sensor", "bias")}
MODEL_ATTRS = {
    ("geom", "friction"), ("geom", "torsional_friction"), ("geom", "rolling_friction"), ("body", "mass"),
    ("joint", "damping"), ("joint", "armature"), ("joint", "frictionloss"), ("joint", "stiffness"),
    ("actuator", "kp"), ("actuator", "kv"), ("actuator", "gear"),
}
IDENTIFIABLE = MODEL_ATTRS | COMMAND_ATTRS | OUTPUT_ATTRS
SCALE_BOUNDS = (0.1, 10.0)  # default bounds of a factor
MAX_LATENCY_S = 0.25  # default upper bound of a delay


class ParamSpec(StrictModel):
    """One entry of a parameters file (``[[params]]``)."""

    target: StrictStr
    name: Name | None = None
    op: Literal["set", "scale", "add"] | None = None  # default: the attribute's (scale for physics)
    init: Num | None = None  # default: the model's value (factor 1, offset 0)
    bounds: Pair | None = None
    tied: StrictBool | None = None  # one value for every matched entity (default: only for latency)


class ParamsFile(StrictModel):
    params: list[ParamSpec] = Field(min_length=1)


@dataclass
class Param:
    """A resolved parameter: the keys it sets, where it acts, its start value and bounds."""

    name: str
    keys: list[str]
    kind: str
    attr: str
    op: str
    init: float
    low: float
    high: float
    unit: str  # unit of the value being fitted
    route: Route
    defaults: list[float] = field(default_factory=list)  # the model's value of each key (absolute)
    target: str = ""  # tied over several entities: the selector that matched them (one profile term)

    @property
    def tied(self) -> bool:
        return len(self.keys) > 1

    def absolute(self, value: float) -> list[float]:
        """The attribute's value at each key for a fitted ``value`` (absolute units)."""
        if self.op == "scale":
            return [d * value for d in self.defaults]
        if self.op == "add":
            return [d + value for d in self.defaults]
        return [value for _ in self.defaults]


def parse_params(text_or_path: str | PathLike[str]) -> list[ParamSpec]:
    """A ``.toml`` parameters file, or targets separated by commas (``body:*/mass,joint:*/damping``)."""
    path = Path(text_or_path)
    if path.suffix.lower() == ".toml":
        if not path.is_file():
            raise InputError(f"{path}: no such parameters file")
        return load_model(path, ParamsFile).params
    targets = [t.strip() for t in str(text_or_path).split(",") if t.strip()]
    if not targets:
        raise ConfigError(None, "--params", "a .toml file or targets such as 'body:*/mass,joint:*/damping'", str(text_or_path))
    return [ParamSpec(target=t) for t in targets]


def resolve_params(specs: Sequence[ParamSpec], sim: Simulator, source: str | None = None,
                   channel_spread: Mapping[str, float] | None = None) -> list[Param]:
    """Expand patterns over the simulator's entities; every mistake is one ``ConfigError`` naming the
    parameter. ``channel_spread``: peak-to-peak of each measured channel (default bias bounds)."""
    entities = sim.entities()
    out: list[Param] = []
    seen: dict[str, str] = {}
    for i, spec in enumerate(specs):
        key = f"params[{i}] {spec.target!r}"
        try:
            target = parse_target(spec.target)
        except ValueError as exc:
            raise ConfigError(source, key, str(exc).removeprefix("expected ")) from None
        kind, attr = target.kind, target.attribute.name
        if (kind, attr) not in IDENTIFIABLE:
            known = ", ".join(sorted(f"{k}:*/{a}" for k, a in IDENTIFIABLE))
            raise ConfigError(source, key, f"a parameter identifiable from robot logs ({known})", spec.target)
        if (kind, attr) in MODEL_ATTRS and not sim.supports(kind, attr):
            raise ConfigError(source, key, f"a parameter the {sim.name} simulator can apply", spec.target)
        names = entities.get(kind, [])
        matched = target.match(names)
        if not matched:
            raise ConfigError(source, key, f"a {kind} name of {sim.name} (known: {', '.join(names) or 'none'})",
                              spec.target)
        op = spec.op or target.attribute.default_op
        tied = spec.tied if spec.tied is not None else attr == "latency"
        groups = [matched] if tied else [[e] for e in matched]
        for group in groups:
            keys = [resolved_key(kind, e, attr) for e in group]
            name = spec.name or (spec.target if tied and len(group) > 1 else keys[0])
            if len(groups) > 1 and spec.name:
                name = f"{spec.name}[{group[0]}]"
            for k in keys:
                if k in seen:
                    raise ConfigError(source, key, f"each key identified once ({k} is already in {seen[k]!r})")
                seen[k] = name
            p = _param(name, keys, kind, attr, op, spec, sim, source, key, channel_spread or {})
            p.target = spec.target if len(keys) > 1 else keys[0]
            out.append(p)
    return out


def _param(name: str, keys: list[str], kind: str, attr: str, op: str, spec: ParamSpec, sim: Simulator,
           source: str | None, where: str, spread: Mapping[str, float]) -> Param:
    route: Route = "command" if (kind, attr) in COMMAND_ATTRS else "output" if (kind, attr) in OUTPUT_ATTRS else "model"
    defaults = [_neutral_default(k, kind, attr, sim) for k in keys]
    meta = attribute(kind, attr)
    unit = "×" if op == "scale" else ("physics steps" if attr == "latency" else (meta.unit if meta else ""))
    if attr == "bias":  # in the unit of the sensor it offsets
        sensor = keys[0].split(":", 1)[1].rsplit("/", 1)[0]
        unit = next((c.unit for c in sim.channels() if c.sensor == sensor), "")
    if op == "scale" and not any(defaults):
        raise ConfigError(source, f"{where}.op", f"'set' or 'add' for {kind}/{attr} (its default is "
                          f"0; a factor on it changes nothing)", op)
    neutral = {"scale": 1.0, "add": 0.0}.get(op, defaults[0])
    init = float(spec.init) if spec.init is not None else neutral
    if spec.bounds is not None:
        low, high = (float(b) for b in spec.bounds)
    else:
        low, high = _default_bounds(kind, attr, op, defaults, sim, keys, spread)
    if not low <= init <= high or low == high:
        raise ConfigError(source, f"{where}.init", f"a start value inside the bounds [{low:g}, {high:g}]", init)
    return Param(name, keys, kind, attr, op, init, low, high, unit, route, defaults)


def _neutral_default(key: str, kind: str, attr: str, sim: Simulator) -> float:
    """The value the model has without the parameter: its own for model attributes, none of a
    delay or bias, unit gain."""
    if (kind, attr) in MODEL_ATTRS:
        return sim.default(key)
    return 1.0 if attr == "gain_error" else 0.0


def _default_bounds(kind: str, attr: str, op: str, defaults: list[float], sim: Simulator, keys: list[str],
                    spread: Mapping[str, float]) -> tuple[float, float]:
    if attr == "latency":
        return 0.0, float(max(1, math.ceil(MAX_LATENCY_S / sim.dt)))
    if attr == "bias":
        width = max([spread.get(k.split(":", 1)[1].rsplit("/", 1)[0], 0.0) for k in keys] + [1e-6])
        return -width, width
    if op == "scale":
        return SCALE_BOUNDS
    if op == "add":
        width = max(abs(d) for d in defaults) or 1.0
        return -width, width
    top = max(abs(d) for d in defaults)
    return 0.0, (SCALE_BOUNDS[1] * top if top > 0 else 1.0)
