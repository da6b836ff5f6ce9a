"""The MuJoCo simulator for identification: channels and units, parameters written by the backend's own
appliers into per-rollout model copies, and rollouts that reproduce the backend step for step."""

from __future__ import annotations

import numpy as np
import pytest
from sim2real.sysid.logs import read_log
from sim2real.sysid.params import parse_params, resolve_params
from sim2real.sysid.problem import Problem, prepare_run
from sysid_fixtures import arm2_clean_logs_fixture, arm2_sim_fixture  # noqa: F401 (fixtures by name)
from sysid_helpers import ARM2_PARAMS, ARM2_TRUTH


def test_channels_units_and_actuators(arm2_sim) -> None:
    from sim2real.backends.mujoco.rollout import MujocoSimulator

    units = {c.name: (c.unit, c.kind, c.joint, c.sensor) for c in arm2_sim.channels()}
    assert units["shoulder_pos"] == ("rad", "position", "shoulder", "shoulder_pos")
    assert units["elbow_vel"] == ("rad/s", "velocity", "elbow", "elbow_vel")
    assert units["shoulder_torque"][:2] == ("N.m", "effort") and units["tip_pos.2"][:2] == ("m", "other")
    assert units["elbow.position"] == ("rad", "position", "elbow", "")
    assert arm2_sim.actuators() == ["shoulder", "elbow"] and arm2_sim.command_units() == ["rad", "rad"]
    assert arm2_sim.command_ranges() == [(-1.75, 1.75), (-2.35, 2.35)]
    with MujocoSimulator("pkg:gymnasium/envs/mujoco/assets/reacher.xml", nthread=0) as reacher:
        assert reacher.name == "reacher.xml" and reacher.dt == pytest.approx(0.01)
        assert reacher.actuators() == ["joint0", "joint1"] and reacher.command_units() == ["", ""]  # motors
        assert [c.name for c in reacher.channels()][:4] == ["joint0.position", "joint0.velocity", "joint1.position",
                                                           "joint1.velocity"]
        assert reacher.default("joint:joint0/armature") == pytest.approx(1.0)


def test_parameters_go_through_the_backend_appliers_into_copies(arm2_sim) -> None:
    body = arm2_sim.backend.physics.bodies["upper_arm"]
    mass0, inertia0 = arm2_sim.model.body_mass[body], arm2_sim.model.body_inertia[body].copy()
    ctrl = np.zeros((3, 200, 2)) + [0.4, -0.3]
    init = np.repeat(arm2_sim.initial_state({})[None], 3, axis=0)
    values = [{}, {"body:upper_arm/mass": (1.5, "scale")}, {"actuator:elbow/kp": (20.0, "set")}]
    out = arm2_sim.rollout(values, init, ctrl, ["shoulder_pos", "elbow_pos"])
    heavy = arm2_sim._slots[1].model
    assert heavy.body_mass[body] == pytest.approx(1.5 * mass0)
    np.testing.assert_allclose(heavy.body_inertia[body], 1.5 * inertia0)  # inertia kept consistent
    assert arm2_sim._slots[2].model.actuator_gainprm[1, 0] == 20.0 and arm2_sim._slots[2].model.actuator_biasprm[1, 1] == -20.0
    assert arm2_sim.model.body_mass[body] == mass0  # the simulator's own model never changes
    assert not np.allclose(out[0], out[1]) and not np.allclose(out[0], out[2])
    again = arm2_sim.rollout([{}, {}, {}], init, ctrl, ["shoulder_pos", "elbow_pos"])  # keys left out: defaults again
    np.testing.assert_array_equal(again[1], out[0])
    np.testing.assert_array_equal(again[2], out[0])


def test_rollouts_reproduce_the_surrogate_backend_exactly(arm2_sim, arm2_clean_logs) -> None:
    """The surrogate steps the backend one physics step at a time through its command pipe; the
    identification simulator replays the log in one batched rollout. At the hidden values they agree to
    rounding: identification and randomization share one implementation of every parameter."""
    log = read_log(arm2_clean_logs[0])
    channels = ["shoulder_pos", "elbow_pos", "shoulder_vel", "elbow_vel", "shoulder.position"]
    params = resolve_params(parse_params(ARM2_PARAMS), arm2_sim)
    problem = Problem(arm2_sim, params, [prepare_run(log, arm2_sim, channels)], channels)
    truth = np.array([ARM2_TRUTH[p.keys[0]] for p in params])
    sim = problem.simulate(truth[None])[0][0]
    measured = log.measurements.select(channels).values
    np.testing.assert_allclose(sim, measured, atol=1e-9)
    nominal = problem.simulate(problem.x0[None])[0][0]
    assert np.abs(nominal - measured).max() > 0.01  # and the hidden differences do show
