"""A prim's local transform as translate, orient (quaternion w, x, y, z) and scale ops.

Isaac Sim's prims use the op order ``[xformOp:translate, xformOp:orient, xformOp:scale]``. A prim with
that order has its ops set in place (keeping their precision); any other prim (a matrix op, Euler
rotations, no ops) gets that order authored in the edit layer, starting from its decomposed local
transform, so the pose it had is kept and clearing the layer restores its own ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom

from .context import set_attr

TRS_ORDER = ("xformOp:translate", "xformOp:orient", "xformOp:scale")
RESET_STACK = "!resetXformStack!"


@dataclass
class Trs:
    translate: np.ndarray  # (3,) stage units
    orient: np.ndarray  # (4,) unit quaternion (w, x, y, z)
    scale: np.ndarray  # (3,)

    def copy(self) -> Trs:
        return Trs(self.translate.copy(), self.orient.copy(), self.scale.copy())


def read_trs(prim: Usd.Prim) -> Trs:
    """The prim's composed local transform, decomposed (shear, if any, is dropped)."""
    matrix = UsdGeom.Xformable(prim).GetLocalTransformation()
    t = Gf.Transform(matrix)
    q = t.GetRotation().GetQuat()
    w, (x, y, z) = q.GetReal(), q.GetImaginary()
    quat = np.array([w, x, y, z], dtype=float)
    quat /= np.linalg.norm(quat)
    return Trs(np.array(t.GetTranslation(), dtype=float), -quat if quat[0] < 0 else quat,
               np.array(t.GetScale(), dtype=float))


def write_trs(prim: Usd.Prim, trs: Trs) -> None:
    """Author ``trs`` as the prim's translate/orient/scale ops (in the current edit target)."""
    xf = UsdGeom.Xformable(prim)
    order = [str(t) for t in xf.GetXformOpOrderAttr().Get() or []]
    reset = bool(order) and order[0] == RESET_STACK
    ops = order[1:] if reset else order
    if tuple(ops) != TRS_ORDER:
        xf.GetXformOpOrderAttr().Set(([RESET_STACK] if reset else []) + list(TRS_ORDER))
    set_attr(prim, "xformOp:translate", Sdf.ValueTypeNames.Double3, trs.translate)
    set_attr(prim, "xformOp:orient", Sdf.ValueTypeNames.Quatd, trs.orient)
    set_attr(prim, "xformOp:scale", Sdf.ValueTypeNames.Double3, trs.scale)


class Xforms:
    """Current translate/orient/scale of the prims an applier moved (from their defaults)."""

    def __init__(self) -> None:
        self.defaults: dict[Sdf.Path, Trs] = {}
        self.current: dict[Sdf.Path, Trs] = {}

    def default(self, prim: Any) -> Trs:
        path = prim.GetPath()
        if path not in self.defaults:
            self.defaults[path] = read_trs(prim)  # first touch: the edit layer has no opinion on it yet
        return self.defaults[path]

    def edit(self, prim: Any) -> Trs:
        path = prim.GetPath()
        if path not in self.current:
            self.current[path] = self.default(prim).copy()
        return self.current[path]

    def write(self, prim: Any) -> None:
        write_trs(prim, self.current[prim.GetPath()])

    def reset(self) -> None:
        self.current.clear()


def world_matrix(prim: Usd.Prim) -> np.ndarray:
    """4x4 local-to-world transform for column vectors (USD's row-vector matrix, transposed)."""
    m = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    return np.array(m, dtype=float).T


def parent_world_matrix(prim: Usd.Prim) -> np.ndarray:
    m = UsdGeom.Xformable(prim).ComputeParentToWorldTransform(Usd.TimeCode.Default())
    return np.array(m, dtype=float).T


def rotation_part(m: np.ndarray) -> np.ndarray:
    """The rotation of a linear map that may also scale (polar decomposition)."""
    u, _, vt = np.linalg.svd(np.asarray(m, dtype=float))
    r = u @ vt
    return r if np.linalg.det(r) > 0 else -r
