"""Safety limits for running a policy: a monitor, a gymnasium wrapper, and an emergency-stop hook.

Limits are on joint position, velocity, torque and motor current (the seeds' four), each an absolute
bound ``|value| <= max`` on channels named as in robot logs and ROS ``JointState``:

=========  ===========================================================================================
kind       channels checked
=========  ===========================================================================================
position   ``<joint>.position`` (m or rad)
velocity   ``<joint>.velocity`` (m/s or rad/s)
torque     ``<joint>.effort`` where measured (N or N·m), and the commanded effort of ``<actuator>``
           (command × its effort per command unit, from the policy contract) *before* it is sent
current    ``<joint>.current`` (A), where the robot reports it
=========  ===========================================================================================

A command over its torque limit is not sent. On any violation the episode terminates, the violation
is logged (warning, and one JSON line per violation in the safety log), and the emergency-stop hook
is called (a robot's ``emergency_stop``). Limits are configured in TOML::

    [[limits]]
    kind = "position"
    joints = "hinge"      # pattern over joint (or actuator) names
    max = 0.5
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from pydantic import Field, StrictStr

from ..config import StrictModel, load_model
from ..errors import ConfigError
from ..randomize.schema import Num

log = logging.getLogger(__name__)

Kind = Literal["position", "velocity", "torque", "current"]
_SUFFIX = {"position": ".position", "velocity": ".velocity", "torque": ".effort", "current": ".current"}


class Limit(StrictModel):
    kind: Kind
    joints: StrictStr = "*"
    max: Num = Field(gt=0)


class SafetySpec(StrictModel):
    limits: list[Limit] = Field(min_length=1)

    def scaled(self, factor: float) -> SafetySpec:
        """Every bound times ``factor`` (the seeds' tighter limits in early transfer rounds)."""
        return SafetySpec(limits=[lim.model_copy(update={"max": lim.max * factor}) for lim in self.limits])


def load_safety(path: str | PathLike[str]) -> SafetySpec:
    return load_model(path, SafetySpec)


@dataclass(frozen=True)
class Violation:
    kind: str
    channel: str
    value: float
    limit: float
    when: str  # "command" (refused before sending) or "state"


class SafetyMonitor:
    """Checks channel values (and commands) against a ``SafetySpec``.

    ``channels``: the channels the robot or simulator reports; ``effort_per_command``: each actuator's
    effort per command unit (N or N·m), for commanded torque. A limit that matches nothing it could
    check is a configuration error (a limit that silently checks nothing is worse than none)."""

    def __init__(self, spec: SafetySpec, channels: Sequence[str],
                 effort_per_command: Mapping[str, float] | None = None, source: str = "safety") -> None:
        self.spec = spec
        effort = dict(effort_per_command or {})
        self.checks: list[tuple[str, str, float]] = []  # (kind, channel, max) on reported values
        self.command_checks: list[tuple[str, float, float]] = []  # (actuator, effort per command, max)
        for i, lim in enumerate(spec.limits):
            suffix = _SUFFIX[lim.kind]
            matched = [c for c in channels if c.endswith(suffix)
                       and fnmatch.fnmatchcase(c[:-len(suffix)], lim.joints)]
            self.checks += [(lim.kind, c, float(lim.max)) for c in matched]
            commanded = [a for a in effort if lim.kind == "torque" and fnmatch.fnmatchcase(a, lim.joints)]
            self.command_checks += [(a, effort[a], float(lim.max)) for a in commanded]
            if not matched and not commanded:
                raise ConfigError(source, f"limits[{i}]", f"a {lim.kind} limit on channels this robot reports "
                                  f"({', '.join(channels) or 'none'})", lim.joints)

    def check_command(self, command: Mapping[str, float]) -> list[Violation]:
        """Torque limits on the efforts a command would ask for (before it is sent)."""
        out = []
        for actuator, per_unit, bound in self.command_checks:
            effort = float(command[actuator]) * per_unit
            if not abs(effort) <= bound:
                out.append(Violation("torque", f"cmd.{actuator}", effort, bound, "command"))
        return out

    def check(self, values: Mapping[str, float]) -> list[Violation]:
        """Limits on reported values (a missing or non-finite value is a violation: no reading, no trust)."""
        out = []
        for kind, channel, bound in self.checks:
            value = float(values.get(channel, np.nan))
            if not abs(value) <= bound:
                out.append(Violation(kind, channel, value, bound, "state"))
        return out


class SafetyLog:
    """Violations appended as JSON lines (flushed and fsynced: the record must outlive a crash)."""

    def __init__(self, path: str | PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self.count = 0

    def write(self, violations: Sequence[Violation], **context: Any) -> None:
        self.count += len(violations)
        for v in violations:
            log.warning("safety: %s %s = %.4g beyond ±%.4g (%s); episode stopped", v.kind, v.channel, v.value,
                        v.limit, v.when)
        if self.path is None:
            return
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for v in violations:
                record = {**context, **asdict(v)}
                record["value"] = v.value if np.isfinite(v.value) else None  # no reading
                f.write(json.dumps(record, allow_nan=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


class SafetyShield(gym.Wrapper):
    """Run ``env`` under a ``SafetyMonitor`` (see the module docstring).

    ``observation``: names of the observation's components (the task's); a robot environment may add
    more channels (efforts, currents) in ``info["channels"]``. ``actuators``: action component names.
    ``estop``: called with the violations when the monitor stops an episode."""

    def __init__(self, env: gym.Env, monitor: SafetyMonitor, observation: Sequence[str], actuators: Sequence[str],
                 estop: Callable[[list[Violation]], None] | None = None,
                 log_path: str | PathLike[str] | None = None) -> None:
        super().__init__(env)
        self.monitor, self.names, self.actuators = monitor, list(observation), list(actuators)
        self.estop = estop
        self.log = SafetyLog(log_path)
        self.episode, self.t = -1, 0
        self._obs: Any = None
        self.stopped: list[Violation] = []  # the violations that ended the current episode

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.episode, self.t, self._obs, self.stopped = self.episode + 1, 0, obs, []
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        flat = np.asarray(action, dtype=float).reshape(-1)
        refused = self.monitor.check_command(dict(zip(self.actuators, flat.tolist(), strict=True)))
        if refused:
            return self._stop(refused, self._obs, 0.0, {})
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        self._obs = obs
        values = dict(zip(self.names, np.asarray(obs, dtype=float).reshape(-1).tolist(), strict=True))
        values.update(info.get("channels", {}))
        violations = self.monitor.check(values)
        if violations:
            return self._stop(violations, obs, reward, info)
        return obs, reward, terminated, truncated, info

    def _stop(self, violations: list[Violation], obs: Any, reward: float,
              info: dict[str, Any]) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self.stopped = violations
        self.log.write(violations, episode=self.episode, step=self.t)
        if self.estop is not None:
            self.estop(violations)
        return obs, reward, True, False, {**info, "safety": [asdict(v) for v in violations]}
