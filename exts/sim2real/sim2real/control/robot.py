"""The robot interface a policy runs on, and a gymnasium environment over any robot.

A ``Robot`` is driven at its control rate (lerobot's connect/disconnect model)::

    robot.connect()
    reading = robot.reset(command)      # the start state, holding `command`
    reading = robot.step(command)       # send, wait one control period, read
    reading = robot.observe()           # read now
    robot.emergency_stop()              # the safety monitor's hook
    robot.disconnect()

A ``Reading`` is a stamp (int64 ns, the robot's clock) and ``{channel: value}`` with channels named as
in robot logs and ROS ``JointState`` (``<joint>.position``, ``<joint>.velocity``, ``<joint>.effort``,
sensor names). Implementations: ``control.robots.SurrogateRobotInterface`` (a SURROGATE "real" robot),
``control.robots.ReplayRobot`` (recorded logs) and ``control.ros2.Ros2Robot`` (rclpy).

``RobotEnv`` turns a robot and a ``Task`` into a gymnasium environment scored exactly as the simulated
task is, and records every episode as a log (commands + measurements) for system identification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from ..errors import UnsupportedError
from .tasks import Task


@dataclass
class Reading:
    stamp_ns: int
    values: dict[str, float]


@runtime_checkable
class Robot(Protocol):
    name: str

    @property
    def actuators(self) -> list[str]:
        """Actuator names in command-vector order."""

    @property
    def command_units(self) -> list[str]:
        """Unit of each actuator's command ("" when none)."""

    @property
    def channels(self) -> list[str]:
        """Channels every reading holds."""

    @property
    def units(self) -> list[str]:
        """Unit of each channel."""

    @property
    def control_period_s(self) -> float:
        """Seconds between two commands."""

    def connect(self) -> None: ...

    def reset(self, command: Sequence[float]) -> Reading: ...

    def step(self, command: Sequence[float]) -> Reading: ...

    def observe(self) -> Reading: ...

    def emergency_stop(self) -> None: ...

    def disconnect(self) -> None: ...


class EpisodeRecorder:
    """One episode's commands and readings on the robot's clock, as a log (``sysid.logs`` format):
    row ``k`` holds reading ``k`` and the command sent right after it."""

    def __init__(self, robot: Robot) -> None:
        self.robot = robot
        self.stamps: list[int] = []
        self.rows: list[list[float]] = []
        self.commands: list[np.ndarray] = []

    def reading(self, reading: Reading) -> None:
        self.stamps.append(int(reading.stamp_ns))
        self.rows.append([reading.values[c] for c in self.robot.channels])

    def command(self, command: np.ndarray) -> None:
        self.commands.append(np.asarray(command, dtype=float).copy())

    def log(self, source: str) -> Any:
        from ..sysid.logs import make_log

        n = len(self.stamps)
        cmds = self.commands[:n] + [self.commands[-1]] * (n - len(self.commands))  # the last one holds
        return make_log(np.array(self.stamps, dtype=np.int64), np.array(cmds), self.robot.actuators,
                        self.robot.command_units, np.array(self.rows), self.robot.channels, self.robot.units, source)


class RobotEnv(gym.Env):
    """A robot as a gymnasium environment for ``task`` (observation, reward, termination, success).

    ``action_low``/``action_high`` bound the commands (the policy contract's); the episode is truncated
    after ``max_steps`` (default: the task's) or when a replayed log runs out. ``record=True`` keeps
    each finished episode's log in ``logs``. ``info["channels"]`` holds the whole reading (efforts and
    currents the observation does not include reach the safety monitor that way)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, robot: Robot, task: Task, action_low: Sequence[float], action_high: Sequence[float],
                 initial_command: Sequence[float] | None = None, max_steps: int | None = None,
                 seed: int = 0, record: bool = False) -> None:
        if not task.on_robot:
            raise UnsupportedError(f"{task.env_id}: this task cannot be scored on a robot (its observation is "
                                   "not made of robot channels)")
        missing = [c for c in task.channels if c not in robot.channels]
        if missing:
            raise UnsupportedError(f"{robot.name}: does not report {', '.join(missing)}, which {task.env_id} observes")
        self.robot, self.task = robot, task
        low, high = np.asarray(action_low, dtype=np.float32), np.asarray(action_high, dtype=np.float32)
        self.action_space = gym.spaces.Box(low, high, dtype=np.float32)
        n = len(task.observation)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64)
        self.initial = np.zeros(len(low)) if initial_command is None else np.asarray(initial_command, dtype=float)
        self.max_steps = max_steps or task.max_steps
        self.record, self.logs = record, []
        self._rng = np.random.default_rng(seed)
        self._recorder: EpisodeRecorder | None = None
        self.t = 0
        self.episode = -1
        self.dt = robot.control_period_s

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._finish()
        self.episode += 1
        self.task.reset(self._rng)
        reading = self.robot.reset(self.initial)
        self.t = 0
        if self.record:
            self._recorder = EpisodeRecorder(self.robot)
            self._recorder.reading(reading)
        return self.task.observe(reading.values), {"channels": reading.values, "stamp_ns": reading.stamp_ns}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        command = np.clip(np.asarray(action, dtype=float).reshape(-1), self.action_space.low, self.action_space.high)
        if self._recorder is not None:
            self._recorder.command(command)
        reading = self.robot.step(command)
        self.t += 1
        if self._recorder is not None:
            self._recorder.reading(reading)
        obs = self.task.observe(reading.values)
        reward, terminated = self.task.reward(obs, command)
        exhausted = bool(getattr(self.robot, "exhausted", False))
        truncated = not terminated and (exhausted or (self.max_steps is not None and self.t >= self.max_steps))
        info: dict[str, Any] = {"channels": reading.values, "stamp_ns": reading.stamp_ns}
        if terminated or truncated:
            info["is_success"] = self.task.success(terminated, truncated, info)
        return obs, reward, terminated, truncated, info

    def _finish(self) -> None:
        """Keep the log of the episode that just ended (at the next reset, or at close)."""
        if self._recorder is not None and len(self._recorder.stamps) > 1:
            self.logs.append(self._recorder.log(f"{self.robot.name} episode {self.episode}"))
        self._recorder = None

    def close(self) -> None:
        self._finish()
