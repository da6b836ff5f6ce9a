"""Which headless OpenGL platform (EGL, OSMesa) renders MuJoCo frames here: probing and caching.

MuJoCo reads ``MUJOCO_GL`` once, when it is first imported, so the choice must be made before. If the
user set ``MUJOCO_GL`` we honour it. Otherwise we probe the candidates in a subprocess each (a
failed GL init can take the process down) and cache the first that renders a correct frame in
``~/.cache/sim2real/gl-<interpreter>.json``, keyed by mujoco version; ``sim2real doctor`` re-probes
and refreshes the cache.

This module has no side effects and never imports ``mujoco`` (the probe runs in a child process), so
``sim2real doctor`` can use it without committing its own process to a platform. Selecting the
platform for this process is ``sim2real.backends.mujoco.gl``'s job.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from ..errors import RenderError
from ..fsutil import atomic_write_json
from ..paths import cache_dir

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


def _cache_file() -> Path:
    # One file per interpreter: several venvs on one machine must not overwrite each other's choice.
    return cache_dir() / f"gl-{hashlib.sha1(sys.executable.encode()).hexdigest()[:12]}.json"


def _read_cache() -> str | None:
    try:
        cached = json.loads(_cache_file().read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return cached.get("backend") if cached.get("key") == _cache_key() else None


def write_cache(result: ProbeResult) -> None:
    atomic_write_json(_cache_file(), {"key": _cache_key(), **asdict(result)}, fsync=False)


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
