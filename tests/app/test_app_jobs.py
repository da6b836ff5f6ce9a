"""The job runner against real subprocesses: the JSON-lines protocol, cancellation, user errors."""

from __future__ import annotations

import json
import signal
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from sim2real.app.jobs import Job, JobRunner
from sim2real.app.panel import Panel
from sim2real.app.series import Series
from sim2real.errors import UserError

WAIT = 240  # seconds: an upper bound for a stuck job, never an assertion about speed


def _wait_until(model, predicate, timeout: float = WAIT) -> None:
    """Block until ``predicate()`` holds, woken by the model's change notifications."""
    event = threading.Event()
    unsubscribe = model.subscribe(lambda _m: predicate() and event.set())
    try:
        if not predicate():
            assert event.wait(timeout), "the job never reached the expected state"
    finally:
        unsubscribe()


def _script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "emit.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


@pytest.fixture
def panel(tmp_path: Path) -> Panel:
    p = Panel(workdir=tmp_path, targets_path=tmp_path / "targets.toml", grace_s=20)
    assert p.editor.load(Path(__file__).resolve().parents[2] / "config" / "profiles" / "tabletop.toml")
    yield p
    p.shutdown(timeout=60)


def test_generate_job_reports_progress_is_cancelled_and_resumes(panel: Panel, tmp_path: Path) -> None:
    panel.capture.form.update({"frames": 5000, "width": 64, "height": 48, "out": "data/run"})
    job = panel.capture.start()
    assert job.argv[-2:] == ["--progress", "json"] and "generate" in job.argv
    _wait_until(job, lambda: (job.progress("generate") or {}).get("done", 0) >= 2 or job.finished)
    assert job.state == "running"
    done = job.progress("generate")["done"]
    assert job.progress("generate")["total"] == 5000 and 0 < job.fraction < 1
    job.cancel()
    assert job.wait(WAIT)
    assert job.state == "cancelled" and job.returncode == 130
    assert job.error["kind"] == "interrupted" and "resume" in job.error["message"]
    sample = Path(job.artifact("sample_image"))
    assert sample.is_file() and sample.is_relative_to(tmp_path / "data" / "run")
    state = panel.capture.snapshot()["state"]
    assert state["total"] == 5000 and state["done"] >= done and state["sample_image"] == str(sample)
    json.dumps(panel.snapshot(), allow_nan=False)  # what a web UI serves

    # the same settings again: the command finds the finished frames and goes on from there
    again = panel.capture.start()
    _wait_until(again, lambda: bool(again.tasks) or again.finished)
    assert again.progress("generate")["done"] >= done
    assert any(m["text"].startswith("resuming") for m in again.messages)
    again.cancel()
    assert again.wait(WAIT) and again.state == "cancelled"


def test_user_error_of_a_command_is_shown_in_the_model(panel: Panel) -> None:
    panel.capture.form.update({"frames": 3, "width": 64, "height": 48, "camera": "nope"})
    job = panel.capture.start()
    assert job.wait(WAIT)
    assert job.state == "failed" and job.returncode == 2
    assert job.user_error == "camera: no camera named 'nope'; known: main, top"
    assert any("no camera named 'nope'" in line for line in job.log_tail)  # the CLI's stderr line
    snap = panel.capture.snapshot()
    assert snap["job"]["error"] == {"kind": "user", "message": job.user_error}
    assert snap["job"]["state"] == "failed"


def test_invalid_settings_or_profile_refuse_to_start(panel: Panel) -> None:
    assert not panel.capture.form.set("frames", 0)
    with pytest.raises(UserError, match=r"capture\.frames: expected greater than or equal to 1"):
        panel.capture.start()
    assert panel.capture.error.startswith("capture.frames")
    panel.capture.form.set("frames", 2)
    panel.editor.set_range("fill_rim_intensity", 2.0, 1.0)
    with pytest.raises(UserError, match="low <= high"):
        panel.capture.start()
    assert panel.capture.error.startswith("profile: fill_rim_intensity.low")
    assert panel.runner.jobs == []


