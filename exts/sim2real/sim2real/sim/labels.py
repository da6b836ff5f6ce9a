"""Labels derived from an instance map, shared by every backend and writer: tight boxes, pixel counts,
visibility, and poses expressed in the camera frame (conventions in ``frame.py``)."""

from __future__ import annotations

import numpy as np

from .rendered_frame import Pose


def instance_boxes(instance: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Tight half-open boxes and pixel counts of instance ids ``1..n`` in one pass over the image.

    Returns ``boxes`` (n + 1, 4) int64 ``(x0, y0, x1, y1)`` (rows of absent ids are ``-1``) and
    ``counts`` (n + 1,) visible pixels; index 0 is the background."""
    height, width = instance.shape
    ids = np.clip(instance, 0, n).astype(np.int64)
    rows = np.bincount((ids * height + np.arange(height)[:, None]).ravel(), minlength=(n + 1) * height)
    cols = np.bincount((ids * width + np.arange(width)[None, :]).ravel(), minlength=(n + 1) * width)
    rows = rows.reshape(n + 1, height) > 0
    cols = cols.reshape(n + 1, width) > 0
    counts = np.bincount(ids.ravel(), minlength=n + 1)
    boxes = np.full((n + 1, 4), -1, dtype=np.int64)
    present = counts > 0
    boxes[present, 0] = cols[present].argmax(axis=1)
    boxes[present, 2] = width - cols[present, ::-1].argmax(axis=1)
    boxes[present, 1] = rows[present].argmax(axis=1)
    boxes[present, 3] = height - rows[present, ::-1].argmax(axis=1)
    return boxes, counts


def pose_in_camera(pose_world: Pose, cam_to_world: np.ndarray) -> Pose:
    """The same pose expressed in the (OpenCV) camera frame."""
    rot = cam_to_world[:3, :3]
    position = rot.T @ (pose_world.position - cam_to_world[:3, 3])
    return Pose(position, quat_multiply(quat_from_matrix(rot.T), pose_world.quat_wxyz))


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (w, x, y, z)."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw])


def quat_from_matrix(rot: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z), w >= 0, of a 3x3 rotation matrix."""
    m = np.asarray(rot, dtype=float)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = np.array([0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s])
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = np.array([(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s])
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = np.array([(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s])
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = np.array([(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s])
    q /= np.linalg.norm(q)
    return -q if q[0] < 0 else q
