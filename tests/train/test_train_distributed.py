"""Training on several processes: DDP needs no unused-parameter search (every parameter of every task
and method gets a gradient each step), per-rank seeding, and a real ``torchrun --nproc_per_node 2``
(gloo on CPU) run that is SIGKILLed after a checkpoint and resumed to the same epoch count."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from testlib import REPO, descendants, kill_tree
from train_helpers import TINY, make_dataset

from sim2real.errors import ConfigError
from sim2real.train import runfolder as rf
from sim2real.train.config import load_config
from sim2real.train.distributed import Dist
from sim2real.train.methods import METHODS, make_method
from sim2real.train.config import TASK_ARCHES
from sim2real.train.detect import encode
from sim2real.train.models import CenterNet, EdgeClassifier, LeNet, SegNet, StateNet
from sim2real.train.taskmap import make_task
from sim2real.train.tasks import Norm
from sim2real.train.trainer import Step

N = 4


def _case(arch: str) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A small model of ``arch`` with a source batch and its labels."""
    g = torch.Generator().manual_seed(0)
    images, classes = torch.rand(N, 3, 16, 16, generator=g), torch.tensor([0, 1, 2, 0])
    if arch == "segnet":
        return SegNet(3, 3, (8, 16)), images, torch.randint(0, 3, (N, 16, 16), generator=g)
    if arch == "edge-classifier":
        return EdgeClassifier(3, 3, (8, 8, 8, 8), hidden=8), images, classes
    if arch == "lenet":
        return LeNet(3, 3, (8, 8), hidden=8, input_size=(16, 16)), images, classes
    if arch == "centernet":  # one box per image, heatmaps and box targets at stride 4 as the detect task makes them
        boxes = [np.array([[2.0, 3.0, 11.0, 12.0, float(c)]], np.float32) for c in classes.tolist()]
        return CenterNet(3, 3, (8, 16, 16)), images, torch.from_numpy(np.stack([encode(b, 3, (4, 4), 4) for b in boxes]))
    return StateNet(4, 2, (8, 8)), torch.rand(N, 4, generator=g), torch.rand(N, 2, generator=g)


CASES = [(t, a, m, "features") for t, arches in TASK_ARCHES.items() for a in arches for m in sorted(METHODS)]
CASES += [(t, a, "dann", "output") for t, arches in TASK_ARCHES.items() if t in ("segment", "classify") for a in arches]


def test_the_gradient_cases_cover_every_architecture() -> None:
    """A model added to TASK_ARCHES without a case in _case would silently be tested as a StateNet."""
    built = {type(_case(a)[0]).arch for arches in TASK_ARCHES.values() for a in arches}
    assert built == {a for arches in TASK_ARCHES.values() for a in arches}


@pytest.mark.parametrize(("task", "arch", "method", "dann_input"), CASES)
def test_every_parameter_gets_a_gradient_so_ddp_needs_no_unused_parameter_search(task: str, arch: str, method: str,
                                                                                   dann_input: str) -> None:
    """What DistributedDataParallel without ``find_unused_parameters`` requires: a parameter that gets
    no gradient would leave its all-reduce waiting (DDP raises at the next step)."""
    torch.manual_seed(0)
    model, xs, ys = _case(arch)
    cfg = load_config(None, {"task": task, "method": method, "dann_input": dann_input})
    on_output = dann_input == "output"
    dim = 3 if on_output else model.feature_dim
    task_ = make_task(cfg, ["a", "b", "c"])
    if task == "state":
        task_.target_norm = Norm([0.0, 0.0], [1.0, 1.0])  # type: ignore[attr-defined]
    step = Step(model, make_method(method, dim, maps=model.feature_maps), task_, on_output)
    uses_target = step.method.uses_target and method != "adabn"  # as the trainer feeds it
    loss, _ = step(xs, ys, xs.flip(0) * 0.5 if uses_target else None, 0.5, 1.0, torch.Generator().manual_seed(1))
    loss.backward()
    missing = [name for name, p in step.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient for {missing}"


def test_batch_must_split_evenly_and_each_rank_augments_with_its_own_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "1")
    one = Dist("cpu")
    one.world = 3  # the checks only, no process group
    with pytest.raises(ConfigError, match="batch_size: expected a multiple of the 3 torchrun processes"):
        one.check_batch(32)
    one.check_batch(33)
    seeds = []
    for rank in range(3):
        one.rank = rank
        seeds.append(one.seed(7))
    assert seeds[0] == 7 and len(set(seeds)) == 3  # rank 0 is the single-process stream


