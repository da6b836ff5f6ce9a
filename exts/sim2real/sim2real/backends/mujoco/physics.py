"""Physics targets: friction, restitution, mass and centre of mass, gravity, joint and actuator
parameters. Each (key, op) compiles once into ``Elements`` (tables.py): the model elements it writes,
each an affine map of the sampled value (``op(default, value)``; an inertia follows its mass, a
servo's bias its gain) or a custom one (restitution), so that one description serves a single
``apply`` and a block of interval firings alike.

MuJoCo specifics (also in exts/sim2real/docs/mujoco.md):

* ``geom/friction``, ``torsional_friction``, ``rolling_friction`` are ``geom_friction[:, 0|1|2]``.
  MuJoCo combines two geoms' friction with the maximum.
* ``geom/restitution`` has no MuJoCo field. A MuJoCo contact behaves like a damped spring whose
  damping ratio is ``solref[1]`` (``dampratio``); the bounce it gives also depends on the solver's
  impedance (``solimp``), the time constant ``solref[0]`` and the time step, so no closed formula
  is exact (the ideal spring-damper's ``exp(-ζπ/sqrt(1-ζ²))`` is off by up to 0.15). We measure it:
  once per (time step, time constant, solimp), a sphere is dropped on a plane in a small MuJoCo model
  for damping ratios 0.1 .. 6 and its rebound velocity ratio recorded; ``restitution`` is then
  turned into ``dampratio`` by interpolating that curve. MuJoCo's soft contact bounces at most about
  0.7 (ζ = 0.1; lower ratios make the contact spring too stiff for the time step and energy is
  gained), and its default ζ = 1 already bounces about 0.13: requests outside the reachable range
  are clipped to it, with a warning. MuJoCo averages the two geoms' solref (``solmix``), so set
  restitution on both surfaces of a contact.
* ``body/mass`` scales ``body_inertia`` by the same factor (same shape, uniform density);
  ``body/com`` moves ``body_ipos``. ``mj_setConst`` then refreshes the derived constants.
* ``joint/damping|armature|frictionloss`` act on every dof of the joint; ``stiffness`` on the joint.
* ``actuator/kp`` is ``gainprm[0]`` (and ``-biasprm[1]`` of position servos); ``kv`` is ``-biasprm[2]``
  (and ``gainprm[0]`` of velocity servos); ``gear`` is ``gear[0]``.
"""

from __future__ import annotations

import functools
import logging

import mujoco
import numpy as np

from ...errors import UnsupportedError
from .tables import Elements, affine, custom, flat_positions, write_value
from .world import World

log = logging.getLogger(__name__)

TARGETS: dict[str, frozenset[str]] = {
    "geom": frozenset({"friction", "torsional_friction", "rolling_friction", "restitution"}),
    "body": frozenset({"mass", "com"}),
    "joint": frozenset({"damping", "armature", "frictionloss", "stiffness"}),
    "actuator": frozenset({"kp", "kv", "gear"}),
    "world": frozenset({"gravity"}),
}
_FRICTION_AXIS = {"friction": 0, "torsional_friction": 1, "rolling_friction": 2}
_DOF_FIELD = {"damping": "dof_damping", "armature": "dof_armature", "frictionloss": "dof_frictionloss"}


DAMPRATIOS = np.array([0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0, 1.25, 1.5, 2.0, 2.5,
                       3.0, 4.0, 6.0])
_warned: set[str] = set()


@functools.lru_cache(maxsize=16)
def restitution_curve(timestep: float, timeconst: float, solimp: tuple[float, ...]) -> np.ndarray:
    """Coefficient of restitution of a MuJoCo contact for each of ``DAMPRATIOS``: a 5 cm sphere dropped
    from 0.2 m on a plane, both with ``solref = (timeconst, dampratio)`` and ``solimp``; the ratio of
    the rebound's peak upward velocity to the impact velocity."""
    imp = " ".join(f"{v:.9g}" for v in solimp)
    ref = f'solref="{timeconst:.9g} 1" solimp="{imp}"'
    model = mujoco.MjModel.from_xml_string(
        f'<mujoco><option timestep="{timestep:.9g}"/><worldbody><geom type="plane" size="1 1 .1" {ref}/>'
        f'<body pos="0 0 0.25"><freejoint/><geom type="sphere" size="0.05" {ref}/></body></worldbody></mujoco>')
    data = mujoco.MjData(model)
    out = []
    for zeta in DAMPRATIOS:
        model.geom_solref[:, 1] = zeta
        mujoco.mj_resetData(model, data)
        v_in = v_out = 0.0
        for _ in range(int(1.0 / timestep)):
            mujoco.mj_step(model, data)
            v = float(data.qvel[2])
            if v_out == 0.0:
                v_in = min(v_in, v)
            v_out = max(v_out, v) if v_in < 0 else 0.0
            if v_out > 0 and data.ncon == 0:
                break
        out.append(v_out / -v_in if v_in < 0 else 0.0)
    return np.minimum.accumulate(np.array(out))  # monotone: more damping never bounces more


