"""Actuator and sensor models between a controller and a simulator, shared by every backend.

* ``CommandPipe``: what the actuators receive from the commands a controller sends: each actuator's
  command is multiplied by its gain error and delayed by its latency in physics steps
  (``actuator:<name>/gain_error``, ``actuator:<name>/latency``).
  ``delay_commands`` is the same transformation applied to a whole command sequence at once (and
  interpolated smoothly between whole-step latencies), for batched rollouts (system identification).
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


def delay_commands(commands: np.ndarray, latency: np.ndarray | float, gain: np.ndarray | float = 1.0,
                   initial: np.ndarray | None = None) -> np.ndarray:
    """What the actuators receive at each physics step, for a whole sequence of per-step commands.

    ``commands``: ``(T, n)`` or ``(B, T, n)``, the command the controller sends during each physics
    step. ``latency``: physics steps per actuator (scalar, ``(n,)`` or ``(B, n)``). ``initial``: the
    command held before the sequence (``(n,)`` or ``(B, n)``; default: the first command).

    For whole latencies the result is exactly what ``CommandPipe.output`` returns step by step after
    ``reset(initial)``. Between whole steps the delayed sequence is interpolated with a Catmull-Rom
    cubic through the neighbouring whole-step delays: it passes through them and is continuously
    differentiable in the latency, so a delay identified by gradient methods moves smoothly between
    physics steps and settles on the step the data fit best (a linear blend would put a kink in the
    cost exactly there). The last command is held beyond the sequence's end.
    """
    u = np.asarray(commands, dtype=float)
    single = u.ndim == 2
    if single:
        u = u[None]
    b, t, n = u.shape
    lat = np.broadcast_to(np.asarray(latency, dtype=float), (b, n)) if np.ndim(latency) < 2 \
        else np.asarray(latency, dtype=float)
    if (lat < 0).any() or (lat > MAX_LATENCY).any():
        raise ValueError(f"expected actuator latencies in 0..{MAX_LATENCY} physics steps (got {lat.tolist()})")
    first = u[:, 0] if initial is None else np.broadcast_to(np.asarray(initial, dtype=float), (b, n))
    whole = np.floor(lat).astype(np.int64)
    s = (1.0 - (lat - whole))[:, None, :]  # 1: delay `whole`, 0: delay `whole + 1`
    pad = int(whole.max()) + 2
    padded = np.concatenate([np.repeat(first[:, None], pad, axis=1), u, u[:, -1:]], axis=1)  # pad + k = step k
    base = np.arange(t)[None, :, None] + pad - whole[:, None, :]  # index of u[k - whole]
    rows, cols = np.arange(b)[:, None, None], np.arange(n)[None, None, :]

    def at(offset: int) -> np.ndarray:
        return padded[rows, base + offset, cols]

    p0, p1, p2, p3 = at(-2), at(-1), at(0), at(1)
    s2, s3 = s * s, s * s * s
    out = 0.5 * ((-s + 2 * s2 - s3) * p0 + (2 - 5 * s2 + 3 * s3) * p1 + (s + 4 * s2 - 3 * s3) * p2 + (s3 - s2) * p3)
    out = out * np.broadcast_to(np.asarray(gain, dtype=float), (b, n))[:, None, :]
    return out[0] if single else out


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


class CorrelatedNoise:
    """Exponentially correlated (Ornstein-Uhlenbeck) noise read at a fixed period ``dt_s``.

    Each component has stationary standard deviation ``std`` and correlation time ``tau_s``; between two
    readings ``x ← a·x + sqrt(1 − a²)·std·ε`` with ``a = exp(−dt_s / tau_s)``, the exact discretisation
    of the OU process, so the statistics do not depend on the period. ``reset`` draws the start from
    the stationary distribution (a sensor has been drifting before the episode began). A ``tau_s`` of
    0 gives white noise."""

    def __init__(self, std: np.ndarray | float, tau_s: np.ndarray | float, dt_s: float) -> None:
        self.std = np.asarray(std, dtype=float)
        tau = np.asarray(tau_s, dtype=float)
        if (self.std < 0).any() or (tau < 0).any() or not dt_s > 0:
            raise ValueError(f"expected std >= 0, tau_s >= 0 and dt_s > 0 (got {std}, {tau_s}, {dt_s})")
        self.a = np.where(tau > 0, np.exp(-dt_s / np.where(tau > 0, tau, 1.0)), 0.0)
        self.x = np.zeros(np.broadcast(self.std, self.a).shape)
        self.rng = np.random.default_rng(0)

    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.x = self.std * rng.standard_normal(self.x.shape)

    def sample(self) -> np.ndarray:
        """The noise of this reading (then the process advances one period)."""
        out = self.x.copy()
        self.x = self.a * self.x + np.sqrt(1.0 - self.a ** 2) * self.std * self.rng.standard_normal(self.x.shape)
        return out
