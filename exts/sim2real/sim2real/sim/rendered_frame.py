"""Frame: everything one rendered view produces, in engine-neutral conventions.

Conventions (every backend and writer follows them):

* images are row-major ``(H, W, ...)``; pixel ``(u, v)`` is column ``u``, row ``v``; pixel centres
  are at integer coordinates.
* ``depth``: float32 metres, distance to the image plane (z along the optical axis, not the ray
  length); ``0.0`` where there is no measurement (background beyond the far plane, sensor holes),
  as real depth cameras report it.
* ``instance``: int32, 0 = background; other ids index ``instances``. ``semantic``: int32 class ids
  with ``labels[id] -> class name``; 0 = ``"background"``.
* boxes: ``(x0, y0, x1, y1)`` in pixels, half-open: columns ``x0 <= u < x1`` and rows
  ``y0 <= v < y1`` (so width = x1 - x0). Tight: the extent of the visible pixels.
* camera frame: OpenCV (x right, y down, z forward). ``K`` is 3x3. ``cam_to_world`` is the 4x4 pose of
  the camera frame in the world (world = z up, metres).
* poses: position in metres, quaternion ``(w, x, y, z)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np


@dataclass
class Pose:
    position: np.ndarray  # (3,) metres
    quat_wxyz: np.ndarray  # (4,) unit quaternion, scalar first

    def to_dict(self) -> dict[str, list[float]]:
        return {"position": self.position.tolist(), "quat_wxyz": self.quat_wxyz.tolist()}


@dataclass
class Instance:
    """One labelled object instance seen (or not) in a frame."""

    id: int  # value in Frame.instance
    name: str  # entity name in the scene (e.g. "obj_03")
    class_id: int  # value in Frame.semantic
    class_name: str
    box: tuple[int, int, int, int] | None  # tight half-open (x0, y0, x1, y1); None if not visible
    visible_pixels: int
    visible_fraction: float  # visible pixels / pixels it would cover without occluders, in [0, 1]
    pose_world: Pose
    pose_camera: Pose
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def occlusion(self) -> float:
        return 1.0 - self.visible_fraction


class PendingImageOps(Protocol):
    """Image operations a Frame still owes its consumer (``backends.effects.PendingEffects``)."""

    def apply(self, rgb: np.ndarray, depth: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]: ...


@dataclass
class Frame:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray | None  # (H, W) float32 metres, 0 = no measurement
    instance: np.ndarray | None  # (H, W) int32
    semantic: np.ndarray | None  # (H, W) int32
    labels: dict[int, str]  # semantic id -> class name; 0 -> "background"
    instances: list[Instance]
    K: np.ndarray  # (3, 3) float64 intrinsics
    cam_to_world: np.ndarray  # (4, 4) float64, OpenCV camera frame
    camera: str = ""
    index: int = 0
    sample: dict[str, Any] = field(default_factory=dict)  # flat randomization record of this frame
    meta: dict[str, Any] = field(default_factory=dict)
    # sensor effects not yet applied to ``rgb``/``depth`` (a backend asked to defer them); ``finished()``
    # applies them. Labels never depend on them.
    effects: PendingImageOps | None = None

    def finished(self) -> Frame:
        """This frame with its pending sensor effects applied (the frame itself when none are pending)."""
        if self.effects is None:
            return self
        rgb, depth = self.effects.apply(self.rgb, self.depth)
        return replace(self, rgb=rgb, depth=depth, effects=None)

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def world_to_cam(self) -> np.ndarray:
        return np.linalg.inv(self.cam_to_world)
