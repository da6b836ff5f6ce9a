"""``open_simulator``: the ``sim.rollout.Simulator`` of a model name (the analytic ``msd`` or a MuJoCo scene)."""

from __future__ import annotations

import importlib

from ..sim.rollout import Simulator

# model name -> "module:factory"; anything else is a MuJoCo scene (a path or a shipped scene name)
ANALYTIC = {"msd": "sim2real.sysid.analytic:MassSpringDamper"}
MUJOCO = "sim2real.backends.mujoco.rollout:MujocoSimulator"


def open_simulator(model: str, nthread: int = 2) -> Simulator:
    """The simulator of ``model``: ``msd`` (the analytic mass-spring-damper) or a MuJoCo scene."""
    if model in ANALYTIC:
        module, _, attr = ANALYTIC[model].partition(":")
        return getattr(importlib.import_module(module), attr)()
    from ..sim.registry import backend_class

    backend_class("mujoco")  # one line saying what to install when MuJoCo is missing
    module, _, attr = MUJOCO.partition(":")
    return getattr(importlib.import_module(module), attr)(model, nthread=nthread)
