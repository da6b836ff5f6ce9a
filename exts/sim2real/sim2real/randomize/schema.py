"""The TOML profile format as pydantic models (structure and types; meaning is checked in validate.py).

Numbers go through ``_num``: booleans, strings and non-finite or huge values are refused (pydantic's
lax mode would turn ``true`` into 1.0 and ``"2"`` into 2.0 in a physics range).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr

from ..config import StrictModel
from . import dists
from .dist_specs import DIST_SPECS
from .spellings import FROM_ISAACLAB_DIST, FROM_ISAACLAB_OP
from .targets import Attribute

MAX_MAGNITUDE = 1e15  # no physical parameter is larger; keeps high - low finite
DistKind = Literal["uniform", "loguniform", "normal", "truncnormal", "choice", "constant"]
When = Literal["startup", "reset", "interval", "frame"]
OpName = Literal["set", "scale", "add"]

# which keys each distribution takes (the rest must be absent)
DIST_KEYS: dict[str, tuple[str, ...]] = {name: spec.keys for name, spec in DIST_SPECS.items()}
DIST_FIELDS = ("low", "high", "mean", "std", "values", "weights", "folder", "value")


def _num(v: Any) -> int | float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError("expected a number")
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"expected a number of magnitude at most {MAX_MAGNITUDE:g}") from None
    if not math.isfinite(f):
        raise ValueError("expected a finite number")
    if abs(f) > MAX_MAGNITUDE:
        raise ValueError(f"expected a number of magnitude at most {MAX_MAGNITUDE:g}")
    return v


def _vec(v: Any) -> int | float | list[int | float]:
    if isinstance(v, list):
        if not v:
            raise ValueError("expected a number or a non-empty list of numbers")
        return [_num(x) for x in v]
    return _num(v)


def _value(v: Any) -> Any:
    """A constant/choice value: number, list of numbers (a vector), boolean or string."""
    if isinstance(v, bool | str):
        return v
    return _vec(v)


def _pair(v: Any) -> list[int | float]:
    if not isinstance(v, list) or len(v) != 2:
        raise ValueError("expected a list of two numbers [low, high]")
    lo, hi = _num(v[0]), _num(v[1])
    if lo > hi:
        raise ValueError(f"expected [low, high] with low <= high (got [{lo}, {hi}])")
    return [lo, hi]


def _name(v: Any) -> str:
    if not isinstance(v, str) or not 1 <= len(v) <= 120 or any(ord(c) < 32 for c in v):
        raise ValueError("expected a name of 1 to 120 printable characters")
    return v


def _alias(table: dict[str, str]) -> Any:
    """A BeforeValidator reading another tool's spelling as ours (Isaac Lab's ``log_uniform``, ``gaussian``,
    ``abs``: ``spellings.py``); the profile keeps our name, so both spellings hash alike."""
    return BeforeValidator(lambda v: table.get(v, v) if isinstance(v, str) else v)


Num = Annotated[float, BeforeValidator(_num)]
Vec = Annotated[Any, BeforeValidator(_vec)]
Value = Annotated[Any, BeforeValidator(_value)]
Pair = Annotated[list[float], BeforeValidator(_pair)]
Name = Annotated[str, BeforeValidator(_name)]


class DistFields(StrictModel):
    """A distribution written flat in its term: ``dist = "uniform"``, ``low = 0.5``, ``high = 1.5``."""

    dist: Annotated[DistKind | None, _alias(FROM_ISAACLAB_DIST)] = None
    low: Vec | None = None
    high: Vec | None = None
    mean: Vec | None = None
    std: Vec | None = None
    values: list[Value] | None = None
    weights: list[Num] | None = None
    folder: StrictStr | None = None
    value: Value | None = None
    op: Annotated[OpName | None, _alias(FROM_ISAACLAB_OP)] = None

    def op_for(self, attr: Attribute) -> str:
        return self.op or attr.default_op

    def compile(self, attr: Attribute, files: list[str] | None = None) -> dists.Dist:
        """The sampler-ready distribution (the term has been validated against ``attr``)."""
        return DIST_SPECS[self.dist or "constant"].compile(self, attr, files)


class Signal(StrictModel):
    """A time-varying offset added to a reset term's value during the episode."""

    kind: Literal["sinusoid", "ou", "random_walk", "hold"]
    amplitude: Vec | None = None  # sinusoid: attribute units
    frequency_hz: Num | None = None  # sinusoid
    phase: Any = None  # sinusoid: radians or "random" (checked in validate.py)
    theta: Num | None = None  # ou: mean-reversion rate, 1/s
    sigma: Vec | None = None  # ou, random_walk: diffusion, attribute units per sqrt(s)
    hold_s: Num | None = None  # hold: seconds between redraws
    every: StrictInt = Field(1, ge=1)  # physics steps between updates
    clip: Pair | None = None


