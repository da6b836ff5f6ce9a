"""``RolloutLog``: joint states of a rollout, handed over as Isaac Lab's articulation data is shaped
(torch tensors ``(num_envs, num_joints)``, root pose ``(num_envs, 7)`` w-x-y-z), written in sim2real's
trajectory format and read as they are by ``sim2real gap trajectories`` and ``sim2real sysid fit``.

The rollout itself is simulated here by the MuJoCo arm (two environments: env 0 with a heavier upper
arm, env 1 nominal): Isaac Lab cannot run on this machine, the logger never imports it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sim2real.errors import LockedError, UserError
from sim2real.trajectory.readers import read_trajectory
from sim2real.isaaclab.rollout import RolloutLog
from sim2real.randomize.profile import parse_profile
from sim2real.randomize.runtime import Randomizer

HEAVIER = 1.2  # env 0's upper-arm mass factor: what sysid must find


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    from testlib import cli

    path = tmp_path_factory.mktemp("excite") / "cmd.csv"
    proc = cli(
        "sysid",
        "excite",
        "--model",
        "arm2",
        "--duration",
        "4",
        "--amplitude",
        "0.6,0.8",
        "--max-velocity",
        "4,6",
        "--band",
        "0.2,4",
        "--seed",
        "5",
        "--out",
        str(path),
    )
    assert proc.returncode == 0, proc.stderr
    traj = read_trajectory(path)
    return traj.select(["cmd.shoulder", "cmd.elbow"]).values  # 100 Hz


def _rollout(commands: np.ndarray, out: Path, fmt: str = "csv", done_at: int | None = None) -> list[Path]:
    """Two MuJoCo arms stepped like an Isaac Lab env (decimation 5 at 2 ms): after every step the
    logger gets torch tensors shaped as ``robot.data``."""
    from sim2real.backends.mujoco.backend import MujocoBackend

    envs = []
    for factor in (HEAVIER, 1.0):
        b = MujocoBackend()
        b.load("arm2")
        terms = [{"target": "body:upper_arm/mass", "dist": "constant", "value": factor, "op": "scale"}]
        b.apply(Randomizer(parse_profile({"terms": terms}), 0, b.entities()).reset(0))
        envs.append(b)
    root = torch.tensor([[0.1, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0]] * 2, dtype=torch.float32)
    with RolloutLog(out, ["shoulder", "elbow"], envs=[0, 1], fmt=fmt, start_ns=1_700_000_000 * 10**9) as log:
        for k, u in enumerate(commands):
            pos = torch.tensor(np.stack([b.data.qpos.copy() for b in envs]), dtype=torch.float64)
            vel = torch.tensor(np.stack([b.data.qvel.copy() for b in envs]), dtype=torch.float64)
            dones = torch.tensor([False, k == done_at])
            log.record(
                k * 0.01,
                pos,
                vel,
                joint_pos_target=torch.tensor(np.stack([u, u])),
                root_pose_w=root,
                dones=dones,
            )
            for b in envs:
                b.set_control(u)
                b.step(5)
    return log.written


def test_the_log_is_the_trajectory_format(commands: np.ndarray, tmp_path: Path) -> None:
    files = _rollout(commands, tmp_path / "rollout", done_at=199)
    assert sorted(f.name for f in files) == ["env0_ep0.csv", "env1_ep0.csv", "env1_ep1.csv"]
    header = (tmp_path / "rollout" / "env0_ep0.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["sec", "nanosec"] and "shoulder.position" in header and "cmd.elbow" in header
    traj = read_trajectory(tmp_path / "rollout" / "env0_ep0.csv")
    assert len(traj) == len(commands) and traj.stamp_ns[0] == 1_700_000_000 * 10**9
    assert np.all(np.diff(traj.stamp_ns) == 10_000_000)  # exact 10 ms, sec + nanosec joined
    np.testing.assert_array_equal(traj.select(["qw", "qx", "qy", "qz"]).values[0], [1.0, 0.0, 0.0, 0.0])
    episodes = [read_trajectory(tmp_path / "rollout" / f"env1_ep{i}.csv") for i in (0, 1)]
    # env 1's episode ended at step 199: Isaac Lab has already reset it, so that state starts episode 1
    assert [len(e) for e in episodes] == [199, len(commands) - 199]


def test_parquet_and_one_writer_per_folder(commands: np.ndarray, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    files = _rollout(commands[:50], tmp_path / "pq", fmt="parquet")
    traj = read_trajectory(files[0])
    assert len(traj) == 50 and "elbow.velocity" in traj.channels
    with RolloutLog(tmp_path / "busy", ["a"]), pytest.raises(LockedError):
        RolloutLog(tmp_path / "busy", ["a"])
    with RolloutLog(tmp_path / "shape", ["a", "b"]) as log, pytest.raises(UserError, match="num_envs, 2"):
        log.record(0.0, torch.zeros(1, 3), torch.zeros(1, 3))


def test_gap_trajectories_and_sysid_take_the_logs(commands: np.ndarray, tmp_path: Path, run_cli) -> None:
    files = _rollout(commands, tmp_path / "rollout")
    heavy, nominal = (str(tmp_path / "rollout" / f"env{e}_ep0.csv") for e in (0, 1))
    proc = run_cli(
        "gap",
        "trajectories",
        nominal,
        heavy,
        "--out",
        str(tmp_path / "gap"),
        "--json",
        "--channels",
        "shoulder.position,elbow.position",
    )
    assert proc.returncode == 0, proc.stderr
    gap = json.loads(proc.stdout)
    proc = run_cli(
        "gap",
        "trajectories",
        nominal,
        nominal,
        "--out",
        str(tmp_path / "gap0"),
        "--json",
        "--channels",
        "shoulder.position,elbow.position",
    )
    same = json.loads(proc.stdout)
    assert _rmse(gap) > 1e-3 and _rmse(same) < 1e-12, (gap, same)
    out = tmp_path / "fit"
    proc = run_cli(
        "sysid",
        "fit",
        "--model",
        "arm2",
        "--log",
        heavy,
        "--params",
        "body:upper_arm/mass",
        "--out",
        str(out),
        "--json",
        "--progress",
        "none",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["parameters"]["body:upper_arm/mass"] == pytest.approx(HEAVIER, rel=0.01)
    assert len(files) == 2 and sys.modules.get("isaaclab") is None


def _rmse(report: dict) -> float:
    """The largest per-channel RMSE in a ``gap trajectories --json`` result."""
    found: list[float] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "rmse" and isinstance(v, int | float):
                    found.append(float(v))
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(report)
    assert found, report
    return max(found)
