"""What ``Sim2RealWriter`` decides, without Kit: which randomization record a frame Replicator delivers
carries, which frames a dataset still misses, and which camera a render product shows.

Replicator may render asynchronously: the writer can receive frame ``i``'s annotator outputs after the
stage was already prepared for frame ``i + 1``, so "the randomizer's current record" is not the frame's.
The state a frame shows besides its pixels (``FrameState``: the record, the labelled objects and their
poses, the sensor effects) is therefore taken when the frame is *captured* (right after
``rep.orchestrator.step`` returns, when nothing was prepared since), keyed by the frame time it was
captured at; a delivered frame takes the state captured at its ``data["reference_time"]``.

Which clock, and what equality (Isaac Sim 5.1 source): ``data["reference_time"]`` is the writer node's
``referenceTimeNumerator/Denominator``, fed by a ``RationalTimeSyncGate`` from Replicator's
``ReadFabricTime`` node: the Fabric frame time, an ``omni::fabric::RationalTime`` (int64 numerator,
uint64 denominator). Replicator's own ``Writer._write`` compares it exactly, as a reduced fraction
(``get_reduced_ref_time``), with the times its trigger scheduled. The capture side reads the same clock:
the simulation manager's ``get_current_time()`` returns "the current frame time from StageReaderWriter's
getFrameTime()" as a ``RationalTime`` (``isaacsim.core.simulation_manager``
``TimeSampleStorage.cpp`` ``getCurrentTime``; the pairing of a render's reference time with that clock is
Isaac Sim's own, ``isaacsim.sensors.camera`` ``camera.py`` and ``isaacsim.core.nodes``
``tests/test_annotators.py``). So times are keyed as exact ``Fraction``s (``frame_time``), never rounded
floats: 1/60 s and a float near it are different keys. Only when that clock is unavailable (it returns
``kInvalidRationalTime``) is the timeline's float time used, as the nearest fraction with a denominator up
to ``MAX_DENOMINATOR`` (exact for the frame rates a stage uses: ``k/60`` comes back as ``k/60``).
``FrameRecords`` matches the two in either order (a synchronous render delivers during the step, before
the capture is registered):

* with the timeline advancing between captures (``orchestrator.step``'s default ``delta_time``) every
  frame has its own time and deliveries may come late, in any order;
* with ``delta_time=0.0`` every frame has the same time: the caller waits for each frame
  (``orchestrator.wait_until_complete``) and ``retire``s it before preparing the next; a second capture
  at a time whose frame was not delivered yet is refused (one line, naming the fix), never guessed;
* a delivery no capture matches (capture on play left on, a step without ``captured``) never takes
  another frame's record: it waits, and ``finish`` refuses what is left.
"""

from __future__ import annotations

import logging
import math
import numbers
import operator
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ...errors import InputError, RenderError, UserError
from ..effects import ImageEffects
from .annotators import SceneObject

log = logging.getLogger(__name__)

MAX_DENOMINATOR = 1_000_000  # a float frame time is read as the nearest fraction with a denominator up to this
MAX_WAITING = 8  # deliveries held for a capture not registered yet (each holds a frame's images)
MAX_KEPT = 64  # delivered captures remembered (a late repeat of one of them is recognised as such)


class CaptureError(RenderError):
    """A frame Replicator delivered cannot be matched to the frame that was captured."""


@dataclass(frozen=True)
class FrameState:
    """What a frame shows besides its pixels, as it was when the frame was captured."""

    objects: tuple[SceneObject, ...]
    classes: Mapping[str, int]
    record: Mapping[str, Any]
    effects: Mapping[str, ImageEffects]  # by camera
    seed: int  # of the latest sample: with the frame index, it seeds the sensor noise
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Captured:
    index: int
    time: Fraction  # the frame time (s), exact
    state: Any  # what the caller took at capture (Sim2RealWriter: a FrameState per environment)
    delivered: bool = False


