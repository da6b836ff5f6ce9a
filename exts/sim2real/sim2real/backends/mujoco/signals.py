"""Targets applied outside the model: actuator latency and gain error (``sim.wrappers.CommandPipe``),
sensor noise and bias (``sim.wrappers.SensorNoise``) and image effects (``backends.effects``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import UnsupportedError
from ..effects import NEUTRAL, ImageEffects
from ...sim.wrappers import CommandPipe, SensorNoise
from ...sim.ops import combine

TARGETS: dict[str, frozenset[str]] = {
    "actuator": frozenset({"latency", "gain_error"}),
    "sensor": frozenset({"noise_std", "bias"}),
    "image": frozenset(NEUTRAL),
}


class Signals:
    def __init__(self, n_actuators: int, actuators: dict[str, int], sensors: list[str]) -> None:
        self.actuators = actuators  # name -> index in the control vector
        self.pipe = CommandPipe(n_actuators)
        self.noise = SensorNoise(sensors)
        self.effects: dict[str, ImageEffects] = {}

    def reset(self, command: np.ndarray, rng: np.random.Generator) -> None:
        self.pipe.latency[:] = 0
        self.pipe.gain[:] = 1.0
        self.pipe.reset(command)
        self.noise.reset(rng)
        self.effects.clear()

    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str) -> None:
        if kind == "image":
            new = float(combine(NEUTRAL[attr], value, op, key))
            if new < 0 and attr != "hue":
                raise UnsupportedError(f"{key}: expected a value >= 0 (got {new:g})")
            self.effects[entity] = self.effects.get(entity, ImageEffects()).with_value(attr, new)
        elif kind == "actuator":
            a = self.actuators[entity]
            if attr == "latency":
                latency = self.pipe.latency.copy()
                latency[a] = round(float(combine(0, value, op, key)))
                try:
                    self.pipe.set_latency(latency)
                except ValueError as exc:
                    raise UnsupportedError(f"{key}: {exc}") from None
            else:
                gain = float(combine(1.0, value, op, key))
                if gain < 0:
                    raise UnsupportedError(f"{key}: expected a gain >= 0 (got {gain:g})")
                self.pipe.gain[a] = gain
        else:
            new = float(combine(0.0, value, op, key))
            if attr == "noise_std" and new < 0:
                raise UnsupportedError(f"{key}: expected a noise std >= 0 (got {new:g})")
            (self.noise.std if attr == "noise_std" else self.noise.bias)[entity] = new
