"""Training with stable-baselines3: checkpoints, resume after a kill, SAC's replay buffer, the contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from control_helpers import PENDULUM, Interrupt, write_profile
from sim2real.control.config import config_from
from sim2real.control.policy import Policy
from sim2real.control.train import train


def _profile(tmp_path):
    return write_profile(tmp_path / "dr.toml", [
        {"target": "body:pole/mass", "dist": "uniform", "low": 0.8, "high": 1.2},
        {"target": "actuator:slide/latency", "dist": "uniform", "low": 0, "high": 1, "op": "set"}])


def test_ppo_run_writes_the_policy_and_its_contract(tmp_path, monkeypatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where SB3 would leave SB3-<date> folders
    cfg = config_from({"env": PENDULUM, "profile": str(_profile(tmp_path)), "steps": 512, "normalize": True,
                       "hyperparameters": {"n_steps": 256, "batch_size": 64, "n_epochs": 2},
                       "observation_noise": {"white": 0.001}})
    result = train(cfg, tmp_path / "run")
    assert result.summary["steps"] == 512 and result.summary["episodes"] > 0
    policy = Policy.load(tmp_path / "run")
    c = policy.contract
    assert c.observation_names == ["slider.position", "hinge.position", "slider.velocity", "hinge.velocity"]
    assert [s.unit for s in c.observation] == ["m", "rad", "m/s", "rad/s"]
    assert c.action_names == ["slide"] and (c.action[0].low, c.action[0].high) == (-3.0, 3.0)
    assert c.action[0].effort_per_command == 100.0  # N per command unit (gear 100)
    assert c.control_period_s == pytest.approx(0.04) and c.latency_s == (0.0, 0.02)  # 0..1 physics step of 20 ms
    assert c.normalization is not None and len(c.normalization["mean"]) == 4
    assert not list((tmp_path / "run").glob("ckpt-*"))  # the final model supersedes the checkpoints
    again = train(cfg, tmp_path / "run")  # a finished run is not trained again
    assert again.summary == result.summary
    assert not list(scratch.glob("SB3-*"))  # no empty SB3 log folder left behind per run


def test_training_resumes_from_its_checkpoint_after_a_kill(tmp_path) -> None:
    out = tmp_path / "run"
    args = [sys.executable, "-m", "sim2real.cli", "policy", "train", "--env", PENDULUM, "--profile",
            str(_profile(tmp_path)), "--algo", "ppo", "--steps", "2000", "--checkpoint-every", "256",
            "--out", str(out), "--progress", "json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.json").is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert 256 <= checkpoint["steps"] < 2000
    episodes_before = checkpoint["episodes"]
    state = json.loads((out / checkpoint["folder"] / "randomizer_state.json").read_text())
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"resuming from the checkpoint at step {checkpoint['steps']}" in done.stdout
    result = json.loads((out / "result.json").read_text())["summary"]
    assert result["steps"] >= 2000 and result["episodes"] > episodes_before
    # the randomizer continued its episode count: no episode's values were drawn twice
    assert result["randomization"]["episodes"] > state["episode"] + 1
    lines = [json.loads(x) for x in (out / "progress.jsonl").read_text().splitlines()]
    numbers = [r["episode"] for r in lines]
    assert numbers[episodes_before:] == list(range(episodes_before + 1, len(numbers) + 1))


def test_sac_resumes_with_its_replay_buffer_after_ctrl_c(tmp_path) -> None:
    cfg = config_from({"env": PENDULUM, "algo": "sac", "steps": 240, "checkpoint_every": 1000,
                       "hyperparameters": {"learning_starts": 50, "batch_size": 32, "buffer_size": 5000}})
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "run", Interrupt(120))
    info = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    folder = tmp_path / "run" / info["folder"]
    assert (folder / "replay_buffer.pkl").is_file() and info["steps"] >= 120
    from stable_baselines3 import SAC

    saved = SAC.load(folder / "model.zip", device="cpu")
    saved.load_replay_buffer(folder / "replay_buffer.pkl")
    # the transitions so far are kept (Ctrl-C inside a step may cut that step's own transition)
    assert info["steps"] - 1 <= saved.replay_buffer.size() <= info["steps"]
    result = train(cfg, tmp_path / "run")
    assert result.resumed_from == info["steps"] and result.summary["steps"] == 240
