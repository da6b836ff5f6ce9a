"""Light targets on UsdLux lights.

=================  =============================================================================
attribute          what is written
=================  =============================================================================
``intensity``      ``inputs:intensity`` (``scale`` multiplies the authored intensity)
``exposure``       ``inputs:exposure`` in stops (``add``)
``color``          ``inputs:color`` (linear RGB)
``temperature``    ``inputs:colorTemperature`` (kelvin) and ``inputs:enableColorTemperature = true``
``position``       the light's translate (metres, in its parent's frame; ``add`` moves it)
``direction``      its orientation: UsdLux lights shine along their local -Z; the default orientation is
                   turned by the smallest rotation taking the default direction to the new one
``enabled``        ``visibility`` (``invisible`` switches a light off in Hydra/RTX renderers)
``shadows``        ``inputs:shadow:enable`` of ``UsdLux.ShadowAPI``
=================  =============================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pxr import Sdf, UsdGeom, UsdLux

from ..errors import UnsupportedError
from ..sim.ops import as_vector, combine, require_set
from ..sim.rotations import matrix_from_quat
from ..sim.labels import quat_from_matrix
from .context import Context, set_attr
from .xform import Xforms

TARGETS = {"light": frozenset({"intensity", "exposure", "color", "temperature", "position", "direction", "enabled",
                               "shadows"})}
_INPUTS = {  # attribute -> (USD input, value type)
    "intensity": ("inputs:intensity", Sdf.ValueTypeNames.Float),
    "exposure": ("inputs:exposure", Sdf.ValueTypeNames.Float),
    "color": ("inputs:color", Sdf.ValueTypeNames.Color3f),
    "temperature": ("inputs:colorTemperature", Sdf.ValueTypeNames.Float),
}


class Lights:
    def __init__(self, ctx: Context, xforms: Xforms) -> None:
        self.ctx = ctx
        self.xforms = xforms

    def reset(self) -> None:
        pass

    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str, env: int) -> None:
        prim = self.ctx.prim(kind, entity, env)
        if attr in _INPUTS:
            name, type_name = _INPUTS[attr]
            usd_attr = prim.GetAttribute(name)
            default = self.ctx.default(usd_attr) if usd_attr else None
            if attr == "color":
                new = np.maximum(combine(_vec(default, (1.0, 1.0, 1.0)), as_vector(value, 3, key), op, key), 0.0)
            elif attr == "temperature":
                new = max(float(combine(_num(default, 6500.0), value, op, key)), 0.0)
                set_attr(prim, "inputs:enableColorTemperature", Sdf.ValueTypeNames.Bool, True)
            elif attr == "exposure":
                new = float(combine(_num(default, 0.0), value, op, key))
            else:
                new = max(float(combine(_num(default, 1.0), value, op, key)), 0.0)
            set_attr(prim, name, type_name, new)
        elif attr == "enabled":
            require_set(op, key)
            UsdGeom.Imageable(prim).GetVisibilityAttr().Set(
                UsdGeom.Tokens.inherited if bool(value) else UsdGeom.Tokens.invisible)
        elif attr == "shadows":
            require_set(op, key)
            UsdLux.ShadowAPI.Apply(prim)
            set_attr(prim, "inputs:shadow:enable", Sdf.ValueTypeNames.Bool, bool(value))
        elif attr == "position":
            trs = self.xforms.edit(prim)
            default = self.xforms.default(prim).translate
            trs.translate = combine(default, as_vector(value, 3, key) / self.ctx.meters_per_unit, op, key)
            self.xforms.write(prim)
        else:  # direction
            trs = self.xforms.edit(prim)
            q0 = self.xforms.default(prim).orient
            d0 = matrix_from_quat(q0) @ np.array([0.0, 0.0, -1.0])
            d = combine(d0, as_vector(value, 3, key), op, key)
            norm = float(np.linalg.norm(d))
            if norm < 1e-9:
                raise UnsupportedError(f"{key}: expected a non-zero direction vector")
            trs.orient = quat_from_matrix(rotation_between(d0, d / norm) @ matrix_from_quat(q0))
            self.xforms.write(prim)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3x3) taking unit vector ``a`` to unit vector ``b``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    if c < -1.0 + 1e-12:  # opposite: half a turn about any axis perpendicular to a
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def _num(value: Any, fallback: float) -> float:
    return fallback if value is None else float(value)


def _vec(value: Any, fallback: tuple[float, ...]) -> np.ndarray:
    return np.array(fallback if value is None else list(value), dtype=float)
