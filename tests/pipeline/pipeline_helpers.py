"""Shared by the pipeline tests (a module of its own: ``conftest`` is a name every test folder uses)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from testlib import REPO, cli

QUICK = REPO / "config" / "pipelines" / "demo_quick.toml"
WIDE = {"COLUMNS": "200"}  # rich wraps tables at the terminal width; keep summary rows on one line


def sim2real(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``sim2real ARGS`` in a fresh interpreter, with a terminal wide enough for the summary table."""
    return cli(*args, env=WIDE, timeout=timeout)


@dataclass
class Demo:
    out: Path
    stdout: str
    imported: frozenset[str] = frozenset()  # top-level modules every process of the run imported


def imported_modules(stderr: str) -> frozenset[str]:
    """Top-level module names from ``PYTHONPROFILEIMPORTTIME`` lines (``import time: self | cum | name``)."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "package":
                names.add(name.split(".")[0])
    return frozenset(names)
