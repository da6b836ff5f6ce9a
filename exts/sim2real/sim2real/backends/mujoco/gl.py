"""Selecting MuJoCo's headless OpenGL platform for this process, before ``mujoco`` is imported.

The probing and caching live in ``sim2real.backends.glplatform`` (no side effects); this module commits the
process to the chosen platform (``MUJOCO_GL``) and is run by the package's ``__init__``.
"""

from __future__ import annotations

import importlib
import os
import sys

from ...errors import RenderError
from ..glplatform import INSTALL_HINT, PROBE_FLAG, choose

# Why no platform could be selected at import time (None: one was). Physics works without GL, so the
# failure is reported when something renders (``RenderError``), not when the package is imported.
SELECTION_ERROR: str | None = None


def ensure_selected() -> str:
    """Set ``MUJOCO_GL`` for this process (before ``import mujoco``) and return it."""
    backend = choose()
    os.environ["MUJOCO_GL"] = backend
    _rebind_if_imported(backend)
    return backend


def _rebind_if_imported(backend: str) -> None:
    """If ``mujoco`` was imported before this choice (``import mujoco`` above ``import sim2real...``),
    it bound its GL context class to its default (GLFW, which needs a display). Point it at the chosen
    headless platform instead, as importing it with ``MUJOCO_GL`` set would have."""
    module = sys.modules.get("mujoco.rendering.classic.gl_context")
    if module is None or getattr(module, "_MUJOCO_GL", backend) == backend or backend not in ("egl", "osmesa"):
        return
    try:
        platform = importlib.import_module(f"mujoco.{backend}")
    except ImportError as exc:
        raise RenderError(f"mujoco was imported before sim2real chose MUJOCO_GL={backend} and cannot switch to it "
                          f"({exc}); set MUJOCO_GL={backend} before starting Python") from exc
    module.GLContext = platform.GLContext
    module._MUJOCO_GL = backend


def select_or_defer() -> None:
    """``ensure_selected``, keeping a failure in ``SELECTION_ERROR`` for the first render to raise.

    A ``MUJOCO_GL`` the user set is not probed; if MuJoCo cannot even be imported with it (an unknown
    name, a missing library), MuJoCo is imported without GL instead and rendering refuses with why."""
    global SELECTION_ERROR
    if os.environ.get(PROBE_FLAG):
        return
    try:
        backend = ensure_selected()
    except RenderError as exc:
        SELECTION_ERROR = str(exc)
        os.environ["MUJOCO_GL"] = "disable"  # import mujoco without any GL platform; rendering will refuse
        return
    try:
        import mujoco  # noqa: F401  (binds MuJoCo's GL context class to the platform)
    except (ImportError, RuntimeError, OSError) as exc:
        reason = " ".join(str(exc).split())[:200]
        SELECTION_ERROR = f"MUJOCO_GL={backend}: MuJoCo cannot use this platform ({type(exc).__name__}: {reason}); " \
                          f"unset MUJOCO_GL or {INSTALL_HINT}"
        os.environ["MUJOCO_GL"] = "disable"
        for name in [m for m in sys.modules if m == "mujoco" or m.startswith("mujoco.")]:
            del sys.modules[name]
