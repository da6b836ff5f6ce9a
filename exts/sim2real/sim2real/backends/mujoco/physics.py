"""Physics targets: friction, restitution, mass and centre of mass, gravity, joint and actuator
parameters. Each writes ``op(default, value)`` into the model fields of the named entity.

MuJoCo specifics (also in exts/sim2real/docs/mujoco.md):

* ``geom/friction``, ``torsional_friction``, ``rolling_friction`` are ``geom_friction[:, 0|1|2]``.
  MuJoCo combines two geoms' friction with the maximum.
* ``geom/restitution`` has no MuJoCo field. A contact is a damped spring; its coefficient of
  restitution is ``e = exp(-ζπ / sqrt(1 - ζ²))`` for damping ratio ζ < 1, so we write
  ``ζ = -ln e / sqrt(π² + ln² e)`` into ``geom_solref[:, 1]`` (ζ = 1, MuJoCo's default, is e = 0).
  MuJoCo averages the two geoms' solref (``solmix``), so set it on both surfaces of a contact; the
  constraint solver's softness (``solimp``) makes the measured bounce somewhat lower than ``e``.
* ``body/mass`` scales ``body_inertia`` by the same factor (same shape, uniform density);
  ``body/com`` moves ``body_ipos``. ``mj_setConst`` then refreshes the derived constants.
* ``joint/damping|armature|frictionloss`` act on every dof of the joint; ``stiffness`` on the joint.
* ``actuator/kp`` is ``gainprm[0]`` (and ``-biasprm[1]`` of position servos); ``kv`` is ``-biasprm[2]``
  (and ``gainprm[0]`` of velocity servos); ``gear`` is ``gear[0]``.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from ...errors import UnsupportedError
from .ops import as_vector, combine
from .scene import OBJ
from .world import World

TARGETS: dict[str, frozenset[str]] = {
    "geom": frozenset({"friction", "torsional_friction", "rolling_friction", "restitution"}),
    "body": frozenset({"mass", "com"}),
    "joint": frozenset({"damping", "armature", "frictionloss", "stiffness"}),
    "actuator": frozenset({"kp", "kv", "gear"}),
    "world": frozenset({"gravity"}),
}
_FRICTION_AXIS = {"friction": 0, "torsional_friction": 1, "rolling_friction": 2}
_DOF_FIELD = {"damping": "dof_damping", "armature": "dof_armature", "frictionloss": "dof_frictionloss"}


def restitution_to_dampratio(e: np.ndarray) -> np.ndarray:
    """Damping ratio of a spring-damper contact whose coefficient of restitution is ``e`` (0..1)."""
    e = np.clip(np.asarray(e, dtype=float), 0.0, 1.0)
    out = np.ones_like(e)
    bouncy = e > 0
    log_e = np.log(e[bouncy])
    out[bouncy] = -log_e / np.sqrt(math.pi ** 2 + log_e ** 2)
    return out


def dampratio_to_restitution(zeta: np.ndarray) -> np.ndarray:
    zeta = np.asarray(zeta, dtype=float)
    out = np.zeros_like(zeta)
    under = zeta < 1
    out[under] = np.exp(-zeta[under] * math.pi / np.sqrt(1 - zeta[under] ** 2))
    return out


class Physics:
    """Entity tables and writers of the physics targets."""

    def __init__(self, world: World, groups: dict[str, np.ndarray]) -> None:
        """``groups``: extra geom entities (e.g. an object slot → all its geoms)."""
        self.world = world
        scene, model = world.scene, world.model
        internal = {g for ids in groups.values() for g in ids}
        self.geoms: dict[str, np.ndarray] = {
            n: np.array([i]) for i, n in enumerate(scene.names["mjOBJ_GEOM"]) if n and i not in internal}
        self.geoms.update(groups)
        variant_bodies = {v.body for s in scene.slots for v in s.variants.values()}
        self.bodies = {n: i for i, n in enumerate(scene.names["mjOBJ_BODY"]) if i and n and i not in variant_bodies}
        self.joints = {n: i for i, n in enumerate(scene.names["mjOBJ_JOINT"]) if n}
        self.actuators = {n: i for i, n in enumerate(scene.names["mjOBJ_ACTUATOR"]) if n}
        self._dofs = {n: np.arange(model.jnt_dofadr[j], model.jnt_dofadr[j] + _ndof(model.jnt_type[j]))
                      for n, j in self.joints.items()}

    def entities(self) -> dict[str, list[str]]:
        return {"geom": list(self.geoms), "body": list(self.bodies), "joint": list(self.joints),
                "actuator": list(self.actuators), "world": ["world"]}

    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        getattr(self, f"_{kind}")(entity, attr, value, op, key)

    # ------------------------------------------------------------------ per kind
    def _geom(self, entity: str, attr: str, value: object, op: str, key: str) -> None:
        ids, model, d = self.geoms[entity], self.world.model, self.world.default
        if attr in _FRICTION_AXIS:
            axis = _FRICTION_AXIS[attr]
            model.geom_friction[ids, axis] = np.maximum(combine(d("geom_friction")[ids, axis], value, op, key), 0)
            return
        solref = d("geom_solref")[ids]
        if (solref[:, 0] <= 0).any():
            raise UnsupportedError(f"{key}: geom {entity!r} uses direct solref (stiffness, damping); "
                                   "restitution needs the (timeconst, dampratio) form")
        e = combine(dampratio_to_restitution(solref[:, 1]), value, op, key)
        model.geom_solref[ids, 1] = restitution_to_dampratio(e)

    def _body(self, entity: str, attr: str, value: object, op: str, key: str) -> None:
        b, model, d = self.bodies[entity], self.world.model, self.world.default
        if attr == "mass":
            mass0 = float(d("body_mass")[b])
            mass = float(combine(mass0, value, op, key))
            if mass0 <= 0 or mass <= 0:
                raise UnsupportedError(f"{key}: expected a positive mass for body {entity!r} "
                                       f"(default {mass0:g} kg, got {mass:g} kg)")
            model.body_mass[b] = mass
            model.body_inertia[b] = d("body_inertia")[b] * (mass / mass0)
        else:
            model.body_ipos[b] = combine(d("body_ipos")[b], as_vector(value, 3, key), op, key)
        self.world.const_dirty = True

    def _joint(self, entity: str, attr: str, value: object, op: str, key: str) -> None:
        model, d = self.world.model, self.world.default
        if attr == "stiffness":
            j = self.joints[entity]
            model.jnt_stiffness[j] = max(float(combine(d("jnt_stiffness")[j], value, op, key)), 0.0)
            return
        dofs, name = self._dofs[entity], _DOF_FIELD[attr]
        getattr(model, name)[dofs] = np.maximum(combine(d(name)[dofs], value, op, key), 0.0)
        if attr == "armature":
            self.world.const_dirty = True

    def _actuator(self, entity: str, attr: str, value: object, op: str, key: str) -> None:
        a, model, d = self.actuators[entity], self.world.model, self.world.default
        gain0, bias0 = d("actuator_gainprm")[a], d("actuator_biasprm")[a]
        affine = model.actuator_biastype[a] == mujoco.mjtBias.mjBIAS_AFFINE
        position_servo = affine and bias0[1] != 0 and bias0[1] == -gain0[0]
        velocity_servo = affine and bias0[1] == 0 and bias0[2] != 0 and bias0[2] == -gain0[0]
        if attr == "gear":
            model.actuator_gear[a, 0] = float(combine(d("actuator_gear")[a, 0], value, op, key))
            self.world.const_dirty = True
        elif attr == "kp":
            kp = float(combine(gain0[0], value, op, key))
            model.actuator_gainprm[a, 0] = kp
            if position_servo:
                model.actuator_biasprm[a, 1] = -kp
        else:
            if not affine:
                raise UnsupportedError(f"{key}: actuator {entity!r} has no velocity feedback (kv needs an "
                                       "affine bias, e.g. a <position kv=...> or <velocity> actuator)")
            kv = float(combine(-bias0[2], value, op, key))
            model.actuator_biasprm[a, 2] = -kv
            if velocity_servo:
                model.actuator_gainprm[a, 0] = kv

    def _world(self, entity: str, attr: str, value: object, op: str, key: str) -> None:
        self.world.model.opt.gravity[:] = combine(self.world.default("opt.gravity"), as_vector(value, 3, key), op, key)


def _ndof(joint_type: int) -> int:
    return {mujoco.mjtJoint.mjJNT_FREE: 6, mujoco.mjtJoint.mjJNT_BALL: 3}.get(joint_type, 1)


__all__ = ["Physics", "TARGETS", "restitution_to_dampratio", "dampratio_to_restitution", "OBJ"]
