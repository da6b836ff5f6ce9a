"""Choosing MuJoCo's headless OpenGL platform (EGL or OSMesa) before ``mujoco`` is imported.

MuJoCo reads ``MUJOCO_GL`` once, when it is first imported, so the choice must be made first. If the
user set ``MUJOCO_GL`` we honour it. Otherwise we probe the candidates in a subprocess each (a
failed GL init can take the process down) and cache the first that renders a correct frame in
``~/.cache/sim2real/gl.json``, keyed by Python interpreter and mujoco version; ``sim2real doctor``
re-probes and refreshes the cache.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata

from ...errors import RenderError
from ...paths import cache_dir

CANDIDATES = ("egl", "osmesa", "glfw")
PROBE_FLAG = "SIM2REAL_GL_PROBE"
PROBE_TIMEOUT_S = 120
INSTALL_HINT = (
    "install Mesa's headless GL: `sudo apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6` "
    "(or run `make demo`, which does it), then check with `sim2real doctor`"
)


@dataclass
class ProbeResult:
    backend: str
    ok: bool
    renderer: str = ""
    error: str = ""


def default_candidates() -> list[str]:
    """EGL first (fastest headless path), then OSMesa; GLFW only when a display exists.
    ``SIM2REAL_GL=osmesa,egl`` replaces the list (e.g. to keep off a broken EGL driver)."""
    chosen = os.environ.get("SIM2REAL_GL", "").strip()
    if chosen:
        return [name.strip() for name in chosen.split(",") if name.strip()]
    names = ["egl", "osmesa"]
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        names.append("glfw")
    return names


def probe(backend: str, env: dict[str, str] | None = None) -> ProbeResult:
    """Render a red box in a fresh interpreter with ``MUJOCO_GL=backend``; check the pixels."""
    child_env = dict(os.environ if env is None else env)
    child_env["MUJOCO_GL"] = backend
    child_env[PROBE_FLAG] = "1"  # the probe reports failures itself: no fallback in the child
    child_env.pop("PYOPENGL_PLATFORM", None)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sim2real.backends.mujoco._glprobe"],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(backend, False, error=f"timed out after {PROBE_TIMEOUT_S} s")
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            return ProbeResult(**json.loads(line))
        except (json.JSONDecodeError, TypeError):
            continue
    tail = (proc.stderr or proc.stdout).strip().splitlines()
    return ProbeResult(backend, False, error=tail[-1] if tail else f"exit code {proc.returncode}")


def _cache_key() -> dict[str, str]:
    try:
        version = metadata.version("mujoco")
    except metadata.PackageNotFoundError:
        version = "absent"
    return {"python": sys.executable, "mujoco": version}


def _read_cache() -> str | None:
    try:
        cached = json.loads((cache_dir() / "gl.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return cached.get("backend") if cached.get("key") == _cache_key() else None


def write_cache(result: ProbeResult) -> None:
    from ...fsutil import atomic_write_json

    atomic_write_json(cache_dir() / "gl.json", {"key": _cache_key(), **asdict(result)}, fsync=False)


def choose(candidates: list[str] | None = None) -> str:
    """The platform to use: ``MUJOCO_GL`` if set, else the cached or first working candidate."""
    explicit = os.environ.get("MUJOCO_GL")
    if explicit:
        return explicit
    candidates = candidates or default_candidates()
    cached = _read_cache()
    if cached and cached in candidates:
        return cached
    errors = []
    for name in candidates:
        result = probe(name)
        if result.ok:
            write_cache(result)
            return name
        errors.append(f"{name}: {result.error}")
    raise RenderError("no headless OpenGL platform renders (" + "; ".join(errors) + "); " + INSTALL_HINT)


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