# ----------------------------------------------------------------------------- real torchrun
def _torchrun(data: Path, out: Path) -> list[str]:
    torchrun = Path(sys.executable).with_name("torchrun")
    return [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "sim2real.cli", "train",
            "--data", str(data / "src"), "--target", str(data / "tgt"), "--method", "coral", "--epochs", "2",
            "--seed", "3", "--out", str(out), "--config", str(data / "tiny.toml"), "--progress", "json"]


@pytest.fixture
def launched() -> Iterator[list[subprocess.Popen[str]]]:
    """torchrun launches; whatever the test did, torchrun and every rank it started are SIGKILLed."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        kill_tree(proc)


def _start(cmd: list[str], launched: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "exts" / "sim2real"), "OMP_NUM_THREADS": "1"}
    # files, not pipes: two launches run at once and the one not read yet must never block on a full pipe
    logs = (tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+"))
    proc = subprocess.Popen(cmd, stdout=logs[0], stderr=logs[1], text=True, cwd=REPO, env=env)
    proc.logs = logs  # type: ignore[attr-defined]
    launched.append(proc)
    return proc


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.wait(timeout=400)
    out, err = (f.seek(0) or f.read() for f in proc.logs)  # type: ignore[attr-defined]
    assert proc.returncode == 0, err[-3000:]
    assert "find_unused_parameters" not in err  # the warning DDP gives for a needless graph search
    return out, err


@pytest.mark.slow  # three torchrun launches of two ranks each (~15 s apiece on 2 idle cores; two run at once)
def test_torchrun_two_ranks_rank0_writes_and_sigkill_of_all_resumes(tmp_path: Path, launched: list) -> None:
    (tmp_path / "tiny.toml").write_text(TINY)
    make_dataset(tmp_path / "src", 16, width=32, height=24)  # a few steps per rank and epoch
    make_dataset(tmp_path / "tgt", 8, seed=1, real=True, width=32, height=24)
    full = _start(_torchrun(tmp_path, tmp_path / "full"), launched)  # the uninterrupted run, alongside
    killed = tmp_path / "killed"
    proc = _start(_torchrun(tmp_path, killed), launched)
    deadline = time.monotonic() + 300
    while not (killed / rf.METRICS).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # metrics.json: written after epoch 1's checkpoint
    ranks = descendants(proc.pid)
    kill_tree(proc)  # torchrun and both ranks, SIGKILLed in epoch 2
    assert proc.returncode == -signal.SIGKILL and len(ranks) >= 2 and rf.checkpoint_epochs(killed) == [1]

    resumed = _start(_torchrun(tmp_path, killed), launched)
    out, _ = _finish(full)
    results = [json.loads(line) for line in out.splitlines() if '"event": "result"' in line]
    assert len(results) == 1 and results[0]["payload"]["epochs_done"] == 2  # rank 0 alone reports...
    assert len(list((tmp_path / "full" / "tb").iterdir())) == 1  # ...and writes
    out, _ = _finish(resumed)
    assert "after epoch 1 of 2" in out, out[-2000:]
    assert json.loads((killed / rf.METRICS).read_text())["epochs_done"] == 2
    a, b = (rf.load_torch(rf.checkpoint_path(run, 2)) for run in (tmp_path / "full", killed))
    # bit for bit: each rank's augmentation stream was saved and restored with the checkpoint
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert len(b["rng"]["augment_ranks"]) == 2
