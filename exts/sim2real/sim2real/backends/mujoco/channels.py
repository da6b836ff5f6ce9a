"""The outputs (channels) and command units of a MuJoCo scene, as system identification and the
surrogate robot name them (exts/sim2real/docs/sysid.md, "Log format").

* every named sensor: ``<sensor>``, or ``<sensor>.<i>`` for component ``i`` of a multi-dimensional one;
* every hinge and slide joint: ``<joint>.position`` and ``<joint>.velocity`` (the names ROS
  ``sensor_msgs/JointState`` gives), read from the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from ...sim.rollout import Channel

J = mujoco.mjtJoint
S = mujoco.mjtSensor
# keyed by int: model arrays hold plain integers, which do not hash like the enum members
_JOINT_UNIT = {int(J.mjJNT_HINGE): ("rad", "rad/s", "N.m"), int(J.mjJNT_SLIDE): ("m", "m/s", "N")}
_FIXED_UNIT = {int(k): v for k, v in {
    S.mjSENS_FRAMEPOS: "m", S.mjSENS_FRAMELINVEL: "m/s", S.mjSENS_VELOCIMETER: "m/s", S.mjSENS_GYRO: "rad/s",
    S.mjSENS_FRAMEANGVEL: "rad/s", S.mjSENS_ACCELEROMETER: "m/s^2", S.mjSENS_FRAMELINACC: "m/s^2",
    S.mjSENS_FORCE: "N", S.mjSENS_TORQUE: "N.m", S.mjSENS_SUBTREECOM: "m", S.mjSENS_CLOCK: "s"}.items()}


def channel_table(model: mujoco.MjModel, scene: Any) -> list[Channel]:
    out = []
    for s in range(model.nsensor):
        name = scene.name(mujoco.mjtObj.mjOBJ_SENSOR, s)
        if not name:
            continue
        unit, kind, joint = _sensor_meta(model, scene, s)
        dim = int(model.sensor_dim[s])
        names = [name] if dim == 1 else [f"{name}.{i}" for i in range(dim)]
        out += [Channel(n, unit, kind, joint, sensor=name) for n in names]
    for j in range(model.njnt):
        name = scene.name(mujoco.mjtObj.mjOBJ_JOINT, j)
        units = _JOINT_UNIT.get(int(model.jnt_type[j]))
        if name and units:
            out.append(Channel(f"{name}.position", units[0], "position", name))
            out.append(Channel(f"{name}.velocity", units[1], "velocity", name))
    return out


def _sensor_meta(model: mujoco.MjModel, scene: Any, s: int) -> tuple[str, str, str]:
    """(unit, kind, joint) of a sensor."""
    kind = int(model.sensor_type[s])
    obj = int(model.sensor_objid[s])
    if kind in (S.mjSENS_JOINTPOS, S.mjSENS_JOINTVEL, S.mjSENS_JOINTACTFRC):
        units = _JOINT_UNIT.get(int(model.jnt_type[obj]), ("", "", ""))
        joint = scene.name(mujoco.mjtObj.mjOBJ_JOINT, obj)
        if kind == S.mjSENS_JOINTPOS:
            return units[0], "position", joint
        if kind == S.mjSENS_JOINTVEL:
            return units[1], "velocity", joint
        return units[2], "effort", ""
    if kind == S.mjSENS_ACTUATORFRC:
        trn = model.actuator_trntype[obj]
        joint_type = int(model.jnt_type[model.actuator_trnid[obj, 0]]) if trn == mujoco.mjtTrn.mjTRN_JOINT else None
        return (_JOINT_UNIT.get(joint_type, ("", "", ""))[2] if joint_type is not None else ""), "effort", ""
    return _FIXED_UNIT.get(kind, ""), "other", ""


def command_unit(model: mujoco.MjModel, a: int) -> str:
    """A position servo's command is a joint position, a velocity servo's a joint velocity; others
    (motors: a fraction of the gear's force) have no physical unit here."""
    if model.actuator_trntype[a] != mujoco.mjtTrn.mjTRN_JOINT:
        return ""
    units = _JOINT_UNIT.get(int(model.jnt_type[model.actuator_trnid[a, 0]]))
    gain, bias = model.actuator_gainprm[a], model.actuator_biasprm[a]
    if units is None or model.actuator_biastype[a] != mujoco.mjtBias.mjBIAS_AFFINE:
        return ""
    if bias[1] != 0 and bias[1] == -gain[0]:
        return units[0]
    if bias[1] == 0 and bias[2] != 0 and bias[2] == -gain[0]:
        return units[1]
    return ""


@dataclass(frozen=True)
class Source:
    """Where a channel's value lives: ``qpos`` / ``qvel`` address, or ``sensordata`` column."""

    field: str
    index: int


def channel_sources(model: mujoco.MjModel, channels: list[Channel]) -> list[Source]:
    out = []
    for c in channels:
        j = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, c.joint) if c.joint and not c.sensor else -1
        if j >= 0 and c.kind == "position":
            out.append(Source("qpos", int(model.jnt_qposadr[j])))
        elif j >= 0 and c.kind == "velocity":
            out.append(Source("qvel", int(model.jnt_dofadr[j])))
        else:
            out.append(Source("sensordata", sensor_column(model, c.name)))
    return out


def read(data: mujoco.MjData, sources: list[Source]) -> np.ndarray:
    """The current value of each channel (sensordata as of the last ``mj_forward``)."""
    arrays = {"qpos": data.qpos, "qvel": data.qvel, "sensordata": data.sensordata}
    return np.array([arrays[s.field][s.index] for s in sources], dtype=float)


def sensor_column(model: mujoco.MjModel, channel: str) -> int:
    name, _, comp = channel.partition(".")
    s = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, name)
    if s < 0 and comp:  # a sensor whose own name holds a dot
        s, comp = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, channel), ""
    return int(model.sensor_adr[s]) + (int(comp) if comp else 0)
