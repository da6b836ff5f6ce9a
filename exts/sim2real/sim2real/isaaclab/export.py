"""A profile as Isaac Lab event terms: which terms map (mapping.py), with what parameters.

Each profile term (and each plain group member) is matched against the roles of its target; the
first role that takes its operation, distribution and event wins. Terms whose Isaac Lab function
takes several of our attributes at once (a material's frictions and restitution, a joint reset's
position and velocity, a root reset's pose, a wrench's force and torque) are merged per selector and
event; the merged term is named after its members joined by ``__`` (which the importer splits).

Distributions: uniform, log-uniform and normal map to Isaac Lab's ``uniform``, ``log_uniform``,
``gaussian``; a constant is a uniform range of zero width. Isaac Lab has no truncated normal:
``truncnormal="uniform"`` (default) exports the truncation interval as a uniform range (the support is
kept: no value outside the range sysid identified, the spread widens), ``"gaussian"`` its mean and std
(the spread is kept, values can leave the range). Either is listed as an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError, UserError
from ..randomize.profile import Profile
from ..randomize.spellings import ISAACLAB_DIST, ISAACLAB_OP
from ..randomize.targets import Target
from . import mapping, names
from .mapping import FUNCS, Role
from .terms import Entity, IsaacTerm, Left, Translation

TruncPolicy = Literal["uniform", "gaussian"]


@dataclass
class Options:
    asset: str = "robot"  # the scene entity every body/joint/geom/actuator selector belongs to
    physics_dt: float | None = None  # seconds per physics step: interval terms need it
    truncnormal: TruncPolicy = "uniform"
    entities: dict[str, list[str]] | None = None  # object names, to expand object patterns


@dataclass
class _Spec:
    """A profile term or group member with what the mapping needs."""

    name: str
    target: Target
    when: str
    every: int | None
    dist: str
    a: Any  # low | mean
    b: Any  # high | std
    op: str
    origin: str = ""  # the profile term's name (``name`` gains the asset when a pattern is expanded)
    signal: str = ""  # the kind of its time variation, if any (not exported)

    def __post_init__(self) -> None:
        self.origin = self.origin or self.name


@dataclass
class Exported(Translation):
    terms: list[IsaacTerm] | None = None


def export_profile(profile: Profile, options: Options | None = None) -> Exported:
    opts = options or Options()
    out = Exported(terms=[])
    specs = _specs(profile, opts, out)
    placed: list[tuple[Role, _Spec, Entity | None]] = []
    for spec in specs:
        role = _role(spec, out)
        if role is None:
            continue
        entities = _entities(role, spec, opts, out)
        for entity in entities:
            named = (
                spec
                if len(entities) == 1 or entity is None
                else replace(spec, name=f"{spec.name} {entity.asset}")
            )
            placed.append((role, named, entity))
    taken: set[str] = set()
    for group in _merged(placed):
        out.terms.append(_term(group, opts, taken, out))  # type: ignore[union-attr]
    out.approximations = list(dict.fromkeys(out.approximations))  # one line per (term, target, reason)
    for section in ("curriculum", "adr"):
        if getattr(profile, section) is not None:
            out.skipped.append(
                Left(
                    section,
                    "",
                    "not exported: Isaac Lab schedules ranges with curriculum "
                    "terms (CurriculumTermCfg), configured apart from events",
                )
            )
    return out


# ---------------------------------------------------------------------- profile side
def _specs(profile: Profile, opts: Options, out: Translation) -> list[_Spec]:
    specs = []
    items: list[tuple[str, Any, str, int | None, bool]] = [
        (t.id, t, t.when, t.every, t.signal is not None) for t in profile.terms
    ]
    for g in profile.groups:
        for m in g.members:
            ident = f"{g.name}/{m.name}"
            if m.derive is not None or g.constraints:
                why = (
                    "a derived (correlated) member"
                    if m.derive is not None
                    else f"group constraint {g.constraints}"
                )
                out.skipped.append(
                    Left(ident, m.target, f"{why}: Isaac Lab draws every parameter independently")
                )
                continue
            items.append((ident, m, g.when, g.every, False))
    for ident, spec, when, every, varies in items:
        target = profile.checked.targets[ident]
        reason = _unsupported(target, when, spec.dist)
        if getattr(spec, "shared", None):  # group members have no such field
            reason = "one draw shared by every entity it selects (a tied parameter): Isaac Lab draws each independently"
        if reason:
            out.skipped.append(Left(ident, spec.target, reason))
            continue
        made = _spec(ident, spec, target, when, every, opts, out)
        made.signal = spec.signal.kind if varies else ""
        specs.append(made)
    return specs


def _unsupported(target: Target, when: str, dist: str) -> str:
    kind, attr = target.kind, target.attribute.name
    if not mapping.roles_for(kind, attr):
        return mapping.unexpressible_reason(kind, attr)
    if when == "frame":
        return "fires every rendered frame: Isaac Lab has no per-frame event"
    if dist == "choice":
        return "a choice among values: Isaac Lab's event functions draw from uniform, log-uniform or gaussian ranges"
    return ""


def _spec(
    ident: str, spec: Any, target: Target, when: str, every: int | None, opts: Options, out: Translation
) -> _Spec:
    op = spec.op_for(target.attribute)
    if spec.dist == "constant":
        return _Spec(ident, target, when, every, "uniform", spec.value, spec.value, op)
    if spec.dist == "truncnormal":
        if opts.truncnormal == "gaussian":
            out.approximations.append(
                Left(
                    ident,
                    spec.target,
                    "truncated normal exported as Isaac Lab's gaussian "
                    "(mean, std): values can leave [low, high]",
                )
            )
            return _Spec(ident, target, when, every, "normal", spec.mean, spec.std, op)
        out.approximations.append(
            Left(
                ident,
                spec.target,
                f"truncated normal exported as uniform on its interval [{spec.low}, {spec.high}]",
            )
        )
        return _Spec(ident, target, when, every, "uniform", spec.low, spec.high, op)
    if spec.dist == "normal":
        return _Spec(ident, target, when, every, "normal", spec.mean, spec.std, op)
    return _Spec(ident, target, when, every, spec.dist, spec.low, spec.high, op)


def _role(spec: _Spec, out: Translation) -> Role | None:
    roles = mapping.roles_for(spec.target.kind, spec.target.attribute.name)
    for role in roles:
        if spec.op in role.ops and spec.dist in role.dists and spec.when in role.events:
            return role
    offers = "; ".join(
        f"{r.func} takes op {'/'.join(sorted(r.ops))}, {'/'.join(sorted(r.dists))} "
        f"at {'/'.join(sorted(r.events))}"
        for r in roles
    )
    out.skipped.append(
        Left(spec.name, spec.target.text, f"op {spec.op}, {spec.dist} at {spec.when}: {offers}")
    )
    return None


def _entities(role: Role, spec: _Spec, opts: Options, out: Translation) -> list[Entity | None]:
    func, pattern = FUNCS[role.func], spec.target.pattern
    if func.selector == "none":
        return [None]
    if func.selector == "asset":
        if names.is_literal(pattern):
            return [Entity(pattern)]
        known = (opts.entities or {}).get(spec.target.kind)
        if known is None:
            out.skipped.append(
                Left(
                    spec.name,
                    spec.target.text,
                    "an object pattern names several assets; Isaac "
                    "Lab's SceneEntityCfg names one: give the scene's entities (--entities or --scene) to expand it",
                )
            )
            return []
        return [Entity(name) for name in spec.target.match(known)]  # one Isaac Lab term per asset
    regex = None if pattern == "*" else (names.glob_to_regex(pattern),)
    if spec.target.kind == "geom":
        out.approximations.append(
            Left(
                spec.name,
                spec.target.text,
                "Isaac Lab sets materials per body: the geom pattern is used as the bodies' names",
            )
        )
    if func.selector == "joint":
        return [Entity(opts.asset, joint_names=regex)]
    return [Entity(opts.asset, body_names=regex)]


def _merged(placed: list[tuple[Role, _Spec, Entity | None]]) -> list[list[tuple[Role, _Spec, Entity | None]]]:
    """Terms of one Isaac Lab term: mergeable ones by (function, entity, event), a slot taken twice
    starting a new term; the rest one each. Order: first appearance."""
    groups: list[list[tuple[Role, _Spec, Entity | None]]] = []
    open_: dict[tuple[Any, ...], int] = {}
    for item in placed:
        role, spec, entity = item
        if not FUNCS[role.func].merge:
            groups.append([item])
            continue
        key = (role.func, entity, spec.when, spec.every)
        i = open_.get(key)
        slots = {(r.params, r.axes) for r, _, _ in groups[i]} if i is not None else set()
        if i is None or (role.params, role.axes) in slots:
            open_[key] = len(groups)
            groups.append([item])
        else:
            groups[i].append(item)
    for g in groups:
        order = [r for r in mapping.ROLES]
        g.sort(key=lambda it: order.index(it[0]))
    return groups


# ---------------------------------------------------------------------- Isaac Lab side
def _term(
    group: list[tuple[Role, _Spec, Entity | None]], opts: Options, taken: set[str], out: Translation
) -> IsaacTerm:
    role0, spec0, entity = group[0]
    func = FUNCS[role0.func]
    params: dict[str, Any] = {}
    if entity is not None:
        params["asset_cfg"] = entity
    for role, spec, _ in group:
        _put(params, role, spec)
    if func.operation:
        params["operation"] = ISAACLAB_OP[spec0.op]
    if func.distribution:
        params["distribution"] = ISAACLAB_DIST[spec0.dist]
    params.update(func.fixed)
    if role0.func == "randomize_rigid_body_material":
        params["make_consistent"] = any(r.attr == "friction" for r, _, _ in group)
    for key, value in func.neutral.items():
        if key not in params:
            params[key] = value
            if role0.func == "randomize_rigid_body_material":
                out.approximations.append(
                    Left(
                        spec0.origin,
                        spec0.target.text,
                        f"{key} not in the profile: written as PhysX's default {value}",
                    )
                )
    name = names.identifier("__".join(s.name for _, s, _ in group), taken)
    mode = func.mode.get(spec0.when) or mapping.MODES[spec0.when]
    term = IsaacTerm(name, role0.func, mode, params, _interval(spec0, opts), [s.name for _, s, _ in group])
    for role, spec, _ in group:
        if spec.signal:
            out.approximations.append(
                Left(
                    spec.origin,
                    spec.target.text,
                    f"its {spec.signal} variation during "
                    "the episode is not exported (Isaac Lab holds a value until the next "
                    "draw); the draw at reset is",
                )
            )
        if role.note:
            out.approximations.append(Left(spec.origin, spec.target.text, role.note))
    check_params(term)
    return term


def _put(params: dict[str, Any], role: Role, spec: _Spec) -> None:
    """Write the spec's range into its parameter(s) in the role's shape."""
    shape = spec.target.attribute.shape
    if role.shape == "pair":
        a, b = _scalar(spec.a, spec), _scalar(spec.b, spec)
        for p in role.params:
            params[p] = (a, b)
        return
    if role.shape == "vectors":
        n = shape[0] if shape else 3
        params[role.params[0]] = (_vector(spec.a, n), _vector(spec.b, n))
        return
    lows, highs = _vector(spec.a, len(role.axes)), _vector(spec.b, len(role.axes))
    ranges = params.setdefault(role.params[0], {})
    for axis, lo, hi in zip(role.axes, lows, highs, strict=True):
        ranges[axis] = (lo, hi)


def _scalar(v: Any, spec: _Spec) -> float:
    arr = np.unique(np.asarray(v, dtype=float))
    if arr.size != 1:
        raise UserError(
            f"{spec.name}: {spec.target.text}: Isaac Lab takes one range for every component "
            f"here; expected equal components (got {v})"
        )
    return float(arr[0])


def _vector(v: Any, n: int) -> list[float]:
    return [float(x) for x in np.broadcast_to(np.asarray(v, dtype=float), (n,))]


def _interval(spec: _Spec, opts: Options) -> tuple[float, float] | None:
    if spec.when != "interval":
        return None
    if opts.physics_dt is None:
        raise ConfigError(
            None,
            spec.name,
            "--physics-dt (seconds per physics step) to write 'every "
            f"{spec.every} physics steps' as Isaac Lab's interval_range_s",
        )
    seconds = float(spec.every or 1) * opts.physics_dt
    return (seconds, seconds)


def check_params(term: IsaacTerm) -> None:
    """Every parameter exists in Isaac Lab's signature and every required one is given (Isaac Lab's
    own check in ManagerBase._resolve_common_term_cfg); a failure here is a bug of the mapping."""
    sig = names.signature(term.func)
    if sig is None:
        raise AssertionError(f"{term.func} is not an event function of Isaac Lab {names.version()}")
    known = {p.name for p in sig}
    missing = [p.name for p in sig if p.required and p.name not in term.params]
    unknown = sorted(set(term.params) - known)
    if missing or unknown:
        raise AssertionError(f"{term.name}: {term.func} missing {missing}, unknown {unknown}")
