"""Putting a simulated and a real time series on one clock.

Both sides keep full int64-nanosecond timestamps; differences are taken in integers before turning
into float seconds relative to the start of the overlap, so that epoch-sized stamps lose nothing.

* ``align``: keep the time window both sides cover (the overlap), then linearly interpolate one
  side at the other's sample times (or both on a uniform grid). Grid points that fall in a hole of
  the interpolated side (a gap longer than ``max_gap_s``) are dropped rather than invented.
* ``resample``: one recording interpolated on any clock (the holes it has are reported, not invented);
* ``match_nearest``: for each query stamp, the index of the reference stamp nearest in time, or
  -1 when none lies within the tolerance (the live pose validator uses it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from ..errors import InputError
from .series import NS_PER_S, Trajectory, common_channels

Clock = Literal["real", "sim"] | float
GAP_FACTOR = 10.0  # default max_gap_s = GAP_FACTOR x the median sample period of the interpolated side


@dataclass(frozen=True)
class Overlap:
    """What part of each recording the comparison used."""

    start_ns: int
    end_ns: int
    duration_s: float
    sim_coverage: float  # fraction of the sim recording's duration inside the overlap
    real_coverage: float
    n_samples: int  # points on the common clock
    clock: str  # "real", "sim" or "uniform@<rate> Hz"
    offset_s: float  # added to sim timestamps before aligning
    dropped_in_gaps: int  # common-clock points dropped because one side had a hole there

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass
class Aligned:
    """Both sides sampled at the same instants ``t_s`` (seconds from the overlap start)."""

    t_s: np.ndarray  # (M,)
    sim: np.ndarray  # (M, C)
    real: np.ndarray  # (M, C)
    channels: list[str]
    units: list[str]
    overlap: Overlap


def overlap_window(sim_ns: np.ndarray, real_ns: np.ndarray, sim_src: str = "sim", real_src: str = "real") -> tuple[int, int]:
    start = max(int(sim_ns[0]), int(real_ns[0]))
    end = min(int(sim_ns[-1]), int(real_ns[-1]))
    if end <= start:
        raise InputError(
            f"{sim_src} covers {_span(sim_ns)} and {real_src} covers {_span(real_ns)}: expected recordings that "
            "overlap in time; if their clocks start at different origins use --offset start (or a value in seconds)"
        )
    return start, end


def start_offset_s(sim: Trajectory, real: Trajectory) -> float:
    """The offset that makes the sim recording start when the real one does."""
    return (int(real.stamp_ns[0]) - int(sim.stamp_ns[0])) / NS_PER_S


def align(
    sim: Trajectory, real: Trajectory, channels: list[str] | None = None, clock: Clock = "real",
    offset_s: float = 0.0, max_gap_s: float | None = None,
) -> Aligned:
    """Sample sim and real at common instants inside their overlap.

    ``clock``: "real" keeps the real sample times (sim interpolated: measured data stays untouched),
    "sim" the reverse, a number (Hz) a uniform grid where both are interpolated.
    ``offset_s`` is added to sim's timestamps first (clocks with different origins, known delays).
    """
    names = common_channels(sim, real, channels)
    sim, real = sim.select(names), real.select(names)
    offset_ns = round(offset_s * NS_PER_S)
    sim_ns = sim.stamp_ns + np.int64(offset_ns)
    start, end = overlap_window(sim_ns, real.stamp_ns, sim.source, real.source)

    if clock == "real":
        grid = real.stamp_ns[(real.stamp_ns >= start) & (real.stamp_ns <= end)]
        label = "real"
    elif clock == "sim":
        grid = sim_ns[(sim_ns >= start) & (sim_ns <= end)]
        label = "sim"
    else:
        rate = float(clock)
        if not rate > 0:
            raise InputError(f"--clock: expected 'real', 'sim' or a rate in Hz > 0 (got {clock!r})")
        step = NS_PER_S / rate
        grid = start + np.round(np.arange(int((end - start) // step) + 1) * step).astype(np.int64)
        label = f"uniform@{rate:g} Hz"

    keep = np.ones(len(grid), bool)
    if label != "real":
        keep &= _covered(real.stamp_ns, grid, max_gap_s)
    if label != "sim":
        keep &= _covered(sim_ns, grid, max_gap_s)
    grid = grid[keep]
    if len(grid) < 2:
        raise InputError(f"{sim.source} and {real.source}: fewer than 2 common samples in the overlap {_span(np.array([start, end]))}")

    t_s = (grid - start) / NS_PER_S
    sim_vals = _interp(sim_ns, sim.values, grid, start) if label != "sim" else sim.values[np.isin(sim_ns, grid)]
    real_vals = _interp(real.stamp_ns, real.values, grid, start) if label != "real" else real.values[np.isin(real.stamp_ns, grid)]
    overlap = Overlap(
        start_ns=start, end_ns=end, duration_s=(end - start) / NS_PER_S,
        sim_coverage=(end - start) / max(int(sim_ns[-1] - sim_ns[0]), 1),
        real_coverage=(end - start) / max(int(real.stamp_ns[-1] - real.stamp_ns[0]), 1),
        n_samples=len(grid), clock=label, offset_s=offset_ns / NS_PER_S, dropped_in_gaps=int((~keep).sum()),
    )
    return Aligned(t_s, sim_vals, real_vals, names, list(real.units), overlap)


def resample(traj: Trajectory, grid_ns: np.ndarray, max_gap_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``traj`` linearly interpolated at the int64-ns ``grid_ns``: ``(values (M, C), covered (M,))``, where
    ``covered`` is False at grid points outside the recording or in one of its holes (rows there are
    interpolated anyway; drop them)."""
    grid_ns = np.asarray(grid_ns, dtype=np.int64)
    covered = _covered(traj.stamp_ns, grid_ns, max_gap_s)
    return _interp(traj.stamp_ns, traj.values, grid_ns, int(traj.stamp_ns[0])), covered


