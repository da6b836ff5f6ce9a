"""What every USD applier shares: the stage, the edit layer, the environments and the entity tables, and
the two rules of authoring on a stage we did not make:

* an instance proxy (a prim inside an ``instanceable`` prim, e.g. the shader of a material that
  mujoco-usd-converter made instanceable) cannot be authored on: ``writable`` makes its instance
  non-instanceable in the edit layer first (restoring puts ``instanceable`` back) and says so once;
* every such change of how a value is written is a one-line ``notice``, logged once and kept in
  ``Context.notices`` (``sim2real scene info`` lists them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pxr import Sdf, Usd, UsdGeom

from ..errors import UnsupportedError
from .entities import EntityTable, Environments
from .layer import EditLayer

log = logging.getLogger(__name__)


@dataclass
class Context:
    stage: Usd.Stage
    edits: EditLayer
    envs: Environments
    table: EntityTable
    resolution: tuple[int, int]  # (width, height) pixels of the rendered images (camera intrinsics)
    notices: dict[str, str] = field(default_factory=dict)  # what was written differently, and why (once each)

    def path(self, kind: str, entity: str, env: int) -> Sdf.Path:
        rel = self.table.names[kind][entity]
        return self.envs.resolve(rel, env, self.is_global(kind, entity))

    def prim(self, kind: str, entity: str, env: int) -> Usd.Prim:
        prim = self.stage.GetPrimAtPath(self.path(kind, entity, env))
        if not prim.IsValid():
            raise UnsupportedError(f"{kind}:{entity}: no prim at {self.path(kind, entity, env)} in environment {env}")
        return prim

    def is_global(self, kind: str, entity: str) -> bool:
        return (kind, entity) in self.table.global_

    def default(self, attr: Usd.Attribute) -> Any:
        return self.edits.default(attr)

    def notice(self, key: str, message: str) -> None:
        """Log ``message`` once per ``key`` (a prim path and what it is about)."""
        if key not in self.notices:
            self.notices[key] = message
            log.warning("%s", message)

    def writable(self, prim: Usd.Prim, children: bool = False) -> Usd.Prim:
        """``prim`` where the edit layer can author on it (and, with ``children``, below it): the instances it
        is a proxy of (or, with ``children``, that it is) are made non-instanceable in the edit layer."""
        while prim.IsInstanceProxy() or (children and prim.IsInstance()):
            root = prim
            while not root.IsInstance():
                root = root.GetParent()
            root.SetInstanceable(False)  # in the current edit target: the edit layer
            self.notice(f"{root.GetPath()}:instanceable", f"{root.GetPath()} is instanceable: sim2real edits a copy of "
                        "it (instanceable = false in its edit layer; restoring the stage makes it an instance again)")
            prim = self.stage.GetPrimAtPath(prim.GetPath())
        return prim

    @property
    def meters_per_unit(self) -> float:
        return float(UsdGeom.GetStageMetersPerUnit(self.stage))


def set_attr(prim: Usd.Prim, name: str, type_name: Sdf.ValueTypeName, value: Any) -> Usd.Attribute:
    """Author ``value`` on the attribute ``name`` (created with ``type_name`` when missing; an existing
    attribute keeps its own type, e.g. a float colour stays float)."""
    attr = prim.GetAttribute(name)
    if not attr:
        attr = prim.CreateAttribute(name, type_name)
    attr.Set(cast(value, attr.GetTypeName()))
    return attr


def cast(value: Any, type_name: Sdf.ValueTypeName) -> Any:
    """A Python/numpy value as the Gf/Vt/Sdf type an attribute of ``type_name`` holds."""
    py = type_name.type.pythonClass
    if py is None:  # scalars
        cpp = type_name.cppTypeName
        if cpp in ("float", "double", "GfHalf"):
            return float(value)
        if cpp == "bool":
            return bool(value)
        if "int" in cpp:
            return int(value)
        if cpp == "SdfAssetPath":
            return Sdf.AssetPath(str(value))
        return str(value)
    if type_name.isArray:
        return py(list(value))
    return py(*[float(v) for v in np.ravel(np.asarray(value, dtype=float))])
