"""Counting physics steps since a reset and calling step callbacks on their period: what
``Backend.add_step_callback`` promises, shared by every backend (MuJoCo steps itself; Isaac Sim calls
us once per physics step)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UnsupportedError
from .backend import StepCallback


@dataclass
class StepClock:
    """Physics steps and simulated time since the last reset; calls ``callback(step, time_s)`` after
    every ``every``-th step."""

    steps: int = 0
    time_s: float = 0.0
    callbacks: list[tuple[StepCallback, int]] = field(default_factory=list)

    def add(self, callback: StepCallback, every: int = 1) -> None:
        if every < 1:
            raise UnsupportedError(f"every: expected a positive number of physics steps (got {every})")
        self.callbacks.append((callback, int(every)))

    def remove(self, callback: StepCallback) -> None:
        # == rather than is: each access to a bound method (sim._on_step) makes a new object
        self.callbacks = [(c, e) for c, e in self.callbacks if c != callback]

    def reset(self) -> None:
        self.steps, self.time_s = 0, 0.0

    def steps_until_due(self, limit: int) -> int:
        """How many steps may run before a callback is due (at most ``limit``)."""
        return min([limit] + [every - self.steps % every for _, every in self.callbacks])

    def advance(self, n: int, time_s: float) -> None:
        """``n`` steps have run (no more than ``steps_until_due``), the simulation is at ``time_s``."""
        self.steps += n
        self.time_s = time_s
        for callback, every in list(self.callbacks):
            if self.steps % every == 0:
                callback(self.steps, time_s)

    def tick(self, dt: float) -> None:
        """One physics step of ``dt`` seconds has run."""
        self.advance(1, self.time_s + dt)
