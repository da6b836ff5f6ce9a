"""Camera targets on ``UsdGeom.Camera`` prims: orbit about a look-at point, field of view, principal point.

Pose (as in the MuJoCo backend): once any of ``distance``, ``azimuth``, ``elevation``, ``roll``,
``look_at`` or ``position`` is set, the camera sits at ``look_at + distance·(cos el·cos az, cos el·sin az,
sin el) + (position − default position)`` (world frame, metres) looking at ``look_at``, turned by ``roll``
about its optical axis. The defaults reproduce the authored pose; ``look_at`` defaults to the camera's
``sim2real:lookAt`` attribute (world, metres), else the point 1 m ahead.

Intrinsics: RTX renders square pixels from the horizontal aperture, so the vertical field of view of an
image of ``width x height`` pixels is ``2·atan(horizontalAperture·height/width / (2·focalLength))``.
``fovy`` (degrees) sets ``focalLength``; ``principal_offset`` (pixels, +x right, +y down) sets
``horizontalApertureOffset = −dx·h/w`` and ``verticalApertureOffset = +dy·h/w`` with ``h/w`` the
horizontal aperture per pixel (a film offset moves the image window, the principal point the other way).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pxr import Sdf, Usd, UsdGeom

from ..errors import UnsupportedError
from ..sim.labels import quat_from_matrix
from ..sim.ops import as_vector, combine
from ..sim.rotations import matrix_from_quat, orbit_of, orbit_pose
from .context import Context, set_attr
from .xform import Xforms, parent_world_matrix, rotation_part

TARGETS = {"camera": frozenset({"distance", "azimuth", "elevation", "roll", "look_at", "position", "fovy",
                                "principal_offset"})}
POSE = frozenset({"distance", "azimuth", "elevation", "roll", "look_at", "position"})
LOOK_AT = "sim2real:lookAt"


def vertical_fov_deg(focal: float, h_aperture: float, width: int, height: int) -> float:
    return math.degrees(2.0 * math.atan(h_aperture * height / width / (2.0 * focal)))


def focal_for_fovy(fovy_deg: float, h_aperture: float, width: int, height: int) -> float:
    return h_aperture * height / width / (2.0 * math.tan(math.radians(fovy_deg) / 2.0))


class Cameras:
    def __init__(self, ctx: Context, xforms: Xforms) -> None:
        self.ctx = ctx
        self.xforms = xforms
        self.params: dict[Sdf.Path, dict[str, Any]] = {}
        self.orbit0: dict[Sdf.Path, dict[str, Any]] = {}
        self.dirty: dict[Sdf.Path, Usd.Prim] = {}

    def reset(self) -> None:
        self.params.clear()
        self.dirty.clear()

    def _orbit0(self, prim: Usd.Prim) -> dict[str, Any]:
        path = prim.GetPath()
        if path not in self.orbit0:
            mpu = self.ctx.meters_per_unit
            trs = self.xforms.default(prim)
            parent = parent_world_matrix(prim)
            eye = (parent @ np.append(trs.translate, 1.0))[:3] * mpu
            rot = rotation_part(parent[:3, :3]) @ matrix_from_quat(trs.orient)
            attr = prim.GetAttribute(LOOK_AT)
            target = (np.array(self.ctx.default(attr), dtype=float) if attr and attr.HasValue()
                      else eye - rot[:, 2])
            try:
                self.orbit0[path] = orbit_of(eye, rot, target)
            except ValueError:
                raise UnsupportedError(f"camera {prim.GetName()!r}: its look-at point coincides with its "
                                       "position") from None
        return self.orbit0[path]

    def _fovy0(self, cam: UsdGeom.Camera) -> float:
        focal = float(self.ctx.default(cam.GetFocalLengthAttr()))
        aperture = float(self.ctx.default(cam.GetHorizontalApertureAttr()))
        return vertical_fov_deg(focal, aperture, *self.ctx.resolution)

    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str, env: int) -> None:
        prim = self.ctx.prim("camera", entity, env)
        p = self.params.setdefault(prim.GetPath(), {})
        if attr in POSE:
            vector = attr in ("look_at", "position")
            p[attr] = combine(self._orbit0(prim)[attr], as_vector(value, 3, key) if vector else value, op, key)
            if attr == "distance" and p[attr] <= 0:
                raise UnsupportedError(f"{key}: expected a positive distance (got {p[attr]:g} m)")
        elif attr == "fovy":
            p[attr] = float(combine(self._fovy0(UsdGeom.Camera(prim)), value, op, key))
            if not 0 < p[attr] < 180:
                raise UnsupportedError(f"{key}: expected a field of view in (0, 180) degrees (got {p[attr]:g})")
        else:
            p[attr] = combine(np.zeros(2), as_vector(value, 2, key), op, key)
        self.dirty[prim.GetPath()] = prim

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, {}  # a refused write leaves nothing half-pending
        for path, prim in dirty.items():
            p = self.params[path]
            prim = self.ctx.writable(prim)
            if POSE & p.keys():
                self._write_pose(prim, p)
            if {"fovy", "principal_offset"} & p.keys():
                self._write_intrinsics(UsdGeom.Camera(prim), p)

    def _write_pose(self, prim: Usd.Prim, p: dict[str, Any]) -> None:
        orbit0 = self._orbit0(prim)
        eye, rot = orbit_pose({**orbit0, **p}, orbit0["position"])
        parent = parent_world_matrix(prim)
        to_parent = np.linalg.inv(parent)
        trs = self.xforms.edit(prim)
        trs.translate = (to_parent @ np.append(eye / self.ctx.meters_per_unit, 1.0))[:3]
        trs.orient = quat_from_matrix(rotation_part(to_parent[:3, :3]) @ rot)
        self.xforms.write(prim)

    def _write_intrinsics(self, cam: UsdGeom.Camera, p: dict[str, Any]) -> None:
        width, height = self.ctx.resolution
        aperture = float(self.ctx.default(cam.GetHorizontalApertureAttr()))
        if "fovy" in p:
            set_attr(cam.GetPrim(), "focalLength", Sdf.ValueTypeNames.Float,
                     focal_for_fovy(p["fovy"], aperture, width, height))
        if "principal_offset" in p:
            dx, dy = p["principal_offset"]
            per_px = aperture / width
            set_attr(cam.GetPrim(), "horizontalApertureOffset", Sdf.ValueTypeNames.Float, -dx * per_px)
            set_attr(cam.GetPrim(), "verticalApertureOffset", Sdf.ValueTypeNames.Float, dy * per_px)



def render_product_camera(stage: Usd.Stage, render_product: str) -> str | None:
    """The camera prim a render product shows: the target of its ``camera`` relationship (what Replicator's
    ``WriterRegistry.attach`` reads for a writer's ``render_products:camera``), None when it has none."""
    prim = stage.GetPrimAtPath(str(render_product))
    relationship = prim.GetRelationship("camera") if prim else None
    targets = relationship.GetTargets() if relationship else []
    return str(targets[0]) if targets else None
