"""Pose validation: quaternion order and geodesic angle, slerp, thresholds, rolling stats, the live logic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from gap_helpers import EPOCH_S, NS, pose_msg, typestore, yaw_quat_wxyz
from scipy.spatial.transform import Rotation, Slerp
from sim2real.errors import InputError
from sim2real.gap.poses import (
    PoseThresholds,
    PoseTrack,
    StreamingPoseValidator,
    quat_angle,
    replay,
    rolling,
    slerp,
    validate_poses,
    wxyz_to_xyzw,
    xyzw_to_wxyz,
)
from sim2real.trajectory.rosmsg import pose_from_msg

S2 = math.sqrt(0.5)


@pytest.mark.parametrize(("q1", "q2", "angle"), [
    ((1, 0, 0, 0), (S2, 0, 0, S2), math.pi / 2),  # 90 deg about z
    ((1, 0, 0, 0), (0, 1, 0, 0), math.pi),  # 180 deg about x
    ((S2, 0, 0, S2), (-S2, 0, 0, -S2), 0.0),  # q and -q: the same rotation
    ((1, 0, 0, 0), (-1, 0, 0, 0), 0.0),
    ((S2, S2, 0, 0), (S2, 0, S2, 0), math.pi * 2 / 3),  # 90 about x vs 90 about y: 120 deg apart
    ((1, 0, 0, 0), (math.cos(5e-5), math.sin(5e-5), 0, 0), 1e-4),  # tiny angles stay precise
    ((2, 0, 0, 0), (0, 0, 0, 3), math.pi),  # non-unit inputs are normalised
])
def test_geodesic_angle_hand_computed(q1, q2, angle) -> None:
    assert float(quat_angle(np.array(q1, float), np.array(q2, float))) == pytest.approx(angle, abs=1e-12, rel=1e-9)


def test_order_is_wxyz_and_agrees_with_scipy() -> None:
    rng = np.random.default_rng(2)
    a = Rotation.random(200, rng=rng)
    b = Rotation.random(200, rng=rng)
    qa = xyzw_to_wxyz(a.as_quat())  # scipy is scalar-last
    np.testing.assert_allclose(qa, a.as_quat(scalar_first=True))
    np.testing.assert_allclose(wxyz_to_xyzw(qa), a.as_quat())
    np.testing.assert_allclose(quat_angle(qa, xyzw_to_wxyz(b.as_quat())), (a.inv() * b).magnitude(), atol=1e-10)
    # the seeds reindexed xyzw arrays with [1, 2, 3, 0] "to wxyz" and gave them to scipy (xyzw): wrong
    # rotations; their relative angle survives only because one permutation of both keeps the dot product
    seeds_a = Rotation.from_quat(a.as_quat()[:, [1, 2, 3, 0]])
    assert np.max((seeds_a.inv() * a).magnitude()) > 1.0
    np.testing.assert_allclose((seeds_a.inv() * Rotation.from_quat(b.as_quat()[:, [1, 2, 3, 0]])).magnitude(),
                               (a.inv() * b).magnitude(), atol=1e-9)
    with pytest.raises(InputError, match="non-zero"):
        quat_angle(np.zeros(4), np.array([1.0, 0, 0, 0]))


def test_slerp_matches_scipy_and_takes_the_short_arc() -> None:
    rng = np.random.default_rng(4)
    r = Rotation.random(2, rng=rng)
    u = np.linspace(0, 1, 11)
    ours = slerp(np.repeat(r[0].as_quat(scalar_first=True)[None], 11, 0),
                 np.repeat(-r[1].as_quat(scalar_first=True)[None], 11, 0), u)  # -q1: must not take the long way
    ref = Slerp([0, 1], r)(u)
    np.testing.assert_allclose(quat_angle(ours, ref.as_quat(scalar_first=True)), 0, atol=1e-9)


def _tracks(n: int = 200, offset_m: float = 0.05, yaw_err: float = 0.1) -> tuple[PoseTrack, PoseTrack]:
    t = np.arange(n) * 0.02
    stamps = EPOCH_S * NS + np.round(t * NS).astype(np.int64)
    pos = np.c_[np.cos(t), np.sin(t), 0.1 * t]
    yaw = 0.5 * t
    real = PoseTrack(stamps, pos, yaw_quat_wxyz(yaw), "real")
    sim = PoseTrack(stamps, pos + [offset_m, 0, 0], yaw_quat_wxyz(yaw + yaw_err), "sim")
    return sim, real


def test_validation_errors_thresholds_and_accuracy() -> None:
    sim, real = _tracks()
    v = validate_poses(sim, real)
    np.testing.assert_allclose(v.position_error_m, 0.05, atol=1e-12)
    np.testing.assert_allclose(v.orientation_error_rad, 0.1, atol=1e-9)
    assert v.summary["accuracy"] == 1.0 and v.summary["passed"]
    # half of the poses 15 cm off: position accuracy 0.5, orientation accuracy still 1
    sim.position[100:, 0] += 0.10
    v = validate_poses(sim, real, PoseThresholds(0.1, 0.2, 0.95))
    assert v.summary["accuracy_position"] == 0.5 and v.summary["accuracy_orientation"] == 1.0
    assert v.summary["accuracy"] == 0.5 and not v.summary["passed"]
    assert v.summary["position_error_m"]["max"] == pytest.approx(0.15)


def test_interpolated_sim_between_its_samples() -> None:
    sim, real = _tracks(n=101, offset_m=0.0, yaw_err=0.0)
    half = PoseTrack(sim.stamp_ns[::2], sim.position[::2], sim.quat_wxyz[::2], "sim")  # 25 Hz sim, 50 Hz real
    v = validate_poses(half, real)
    assert v.orientation_error_rad.max() < 1e-9  # slerp of a constant-rate yaw is exact
    assert v.position_error_m.max() < 1e-3  # chord error of a 0.04 s linear step on the circle


def test_rolling_statistics_against_pandas() -> None:
    x = np.random.default_rng(0).exponential(size=257)
    mean, mx = rolling(x, 20)
    np.testing.assert_allclose(mean, pd.Series(x).rolling(20, min_periods=1).mean().to_numpy())
    np.testing.assert_allclose(mx, pd.Series(x).rolling(20, min_periods=1).max().to_numpy())


def test_streaming_validator_is_the_causal_nearest_match_and_stays_bounded() -> None:
    sim, real = _tracks()
    # on the same clock the live logic equals the offline nearest match
    live = StreamingPoseValidator(window=50, buffer=100, tolerance_s=0.05, history=64)
    checks = replay(sim, real, live)
    offline = validate_poses(sim, real, match="nearest", tolerance_s=0.05)
    np.testing.assert_allclose([c.position_error_m for c in checks], offline.position_error_m)
    assert live.summary()["accuracy"] == offline.summary["accuracy"]
    assert len(live.history) == 64 and len(live.recent) == 50  # bounded memory on a long run
    assert live.validation().summary["n"] == 64
    # with a jittered real clock it can only use sim poses already received: the latest one before
    rng = np.random.default_rng(9)
    real.stamp_ns = np.sort(real.stamp_ns + rng.integers(-9_000_000, 9_000_000, len(real.stamp_ns)))
    real.position = real.position + rng.normal(0, 0.01, real.position.shape)
    checks = replay(sim, real, StreamingPoseValidator(tolerance_s=0.05))
    latest = np.searchsorted(sim.stamp_ns, real.stamp_ns, side="right") - 1
    for i, check in enumerate(checks):
        if latest[i] < 0:
            assert check is None
        else:
            assert check.position_error_m == pytest.approx(np.linalg.norm(sim.position[latest[i]] - real.position[i]))


def test_streaming_validator_rejects_stale_sim_poses() -> None:
    live = StreamingPoseValidator(tolerance_s=0.01)
    assert live.add_real(EPOCH_S * NS, np.zeros(3), np.array([1.0, 0, 0, 0])) is None  # nothing buffered
    live.add_sim(EPOCH_S * NS, np.zeros(3), np.array([1.0, 0, 0, 0]))
    # one second later with the same nanosec field: the seeds would have matched it
    assert live.add_real((EPOCH_S + 1) * NS, np.zeros(3), np.array([1.0, 0, 0, 0])) is None
    check = live.add_real(EPOCH_S * NS + 5_000_000, np.array([0.3, 0, 0]), np.array([S2, 0, 0, S2]))
    assert check is not None and not check.valid and check.position_error_m == pytest.approx(0.3)
    assert live.summary()["unmatched"] == 2


def test_pose_from_a_deserialised_ros_message() -> None:
    ts = typestore()
    msg = pose_msg(ts, EPOCH_S * NS + 42, (1.0, 2.0, 3.0), (0.5, 0.5, -0.5, 0.5))
    data = ts.serialize_cdr(msg, msg.__msgtype__)
    back = ts.deserialize_cdr(data, msg.__msgtype__)
    stamp, pos, quat = pose_from_msg(back)
    assert stamp == EPOCH_S * NS + 42
    np.testing.assert_array_equal(pos, [1, 2, 3])
    np.testing.assert_array_equal(quat, [0.5, 0.5, -0.5, 0.5])
    assert back.pose.orientation.w == 0.5 and back.pose.orientation.z == 0.5  # ROS fields are x, y, z, w
