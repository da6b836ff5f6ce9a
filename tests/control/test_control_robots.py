"""The robot interface: the SURROGATE robot, log replay, ROS 2's logic without ROS, RobotEnv scoring."""

from __future__ import annotations

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
from control_helpers import PENDULUM, SURROGATE, balance
from sim2real.control.robot import Reading, RobotEnv
from sim2real.control.robots import ReplayRobot, SurrogateRobotInterface
from sim2real.control.ros2 import Ros2Robot, check_fresh, fill_command, reading_from_joint_state
from sim2real.control.tasks import task_for
from sim2real.errors import NotInstalledError, RemoteError, UnsupportedError, UserError
from sim2real.sysid.surrogate import SurrogateSpec, load_spec

TASK = task_for(PENDULUM)


@pytest.fixture
def surrogate():
    robot = SurrogateRobotInterface(load_spec(SURROGATE), 0.04)
    robot.connect()
    yield robot
    robot.disconnect()


def test_the_surrogate_robot_is_named_as_such_and_hides_its_differences(surrogate) -> None:
    assert "surrogate" in surrogate.name
    assert surrogate.actuators == ["slide"]
    assert {"slider.position", "hinge.position", "slider.velocity", "hinge.velocity"} <= set(surrogate.channels)
    first = surrogate.reset([0.0])
    truth = surrogate.truth()
    assert truth["actuator:slide/latency"] in (2, 3) and 0.3 <= truth["actuator:slide/gear"] <= 0.5
    nxt = surrogate.step([0.0])
    assert nxt.stamp_ns - first.stamp_ns == 40_000_000  # one control period on the robot's clock
    second = surrogate.reset([0.0])
    assert second.values != first.values  # another start (initial_noise) and other noise


def test_robot_env_scores_the_robot_like_the_simulated_task_and_records_logs(surrogate) -> None:
    env = RobotEnv(surrogate, TASK, [-3.0], [3.0], seed=0, record=True, max_steps=60)
    obs, info = env.reset(seed=0)
    assert obs.tolist() == [info["channels"][c] for c in TASK.observation]
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(balance(obs))
        assert reward == (0.0 if abs(obs[1]) > 0.2 else 1.0)  # gymnasium's rule, on measured channels
        total += reward
        done = terminated or truncated
    env.close()
    assert info["is_success"] == (truncated and not terminated)
    log = env.logs[0]
    assert len(log.measurements.stamp_ns) == env.t + 1 and log.actuators == ["slide"]
    assert np.allclose(log.commands.values[:-1, 0], np.clip(log.commands.values[:-1, 0], -3, 3))
    assert "surrogate" in log.source
    with pytest.raises(UnsupportedError, match="cannot be scored on a robot"):
        RobotEnv(surrogate, task_for("Reacher-v5", 10), [-1, -1], [1, 1])


def test_the_emergency_stop_holds_a_zero_command_until_the_next_reset(surrogate) -> None:
    surrogate.reset([0.0])
    surrogate.step([3.0])
    surrogate.emergency_stop()
    for _ in range(5):
        surrogate.step([3.0])  # ignored while stopped
    assert np.all(surrogate.robot.backend.signals.pipe.commanded == 0.0)
    surrogate.reset([0.0])
    surrogate.step([1.0])
    assert surrogate.robot.backend.signals.pipe.commanded[0] == 1.0


def test_replay_plays_a_recorded_log_back_and_compares_the_commands(surrogate) -> None:
    env = RobotEnv(surrogate, TASK, [-3.0], [3.0], record=True, max_steps=20)
    obs, _ = env.reset(seed=0)
    sent = []
    for _ in range(20):
        sent.append(balance(obs))
        obs, *_ = env.step(sent[-1])
    env.close()
    recorded = env.logs[0]
    replay = ReplayRobot([recorded])
    renv = RobotEnv(replay, TASK, [-3.0], [3.0])
    obs, _ = renv.reset(seed=0)
    readings = [obs]
    done = False
    while not done:  # the same policy on the recorded readings sends the recorded commands
        obs, _, terminated, truncated, _ = renv.step(balance(obs))
        readings.append(obs)
        done = terminated or truncated
    assert np.allclose(np.array(readings), recorded.measurements.select(TASK.observation).values)
    assert replay.command_error()["slide"] == pytest.approx(0.0, abs=1e-12)
    replay.reset([0.0])
    replay.step([1.0])
    assert replay.command_error()["slide"] > 0  # a policy that would have sent something else shows it


def test_ros2_logic_without_ros() -> None:
    stamp = SimpleNamespace(sec=12, nanosec=500)
    msg = SimpleNamespace(header=SimpleNamespace(stamp=stamp), name=["slider", "hinge"], position=[0.1, -0.02],
                          velocity=[0.0, 0.3], effort=[])
    r = reading_from_joint_state(msg, received_ns=99)
    assert r.stamp_ns == 12_000_000_500
    assert r.values == {"slider.position": 0.1, "hinge.position": -0.02, "slider.velocity": 0.0, "hinge.velocity": 0.3}
    msg.header.stamp = SimpleNamespace(sec=0, nanosec=0)
    assert reading_from_joint_state(msg, received_ns=99).stamp_ns == 99  # no stamp: when it arrived
    assert fill_command(SimpleNamespace(), "Float64MultiArray", ["slide"], [1.5]).data == [1.5]
    js = fill_command(SimpleNamespace(), "JointState", ["a", "b"], [1, 2], field="effort")
    assert js.name == ["a", "b"] and js.effort == [1.0, 2.0]
    with pytest.raises(ValueError):
        fill_command(SimpleNamespace(), "Float64MultiArray", ["a", "b"], [1.0])
    with pytest.raises(RemoteError, match="no joint state"):
        check_fresh(None, 0, 0.1, "/joint_states")
    with pytest.raises(RemoteError, match="old"):
        check_fresh(Reading(0, {}), 500_000_000, 0.1, "/joint_states")
    assert check_fresh(Reading(450_000_000, {}), 500_000_000, 0.1, "/joint_states").stamp_ns == 450_000_000
    robot = Ros2Robot(["slide"], TASK.observation, TASK.units, 0.04)
    robot.on_joint_state(SimpleNamespace(header=SimpleNamespace(stamp=SimpleNamespace(sec=0, nanosec=0)),
                                         name=["slider"], position=[0.0], velocity=[0.0], effort=[]))
    with pytest.raises(RemoteError, match="lack hinge.position"):
        robot.observe()
    import importlib.util

    if importlib.util.find_spec("rclpy") is None:
        with pytest.raises(NotInstalledError, match="rclpy"):
            robot.connect()


def test_a_surrogate_whose_period_is_not_whole_physics_steps_is_refused() -> None:
    robot = SurrogateRobotInterface(SurrogateSpec(scene="pkg:gymnasium/envs/mujoco/assets/inverted_pendulum.xml"), 0.05)
    with pytest.raises(UserError, match="whole number"):
        robot.connect()
    assert robot.robot is None
    unused = gym.make(PENDULUM)  # the simulated task's period is the robot's: 2 steps of 20 ms
    assert unused.unwrapped.dt == pytest.approx(0.04)
