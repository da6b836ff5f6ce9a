"""Object scale by recompiling: the object slots' meshes at a new scale, copied into the live model.

MuJoCo bakes a mesh's scale into its vertices, inertia and bounds at compile time, so a new scale
means compiling the spec again and transplanting the fields that changed (``snapshot.transplant_changes``);
the sizes must not change. The renderer holds its own copy of each mesh: ``pending`` lists the meshes
to upload again (``camera_frames.CameraFrames.sync``).
"""

from __future__ import annotations

import copy

import mujoco
import numpy as np

from ...errors import UnsupportedError
from .objects import Objects
from .snapshot import transplant_changes
from .world import World


class MeshScales:
    """The slots' mesh scales: rescale by recompiling, back to the loaded scales at reset."""

    def __init__(self, world: World, objects: Objects) -> None:
        self.world, self.objects = world, objects
        self._base_compile = copy.copy(world.model)  # the model as compiled at load, before run-time edits
        self._compiled = self._base_compile  # ... and as last compiled
        self._base = {m.name: np.array(m.scale, dtype=float) for m in world.scene.spec.meshes}
        self.changed: set[str] = set()  # meshes not at their loaded scale
        self.pending: set[str] = set()  # meshes the renderer must upload again

    def rescale(self, rescale: dict[str, float]) -> None:
        """Recompile with the meshes at ``{mesh name: scale}``; copy what changed into the live model."""
        world, spec = self.world, self.world.scene.spec
        for mesh, scale in rescale.items():
            spec.mesh(mesh).scale = self._base[mesh] * scale
        compiled = spec.compile()
        if not transplant_changes(world.model, self._compiled, compiled):
            raise UnsupportedError(f"object scale: recompiling {', '.join(sorted(rescale))} changed the model's "
                                   "sizes; use a scale closer to 1 or an asset without meshes")
        self._compiled = compiled
        objects = self.objects
        objects.mesh_scale.update(rescale)
        self.changed |= set(rescale)
        self.pending |= set(rescale)
        for name, state in objects.state.items():  # their masses and bounds follow the new geometry
            if any(m in rescale for m in objects.slots[name].variants[state.asset].meshes):
                objects.shape_dirty.add(name)
                objects.pose_dirty.add(name)
        world.const_dirty = True

    def restore(self) -> None:
        """Back to the loaded scales (the model's fields are restored from the snapshot by the caller)."""
        if not self.changed:
            return
        for mesh in self.changed:
            self.world.scene.spec.mesh(mesh).scale = self._base[mesh]
        self.pending |= self.changed
        self.changed.clear()
        self.objects.mesh_scale.clear()
        self._compiled = self._base_compile

    def ids(self, names: set[str]) -> list[int]:
        """Model ids of the named meshes, in name order."""
        return [self.world.scene.id(mujoco.mjtObj.mjOBJ_MESH, name) for name in sorted(names)]
