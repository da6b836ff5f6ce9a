"""``sim2real sysid`` as a user runs it: excite → simulate (surrogate) → fit, JSON progress, one-line
errors for bad input, one writer per output folder, Ctrl-C or SIGKILL mid-fit and a resume to the same result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

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


def _fit_args(logs: list[Path], out: Path) -> list[str]:
    return [sys.executable, "-m", "sim2real.cli", "sysid", "fit", "--model", "arm2", "--log", str(logs[0]), "--log",
            str(logs[1]), "--params", PARAMS, "--out", str(out), "--progress", "json"]


@pytest.fixture(scope="module")
def whole_fit(logs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One uninterrupted ``sysid fit`` (the reference of the interrupted ones)."""
    out = tmp_path_factory.mktemp("whole") / "fit"
    return out, subprocess.run(_fit_args(logs, out), capture_output=True, text=True, timeout=600, check=False)


def test_fit_end_to_end_with_json_progress(logs: list[Path], whole_fit, run_cli) -> None:
    out, proc = whole_fit
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


def _interrupted(args: list[str], sig: signal.Signals, at: int) -> str:
    """Run ``args``, send ``sig`` once the ``at``-th fit iteration is reported; the rest of its stdout."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            e = json.loads(line)
            if e["event"] == "metric" and e["series"] == "fit" and e["step"] >= at:  # interrupt the next iteration
                proc.send_signal(sig)
                break
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
    return rest


@pytest.mark.parametrize(("sig", "at"), [(signal.SIGINT, 1), (signal.SIGKILL, 3)], ids=["ctrl-c", "sigkill"])
def test_an_interrupted_fit_resumes_from_its_checkpoint_to_the_same_result(logs: list[Path], whole_fit, tmp_path: Path,
                                                                           sig: signal.Signals, at: int) -> None:
    out = tmp_path / "fit"
    args = _fit_args(logs, out)
    rest = _interrupted(args, sig, at)
    if sig == signal.SIGINT:  # Ctrl-C says so; SIGKILL leaves no word, only the checkpoint
        assert any(json.loads(x)["event"] == "error" and json.loads(x)["kind"] == "interrupted"
                   for x in rest.splitlines())
    saved = json.loads((out / "checkpoint.json").read_text())
    assert saved["iteration"] >= at and not (out / "result.json").exists()
    again = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)  # the lock died with it
    assert again.returncode == 0, again.stderr
    messages = [e["text"] for e in _events(again.stdout) if e["event"] == "message"]
    assert f"resuming from the checkpoint of iteration {saved['iteration']}" in messages
    result = json.loads((out / "result.json").read_text())
    whole = json.loads((whole_fit[0] / "result.json").read_text())
    assert result["fit"]["resumed_from_iteration"] == saved["iteration"] and whole["fit"]["resumed_from_iteration"] is None
    # the same result as the uninterrupted fit, to the last bit: estimates, intervals, the path, the profile
    assert result["parameters"] == whole["parameters"] and result["calibrated"] == whole["calibrated"]
    assert result["fit"]["history"] == whole["fit"]["history"] and result["validation"] == whole["validation"]
    assert (out / "calibrated.toml").read_bytes() == (whole_fit[0] / "calibrated.toml").read_bytes()


def test_text_output_keeps_the_units_and_names_the_worst_channel(tmp_path: Path, run_cli) -> None:
    proc = run_cli("sysid", "params", "--model", "arm2")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.replace("\n", "")  # rich wraps long lines
    # "[rad]" was read as rich markup and dropped: "actuators: shoulder, elbow"
    assert "actuators: shoulder [rad], elbow [rad]" in text and "shoulder_vel [rad/s]" in text
    assert "shoulder_torque [N.m]" in text
    from sysid_helpers import write_msd_logs

    logs = write_msd_logs(tmp_path, [1, 2], noise=0.002)
    proc = run_cli("sysid", "fit", "--model", "msd", "--log", str(logs[0]), "--log", str(logs[1]), "--params",
                   "body:mass/mass,joint:x/damping", "--out", str(tmp_path / "fit"), "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "fit" / "result.json").read_text())["validation"]
    worst = result["rmse_ratio_worst_channel"]
    assert worst in ("x.position", "x.velocity")
    words = " ".join(proc.stdout.split())  # rich wraps long lines
    assert (f"held-out RMSE after / before calibration: {result['rmse_ratio_mean']:.3g} (mean over channels), worst "
            f"channel {worst} {result['rmse_ratio_max']:.3g}") in words
    assert "± (95%)" in proc.stdout