def test_metric_events_feed_the_series(tmp_path: Path) -> None:
    argv = _script(tmp_path, """
        from sim2real.progress import JsonReporter
        rep = JsonReporter()
        print("not an event")
        with rep.task("train", total=3, unit="epoch") as task:
            for epoch in range(1, 4):
                rep.metric("epoch", epoch, {"loss": 1.0 / epoch, "val.snd": float("nan") if epoch == 2 else epoch})
                task.advance()
        rep.artifact("report", "/tmp/report.html")
        rep.result({"best": 3})
    """)
    job = Job(argv, kind="train").start()
    assert job.wait(WAIT) and job.state == "succeeded"
    assert job.series.points("epoch", "loss") == ([1.0, 2.0, 3.0], [1.0, 0.5, 1.0 / 3])
    assert job.series.points("epoch", "val.snd") == ([1.0, 3.0], [1.0, 3.0])  # NaN arrives as null: skipped
    assert job.progress("train")["done"] == 3 and job.fraction == 1.0
    assert job.result == {"best": 3} and job.artifact("report") == "/tmp/report.html"
    assert job.stdout_text == ["not an event"]
    snap = json.loads(json.dumps(job.snapshot(), allow_nan=False))
    assert snap["series"]["epoch"]["loss"]["values"] == [1.0, 0.5, 1.0 / 3]


def test_cancel_escalates_to_sigterm_when_sigint_is_ignored(tmp_path: Path) -> None:
    argv = _script(tmp_path, """
        import signal, time
        from sim2real.progress import JsonReporter
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        JsonReporter().message("ignoring Ctrl-C")
        time.sleep(600)
    """)
    job = Job(argv, grace_s=0.5).start()
    _wait_until(job, lambda: bool(job.messages))
    job.cancel()
    assert job.wait(WAIT)
    assert job.state == "cancelled" and job.returncode == -signal.SIGTERM


def test_a_failure_without_an_error_event_keeps_the_last_stderr_line(tmp_path: Path) -> None:
    argv = _script(tmp_path, """
        import sys
        sys.stderr.write("first\\nthe reason\\n\\n")
        sys.exit(1)
    """)
    job = Job(argv).start()
    assert job.wait(WAIT)
    assert job.state == "failed" and job.error == {"kind": "failure", "message": "the reason"}
    assert job.user_error is None


def test_runner_runs_one_job_of_a_kind(tmp_path: Path) -> None:
    runner = JobRunner(cwd=tmp_path, grace_s=20)
    job = runner.start("capture", ["generate", "--profile", "tabletop", "--frames", "5000", "--out", "d",
                                   "--resolution", "64x48"])
    try:
        _wait_until(job, lambda: bool(job.tasks) or job.finished)
        with pytest.raises(UserError, match="a capture job is running already"):
            runner.start("capture", ["--version"], progress=False)
        assert runner.active("capture") is job and runner.active("train") is None
    finally:
        job.cancel()
    assert job.wait(WAIT) and job.state == "cancelled" and job.returncode == 130
    # a command without long work takes no --progress; relative paths resolve in the runner's folder
    excite = runner.start("sysid", ["sysid", "excite", "--out", "c.csv", "--actuators", "a", "--duration", "5"],
                          progress=False)
    assert excite.wait(WAIT) and excite.state == "succeeded", excite.log_tail
    assert (tmp_path / "c.csv").is_file()
    assert runner.latest("sysid") is excite and runner.active() is None


def test_series_thins_a_long_line_and_keeps_its_ends() -> None:
    s = Series(max_points=8)
    for step in range(100):
        s.add("fit", step, {"cost": float(step), "label": "text is not a point", "flag": True})
    steps, values = s.points("fit", "cost")
    assert len(steps) <= 8 and steps[0] == 0.0 and steps[-1] == 99.0 and steps == values
    assert s.names() == [("fit", "cost")]


def test_deploy_push_uses_a_stored_target_and_shows_the_commands_error(panel: Panel, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="deploy.target: expected the name of a stored target"):
        panel.deploy.push()
    assert panel.targets.put({"name": "bench", "host": "127.0.0.1", "user": "robot", "port": 1,
                              "identity_file": str(tmp_path / "id_ed25519")})
    panel.deploy.form.update({"target": "bench", "bundle": "missing.tar"})
    job = panel.deploy.push()
    i = job.argv.index("--target")
    assert job.argv[i:i + 4] == ["--target", "robot@127.0.0.1:1", "--identity", str(tmp_path / "id_ed25519")]
    assert job.wait(WAIT) and job.state == "failed" and job.returncode == 2
    assert "missing.tar" in job.user_error
    snap = panel.deploy.snapshot()
    assert snap["targets"] == ["bench"] and snap["bench"] is None and snap["job"]["kind"] == "push"
