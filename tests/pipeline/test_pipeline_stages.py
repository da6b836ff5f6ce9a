"""The stage machinery with small stages of our own: skip, redo downstream, resume, provenance.

No rendering or training here: the stages write files, so each property is checked in milliseconds.
The real stages run in test_pipeline_demo.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim2real.pipeline.runner import RAN, RESUMED, SKIPPED, _run_stage
from sim2real.pipeline.stage import DONE, FAILED, INTERRUPTED, RUNNING, STAGE_FILE, Context, read_record
from sim2real.progress import NullReporter


class Recorder(NullReporter):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def message(self, text: str, level: str = "info") -> None:
        self.messages.append(text)


class Toy:
    """Writes ``value`` (+ its upstream's) to a file; fails or is interrupted when told to."""

    def __init__(self, name: str, needs: tuple[str, ...] = ()) -> None:
        self.name, self.needs, self.title = name, needs, name
        self.value = 1
        self.runs = 0
        self.fail: type[BaseException] | None = None

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"value": self.value}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        self.runs += 1
        partial = folder / "partial.txt"
        seen = partial.read_text() if partial.exists() else ""
        folder.mkdir(parents=True, exist_ok=True)
        partial.write_text(seen + "x")  # what an interrupted run leaves, for the resume to find
        if self.fail is not None:
            raise self.fail("boom")
        up = "".join(ctx.path(ctx.outputs[n]["path"]).read_text() for n in self.needs)
        out = folder / "result.txt"
        out.write_text(up + str(self.value))
        return {"id": f"{self.name}-{out.read_text()}", "path": ctx.rel(out), "resumed_from": seen}


def run_all(stages: list[Toy], ctx: Context) -> dict[str, str]:
    digests: dict[str, str] = {}
    actions = {}
    ctx.outputs.clear()
    for s in stages:
        record, actions[s.name] = _run_stage(s, ctx, digests)
        ctx.outputs[s.name] = record.outputs
        digests[s.name] = record.digest
    return actions


@pytest.fixture
def chain(tmp_path: Path) -> tuple[list[Toy], Context, Recorder]:
    rep = Recorder()
    a, b, c, d = Toy("a"), Toy("b", ("a",)), Toy("c", ("b",)), Toy("d")
    return [a, b, c, d], Context(spec=None, base_dir=tmp_path, run_dir=tmp_path / "run", reporter=rep), rep


def test_finished_stages_are_skipped_and_a_change_reruns_only_downstream(chain: Any) -> None:
    stages, ctx, rep = chain
    a, b, c, d = stages
    assert run_all(stages, ctx) == {"a": RAN, "b": RAN, "c": RAN, "d": RAN}
    first = {s.name: json.loads((ctx.run_dir / s.name / STAGE_FILE).read_text()) for s in stages}
    assert all(r["status"] == DONE and r["digest"] for r in first.values())
    assert ctx.outputs["c"]["id"] == "c-111"

    assert run_all(stages, ctx) == {"a": SKIPPED, "b": SKIPPED, "c": SKIPPED, "d": SKIPPED}
    assert [s.runs for s in stages] == [1, 1, 1, 1]

    b.value = 2  # b's inputs change: b and c (reads b) run again, a and d (independent) do not
    assert run_all(stages, ctx) == {"a": SKIPPED, "b": RAN, "c": RAN, "d": SKIPPED}
    assert ctx.outputs["c"]["id"] == "c-121"
    assert any("b: value changed" in m for m in rep.messages)
    assert any("c: b's result changed" in m for m in rep.messages)
    assert read_record(ctx.run_dir / "b").attempts == 1  # started afresh in an emptied folder
    assert ctx.outputs["b"]["resumed_from"] == ""


def test_a_failed_or_interrupted_stage_resumes_in_its_folder(chain: Any) -> None:
    stages, ctx, rep = chain
    a, b, c, d = stages
    b.fail = RuntimeError
    with pytest.raises(RuntimeError):
        run_all(stages, ctx)
    rec = read_record(ctx.run_dir / "b")
    assert rec.status == FAILED and "boom" in rec.error and c.runs == 0
    b.fail = KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_all(stages, ctx)
    assert read_record(ctx.run_dir / "b").status == INTERRUPTED
    b.fail = None
    assert run_all(stages, ctx) == {"a": SKIPPED, "b": RESUMED, "c": RAN, "d": RAN}
    assert ctx.outputs["b"]["resumed_from"] == "xx"  # what the two stopped runs left was there to resume
    assert read_record(ctx.run_dir / "b").attempts == 3


def test_a_killed_stage_is_resumed_and_a_deleted_result_is_made_again(chain: Any) -> None:
    stages, ctx, _ = chain
    a, b, c, d = stages
    run_all(stages, ctx)
    rec = read_record(ctx.run_dir / "c")
    rec.status = RUNNING  # what a SIGKILL leaves: the record of a stage that never finished
    rec.save(ctx.run_dir / "c")
    (ctx.run_dir / "d" / "result.txt").unlink()
    assert run_all(stages, ctx) == {"a": SKIPPED, "b": SKIPPED, "c": RESUMED, "d": RAN}


def test_outputs_inside_the_run_folder_are_relative(chain: Any, tmp_path: Path) -> None:
    stages, ctx, _ = chain
    run_all(stages, ctx)
    assert ctx.outputs["a"]["path"] == "a/result.txt"
    moved = tmp_path / "moved"
    ctx.run_dir.rename(moved)
    ctx.run_dir = moved
    assert run_all(stages, ctx) == {"a": SKIPPED, "b": SKIPPED, "c": SKIPPED, "d": SKIPPED}
