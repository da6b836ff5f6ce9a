"""Identified parameters → a calibrated randomization profile (exts/sim2real/docs/sysid.md).

Each resolved key becomes a term that *sets* the attribute (absolute units, the catalogue's), appended
to a base profile (or a new one) with ``Profile.calibrated``: later terms win, so a calibrated key
overrides a broader term of the base for that entity and leaves the others alone.

* nominal: the estimate;
* range: the estimate ± ``safety`` × the confidence half-width, clipped to values the attribute can
  take (masses, damping... stay >= 0; a latency is whole physics steps) and to the search bounds;
* distribution: truncated normal (mean = nominal, std = range / 4) for real values, uniform for
  whole numbers (latency);
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


@dataclass
class Estimate:
    """One resolved key: the model default, the estimate and its range (absolute units)."""

    key: str
    param: str
    unit: str
    default: float
    value: float
    low: float
    high: float
    identifiable: bool


def estimates(params: Sequence[Param], x: np.ndarray, half_width: np.ndarray, safety: float) -> list[Estimate]:
    out = []
    for p, v, hw in zip(params, x, half_width, strict=True):
        identifiable = bool(np.isfinite(hw))
        lo_v, hi_v = (v - safety * hw, v + safety * hw) if identifiable else (p.low, p.high)
        lo_v, hi_v = max(lo_v, p.low), min(hi_v, p.high)
        for key, d, nom, lo, hi in zip(p.keys, p.defaults, p.absolute(v), p.absolute(lo_v), p.absolute(hi_v),
                                       strict=True):
            lo, hi = min(lo, hi), max(lo, hi)
            kind, _, attr = split_key(key)
            meta = attribute(kind, attr)
            if meta is not None and meta.nonnegative:
                lo, nom = max(lo, 0.0), max(nom, 0.0)
            if meta is not None and meta.value == "int":
                nom, lo, hi = float(round(nom)), float(math.floor(lo)), float(math.ceil(hi))
            unit = meta.unit if meta is not None else ""
            out.append(Estimate(key, p.name, unit, d, nom, min(lo, nom), max(hi, nom), identifiable))
        if not identifiable:
            log.warning("%s: not identifiable from these logs; its range is the search bounds", p.name)
    return out


def calibrated_profile(items: Sequence[Estimate], base: Profile | None, scene: str, constant: bool = False) -> Profile:
    """``base`` (or a new profile for ``scene``) with a term setting each key (ranges, or constants)."""
    if base is None:
        base = parse_profile({
            "version": 1, "name": f"calibrated {scene}", "scene": scene,
            "description": "Made by sim2real sysid fit: nominal values at the identified estimates, ranges from "
                           "their confidence intervals times a safety factor.",
        })
    table: dict[str, tuple[Any, Any, Any]] = {}
    for e in items:
        table[e.key] = (e.value, e.value, e.value) if constant else (e.value, e.low, e.high)
    return base.calibrated(table)
