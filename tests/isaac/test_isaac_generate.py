"""Headless Isaac Sim generation without Isaac Sim: the script's command line (sim2real generate's plus
--gpu ...), the launcher behind `sim2real generate --backend isaac`, and one process per GPU: shard runs
merged into one dataset, identical to a single run (MuJoCo renders here; the machinery is the same)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from testlib import REPO

from sim2real.generate.isaac_launcher import IsaacLauncher, isaac_python, run_workers, worker_command
from sim2real.dataset.merge import merge_parts, part_path
from sim2real.dataset.store import dataset_files
from sim2real.errors import NotInstalledError, UserError
from sim2real.generate.api import generate
from sim2real.generate.request import GenerateRequest
from sim2real.generate.isaac_script import build_parser, launch_config, request_from_args
from sim2real.progress import Reporter

SCRIPT = REPO / "tools" / "isaac" / "generate.py"
NO_ISAAC = importlib.util.find_spec("isaacsim") is None


def _options(parser) -> set[str]:  # type: ignore[no-untyped-def]
    return {s for a in parser._actions for s in a.option_strings}


def test_script_takes_every_option_of_sim2real_generate() -> None:
    import typer

    from sim2real.generate.cli import app

    command = typer.main.get_command(app)
    generate_options = {opt for p in command.params for opt in p.opts if opt.startswith("-")}
    generate_options -= {"--install-completion", "--show-completion"}  # typer's shell helpers
    script = _options(build_parser())
    assert generate_options <= script, sorted(generate_options - script)
    assert {"--gpu", "--rt-subframes", "--experience", "--gui"} <= script


def test_worker_commands_parse_back_to_the_request(tmp_path: Path) -> None:
    from sim2real.dataset.encode import Outputs

    request = GenerateRequest(profile="tabletop", frames=40, out=tmp_path / "ds", scene="tabletop", seed=9,
                              resolution=(320, 200), camera="top", backend="isaac",
                              outputs=Outputs(layout="basic", depth_npy=True), workers=3, threads=4,
                              frames_per_shard=10, overrides=("settle_steps=3", "terms.object_scale.high=1.5"))
    cmd = worker_command(["/isaac/python.sh"], SCRIPT, request, 2, 3)
    assert cmd[:2] == ["/isaac/python.sh", str(SCRIPT)]
    args = build_parser().parse_args(cmd[2:])
    again = request_from_args(args)
    for field in ("profile", "frames", "out", "scene", "seed", "resolution", "camera", "outputs", "threads",
                  "frames_per_shard", "overrides"):
        assert getattr(again, field) == getattr(request, field), field
    assert (again.num_shards, again.shard_index, args.gpu, args.progress) == (3, 2, 2, "json")
    assert launch_config(args) == {"headless": True, "width": 320, "height": 200, "active_gpu": 2,
                                   "physics_gpu": 2, "multi_gpu": False}
    with pytest.raises(UserError, match="--workers: one Isaac Sim process renders"):
        request_from_args(build_parser().parse_args([*cmd[2:], "--workers", "2"]))


def test_isaac_python_is_found_from_the_install_folder(tmp_path: Path) -> None:
    (tmp_path / "python.sh").write_text("#!/bin/sh\n")
    assert isaac_python({"ISAAC_SIM_PATH": str(tmp_path)}) == [str(tmp_path / "python.sh")]
    assert isaac_python({"ISAAC_PATH": str(tmp_path)}) == [str(tmp_path / "python.sh")]
    # inside Kit: python.sh beside the app folder (${app} is <install>/apps); never the kit binary
    (tmp_path / "apps").mkdir()
    assert isaac_python({}, app_folder=str(tmp_path / "apps"), executable="/opt/isaac/kit/kit") == \
        [str(tmp_path / "python.sh")]
    if NO_ISAAC:
        assert isaac_python({}, executable="/opt/isaac/kit/kit") is None
        assert isaac_python({}) is None
        with pytest.raises(NotInstalledError, match="ISAAC_SIM_PATH"):
            IsaacLauncher({})


def test_a_kit_binary_is_never_taken_for_isaac_sims_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a binary install's Kit, sys.executable is the kit binary although isaacsim imports."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "isaacsim" else real(name, *a))
    assert isaac_python({}, executable="/opt/isaac-sim/kit/kit") is None
    assert isaac_python({}, executable="/home/me/venv/bin/python3.11") == ["/home/me/venv/bin/python3.11"]


@pytest.mark.skipif(not NO_ISAAC, reason="Isaac Sim is installed here")
def test_generate_with_the_isaac_backend_says_how_to_install_it(run_cli, tmp_path: Path) -> None:
    proc = run_cli("generate", "--profile", "tabletop", "--frames", "2", "--out", str(tmp_path / "x"),
                   "--backend", "isaac", env={"ISAAC_SIM_PATH": "", "ISAAC_PATH": ""})
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not installed; install it with" in lines[0] and "pip install" in lines[0]
    assert not (tmp_path / "x").exists()


def test_the_script_imports_nothing_of_kit_before_simulation_app(tmp_path: Path) -> None:
    tree = ast.parse(SCRIPT.read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [a.name for n in top for a in n.names] + [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in ("omni", "carb", "isaacsim", "pxr", "sim2real_isaac")]
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--num-shards" in proc.stdout and "--gpu" in proc.stdout
    if NO_ISAAC:
        proc = subprocess.run([sys.executable, str(SCRIPT), "--profile", "tabletop", "--frames", "1", "--out",
                               str(tmp_path / "o"), "--progress", "json"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert '"event": "error"' in proc.stdout and '"kind": "user"' in proc.stdout
        assert "Isaac Sim (isaacsim; run this script with Isaac Sim's python.sh) is not installed" in proc.stderr


class _Events(Reporter):
    def __init__(self) -> None:
        self.progress: list[tuple[int, int | None]] = []
        self.results: list[dict] = []

    def _on_task(self, task, final, force=False):  # type: ignore[no-untyped-def]
        if task.name == "generate":
            self.progress.append((task.done, task.total))

    def result(self, payload):  # type: ignore[no-untyped-def]
        self.results.append(dict(payload))


def _shard_command(out: Path, k: int, n: int) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", "generate", "--profile", "tabletop", "--frames", "6",
            "--out", str(out), "--resolution", "32x24", "--frames-per-shard", "2", "--seed", "5",
            "--num-shards", str(n), "--shard-index", str(k), "--progress", "json"]


def test_one_process_per_gpu_then_merge_equals_one_run(tmp_path: Path) -> None:
    """What `sim2real generate --backend isaac --workers 2` does (run_workers + merge), with MuJoCo
    processes standing in for Isaac Sim's: shard runs render disjoint dataset shards into OUT.parts/,
    the merge adopts them, and the dataset is byte-identical to a single run."""
    out = tmp_path / "multi"
    events = _Events()
    results = run_workers([_shard_command(out, k, 2) for k in range(2)], events)
    assert [r["made"] for r in results] == [4, 2]  # shards {0, 2} and {1} of frames 0..5 in pairs
    assert events.progress[-1] == (6, 6)  # the two runs' progress added up
    assert part_path(out, 0, 2).is_dir() and not out.exists()
    merged = merge_parts(out)
    assert merged["frames_done"] == 6 and merged["moved"] == 6 and merged["parts_kept"] == []
    assert not part_path(out, 0, 2).parent.exists()

    single = tmp_path / "single"
    generate(GenerateRequest(profile="tabletop", frames=6, out=single, resolution=(32, 24), seed=5,
                             frames_per_shard=2))
    files = sorted(p.relative_to(out) for p in dataset_files(out))
    assert files == sorted(p.relative_to(single) for p in dataset_files(single))
    for rel in files:
        assert (out / rel).read_bytes() == (single / rel).read_bytes(), rel


def test_shard_runs_resume_and_merge_from_the_cli(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    for k in range(3):
        cmd = _shard_command(out, k, 3)[3:]
        proc = run_cli(*cmd[:-2], "--progress", "none")
        assert proc.returncode == 0, proc.stderr
    again = run_cli(*_shard_command(out, 1, 3)[3:-2], "--progress", "none")  # nothing left to make
    assert again.returncode == 0 and "(0 made now" in again.stdout
    proc = run_cli("dataset", "merge", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"frames_done": 6' in proc.stdout
    verify = run_cli("dataset", "verify", str(out))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_worker_errors_surface_as_one_line(tmp_path: Path) -> None:
    bad = _shard_command(tmp_path / "x", 0, 1)
    bad[bad.index("tabletop")] = str(tmp_path / "missing.toml")
    with pytest.raises(UserError, match="--profile: .*missing.toml"):
        run_workers([bad])


def test_doctor_finds_a_binary_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim2real.doctor import OK, check_isaac

    (tmp_path / "VERSION").write_text("5.1.0-rc.19\n")
    monkeypatch.setenv("ISAAC_SIM_PATH", str(tmp_path))
    check = check_isaac()
    if NO_ISAAC:
        assert check.status == OK and f"5.1.0-rc.19 at {tmp_path}" in check.detail
