"""A SURROGATE "real" robot: a simulated robot deliberately unlike its model, standing in for hardware
where there is none (tests, benchmarks, the control track's robot interface). It is not a real robot
and never claims to be one: logs it writes say ``surrogate`` in their source.

What makes it differ from the nominal model (``SurrogateSpec``, TOML):

* hidden parameter offsets: a randomization profile (``truth``) applied at every reset through the
  backend's own appliers — masses, damping, friction, gains, ``actuator:*/latency`` (command
  latency), ``sensor:*/bias`` and ``sensor:*/noise_std``. Constant terms make one fixed robot;
  distributions make a random one per ``seed``;
* measurement noise and bias on any log channel (``noise``), joint-state channels included;
* friction the model does not have (``friction``: Coulomb with a Stribeck peak and extra viscous
  friction per joint), applied by the engine between physics steps;
* where an episode starts (``initial_noise``): joint positions and velocities offset uniformly within
  ± that much (joint units) at each reset, as a robot is never placed exactly at its rest pose.

It runs at a control rate: ``reset(command)``, then per control tick ``read()`` (measurements now),
``send(command)``, ``advance()`` (the physics steps of one tick). ``run`` replays a command file and
returns a log in the documented format (``sim2real.sysid.logs``). The engine part (how channels are
read, how friction is applied) is given by a ``sim.plant.Plant``; ``sim2real.backends.mujoco.plant`` builds
one (``open_surrogate``).
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr, StrictInt, StrictStr

from ..config import StrictModel, load_model
from ..errors import InputError
from ..trajectory.series import NS_PER_S
from ..randomize.schema import Num
from ..sim.plant import FrictionSpec, Plant
from ..sim.wrappers import SensorNoise

log = logging.getLogger(__name__)


class ChannelNoise(StrictModel):
    channels: StrictStr = "*"  # pattern over log channel names
    std: Num = Field(0.0, ge=0)  # white noise, channel units
    bias: Num = 0.0  # constant offset, channel units


class SurrogateSpec(StrictModel):
    scene: StrictStr
    seed: StrictInt = 0
    start_s: Num = Field(1_700_000_000.0, ge=0)  # clock of the first log row (an epoch-like time)
    truth: dict[str, Any] | StrictStr | None = None  # a profile document, or a profile file path
    noise: list[ChannelNoise] = []
    friction: FrictionSpec | None = None
    initial_noise: Num = Field(0.0, ge=0)  # ± uniform offset of joint positions and velocities at reset

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    def profile(self) -> Any:
        """The truth as a validated ``Profile`` (None without one)."""
        from ..randomize.profile import load_profile, parse_profile

        if self.truth is None:
            return None
        if isinstance(self.truth, str):
            return load_profile(self._base_dir / self.truth)
        return parse_profile({"version": 1, **self.truth}, source=f"{self._base_dir} [truth]")


def load_spec(path: str | PathLike[str]) -> SurrogateSpec:
    spec = load_model(path, SurrogateSpec)
    spec._base_dir = Path(path).resolve().parent
    return spec


class SurrogateRobot:
    """A surrogate robot at a control rate (see the module docstring)."""

    def __init__(self, plant: Plant, spec: SurrogateSpec) -> None:
        self.plant, self.spec = plant, spec
        self.backend = plant.backend
        self._profile = spec.profile()
        self._noise = SensorNoise(plant.channels)
        for rule in spec.noise:
            matched = [c for c in plant.channels if fnmatch.fnmatchcase(c, rule.channels)]
            if not matched:
                raise InputError(f"noise {rule.channels!r}: matches no channel of {spec.scene} "
                                 f"({', '.join(plant.channels)})")
            for c in matched:
                self._noise.std[c], self._noise.bias[c] = float(rule.std), float(rule.bias)
        if spec.friction is not None:
            plant.add_friction(spec.friction)
        self._truth: dict[str, Any] = {}

    @property
    def actuators(self) -> list[str]:
        return list(self.plant.actuators)

    @property
    def channels(self) -> list[str]:
        return list(self.plant.channels)

    @property
    def dt(self) -> float:
        return self.backend.dt

    def truth(self) -> dict[str, Any]:
        """The hidden values applied at the last reset (``{resolved key: value}``, in the op of the
        truth profile's term: a factor for ``scale``)."""
        return dict(self._truth)

    def reset(self, command: Sequence[float], episode: int = 0) -> None:
        """Back to the initial state holding ``command``, with the hidden differences applied."""
        from ..randomize.runtime import Randomizer

        self.plant.reset()
        self.backend.set_control(np.asarray(command, dtype=float))  # held before any delayed command
        self._truth = {}
        if self._profile is not None:
            r = Randomizer(self._profile, self.spec.seed, self.backend.entities(), dt=self.backend.dt)
            for sample in (r.startup(), r.reset(episode)):
                self.backend.apply(sample)
                self._truth.update({k: v[0].item() if hasattr(v[0], "item") else v[0] for k, v in sample.values.items()})
        self._noise.rng = np.random.default_rng([self.spec.seed % 2**63, episode, 0x5A11])
        if self.spec.initial_noise > 0:
            if self.plant.perturb is None:
                raise InputError(f"initial_noise: the {self.spec.scene} plant cannot set its initial state")
            rng = np.random.default_rng([self.spec.seed % 2**63, episode, 0x1417])
            a, (nq, nv) = float(self.spec.initial_noise), self.plant.joint_sizes
            self.plant.perturb(rng.uniform(-a, a, nq), rng.uniform(-a, a, nv))

    def read(self) -> np.ndarray:
        """Every channel now, with measurement noise and bias."""
        values = self.plant.read()
        noisy = self._noise.apply({c: values[i:i + 1] for i, c in enumerate(self.plant.channels)})
        return np.array([noisy[c][0] for c in self.plant.channels])

    def send(self, command: Sequence[float]) -> None:
        self.backend.set_control(np.asarray(command, dtype=float))

    def advance(self, steps: int) -> None:
        self.backend.step(steps)

    def run(self, commands: Any, episode: int = 0) -> Any:
        """Replay a command file (a ``RobotLog`` at a uniform rate that is a whole number of physics
        steps) from the initial state; returns the log of what was sent and measured."""
        from .logs import make_log

        cmd = commands.commands.select(self.actuators) if set(self.actuators) <= set(commands.actuators) else None
        if cmd is None:
            raise InputError(f"{commands.source}: expected commands for {', '.join(self.actuators)} "
                             f"(got {', '.join(commands.actuators)})")
        periods = np.diff(cmd.stamp_ns) / NS_PER_S
        steps = np.round(periods / self.dt).astype(int)
        if len(periods) and (np.any(steps < 1) or np.abs(steps * self.dt - periods).max() > 1e-6):
            raise InputError(f"{commands.source}: expected commands every whole number of physics steps "
                             f"({self.dt:g} s); got periods {periods.min():g}..{periods.max():g} s")
        self.reset(cmd.values[0], episode)
        rows = []
        for i, u in enumerate(cmd.values):
            rows.append(self.read())
            self.send(u)
            if i < len(steps):
                self.advance(int(steps[i]))
        start = round(self.spec.start_s * NS_PER_S)
        ticks = np.concatenate([[0], np.cumsum(steps)])
        stamps = start + np.round(ticks * self.dt * NS_PER_S).astype(np.int64)
        return make_log(stamps, cmd.values, self.actuators, self.plant.command_units, np.array(rows),
                        self.plant.channels, self.plant.units, source=f"surrogate {self.spec.scene}")


def open_surrogate(spec: SurrogateSpec, backend: Any = None) -> SurrogateRobot:
    """A surrogate robot on ``spec.scene`` with the MuJoCo plant (a new ``MujocoBackend`` unless one with
    that scene is given)."""
    from ..backends.mujoco.plant import mujoco_plant

    return SurrogateRobot(mujoco_plant(spec.scene, backend), spec)
