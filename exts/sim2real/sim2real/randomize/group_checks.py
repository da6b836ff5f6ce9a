"""The checks of a group of jointly sampled terms: unique members, derived members whose sources
come first (no cycles), and ``a <= b`` constraints that can be met at every curriculum scale.

``floors`` is also how the sampler meets the constraints (``resolved.ResolvedGroup``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .check_context import CheckContext
from .schema import DIST_FIELDS, Group, Member
from .term_checks import check_op, check_sampled, check_when

_CONSTRAINT_RE = re.compile(r"^\s*([^<>=\s]+)\s*(<=|>=)\s*([^<>=\s]+)\s*$")
Edges = list[tuple[str, str]]  # (lower, upper) member names


def check_group(group: Group, key: str, ids: dict[str, str], ctx: CheckContext) -> None:
    """Members (sampled or derived), unique within the group and among all term ids."""
    check_when(group.when, group.every, key, ctx)
    names: dict[str, str] = {}
    for m, member in enumerate(group.members):
        mkey = f"{key}.members[{m}] {member.name!r}"
        ctx.unique(names, member.name, mkey, "member names are unique within a group")
        ident = f"{group.name}/{member.name}"
        ctx.unique(ids, ident, mkey, "a term already has this 'group/member' name")
        if member.derive is None:
            check_sampled(member, ident, mkey, ctx)
        else:
            _check_derived(member, ident, mkey, ctx)
    ctx.out.order[group.name] = derive_order(group, key, ctx)
    for m, member in enumerate(group.members):
        if member.derive is not None:
            mine = ctx.out.targets[f"{group.name}/{member.name}"].attribute
            theirs = ctx.out.targets[f"{group.name}/{member.derive.source}"].attribute
            if mine.shape != theirs.shape or theirs.value != "float":
                raise ctx.fail(f"{key}.members[{m}] {member.name!r}.derive.source",
                               f"a numeric source member of the same shape as {mine.kind}/{mine.name}",
                               member.derive.source)


def _check_derived(member: Member, ident: str, key: str, ctx: CheckContext) -> None:
    target = ctx.target(member.target, f"{key}.target")
    ctx.out.targets[ident] = target
    attr = target.attribute
    for name in DIST_FIELDS + ("dist",):
        if getattr(member, name) is not None:
            raise ctx.fail(f"{key}.{name}", "no distribution on a derived member (it comes from 'derive')")
    if attr.value != "float":
        raise ctx.fail(f"{key}.derive", f"a numeric attribute to derive (not {attr.kind}/{attr.name})")
    check_op(member, attr, key, ctx)
    ctx.numeric(member.derive.offset, attr, f"{key}.derive.offset")  # type: ignore[union-attr]


def derive_order(group: Group, key: str, ctx: CheckContext) -> list[str]:
    """Members in an order where every derive source comes before its use (no cycles)."""
    by_name = {m.name: (m, i) for i, m in enumerate(group.members)}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        member, i = by_name[name]
        where = f"{key}.members[{i}] {name!r}.derive.source"
        if state.get(name) == 1:
            raise ctx.fail(where, "derivations without a cycle", " -> ".join(path + (name,)))
        state[name] = 1
        if member.derive is not None:
            src = member.derive.source
            if src not in by_name:
                raise ctx.fail(where, f"a member of this group ({', '.join(by_name)})", src)
            visit(src, path + (name,))
        state[name] = 2
        order.append(name)

    for name in by_name:
        visit(name, ())
    return order


def check_constraints(group: Group, key: str, scales: Iterable[float], in_curriculum: Callable[[str], bool],
                      ctx: CheckContext) -> None:
    """Parse ``a <= b`` constraints and prove them satisfiable at every curriculum scale (members whose
    id ``in_curriculum`` are scaled)."""
    edges = [_constraint(group, c, text, f"{key}.constraints[{c}]", ctx) for c, text in enumerate(group.constraints)]
    if not edges:
        return
    order = _constraint_order(edges)
    if order is None:
        raise ctx.fail(f"{key}.constraints", "constraints without a cycle", group.constraints)
    ctx.out.constraints[group.name] = (order, edges)
    for s in scales:
        compiled = {}
        for m in group.members:
            if m.name in order:
                ident = f"{group.name}/{m.name}"
                dist = m.compile(ctx.out.targets[ident].attribute)
                compiled[m.name] = dist.scaled(s) if in_curriculum(ident) else dist
        for name, floor in floors(order, edges, compiled).items():
            high = np.asarray(compiled[name].high, dtype=float)
            if np.any(floor > high):
                where = f" at curriculum scale {s:g}" if s != 1.0 else ""
                raise ctx.fail(f"{key}.constraints",
                               f"constraints that can be met{where}: {name!r} must be "
                               f">= {np.max(floor):g} but its high is {np.min(high):g}", group.constraints)


def _constraint(group: Group, c: int, text: str, ckey: str, ctx: CheckContext) -> tuple[str, str]:
    """One constraint as a (lower, upper) edge between two ranged real members of the same shape."""
    m = _CONSTRAINT_RE.match(text)
    if not m:
        raise ctx.fail(ckey, "a constraint 'a <= b' or 'a >= b' between two members", text)
    a, op, b = m.groups()
    by_name = {mem.name: mem for mem in group.members}
    for name in (a, b):
        member = by_name.get(name)
        if member is None:
            raise ctx.fail(ckey, f"members of this group ({', '.join(by_name)})", name)
        attr = ctx.out.targets[f"{group.name}/{name}"].attribute
        if member.derive is not None or member.dist not in ("uniform", "loguniform") or attr.value != "float":
            raise ctx.fail(ckey, f"uniform or loguniform members of real values in constraints ({name!r} "
                                 f"is {'derived' if member.derive else member.dist} {attr.value})")
    ta, tb = ctx.out.targets[f"{group.name}/{a}"], ctx.out.targets[f"{group.name}/{b}"]
    if ta.attribute.shape != tb.attribute.shape:
        raise ctx.fail(ckey, "members of the same shape", f"{ta.text} vs {tb.text}")
    return (a, b) if op == "<=" else (b, a)


def _constraint_order(edges: Edges) -> list[str] | None:
    """Topological order from the top (members nothing must exceed first); None on a cycle."""
    nodes = list(dict.fromkeys([n for e in edges for n in e]))
    uppers = {n: {b for a, b in edges if a == n} for n in nodes}
    order: list[str] = []
    while len(order) < len(nodes):
        ready = [n for n in nodes if n not in order and uppers[n] <= set(order)]
        if not ready:
            return None
        order.extend(ready)
    return order


def floors(order: list[str], edges: Edges, compiled: dict[str, Any]) -> dict[str, Any]:
    """For each constrained member: the least value it may take so every member below it still fits.

    floor(x) = max(low_x, floor(y) for every y constrained to be <= x)
    """
    out: dict[str, Any] = {}
    for name in reversed(order):  # bottom first
        lows = [compiled[name].low] + [out[a] for a, b in edges if b == name]
        out[name] = np.maximum.reduce([np.asarray(v, dtype=float) for v in lows])
    return out