def _curve(model: mujoco.MjModel, solref: np.ndarray, solimp: np.ndarray) -> np.ndarray:
    return restitution_curve(float(model.opt.timestep), float(solref[0]), tuple(float(v) for v in solimp))


def restitution_to_dampratio(e: float, curve: np.ndarray, key: str = "") -> float:
    """Damping ratio whose measured restitution is ``e`` (clipped to the reachable range)."""
    return float(_dampratios(np.array([e], dtype=float), curve, key)[0])


def _dampratios(e: np.ndarray, curve: np.ndarray, key: str) -> np.ndarray:
    lo, hi = float(curve[-1]), float(curve[0])
    outside = (e < lo) | (e > hi)
    if outside.any() and key not in _warned:
        _warned.add(key)
        log.warning("%s: restitution %.3g is outside what MuJoCo's soft contact reaches here (%.3g .. %.3g); "
                    "clipped", key, float(e[outside][0]), lo, hi)
    return np.interp(np.clip(e, lo, hi), curve[::-1], DAMPRATIOS[::-1])


def dampratio_to_restitution(zeta: float, curve: np.ndarray) -> float:
    return float(np.interp(zeta, DAMPRATIOS, curve))


class Physics:
    """Entity tables and the model elements each physics target writes."""

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
        self.actuators = {n: i for i, n in enumerate(scene.actuator_names()) if n}
        self._dofs = {n: np.arange(model.jnt_dofadr[j], model.jnt_dofadr[j] + _ndof(model.jnt_type[j]))
                      for n, j in self.joints.items()}
        self._by_kind = {"geom": self._geom, "body": self._body, "joint": self._joint, "actuator": self._actuator,
                         "world": self._world}
        self._compiled: dict[tuple[str, str], list[Elements]] = {}

    def entities(self) -> dict[str, list[str]]:
        return {"geom": list(self.geoms), "body": list(self.bodies), "joint": list(self.joints),
                "actuator": list(self.actuators), "world": ["world"]}

    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        """Write one value (``op`` with the loaded default) into the model."""
        write_value(self.world, key, self.elements(kind, entity, attr, op, key), value)

    def elements(self, kind: str, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        """What ``key`` (``kind:entity/attr``, combined by ``op``) writes; compiled once per key."""
        found = self._compiled.get((key, op))
        if found is None:
            found = self._compiled[(key, op)] = self._by_kind[kind](entity, attr, op, key)
        return found

    def default_value(self, kind: str, entity: str, attr: str) -> float:
        """The loaded default of a scalar physics attribute, in the units a ``set`` writes (system
        identification reports estimates next to it)."""
        d = self.world.default
        if kind == "body" and attr == "mass":
            return float(d("body_mass")[self.bodies[entity]])
        if kind == "geom" and attr in _FRICTION_AXIS:
            return float(d("geom_friction")[self.geoms[entity][0], _FRICTION_AXIS[attr]])
        if kind == "joint" and attr == "stiffness":
            return float(d("jnt_stiffness")[self.joints[entity]])
        if kind == "joint" and attr in _DOF_FIELD:
            return float(d(_DOF_FIELD[attr])[self._dofs[entity][0]])
        if kind == "actuator" and attr in ("kp", "kv", "gear"):
            a = self.actuators[entity]
            if attr == "kp":
                return float(d("actuator_gainprm")[a, 0])
            if attr == "kv":
                return float(-d("actuator_biasprm")[a, 2])
            return float(d("actuator_gear")[a, 0])
        raise UnsupportedError(f"{kind}:{entity}/{attr}: not a scalar physics attribute with a default")

    # ------------------------------------------------------------------ per kind
    def _geom(self, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        ids, model, d = self.geoms[entity], self.world.model, self.world.default
        if attr in _FRICTION_AXIS:
            axis = _FRICTION_AXIS[attr]
            return [affine("geom_friction", flat_positions(model.geom_friction, ids, axis),
                           d("geom_friction")[ids, axis], op, key, floor=0.0)]
        solref, solimp = d("geom_solref")[ids], d("geom_solimp")[ids]
        if (solref[:, 0] <= 0).any():
            raise UnsupportedError(f"{key}: geom {entity!r} uses direct solref (stiffness, damping); "
                                   "restitution needs the (timeconst, dampratio) form")
        curves = [_curve(model, ref, imp) for ref, imp in zip(solref, solimp, strict=True)]
        e0 = affine("", np.arange(len(ids)), [dampratio_to_restitution(float(ref[1]), c)
                                              for ref, c in zip(solref, curves, strict=True)], op, key)

        def dampratios(v: np.ndarray) -> np.ndarray:  # restitution -> damping ratio: not affine
            e = e0.values(v)
            return np.stack([_dampratios(e[:, j], c, key) for j, c in enumerate(curves)], axis=1)

        return [custom("geom_solref", flat_positions(model.geom_solref, ids, 1), dampratios)]

    def _body(self, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        b, model, d = self.bodies[entity], self.world.model, self.world.default
        if attr == "com":
            return [affine("body_ipos", flat_positions(model.body_ipos, b), d("body_ipos")[b], op, key,
                           component=[0, 1, 2], const=True)]
        mass0 = float(d("body_mass")[b])
        if mass0 <= 0:
            raise UnsupportedError(f"{key}: expected a positive mass for body {entity!r} (default {mass0:g} kg)")
        mass = affine("body_mass", flat_positions(model.body_mass, b), mass0, op, key, const=True,
                      positive=lambda m: f"{key}: expected a positive mass for body {entity!r} "
                                         f"(default {mass0:g} kg, got {m:g} kg)")
        # inertia scales with the mass: same shape, uniform density
        return [mass, mass.derived("body_inertia", flat_positions(model.body_inertia, b), d("body_inertia")[b] / mass0)]

    def _joint(self, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        model, d = self.world.model, self.world.default
        if attr == "stiffness":
            j = self.joints[entity]
            return [affine("jnt_stiffness", flat_positions(model.jnt_stiffness, j), d("jnt_stiffness")[j], op, key,
                           floor=0.0)]
        dofs, name = self._dofs[entity], _DOF_FIELD[attr]
        return [affine(name, flat_positions(getattr(model, name), dofs), d(name)[dofs], op, key, floor=0.0,
                       const=attr == "armature")]

    def _actuator(self, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        a, model, d = self.actuators[entity], self.world.model, self.world.default
        gain0, bias0 = d("actuator_gainprm")[a], d("actuator_biasprm")[a]
        affine_bias = model.actuator_biastype[a] == mujoco.mjtBias.mjBIAS_AFFINE
        position_servo = affine_bias and bias0[1] != 0 and bias0[1] == -gain0[0]
        velocity_servo = affine_bias and bias0[1] == 0 and bias0[2] != 0 and bias0[2] == -gain0[0]
        gain, bias = flat_positions(model.actuator_gainprm, a, 0), flat_positions(model.actuator_biasprm, a, [1, 2])
        if attr == "gear":
            return [affine("actuator_gear", flat_positions(model.actuator_gear, a, 0), d("actuator_gear")[a, 0], op,
                           key, const=True)]
        if attr == "kp":  # a position servo's bias holds -kp too
            kp = affine("actuator_gainprm", gain, gain0[0], op, key)
            return [kp, kp.derived("actuator_biasprm", bias[:1], -1.0)] if position_servo else [kp]
        if not affine_bias:
            raise UnsupportedError(f"{key}: actuator {entity!r} has no velocity feedback (kv needs an "
                                   "affine bias, e.g. a <position kv=...> or <velocity> actuator)")
        kv = affine("actuator_biasprm", bias[1:], -bias0[2], op, key)  # the bias holds -kv
        out = [kv.derived("actuator_biasprm", bias[1:], -1.0)]
        return out + [kv.derived("actuator_gainprm", gain, 1.0)] if velocity_servo else out

    def _world(self, entity: str, attr: str, op: str, key: str) -> list[Elements]:
        return [affine("opt.gravity", np.arange(3), self.world.default("opt.gravity"), op, key, component=[0, 1, 2])]


def _ndof(joint_type: int) -> int:
    return {mujoco.mjtJoint.mjJNT_FREE: 6, mujoco.mjtJoint.mjJNT_BALL: 3}.get(joint_type, 1)

