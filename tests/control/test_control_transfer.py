"""The transfer validator, the progressive transfer loop and ONNX export with its replay check."""

from __future__ import annotations

import json

import numpy as np
import pytest
from control_helpers import PARAMS, PENDULUM, SAFETY, SURROGATE, write_profile
from sim2real.control.config import config_from
from sim2real.control.policy import Policy
from sim2real.control.robots import SurrogateRobotInterface
from sim2real.control.safety import load_safety
from sim2real.control.train import train
from sim2real.control.transfer import ProgressiveTransfer, TransferOptions, split_log
from sim2real.control.validate import assess
from sim2real.sysid.surrogate import load_spec


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    """A tiny PPO policy (it does not balance yet: these tests check the plumbing, not the skill)."""
    root = tmp_path_factory.mktemp("ppo")
    profile = write_profile(root / "dr.toml", [
        {"name": "pole", "target": "body:pole/mass", "dist": "uniform", "low": 0.8, "high": 1.2}])
    cfg = config_from({"env": PENDULUM, "profile": str(profile), "steps": 256, "normalize": True,
                       "hyperparameters": {"n_steps": 128, "batch_size": 64, "n_epochs": 1}})
    train(cfg, root / "run")
    return root / "run"


def test_assess_compares_simulation_and_robot_with_the_gap_metrics(ppo_run) -> None:
    policy = Policy.load(ppo_run)
    cfg = config_from(json.loads((ppo_run / "config.json").read_text()))
    robot = SurrogateRobotInterface(load_spec(SURROGATE), policy.contract.control_period_s)
    robot.connect()
    t = assess(policy, cfg, robot, episodes=3, seed=0, safety=load_safety(SAFETY))
    again = assess(policy, cfg, robot, episodes=3, seed=0, safety=load_safety(SAFETY))
    robot.disconnect()
    m = t.metrics
    assert m["transfer_ratio"] == pytest.approx(np.mean(t.real.returns) / np.mean(t.sim.returns))
    assert m["performance_gap"] == pytest.approx(np.mean(t.sim.returns) - np.mean(t.real.returns))
    assert m["success_rate_real"] == np.mean(t.real.successes) and "assessment" in m
    assert len(t.logs) == 3 and all("surrogate" in lg.source for lg in t.logs)
    assert again.real.returns == t.real.returns  # the surrogate restarts its hidden draws per evaluation


def test_split_log_cuts_windows_of_the_given_length(ppo_run) -> None:
    from sim2real.sysid.logs import make_log

    stamps = 1_700_000_000_000_000_000 + np.arange(100) * 40_000_000  # 4 s at 25 Hz
    lg = make_log(stamps, np.zeros((100, 1)), ["slide"], [""], np.arange(100.0)[:, None], ["x"], ["m"], "log")
    windows = split_log(lg, 1.0, "log")
    assert len(windows) == 4 and all(len(w.measurements.stamp_ns) == 25 for w in windows)
    assert windows[1].measurements.values[0, 0] == 25.0


def test_progressive_transfer_round_identifies_narrows_finetunes_and_resumes(ppo_run, tmp_path) -> None:
    spec = load_spec(SURROGATE)
    robot = SurrogateRobotInterface(spec, 0.04)
    opts = TransferOptions(rounds=1, episodes=8, finetune_steps=128, params=str(PARAMS), window_s=0.4,
                           sysid_iterations=5, safety_start=0.8)
    loop = ProgressiveTransfer(ppo_run, robot, load_safety(SAFETY), opts, tmp_path / "t", truth=robot.truth)
    history = loop.run()
    assert [h["evaluation"] for h in history] == [0, 1]
    assert history[0]["safety_factor"] == 0.8 and history[1]["safety_factor"] == 1.0
    rnd = tmp_path / "t" / "round-0"
    profile = (rnd / "profile.toml").read_text()
    assert "calibrated actuator:slide/latency" in profile and "calibrated body:pole/mass" in profile
    result = json.loads((rnd / "sysid" / "result.json").read_text())
    assert {e["key"] for e in result["calibrated"]} == {"body:pole/mass", "joint:hinge/damping",
                                                         "actuator:slide/latency", "actuator:slide/gear",
                                                         "joint:slider/frictionloss", "joint:slider/damping"}
    finetuned = json.loads((rnd / "policy" / "run.json").read_text())
    assert finetuned["parents"]["init"] == str(ppo_run.resolve())  # fine-tuned from the previous policy
    lines = (tmp_path / "t" / "history.jsonl").read_text().splitlines()
    assert [json.loads(x)["evaluation"] for x in lines] == [0, 1]
    html = (tmp_path / "t" / "report.html").read_text()
    assert "Transfer ratio per round" in html and "hidden truth" in html
    stamp = (rnd / "evaluation.json").stat().st_mtime_ns
    again = ProgressiveTransfer(ppo_run, SurrogateRobotInterface(spec, 0.04), load_safety(SAFETY), opts,
                                tmp_path / "t").run()
    assert again == history and (rnd / "evaluation.json").stat().st_mtime_ns == stamp  # nothing redone


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_the_onnx_policy_replays_mujoco_exactly_as_the_pytorch_one(algo, ppo_run, tmp_path) -> None:
    import onnx
    from sim2real.control.export import OnnxPolicy, export_policy

    run = ppo_run
    if algo == "sac":
        cfg = config_from({"env": PENDULUM, "algo": "sac", "steps": 120, "normalize": True,
                           "hyperparameters": {"learning_starts": 40, "batch_size": 32, "buffer_size": 1000}})
        run = tmp_path / "sac"
        train(cfg, run)
    result = export_policy(run, tmp_path / "export", episodes=1, max_steps=150)
    replay = result["replay"]
    assert replay["passed"] and replay["steps"] > 0
    assert replay["max_action_diff"] < 1e-5 and replay["max_observation_diff"] < 1e-5
    model = onnx.load(tmp_path / "export" / "policy.onnx")
    assert [i.name for i in model.graph.input] == ["observation"] and [o.name for o in model.graph.output] == ["action"]
    contract = json.loads((tmp_path / "export" / "contract.json").read_text())
    assert [s["name"] for s in contract["observation"]] == ["slider.position", "hinge.position", "slider.velocity",
                                                            "hinge.velocity"]
    assert contract["action"][0]["effort_per_command"] == 100.0 and contract["control_period_s"] == pytest.approx(0.04)
    onnx_policy, torch_policy = OnnxPolicy(tmp_path / "export" / "policy.onnx"), Policy.load(run)
    batch = np.random.default_rng(0).normal(0, [0.5, 0.2, 1.0, 2.0], (64, 4)) * 5  # outside the bounds too
    out = onnx_policy.session.run(["action"], {"observation": batch.astype(np.float32)})[0]
    expected = np.array([torch_policy.act(o) for o in batch])
    assert np.abs(out - expected).max() < 1e-5 and out.min() >= -3.0 and out.max() <= 3.0
