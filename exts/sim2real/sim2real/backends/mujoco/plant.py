"""The MuJoCo plant of the SURROGATE robot (``sim2real.sysid.surrogate``, ``sim.plant.Plant``): reading
named channels from the backend, and unmodelled joint friction applied through ``qfrc_applied`` between
physics steps. ``sysid.surrogate.open_surrogate`` puts a robot on it::

    robot = open_surrogate(load_spec("data/sysid/arm2_surrogate.toml"))
    log = robot.run(read_log("commands.csv"))
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

import mujoco
import numpy as np

from ...errors import InputError
from ...sim.plant import FrictionSpec, Plant
from .backend import MujocoBackend
from .channels import channel_sources, channel_table, command_unit


_ONE_DOF = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))


def mujoco_plant(scene: str, backend: MujocoBackend | None = None) -> Plant:
    """The plant of ``scene`` (a new backend unless one with that scene is given)."""
    if backend is None:
        backend = MujocoBackend()
        backend.load(scene, resolution=(64, 64))
    return plant(backend)


def plant(backend: MujocoBackend) -> Plant:
    model, scene = backend.model, backend.scene
    channels = channel_table(model, scene)
    sources = channel_sources(model, channels)
    components = [int(c.name.rsplit(".", 1)[1]) if c.sensor and c.name != c.sensor else 0 for c in channels]

    def read() -> np.ndarray:
        state = backend.state()  # sensors after the backend's sensor noise and bias (sensor:* terms)
        out = np.empty(len(channels))
        for i, (c, src) in enumerate(zip(channels, sources, strict=True)):
            out[i] = state[f"sensor:{c.sensor}"][components[i]] if c.sensor else state[src.field][src.index]
        return out

    def add_friction(spec: FrictionSpec) -> None:
        backend.add_step_callback(joint_friction(backend, spec), every=1)

    def reset() -> None:
        backend.restore_defaults()

    one_dof = [j for j in range(model.njnt) if int(model.jnt_type[j]) in _ONE_DOF]
    qadr, vadr = model.jnt_qposadr[one_dof], model.jnt_dofadr[one_dof]

    def perturb(dq: np.ndarray, dv: np.ndarray) -> None:
        """Offset the hinge and slide joints (free and ball joints keep their state)."""
        data = backend.data
        data.qpos[qadr] += dq
        data.qvel[vadr] += dv
        mujoco.mj_forward(backend.model, data)

    return Plant(backend, [c.name for c in channels], [c.unit for c in channels], read, add_friction, reset,
                 backend.control_names(), [command_unit(model, a) for a in range(model.nu)], perturb,
                 (len(one_dof), len(one_dof)))


def joint_friction(backend: MujocoBackend, spec: FrictionSpec) -> Callable[[int, float], None]:
    """A step callback writing the friction of the joints' current velocity into ``qfrc_applied`` (it acts
    during the next step; 1-dof joints only)."""
    model = backend.model
    joints = [j for j in range(model.njnt) if int(model.jnt_type[j]) in _ONE_DOF
              and fnmatch.fnmatchcase(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) or "", spec.joints)]
    if not joints:
        raise InputError(f"friction.joints {spec.joints!r}: matches no hinge or slide joint of {backend.scene.path.name}")
    dofs = model.jnt_dofadr[joints]

    def apply(step: int, time_s: float) -> None:
        data = backend.data
        v = data.qvel[dofs]
        level = spec.coulomb + spec.stribeck * np.exp(-((v / spec.stribeck_velocity) ** 2))
        data.qfrc_applied[dofs] = -level * np.tanh(v / spec.smoothing_velocity) - spec.viscous * v

    return apply
