"""The floors of the package hold: ``lint-imports`` with the contracts in pyproject.toml.

A module imports only its own floor or lower ones (trajectory < randomize < sim < ... < gap < control <
... < pipeline < app < web < commands); command modules are imported only by ``sim2real.cli``; no
package-level cycle. The second and third tests plant a violation in a copy of the package and check that
the contracts catch it, so a contract that silently checks nothing cannot pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testlib import PACKAGE, REPO

pytest.importorskip("importlinter")
LINT = [str(Path(sys.executable).parent / "lint-imports")]  # import-linter's command (the dev extra)


def lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([*LINT, "--no-cache", "--no-logo", str(REPO / "pyproject.toml")], capture_output=True,
                          text=True, env=env, timeout=300, cwd=package_parent)


def test_every_contract_is_kept() -> None:
    proc = lint(PACKAGE.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout, proc.stdout


def planted(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package with ``line`` added to ``module`` (a path inside the package)."""
    copy = tmp_path / "sim2real"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    path.write_text(path.read_text() + f"\n{line}\n")
    return tmp_path


def test_an_import_running_back_up_breaks_the_floors(tmp_path: Path) -> None:
    proc = lint(planted(tmp_path, "trajectory/series.py", "from ..gap import metrics  # upward"))
    assert proc.returncode != 0
    assert "Floors: no import runs back up BROKEN" in proc.stdout
    assert "sim2real.trajectory.series -> sim2real.gap.metrics" in proc.stdout


def test_a_library_module_importing_a_command_breaks_the_contract(tmp_path: Path) -> None:
    proc = lint(planted(tmp_path, "pipeline/runner.py", "from ..train import cli  # a command"))
    assert proc.returncode != 0
    assert "Command modules are imported only by sim2real.cli BROKEN" in proc.stdout


def test_a_circle_between_dataset_modules_breaks_the_acyclic_contract(tmp_path: Path) -> None:
    """The circle the Layout registry dissolved (basic <-> encode) cannot come back."""
    proc = lint(planted(tmp_path, "dataset/basic.py", "from . import encode  # a circle"))
    assert proc.returncode != 0
    assert "No package-level import cycle BROKEN" in proc.stdout


def test_the_map_in_extending_md_lists_the_floors_of_the_contract() -> None:
    """docs/extending.md's table of floors is the 'floors' contract, top floor last."""
    import re
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["id"] == "floors")
    text = (REPO / "exts" / "sim2real" / "docs" / "extending.md").read_text()
    rows = re.findall(r"^\| (\d+) \| `([^`]+)` \|", text, flags=re.M)
    assert [int(n) for n, _ in rows] == list(range(1, len(rows) + 1))
    assert [floor.replace("\\|", "|") for _, floor in rows] == list(reversed(layers))
