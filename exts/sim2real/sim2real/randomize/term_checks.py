"""The checks of one sampled term or group member: its target, its distribution (``dist_specs``),
the operation, values that cannot be negative, its firing schedule and its time-varying signal."""

from __future__ import annotations

import math

import numpy as np

from . import schema
from .check_context import CheckContext
from .dist_specs import DIST_SPECS
from .schema import DIST_FIELDS, SIGNAL_KEYS, SIGNAL_REQUIRED, DistFields, Term
from .targets import Attribute


def check_term(term: Term, key: str, ctx: CheckContext) -> None:
    attr = check_sampled(term, term.id, key, ctx)
    check_when(term.when, term.every, key, ctx)
    if term.signal is not None:
        check_signal(term, attr, f"{key}.signal", ctx)
    check_placement(term, key, ctx)


def check_placement(term: Term, key: str, ctx: CheckContext) -> None:
    """``no_overlap`` and ``max_tries`` belong to object positions drawn at reset."""
    target = ctx.out.targets[term.id]
    placed = (target.kind, target.attribute.name) == ("object", "position") and term.when == "reset"
    if term.no_overlap is not None and not placed:
        raise ctx.fail(f"{key}.no_overlap", "no_overlap only on object:*/position terms with when = 'reset'",
                       term.no_overlap)
    if term.no_overlap and term.shared:
        raise ctx.fail(f"{key}.no_overlap", "no_overlap without shared = true (one position for every object "
                       "cannot keep them apart)", term.no_overlap)
    if term.max_tries is not None and (not placed or term.no_overlap is False or term.shared):
        raise ctx.fail(f"{key}.max_tries", "max_tries only with a placement (an object:*/position reset term "
                       "without no_overlap = false)", term.max_tries)


def check_when(when: str, every: int | None, key: str, ctx: CheckContext) -> None:
    if when == "interval" and every is None:
        raise ctx.fail(f"{key}.every", "the number of physics steps between draws for when = 'interval'")
    if when != "interval" and every is not None:
        raise ctx.fail(f"{key}.every", "no 'every' unless when = 'interval'", every)


def check_sampled(spec: DistFields, ident: str, key: str, ctx: CheckContext) -> Attribute:
    """A term or member with a distribution: its target (recorded as ``ident``'s) and every field."""
    target = ctx.target(spec.target, f"{key}.target")  # type: ignore[attr-defined]
    ctx.out.targets[ident] = target
    attr = target.attribute
    if spec.dist is None:
        raise ctx.fail(f"{key}.dist", f"a distribution among {', '.join(DIST_SPECS)}")
    check_dist(spec, attr, ident, key, ctx)
    check_op(spec, attr, key, ctx)
    check_nonnegative(spec, attr, ident, key, 1.0, ctx)
    return attr


def check_dist(spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
    """The distribution's own fields only, it suits the attribute's values, its fields are sound."""
    dist = DIST_SPECS[spec.dist]  # type: ignore[index]
    for name in DIST_FIELDS:
        if name not in dist.keys and getattr(spec, name) is not None:
            raise ctx.fail(f"{key}.{name}", f"no '{name}' with dist = {dist.name!r} (it takes {', '.join(dist.keys)})")
    if attr.value not in dist.values:
        suits = [name for name, s in DIST_SPECS.items() if attr.value in s.values]
        raise ctx.fail(f"{key}.dist", f"one of {', '.join(suits)} for {attr.kind}/{attr.name} ({attr.value} values)",
                       dist.name)
    dist.check(spec, attr, ident, key, ctx)


def check_op(spec: DistFields, attr: Attribute, key: str, ctx: CheckContext) -> None:
    if attr.value != "float" and spec.op not in (None, "set"):
        raise ctx.fail(f"{key}.op", f"op = 'set' for {attr.kind}/{attr.name} ({attr.value} values)", spec.op)


def check_nonnegative(spec: DistFields, attr: Attribute, ident: str, key: str, scale: float,
                      ctx: CheckContext) -> None:
    """Refuse values below zero where the attribute cannot be negative (a negative scale or mass)."""
    if not attr.nonnegative or spec.op_for(attr) == "add" or attr.value not in ("float", "int"):
        return
    dist = DIST_SPECS[spec.dist or "constant"]
    lowest = dist.lowest(spec.compile(attr, ctx.out.files.get(ident)).scaled(scale))
    if lowest < 0:
        where = f" at curriculum scale {scale:g}" if scale != 1.0 else ""
        raise ctx.fail(f"{key}.{dist.lowest_key}",
                       f"values >= 0 for {attr.kind}/{attr.name} with op = "
                       f"{spec.op_for(attr)!r}{where} (use truncnormal, loguniform or a range >= 0)",
                       float(lowest) if math.isfinite(lowest) else spec.dist)


def check_signal(term: Term, attr: Attribute, key: str, ctx: CheckContext) -> None:
    """A time-varying offset: on a numeric reset term, with the fields of its kind, in range."""
    sig = term.signal
    assert sig is not None
    if term.when != "reset":
        raise ctx.fail(f"{key}", "signals only on when = 'reset' terms (they restart every episode)")
    if attr.value != "float" or term.dist == "choice":
        raise ctx.fail(f"{key}", f"a numeric term for a signal (not {term.dist} of {attr.value} values)")
    for name in ("amplitude", "frequency_hz", "phase", "theta", "sigma", "hold_s"):
        if name not in SIGNAL_KEYS[sig.kind] and getattr(sig, name) is not None:
            raise ctx.fail(f"{key}.{name}",
                           f"no '{name}' for kind = {sig.kind!r} (it takes {', '.join(SIGNAL_KEYS[sig.kind])})")
    for name in SIGNAL_REQUIRED[sig.kind]:
        if getattr(sig, name) is None:
            raise ctx.fail(f"{key}.{name}", f"'{name}' to be set for kind = {sig.kind!r}")
    for name in ("amplitude", "sigma"):
        if getattr(sig, name) is not None and np.any(ctx.numeric(getattr(sig, name), attr, f"{key}.{name}") < 0):
            raise ctx.fail(f"{key}.{name}", f"{name} >= 0", getattr(sig, name))
    for name in ("frequency_hz", "theta", "hold_s"):
        if getattr(sig, name) is not None and getattr(sig, name) <= 0:
            raise ctx.fail(f"{key}.{name}", f"{name} > 0", getattr(sig, name))
    if sig.phase is not None and sig.phase != "random":
        try:
            schema._num(sig.phase)
        except ValueError:
            raise ctx.fail(f"{key}.phase", 'a phase in radians or "random"', sig.phase) from None
