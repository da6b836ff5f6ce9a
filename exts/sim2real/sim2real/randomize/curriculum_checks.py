"""The checks of what moves term ranges over training: the curriculum (phases that scale ranges,
every phase still valid) and ADR (which terms it may widen, and how far)."""

from __future__ import annotations

import fnmatch

from . import schema
from .check_context import CheckContext
from .schema import Group, Term
from .term_checks import check_nonnegative


def curriculum_applies(cur: schema.Curriculum, ident: str) -> bool:
    """Whether the curriculum scales the term or member ``ident`` (its ``terms`` patterns)."""
    return any(fnmatch.fnmatchcase(ident, p) for p in cur.terms)


def check_curriculum(cur: schema.Curriculum, terms: list[Term], groups: list[Group], ctx: CheckContext) -> list[float]:
    """Scales or a ramp (not both), patterns that match, every scaled term valid; the scales to check
    group constraints at (1 included)."""
    given = cur.scales is not None
    ramp = any(v is not None for v in (cur.start, cur.end, cur.phases))
    if given == ramp:
        raise ctx.fail("curriculum", "either 'scales = [...]' or 'start', 'end' and 'phases'")
    if ramp and cur.phases is None:
        raise ctx.fail("curriculum.phases", "the number of phases (with start and end)")
    if given and not cur.scales:
        raise ctx.fail("curriculum.scales", "a non-empty list of scales")
    ids = [t.id for t in terms] + [f"{g.name}/{m.name}" for g in groups for m in g.members]
    for p, pattern in enumerate(cur.terms):
        if not any(fnmatch.fnmatchcase(i, pattern) for i in ids):
            raise ctx.fail(f"curriculum.terms[{p}]", f"a pattern matching a term name ({', '.join(ids)})", pattern)
    scales = cur.scale_list()
    for i, term in enumerate(terms):
        if curriculum_applies(cur, term.id):
            for s in scales:
                check_nonnegative(term, ctx.out.targets[term.id].attribute, term.id, f"terms[{i}] {term.id!r}", s, ctx)
    return sorted(set(scales) | {1.0})


def check_adr(adr: schema.Adr, terms: list[Term], cur: schema.Curriculum | None, ctx: CheckContext) -> None:
    """Ordered thresholds; each parameter names a distinct scalar uniform reset term outside the
    curriculum, with limits around its range."""
    if adr.threshold_low >= adr.threshold_high:
        raise ctx.fail("adr.threshold_low", "threshold_low < threshold_high",
                       f"{adr.threshold_low} >= {adr.threshold_high}")
    by_id = {t.id: t for t in terms}
    seen: set[str] = set()
    for p, param in enumerate(adr.params):
        key = f"adr.params[{p}]"
        term = by_id.get(param.term)
        if term is None:
            raise ctx.fail(f"{key}.term", f"the name of a term ({', '.join(by_id)})", param.term)
        if param.term in seen:
            raise ctx.fail(f"{key}.term", "each term at most once in adr.params", param.term)
        seen.add(param.term)
        _check_adr_term(param, term, key, ctx)
        if cur is not None and curriculum_applies(cur, term.id):
            raise ctx.fail(f"{key}.term", "a term outside the curriculum (ADR and the curriculum would both "
                                          "move its range; narrow curriculum.terms)", param.term)


def _check_adr_term(param: schema.AdrParam, term: Term, key: str, ctx: CheckContext) -> None:
    attr = ctx.out.targets[term.id].attribute
    if term.dist != "uniform" or attr.shape or attr.value != "float" or term.when != "reset" or term.optional:
        raise ctx.fail(f"{key}.term", "a scalar, uniform, when = 'reset', not optional term for ADR "
                                      f"({term.id!r} is {term.dist} {attr.kind}/{attr.name}, {term.when})")
    lo, hi = param.limits
    if lo > float(term.low) or hi < float(term.high):  # type: ignore[arg-type]
        raise ctx.fail(f"{key}.limits", f"limits containing the term's range [{term.low}, {term.high}]", param.limits)
    if param.step_mode == "mul" and lo <= 0:
        raise ctx.fail(f"{key}.limits", "limits > 0 with step_mode = 'mul'", param.limits)
    if attr.nonnegative and term.op_for(attr) != "add" and lo < 0:
        raise ctx.fail(f"{key}.limits", f"limits >= 0 for {attr.kind}/{attr.name}", param.limits)
