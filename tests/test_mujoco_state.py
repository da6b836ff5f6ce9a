"""State targets on the MuJoCo backend (joint position/velocity, object velocity, body force/torque):
what Isaac Lab's joint resets, pushes and wrenches do, on real MuJoCo scenes."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.errors import UnsupportedError
from sim2real.randomize.profile import parse_profile
from sim2real.randomize.runtime import Randomizer


def _apply(backend: MujocoBackend, *terms: dict, event: str = "reset") -> dict:
    r = Randomizer(parse_profile({"terms": list(terms)}), 7, backend.entities())
    sample = r.startup() if event == "startup" else r.reset(0)
    backend.apply(sample)
    return sample.values


def _arm() -> MujocoBackend:
    b = MujocoBackend()
    b.load("arm2")
    return b


def test_joint_state_offsets_scale_set_and_clamp_to_the_range() -> None:
    b = _arm()
    model = b.model
    j = model.joint("elbow").id
    lo, hi = model.jnt_range[j]
    values = _apply(
        b,
        {"target": "joint:*/position", "dist": "uniform", "low": 0.1, "high": 0.2},
        {"target": "joint:elbow/velocity", "dist": "constant", "value": -0.7, "op": "set"},
    )
    assert b.data.qpos[model.jnt_qposadr[model.joint("shoulder").id]] == values["joint:shoulder/position"][0]
    assert b.data.qvel[model.jnt_dofadr[j]] == -0.7
    _apply(b, {"target": "joint:elbow/position", "dist": "constant", "value": 3.0, "op": "scale"})
    # scale acts on the current position (not the load default, 0, which any factor keeps at 0)
    expected = (
        min(max(3.0 * values["joint:elbow/position"][0], lo), hi)
        if model.jnt_limited[j]
        else 3.0 * values["joint:elbow/position"][0]
    )
    assert b.data.qpos[model.jnt_qposadr[j]] == pytest.approx(expected)
    _apply(b, {"target": "joint:elbow/position", "dist": "constant", "value": 100.0, "op": "set"})
    if model.jnt_limited[j]:
        assert b.data.qpos[model.jnt_qposadr[j]] == hi
    b.reset()  # the state is the model's again
    np.testing.assert_array_equal(b.data.qpos, model.qpos0)
    assert not b.data.qvel.any()


def test_a_held_force_lifts_a_free_object_and_a_reset_clears_it() -> None:
    b = MujocoBackend()
    b.load("tabletop")
    body = b.objects.objects["obj_00"].body
    weight = float(b.model.body_subtreemass[body]) * -b.model.opt.gravity[2]
    z0 = float(b.data.xpos[body, 2])
    _apply(b, {"target": "body:obj_00/force", "dist": "constant", "value": [0.0, 0.0, 3 * weight]})
    b.step(200)  # 0.4 s at 2 ms: lifted by (3 - 1) g t^2 / 2 = 1.6 m if nothing held it
    assert b.data.xfrc_applied[body, 2] == pytest.approx(3 * weight)
    assert b.data.xpos[body, 2] > z0 + 0.5
    b.reset()
    assert not b.data.xfrc_applied.any()


def test_a_push_adds_a_world_frame_velocity_to_the_current_one() -> None:
    b = MujocoBackend()
    b.load("tabletop")
    obj = b.objects.objects["obj_01"]
    _apply(
        b,
        {
            "target": "object:obj_01/orientation",
            "dist": "constant",
            "value": [0.0, np.pi / 2, 0.0],
            "op": "set",
        },
        {"target": "object:obj_01/velocity", "dist": "constant", "value": [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]},
    )
    _apply(
        b, {"target": "object:obj_01/velocity", "dist": "constant", "value": [0.5, 0.0, 0.0, 0.0, 0.0, 1.0]}
    )
    joint = next(j for j in range(b.model.njnt) if b.model.jnt_bodyid[j] == obj.body)
    dof, adr = b.model.jnt_dofadr[joint], b.model.jnt_qposadr[joint]
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(
        rot, b.data.qpos[adr + 3 : adr + 7]
    )  # MuJoCo keeps a free joint's spin in the body frame
    np.testing.assert_allclose(b.data.qvel[dof : dof + 3], [0.5, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(rot.reshape(3, 3) @ b.data.qvel[dof + 3 : dof + 6], [0.0, 0.0, 2.0], atol=1e-9)
    np.testing.assert_allclose(b.data.qvel[dof + 3 : dof + 6], [-2.0, 0.0, 0.0], atol=1e-6)  # pitched 90°


def test_state_targets_refuse_joints_and_bodies_they_cannot_move() -> None:
    b = MujocoBackend()
    b.load("tabletop")
    free = next(
        b.model.joint(j).name
        for j in range(b.model.njnt)
        if b.model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and b.model.joint(j).name
    )
    with pytest.raises(UnsupportedError, match="free or ball joint"):
        _apply(b, {"target": f"joint:{free}/position", "dist": "constant", "value": 0.1})
    arm = _arm()
    with pytest.raises(UnsupportedError, match="no free joint"):
        _apply(arm, {"target": "object:arm/velocity", "dist": "constant", "value": [1, 0, 0, 0, 0, 0]})
    assert {("joint", "position"), ("object", "velocity"), ("body", "torque")} <= arm.capabilities.targets
