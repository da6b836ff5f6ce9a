"""Gymnasium's MuJoCo environments through the MuJoCo backend.

``attach_env(env)`` gives a ``MujocoBackend`` on the environment's own ``MjModel`` and ``MjData``
(``MujocoBackend.attach``): every profile target the backend supports — masses with their inertia,
friction, joint damping, actuator gains, gravity — is written by the backend's appliers into the
model the environment steps, relative to the defaults captured at attach time.

It also routes the environment's physics through ``MujocoBackend.step``: gymnasium's ``MujocoEnv``
steps in ``_step_mujoco_simulation(ctrl, n_frames)`` (the method its subclasses override to change how
the simulation advances); the attached environment's instance gets one that sends ``ctrl`` with
``set_control`` and steps the backend. So actuator latency and command gain error
(``actuator:*/latency|gain_error``, in physics steps, ``sim.wrappers.CommandPipe``), interval and
time-varying terms (fired by step callbacks between physics steps) and any other step callback act
inside the environment's control period exactly as on the backend and on the surrogate robot.
Without delays or callbacks the steps are the same ``mj_step(nstep=n_frames)`` call gymnasium makes,
so an attached environment with nothing applied moves exactly like a plain one.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from ...errors import UnsupportedError
from .backend import MujocoBackend

HOOK = "_step_mujoco_simulation"


def attach_env(env: Any) -> MujocoBackend:
    """A backend on gymnasium MuJoCo environment ``env`` (any wrapper of it), stepping its physics."""
    base = getattr(env, "unwrapped", env)
    model, data, path = getattr(base, "model", None), getattr(base, "data", None), getattr(base, "fullpath", None)
    if not isinstance(model, mujoco.MjModel) or not isinstance(data, mujoco.MjData) or path is None \
            or not callable(getattr(base, HOOK, None)):
        raise UnsupportedError(f"{type(base).__name__}: expected a gymnasium MujocoEnv (model, data, fullpath and "
                               f"{HOOK}); other environments cannot be randomized through the MuJoCo backend")
    backend = MujocoBackend()
    backend.attach(path, model, data)

    def step_physics(ctrl: Any, n_frames: int) -> None:
        backend.set_control(np.asarray(ctrl, dtype=float).reshape(-1))
        backend.step(int(n_frames))
        # what gymnasium's own step does after mj_step: force-related quantities (cacc, cfrc_ext)
        mujoco.mj_rnePostConstraint(model, data)

    setattr(base, HOOK, step_physics)
    return backend


def effort_per_command(backend: MujocoBackend) -> dict[str, float]:
    """Force (N) or torque (N·m) per command unit of every motor-like actuator (fixed gain, no bias:
    ``gainprm[0] * gear[0]``); servos, whose effort depends on the state, are left out."""
    model = backend.model
    fixed, none = int(mujoco.mjtGain.mjGAIN_FIXED), int(mujoco.mjtBias.mjBIAS_NONE)
    return {name: float(model.actuator_gainprm[a, 0] * model.actuator_gear[a, 0])
            for name, a in backend.physics.actuators.items()
            if int(model.actuator_gaintype[a]) == fixed and int(model.actuator_biastype[a]) == none}
