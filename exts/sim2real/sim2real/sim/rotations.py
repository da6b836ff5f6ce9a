"""Rotations shared by the backends: roll-pitch-yaw, quaternions (w, x, y, z) and camera orbits.

Conventions: ``rpy`` are extrinsic rotations about the world x (roll), y (pitch) and z (yaw) axes, in
radians, applied in that order; quaternions are unit ``(w, x, y, z)``; rotation matrices act on column
vectors. A camera frame here is the graphics one shared by MuJoCo and USD: x right, y up, looking down
its -z axis (``sim.rendered_frame`` converts to the OpenCV frame of a Frame).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .labels import quat_from_matrix, quat_multiply


def quat_from_rpy(rpy: Any) -> np.ndarray:
    """Quaternion (w, x, y, z) of extrinsic rotations about x (roll), y (pitch), z (yaw), radians."""
    q = np.array([1.0, 0.0, 0.0, 0.0])
    for axis, angle in enumerate(np.asarray(rpy, dtype=float).reshape(3)):
        step = np.zeros(4)
        step[0] = math.cos(angle / 2)
        step[1 + axis] = math.sin(angle / 2)
        q = quat_multiply(step, q)  # extrinsic: each new rotation acts in the world frame
    return q


def matrix_from_quat(q: Any) -> np.ndarray:
    """3x3 rotation matrix of a quaternion (w, x, y, z) (normalised first)."""
    w, x, y, z = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def orbit_frame(azimuth: float, elevation: float, roll: float) -> np.ndarray:
    """Rotation (columns: camera x, y, z in the world) of a camera looking at its target from
    azimuth/elevation (radians), turned by ``roll`` about its optical axis."""
    ca, sa, ce, se = math.cos(azimuth), math.sin(azimuth), math.cos(elevation), math.sin(elevation)
    back = np.array([ce * ca, ce * sa, se])  # camera z: from the target to the eye
    right = np.array([-sa, ca, 0.0])
    up = np.cross(back, right)
    cr, sr = math.cos(roll), math.sin(roll)
    x, y = cr * right + sr * up, -sr * right + cr * up
    return np.stack([x, y, back], axis=1)


def orbit_of(eye: np.ndarray, rot: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """The orbit parameters (distance, azimuth, elevation, roll, look_at, position) that reproduce a
    camera at ``eye`` with rotation ``rot`` (columns x, y, z) looking at ``target``.

    Raises ``ValueError`` when the target coincides with the eye."""
    offset = np.asarray(eye, dtype=float) - np.asarray(target, dtype=float)
    dist = float(np.linalg.norm(offset))
    if dist < 1e-9:
        raise ValueError("the look-at point coincides with the camera position")
    az, el = math.atan2(offset[1], offset[0]), math.asin(max(-1.0, min(1.0, offset[2] / dist)))
    level = orbit_frame(az, el, 0.0)
    x = rot[:, 0]
    roll = math.atan2(float(x @ level[:, 1]), float(x @ level[:, 0]))
    return {"distance": dist, "azimuth": az, "elevation": el, "roll": roll,
            "look_at": np.asarray(target, dtype=float), "position": np.asarray(eye, dtype=float)}


def orbit_pose(orbit: dict[str, Any], position0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eye position and rotation (columns x, y, z) of an orbit; ``position`` moves the eye by its
    difference to ``position0`` (the default eye)."""
    rot = orbit_frame(float(orbit["azimuth"]), float(orbit["elevation"]), float(orbit["roll"]))
    eye = orbit["look_at"] + orbit["distance"] * rot[:, 2] + (orbit["position"] - position0)
    return eye, rot


__all__ = ["matrix_from_quat", "orbit_frame", "orbit_of", "orbit_pose", "quat_from_matrix", "quat_from_rpy",
           "quat_multiply"]
