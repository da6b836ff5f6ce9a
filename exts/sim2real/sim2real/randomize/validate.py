"""What a profile means, checked: every mistake is one ConfigError naming file, term and key.

The schema (schema.py) guarantees types; this module checks meaning: the target exists, the
distribution suits the attribute, ranges are ordered, values that must be non-negative are, texture
folders hold images, group constraints can be met (at every curriculum phase), ADR parameters refer
to uniform terms, and so on.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from . import schema
from .schema import DIST_FIELDS, DIST_KEYS, SIGNAL_KEYS, SIGNAL_REQUIRED, DistFields, Group, Member, Term
from .targets import Attribute, Target, parse_target

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".tif", ".tiff", ".exr", ".hdr")
_CONSTRAINT_RE = re.compile(r"^\s*([^<>=\s]+)\s*(<=|>=)\s*([^<>=\s]+)\s*$")


@dataclass
class Checked:
    """What the checks learned and the sampler needs: parsed targets and texture files per id."""

    targets: dict[str, Target] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)  # id -> absolute image paths, sorted
    order: dict[str, list[str]] = field(default_factory=dict)  # group -> members, derive sources first
    # group -> (constrained members from the top down, (lower, upper) pairs)
    constraints: dict[str, tuple[list[str], list[tuple[str, str]]]] = field(default_factory=dict)


class Checker:
    def __init__(self, source: str | None, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir
        self.out = Checked()

    def fail(self, key: str, expected: str, got: Any = ...) -> ConfigError:
        return ConfigError(self.source, key, expected, got)

    # ---------------------------------------------------------------- the whole profile
    def profile(self, terms: list[Term], groups: list[Group], curriculum: Any, adr: Any) -> Checked:
        ids: dict[str, str] = {}
        for i, term in enumerate(terms):
            key = f"terms[{i}] {term.id!r}"
            self._unique(ids, term.id, key, "give each term a unique 'name'")
            self.term(term, key)
        for g, group in enumerate(groups):
            self.group(group, f"groups[{g}] {group.name!r}", ids)
        scales = [1.0]
        if curriculum is not None:
            scales = self.curriculum(curriculum, terms, groups)
        for g, group in enumerate(groups):
            self.constraints(group, f"groups[{g}] {group.name!r}", scales, curriculum)
        if adr is not None:
            self.adr(adr, terms, curriculum)
        return self.out

    def _unique(self, ids: dict[str, str], ident: str, key: str, hint: str) -> None:
        if ident in ids:
            raise self.fail(f"{key}.name", f"a unique name; {ids[ident]} already uses {ident!r} ({hint})")
        ids[ident] = key

    # ---------------------------------------------------------------- one term / member
    def term(self, term: Term, key: str) -> None:
        attr = self.sampled(term, term.id, key)
        self.when(term.when, term.every, key)
        if term.signal is not None:
            self.signal(term, attr, f"{key}.signal")

    def when(self, when: str, every: int | None, key: str) -> None:
        if when == "interval" and every is None:
            raise self.fail(f"{key}.every", "the number of physics steps between draws for when = 'interval'")
        if when != "interval" and every is not None:
            raise self.fail(f"{key}.every", "no 'every' unless when = 'interval'", every)

    def sampled(self, spec: DistFields, ident: str, key: str) -> Attribute:
        target = self.target(spec.target, f"{key}.target")
        self.out.targets[ident] = target
        attr = target.attribute
        if spec.dist is None:
            raise self.fail(f"{key}.dist", f"a distribution among {', '.join(DIST_KEYS)}")
        self.dist_fields(spec, attr, ident, key)
        self.op(spec, attr, key)
        self.nonnegative(spec, attr, ident, key, 1.0)
        return attr

    def target(self, text: str, key: str) -> Target:
        try:
            return parse_target(text)
        except ValueError as exc:
            raise self.fail(key, str(exc).removeprefix("expected ")) from None

    def dist_fields(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        dist = spec.dist
        allowed = DIST_KEYS[dist]  # type: ignore[index]
        for name in DIST_FIELDS:
            if name not in allowed and getattr(spec, name) is not None:
                raise self.fail(
                    f"{key}.{name}", f"no '{name}' with dist = {dist!r} (it takes {', '.join(allowed)})"
                )
        kinds = {
            "float": ("uniform", "loguniform", "normal", "truncnormal", "choice", "constant"),
            "int": ("uniform", "choice", "constant"),
            "bool": ("choice", "constant"),
            "choice": ("choice", "constant"),
        }[attr.value]
        if dist not in kinds:
            raise self.fail(
                f"{key}.dist",
                f"one of {', '.join(kinds)} for {attr.kind}/{attr.name} ({attr.value} values)",
                dist,
            )
        getattr(self, f"_{dist}")(spec, attr, ident, key)

    def _need(self, spec: DistFields, key: str, *names: str) -> None:
        for name in names:
            if getattr(spec, name) is None:
                raise self.fail(f"{key}.{name}", f"'{name}' to be set for dist = {spec.dist!r}")

    def _uniform(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        self._need(spec, key, "low", "high")
        low, high = self.numeric(spec.low, attr, f"{key}.low"), self.numeric(spec.high, attr, f"{key}.high")
        if np.any(low > high):
            raise self.fail(f"{key}.low", "low <= high", f"low={spec.low}, high={spec.high}")

    def _loguniform(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        self._uniform(spec, attr, ident, key)
        if np.any(np.asarray(spec.low, dtype=float) <= 0):
            raise self.fail(f"{key}.low", "low > 0 for a log-uniform distribution", spec.low)

    def _normal(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        self._need(spec, key, "mean", "std")
        self.numeric(spec.mean, attr, f"{key}.mean")
        std = self.numeric(spec.std, attr, f"{key}.std")
        # a vector component of std 0 stays at its mean (Isaac Lab's gaussian gravity ([0,0,0], [0,0,0.4]))
        if np.any(std < 0) or np.all(std == 0):
            raise self.fail(f"{key}.std", "std > 0 (per component: std >= 0, not all 0)", spec.std)

    def _truncnormal(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        self._normal(spec, attr, ident, key)
        if np.any(np.asarray(spec.std, dtype=float) <= 0):
            raise self.fail(f"{key}.std", "std > 0", spec.std)
        self._uniform(spec, attr, ident, key)  # the mean may lie outside [low, high]: a one-sided tail

    def _choice(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        if spec.folder is not None:
            if spec.values is not None:
                raise self.fail(f"{key}.values", "either 'values' or 'folder', not both")
            if (attr.kind, attr.name) != ("material", "texture"):
                raise self.fail(f"{key}.folder", "a folder only for material/texture targets")
            n = len(self.folder(spec.folder, ident, f"{key}.folder"))
        else:
            if not spec.values:
                raise self.fail(f"{key}.values", "a non-empty list of values to choose from")
            for j, v in enumerate(spec.values):
                self.value(v, attr, f"{key}.values[{j}]")
            if (attr.kind, attr.name) == ("material", "texture"):
                self.out.files[ident] = [
                    str(self.image(v, f"{key}.values[{j}]")) for j, v in enumerate(spec.values)
                ]
            n = len(spec.values)
        if spec.weights is not None:
            if len(spec.weights) != n:
                raise self.fail(f"{key}.weights", f"one weight per value ({n})", len(spec.weights))
            if min(spec.weights) < 0 or sum(spec.weights) <= 0:
                raise self.fail(f"{key}.weights", "non-negative weights with a positive sum", spec.weights)

    def _constant(self, spec: DistFields, attr: Attribute, ident: str, key: str) -> None:
        self._need(spec, key, "value")
        self.value(spec.value, attr, f"{key}.value")
        if (attr.kind, attr.name) == ("material", "texture"):
            self.out.files[ident] = [str(self.image(spec.value, f"{key}.value"))]

    def numeric(self, v: Any, attr: Attribute, key: str) -> np.ndarray:
        """A number, or a list matching a vector attribute's length; int attributes need integers."""
        if isinstance(v, list):
            if not attr.shape or len(v) != attr.shape[0]:
                n = attr.shape[0] if attr.shape else 0
                raise self.fail(
                    key,
                    f"a number or a list of {n} numbers for {attr.kind}/{attr.name}"
                    if n
                    else f"a single number for {attr.kind}/{attr.name}",
                    v,
                )
        if attr.value == "int" and any(not float(x).is_integer() for x in np.ravel(v)):
            raise self.fail(key, f"an integer for {attr.kind}/{attr.name}", v)
        return np.asarray(v, dtype=float)

    def value(self, v: Any, attr: Attribute, key: str) -> None:
        """A choice/constant value of the attribute's type."""
        expected = {"bool": bool, "choice": str}.get(attr.value)
        if expected is not None:
            if not isinstance(v, expected):
                raise self.fail(
                    key, f"a {'boolean' if expected is bool else 'string'} for {attr.kind}/{attr.name}", v
                )
            return
        if isinstance(v, bool | str):
            raise self.fail(key, f"a number for {attr.kind}/{attr.name}", v)
        self.numeric(v, attr, key)

    def folder(self, text: str, ident: str, key: str) -> list[str]:
        path = self.resolve(text)
        if not path.is_dir():
            raise self.fail(key, f"an existing folder of images (looked in {path})", text)
        files = sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise self.fail(
                key, f"a folder holding images ({', '.join(IMAGE_SUFFIXES)}); {path} has none", text
            )
        self.out.files[ident] = files
        return files

    def image(self, text: str, key: str) -> Path:
        path = self.resolve(text)
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            raise self.fail(key, f"an existing image file (looked for {path})", text)
        return path

    def resolve(self, text: str) -> Path:
        path = Path(text).expanduser()
        return (path if path.is_absolute() else self.base_dir / path).resolve()

    def op(self, spec: DistFields, attr: Attribute, key: str) -> None:
        if attr.value != "float" and spec.op not in (None, "set"):
            raise self.fail(
                f"{key}.op", f"op = 'set' for {attr.kind}/{attr.name} ({attr.value} values)", spec.op
            )

    def nonnegative(self, spec: DistFields, attr: Attribute, ident: str, key: str, scale: float) -> None:
        """Refuse values below zero where the attribute cannot be negative (a negative scale or mass)."""
        if not attr.nonnegative or spec.op_for(attr) == "add" or attr.value not in ("float", "int"):
            return
        lowest = _lowest(spec.compile(attr, self.out.files.get(ident)).scaled(scale))
        if lowest < 0:
            field_ = {"normal": "dist", "constant": "value", "choice": "values"}.get(spec.dist or "", "low")
            where = f" at curriculum scale {scale:g}" if scale != 1.0 else ""
            raise self.fail(
                f"{key}.{field_}",
                f"values >= 0 for {attr.kind}/{attr.name} with op = "
                f"{spec.op_for(attr)!r}{where} (use truncnormal, loguniform or a range >= 0)",
                float(lowest) if math.isfinite(lowest) else spec.dist,
            )

    # ---------------------------------------------------------------- time-varying terms
    def signal(self, term: Term, attr: Attribute, key: str) -> None:
        sig = term.signal
        assert sig is not None
        if term.when != "reset":
            raise self.fail(f"{key}", "signals only on when = 'reset' terms (they restart every episode)")
        if attr.value != "float" or term.dist == "choice":
            raise self.fail(f"{key}", f"a numeric term for a signal (not {term.dist} of {attr.value} values)")
        for name in ("amplitude", "frequency_hz", "phase", "theta", "sigma", "hold_s"):
            if name not in SIGNAL_KEYS[sig.kind] and getattr(sig, name) is not None:
                raise self.fail(
                    f"{key}.{name}",
                    f"no '{name}' for kind = {sig.kind!r} (it takes {', '.join(SIGNAL_KEYS[sig.kind])})",
                )
        for name in SIGNAL_REQUIRED[sig.kind]:
            if getattr(sig, name) is None:
                raise self.fail(f"{key}.{name}", f"'{name}' to be set for kind = {sig.kind!r}")
        for name in ("amplitude", "sigma"):
            if getattr(sig, name) is not None:
                if np.any(self.numeric(getattr(sig, name), attr, f"{key}.{name}") < 0):
                    raise self.fail(f"{key}.{name}", f"{name} >= 0", getattr(sig, name))
        for name in ("frequency_hz", "theta", "hold_s"):
            if getattr(sig, name) is not None and getattr(sig, name) <= 0:
                raise self.fail(f"{key}.{name}", f"{name} > 0", getattr(sig, name))
        if sig.phase is not None and sig.phase != "random":
            try:
                schema._num(sig.phase)
            except ValueError:
                raise self.fail(f"{key}.phase", 'a phase in radians or "random"', sig.phase) from None

    # ---------------------------------------------------------------- groups
    def group(self, group: Group, key: str, ids: dict[str, str]) -> None:
        self.when(group.when, group.every, key)
        names: dict[str, str] = {}
        for m, member in enumerate(group.members):
            mkey = f"{key}.members[{m}] {member.name!r}"
            self._unique(names, member.name, mkey, "member names are unique within a group")
            ident = f"{group.name}/{member.name}"
            self._unique(ids, ident, mkey, "a term already has this 'group/member' name")
            if member.derive is None:
                self.sampled(member, ident, mkey)
            else:
                self.derived(member, ident, mkey)
        self.out.order[group.name] = self.derive_order(group, key)
        for m, member in enumerate(group.members):
            if member.derive is not None:
                mine = self.out.targets[f"{group.name}/{member.name}"].attribute
                theirs = self.out.targets[f"{group.name}/{member.derive.source}"].attribute
                if mine.shape != theirs.shape or theirs.value != "float":
                    raise self.fail(
                        f"{key}.members[{m}] {member.name!r}.derive.source",
                        f"a numeric source member of the same shape as {mine.kind}/{mine.name}",
                        member.derive.source,
                    )

    def derived(self, member: Member, ident: str, key: str) -> None:
        target = self.target(member.target, f"{key}.target")
        self.out.targets[ident] = target
        attr = target.attribute
        for name in DIST_FIELDS + ("dist",):
            if getattr(member, name) is not None:
                raise self.fail(
                    f"{key}.{name}", "no distribution on a derived member (it comes from 'derive')"
                )
        if attr.value != "float":
            raise self.fail(f"{key}.derive", f"a numeric attribute to derive (not {attr.kind}/{attr.name})")
        self.op(member, attr, key)
        self.numeric(member.derive.offset, attr, f"{key}.derive.offset")  # type: ignore[union-attr]

    def derive_order(self, group: Group, key: str) -> list[str]:
        """Members in an order where every derive source comes before its use (no cycles)."""
        by_name = {m.name: (m, i) for i, m in enumerate(group.members)}
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            member, i = by_name[name]
            if state.get(name) == 1:
                raise self.fail(
                    f"{key}.members[{i}] {name!r}.derive.source",
                    "derivations without a cycle",
                    " -> ".join(path + (name,)),
                )
            state[name] = 1
            if member.derive is not None:
                src = member.derive.source
                if src not in by_name:
                    raise self.fail(
                        f"{key}.members[{i}] {name!r}.derive.source",
                        f"a member of this group ({', '.join(by_name)})",
                        src,
                    )
                visit(src, path + (name,))
            state[name] = 2
            order.append(name)

        for name in by_name:
            visit(name, ())
        return order

    def constraints(
        self, group: Group, key: str, scales: Iterable[float], cur: schema.Curriculum | None
    ) -> None:
        """Parse ``a <= b`` constraints and prove them satisfiable at every curriculum scale."""
        by_name = {m.name: m for m in group.members}
        edges: list[tuple[str, str]] = []  # (lower, upper)
        for c, text in enumerate(group.constraints):
            ckey = f"{key}.constraints[{c}]"
            m = _CONSTRAINT_RE.match(text)
            if not m:
                raise self.fail(ckey, "a constraint 'a <= b' or 'a >= b' between two members", text)
            a, op, b = m.groups()
            for name in (a, b):
                member = by_name.get(name)
                if member is None:
                    raise self.fail(ckey, f"members of this group ({', '.join(by_name)})", name)
                attr = self.out.targets[f"{group.name}/{name}"].attribute
                if (
                    member.derive is not None
                    or member.dist not in ("uniform", "loguniform")
                    or attr.value != "float"
                ):
                    raise self.fail(
                        ckey,
                        f"uniform or loguniform members of real values in constraints ({name!r} "
                        f"is {'derived' if member.derive else member.dist} {attr.value})",
                    )
            ta, tb = self.out.targets[f"{group.name}/{a}"], self.out.targets[f"{group.name}/{b}"]
            if ta.attribute.shape != tb.attribute.shape:
                raise self.fail(ckey, "members of the same shape", f"{ta.text} vs {tb.text}")
            edges.append((a, b) if op == "<=" else (b, a))
        if not edges:
            return
        order = _constraint_order(edges)
        if order is None:
            raise self.fail(f"{key}.constraints", "constraints without a cycle", group.constraints)
        self.out.constraints[group.name] = (order, edges)
        for s in scales:
            compiled = {}
            for m in group.members:
                if m.name in order:
                    ident = f"{group.name}/{m.name}"
                    dist = m.compile(self.out.targets[ident].attribute)
                    in_cur = cur is not None and curriculum_applies(cur, ident)
                    compiled[m.name] = dist.scaled(s) if in_cur else dist
            for name, floor in floors(order, edges, compiled).items():
                high = np.asarray(compiled[name].high, dtype=float)
                if np.any(floor > high):
                    where = f" at curriculum scale {s:g}" if s != 1.0 else ""
                    raise self.fail(
                        f"{key}.constraints",
                        f"constraints that can be met{where}: {name!r} must be "
                        f">= {np.max(floor):g} but its high is {np.min(high):g}",
                        group.constraints,
                    )

    # ---------------------------------------------------------------- curriculum and ADR
    def curriculum(self, cur: schema.Curriculum, terms: list[Term], groups: list[Group]) -> list[float]:
        given = cur.scales is not None
        ramp = any(v is not None for v in (cur.start, cur.end, cur.phases))
        if given == ramp:
            raise self.fail("curriculum", "either 'scales = [...]' or 'start', 'end' and 'phases'")
        if ramp and cur.phases is None:
            raise self.fail("curriculum.phases", "the number of phases (with start and end)")
        if given and not cur.scales:
            raise self.fail("curriculum.scales", "a non-empty list of scales")
        ids = [t.id for t in terms] + [f"{g.name}/{m.name}" for g in groups for m in g.members]
        for p, pattern in enumerate(cur.terms):
            if not any(fnmatch.fnmatchcase(i, pattern) for i in ids):
                raise self.fail(
                    f"curriculum.terms[{p}]", f"a pattern matching a term name ({', '.join(ids)})", pattern
                )
        scales = cur.scale_list()
        for i, term in enumerate(terms):
            if curriculum_applies(cur, term.id):
                for s in scales:
                    self.nonnegative(
                        term, self.out.targets[term.id].attribute, term.id, f"terms[{i}] {term.id!r}", s
                    )
        return sorted(set(scales) | {1.0})

    def adr(self, adr: schema.Adr, terms: list[Term], cur: schema.Curriculum | None) -> None:
        if adr.threshold_low >= adr.threshold_high:
            raise self.fail(
                "adr.threshold_low",
                "threshold_low < threshold_high",
                f"{adr.threshold_low} >= {adr.threshold_high}",
            )
        by_id = {t.id: t for t in terms}
        seen: set[str] = set()
        for p, param in enumerate(adr.params):
            key = f"adr.params[{p}]"
            term = by_id.get(param.term)
            if term is None:
                raise self.fail(f"{key}.term", f"the name of a term ({', '.join(by_id)})", param.term)
            if param.term in seen:
                raise self.fail(f"{key}.term", "each term at most once in adr.params", param.term)
            seen.add(param.term)
            attr = self.out.targets[term.id].attribute
            if (
                term.dist != "uniform"
                or attr.shape
                or attr.value != "float"
                or term.when != "reset"
                or term.optional
            ):
                raise self.fail(
                    f"{key}.term",
                    "a scalar, uniform, when = 'reset', not optional term for ADR "
                    f"({term.id!r} is {term.dist} {attr.kind}/{attr.name}, {term.when})",
                )
            lo, hi = param.limits
            if lo > float(term.low) or hi < float(term.high):  # type: ignore[arg-type]
                raise self.fail(
                    f"{key}.limits",
                    f"limits containing the term's range [{term.low}, {term.high}]",
                    param.limits,
                )
            if param.step_mode == "mul" and lo <= 0:
                raise self.fail(f"{key}.limits", "limits > 0 with step_mode = 'mul'", param.limits)
            if attr.nonnegative and term.op_for(attr) != "add" and lo < 0:
                raise self.fail(f"{key}.limits", f"limits >= 0 for {attr.kind}/{attr.name}", param.limits)
            if cur is not None and curriculum_applies(cur, term.id):
                raise self.fail(
                    f"{key}.term",
                    "a term outside the curriculum (ADR and the curriculum would both "
                    "move its range; narrow curriculum.terms)",
                    param.term,
                )


