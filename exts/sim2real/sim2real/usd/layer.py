"""The layer that holds every randomization edit, so that restoring a stage is clearing one layer.

Every value sim2real writes goes into one anonymous layer inserted as the strongest sublayer of the
stage's session layer. The authored scene (root layer and everything it references) is never
edited: ``clear()`` returns the stage exactly to what was loaded (same composed values, same applied
schemas, same bindings, no leftover prims), and saving the stage never saves randomized values.

A default (the value a ``scale`` or ``add`` combines with) is the attribute's value as composed
*without* this layer: the strongest other opinion in the attribute's property stack (which follows
variant selections, so a slot's mass is the active asset's), else the schema's fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pxr import Sdf, Usd

SCRATCH_ROOT = Sdf.Path("/sim2real")  # prims sim2real creates (physics materials, texture networks)


class EditLayer:
    def __init__(self, stage: Usd.Stage, tag: str = "sim2real-randomization") -> None:
        self.stage = stage
        self.layer = Sdf.Layer.CreateAnonymous(tag)
        stage.GetSessionLayer().subLayerPaths.insert(0, self.layer.identifier)

    @contextmanager
    def editing(self) -> Iterator[None]:
        """Author into this layer. (No Sdf.ChangeBlock: appliers read composed values, e.g. a slot's new
        variant, right after writing.)"""
        with Usd.EditContext(self.stage, self.layer):
            yield

    def clear(self) -> None:
        """Drop every edit: the stage composes exactly as loaded again."""
        self.layer.Clear()

    def close(self) -> None:
        """Clear and remove the layer from the stage."""
        self.clear()
        paths = self.stage.GetSessionLayer().subLayerPaths
        if self.layer.identifier in paths:
            paths.remove(self.layer.identifier)

    @property
    def empty(self) -> bool:
        return not self.layer.rootPrims

    def has_opinion(self, attr: Usd.Attribute) -> bool:
        return self.layer.GetAttributeAtPath(attr.GetPath()) is not None

    def default(self, attr: Usd.Attribute) -> Any:
        """The attribute's value as composed without this layer (None if it has none)."""
        for spec in attr.GetPropertyStack(Usd.TimeCode.Default()):
            if spec.layer != self.layer and spec.HasDefaultValue():
                return spec.default
        if not self.has_opinion(attr) and attr.HasValue():
            return attr.Get()  # e.g. only time samples elsewhere: their value at the default time
        return attr.GetPrim().GetPrimDefinition().GetAttributeFallbackValue(attr.GetName())