def _rational(value: Any) -> Fraction | None:
    """``value`` as an exact fraction: a (numerator, denominator) pair, a ``RationalTime``-like object, an int;
    None for an invalid one (``kInvalidRationalTime``: a negative numerator or a zero denominator)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    pair = (value.numerator, value.denominator) if hasattr(value, "denominator") else value
    try:
        numerator, denominator = pair
        if isinstance(numerator, bool) or isinstance(denominator, bool):
            return None
        numerator, denominator = operator.index(numerator), operator.index(denominator)
    except (TypeError, ValueError):
        return None
    return Fraction(numerator, denominator) if numerator >= 0 and denominator > 0 else None


def frame_time(rational: Any, fallback_s: float | None = None) -> Fraction:
    """The frame time to key a capture by: ``rational`` (the simulation manager's ``get_current_time()``)
    when it is a valid rational time, else ``fallback_s`` (the timeline's float time) as the nearest fraction
    with a denominator up to ``MAX_DENOMINATOR``."""
    exact = _rational(rational)
    if exact is not None:
        return exact
    if fallback_s is None or not math.isfinite(fallback_s) or fallback_s < 0:
        raise RenderError(f"capture: the frame time is unavailable (simulation manager: {rational!r}, timeline: "
                          f"{fallback_s!r}); start the timeline before capturing")
    return Fraction(fallback_s).limit_denominator(MAX_DENOMINATOR)


def reference_time(data: Mapping[str, Any]) -> Fraction:
    """The frame time of a writer's ``data``: ``data["reference_time"]`` = (numerator, denominator), exact."""
    ref = data.get("reference_time")
    exact = None if isinstance(ref, (str, bytes)) else _rational(ref)
    if exact is None or isinstance(ref, numbers.Integral):
        raise InputError(f"writer data: expected reference_time = (numerator >= 0, denominator > 0), got {ref!r}")
    return exact


class FrameRecords:
    """Captured frames and delivered data, matched by time. Thread-safe (Replicator may write from another
    thread). ``captured`` and ``delivered`` return the (capture, payload) pairs that met."""

    def __init__(self, max_waiting: int = MAX_WAITING, max_kept: int = MAX_KEPT) -> None:
        self.max_waiting = max_waiting
        self.max_kept = max_kept
        self._captured: dict[Fraction, Captured] = {}  # frame time -> the latest capture at that time
        self._waiting: dict[Fraction, list[Any]] = {}  # frame time -> payloads delivered before their capture
        self._lock = threading.Lock()

    def captured(self, index: int, time: Fraction, state: Any) -> list[tuple[Captured, Any]]:
        """Frame ``index`` was captured at frame time ``time`` (s, exact: ``frame_time``) showing ``state``."""
        key = Fraction(time)
        with self._lock:
            previous = self._captured.get(key)
            if previous is not None and not previous.delivered and previous.index != index:
                raise UserError(f"frames {previous.index} and {index} were both captured at {_seconds(key)} before "
                                f"Replicator delivered frame {previous.index}, so their records cannot be told "
                                "apart: advance the timeline between captures (orchestrator.step delta_time > 0) "
                                "or wait for each frame (orchestrator.wait_until_complete) before the next")
            capture = Captured(index, key, state)
            self._captured.pop(key, None)
            self._captured[key] = capture  # newest last
            for old in [k for k, c in self._captured.items() if c.delivered][:-self.max_kept or None]:
                del self._captured[old]
            return self._pair(key, capture, self._waiting.pop(key, []))

    def delivered(self, time: Fraction, payload: Any) -> list[tuple[Captured, Any]]:
        """Replicator delivered ``payload`` for the frame at ``time`` (``reference_time``): paired with the
        capture at exactly that time (again, if it was delivered before: the sink drops the repeat), else held
        until it comes."""
        key = Fraction(time)
        with self._lock:
            capture = self._captured.get(key)
            if capture is not None:
                return self._pair(key, capture, [payload])
            self._waiting.setdefault(key, []).append(payload)
            waiting = sum(len(v) for v in self._waiting.values())
            if waiting > self.max_waiting:
                raise CaptureError(f"Replicator delivered {waiting} frames that no capture matches ({self._times()}; "
                                   f"captured: {self._captured_times()}): register every frame right after "
                                   "orchestrator.step (Sim2RealWriter.capture / captured) and turn capture on play off")
            return []

    def retire(self, index: int) -> None:
        """Forget delivered frame ``index``: later deliveries at its time wait for the next capture there (a
        stopped timeline captures every frame at the same time)."""
        with self._lock:
            for key, capture in list(self._captured.items()):
                if capture.index == index:
                    if not capture.delivered:
                        raise CaptureError(f"frame {index}: retired before Replicator delivered it")
                    del self._captured[key]

    @staticmethod
    def _pair(key: Fraction, capture: Captured, payloads: list[Any]) -> list[tuple[Captured, Any]]:
        if payloads:
            capture.delivered = True
        return [(capture, p) for p in payloads]

    def finish(self) -> None:
        """Every capture was delivered and every delivery matched, else a one-line ``CaptureError``."""
        with self._lock:
            if self._waiting:
                raise CaptureError(f"Replicator delivered frames at {self._times()} that no capture matches "
                                   f"(captured: {self._captured_times()})")
            missing = sorted(c.index for c in self._captured.values() if not c.delivered)
            if missing:
                raise CaptureError(f"frames {', '.join(map(str, missing))} were captured but Replicator delivered "
                                   "no data for them (wait with orchestrator.wait_until_complete before finishing)")

    def _times(self) -> str:
        return ", ".join(_seconds(k) for k in sorted(self._waiting)) or "none"

    def _captured_times(self) -> str:
        caps = sorted(self._captured.values(), key=lambda c: c.time)
        return ", ".join(f"frame {c.index} at {_seconds(c.time)}" for c in caps[-4:]) or "none"


def _seconds(time: Fraction) -> str:
    """A frame time for a message: seconds, and the exact fraction when the float would hide it."""
    text = f"{float(time):.6g} s"
    return text if Fraction(float(f"{float(time):.6g}")) == time else f"{text} ({time})"


class PendingFrames:
    """The frame indices a dataset still misses (resume), in order; a frame delivered again is skipped."""

    def __init__(self, missing: Sequence[int]) -> None:
        self._pending = list(missing)
        self._left = set(self._pending)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([i for i in self._pending if i in self._left])

    def __len__(self) -> int:
        return len(self._left)

    def take(self, index: int) -> bool:
        """True the first time ``index`` is delivered while missing; False (logged) for one the dataset
        holds already or that was delivered before."""
        if index not in self._left:
            log.info("frame %d is already in the dataset; not written again", index)
            return False
        self._left.discard(index)
        return True


def camera_of(camera_path: str | None, cameras: Mapping[tuple[str, int], str], render_product: str) -> tuple[str, int]:
    """The (camera entity, environment) a render product shows, from the prim its ``camera`` relationship
    targets; a prim that is no camera of the stage is refused (a frame is never named after the render
    product)."""
    for (name, env), path in cameras.items():
        if camera_path is not None and str(path) == str(camera_path):
            return name, env
    known = ", ".join(sorted({n for n, _ in cameras})) or "none"
    raise UserError(f"render product {render_product}: shows {camera_path or 'no camera'}, not a camera of the "
                    f"stage (known: {known}); create it from one of the stage's cameras")
