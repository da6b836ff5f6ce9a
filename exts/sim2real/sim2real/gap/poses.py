"""Pose validation: position error, orientation error as a geodesic angle, thresholds, rolling stats.

Quaternions are ``(w, x, y, z)`` (scalar first) everywhere in sim2real. ROS messages carry fields
x, y, z, w and ``rosmsg`` converts them by name. (The seeds' node built xyzw arrays, reindexed them
``[1, 2, 3, 0]`` "from xyzw to wxyz" and handed them to scipy, which expects xyzw: the rotations
were wrong; their relative angle happened to survive because permuting both quaternions the same
way keeps their dot product, but any axis, yaw or composition taken from them would not.)

The orientation error between q1 and q2 is the angle of the rotation taking one to the other,
``2 * atan2(|vec(q1* q2)|, |w(q1* q2)|)`` in [0, pi] radians; the absolute value makes q and -q
(the same rotation) give 0.

Thresholds default to the seeds' node: 0.1 m and 0.2 rad. A sample is valid when both errors are
below them; the accuracy share is the fraction of valid samples (``pose_accuracy`` in the seeds
counted the position only; both are reported).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import InputError
from ..trajectory.align import match_nearest, overlap_window
from ..trajectory.rosmsg import POSE_CHANNELS
from ..trajectory.series import NS_PER_S, Trajectory


def normalize_quat(q: np.ndarray, source: str = "quaternion") -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(norm < 1e-9) or not np.all(np.isfinite(norm)):
        raise InputError(f"{source}: expected non-zero finite quaternions (w, x, y, z)")
    return q / norm


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    """Scalar-last (ROS message, scipy) to scalar-first (sim2real)."""
    q = np.asarray(q, dtype=np.float64)
    return np.concatenate([q[..., 3:4], q[..., :3]], axis=-1)


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return np.concatenate([q[..., 1:], q[..., :1]], axis=-1)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of wxyz quaternions (broadcasting)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def quat_conj(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def quat_angle(q1_wxyz: np.ndarray, q2_wxyz: np.ndarray) -> np.ndarray:
    """Geodesic angle in radians [0, pi] between rotations given as wxyz quaternions (q ~ -q)."""
    rel = quat_mul(quat_conj(normalize_quat(q1_wxyz)), normalize_quat(q2_wxyz))
    return 2.0 * np.arctan2(np.linalg.norm(rel[..., 1:], axis=-1), np.abs(rel[..., 0]))


def slerp(q0: np.ndarray, q1: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Spherical interpolation of wxyz quaternions, along the shorter arc, ``u`` in [0, 1]."""
    q0, q1 = normalize_quat(q0), normalize_quat(q1)
    u = np.asarray(u, dtype=np.float64)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin = np.sin(theta)
    small = sin < 1e-9
    safe = np.where(small, 1.0, sin)
    w0 = np.where(small, 1.0 - u, np.sin((1.0 - u) * theta) / safe)
    w1 = np.where(small, u, np.sin(u * theta) / safe)
    return normalize_quat(w0 * q0 + w1 * q1)


