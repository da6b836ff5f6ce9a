"""Time series of named channels with exact timestamps.

Timestamps are kept as int64 nanoseconds (``sec * 1_000_000_000 + nanosec``, the ROS
``builtin_interfaces/Time`` split joined), so that two clocks are compared on their full value.
The seeds matched poses on the ``nanosec`` field alone, which pairs samples a whole number of
seconds apart; this module never looks at one field without the other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000


def stamps_from_sec_nanosec(sec: np.ndarray, nanosec: np.ndarray, source: str = "") -> np.ndarray:
    """Join ROS-style (sec, nanosec) into int64 nanoseconds; nanosec must be in [0, 1e9)."""
    sec = np.asarray(sec)
    nanosec = np.asarray(nanosec)
    for name, arr in (("sec", sec), ("nanosec", nanosec)):
        if arr.dtype.kind == "f" and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
            raise InputError(f"{source}: {name}: expected whole numbers")
    sec = sec.astype(np.int64)
    nanosec = nanosec.astype(np.int64)
    if np.any((nanosec < 0) | (nanosec >= NS_PER_S)):
        raise InputError(f"{source}: nanosec: expected values in [0, 1e9) (got {int(nanosec.min())}..{int(nanosec.max())})")
    return sec * NS_PER_S + nanosec


def stamps_from_seconds(t_s: np.ndarray, source: str = "") -> np.ndarray:
    """Float seconds to int64 nanoseconds (rounded; float64 keeps ~0.2 µs at epoch-sized values)."""
    t = np.asarray(t_s, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise InputError(f"{source}: t: expected finite times in seconds")
    whole = np.floor(t)
    return whole.astype(np.int64) * NS_PER_S + np.round((t - whole) * NS_PER_S).astype(np.int64)


@dataclass
class Trajectory:
    """Samples of named channels: ``values[i, c]`` is channel ``c`` at ``stamp_ns[i]``.

    ``stamp_ns`` is strictly increasing int64 nanoseconds; ``units`` are per channel ("" if unknown).
    """

    stamp_ns: np.ndarray  # (N,) int64
    values: np.ndarray  # (N, C) float64
    channels: list[str]
    units: list[str] = field(default_factory=list)
    source: str = ""
    dropped: dict[str, int] = field(default_factory=dict)  # rows removed on load, by reason

    def __post_init__(self) -> None:
        self.stamp_ns = np.asarray(self.stamp_ns, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        if not self.units:
            self.units = [""] * len(self.channels)
        if self.values.shape != (len(self.stamp_ns), len(self.channels)) or len(self.units) != len(self.channels):
            raise InputError(
                f"{self.source}: expected values of shape ({len(self.stamp_ns)}, {len(self.channels)}) "
                f"(got {self.values.shape})"
            )
        if len(self.stamp_ns) > 1 and np.any(np.diff(self.stamp_ns) <= 0):
            raise InputError(f"{self.source}: expected strictly increasing timestamps (use Trajectory.clean)")

    @classmethod
    def clean(cls, stamp_ns: np.ndarray, values: np.ndarray, channels: Sequence[str],
              units: Sequence[str] | None = None, source: str = "") -> Trajectory:
        """Sort by time, drop rows with NaN/inf and repeated timestamps (first kept), count them."""
        stamp_ns = np.asarray(stamp_ns, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64).reshape(len(stamp_ns), -1)
        dropped: dict[str, int] = {}
        finite = np.all(np.isfinite(values), axis=1)
        if not finite.all():
            dropped["non_finite"] = int((~finite).sum())
            stamp_ns, values = stamp_ns[finite], values[finite]
        order = np.argsort(stamp_ns, kind="stable")
        stamp_ns, values = stamp_ns[order], values[order]
        keep = np.ones(len(stamp_ns), bool)
        keep[1:] = np.diff(stamp_ns) > 0
        if not keep.all():
            dropped["duplicate_stamp"] = int((~keep).sum())
            stamp_ns, values = stamp_ns[keep], values[keep]
        if dropped:
            log.warning("%s: dropped rows %s", source, dropped)
        if len(stamp_ns) < 2:
            raise InputError(f"{source}: expected at least 2 samples with finite values (got {len(stamp_ns)})")
        return cls(stamp_ns, values, list(channels), list(units or []), source, dropped)

    def __len__(self) -> int:
        return len(self.stamp_ns)

    @property
    def duration_s(self) -> float:
        return (int(self.stamp_ns[-1]) - int(self.stamp_ns[0])) / NS_PER_S

    @property
    def rate_hz(self) -> float:
        """Median sample rate."""
        return NS_PER_S / float(np.median(np.diff(self.stamp_ns)))

    def select(self, channels: Sequence[str]) -> Trajectory:
        """The named channels, in that order (one-line error naming those that are missing)."""
        missing = [c for c in channels if c not in self.channels]
        if missing:
            raise InputError(f"{self.source}: no channel {', '.join(map(repr, missing))} "
                             f"(available: {', '.join(self.channels)})")
        idx = [self.channels.index(c) for c in channels]
        return Trajectory(self.stamp_ns, self.values[:, idx], list(channels), [self.units[i] for i in idx],
                          self.source, dict(self.dropped))

    def shifted(self, offset_ns: int) -> Trajectory:
        """The same samples with ``offset_ns`` added to every timestamp."""
        return Trajectory(self.stamp_ns + np.int64(offset_ns), self.values, list(self.channels), list(self.units),
                          self.source, dict(self.dropped))


def common_channels(sim: Trajectory, real: Trajectory, wanted: Sequence[str] | None = None) -> list[str]:
    """The channels to compare: ``wanted`` if given, else those both sides have (in sim's order)."""
    if wanted:
        sim.select(wanted)
        real.select(wanted)
        return list(wanted)
    both = [c for c in sim.channels if c in real.channels]
    if not both:
        raise InputError(
            f"{sim.source} and {real.source}: expected channels with the same names "
            f"(sim has {', '.join(sim.channels)}; real has {', '.join(real.channels)}); choose with --channels"
        )
    return both
