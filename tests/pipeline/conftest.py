"""One quick demo run shared by the pipeline tests (it is the expensive part: about half a minute)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICK = REPO / "config" / "pipelines" / "demo_quick.toml"
WIDE = {"COLUMNS": "200"}  # rich wraps tables at the terminal width; keep summary rows on one line


def sim2real(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim2real.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **WIDE})


@dataclass
class Demo:
    out: Path
    stdout: str


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """``sim2real demo --quick`` as a user runs it (a fresh process), kept for every test to read."""
    out = tmp_path_factory.mktemp("quick-demo") / "run"
    r = sim2real("demo", "--quick", "--out", str(out), "--progress", "none")
    assert r.returncode == 0, r.stdout + r.stderr
    return Demo(out, r.stdout)
