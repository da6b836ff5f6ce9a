"""Shared fixtures: run the real CLI in a subprocess, locate the repository, keep artefacts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Choose the headless GL platform (sets MUJOCO_GL) before any test module imports mujoco: MuJoCo
# reads MUJOCO_GL once, at its first import, and some test modules import mujoco directly.
import sim2real.backends.mujoco  # noqa: E402,F401  (imports only the platform chooser, not mujoco)

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "exts" / "sim2real" / "sim2real"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path | None = None,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``sim2real ARGS`` as a user would, in a fresh interpreter."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sim2real.cli", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd, input=input,
    )


@pytest.fixture
def run_cli():
    return cli


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep screenshots and reports for people to look at after a run."""
    path = Path(os.environ.get("SIM2REAL_TEST_ARTIFACTS", REPO / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
