"""Batched rollouts: what system identification needs from a simulator, whatever the engine.

``sim2real.sysid`` never imports an engine. A ``Simulator`` rolls out many parameter sets and command
sequences at once and says which outputs (channels) it produces; the MuJoCo one lives in
``sim2real.backends.mujoco.rollout`` (batched ``mujoco.rollout``), the analytic mass-spring-damper in
``sysid.analytic``. ``sysid.simulator.open_simulator`` picks one by model name.

Command latency, command gain error and sensor bias are applied by sysid itself around the rollouts
(``sim.wrappers.delay_commands`` and an offset on the outputs), so a simulator only applies the
physical parameters of its model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

# a parameter set for one rollout: resolved key -> (value, op), op as in randomization profiles
ParamValues = Mapping[str, tuple[float, str]]


@dataclass(frozen=True)
class Channel:
    """An output a simulator produces: name (log column), unit, and what it measures."""

    name: str
    unit: str
    kind: str = "other"  # "position", "velocity", "effort" or "other"
    joint: str = ""  # the joint a position/velocity channel measures ("" if none)
    sensor: str = ""  # the model sensor it reads ("" for joint state), what ``sensor:<name>/bias`` offsets


@runtime_checkable
class Simulator(Protocol):
    name: str  # model name, for reports

    @property
    def dt(self) -> float:
        """Physics step, seconds."""

    def entities(self) -> dict[str, list[str]]:
        """Entity names per kind (``body``, ``joint``, ``actuator``, ``sensor``, ``geom``)."""

    def actuators(self) -> list[str]:
        """Actuator names in command-vector order."""

    def command_units(self) -> list[str]:
        """The unit of each actuator's command ("" when it has none, e.g. a motor's normalised torque)."""

    def command_ranges(self) -> list[tuple[float, float] | None]:
        """Each actuator's command range (None: unlimited), for excitation signals."""

    def joint_ranges(self) -> dict[str, tuple[float, float]]:
        """The range of every limited joint with a position channel, for excitation signals."""

    def actuator_joints(self) -> list[str]:
        """The joint each actuator drives directly ("" when its transmission is not one joint)."""

    def channels(self) -> list[Channel]:
        """Every output the simulator can produce."""

    def supports(self, kind: str, attribute: str) -> bool:
        """Whether rollouts can apply this physical parameter."""

    def default(self, key: str) -> float:
        """The model's own value of a resolved key ``kind:entity/attribute`` (absolute units)."""

    def initial_state(self, measured: Mapping[str, float]) -> np.ndarray:
        """The simulator state at which a log starts, from channel values measured then (joint
        positions and velocities; what is not measured keeps the model's initial value)."""

    def rollout(self, values: Sequence[ParamValues], initial: np.ndarray, ctrl: np.ndarray,
                channels: Sequence[str]) -> np.ndarray:
        """Roll out ``B`` = len(values) parameter sets: ``initial`` ``(B, S)``, ``ctrl`` ``(B, T, A)``
        (what the actuators receive during each physics step). Returns ``(B, T + 1, C)``: the
        channels at times ``0, dt, ..., T dt`` (outputs at step ``k`` describe the state reached
        after ``k`` steps)."""

    def close(self) -> None:
        """Release threads and models."""
