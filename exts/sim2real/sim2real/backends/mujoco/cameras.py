"""Camera targets (pose around a look-at point, field of view, principal point) and the pinhole model
of a rendered view (intrinsics K and the OpenCV-frame extrinsics).

Pose: once any of ``distance``, ``azimuth``, ``elevation``, ``roll``, ``look_at`` or ``position`` is set,
the camera sits at ``look_at + distance·(cos el·cos az, cos el·sin az, sin el) + (position − default
position)`` and looks at ``look_at``, turned by ``roll`` about its optical axis (radians; positive
turns the camera's x axis towards its up axis). The defaults reproduce the camera's pose in the scene
exactly; ``look_at`` defaults to the scene's ``sim2real:look_at:<camera>`` numeric, else the first
surface on the optical axis, else 1 m ahead. Only cameras fixed to the world body can orbit.

Intrinsics: ``fovy`` (degrees) and ``principal_offset`` (pixels, +x right, +y down). A shifted
principal point needs MuJoCo's intrinsic camera model, so the camera is switched to it
(``cam_sensorsize`` = image size in pixels, ``cam_intrinsic`` = focal lengths and offset).
"""

from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import as_vector, combine
from ...sim.rotations import orbit_of, orbit_pose
from .world import World

TARGETS: dict[str, frozenset[str]] = {
    "camera": frozenset({"distance", "azimuth", "elevation", "roll", "look_at", "position", "fovy",
                         "principal_offset"}),
}
POSE = frozenset({"distance", "azimuth", "elevation", "roll", "look_at", "position"})


def _mat(quat: np.ndarray) -> np.ndarray:
    out = np.empty(9)
    mujoco.mju_quat2Mat(out, quat)
    return out.reshape(3, 3)


