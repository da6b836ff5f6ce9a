"""A loaded scene's appliers: built on a model and data, defaults captured, flushed and reset together.

``load_appliers`` builds one applier per kind of target on the shared ``World`` (see the table in
``backend.py``), lets the object slots write their default assets, and snapshots the result as the
defaults every ``apply`` is relative to. ``check_attachable`` guards ``MujocoBackend.attach``: an
outside model must be the file's own compilation.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from ...errors import UnsupportedError
from . import cameras, objects, physics, signals, visuals
from . import state as state_targets
from .scene import Scene
from .snapshot import ModelSnapshot
from .world import World

_SIZES = ("nq", "nv", "nu", "na", "nbody", "njnt", "ngeom", "nsite", "nsensor", "nmesh", "ntex", "nmat",
          "ncam", "nlight", "nsensordata")


@dataclass
class Appliers:
    """Every applier of one loaded scene, over the ``World`` they share."""

    world: World
    objects: objects.Objects
    physics: physics.Physics
    lights: visuals.Lights
    materials: visuals.Materials
    cameras: cameras.Cameras
    signals: signals.Signals
    dynamic_state: state_targets.State
    sensors: dict[str, int]  # sensor name -> model id

    def entities(self) -> dict[str, list[str]]:
        """Entity names per target kind (kinds with none left out)."""
        out: dict[str, list[str]] = {}
        for part in (self.lights, self.materials, self.cameras, self.physics, self.objects):
            out.update(part.entities())
        out["sensor"] = list(self.sensors)
        return {k: v for k, v in out.items() if v}

    def flush(self) -> None:
        """Write what the applied values changed into the model, in dependency order."""
        self.objects.flush()
        self.dynamic_state.flush()  # after the object poses, whose write re-initialises qpos
        self.materials.flush()
        self.lights.flush()
        self.cameras.flush()

    def reset(self) -> None:
        """Every model field back to its default, every applier's state too (not the physical state)."""
        self.world.defaults.restore(self.world.model)
        for part in (self.objects, self.lights, self.materials, self.cameras, self.dynamic_state):
            part.reset()


def load_appliers(scene: Scene, model: mujoco.MjModel, data: mujoco.MjData,
                  resolution: tuple[int, int]) -> Appliers:
    """Build the appliers on ``model``/``data`` (written in place) and capture the defaults."""
    compiled = ModelSnapshot(model)
    world = World(scene, model, data, compiled, compiled)
    slot_geoms = {s.name: np.concatenate([v.geoms for v in s.variants.values()]) for s in scene.slots}
    objs = objects.Objects(world)
    phys = physics.Physics(world, slot_geoms)
    materials = visuals.Materials(world, {int(g) for ids in slot_geoms.values() for g in ids})
    sensors = {n: i for i, n in enumerate(scene.names["mjOBJ_SENSOR"]) if n}
    dynamic = state_targets.State(world, phys.joints, phys.bodies, {n: o.body for n, o in objs.objects.items()})
    parts = Appliers(world, objs, phys, visuals.Lights(world), materials, cameras.Cameras(world, resolution),
                     signals.Signals(model.nu, phys.actuators, list(sensors)), dynamic, sensors)
    objs.on_asset.append(lambda slot, colour: materials.set_default_color(slot.material, colour))
    # the default assets rest on the table, dressed in their colours: that is the default state
    objs.write_defaults()
    materials.flush()
    world.const_dirty = True
    world.refresh_constants()
    world.defaults = ModelSnapshot(model)
    for part in (parts.objects, parts.lights, parts.materials, parts.cameras):
        part.reset()
    return parts


def check_attachable(scene: Scene, model: mujoco.MjModel) -> None:
    """Refuse a model that is not ``scene``'s own compilation (other sizes, or slots to expand)."""
    differ = [f"{k} {getattr(model, k)} != {getattr(scene.model, k)}" for k in _SIZES
              if getattr(model, k) != getattr(scene.model, k)]
    if differ or scene.slots:
        raise UnsupportedError(f"{scene.path}: cannot attach a model that is not this file's own compilation "
                               f"({'; '.join(differ) or 'the scene has object slots'})")
