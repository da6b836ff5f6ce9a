"""``UsdScene``: a profile's samples applied to a USD stage, and the stage restored exactly.

    scene = UsdScene(stage, resolution=(640, 480))     # finds the entities (entities.py)
    r = Randomizer(profile, seed, scene.entities())
    scene.apply(r.startup()); scene.apply(r.reset(0))   # every value relative to the authored default
    scene.restore()                                      # the stage composes exactly as loaded

Every edit goes into one layer (``layer.py``), so ``restore`` is clearing it. Appliers by kind:

=====================  ====================================
kinds                  applier
=====================  ====================================
light                  lights.Lights
material               materials.Materials
object, scene          objects.Objects (also body mass/com of object slots)
camera                 cameras.Cameras
geom, body, world      physics.Physics
=====================  ====================================

``image:*`` sensor effects are not stage edits: the caller applies them to rendered images
(``sim2real.backends.effects``; ``sim2real.backends.isaac.annotators``). The Kit layer calls this from its physics-step
callbacks; here it runs on plain ``pxr`` stages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from os import PathLike
from typing import Any

import numpy as np
from pxr import Usd, UsdGeom

from ..errors import InputError, UnsupportedError, UserError
from ..randomize.sample import Sample
from ..randomize.targets import CATALOGUE, split_key
from ..sim.labels import quat_from_matrix
from . import cameras, lights, materials, objects, physics
from .context import Context
from .entities import EntityTable, Environments, class_labels, discover
from .layer import EditLayer
from .xform import Xforms, rotation_part, world_matrix

log = logging.getLogger(__name__)

_TABLES = (lights.TARGETS, materials.TARGETS, objects.TARGETS, cameras.TARGETS, physics.TARGETS)
TARGETS: frozenset[tuple[str, str]] = frozenset(
    (kind, attr) for table in _TABLES for kind, attrs in table.items() for attr in attrs
) & frozenset((a.kind, a.name) for a in CATALOGUE)


def open_stage(path: str | PathLike[str]) -> Usd.Stage:
    """Open a USD file (one-line error if it cannot be read)."""
    stage = Usd.Stage.Open(str(path))
    if stage is None:
        raise InputError(f"{path}: not a readable USD stage")
    return stage


class UsdScene:
    def __init__(self, stage: Usd.Stage, *, env_roots: Sequence[str] | None = None,
                 resolution: tuple[int, int] = (640, 480)) -> None:
        """``env_roots``: root prims of cloned environments (default: one environment, the stage);
        ``resolution``: (width, height) of the rendered images, for camera intrinsics."""
        self.stage = stage
        self.edits = EditLayer(stage)
        self.envs = Environments(env_roots)
        for root in self.envs.roots[1:]:
            if not stage.GetPrimAtPath(root).IsValid():
                raise UserError(f"env_roots: no prim at {root}")
        self.table: EntityTable = discover(stage, self.envs)
        self.ctx = Context(stage, self.edits, self.envs, self.table, (int(resolution[0]), int(resolution[1])))
        self.xforms = Xforms()
        self.physics = physics.Physics(self.ctx)
        self.lights = lights.Lights(self.ctx, self.xforms)
        self.materials = materials.Materials(self.ctx)
        self.objects = objects.Objects(self.ctx, self.xforms, self.physics)
        self.cameras = cameras.Cameras(self.ctx, self.xforms)
        owners = ((lights.TARGETS, self.lights), (materials.TARGETS, self.materials),
                  (objects.TARGETS, self.objects), (cameras.TARGETS, self.cameras), (physics.TARGETS, self.physics))
        self._routes = {(k, a): owner for table, owner in owners for k, attrs in table.items() for a in attrs}
        self._parts = (self.objects, self.lights, self.materials, self.cameras, self.physics)

    @property
    def n_envs(self) -> int:
        return len(self.envs)

    def entities(self) -> dict[str, list[str]]:
        """Entity names per target kind, in stage order."""
        return self.table.as_lists()

    # ------------------------------------------------------------------ applying
    def apply(self, sample: Sample, env: int = 0, keys: Iterable[str] | None = None) -> None:
        """Apply environment ``env`` of ``sample`` (only ``keys`` of it, when given) to the stage.

        Values of global entities (outside every environment root) are applied from environment 0 only."""
        if not 0 <= env < sample.n_envs or env >= self.n_envs:
            raise UserError(f"env: expected 0..{min(sample.n_envs, self.n_envs) - 1} (got {env})")
        selected = list(sample.values) if keys is None else list(keys)
        with self.edits.editing():
            for key in selected:
                kind, entity, attr = self._check(key)
                if env > 0 and self.ctx.is_global(kind, entity):
                    continue
                owner = self._routes[(kind, attr)]
                if kind == "body" and entity in self.objects.slots and attr in objects.SLOT_BODY_ATTRS:
                    owner = self.objects
                value = sample.values[key][env]
                owner.apply(kind, entity, attr, value.item() if isinstance(value, np.generic) else value,
                            sample.ops.get(key, "set"), key, env)
            for part in self._parts:
                flush = getattr(part, "flush", None)
                if flush is not None:
                    flush()

    def _check(self, key: str) -> tuple[str, str, str]:
        try:
            kind, entity, attr = split_key(key)
        except ValueError:
            raise UserError(f"{key}: expected a resolved key kind:entity/attribute") from None
        if (kind, attr) not in TARGETS:
            supported = ", ".join(sorted(f"{k}/{a}" for k, a in TARGETS))
            raise UnsupportedError(f"{key}: USD stages cannot apply {kind}:*/{attr}; they support: {supported}")
        known = self.table.names.get(kind, {})
        if entity not in known:
            raise UnsupportedError(f"{key}: no {kind} named {entity!r} in the stage; known: "
                                   f"{', '.join(known) or 'none'}")
        return kind, entity, attr

    # ------------------------------------------------------------------ what a frame shows
    def class_names(self) -> list[str]:
        """Every class an object can have: slots' assets (variant names) and plain objects' labels,
        sorted (the semantic ids of a dataset are 1 + their position, as in the MuJoCo backend)."""
        names: set[str] = set()
        for name in self.table.names.get("object", {}):
            prim = self.ctx.prim("object", name, 0)
            if name in self.objects.slots:
                names |= set(prim.GetVariantSets().GetVariantSet(objects.ASSET_VARIANT_SET).GetVariantNames())
            names |= set(class_labels(prim)[:1])
        return sorted(names)

    def labelled_objects(self, env: int = 0) -> list[dict[str, Any]]:
        """The objects shown now in environment ``env``, in entity order: name, prim path, class, world
        pose (metres, quaternion w, x, y, z) and instance id (1 + entity index, stable across frames)."""
        out = []
        mpu = self.ctx.meters_per_unit
        for i, name in enumerate(self.table.names.get("object", {})):
            prim = self.ctx.prim("object", name, env)
            if UsdGeom.Imageable(prim).ComputeVisibility() == UsdGeom.Tokens.invisible:
                continue
            world = world_matrix(prim)
            out.append({"name": name, "path": str(prim.GetPath()), "class": (class_labels(prim) or [name])[0],
                        "position": world[:3, 3] * mpu, "quat_wxyz": quat_from_matrix(rotation_part(world[:3, :3])),
                        "instance_id": i + 1})
        return out

    # ------------------------------------------------------------------ restoring
    def restore(self) -> None:
        """Drop every randomized value: the stage composes exactly as it was loaded."""
        self.edits.clear()
        self.xforms.reset()
        for part in self._parts:
            part.reset()

    def close(self) -> None:
        """Restore and detach the edit layer from the stage."""
        self.restore()
        self.edits.close()

    def __enter__(self) -> UsdScene:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

