"""The JSON-lines progress protocol that UIs read."""

from __future__ import annotations

import io
import json
from pathlib import Path

from testlib import REPO

from sim2real.progress import JsonReporter


def _events(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_protocol_events_and_throttling() -> None:
    out = io.StringIO()
    rep = JsonReporter(out, interval=3600)  # throttle everything but first and final
    with rep.task("generate", total=100, unit="frame", done=40) as task:
        for _ in range(60):
            task.advance(1, shard=2)
    rep.metric("train", 3, {"loss": 0.5, "bad": float("nan")})
    rep.result({"frames": 100})
    rep.error("boom", "user")
    events = _events(out)
    assert events[0] == {**events[0], "event": "hello", "protocol_version": 1}
    progress = [e for e in events if e["event"] == "progress"]
    assert [p["done"] for p in progress] == [40, 100]
    assert progress[-1]["final"] is True and progress[-1]["shard"] == 2 and progress[-1]["total"] == 100
    assert progress[-1]["rate"] > 0  # counts only the 60 frames done in this run
    metric = next(e for e in events if e["event"] == "metric")
    assert metric["values"] == {"loss": 0.5, "bad": None}
    assert events[-2]["payload"] == {"frames": 100}
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "user"


def test_progress_unthrottled_reports_each_step() -> None:
    out = io.StringIO()
    rep = JsonReporter(out, interval=0.0)
    task = rep.task("x", total=3)
    for _ in range(3):
        task.advance()
    task.close()
    done = [e["done"] for e in _events(out) if e["event"] == "progress"]
    assert done == [0, 1, 2, 3, 3]


def test_rich_bars_tell_the_truth_when_work_ends_early_or_has_nothing_to_do() -> None:
    """#26: a fit converging at 8 of 100 iterations left a bar frozen at 8/100 with an ETA; `pairs 0/0`
    showed a bar with nothing to do; epoch lines wrapped at 80 columns on a non-terminal stderr."""
    from rich.console import Console

    from sim2real.progress import RichReporter

    out = io.StringIO()
    rep = RichReporter(Console(file=out, width=80, force_terminal=False, color_system=None))
    with rep.task("fit", total=100, unit="iter") as fit:
        fit.advance(8)  # converged early
    with rep.task("pairs", total=0, unit="pair"):
        pass
    try:
        with rep.task("generate", total=10, unit="frame") as gen:
            gen.advance(3)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    rep.metric("epoch", 1, {f"metric_{i}": 0.123456 * i for i in range(12)}, echo=True)
    rep.close()
    tasks = {t.description: t for t in rep.progress.tasks}
    assert tasks["fit"].total == 8 and tasks["fit"].finished  # complete at 8, no time remaining
    assert not tasks["pairs"].visible
    assert tasks["generate"].total == 10 and tasks["generate"].completed == 3  # interrupted: not complete
    text = out.getvalue()
    assert "pairs" not in text and "8/8" in text and "8/100" not in text.splitlines()[-3:]
    epoch = [ln for ln in text.splitlines() if ln.startswith("epoch 1:")]
    assert len(epoch) == 1 and "metric_11=" in epoch[0]  # one line, not wrapped at 80 columns


def test_text_console_keeps_lines_and_tables_whole_off_a_terminal(capsys, monkeypatch) -> None:
    """#26: rich wraps at 80 columns when stdout is not a terminal (a CI log, a pipe, a UI reading
    lines), which split summary phrases and paths across lines (`exported the last epoch` broke in
    two under a longer tmp path). Off a terminal a line is whole and a table takes its natural width."""
    from rich.table import Table

    from sim2real.progress import text_console

    monkeypatch.delenv("COLUMNS", raising=False)
    path = "/tmp/" + "/".join(f"folder{i}" for i in range(20))
    out = text_console()
    assert not out.is_terminal
    out.print(f"{path}: exported the last epoch (1): the default (select = 'last')")
    table = Table(title="summary")
    table.add_column("what")
    table.add_column("where")
    table.add_row("model", f"{path}/model.onnx")
    out.print(table)
    text_console(stderr=True).print(f"report: {path}/report.html")
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert f"{path}: exported the last epoch (1): the default (select = 'last')" in lines
    assert any(f"model │ {path}/model.onnx" in line for line in lines)
    assert f"report: {path}/report.html" in captured.err.splitlines()
    monkeypatch.setenv("COLUMNS", "60")  # a width the user asks for is kept
    text_console().print("word " * 30)
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 60


def test_cli_summary_line_is_whole_in_a_pipe(run_cli, tmp_path: Path) -> None:
    """The same through a real command whose stdout is a pipe: the summary names a deep path whole."""
    deep = tmp_path.joinpath(*(f"level{i}" for i in range(12)))
    deep.mkdir(parents=True)
    profile = deep / "arm2.toml"
    profile.write_text((REPO / "config" / "profiles" / "arm2.toml").read_text())
    proc = run_cli("profile", "validate", str(profile), env={"COLUMNS": ""})
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and proc.stdout.startswith(f"ok: {profile}: ")
