"""Robots without ROS: a SURROGATE "real" robot and the replay of recorded logs (``control.robot``).

* ``SurrogateRobotInterface``: the surrogate of system identification (``sim2real.sysid.surrogate``): the
  same MuJoCo model with hidden parameter offsets, measurement noise, command latency and unmodelled
  friction. It is NOT a real robot; its name says ``surrogate`` wherever it is recorded. One control
  period is a whole number of the model's physics steps.
* ``ReplayRobot``: recorded logs played back: each reset starts the next log, each step returns the
  next recorded reading whatever is commanded, and the commands sent are kept next to the recorded
  ones (``command_error``): what a policy would have sent on the data a real robot produced.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from ..errors import InputError, UserError
from ..trajectory.series import NS_PER_S
from .robot import Reading

log = logging.getLogger(__name__)


class SurrogateRobotInterface:
    """A SURROGATE robot from a spec (``sysid.surrogate.SurrogateSpec``) at ``control_period_s``."""

    def __init__(self, spec: Any, control_period_s: float) -> None:
        self.spec = spec
        self.period = float(control_period_s)
        self.name = f"surrogate {spec.scene}"
        self.robot: Any = None
        self.episode = -1
        self.steps_per_tick = 0
        self.stopped = False

    def connect(self) -> None:
        from ..sim.registry import backend_class

        backend_class("mujoco")  # one line saying what to install when MuJoCo is missing
        from ..sysid.surrogate import open_surrogate

        self.robot = open_surrogate(self.spec)
        dt = self.robot.dt
        ticks = self.period / dt
        self.steps_per_tick = int(round(ticks))
        if self.steps_per_tick < 1 or abs(ticks - self.steps_per_tick) > 1e-6:
            self.disconnect()
            raise UserError(f"control period {self.period:g} s: expected a whole number of the surrogate's physics "
                            f"steps ({dt:g} s)")

    def _live(self) -> Any:
        if self.robot is None:
            raise UserError(f"{self.name}: not connected (call connect() first)")
        return self.robot

    @property
    def actuators(self) -> list[str]:
        return self._live().actuators

    @property
    def command_units(self) -> list[str]:
        return list(self._live().plant.command_units)

    @property
    def channels(self) -> list[str]:
        return self._live().channels

    @property
    def units(self) -> list[str]:
        return list(self._live().plant.units)

    @property
    def control_period_s(self) -> float:
        return self.period

    def truth(self) -> dict[str, Any]:
        """The hidden differences applied at the last reset (for reports and tests; a real robot has none)."""
        return self._live().truth()

    def restart(self) -> None:
        """The next reset is episode 0 again: every evaluation meets the same sequence of hidden robots
        (with distributions in the truth, each episode draws its own), so policies compare fairly."""
        self.episode = -1

    def reset(self, command: Sequence[float]) -> Reading:
        self.episode += 1
        self.stopped = False
        self._live().reset(command, self.episode)
        return self.observe()

    def step(self, command: Sequence[float]) -> Reading:
        robot = self._live()
        if not self.stopped:
            robot.send(command)
        robot.advance(self.steps_per_tick)
        return self.observe()

    def observe(self) -> Reading:
        robot = self._live()
        values = robot.read()
        stamp = round((self.spec.start_s + float(robot.backend.data.time)) * NS_PER_S)
        return Reading(int(stamp), dict(zip(robot.channels, values.tolist(), strict=True)))

    def emergency_stop(self) -> None:
        """Zero command until the next reset (a real robot would cut motor power)."""
        robot = self._live()
        robot.send(np.zeros(len(robot.actuators)))
        self.stopped = True
        log.warning("%s: emergency stop", self.name)

    def disconnect(self) -> None:
        if self.robot is not None:
            self.robot.backend.close()
            self.robot = None


class ReplayRobot:
    """Recorded logs played back as a robot (see the module docstring)."""

    def __init__(self, logs: Sequence[Any], name: str = "replay") -> None:
        if not logs:
            raise InputError("replay: expected at least one log")
        first = logs[0]
        for lg in logs:
            if lg.measurements is None:
                raise InputError(f"{lg.source}: expected measurements (this is a command file)")
            if lg.channels != first.channels or lg.actuators != first.actuators:
                raise InputError(f"{lg.source}: expected the channels and actuators of {first.source}")
        self.logs, self.name = list(logs), name
        periods = np.diff(first.measurements.stamp_ns) / NS_PER_S
        self.period = float(np.median(periods)) if len(periods) else 0.0
        self.index = -1
        self.row = 0
        self.sent: list[list[np.ndarray]] = []

    def connect(self) -> None:
        pass

    @property
    def actuators(self) -> list[str]:
        return self.logs[0].actuators

    @property
    def command_units(self) -> list[str]:
        return list(self.logs[0].commands.units)

    @property
    def channels(self) -> list[str]:
        return self.logs[0].channels

    @property
    def units(self) -> list[str]:
        return list(self.logs[0].measurements.units)

    @property
    def control_period_s(self) -> float:
        return self.period

    @property
    def exhausted(self) -> bool:
        """The current log has no reading left."""
        return self.row >= len(self.logs[self.index].measurements.stamp_ns) - 1

    def reset(self, command: Sequence[float]) -> Reading:
        self.index = (self.index + 1) % len(self.logs)
        self.row = 0
        self.sent.append([])
        return self.observe()

    def step(self, command: Sequence[float]) -> Reading:
        self.sent[-1].append(np.asarray(command, dtype=float).copy())
        self.row = min(self.row + 1, len(self.logs[self.index].measurements.stamp_ns) - 1)
        return self.observe()

    def observe(self) -> Reading:
        meas = self.logs[self.index].measurements
        return Reading(int(meas.stamp_ns[self.row]), dict(zip(meas.channels, meas.values[self.row].tolist(), strict=True)))

    def emergency_stop(self) -> None:
        log.warning("%s: emergency stop (replay: nothing to stop)", self.name)

    def disconnect(self) -> None:
        pass

    def command_error(self) -> dict[str, float]:
        """RMS difference between the commands sent and those recorded at the same rows, per actuator."""
        diffs = []
        for k, sent in enumerate(self.sent):
            lg = self.logs[k % len(self.logs)]
            if not sent:
                continue
            recorded = lg.command_at(lg.measurements.stamp_ns[:len(sent)])
            diffs.append(np.array(sent) - recorded)
        if not diffs:
            return {}
        d = np.concatenate(diffs)
        return dict(zip(self.actuators, np.sqrt(np.mean(d ** 2, axis=0)).tolist(), strict=True))


def read_logs(paths: Sequence[str | PathLike[str]]) -> list[Any]:
    from ..sysid.logs import read_log

    return [read_log(p) for p in paths]
