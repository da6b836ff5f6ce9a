"""Shared fixtures: run the real CLI in a subprocess, locate the repository, keep artefacts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The suite runs in two pytest-xdist workers on two cores (Makefile): libgomp's default spin-waiting
# threads then fight the other worker's for the cores and a torch step runs 5-10x slower. The CLI sets
# the same policy for its own processes (sim2real/cli.py); it must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