def curriculum_applies(cur: schema.Curriculum, ident: str) -> bool:
    return any(fnmatch.fnmatchcase(ident, p) for p in cur.terms)


def _lowest(dist: Any) -> float:
    """The smallest value a compiled distribution can produce."""
    if isinstance(dist, schema.dists.Normal):
        return -math.inf if np.any(np.asarray(dist.std) > 0) else float(np.min(dist.mean))
    if isinstance(dist, schema.dists.TruncNormal):
        return float(np.min(dist.low))
    if isinstance(dist, schema.dists.Choice):
        return float(min(np.min(np.asarray(v, dtype=float)) for v in dist.values))
    if isinstance(dist, schema.dists.Constant):
        return float(np.min(np.asarray(dist.value, dtype=float)))
    return float(np.min(dist.low))  # type: ignore[attr-defined]


def _constraint_order(edges: list[tuple[str, str]]) -> list[str] | None:
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


def floors(order: list[str], edges: list[tuple[str, str]], compiled: dict[str, Any]) -> dict[str, Any]:
    """For each constrained member: the least value it may take so every member below it still fits.

    floor(x) = max(low_x, floor(y) for every y constrained to be <= x)
    """
    out: dict[str, Any] = {}
    for name in reversed(order):  # bottom first
        lows = [compiled[name].low] + [out[a] for a, b in edges if b == name]
        out[name] = np.maximum.reduce([np.asarray(v, dtype=float) for v in lows])
    return out
