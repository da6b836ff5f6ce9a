"""Boxes, counts and camera-frame poses from instance maps (sim/labels.py)."""

from __future__ import annotations

import numpy as np
from sim2real.sim.rendered_frame import Pose
from sim2real.sim.labels import instance_boxes, pose_in_camera, quat_from_matrix, quat_multiply


def test_boxes_are_tight_and_half_open() -> None:
    inst = np.zeros((20, 30), np.int32)
    inst[2:5, 3:9] = 1
    inst[10, 29] = 2  # one pixel at the right edge
    inst[15:20, 0:2] = 3
    boxes, counts = instance_boxes(inst, 4)
    assert boxes[1].tolist() == [3, 2, 9, 5]
    assert boxes[2].tolist() == [29, 10, 30, 11]
    assert boxes[3].tolist() == [0, 15, 2, 20]
    assert boxes[4].tolist() == [-1, -1, -1, -1] and counts[4] == 0
    assert counts[1:4].tolist() == [18, 1, 10]


def test_random_masks_match_a_direct_computation() -> None:
    rng = np.random.default_rng(0)
    inst = rng.integers(0, 6, (37, 53)).astype(np.int32)
    inst[inst == 4] = 0  # one id absent
    boxes, counts = instance_boxes(inst, 5)
    for i in range(1, 6):
        ys, xs = np.nonzero(inst == i)
        if len(xs) == 0:
            assert counts[i] == 0
            continue
        assert boxes[i].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert counts[i] == len(xs)


def test_quaternion_helpers_round_trip() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q = q if q[0] >= 0 else -q
        w, x, y, z = q
        rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])
        assert np.allclose(quat_from_matrix(rot), q, atol=1e-9)
    assert np.allclose(quat_multiply(np.array([1.0, 0, 0, 0]), q), q)


def test_pose_in_camera_frame() -> None:
    cam = np.eye(4)
    cam[:3, :3] = [[1, 0, 0], [0, -1, 0], [0, 0, -1]]  # looking down the world -z, from z = 2
    cam[:3, 3] = [0, 0, 2]
    pose = pose_in_camera(Pose(np.array([0.1, 0.2, 0.5]), np.array([1.0, 0, 0, 0])), cam)
    assert np.allclose(pose.position, [0.1, -0.2, 1.5])
    assert np.allclose(np.abs(pose.quat_wxyz), [0, 1, 0, 0])  # a half turn about x
