"""Shared by the pipeline tests (a module of its own: ``conftest`` is a name every test folder uses)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
