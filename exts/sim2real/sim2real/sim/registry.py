"""Backends by name (every entry a ``Backend``). Asking for one that is not installed gives one line saying
what to install."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from ..errors import NotInstalledError, UserError
from ..randomize.sample import Capabilities


@dataclass(frozen=True)
class BackendEntry:
    import_path: str  # "package.module:ClassName"
    install: str  # how to get it, shown when the import fails
    requires: tuple[str, ...] = ()  # top-level modules that must be importable
    versions: tuple[str, ...] | None = None  # distributions whose versions a dataset records (default: requires)

    @property
    def recorded(self) -> tuple[str, ...]:
        return self.requires if self.versions is None else self.versions


REGISTRY: dict[str, BackendEntry] = {
    "mujoco": BackendEntry(
        "sim2real.backends.mujoco.backend:MujocoBackend", "pip install 'sim2real[mujoco]'", ("mujoco",)
    ),
    # the Kit-free Isaac backend (a USD stage through pxr; PhysX views inside Kit). `sim2real generate
    # --backend isaac` does not create it: Isaac Sim renders in its own process (generate.isaac_launcher).
    "isaac": BackendEntry(
        "sim2real.backends.isaac.backend:IsaacBackend",
        "pip install 'sim2real[usd]' (pxr); rendering needs Isaac Sim itself: README 'Inside Isaac Sim'",
        ("pxr",), versions=("isaacsim",),
    ),
}


def names() -> list[str]:
    return sorted(REGISTRY)


def backend_class(name: str) -> Any:
    """Import and return the backend class registered under ``name``."""
    entry = REGISTRY.get(name)
    if entry is None:
        raise UserError(f"--backend: expected one of {', '.join(names())} (got {name!r})")
    for module in entry.requires:
        if importlib.util.find_spec(module) is None:
            raise NotInstalledError(f"the {name} backend ({module})", entry.install)
    module_name, _, attr = entry.import_path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def create(name: str, **kwargs: Any) -> Any:
    return backend_class(name)(**kwargs)


def scene_entities(scene: str, backend: str = "mujoco") -> dict[str, list[str]]:
    """Load ``scene`` with a registered backend and return its entity names."""
    sim = create(backend)
    try:
        sim.load(scene, resolution=(64, 48))
        return {k: list(v) for k, v in sim.entities().items()}
    finally:
        sim.close()


def backend_capabilities(backend: str) -> Capabilities:
    """A registered backend's capabilities, read without loading a scene."""
    cls = backend_class(backend)
    caps = getattr(cls, "capabilities", None)
    if isinstance(caps, Capabilities):
        return caps
    sim = cls()
    try:
        return sim.capabilities
    finally:
        sim.close()
