"""Shared fixtures: run the real CLI in a subprocess, locate the repository, keep artefacts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Choose the headless GL platform (sets MUJOCO_GL) before any test module imports mujoco: MuJoCo
# reads MUJOCO_GL once, at its first import, and some test modules import mujoco directly.
import sim2real.backends.mujoco  # noqa: E402,F401  (imports only the platform chooser, not mujoco)

from testlib import PACKAGE, REPO, cli  # noqa: E402,F401  (fixtures below; test modules import testlib)


@pytest.fixture
def run_cli():
    return cli


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep screenshots and reports for people to look at after a run."""
    path = Path(os.environ.get("SIM2REAL_TEST_ARTIFACTS", REPO / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
