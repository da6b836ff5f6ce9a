"""Choosing MuJoCo's headless OpenGL platform (EGL or OSMesa) before ``mujoco`` is imported.

MuJoCo reads ``MUJOCO_GL`` once, when it is first imported, so the choice must be made first. If the
user set ``MUJOCO_GL`` we honour it. Otherwise we probe the candidates in a subprocess each (a
failed GL init can take the process down) and cache the first that renders a correct frame in
``~/.cache/sim2real/gl.json``, keyed by Python interpreter and mujoco version; ``sim2real doctor``
re-probes and refreshes the cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata

from ...errors import RenderError
from ...paths import cache_dir

CANDIDATES = ("egl", "osmesa", "glfw")
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
    return backend


def select_or_defer() -> None:
    """``ensure_selected``, keeping a failure in ``SELECTION_ERROR`` for the first render to raise."""
    global SELECTION_ERROR
    try:
        ensure_selected()
    except RenderError as exc:
        SELECTION_ERROR = str(exc)
        os.environ["MUJOCO_GL"] = "disable"  # import mujoco without any GL platform; rendering will refuse
