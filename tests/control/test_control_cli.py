"""``sim2real policy`` as a user runs it: train, validate on the SURROGATE robot, export; one-line errors."""

from __future__ import annotations

import json

from control_helpers import PENDULUM, SAFETY, SURROGATE


def test_train_validate_export_from_the_command_line(run_cli, tmp_path) -> None:
    run = tmp_path / "run"
    config = tmp_path / "train.toml"
    config.write_text('hyperparameters = { n_steps = 64, batch_size = 32, n_epochs = 1 }\n')
    r = run_cli("policy", "train", "--config", str(config), "--env", PENDULUM, "--algo", "ppo", "--steps", "128",
                "--out", str(run), "--progress", "json", "--json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith('{"event"')]
    assert any(e["event"] == "progress" and e["task"] == "train" for e in events)
    r = run_cli("policy", "validate", "--policy", str(run), "--surrogate", str(SURROGATE), "--safety", str(SAFETY),
                "--episodes", "2", "--out", str(tmp_path / "val"), "--progress", "none", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["real"]["n"] == 2 and "transfer_ratio" in result
    assert (tmp_path / "val" / "report.html").is_file() and len(list((tmp_path / "val" / "logs").glob("*.csv"))) == 2
    info = json.loads((tmp_path / "val" / "run.json").read_text())
    assert info["kind"] == "policy-validate" and "surrogate" in info["inputs"]["robot"]


def test_user_mistakes_are_one_line_errors(run_cli, tmp_path) -> None:
    r = run_cli("policy", "train", "--env", PENDULUM, "--algo", "dqn", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--algo: expected one of ppo, sac" in r.stderr
    r = run_cli("policy", "export", "--policy", str(tmp_path / "none"), "--out", str(tmp_path / "e"))
    assert r.returncode == 2 and "no trained policy" in r.stderr
    r = run_cli("policy", "train", "--env", "NoSuchEnv-v0", "--out", str(tmp_path / "y"))
    assert r.returncode == 2 and "no environment 'NoSuchEnv-v0'" in r.stderr
    bad = tmp_path / "safety.toml"
    bad.write_text('[[limits]]\nkind = "position"\njoints = "elbow"\nmax = 1.0\n')
    (tmp_path / "run").mkdir()
    r = run_cli("policy", "validate", "--policy", str(tmp_path / "run"), "--surrogate", str(SURROGATE),
                "--safety", str(bad))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
