"""What a profile means, checked: every mistake is one ConfigError naming file, term and key.

The schema (schema.py) guarantees types; the checks give meaning: the target exists, the
distribution suits the attribute, ranges are ordered, values that must be non-negative are, texture
folders hold images, group constraints can be met (at every curriculum phase), ADR parameters refer
to uniform terms, and so on. They live with what they check: ``term_checks`` (terms, operations,
signals), ``dist_specs`` (each distribution), ``group_checks``, ``curriculum_checks`` (curriculum
and ADR); ``check_context`` holds what they share.
"""

from __future__ import annotations

from pathlib import Path

from . import schema
from .check_context import Checked, CheckContext
from .curriculum_checks import check_adr, check_curriculum, curriculum_applies
from .group_checks import check_constraints, check_group
from .schema import Group, Term
from .term_checks import check_term


def check_profile(terms: list[Term], groups: list[Group], curriculum: schema.Curriculum | None,
                  adr: schema.Adr | None, source: str | None, base_dir: Path) -> Checked:
    """Check a parsed profile (``source`` names it in errors; relative paths resolve in ``base_dir``)."""
    ctx = CheckContext(source, base_dir)
    ids: dict[str, str] = {}
    for i, term in enumerate(terms):
        key = f"terms[{i}] {term.id!r}"
        ctx.unique(ids, term.id, key, "give each term a unique 'name'")
        check_term(term, key, ctx)
    for g, group in enumerate(groups):
        check_group(group, f"groups[{g}] {group.name!r}", ids, ctx)
    scales = [1.0]
    if curriculum is not None:
        scales = check_curriculum(curriculum, terms, groups, ctx)

    def in_curriculum(ident: str) -> bool:
        return curriculum is not None and curriculum_applies(curriculum, ident)

    for g, group in enumerate(groups):
        check_constraints(group, f"groups[{g}] {group.name!r}", scales, in_curriculum, ctx)
    if adr is not None:
        check_adr(adr, terms, curriculum, ctx)
    return ctx.out
