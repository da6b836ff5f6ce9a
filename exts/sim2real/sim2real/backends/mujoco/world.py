"""The state shared by the appliers: the loaded scene, the live model and data, the defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from .scene import Scene
from .snapshot import ModelSnapshot


@dataclass
class World:
    scene: Scene
    model: mujoco.MjModel
    data: mujoco.MjData
    defaults: ModelSnapshot  # every model field in the default state (after the load-time edits)
    compiled: ModelSnapshot  # every model field as compiled: each library asset's own mass, groups, sizes
    scratch: mujoco.MjData = field(init=False)  # for mj_setConst, which overwrites the data it is given
    const_dirty: bool = False  # mass, inertia, armature or gear changed: recompute derived constants
    forward_dirty: bool = True  # poses changed: recompute kinematics before rendering

    _flat: dict[str, np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.scratch = mujoco.MjData(self.model)

    def flat(self, path: str) -> np.ndarray:
        """A flat, writable view of the model field at ``path`` (``body_mass``, ``opt.gravity``)."""
        view = self._flat.get(path)
        if view is None:
            owner = self.model
            for part in path.split("."):
                owner = getattr(owner, part)
            view = owner.reshape(-1)
            if not np.shares_memory(view, owner):  # reshape copies only non-contiguous arrays
                raise TypeError(f"model field {path} is not contiguous; it cannot be written through a flat view")
            self._flat[path] = view
        return view

    def default(self, field_name: str) -> np.ndarray:
        return self.defaults[field_name]

    def refresh_constants(self) -> None:
        """Recompute the fields MuJoCo derives from masses and inertias (``body_subtreemass``,
        ``dof_invweight0``, ``actuator_acc0``, ...) after they changed."""
        if self.const_dirty:
            mujoco.mj_setConst(self.model, self.scratch)
            self.const_dirty = False
