"""The panel inside Isaac Sim: jobs run with Isaac Sim's own Python (``python.sh`` beside the app folder, never
Kit's ``sys.executable``), captures go through Isaac Sim's headless script with the isaac backend by default,
and ``sim2real`` jobs see the packages Kit sees. Isaac Sim cannot run here: ``python.sh`` is a stand-in
wrapper around this interpreter laid out as a binary install is, and the real ``tools/isaac/generate.py``
runs up to where it would create ``SimulationApp``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


from sim2real.app.panel import Panel
from sim2real.errors import UserError
from testlib import REPO

WAIT = 240  # seconds: an upper bound for a stuck job, never an assertion about speed


def _install(tmp_path: Path) -> Path:
    """A binary-install layout: <root>/python.sh (a stand-in running this interpreter) and <root>/apps."""
    root = tmp_path / "isaac-sim"
    (root / "apps").mkdir(parents=True)
    script = root / "python.sh"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    script.chmod(0o755)
    return root


@pytest.fixture
def kit_panel(tmp_path: Path) -> Panel:
    root = _install(tmp_path)
    # what sim2real_ui's extension does: the app folder (${app}), Kit's sys.executable (the kit binary), sys.path
    panel = Panel.in_isaac_sim(str(root / "apps"), str(root / "kit" / "kit"), [str(tmp_path / "kit-pip-env")],
                               workdir=tmp_path, targets_path=tmp_path / "targets.toml", grace_s=20)
    assert panel.capture.isaac_python == [str(root / "python.sh")]
    assert panel.editor.load(REPO / "config" / "profiles" / "tabletop.toml")
    yield panel
    panel.shutdown(timeout=60)


def test_captures_run_isaac_sims_headless_script_in_its_own_python(kit_panel: Panel, tmp_path: Path) -> None:
    capture = kit_panel.capture
    assert capture.form.values["backend"] == "isaac"  # the default inside Isaac Sim
    capture.form.update({"frames": 2, "width": 64, "height": 48})
    stage = tmp_path / "open_stage.usda"
    job = capture.start(scene=str(stage))  # the stage open in Isaac Sim, when the form names none
    python_sh = str(tmp_path / "isaac-sim" / "python.sh")
    assert job.argv[:2] == [python_sh, str(REPO / "tools" / "isaac" / "generate.py")]
    assert "generate" not in job.argv and job.argv[-2:] == ["--progress", "json"]
    assert job.argv[job.argv.index("--backend") + 1] == "isaac" and job.argv[job.argv.index("--scene") + 1] == str(stage)
    assert job.wait(WAIT)
    # the script parsed every option, then needed Isaac Sim: its one-line JSON error, exit 2
    assert job.state == "failed" and job.returncode == 2
    assert "Isaac Sim (isaacsim; run this script with Isaac Sim's python.sh) is not installed" in job.user_error


def test_sim2real_jobs_use_isaac_sims_python_and_kits_packages(kit_panel: Panel, tmp_path: Path) -> None:
    env = kit_panel.runner._environment(cli=True)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "kit-pip-env")
    job = kit_panel.runner.start("gap", ["gap", "images", str(tmp_path / "none"), str(tmp_path / "none")])
    assert job.argv[:3] == [str(tmp_path / "isaac-sim" / "python.sh"), "-m", "sim2real.cli"]
    assert job.wait(WAIT) and job.returncode == 2  # the CLI ran in that Python and refused the missing folders
    assert kit_panel.runner._environment(cli=False) is None  # Isaac Sim's own script sets its environment


def test_the_isaac_backend_needs_isaac_sims_python(tmp_path: Path) -> None:
    panel = Panel(workdir=tmp_path, targets_path=tmp_path / "targets.toml")
    assert panel.capture.form.values["backend"] == "mujoco"  # outside Isaac Sim
    assert panel.editor.load(REPO / "config" / "profiles" / "tabletop.toml")
    panel.capture.form.set("backend", "isaac")
    with pytest.raises(UserError, match="capture.backend: the isaac backend renders with Isaac Sim's Python"):
        panel.capture.start()
    assert panel.capture.error.startswith("capture.backend") and panel.runner.jobs == []
    assert not panel.capture.form.set("workers", 2)
    assert "1 with the isaac backend" in panel.capture.form.errors["workers"]
