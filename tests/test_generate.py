"""`sim2real generate` on the real MuJoCo backend: round trip, determinism across worker counts and
executors, real SIGKILLs of real generator processes at random points and resume, lock refusal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from testlib import REPO

from sim2real.dataset.reader import Dataset
from sim2real.dataset.store import dataset_files
from sim2real.dataset.verify import verify
from sim2real.errors import UserError
from sim2real.generate.ray_executor import work_items
from sim2real.cli_common import parse_resolution
from sim2real.generate.request import GenerateRequest

FRAMES = 16
BASE = ["generate", "--profile", "tabletop", "--resolution", "64x48", "--seed", "3", "--progress", "json"]


def command(out: Path, frames: int = FRAMES, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", *BASE, "--frames", str(frames), "--out", str(out), *extra]


def run(out: Path, frames: int = FRAMES, *extra: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    proc = subprocess.run(command(out, frames, *extra), capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc, events


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in dataset_files(root)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """One uninterrupted single-process run that the other tests compare against."""
    out = tmp_path_factory.mktemp("generate") / "reference"
    proc, events = run(out)
    assert proc.returncode == 0, proc.stderr
    return out, events


# ------------------------------------------------------------------------------------ pure parts
def test_work_items_stay_inside_shards() -> None:
    items = list(work_items([0, 1, 2, 5, 6, 7, 8, 9, 13], frames_per_shard=5, chunk=2))
    assert items == [[0, 1], [2], [5, 6], [7, 8], [9], [13]]


def test_request_checks_are_one_line_user_errors() -> None:
    with pytest.raises(UserError, match="--frames"):
        GenerateRequest(profile="p", frames=0, out=Path("x"))
    with pytest.raises(UserError, match="--executor: expected one of local, ray"):
        GenerateRequest(profile="p", frames=1, out=Path("x"), executor="dask")
    with pytest.raises(UserError, match="--resolution: expected WIDTHxHEIGHT"):
        parse_resolution("640by480")
    assert parse_resolution("320X240") == (320, 240)


# --------------------------------------------------------------------------------- generation
def test_generated_dataset_round_trips_and_reports_progress(reference: tuple[Path, list[dict]]) -> None:
    out, events = reference
    assert verify(out).ok
    ds = Dataset(out)
    assert len(ds) == FRAMES and ds.manifest.complete
    assert ds.spec.backend == "mujoco" and ds.spec.resolution == (64, 48) and ds.spec.seed == 3
    assert ds.manifest.versions["mujoco"]
    frame = ds[5]
    assert frame.rgb.shape == (48, 64, 3) and frame.depth.shape == (48, 64)
    assert frame.sample, "every frame records its randomization sample"
    assert any(key.startswith("light:") for key in frame.sample)
    assert set(np.unique(frame.semantic)) <= set(ds.labels)
    for inst in frame.instances:
        if inst.box is not None:  # tight half-open boxes enclose exactly the instance's pixels
            x0, y0, x1, y1 = inst.box
            mask = frame.instance == inst.id
            assert mask[y0:y1, x0:x1].sum() == mask.sum() == inst.visible_pixels
    progress = [e for e in events if e["event"] == "progress" and e["task"] == "generate"]
    assert progress[-1]["done"] == FRAMES and progress[-1]["total"] == FRAMES and progress[-1]["final"]
    assert any(e["rate"] is not None for e in progress) and "eta_s" in progress[-1]
    previews = [e for e in events if e["event"] == "artifact" and e["kind"] == "sample_image"]
    assert previews and Path(previews[0]["path"]).is_file()
    result = [e for e in events if e["event"] == "result"][-1]["payload"]
    assert result["made"] == FRAMES and result["already_done"] == 0
    runtime = [json.loads(line) for line in (out / "runtime.jsonl").read_text().splitlines()]
    assert runtime[-1]["frames_written"] == FRAMES and runtime[-1]["workers"] == 1


def test_two_workers_give_the_same_bytes(reference: tuple[Path, list[dict]], tmp_path: Path) -> None:
    proc, _ = run(tmp_path / "two", FRAMES, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert tree_bytes(tmp_path / "two") == tree_bytes(reference[0])


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _committed(out: Path) -> int:
    return sum(1 for p in out.glob("shards/*/*.json") if p.name != "index.json")


def test_sigkill_at_random_points_then_resume_is_byte_identical(reference: tuple[Path, list[dict]],
                                                                tmp_path: Path) -> None:
    out = tmp_path / "killed"
    rng = np.random.default_rng(20261121)
    kills = 0
    for round_ in range(4):
        workers = "2" if round_ % 2 else "1"
        before = _committed(out)
        if before >= FRAMES:
            break
        proc = subprocess.Popen(command(out, FRAMES, "--workers", workers), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, cwd=REPO)
        # kill once a random number of further frames is committed (0: somewhere in start-up)
        target = before + int(rng.integers(0, max(1, (FRAMES - before) // 2) + 1))
        deadline = time.monotonic() + 120
        if target == before:
            time.sleep(float(rng.uniform(0.05, 1.0)))
        while _committed(out) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        children = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        for _ in range(500):  # workers die with their parent
            if not any(_alive(c) for c in children):
                break
            time.sleep(0.01)
        assert not any(_alive(c) for c in children), "generator workers outlived their killed parent"
    assert kills >= 3
    committed = _committed(out)
    proc, events = run(out, FRAMES, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    result = [e for e in events if e["event"] == "result"][-1]["payload"]
    assert result["already_done"] == committed and result["made"] == FRAMES - committed
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    report = verify(out)
    assert report.ok and report.problems == []
    assert tree_bytes(out) == tree_bytes(reference[0])


def test_second_generator_is_refused_and_other_settings_are_one_line_errors(
        reference: tuple[Path, list[dict]], tmp_path: Path) -> None:
    out = tmp_path / "locked"
    first = subprocess.Popen(command(out, 400), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not (out / "manifest.json").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        proc, _ = run(out, 400)
        assert proc.returncode == 2
        assert f"another sim2real process is generating it (pid {first.pid})" in proc.stderr
    finally:
        first.kill()
        first.wait()
    proc, _ = run(reference[0], FRAMES, "--seed", "4")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds a different dataset (seed 3 vs 4" in lines[0]


@pytest.mark.slow
def test_ray_executor_merges_shards_into_the_same_dataset(reference: tuple[Path, list[dict]], tmp_path: Path) -> None:
    """Local Ray (2 CPUs): actors render runs of frames in their shards; one manifest, same bytes."""
    out = tmp_path / "ray"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.run(command(out, FRAMES, "--executor", "ray", "--workers", "2"), capture_output=True,
                          text=True, timeout=600, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert tree_bytes(out) == tree_bytes(reference[0])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_with_130_and_keeps_every_finished_frame(tmp_path: Path, workers: str) -> None:
    """Ctrl-C: exit 130; what was committed is indexed, what was half-written is gone (verify is clean)."""
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(command(out, 400, "--workers", workers), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    deadline = time.monotonic() + 120
    while _committed(out) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "interrupted: finished results are kept; run the same command again to resume" in err
    report = verify(out)
    assert report.ok and not report.complete
    assert [p.message for p in report.problems] == [f"incomplete: {report.frames_checked} of 400 frames (re-run the generator)"]
    assert report.frames_checked >= 3
    assert report.frames_checked == _committed(out)  # every finished frame is indexed, workers' too
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
