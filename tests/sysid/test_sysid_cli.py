"""``sim2real sysid`` as a user runs it: excite → simulate (surrogate) → fit, JSON progress, one-line
errors for bad input, one writer per output folder, Ctrl-C and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sim2real.fsutil import DirLock
from sim2real.randomize.profile import load_profile

REPO = Path(__file__).resolve().parents[2]
SURROGATE = str(REPO / "data" / "sysid" / "arm2_surrogate.toml")
PARAMS = str(REPO / "data" / "sysid" / "arm2_params.toml")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from testlib import cli

    folder = tmp_path_factory.mktemp("cli_logs")
    out = []
    for seed in (1, 2):
        cmd, log = folder / f"cmd{seed}.csv", folder / f"real{seed}.csv"
        proc = cli("sysid", "excite", "--model", "arm2", "--duration", "5", "--amplitude", "0.6,0.8",
                   "--max-velocity", "4,6", "--band", "0.2,4", "--seed", str(seed), "--out", str(cmd))
        assert proc.returncode == 0, proc.stderr
        proc = cli("sysid", "simulate", "--surrogate", SURROGATE, "--commands", str(cmd), "--out", str(log),
                   "--seed", str(seed), "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["surrogate"] is True
        out.append(log)
    return out


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_fit_end_to_end_with_json_progress(logs: list[Path], tmp_path: Path, run_cli) -> None:
    out = tmp_path / "fit"
    proc = run_cli("sysid", "fit", "--model", "arm2", "--log", str(logs[0]), "--log", str(logs[1]), "--params", PARAMS,
                   "--out", str(out), "--progress", "json")
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    assert events[0]["event"] == "hello"
    fit_progress = [e for e in events if e["event"] == "progress" and e["task"] == "fit"]
    assert fit_progress and fit_progress[-1]["final"] and "cost" in fit_progress[-1]
    result = next(e for e in events if e["event"] == "result")["payload"]
    truth = {"body:upper_arm/mass": 1.2, "body:forearm/mass": 0.85, "actuator:shoulder/kp": 0.9,
             "actuator:elbow/kp": 1.12, "actuator:shoulder/kv": 1.25, "actuator:elbow/kv": 0.8,
             "actuator:*/latency": 6, "sensor:shoulder_pos/bias": 0.01}
    for name, value in truth.items():
        assert result["parameters"][name] == pytest.approx(value, rel=0.05), name
    assert result["rmse_ratio_mean"] < 0.2 and result["converged"]
    profile = load_profile(out / "calibrated.toml")
    latency = profile.term("calibrated actuator:*/latency")  # one delay identified: one term, one draw
    assert profile.scene == "arm2" and latency.shared and latency.dist == "constant" and latency.value == 6
    html = (out / "report.html").read_text()
    assert "Identified parameters" in html and "Held-out validation" in html
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "sysid" and run["inputs"]["logs"][0]["sha256"]
    with DirLock(out, purpose="test"):  # a second writer on the same folder is refused
        proc = run_cli("sysid", "fit", "--model", "arm2", "--log", str(logs[0]), "--params", PARAMS, "--out", str(out))
    assert proc.returncode == 2 and "sysid fit" not in proc.stdout


def _bad(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def test_bad_input_is_one_line_with_exit_2(logs: list[Path], tmp_path: Path, run_cli) -> None:
    lines = logs[0].read_text().splitlines()
    header, rows = lines[0], lines[1:]
    nan_row = rows[50].split(",")
    nan_row[5] = "nan"
    cases = {
        "unknown parameter": (str(logs[0]), "body:uper_arm/mass",
                              ("--params: params[0] 'body:uper_arm/mass': expected a body name of arm2.xml (known: "
                               "arm, upper_arm, forearm)")),
        "nan": (_bad(tmp_path, "nan.csv", "\n".join([header, *rows[:50], ",".join(nan_row), *rows[51:]])),
                "body:upper_arm/mass", "missing or non-finite value(s), first at data row 51"),
        "gap": (_bad(tmp_path, "gap.csv", "\n".join([header, *rows[:100], *rows[200:]])), "body:upper_arm/mass",
                "a gap of 1.01 s in the measurements at 0.99 s from the start"),
        "short": (_bad(tmp_path, "short.csv", "\n".join([header, *rows[:60]])), PARAMS,
                  "fitted measurement rows for 8 parameters; expected at least 20 per parameter"),
        "units": (_bad(tmp_path, "units.csv", "\n".join([header.replace("shoulder_pos [rad]", "shoulder_pos [mm]"),
                                                         *rows])), "body:upper_arm/mass",
                  "column 'shoulder_pos [mm]': expected angle in rad or a convertible unit"),
    }
    for case, (log, params, message) in cases.items():
        proc = run_cli("sysid", "fit", "--model", "arm2", "--log", log, "--params", params, "--out",
                       str(tmp_path / f"out_{case}"), "--progress", "none")
        assert proc.returncode == 2, (case, proc.stderr)
        assert message in proc.stderr.replace("\n", " "), (case, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) <= 2, (case, proc.stderr)  # one line (rich may wrap it once)


def test_ctrl_c_keeps_the_checkpoint_and_the_rerun_resumes(logs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "fit"
    args = [sys.executable, "-m", "sim2real.cli", "sysid", "fit", "--model", "arm2", "--log", str(logs[0]), "--log",
            str(logs[1]), "--params", PARAMS, "--out", str(out), "--progress", "json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            e = json.loads(line)
            if e["event"] == "metric" and e["series"] == "fit":  # an iteration finished: interrupt the next
                proc.send_signal(signal.SIGINT)
                break
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert any(json.loads(x)["event"] == "error" and json.loads(x)["kind"] == "interrupted" for x in rest.splitlines())
    saved = json.loads((out / "checkpoint.json").read_text())
    assert saved["iteration"] >= 1 and not (out / "result.json").exists()
    again = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    messages = [e["text"] for e in _events(again.stdout) if e["event"] == "message"]
    assert f"resuming from the checkpoint of iteration {saved['iteration']}" in messages
    result = json.loads((out / "result.json").read_text())
    assert result["fit"]["resumed_from_iteration"] == saved["iteration"]
    assert np.isfinite(result["validation"]["rmse_ratio_mean"])
