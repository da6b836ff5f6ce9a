"""Objects placed clear of each other: rejection sampling against their bounding boxes, as Replicator's
``scatter_2d(check_for_collisions=True)`` and BlenderProc's ``sample_poses``.

Object positions are drawn independently, so two objects can be drawn into each other (the demo's
profile did so in 27 % of its frames). After a reset sample is drawn, ``place`` walks the shown object
slots in order; each one's world-axis bounding box (its asset's collision support points at its drawn
scale and orientation, lifted onto its point as the backends rest it) is tested against the boxes of
the objects already placed. On a hit its position is drawn again, from the position term's own stream
at the next sub-index (``Randomizer.redraw``), up to the term's ``max_tries``; a layout that cannot fit
is one error naming the profile, the term and the object. The first draw is the term's ordinary one, so
a frame whose objects did not meet keeps its values and bytes, and no other term's value changes.

Objects whose position no placing term draws (``no_overlap = false``, or no position term) stay where
they are and are placed first, as obstacles. Boxes are conservative for rotated assets (a cube turned
45° occupies its box's corners only) and padded by ``PAD_M`` for the polygonal rims of cylinders.

A backend takes part by describing its slots (``DescribesFootprints``); the MuJoCo backend does. The
Isaac backend does not yet: there positions stay as drawn, and a profile that asks for ``no_overlap =
true`` explicitly is refused (docs/randomization.md, Placement).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError
from ..randomize.sample import Sample
from .labels import quat_multiply
from .ops import combine
from .rotations import matrix_from_quat, quat_from_rpy

log = logging.getLogger(__name__)
MAX_TRIES = 100  # draws per object when the term does not say (Replicator retries a fixed number too)
PAD_M = 0.002  # metres around each box: covers the polygon a cylinder's rim is sampled as


@dataclass(frozen=True)
class Footprint:
    """What a backend knows of one object slot's shapes (``scene:object_count`` fills slots in order)."""

    rest: np.ndarray  # (3,) the point it stands on by default, world metres
    rest_quat: np.ndarray  # (4,) its default orientation, wxyz
    default_asset: str
    shapes: Mapping[str, tuple[np.ndarray, np.ndarray]]  # asset -> support points (N, 3) body frame, radii (N,)


@runtime_checkable
class DescribesFootprints(Protocol):
    """Optional: a backend whose object slots ``place`` can keep apart."""

    def footprints(self) -> dict[str, Footprint]: ...


def box(fp: Footprint, asset: str, scale: float, rpy: np.ndarray, point: np.ndarray) -> np.ndarray:
    """``(2, 3)`` world-axis bounding box (low, high) of the asset standing on ``point``, metres."""
    rot = matrix_from_quat(quat_multiply(quat_from_rpy(rpy), fp.rest_quat))
    points, radii = fp.shapes[asset]
    p = (points * scale) @ rot.T
    r = (radii * scale)[:, None]
    low, high = (p - r).min(0), (p + r).max(0)
    lift = np.array([0.0, 0.0, -low[2]])  # lowest point on the point, as the backends rest objects
    return np.stack([point + low + lift - PAD_M, point + high + lift + PAD_M])


def _meet(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a[0] < b[1]) and np.all(b[0] < a[1]))


class Layout:
    """The objects of one environment of a reset: what is shown, and where each stands."""

    def __init__(self, footprints: Mapping[str, Footprint], values: Callable[[str], tuple[Any, str] | None]) -> None:
        self.fp, self.values = footprints, values
        count = self._get("scene:scene/object_count", len(footprints), round)
        self.shown = [n for i, n in enumerate(footprints) if i < count and self._get(f"object:{n}/visible", True, bool)]

    def _get(self, key: str, default: Any, cast: Callable[[Any], Any]) -> Any:
        got = self.values(key)
        if got is None:
            return default
        value, op = got
        return cast(value) if isinstance(value, bool | str | np.str_ | np.bool_) else cast(combine(default, value, op, key))

    def box_at(self, name: str, position: Any) -> np.ndarray:
        fp = self.fp[name]
        key = f"object:{name}/position"
        op = (self.values(key) or (None, "add"))[1]
        point = fp.rest if position is None else np.asarray(combine(fp.rest, np.asarray(position, float), op, key))
        return box(fp, self._get(f"object:{name}/asset", fp.default_asset, str),
                   self._get(f"object:{name}/scale", 1.0, float),
                   self._get(f"object:{name}/orientation", np.zeros(3), lambda v: np.asarray(v, float)), point)


def place(sample: Sample, startup: Sample | None, footprints: Mapping[str, Footprint], randomizer: Any,
          terms: Mapping[str, Any], envs: range) -> int:
    """Redraw the positions in ``sample`` (a reset sample, in place) of ``terms`` (``placed_terms``) until
    no two shown objects' boxes meet, for each environment in ``envs``; returns how many were redrawn."""
    redrawn = 0
    for env in envs:
        def values(key: str, env: int = env) -> tuple[Any, str] | None:
            for s in (sample, startup):
                if s is not None and key in s.values:
                    return s.values[key][env], s.ops[key]
            return None

        layout = Layout(footprints, values)
        fixed = [n for n in layout.shown if f"object:{n}/position" not in terms]
        placed = [layout.box_at(n, (values(f"object:{n}/position") or (None,))[0]) for n in fixed]
        for name in (n for n in layout.shown if n not in fixed):
            redrawn += _place_one(name, layout, placed, sample, randomizer, terms[f"object:{name}/position"], env)
    return redrawn


def _place_one(name: str, layout: Layout, placed: list[np.ndarray], sample: Sample, randomizer: Any, term: Any,
               env: int) -> int:
    key = f"object:{name}/position"
    tries = term.max_tries or MAX_TRIES
    value = sample.values[key][env]
    for attempt in range(tries):
        if attempt:
            value = randomizer.redraw(key, sample.index, attempt)[env]
        b = layout.box_at(name, value)
        if not any(_meet(b, other) for other in placed):
            placed.append(b)
            if attempt:
                sample.values[key][env] = value  # type: ignore[index]
            return int(attempt > 0)
    raise ConfigError(randomizer.profile.source, f"terms {term.id!r}",
                      f"room to place {name} clear of the {len(placed)} objects before it in {tries} draws "
                      f"(episode {sample.index}, env {env}); widen the term's range, lower scene:object_count "
                      f"or the scales, raise max_tries, or set no_overlap = false")
