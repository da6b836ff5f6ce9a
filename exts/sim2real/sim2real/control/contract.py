"""The observation/action contract of a trained policy: what a robot must feed it and what it returns.

Saved as ``contract.json`` next to every policy (training run and ONNX export)::

    {"env": "InvertedPendulum-v5",
     "observation": [{"name": "slider.position", "unit": "m"}, ...],        # input order
     "normalization": null | {"mean": [...], "std": [...], "clip": 10.0},  # inside the exported model
     "action": [{"name": "slide", "unit": "", "low": -3.0, "high": 3.0,
                 "effort_per_command": 100.0}],                             # N (or N·m) per command unit
     "control_period_s": 0.04,
     "latency_s": [0.0, 0.08],      # command latency the policy was trained to tolerate
     "observation_noise": {...}, "algo": "ppo"}

The exported model takes raw observations in these units (float32, shape ``(batch, n)``) and returns
commands in actuator units, already clipped to ``[low, high]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import atomic_write_json, read_json

FILE = "contract.json"


@dataclass
class Signal:
    name: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    effort_per_command: float | None = None


@dataclass
class Contract:
    env: str
    observation: list[Signal]
    action: list[Signal]
    control_period_s: float
    latency_s: tuple[float, float] = (0.0, 0.0)
    normalization: dict[str, Any] | None = None
    observation_noise: dict[str, Any] | None = None
    algo: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def observation_names(self) -> list[str]:
        return [s.name for s in self.observation]

    @property
    def action_names(self) -> list[str]:
        return [s.name for s in self.action]

    def effort_per_command(self) -> dict[str, float]:
        return {s.name: s.effort_per_command for s in self.action if s.effort_per_command is not None}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = list(self.latency_s)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = FILE) -> Contract:
        try:
            return cls(data["env"], [Signal(**s) for s in data["observation"]], [Signal(**s) for s in data["action"]],
                       float(data["control_period_s"]), tuple(data.get("latency_s", (0.0, 0.0))),
                       data.get("normalization"), data.get("observation_noise"), data.get("algo", ""),
                       data.get("extra", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: not a policy contract ({type(exc).__name__}: {exc})") from None

    def save(self, directory: str | PathLike[str]) -> Path:
        return atomic_write_json(Path(directory) / FILE, self.to_dict())


def load_contract(directory: str | PathLike[str]) -> Contract:
    path = Path(directory) / FILE
    data = read_json(path, f"{directory}: no {FILE} (not a trained policy or an export)")
    return Contract.from_dict(data, str(path))
