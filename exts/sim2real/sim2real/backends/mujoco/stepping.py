"""Stepping and control: the actuator commands (through the latency / gain pipe of ``signals``),
physics steps with the step callbacks of ``sim.clock``, and the state a policy or sysid reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mujoco
import numpy as np

from ...errors import UserError
from ...sim.clock import StepClock
from .loader import Appliers


class Stepper:
    """Advances ``parts``' world; ``clock`` counts the steps since the reset and calls the callbacks."""

    def __init__(self, parts: Appliers, clock: StepClock) -> None:
        self.parts, self.clock = parts, clock

    def reset(self) -> None:
        """The physical state back to the model's initial one; commands, delays and the clock cleared."""
        world = self.parts.world
        mujoco.mj_resetData(world.model, world.data)
        mujoco.mj_forward(world.model, world.data)
        self.parts.signals.reset(np.zeros(world.model.nu), np.random.default_rng(0))
        self.clock.reset()
        world.forward_dirty = False

    def pass_through(self) -> None:
        """Without actuator delays the actuators receive the command (as gained) at once."""
        pipe = self.parts.signals.pipe
        if not pipe.delays:
            self.parts.world.data.ctrl[:] = pipe.current()

    def set_control(self, ctrl: Mapping[str, float] | Sequence[float] | np.ndarray) -> None:
        """Command the actuators: a vector in actuator order or ``{actuator name: value}``."""
        actuators, pipe = self.parts.physics.actuators, self.parts.signals.pipe
        if isinstance(ctrl, Mapping):
            u = pipe.commanded
            for name, value in ctrl.items():
                if name not in actuators:
                    raise UserError(f"control: no actuator named {name!r}; known: {', '.join(actuators)}")
                u[actuators[name]] = float(value)
        else:
            u = np.asarray(ctrl, dtype=float).reshape(-1)
            nu = self.parts.world.model.nu
            if u.size != nu:
                raise UserError(f"control: expected {nu} values, one per actuator (got {u.size})")
        pipe.command(u)
        self.pass_through()

    def step(self, n: int) -> None:
        """Advance ``n`` physics steps, calling the step callbacks that are due after each.

        Steps between callbacks run in one MuJoCo call unless an actuator is delayed (then the
        command pipe is fed every step)."""
        world = self.parts.world
        model, data, pipe = world.model, world.data, self.parts.signals.pipe
        left = int(n)
        while left > 0:
            if pipe.delays:
                data.ctrl[:] = pipe.output()
                chunk = 1
            else:
                chunk = self.clock.steps_until_due(left)
            mujoco.mj_step(model, data, nstep=chunk)
            left -= chunk
            self.clock.advance(chunk, float(data.time))
        world.forward_dirty = True

    def state(self) -> dict[str, np.ndarray]:
        """Time (s), qpos, qvel, act, ctrl (what the actuators receive), the commands sent, and each
        named sensor as ``sensor:<name>`` (with its noise and bias)."""
        world = self.parts.world
        model, data = world.model, world.data
        if world.forward_dirty:
            mujoco.mj_forward(model, data)  # sensors describe the current state, not the last step's
            world.forward_dirty = False
        out = {"time": np.array(data.time), "qpos": data.qpos.copy(), "qvel": data.qvel.copy(),
               "act": data.act.copy(), "ctrl": data.ctrl.copy(), "command": self.parts.signals.pipe.commanded}
        readings = {name: data.sensordata[model.sensor_adr[i]:model.sensor_adr[i] + model.sensor_dim[i]]
                    for name, i in self.parts.sensors.items()}
        out.update({f"sensor:{k}": v for k, v in self.parts.signals.noise.apply(readings).items()})
        return out