SIGNAL_KEYS: dict[str, tuple[str, ...]] = {
    "sinusoid": ("amplitude", "frequency_hz", "phase"),
    "ou": ("theta", "sigma"),
    "random_walk": ("sigma",),
    "hold": ("hold_s",),
}
SIGNAL_REQUIRED: dict[str, tuple[str, ...]] = {
    "sinusoid": ("amplitude", "frequency_hz"),
    "ou": ("theta", "sigma"),
    "random_walk": ("sigma",),
    "hold": ("hold_s",),
}


class Term(DistFields):
    name: Name | None = None  # default: the target text
    target: StrictStr
    when: When = "reset"
    every: StrictInt | None = Field(None, ge=1)  # interval terms: physics steps between draws
    signal: Signal | None = None
    optional: StrictBool = False  # skip (and log) instead of failing when the selector matches nothing
    # one draw for every matched entity (tied parameters: one delay for one bus); None, not False, by
    # default so that profiles without it keep their normalised form and hash
    shared: StrictBool | None = None
    # object:*/position terms: redraw (from this term's own stream) until no two shown objects' bounding
    # boxes meet, as Replicator's scatter_2d(check_for_collisions=True); None: on (sim.placement)
    no_overlap: StrictBool | None = None
    max_tries: StrictInt | None = Field(None, ge=1, le=10_000)  # draws per object before the layout fails

    @property
    def id(self) -> str:
        return self.name or self.target


class Derive(StrictModel):
    """``value = offset + scale * <source member> + noise``, then clipped (a declared correlation)."""

    source: Name
    scale: Num = 1.0
    offset: Vec = 0.0
    noise_std: Num = Field(0.0, ge=0)
    clip: Pair | None = None


class Member(DistFields):
    name: Name
    target: StrictStr
    derive: Derive | None = None


class Group(StrictModel):
    """Terms sampled jointly: order constraints and derived (correlated) members."""

    name: Name
    when: When = "reset"
    every: StrictInt | None = Field(None, ge=1)
    members: list[Member] = Field(min_length=1)
    constraints: list[StrictStr] = []


class Curriculum(StrictModel):
    """Phases that scale ranges about their centre: widen (start < end) or narrow (start > end)."""

    scales: list[Annotated[float, BeforeValidator(_num), Field(ge=0)]] | None = None
    start: Num | None = Field(None, ge=0)
    end: Num | None = Field(None, ge=0)
    phases: StrictInt | None = Field(None, ge=1, le=10_000)
    episodes_per_phase: StrictInt = Field(0, ge=0)  # 0: the phase is set by the caller (set_phase)
    terms: list[StrictStr] = ["*"]  # term ids (names) / "group/member" patterns it applies to

    def scale_list(self) -> list[float]:
        if self.scales is not None:
            return list(self.scales)
        start, end, n = (
            float(self.start or 0.0),
            float(self.end if self.end is not None else 1.0),
            self.phases or 1,
        )
        if n == 1:
            return [end]
        return [start + (end - start) * p / (n - 1) for p in range(n)]


class AdrParam(StrictModel):
    term: StrictStr
    limits: Pair  # how far the range may widen
    step: Num = Field(0.01, gt=0)
    step_mode: Literal["add", "mul"] = "add"


class Adr(StrictModel):
    boundary_fraction: Num = Field(0.4, gt=0, le=1)
    buffer_size: StrictInt = Field(256, ge=1, le=1_000_000)
    threshold_low: Num
    threshold_high: Num
    clear_all_buffers: StrictBool = False
    params: list[AdrParam] = Field(min_length=1)
