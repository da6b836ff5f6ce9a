"""The Backend protocol: the small interface every simulator offers, sized to the weaker one.

A backend loads a scene, reports the entities a profile can target, applies samples relative to the
defaults captured at load, steps physics (firing physics-step callbacks), takes actuator commands,
renders Frames, and restores every default on ``reset`` (then re-applies the start-up samples:
``when = "startup"`` values last for the scene's lifetime, as Isaac Lab's start-up events do). What it
can do is declared in ``Capabilities``. ``sim.driver.RandomizedSim`` wires a Randomizer to it; what a
backend applied since its reset (start-up samples to replay, the latest values) is ``sim.record.AppliedRecord``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike
import inspect
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..randomize.sample import Capabilities, Sample
from .rendered_frame import Frame

StepCallback = Callable[[int, float], None]  # (physics step index since reset, simulated time in s)


@runtime_checkable
class Backend(Protocol):
    name: str
    capabilities: Capabilities

    def load(self, scene: str | PathLike[str], *, resolution: tuple[int, int] = (640, 480), **options: Any) -> None:
        """Load a scene file; capture every default value that ``apply`` may change."""

    def entities(self) -> dict[str, list[str]]:
        """Entity names per target kind (``{"light": ["key", "fill"], ...}``), in a stable order."""

    def apply(self, sample: Sample, env: int | None = None) -> None:
        """Apply ``sample``, each value relative to the captured default: row ``env`` of it (None: each of
        the backend's environments its own row; a one-environment backend takes row 0)."""

    def record(self, env: int = 0) -> dict[str, Any]:
        """The latest value of every key applied to environment ``env`` since the reset, flat and
        JSON-ready: the randomization record stored with each frame."""

    def reset(self) -> None:
        """Restore every captured default exactly, reset the physical state, then re-apply the
        samples of event ``startup`` applied since load."""

    @property
    def dt(self) -> float:
        """The physics step, seconds."""

    def step(self, n: int = 1) -> None:
        """Advance physics by ``n`` steps, calling the registered step callbacks that are due."""

    def add_step_callback(self, callback: StepCallback, every: int = 1) -> None:
        """Call ``callback(step, time_s)`` after every ``every``-th physics step since the reset (how
        interval and time-varying terms fire, as Isaac Sim's physics callbacks do)."""

    def remove_step_callback(self, callback: StepCallback) -> None:
        """Stop calling ``callback``."""

    def set_control(self, ctrl: Mapping[str, float] | Sequence[float] | np.ndarray) -> None:
        """Command the actuators: a vector in actuator order or ``{actuator name: value}``. Actuator
        latency and gain error (``actuator:*/latency|gain_error``) act between this and the engine."""

    def render(self, camera: str | None = None) -> Frame:
        """Render one Frame from ``camera`` (default: the scene's first camera)."""

    def state(self) -> dict[str, np.ndarray]:
        """The physical state as named arrays: ``time`` (s), ``qpos``, ``qvel``, ``ctrl`` (what the
        actuators receive), ``command`` (what was sent), and each named sensor as ``sensor:<name>``
        (with the noise and bias of ``sensor:*/noise_std|bias``)."""

    def close(self) -> None:
        """Release renderer and simulator resources."""


@runtime_checkable
class PreparesInterval(Protocol):
    """Optional: a backend that applies interval firings faster a chunk at a time.

    ``prepare_interval(chunk, env)`` receives consecutive firings of the interval terms of one period
    (``randomize.interval.IntervalChunk``, from ``sim.schedule.IntervalSchedule``) and returns ``fire(k)``,
    which must leave the backend exactly as ``apply(chunk.sample(k), env)`` would (recording the firing
    with ``AppliedRecord.fired``). ``RandomizedSim`` uses it when a backend offers it; the MuJoCo backend
    turns a chunk's physics values into tables, so a firing costs a couple of array stores instead of a
    Python call per value."""

    def prepare_interval(self, chunk: Any, env: int | None = None) -> Callable[[int], None]: ...


@runtime_checkable
class DefersEffects(Protocol):
    """Optional: a backend that can leave a camera's sensor effects (``image:*`` targets) to whoever
    consumes its frames. With ``defer_effects = True``, ``render`` returns the clean images and puts
    the effects, with the seed of their noise, in ``Frame.effects``; ``Frame.finished()`` gives the
    bytes an immediate ``render`` would have. The generation loop sets it, so effects run in its writer
    threads instead of between render passes."""

    defer_effects: bool


@runtime_checkable
class PreloadsTextures(Protocol):
    """Optional: a backend whose ``load`` takes ``textures=[image files]``, the images a profile may put
    on materials (``Profile.texture_files()``), and prepares each once (MuJoCo: a texture of its own),
    so that choosing one per frame is a switch instead of a copy and an upload to the renderer."""

    preloads_textures: bool


@runtime_checkable
class PreparesScene(Protocol):
    """Optional: a backend whose scene can be loaded and compiled once and handed to others (worker
    processes) as a picklable object that ``load`` accepts in place of the file, so that each does not
    parse and compile it again. ``prepare_scene`` takes ``load``'s scene, resolution and options."""

    def prepare_scene(self, scene: Any, *, resolution: tuple[int, int] = (640, 480), **options: Any) -> Any: ...


def conformance(cls: type) -> list[str]:
    """How the class ``cls`` departs from the ``Backend`` protocol, checked on the class alone (no
    instance, no scene): every method with the protocol's parameters (names, kinds, defaults) — extra
    keyword-only options only where the protocol takes ``**options`` — ``dt`` a property, ``name`` a
    string. Each backend's contract tests assert this is empty."""
    problems = [] if isinstance(getattr(cls, "name", None), str) else ["name: expected a class attribute str"]
    for member in ("load", "entities", "apply", "record", "reset", "step", "add_step_callback",
                   "remove_step_callback", "set_control", "render", "state", "close"):
        mine = getattr(cls, member, None)
        if not callable(mine):
            problems.append(f"{member}: missing")
            continue
        problems += _signature_problems(member, inspect.signature(getattr(Backend, member)), inspect.signature(mine))
    if not isinstance(inspect.getattr_static(cls, "dt", None), property):
        problems.append("dt: expected a property (the physics step, s)")
    return problems


def _signature_problems(member: str, wanted: inspect.Signature, got: inspect.Signature) -> list[str]:
    want = [p for p in wanted.parameters.values() if p.kind is not p.VAR_KEYWORD]
    have = [p for p in got.parameters.values() if p.kind is not p.VAR_KEYWORD]
    takes_options = any(p.kind is p.VAR_KEYWORD for p in wanted.parameters.values())
    extra = [p for p in have[len(want):] if takes_options and p.kind is p.KEYWORD_ONLY and p.default is not p.empty]
    shape = [(p.name, p.kind, p.default) for p in want]
    if [(p.name, p.kind, p.default) for p in have[:len(want)]] != shape or len(have) - len(extra) != len(want):
        return [f"{member}{got}: expected {member}{wanted}"]
    if takes_options != any(p.kind is p.VAR_KEYWORD for p in got.parameters.values()):
        return [f"{member}{got}: expected {member}{wanted} (**options)"]
    return []

