"""Where sim2real finds its shipped resources (config/ profiles and pipelines, data/ scenes).

In a source checkout (the supported install, ``pip install -e .``) they live at the top of the
repository, three levels above this file. ``SIM2REAL_HOME`` overrides the location.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from .errors import NotInstalledError

PACKAGE_DIR = Path(__file__).resolve().parent
EXTENSION_DIR = PACKAGE_DIR.parent  # exts/sim2real


@cache
def resource_root() -> Path:
    """The directory that holds ``config/`` and ``data/``."""
    env = os.environ.get("SIM2REAL_HOME")
    candidates = [Path(env)] if env else []
    candidates.append(EXTENSION_DIR.parent.parent)
    for root in candidates:
        if (root / "config").is_dir() and (root / "data").is_dir():
            return root
    raise NotInstalledError(
        f"sim2real's resources (config/ and data/, looked in {', '.join(map(str, candidates))})",
        "a source checkout (git clone, then `make demo`) or set SIM2REAL_HOME to one",
    )


def config_path(*parts: str) -> Path:
    return resource_root().joinpath("config", *parts)


def data_path(*parts: str) -> Path:
    return resource_root().joinpath("data", *parts)


def cache_dir() -> Path:
    """Per-user cache (e.g. the probed OpenGL backend)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "sim2real"
    path.mkdir(parents=True, exist_ok=True)
    return path
