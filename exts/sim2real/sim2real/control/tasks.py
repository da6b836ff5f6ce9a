"""Tasks: what a policy observes, in which order and units, and how an episode is scored.

A ``Task`` names every component of an environment's observation vector (the policy's input contract)
and says what counts as a successful episode. Tasks whose observation is made of robot channels (joint
states, sensors: the names of ``sim2real.sysid`` logs and ROS ``JointState``) also compute the reward
and the termination from those channels, so the same task runs on a robot (``control.robot.RobotEnv``)
and scores it exactly as the simulator does:

* ``InvertedPendulum-v5`` (gymnasium): the cart position and pole angle, then their velocities
  (gymnasium's ``[qpos, qvel]``); +1 per step while ``|hinge| <= 0.2 rad``; success = upright until the
  time limit (1,000 steps of 40 ms);
* ``sim2real/Arm2Reach-v0`` (our arm, ``data/scenes/arm2.xml``): joint positions and velocities, the tip
  (x, z) and a goal (x, z) in metres; reward ``-|tip - goal|``; success = tip within 2 cm at the end;
* other gymnasium environments (``Reacher-v5``, ``Pusher-v5``, ...) train and export with observation
  components named ``obs.<i>`` (units unknown); they run in simulation only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UnsupportedError

ARM2_ENV = "sim2real/Arm2Reach-v0"


@dataclass
class Task:
    """A task: the observation's names and units, the success rule, and (robot tasks) the reward."""

    env_id: str
    observation: list[str]
    units: list[str]
    success_rule: str = "alive"  # "alive": reached the time limit without terminating; "info": info["is_success"]
    max_steps: int | None = None  # the environment's time limit, control steps
    channels: list[str] = field(default_factory=list)  # robot channels the observation reads (robot tasks)

    @property
    def on_robot(self) -> bool:
        """Whether the task can score a robot from its channels."""
        return bool(self.channels)

    def reset(self, rng: np.random.Generator) -> None:
        """A new episode (tasks with a goal draw it here)."""

    def observe(self, values: Mapping[str, float]) -> np.ndarray:
        """The observation vector from robot channel values (``{channel: value}``)."""
        missing = [c for c in self.channels if c not in values]
        if not self.channels or missing:
            raise UnsupportedError(f"{self.env_id}: the robot does not provide {', '.join(missing) or 'the channels'} "
                                   "this task observes")
        return np.array([values[c] for c in self.channels], dtype=np.float64)

    def reward(self, obs: np.ndarray, action: np.ndarray) -> tuple[float, bool]:
        """(reward, terminated) of a step that ended in ``obs``."""
        raise UnsupportedError(f"{self.env_id}: this task has no reward computed from robot channels "
                               "(it runs in simulation only)")

    def success(self, terminated: bool, truncated: bool, info: Mapping[str, Any]) -> bool:
        """Whether the episode that just ended succeeded."""
        if self.success_rule == "info" or "is_success" in info:
            return bool(info.get("is_success", False))
        return bool(truncated and not terminated)

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env_id, "observation": self.observation, "units": self.units,
                "success": self.success_rule, "max_steps": self.max_steps, "robot_channels": self.channels}


class InvertedPendulumTask(Task):
    """gymnasium's InvertedPendulum-v5, scored from the cart and pole joint states."""

    ANGLE_LIMIT_RAD = 0.2  # gymnasium terminates beyond it

    def __init__(self, env_id: str = "InvertedPendulum-v5") -> None:
        names = ["slider.position", "hinge.position", "slider.velocity", "hinge.velocity"]
        super().__init__(env_id, names, ["m", "rad", "m/s", "rad/s"], "alive", 1000, list(names))

    def reward(self, obs: np.ndarray, action: np.ndarray) -> tuple[float, bool]:
        terminated = bool(not np.isfinite(obs).all() or abs(obs[1]) > self.ANGLE_LIMIT_RAD)
        return float(not terminated), terminated


@dataclass(frozen=True)
class Arm2Geometry:
    """arm2's planar kinematics (data/scenes/arm2.xml): hinges about y, angle 0 = link straight up."""

    shoulder_z_m: float = 0.88  # the shoulder joint's height above the floor
    upper_m: float = 0.30
    fore_m: float = 0.25

    def tip(self, shoulder_rad: float, elbow_rad: float) -> tuple[float, float]:
        """The tip's (x, z) in metres."""
        a, b = shoulder_rad, shoulder_rad + elbow_rad
        return (self.upper_m * math.sin(a) + self.fore_m * math.sin(b),
                self.shoulder_z_m + self.upper_m * math.cos(a) + self.fore_m * math.cos(b))


class Arm2ReachTask(Task):
    """Bring arm2's tip to a goal in its plane; the goal is drawn at reset among reachable points."""

    GOAL_JOINT_RANGE_RAD = 1.2  # goals come from joint angles within this range (well inside the limits)
    SUCCESS_DISTANCE_M = 0.02
    ACTION_COST = 1e-3

    def __init__(self, env_id: str = ARM2_ENV, max_steps: int = 150) -> None:
        channels = ["shoulder_pos", "elbow_pos", "shoulder_vel", "elbow_vel", "tip_pos.0", "tip_pos.2"]
        super().__init__(env_id, channels + ["goal.x", "goal.z"], ["rad", "rad", "rad/s", "rad/s", "m", "m", "m", "m"],
                         "info", max_steps, list(channels))
        self.geometry = Arm2Geometry()
        self.goal = np.array(self.geometry.tip(0.5, 0.5))

    def reset(self, rng: np.random.Generator) -> None:
        q = rng.uniform(-self.GOAL_JOINT_RANGE_RAD, self.GOAL_JOINT_RANGE_RAD, 2)
        self.goal = np.array(self.geometry.tip(float(q[0]), float(q[1])))

    def observe(self, values: Mapping[str, float]) -> np.ndarray:
        return np.concatenate([super().observe(values), self.goal])

    def distance(self, obs: np.ndarray) -> float:
        return float(np.hypot(obs[4] - obs[6], obs[5] - obs[7]))

    def reward(self, obs: np.ndarray, action: np.ndarray) -> tuple[float, bool]:
        terminated = not bool(np.isfinite(obs).all())
        return -self.distance(obs) - self.ACTION_COST * float(np.sum(np.square(action))), terminated

    def success(self, terminated: bool, truncated: bool, info: Mapping[str, Any]) -> bool:
        return bool(info.get("is_success", False))


def task_for(env_id: str, observation_size: int | None = None) -> Task:
    """The task of an environment id (a generic, simulation-only one for ids not listed above)."""
    if env_id.startswith("InvertedPendulum-"):
        return InvertedPendulumTask(env_id)
    if env_id == ARM2_ENV:
        return Arm2ReachTask(env_id)
    n = int(observation_size or 0)
    return Task(env_id, [f"obs.{i}" for i in range(n)], [""] * n, "alive")


def check_observation(task: Task, shape: Sequence[int]) -> None:
    """The environment's observation must be the flat vector the task names."""
    if tuple(shape) != (len(task.observation),):
        raise UnsupportedError(f"{task.env_id}: expected a flat observation of {len(task.observation)} values "
                               f"({', '.join(task.observation)}), the environment gives shape {tuple(shape)}")