def match_nearest(query_ns: np.ndarray, ref_ns: np.ndarray, tolerance_ns: int) -> np.ndarray:
    """Index into sorted ``ref_ns`` of the stamp nearest each query stamp; -1 if farther than tolerance.

    Both are full int64 nanosecond stamps, so 10.5 s and 11.5 s are one second apart, not equal.
    """
    query_ns = np.asarray(query_ns, dtype=np.int64)
    ref_ns = np.asarray(ref_ns, dtype=np.int64)
    if len(ref_ns) == 0:
        return np.full(len(query_ns), -1, dtype=np.int64)
    right = np.clip(np.searchsorted(ref_ns, query_ns), 0, len(ref_ns) - 1)
    left = np.clip(right - 1, 0, len(ref_ns) - 1)
    d_right = np.abs(ref_ns[right] - query_ns)
    d_left = np.abs(query_ns - ref_ns[left])
    best = np.where(d_left <= d_right, left, right)
    dist = np.minimum(d_left, d_right)
    return np.where(dist <= tolerance_ns, best, -1).astype(np.int64)


def _covered(src_ns: np.ndarray, grid: np.ndarray, max_gap_s: float | None) -> np.ndarray:
    """True where ``grid`` lies inside ``src``'s span and the bracketing samples are close enough."""
    inside = (grid >= src_ns[0]) & (grid <= src_ns[-1])
    gaps = np.diff(src_ns)
    limit = (max_gap_s * NS_PER_S) if max_gap_s is not None else GAP_FACTOR * float(np.median(gaps))
    idx = np.clip(np.searchsorted(src_ns, grid, side="right") - 1, 0, len(gaps) - 1)
    exact = np.isin(grid, src_ns)
    return inside & ((gaps[idx] <= limit) | exact)


def _interp(src_ns: np.ndarray, values: np.ndarray, grid: np.ndarray, origin: int) -> np.ndarray:
    x = (src_ns - origin) / NS_PER_S
    xq = (grid - origin) / NS_PER_S
    return np.stack([np.interp(xq, x, values[:, c]) for c in range(values.shape[1])], axis=1)


def _span(ns: np.ndarray) -> str:
    return f"[{int(ns[0]) / NS_PER_S:.3f} s, {int(ns[-1]) / NS_PER_S:.3f} s]"
