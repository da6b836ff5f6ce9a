"""Isaac Lab event terms (read by reader.py) as a sim2real profile: the reverse of export.py.

Each term's function is looked up in mapping.py; every role of that function whose parameter the term
gives becomes one of our terms (a material term with static and dynamic friction of equal ranges is
one ``friction`` term). Parameters at their no-op value (an offset of zero, a factor of one, an empty
range dict) give no term. A merged term named ``a__b`` (as export.py names them) gives terms ``a`` and
``b``; otherwise members are named ``<term>.<attribute>``.

Selectors: a ``SceneEntityCfg`` of the main asset (``asset``, default ``robot``) gives our pattern from
its ``body_names`` / ``joint_names`` (regular expressions turned into globs; all names when absent);
another asset without names gives its own name as the pattern (a rigid object is one body), and
object targets always use the asset's name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..randomize.profile import Profile, parse_profile
from ..randomize.spellings import FROM_ISAACLAB_DIST, FROM_ISAACLAB_OP
from . import mapping, names
from .mapping import FUNCS, Role
from .reader import ReadTerm, read_module
from .terms import Entity, IsaacTerm, Left, Translation


@dataclass
class Imported(Translation):
    profile: Profile | None = None
    class_name: str = ""
    terms_read: int = 0


def import_module(
    path: str | Path,
    *,
    asset: str = "robot",
    physics_dt: float | None = None,
    class_name: str | None = None,
    skip_unsupported: bool = False,
) -> Imported:
    """Read ``path`` statically and translate its event terms; ``skip_unsupported`` lists terms we
    cannot express (unknown functions, appearance events, ...) instead of failing on the first."""
    path = Path(path)
    cls, read = read_module(path, class_name)
    out = Imported(class_name=cls, terms_read=len(read))
    terms: list[dict[str, Any]] = []
    for item in read:
        where = f"{path}:{item.term.line}"
        reason = _unsupported(item)
        if reason:
            if not skip_unsupported:
                raise ConfigError(
                    where,
                    f"{cls}.{item.term.name}",
                    f"an event term sim2real can express; {reason} "
                    "(--skip-unsupported lists such terms and goes on)",
                    item.term.func,
                )
            out.skipped.append(Left(item.term.name, item.term.func, reason))
            continue
        if item.error is not None:
            raise item.error
        terms += _translate(item, where, asset, physics_dt, out)
    data = {
        "version": 1,
        "name": path.stem,
        "terms": terms,
        "description": f"Imported from {path.name} ({cls}) by `sim2real profile import --from isaaclab`.",
    }
    out.profile = parse_profile(data, source=path)
    return out


def _unsupported(item: ReadTerm) -> str:
    func = item.term.func
    if names.signature(func) is None:
        return f"{func} is not an event function of Isaac Lab {names.version()} (a task's own function?)"
    if func == "reset_scene_to_default":
        return "sim2real's reset restores every default already"
    if func not in FUNCS:
        return f"{func} has no sim2real counterpart (see docs/isaaclab.md)"
    return ""


def _translate(
    item: ReadTerm, where: str, asset: str, physics_dt: float | None, out: Translation
) -> list[dict]:
    term = item.term
    params = _with_defaults(term, where)
    func = FUNCS[term.func]
    roles = [r for r in mapping.ROLES if r.func == term.func]
    _check_axes(term, params, roles, where)
    op = FROM_ISAACLAB_OP[_choice(params, "operation", FROM_ISAACLAB_OP, where)] if func.operation else None
    dist = (
        FROM_ISAACLAB_DIST[_choice(params, "distribution", FROM_ISAACLAB_DIST, where)]
        if func.distribution
        else "uniform"
    )
    timing = _timing(term, where, physics_dt, out)
    _notes(term, params, out)
    found = _found(term, params, roles, op, dist, out)
    member_names = term.name.split("__")
    out_terms = []
    for i, (role, value, role_op) in enumerate(found):
        name = (
            member_names[i]
            if len(member_names) == len(found)
            else (term.name if len(found) == 1 else f"{term.name}.{role.attr}")
        )
        for pattern, only in _patterns(role, params.get("asset_cfg"), asset, where):
            out_terms.append(
                {
                    "name": name if only else f"{name} {pattern}",
                    "target": _target(role, pattern),
                    "op": role_op,
                    **timing,
                    **_dist_fields(dist, value),
                }
            )
        if role.note:
            out.approximations.append(Left(name, term.func, role.note))
    return out_terms


def _found(
    term: IsaacTerm, params: dict[str, Any], roles: list[Role], op: str | None, dist: str, out: Translation
) -> list[tuple[Role, Any, str]]:
    """(role, value, our op) for every role of the function the term gives a value for."""
    func = FUNCS[term.func]
    found: list[tuple[Role, Any, str]] = []
    used: set[str] = set()
    neutral = (
        func.neutral if term.func != "randomize_rigid_body_material" else {}
    )  # a material's are no no-ops
    for role in roles:
        value = _role_value(role, params, used, neutral)
        if value is None:
            continue
        role_op = op or next(iter(role.ops))  # without an ``operation`` parameter a role has one op
        if role_op not in role.ops or dist not in role.dists:
            out.skipped.append(
                Left(
                    term.name,
                    f"{role.kind}/{role.attr}",
                    f"op {role_op}, {dist}: sim2real's "
                    f"{role.kind}/{role.attr} maps to {role.func} only with op "
                    f"{'/'.join(sorted(role.ops))}, {'/'.join(sorted(role.dists))}",
                )
            )
            continue
        found.append((role, value, role_op))
    return found


def _with_defaults(term: IsaacTerm, where: str) -> dict[str, Any]:
    sig = names.signature(term.func) or []
    known = {p.name for p in sig}
    unknown = sorted(set(term.params) - known)
    missing = [p.name for p in sig if p.required and p.name not in term.params]
    if unknown or missing:
        key = f"{term.name}.params.{(unknown or missing)[0]}"
        raise ConfigError(
            where,
            key,
            f"the parameters of {term.func} in Isaac Lab {names.version()}: "
            f"{', '.join(p.name for p in sig)} (required: "
            f"{', '.join(p.name for p in sig if p.required)})",
            "unknown" if unknown else "missing",
        )
    params = dict(term.params)
    for p in sig:
        if p.name not in params and p.default is not None:
            params[p.name] = _default(p.default)
    return params


def _default(text: str) -> Any:
    """A default's source text as a value (``SceneEntityCfg('robot')`` -> Entity)."""
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Call):
        return Entity(ast.literal_eval(node.args[0]))
    return ast.literal_eval(node)


