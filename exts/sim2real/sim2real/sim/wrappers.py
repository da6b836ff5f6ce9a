"""Actuator and sensor models between a controller and a simulator, shared by every backend.

* ``CommandPipe``: what the actuators receive from the commands a controller sends: each actuator's
  command is multiplied by its gain error and delayed by its latency in physics steps
  (``actuator:<name>/gain_error``, ``actuator:<name>/latency``).
* ``SensorNoise``: what a controller reads from the sensors: each reading plus a constant bias and
  white Gaussian noise (``sensor:<name>/bias``, ``sensor:<name>/noise_std``), drawn from an explicit
  generator.

A backend owns one of each, feeds the pipe once per physics step and passes readings through the
noise model in ``state()``. Neither knows anything about the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

MAX_LATENCY = 1000  # physics steps (2 s at 500 Hz): longer delays are a configuration mistake


class CommandPipe:
    """Per-actuator gain error and latency.

    Timeline: ``command(u)`` sets the command the controller sends from now on. While some actuator
    is delayed, each physics step calls ``output()`` once, before stepping: it records the current
    command and returns, for actuator ``j``, ``gain[j] * u_j`` as it was ``latency[j]`` steps ago
    (before the history starts, the command held then). Without delays the output is simply
    ``current()`` and no history is kept, so a backend can step many steps in one call.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.latency = np.zeros(n, dtype=np.int64)
        self.gain = np.ones(n)
        self._command = np.zeros(n)
        self._history = np.zeros((MAX_LATENCY + 1, n))  # ring buffer of the commands of past steps
        self._t = 0

    @property
    def delays(self) -> bool:
        """True when some actuator has a latency (then every step must go through ``output``)."""
        return bool(self.latency.any())

    def reset(self, command: np.ndarray) -> None:
        """Restart the history: every delayed output is ``command`` until new commands arrive."""
        self._command = np.asarray(command, dtype=float).copy()
        self._history[:] = self._command
        self._t = 0

    def set_latency(self, latency: np.ndarray) -> None:
        latency = np.asarray(latency, dtype=np.int64)
        if (latency < 0).any() or (latency > MAX_LATENCY).any():
            raise ValueError(f"expected actuator latencies in 0..{MAX_LATENCY} physics steps (got {latency.tolist()})")
        if not self.delays:  # the history was not kept while nothing was delayed: the command was held
            self._history[:] = self._command
        self.latency = latency

    def command(self, u: np.ndarray) -> None:
        self._command = np.asarray(u, dtype=float).copy()

    @property
    def commanded(self) -> np.ndarray:
        """The command the controller is sending now (a copy)."""
        return self._command.copy()

    def current(self) -> np.ndarray:
        """The output without latency (what ``output`` returns when no actuator is delayed)."""
        return self.gain * self._command

    def output(self) -> np.ndarray:
        """Record this step's command and return what the actuators receive during this step."""
        size = len(self._history)
        self._history[self._t % size] = self._command
        out = self._history[(self._t - self.latency) % size, np.arange(self.n)]
        self._t += 1
        return self.gain * out


class SensorNoise:
    """Bias and white noise per named sensor (scalar, applied to each component of the reading)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.std = dict.fromkeys(self.names, 0.0)
        self.bias = dict.fromkeys(self.names, 0.0)
        self.rng = np.random.default_rng(0)

    @property
    def active(self) -> bool:
        return any(self.std.values()) or any(self.bias.values())

    def reset(self, rng: np.random.Generator) -> None:
        self.std = dict.fromkeys(self.names, 0.0)
        self.bias = dict.fromkeys(self.names, 0.0)
        self.rng = rng

    def apply(self, readings: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Noisy copies of ``readings`` (sensors without noise or bias are copied unchanged)."""
        out = {}
        for name, value in readings.items():
            value = np.array(value, dtype=float)
            std, bias = self.std.get(name, 0.0), self.bias.get(name, 0.0)
            if std:
                value += self.rng.normal(0.0, std, size=value.shape)
            if bias:
                value += bias
            out[name] = value
        return out
