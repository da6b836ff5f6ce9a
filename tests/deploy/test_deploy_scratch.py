"""A run killed during INT8 calibration (or while building a bundle) left its scratch folder in the
temp directory for good (issue 22): now the next run removes every such folder no live process
holds. Real processes are killed with SIGKILL; the quantization is onnxruntime's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from sim2real.deploy.quantize import quantize_int8

PREFIX = "sim2real-int8-"
# a child that quantizes like `sim2real export --int8` and is SIGKILLed inside the calibration
KILLED_IN_CALIBRATION = """
import os, signal, sys
import numpy as np
import onnxruntime.quantization as q
from sim2real.deploy import quantize
q.quantize_static = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
quantize.quantize_int8(sys.argv[1], sys.argv[2], np.load(sys.argv[3]))
"""
HOLDS_ONE = """
import sys, time
from sim2real.scratch import scratch_dir
with scratch_dir("sim2real-int8-"):
    print("in", flush=True)
    time.sleep(120)
"""


def _age(folder: Path, seconds: float = 3600) -> None:
    old = time.time() - seconds
    os.utime(folder, (old, old))


def _left(tmp: Path) -> list[Path]:
    return sorted(tmp.glob(f"{PREFIX}*"))


def test_a_killed_calibration_leaves_nothing_the_next_run_does_not_remove(
        tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim2real.deploy import evalset, export
    from sim2real.train.runfolder import load_model

    model, spec = load_model(tiny_run)
    calib = evalset.load_calibration(tiny_run, spec, 8, 0).prepared(spec)
    fp32 = export.export_onnx(tiny_run, tmp_path / "m.onnx", calib, loaded=(model, spec)).path
    np.save(tmp_path / "calib.npy", calib)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    child = subprocess.run([sys.executable, "-c", KILLED_IN_CALIBRATION, str(fp32), str(tmp_path / "q.onnx"),
                            str(tmp_path / "calib.npy")], env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    (left,) = _left(temp)  # the kill skipped the clean-up, as it does today
    assert (left / "work" / "pre.onnx").is_file() or any(left.rglob("*.onnx"))

    _age(left)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    quantize_int8(fp32, tmp_path / "q.onnx", calib)
    assert (tmp_path / "q.onnx").is_file()
    assert _left(temp) == []  # the killed run's folder is gone, and this run's own


def test_a_live_runs_folder_and_one_just_made_are_left_alone(tmp_path: Path) -> None:
    from sim2real.scratch import reclaim, scratch_dir

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDS_ONE], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "in"
        (held,) = _left(tmp_path)
        _age(held)
        assert reclaim(PREFIX, tmp_path) == 0 and held.is_dir()  # locked by a live process
    finally:
        holder.kill()
        holder.wait()
    assert reclaim(PREFIX, tmp_path) == 1 and not held.exists()  # killed: its lock died with it
    fresh = tmp_path / f"{PREFIX}fresh"
    fresh.mkdir()  # no lock yet: either just made, or its maker died at once
    assert reclaim(PREFIX, tmp_path) == 0 and fresh.is_dir()
    _age(fresh)
    with scratch_dir(PREFIX, tmp_path) as work:
        assert work.is_dir() and not fresh.exists()
        assert [p.name for p in work.iterdir()] == []  # the lock lives beside, not in, what the caller writes
    assert _left(tmp_path) == []
