"""Backends by name. Asking for one that is not installed gives one line saying what to install."""

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
    # Isaac Sim may be a binary install outside this Python: the launcher looks for it (ISAAC_SIM_PATH or an
    # importable isaacsim) and raises NotInstalledError with this hint itself.
    "isaac": BackendEntry(
        "sim2real.generate.isaac_launcher:IsaacLauncher",
        "Isaac Sim 5.1 (pip install 'isaacsim[all,extscache]==5.1.0' --extra-index-url https://pypi.nvidia.com, "
        "or set ISAAC_SIM_PATH to a binary install); see README 'Inside Isaac Sim'",
        versions=("isaacsim",),
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
