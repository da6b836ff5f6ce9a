"""The JSON-lines progress protocol that UIs read."""

from __future__ import annotations

import io
import json

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