class Cameras:
    def __init__(self, world: World, resolution: tuple[int, int]) -> None:
        self.world = world
        self.resolution = resolution
        model = world.model
        self.ids = {n: i for i, n in enumerate(world.scene.names["mjOBJ_CAMERA"]) if n}
        self.params: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        self.orbit0: dict[str, dict[str, Any]] = {}
        for name, i in self.ids.items():
            if model.cam_bodyid[i] == 0 and model.cam_mode[i] == mujoco.mjtCamLight.mjCAMLIGHT_FIXED:
                self.orbit0[name] = self._orbit_of(name, i)

    def entities(self) -> dict[str, list[str]]:
        return {"camera": list(self.ids), "image": list(self.ids)}

    def reset(self) -> None:
        self.params.clear()
        self.dirty.clear()

    # ------------------------------------------------------------------ defaults
    def _look_at0(self, name: str, i: int, eye: np.ndarray, back: np.ndarray) -> np.ndarray:
        declared = self.world.scene.look_at.get(name)
        if declared is not None:
            return declared
        geom = np.array([-1], dtype=np.int32)
        data = self.world.scratch
        mujoco.mj_forward(self.world.model, data)
        dist = mujoco.mj_ray(self.world.model, data, eye, -back, None, 1, -1, geom)
        return eye - back * (dist if dist > 0 else 1.0)

    def _orbit_of(self, name: str, i: int) -> dict[str, Any]:
        d = self.world.default
        eye, rot = d("cam_pos")[i].astype(float), _mat(d("cam_quat")[i])
        target = self._look_at0(name, i, eye, rot[:, 2])
        try:
            return orbit_of(eye, rot, target)
        except ValueError:
            raise UnsupportedError(f"camera {name!r}: its look-at point coincides with its position") from None

    def _fovy0(self, i: int) -> float:
        return float(self.world.default("cam_fovy")[i])

    # ------------------------------------------------------------------ applying
    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        i = self.ids[entity]
        p = self.params.setdefault(entity, {})
        if attr in POSE:
            orbit0 = self.orbit0.get(entity)
            if orbit0 is None:
                raise UnsupportedError(f"{key}: camera {entity!r} is not fixed to the world body, so it cannot orbit")
            vector = attr in ("look_at", "position")
            p[attr] = combine(orbit0[attr], as_vector(value, 3, key) if vector else value, op, key)
            if attr == "distance" and p[attr] <= 0:
                raise UnsupportedError(f"{key}: expected a positive distance (got {p[attr]:g} m)")
        elif attr == "fovy":
            p[attr] = float(combine(self._fovy0(i), value, op, key))
            if not 0 < p[attr] < 180:
                raise UnsupportedError(f"{key}: expected a field of view in (0, 180) degrees (got {p[attr]:g})")
        else:
            p[attr] = combine(np.zeros(2), as_vector(value, 2, key), op, key)
        self.dirty.add(entity)

    def flush(self) -> None:
        for name in self.dirty:
            i, p = self.ids[name], self.params[name]
            if POSE & p.keys():
                self._write_pose(name, i, p)
            if {"fovy", "principal_offset"} & p.keys():
                self._write_intrinsics(i, p)
        if self.dirty:
            self.world.forward_dirty = True
        self.dirty.clear()

    def _write_pose(self, name: str, i: int, p: dict[str, Any]) -> None:
        eye, rot = orbit_pose({**self.orbit0[name], **p}, self.orbit0[name]["position"])
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, rot.reshape(-1))
        model = self.world.model
        model.cam_pos[i] = eye
        model.cam_quat[i] = quat

    def _write_intrinsics(self, i: int, p: dict[str, Any]) -> None:
        model, d = self.world.model, self.world.default
        fovy = p.get("fovy", self._fovy0(i))
        dx, dy = p.get("principal_offset", np.zeros(2))
        model.cam_fovy[i] = fovy
        sensor0 = d("cam_sensorsize")[i]
        if not sensor0[1] and dx == 0 and dy == 0:  # the plain fovy model still describes this camera
            model.cam_sensorsize[i] = sensor0
            model.cam_intrinsic[i] = d("cam_intrinsic")[i]
            return
        width, height = self.resolution
        if sensor0[1]:  # the scene already uses the intrinsic model: keep its units
            sensor, (fx, fy, cx, cy) = sensor0, d("cam_intrinsic")[i]
            fovy0 = 2 * math.degrees(math.atan(sensor[1] / 2 / fy))
            zoom = math.tan(math.radians(fovy0) / 2) / math.tan(math.radians(fovy) / 2)
            per_px = sensor[1] / height
            model.cam_intrinsic[i] = [fx * zoom, fy * zoom, cx - dx * per_px, cy - dy * per_px]
            return
        f = height / 2 / math.tan(math.radians(fovy) / 2)  # pixels
        model.cam_sensorsize[i] = [width, height]
        model.cam_intrinsic[i] = [f, f, -dx, -dy]  # MuJoCo's offset moves the principal point the other way


def gl_camera_pose(scene: mujoco.MjvScene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head position, forward and up of the scene's camera (the average of its two eyes)."""
    c0, c1 = scene.camera[0], scene.camera[1]
    pos = (np.asarray(c0.pos, dtype=float) + np.asarray(c1.pos, dtype=float)) / 2
    return pos, np.asarray(c0.forward, dtype=float), np.asarray(c0.up, dtype=float)


def intrinsics(scene: mujoco.MjvScene, width: int, height: int) -> np.ndarray:
    """K (3x3, pixels, pixel centres at integer coordinates) of the frustum MuJoCo renders with."""
    cam = scene.camera[0]
    near, top, bottom = float(cam.frustum_near), float(cam.frustum_top), float(cam.frustum_bottom)
    half = float(cam.frustum_width) or 0.5 * (width / height) * (top - bottom)
    left, right = float(cam.frustum_center) - half, float(cam.frustum_center) + half
    fx, fy = width * near / (right - left), height * near / (top - bottom)
    cx, cy = width * -left / (right - left) - 0.5, height * top / (top - bottom) - 0.5
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def extrinsics(scene: mujoco.MjvScene) -> np.ndarray:
    """4x4 pose of the OpenCV camera frame (x right, y down, z forward) in the world."""
    pos, forward, up = gl_camera_pose(scene)
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    out = np.eye(4)
    out[:3, :3] = np.stack([right, down, forward], axis=1)
    out[:3, 3] = pos
    return out