def _choice(params: dict[str, Any], key: str, table: dict[str, str], where: str) -> str:
    value = params.get(key)
    if value not in table:
        raise ConfigError(where, key, f"one of {', '.join(table)}", value)
    return str(value)


def _timing(term: IsaacTerm, where: str, physics_dt: float | None, out: Translation) -> dict:
    when = mapping.FROM_MODES.get(term.mode)
    if when is None:
        raise ConfigError(where, f"{term.name}.mode", f"one of {', '.join(mapping.FROM_MODES)}", term.mode)
    if when != "interval":
        return {"when": when}
    if term.interval_range_s is None or physics_dt is None:
        raise ConfigError(
            where,
            f"{term.name}.interval_range_s",
            "an interval term's interval_range_s and "
            "--physics-dt (seconds per physics step) to turn it into physics steps",
        )
    lo, hi = (float(v) for v in term.interval_range_s)
    if lo != hi:
        out.approximations.append(
            Left(
                term.name,
                term.func,
                f"Isaac Lab draws each interval in [{lo}, {hi}] s; "
                f"sim2real fires every {(lo + hi) / 2:g} s (the middle)",
            )
        )
    return {"when": "interval", "every": max(1, round((lo + hi) / 2 / physics_dt))}


def _notes(term: IsaacTerm, params: dict[str, Any], out: Translation) -> None:
    notes = []
    if term.func == "randomize_rigid_body_material":
        notes.append(
            f"Isaac Lab draws num_buckets={params.get('num_buckets')} materials once and assigns them "
            "at random; sim2real draws a value per environment"
        )
    if params.get("recompute_inertia") is False:
        notes.append("recompute_inertia=False: sim2real always scales the inertia with the mass")
    if term.func == "randomize_rigid_body_mass" and params.get("min_mass") not in (None, 1e-6):
        notes.append(f"min_mass={params['min_mass']} is not carried over")
    out.approximations += [Left(term.name, term.func, n) for n in notes]


def _role_value(role: Role, params: dict[str, Any], used: set[str], neutral: dict[str, Any]) -> Any:
    """The term's value for this role, or None (absent, already taken, or a no-op)."""
    values = [params.get(p) for p in role.params]
    if any(v is None for v in values) or any(p in used and role.shape != "axes" for p in role.params):
        return None
    if len(values) > 1 and any(v != values[0] for v in values):
        return None  # friction: static and dynamic ranges differ, so they are two terms
    value: Any = values[0]
    if role.shape == "axes":
        ranges = [tuple(value.get(a, (0.0, 0.0))) for a in role.axes]
        if all(r == (0.0, 0.0) for r in ranges) and role.ops == {"add"}:
            return None  # no offset on any of its axes: a no-op
        value = ([r[0] for r in ranges], [r[1] for r in ranges])
    elif role.params[0] in neutral and tuple(value) == tuple(neutral[role.params[0]]):
        return None
    used.update(role.params)
    return value


def _check_axes(term: IsaacTerm, params: dict[str, Any], roles: list[Role], where: str) -> None:
    """Isaac Lab ignores a range dict's unknown keys silently; a typo there is a mistake."""
    for param in {r.params[0] for r in roles if r.shape == "axes"}:
        axes = [a for r in roles if r.params[0] == param for a in r.axes]
        extra = sorted(set(params.get(param) or {}) - set(axes))
        if extra:
            raise ConfigError(
                where, f"{term.name}.params.{param}.{extra[0]}", f"keys among {', '.join(axes)}"
            )


def _patterns(role: Role, entity: Any, asset: str, where: str) -> list[tuple[str, bool]]:
    """(our entity pattern, whether it is the only one) for the role's selector."""
    selector = FUNCS[role.func].selector
    if selector == "none":
        return [("world", True)]
    if not isinstance(entity, Entity):
        raise ConfigError(where, "asset_cfg", "SceneEntityCfg(...)", entity)
    if selector == "asset":
        return [(entity.asset, True)]
    regexes = entity.joint_names if selector == "joint" else entity.body_names
    if regexes is None:
        return [("*" if entity.asset == asset else entity.asset, True)]
    globs = []
    for regex in regexes:
        glob = names.regex_to_glob(regex)
        if glob is None:
            raise ConfigError(
                where, "asset_cfg", "names that are globs too (literal text, '.', '.*', '[...]')", regex
            )
        globs.append(glob)
    return [(g, len(globs) == 1) for g in globs]


def _target(role: Role, pattern: str) -> str:
    return "world:gravity" if role.kind == "world" else f"{role.kind}:{pattern}/{role.attr}"


def _dist_fields(dist: str, value: Any) -> dict[str, Any]:
    a, b = (list(v) if isinstance(v, list | tuple) else float(v) for v in value)
    if dist == "normal":
        return {"dist": "normal", "mean": a, "std": b}
    if a == b:
        return {"dist": "constant", "value": a}
    return {"dist": dist, "low": a, "high": b}