@dataclass
class PoseTrack:
    """Poses over time: positions in metres, orientations as unit quaternions (w, x, y, z)."""

    stamp_ns: np.ndarray  # (N,) int64, strictly increasing
    position: np.ndarray  # (N, 3) m
    quat_wxyz: np.ndarray  # (N, 4)
    source: str = ""

    @classmethod
    def from_trajectory(cls, traj: Trajectory) -> PoseTrack:
        """Needs channels x, y, z (m) and qw, qx, qy, qz (named, so their order in the file is free)."""
        sel = traj.select(POSE_CHANNELS)
        return cls(sel.stamp_ns, sel.values[:, :3], normalize_quat(sel.values[:, 3:], traj.source), traj.source)

    def at(self, stamp_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (linear) and orientations (slerp) interpolated at stamps inside the track's span."""
        stamp_ns = np.asarray(stamp_ns, dtype=np.int64)
        hi = np.clip(np.searchsorted(self.stamp_ns, stamp_ns, side="left"), 1, len(self.stamp_ns) - 1)
        lo = hi - 1
        span = (self.stamp_ns[hi] - self.stamp_ns[lo]).astype(np.float64)
        u = np.clip((stamp_ns - self.stamp_ns[lo]) / span, 0.0, 1.0)
        pos = self.position[lo] + u[:, None] * (self.position[hi] - self.position[lo])
        return pos, slerp(self.quat_wxyz[lo], self.quat_wxyz[hi], u)


@dataclass(frozen=True)
class PoseThresholds:
    """Tolerances of a valid pose (defaults: the seeds' node) and the share of valid poses to pass."""

    position_m: float = 0.1
    orientation_rad: float = 0.2
    pass_share: float = 0.95  # ours: the seeds gave no pass rule for a whole run


def rolling(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Trailing-window mean and max over the last ``window`` samples (fewer at the start)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v, v
    csum = np.concatenate([[0.0], np.cumsum(v)])
    idx = np.arange(1, len(v) + 1)
    start = np.maximum(idx - window, 0)
    mean = (csum[idx] - csum[start]) / (idx - start)
    padded = np.concatenate([np.full(window - 1, -np.inf), v])
    mx = np.lib.stride_tricks.sliding_window_view(padded, window).max(axis=1)
    return mean, mx


def summarize(pos_err: np.ndarray, ori_err: np.ndarray, th: PoseThresholds) -> dict[str, Any]:
    """Statistics of matched pose errors (metres, radians) against the thresholds."""
    pos_err = np.asarray(pos_err, dtype=np.float64)
    ori_err = np.asarray(ori_err, dtype=np.float64)
    n = len(pos_err)
    if n == 0:
        return {"n": 0}
    pos_ok = pos_err < th.position_m
    ori_ok = ori_err < th.orientation_rad
    accuracy = float(np.mean(pos_ok & ori_ok))
    return {
        "n": n,
        "position_error_m": _stats(pos_err),
        "orientation_error_rad": _stats(ori_err),
        "orientation_error_deg": _stats(np.degrees(ori_err)),
        "accuracy_position": float(np.mean(pos_ok)),
        "accuracy_orientation": float(np.mean(ori_ok)),
        "accuracy": accuracy,
        "passed": accuracy >= th.pass_share,
        "thresholds": {"position_m": th.position_m, "orientation_rad": th.orientation_rad, "pass_share": th.pass_share},
    }


def _stats(x: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(x)), "median": float(np.median(x)), "p95": float(np.percentile(x, 95)),
            "max": float(np.max(x)), "rmse": float(np.sqrt(np.mean(x**2)))}


@dataclass
class PoseValidation:
    """Per matched sample errors (t_s from the first match), the summary and rolling statistics."""

    t_s: np.ndarray
    position_error_m: np.ndarray
    orientation_error_rad: np.ndarray
    axis_error_m: np.ndarray | None  # (M, 3) sim - real; None from the live validator
    summary: dict[str, Any]
    window: int
    match: str
    unmatched: int
    overlap: dict[str, Any] = field(default_factory=dict)
    sim_position: np.ndarray | None = None
    real_position: np.ndarray | None = None

    def rolling(self) -> dict[str, np.ndarray]:
        pm, px = rolling(self.position_error_m, self.window)
        om, ox = rolling(self.orientation_error_rad, self.window)
        th = self.summary.get("thresholds", {})
        valid = (self.position_error_m < th.get("position_m", math.inf)) & (
            self.orientation_error_rad < th.get("orientation_rad", math.inf))
        acc, _ = rolling(valid.astype(np.float64), self.window)
        return {"position_mean_m": pm, "position_max_m": px, "orientation_mean_rad": om,
                "orientation_max_rad": ox, "accuracy": acc}

    def to_dict(self) -> dict[str, Any]:
        roll = self.rolling()
        return {"summary": self.summary, "match": self.match, "unmatched_real_samples": self.unmatched,
                "rolling_window": self.window, "overlap": self.overlap,
                "rolling_final": {k: float(v[-1]) for k, v in roll.items()} if len(self.t_s) else {},
                "rolling_worst": {"position_mean_m": float(roll["position_mean_m"].max()),
                                  "orientation_mean_rad": float(roll["orientation_mean_rad"].max()),
                                  "accuracy": float(roll["accuracy"].min())} if len(self.t_s) else {}}


def validate_poses(
    sim: PoseTrack, real: PoseTrack, thresholds: PoseThresholds = PoseThresholds(), window: int = 100,
    match: Literal["interpolate", "nearest"] = "interpolate", tolerance_s: float = 0.05, offset_s: float = 0.0,
) -> PoseValidation:
    """Compare sim poses with real poses at the real sample times.

    ``interpolate``: sim pose interpolated (linear position, slerp orientation) at each real time in
    the overlap. ``nearest``: the sim pose nearest in time (full timestamps) within ``tolerance_s``,
    as the live node does; real samples without one are counted as unmatched.
    """
    if window < 1:
        raise InputError(f"--window: expected a positive number of samples (got {window})")
    sim_ns = sim.stamp_ns + np.int64(round(offset_s * NS_PER_S))
    start, end = overlap_window(sim_ns, real.stamp_ns, sim.source, real.source)
    if match == "interpolate":
        inside = (real.stamp_ns >= start) & (real.stamp_ns <= end)
        stamps = real.stamp_ns[inside]
        shifted = PoseTrack(sim_ns, sim.position, sim.quat_wxyz, sim.source)
        sim_pos, sim_q = shifted.at(stamps)
        real_pos, real_q = real.position[inside], real.quat_wxyz[inside]
        unmatched = int((~inside).sum())
    elif match == "nearest":
        idx = match_nearest(real.stamp_ns, sim_ns, round(tolerance_s * NS_PER_S))
        ok = idx >= 0
        stamps = real.stamp_ns[ok]
        sim_pos, sim_q = sim.position[idx[ok]], sim.quat_wxyz[idx[ok]]
        real_pos, real_q = real.position[ok], real.quat_wxyz[ok]
        unmatched = int((~ok).sum())
    else:
        raise InputError(f"--match: expected 'interpolate' or 'nearest' (got {match!r})")
    if len(stamps) == 0:
        raise InputError(f"{sim.source} and {real.source}: no real pose has a sim pose to compare with")
    pos_err = np.linalg.norm(sim_pos - real_pos, axis=1)
    ori_err = quat_angle(sim_q, real_q)
    return PoseValidation(
        t_s=(stamps - stamps[0]) / NS_PER_S, position_error_m=pos_err, orientation_error_rad=ori_err,
        axis_error_m=sim_pos - real_pos, summary=summarize(pos_err, ori_err, thresholds), window=window,
        match=match, unmatched=unmatched,
        overlap={"start_ns": start, "end_ns": end, "duration_s": (end - start) / NS_PER_S, "offset_s": offset_s,
                 "n_samples": len(stamps)},
        sim_position=sim_pos, real_position=real_pos,
    )


@dataclass(frozen=True)
class PoseCheck:
    """The result for one real pose matched to a buffered sim pose."""

    stamp_ns: int
    position_error_m: float
    orientation_error_rad: float
    valid: bool
    rolling_accuracy: float
    rolling_position_mean_m: float


class StreamingPoseValidator:
    """The live validation logic (no ROS here): buffer sim poses, check each real pose as it arrives.

    Each real pose is matched to the buffered sim pose nearest in time on full timestamps, within
    ``tolerance_s``. Totals are kept as running sums; the last ``history`` errors are kept for
    reports, so memory stays bounded on a robot that runs for days.
    """

    def __init__(self, thresholds: PoseThresholds = PoseThresholds(), window: int = 100, buffer: int = 100,
                 tolerance_s: float = 0.05, history: int = 100_000) -> None:
        self.thresholds = thresholds
        self.tolerance_ns = round(tolerance_s * NS_PER_S)
        self.sim: deque[tuple[int, np.ndarray, np.ndarray]] = deque(maxlen=buffer)
        self.recent: deque[tuple[float, bool]] = deque(maxlen=window)
        self.history: deque[tuple[int, float, float]] = deque(maxlen=history)
        self.count = 0
        self.valid_count = 0
        self.unmatched = 0
        self.pos_sum = 0.0
        self.pos_max = 0.0
        self.ori_sum = 0.0
        self.ori_max = 0.0

    def add_sim(self, stamp_ns: int, position: np.ndarray, quat_wxyz: np.ndarray) -> None:
        self.sim.append((int(stamp_ns), np.asarray(position, float), np.asarray(quat_wxyz, float)))

    def add_real(self, stamp_ns: int, position: np.ndarray, quat_wxyz: np.ndarray) -> PoseCheck | None:
        """Check one real pose; None when no buffered sim pose is within the tolerance."""
        if not self.sim:
            self.unmatched += 1
            return None
        stamps = np.array([s[0] for s in self.sim], dtype=np.int64)
        order = np.argsort(stamps, kind="stable")
        i = int(match_nearest(np.array([stamp_ns]), stamps[order], self.tolerance_ns)[0])
        if i < 0:
            self.unmatched += 1
            return None
        _, sim_pos, sim_q = self.sim[int(order[i])]
        pos_err = float(np.linalg.norm(sim_pos - np.asarray(position, float)))
        ori_err = float(quat_angle(sim_q, np.asarray(quat_wxyz, float)))
        valid = pos_err < self.thresholds.position_m and ori_err < self.thresholds.orientation_rad
        self.count += 1
        self.valid_count += valid
        self.pos_sum += pos_err
        self.ori_sum += ori_err
        self.pos_max = max(self.pos_max, pos_err)
        self.ori_max = max(self.ori_max, ori_err)
        self.recent.append((pos_err, valid))
        self.history.append((int(stamp_ns), pos_err, ori_err))
        return PoseCheck(
            int(stamp_ns), pos_err, ori_err, valid,
            rolling_accuracy=sum(v for _, v in self.recent) / len(self.recent),
            rolling_position_mean_m=sum(p for p, _ in self.recent) / len(self.recent),
        )

    def summary(self) -> dict[str, Any]:
        """Totals over every checked pose (the seeds' generate_validation_report, extended)."""
        if not self.count:
            return {"n": 0, "unmatched": self.unmatched}
        accuracy = self.valid_count / self.count
        return {
            "n": self.count, "unmatched": self.unmatched,
            "position_error_m": {"mean": self.pos_sum / self.count, "max": self.pos_max},
            "orientation_error_rad": {"mean": self.ori_sum / self.count, "max": self.ori_max},
            "accuracy": accuracy, "passed": accuracy >= self.thresholds.pass_share,
        }

    def validation(self, window: int = 100) -> PoseValidation:
        """The kept history as a PoseValidation (for the same report as offline runs)."""
        if not self.history:
            raise InputError("no real pose was matched to a sim pose yet")
        h = np.array(self.history, dtype=np.float64)
        stamps = np.array([s for s, _, _ in self.history], dtype=np.int64)
        return PoseValidation(
            t_s=(stamps - stamps[0]) / NS_PER_S, position_error_m=h[:, 1], orientation_error_rad=h[:, 2],
            axis_error_m=None, summary=summarize(h[:, 1], h[:, 2], self.thresholds),
            window=window, match="nearest (live)", unmatched=self.unmatched,
        )


def replay(sim: PoseTrack, real: PoseTrack, validator: StreamingPoseValidator) -> list[PoseCheck | None]:
    """Feed two tracks through the live validator in time order (sim first on equal stamps)."""
    events = [(int(s), 0, i) for i, s in enumerate(sim.stamp_ns)] + [(int(s), 1, i) for i, s in enumerate(real.stamp_ns)]
    out: list[PoseCheck | None] = []
    for stamp, side, i in sorted(events):
        if side == 0:
            validator.add_sim(stamp, sim.position[i], sim.quat_wxyz[i])
        else:
            out.append(validator.add_real(stamp, real.position[i], real.quat_wxyz[i]))
    return out
