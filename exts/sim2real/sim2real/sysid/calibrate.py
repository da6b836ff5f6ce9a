"""Identified parameters → a calibrated randomization profile (exts/sim2real/docs/sysid.md).

Each parameter becomes one term, appended to a base profile (or a new one) with
``Profile.calibrated``: later terms win, so a calibrated key overrides a broader term of the base for
that entity and leaves the others alone.

* a parameter of one entity *sets* the attribute in absolute units (the catalogue's);
* a tied parameter (one value fitted for several entities: ``actuator:*/latency``) is one term over
  the same selector with ``shared = true``, one draw for all of them, so randomized episodes never
  give the entities values the fit said are equal but are not. Its values are absolute when every
  entity has the same one (a latency), otherwise the fitted factor (``op = "scale"``) or offset;
* nominal: the estimate; range: the confidence interval widened by ``safety`` (estimate ± ``safety``
  × half-width), clipped to values the attribute can take (masses, damping... stay >= 0) and to the
  search bounds;
* whole-number attributes (latency, physics steps): the whole steps inside that range, so an exact
  delay (an interval narrower than a step around it) is a single value and a neighbouring step only
  joins when the range reaches it; a range between two steps (a delay the physics step cannot
  represent, known to better than a step) gives the two steps around it;
* distribution: truncnormal (mean = nominal, std = range / 4) for real values, uniform for whole
  numbers;
* a parameter the logs do not constrain (infinite interval) gets its search bounds as range, and a
  warning.

``nominal_profile`` is the same with constants: the calibrated simulator itself, no randomization.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..randomize.profile import Profile, parse_profile
from ..randomize.targets import attribute, split_key
from .params import Param

log = logging.getLogger(__name__)
WHOLE_EPS = 1e-9  # a range end this close to a whole step reaches it


@dataclass
class Estimate:
    """One profile term: the key (or a tied parameter's selector), the model default, the estimate and
    its range, in the term's ``op`` (``set``: absolute units; ``scale``: a factor)."""

    key: str
    param: str
    unit: str
    default: float
    value: float
    low: float
    high: float
    identifiable: bool
    op: str = "set"
    shared: bool = False  # one draw for every entity ``key`` selects


def estimates(params: Sequence[Param], x: np.ndarray, half_width: np.ndarray, safety: float) -> list[Estimate]:
    out = []
    for p, v, hw in zip(params, x, half_width, strict=True):
        identifiable = bool(np.isfinite(hw))
        lo_v, hi_v = (v - safety * hw, v + safety * hw) if identifiable else (p.low, p.high)
        lo_v, hi_v = max(lo_v, p.low), min(hi_v, p.high)
        absolute = [p.absolute(a) for a in (v, lo_v, hi_v)]
        if p.tied and len({round(d, 12) for d in p.defaults}) > 1 and p.op != "set":
            # entities with different model values: one shared factor (offset), not one absolute value
            out.append(_estimate(p.target, p, 1.0 if p.op == "scale" else 0.0, v, lo_v, hi_v, identifiable, p.op))
        elif p.tied:
            out.append(_estimate(p.target, p, p.defaults[0], *(a[0] for a in absolute), identifiable))
        else:
            out.append(_estimate(p.keys[0], p, p.defaults[0], *(a[0] for a in absolute), identifiable))
        if not identifiable:
            log.warning("%s: not identifiable from these logs; its range is the search bounds", p.name)
    return out


def _estimate(key: str, p: Param, default: float, nom: float, lo: float, hi: float, identifiable: bool,
              op: str = "set") -> Estimate:
    lo, hi = min(lo, hi), max(lo, hi)
    kind, _, attr = split_key(p.keys[0])
    meta = attribute(kind, attr)
    if op == "set" and meta is not None and meta.nonnegative:
        lo, nom = max(lo, 0.0), max(nom, 0.0)
    if meta is not None and meta.value == "int":
        nom, lo, hi = whole_range(nom, lo, hi)
    unit = (meta.unit if meta is not None else "") if op == "set" else p.unit
    return Estimate(key, p.name, unit, default, nom, min(lo, nom), max(hi, nom), identifiable, op, p.tied)


def whole_range(value: float, low: float, high: float) -> tuple[float, float, float]:
    """(nominal, low, high) in whole steps: the nearest step, and the steps inside ``[low, high]``
    (the two around it when it holds none)."""
    first, last = math.ceil(low - WHOLE_EPS), math.floor(high + WHOLE_EPS)
    if first > last:  # between two steps
        first, last = math.floor(value), math.ceil(value)
    nominal = float(round(value))
    return nominal, float(min(first, nominal)), float(max(last, nominal))


def calibrated_profile(items: Sequence[Estimate], base: Profile | None, scene: str, constant: bool = False) -> Profile:
    """``base`` (or a new profile for ``scene``) with a term for each estimate (ranges, or constants)."""
    if base is None:
        base = parse_profile({
            "version": 1, "name": f"calibrated {scene}", "scene": scene,
            "description": "Made by sim2real sysid fit: nominal values at the identified estimates, ranges from "
                           "their confidence intervals times a safety factor.",
        })
    table: dict[str, tuple[Any, Any, Any]] = {}
    for e in items:
        table[e.key] = (e.value, e.value, e.value) if constant else (e.value, e.low, e.high)
    return base.calibrated(table, ops={e.key: e.op for e in items}, shared={e.key for e in items if e.shared})
