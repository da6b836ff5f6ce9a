"""The Backend protocol: the small interface every simulator offers, sized to the weaker one.

A backend loads a scene, reports the entities a profile can target, applies samples relative to the
defaults captured at load, steps physics (firing physics-step callbacks), renders Frames, and
restores every default on ``reset``. What it can do is declared in ``Capabilities``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import UnsupportedError
from ..randomize.sample import Sample
from .frame import Frame

StepCallback = Callable[[int, float], None]  # (physics step index since reset, simulated time in s)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do. ``targets`` holds the (kind, attribute) pairs ``apply`` accepts."""

    targets: frozenset[tuple[str, str]]
    rgb: bool = True
    depth: bool = False
    segmentation: bool = False
    boxes: bool = False
    physics: bool = True
    max_envs: int = 1
    extras: dict[str, Any] = field(default_factory=dict)

    def supports(self, kind: str, attribute: str) -> bool:
        return (kind, attribute) in self.targets

    def require(self, backend: str, wanted: Iterable[tuple[str, str]], source: str = "profile") -> None:
        """Raise one clear error listing what is supported if any wanted target is not."""
        missing = sorted({f"{k}:*/{a}" for k, a in wanted if (k, a) not in self.targets})
        if missing:
            supported = ", ".join(sorted(f"{k}/{a}" for k, a in self.targets))
            raise UnsupportedError(
                f"{source}: the {backend} backend cannot apply {', '.join(missing)}; it supports: {supported}"
            )


@runtime_checkable
class Backend(Protocol):
    name: str
    capabilities: Capabilities

    def load(self, scene: str | PathLike[str], *, resolution: tuple[int, int] = (640, 480), **options: Any) -> None:
        """Load a scene file; capture every default value that ``apply`` may change."""

    def entities(self) -> dict[str, list[str]]:
        """Entity names per target kind (``{"light": ["key", "fill"], ...}``), in a stable order."""

    def apply(self, sample: Sample, env: int = 0) -> None:
        """Apply environment ``env`` of ``sample``, each value relative to the captured default."""

    def reset(self) -> None:
        """Restore every captured default exactly and reset the physical state."""

    def step(self, n: int = 1) -> None:
        """Advance physics by ``n`` steps, calling the registered step callbacks after each."""

    def add_step_callback(self, callback: StepCallback) -> None:
        """Call ``callback(step, time_s)`` after every physics step (how interval and time-varying
        terms fire, as Isaac Sim's physics callbacks do)."""

    def render(self, camera: str | None = None) -> Frame:
        """Render one Frame from ``camera`` (default: the scene's first camera)."""

    def state(self) -> dict[str, np.ndarray]:
        """The physical state (e.g. qpos, qvel, time) as named arrays."""

    def close(self) -> None:
        """Release renderer and simulator resources."""
