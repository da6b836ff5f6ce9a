"""What every USD applier shares: the stage, the edit layer, the environments and the entity tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pxr import Sdf, Usd, UsdGeom

from ..errors import UnsupportedError
from .entities import EntityTable, Environments
from .layer import EditLayer


@dataclass
class Context:
    stage: Usd.Stage
    edits: EditLayer
    envs: Environments
    table: EntityTable
    resolution: tuple[int, int]  # (width, height) pixels of the rendered images (camera intrinsics)

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
