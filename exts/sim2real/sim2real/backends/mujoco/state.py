"""State targets: joint positions and velocities, root velocities of free objects, external wrenches.

These act on ``mjData``, not on the model: they are what Isaac Lab's ``reset_joints_by_offset`` /
``reset_joints_by_scale``, ``reset_root_state_uniform`` (velocity), ``push_by_setting_velocity`` and
``apply_external_force_torque`` do. A state has no loaded default that lasts: ``add`` and ``scale``
act on the *current* value (right after a reset that is the model's default, ``qpos0`` and zero
velocity and force), ``set`` replaces it.

* ``joint/position``, ``joint/velocity``: hinge and slide joints (one ``qpos``/``qvel`` each); a
  position is clamped to the joint's range when the joint is limited (Isaac Lab clamps to its soft
  limits the same way).
* ``object/velocity``: ``(vx, vy, vz, wx, wy, wz)`` in the world frame (m/s, rad/s) of an object whose
  body has a free joint. MuJoCo keeps a free joint's angular velocity in the body frame; it is rotated
  with the joint's current orientation.
* ``body/force``, ``body/torque``: ``xfrc_applied`` (world frame, at the body's centre of mass), held
  until the next draw or reset.

Writes are staged and made by ``flush``, after the object poses (whose write re-initialises ``qpos``).
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import as_vector
from .world import World

TARGETS: dict[str, frozenset[str]] = {
    "joint": frozenset({"position", "velocity"}),
    "object": frozenset({"velocity"}),
    "body": frozenset({"force", "torque"}),
}


def _combined(current: np.ndarray, value: np.ndarray, op: str, key: str) -> np.ndarray:
    if op == "set":
        return value
    if op == "scale":
        return current * value
    if op == "add":
        return current + value
    raise UnsupportedError(f"{key}: expected an operation among set, scale, add (got {op!r})")


class State:
    def __init__(
        self, world: World, joints: dict[str, int], bodies: dict[str, int], objects: dict[str, int]
    ) -> None:
        self.world = world
        self.joints, self.bodies, self.objects = joints, bodies, objects  # name -> joint id / body id
        self._staged: list[Callable[[], None]] = []

    def reset(self) -> None:
        self._staged.clear()

    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        write = {"joint": self._joint, "object": self._object, "body": self._body}[kind](entity, attr, key)
        n = 6 if kind == "object" else 3 if kind == "body" else 1
        v = as_vector(value, n, key)
        self._staged.append(lambda: write(v, op))

    def flush(self) -> None:
        for write in self._staged:
            write()
        if self._staged:
            self.world.forward_dirty = True
        self._staged.clear()

    # ------------------------------------------------------------------ per kind
    def _joint(self, entity: str, attr: str, key: str) -> Callable[[np.ndarray, str], None]:
        model, data = self.world.model, self.world.data
        j = self.joints[entity]
        if int(model.jnt_type[j]) not in (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)):
            raise UnsupportedError(
                f"{key}: joint {entity!r} is a free or ball joint; joint/{attr} needs a hinge "
                "or slide joint (use object/velocity for a free body)"
            )
        if attr == "velocity":
            dof = int(model.jnt_dofadr[j])

            def write_velocity(v: np.ndarray, op: str) -> None:
                data.qvel[dof] = _combined(data.qvel[dof : dof + 1], v, op, key)[0]

            return write_velocity
        adr, limited = int(model.jnt_qposadr[j]), bool(model.jnt_limited[j])
        lo, hi = (float(v) for v in model.jnt_range[j])

        def write_position(v: np.ndarray, op: str) -> None:
            q = _combined(data.qpos[adr : adr + 1], v, op, key)[0]
            data.qpos[adr] = min(max(q, lo), hi) if limited else q

        return write_position

    def _object(self, entity: str, attr: str, key: str) -> Callable[[np.ndarray, str], None]:
        model, data = self.world.model, self.world.data
        b = self.objects[entity]
        free = [
            j
            for j in range(model.njnt)
            if model.jnt_bodyid[j] == b and int(model.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE)
        ]
        if not free:
            raise UnsupportedError(
                f"{key}: object {entity!r} has no free joint; object/velocity moves free bodies"
            )
        dof, qadr = int(model.jnt_dofadr[free[0]]), int(model.jnt_qposadr[free[0]])

        def write(v: np.ndarray, op: str) -> None:
            flat = np.empty(9)
            mujoco.mju_quat2Mat(flat, data.qpos[qadr + 3 : qadr + 7])
            rot = flat.reshape(3, 3)
            current = np.concatenate(
                [data.qvel[dof : dof + 3], rot @ data.qvel[dof + 3 : dof + 6]]
            )  # world frame
            new = _combined(current, v, op, key)
            data.qvel[dof : dof + 3] = new[:3]
            data.qvel[dof + 3 : dof + 6] = rot.T @ new[3:]

        return write

    def _body(self, entity: str, attr: str, key: str) -> Callable[[np.ndarray, str], None]:
        data, b = self.world.data, self.bodies[entity]
        part = slice(0, 3) if attr == "force" else slice(3, 6)

        def write(v: np.ndarray, op: str) -> None:
            data.xfrc_applied[b, part] = _combined(data.xfrc_applied[b, part], v, op, key)

        return write
