"""``sim2real/Arm2Reach-v0`` in gymnasium's registry as soon as both ``sim2real.control`` and
``gymnasium`` are imported, in either order, without importing gymnasium early.

``import sim2real.control`` stays cheap (gymnasium takes most of a second to import): when gymnasium
is already imported the ids are registered at once; otherwise a one-shot import hook registers them
right after gymnasium finishes importing. So ``import sim2real.control; gym.make("sim2real/Arm2Reach-v0")``
and gymnasium's own ``gym.make("sim2real.control:sim2real/Arm2Reach-v0")`` (which imports the module
first) both work. Gymnasium 1.x reads no plugin entry points (0.x's ``gymnasium.envs`` group is gone),
so an import is the hook there is.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from typing import Any


def register_when_imported() -> None:
    if "gymnasium" in sys.modules:
        _register()
    elif not any(isinstance(f, _AfterGymnasium) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterGymnasium())


def _register() -> None:
    from .envs import register

    register()


class _AfterGymnasium(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps gymnasium's own loader so that our ids are registered after it ran."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != "gymnasium":
            return None
        sys.meta_path.remove(self)  # one shot; the real finders below locate gymnasium
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_then_register(module: Any) -> None:
            exec_module(module)
            _register()

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec
