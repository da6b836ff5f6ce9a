"""``MujocoSimulator``: batched rollouts of one MuJoCo scene under many parameter sets, for system
identification (the ``sim.rollout.Simulator`` protocol).

* The scene is loaded by ``MujocoBackend`` (same names, same load-time defaults as randomization).
* Each rollout gets its own copy of the model; parameters are written into it by the backend's own
  physics applier (``physics.Physics``: body mass with inertia scaled alike, friction, joint and
  actuator parameters, each relative to the defaults captured at load), so identification and
  randomization share one implementation of every parameter.
* All rollouts of a call run in one ``mujoco.rollout.Rollout`` call on a persistent thread pool
  (one model per rollout, as ``mujoco.sysid`` does).

Why not ``mujoco.sysid`` itself: it is not importable without the ``mujoco[sysid]`` extra (colorama,
tabulate, pyyaml, plotly, imageio-ffmpeg, for its own report), and it rebuilds each candidate model
by editing an ``MjSpec`` and recompiling it (``apply_param_modifiers``), which costs more than the
rollout itself on small robots; we write ``MjModel`` fields in place with the appliers the
randomization backend uses. Its interval formula (Jacobian covariance, Student t) is the one in
``sysid.uncertainty``, extended with per-channel noise levels and autocorrelation.

Outputs (``channels``): every named sensor (``<sensor>``, or ``<sensor>.<i>`` per component), and
``<joint>.position`` / ``<joint>.velocity`` of every hinge and slide joint (from the state).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Self

import mujoco
import mujoco.rollout
import numpy as np

from ...randomize.targets import split_key
from ...sim.rollout import Channel, ParamValues
from . import physics
from .backend import MujocoBackend
from .channels import Source, channel_sources, channel_table, command_unit
from .world import World

log = logging.getLogger(__name__)

STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS
_NEUTRAL = {"scale": 1.0, "add": 0.0}


@dataclass
class _Slot:
    """One model copy with its own world and physics applier."""

    model: mujoco.MjModel
    physics: physics.Physics
    touched: dict[str, str] = field(default_factory=dict)  # keys written last time -> their op


class MujocoSimulator:
    """Batched rollouts of a MuJoCo scene (a path or a shipped scene name)."""

    def __init__(self, scene: str | PathLike[str], nthread: int = 2) -> None:
        self.backend = MujocoBackend()
        self.backend.load(scene, resolution=(64, 64))
        world = self.backend.world
        assert world is not None
        self._world = world
        self.model = world.model  # stays at the defaults: parameters go into copies
        self.name = self.backend.scene.path.name
        self.nthread = max(0, int(nthread))
        self._rollout = mujoco.rollout.Rollout(nthread=self.nthread)
        self._datas = [mujoco.MjData(self.model) for _ in range(max(1, self.nthread))]
        self._slots: list[_Slot] = []
        self._slot_groups = {s.name: np.concatenate([v.geoms for v in s.variants.values()])
                             for s in self.backend.scene.slots}
        self._channels = channel_table(self.model, self.backend.scene)
        self._by_name = {c.name: i for i, c in enumerate(self._channels)}
        self._extract = _Extractor(self.model, self._channels)
        self._joint_sources = {(c.joint, c.kind): src for c, src in zip(self._channels, self._extract.sources, strict=True)
                               if src.field in ("qpos", "qvel")}
        self._initial = self._default_state()

    # ------------------------------------------------------------------ description
    @property
    def dt(self) -> float:
        return float(self.model.opt.timestep)

    def entities(self) -> dict[str, list[str]]:
        ent = self.backend.entities()
        return {k: v for k, v in ent.items() if k in ("geom", "body", "joint", "actuator", "sensor", "world")}

    def actuators(self) -> list[str]:
        return self.backend.control_names()

    def command_units(self) -> list[str]:
        return [command_unit(self.model, a) for a in range(self.model.nu)]

    def command_ranges(self) -> list[tuple[float, float] | None]:
        m = self.model
        return [(float(m.actuator_ctrlrange[a, 0]), float(m.actuator_ctrlrange[a, 1]))
                if m.actuator_ctrllimited[a] else None for a in range(m.nu)]

    def joint_ranges(self) -> dict[str, tuple[float, float]]:
        m, named = self.model, {c.joint for c in self._channels if c.kind == "position"}
        out = {}
        for j in range(m.njnt):
            name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) or ""
            if m.jnt_limited[j] and name in named:
                out[name] = (float(m.jnt_range[j, 0]), float(m.jnt_range[j, 1]))
        return out

    def actuator_joints(self) -> list[str]:
        m = self.model
        return [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, int(m.actuator_trnid[a, 0])) or ""
                if m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT else "" for a in range(m.nu)]

    def channels(self) -> list[Channel]:
        return list(self._channels)

    def supports(self, kind: str, attribute: str) -> bool:
        return attribute in physics.TARGETS.get(kind, ()) and (kind, attribute) != ("geom", "restitution")

    def default(self, key: str) -> float:
        """The loaded model's value of ``kind:entity/attribute`` (absolute units)."""
        kind, entity, attr = split_key(key)
        return self._slot(0).physics.default_value(kind, entity, attr)

    # ------------------------------------------------------------------ rollouts
    def initial_state(self, measured: Mapping[str, float]) -> np.ndarray:
        state = self._initial.copy()
        for name, value in measured.items():
            i = self._by_name.get(name)
            if i is None:
                continue
            c = self._channels[i]
            if c.joint and c.kind in ("position", "velocity"):
                state[self._extract.state_column(self._joint_sources[(c.joint, c.kind)])] = value
        return state

    def rollout(self, values: Sequence[ParamValues], initial: np.ndarray, ctrl: np.ndarray,
                channels: Sequence[str]) -> np.ndarray:
        b = ctrl.shape[0]
        if len(values) != b or initial.shape[0] != b:
            raise ValueError(f"expected {b} parameter sets and initial states (got {len(values)}, {initial.shape[0]})")
        if all(v == values[0] for v in values[1:]):  # one parameter set: one model for every rollout
            models: Any = self._configured(0, values[0])
        else:
            models = [self._configured(i, v) for i, v in enumerate(values)]
        # one more step than commands: sensors at step k describe the state before step k, so T + 1
        # steps give every output at times 0 .. T dt
        full = np.concatenate([ctrl, ctrl[:, -1:]], axis=1)
        state, sensordata = self._rollout.rollout(models, self._datas, np.ascontiguousarray(initial),
                                                  np.ascontiguousarray(full))
        return self._extract(initial, state, sensordata, [self._by_name[c] for c in channels])

    def _configured(self, i: int, values: ParamValues) -> mujoco.MjModel:
        slot = self._slot(i)
        for key, op in list(slot.touched.items()):  # keys of the previous call that this one omits
            if key not in values:
                self._write(slot, key, _NEUTRAL.get(op, self.default(key)), op)
                del slot.touched[key]
        for key, (value, op) in values.items():
            self._write(slot, key, value, op)
            slot.touched[key] = op
        slot.physics.world.refresh_constants()
        return slot.model

    @staticmethod
    def _write(slot: _Slot, key: str, value: float, op: str) -> None:
        kind, entity, attr = split_key(key)
        slot.physics.apply(kind, entity, attr, float(value), op, key)

    def _slot(self, i: int) -> _Slot:
        while len(self._slots) <= i:
            model = copy.copy(self.model)
            world = World(self._world.scene, model, mujoco.MjData(model), self._world.defaults, self._world.compiled)
            self._slots.append(_Slot(model, physics.Physics(world, self._slot_groups)))
        return self._slots[i]

    def _default_state(self) -> np.ndarray:
        data = mujoco.MjData(self.model)
        mujoco.mj_resetData(self.model, data)
        state = np.zeros(mujoco.mj_stateSize(self.model, STATE))
        mujoco.mj_getState(self.model, data, state, STATE)
        return state

    def close(self) -> None:
        if self._rollout is not None:
            self._rollout.close()
            self._rollout = None
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Extractor:
    """Picks channels out of ``mujoco.rollout``'s state and sensordata arrays."""

    def __init__(self, model: mujoco.MjModel, channels: list[Channel]) -> None:
        self.qpos_offset = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_TIME)
        self.qvel_offset = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_TIME | mujoco.mjtState.mjSTATE_QPOS)
        self.sources: list[Source] = channel_sources(model, channels)

    def state_column(self, source: Source) -> int:
        return (self.qpos_offset if source.field == "qpos" else self.qvel_offset) + source.index

    def __call__(self, initial: np.ndarray, state: np.ndarray, sensordata: np.ndarray,
                 which: list[int]) -> np.ndarray:
        b, steps = state.shape[0], state.shape[1]  # steps = T + 1
        out = np.empty((b, steps, len(which)))
        for j, i in enumerate(which):
            source = self.sources[i]
            if source.field == "sensordata":  # sensordata[k] is computed before step k: time k dt
                out[:, :, j] = sensordata[:, :, source.index]
            else:  # state[k] is after step k: time (k + 1) dt
                col = self.state_column(source)
                out[:, 0, j] = initial[:, col]
                out[:, 1:, j] = state[:, :-1, col]
        return out
