"""Running a pipeline: plan the stages, skip the finished ones, resume or redo the others.

    RUN/run.json        kind "pipeline", the run id (kept across re-runs), the pipeline, and the id of
                        every stage's artefact as ``parents``
    RUN/pipeline.toml   the pipeline file as last run
    RUN/summary.json    the summary rows and each stage's status this time
    RUN/<stage>/        stage.json and what the stage made (see ``stage.py``)

One writer per run folder (a second ``sim2real run`` on it is refused). Interrupting (Ctrl-C, a
kill, a crash) loses nothing finished: the next run skips the finished stages and resumes the
interrupted one through its own resume.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import atomic_write_bytes, atomic_write_json, locked_dir, sha256_file
from ..progress import NullReporter, Reporter
from ..runs import new_run_id, read_run_info, write_run_info
from .spec import PipelineSpec, load_pipeline
from .stage import (DONE, FAILED, INTERRUPTED, RUNNING, Context, Stage, StageRecord, cpu_seconds, inputs_hash, now,
                    read_record)

log = logging.getLogger(__name__)

PIPELINE_COPY, SUMMARY = "pipeline.toml", "summary.json"
SKIPPED, RESUMED, RAN = "skipped", "resumed", "ran"


@dataclass
class RunResult:
    run_id: str
    out: Path
    spec: PipelineSpec
    outputs: dict[str, dict[str, Any]]
    actions: dict[str, str]  # stage -> skipped | resumed | ran
    summary: list[list[str]] = field(default_factory=list)

    @property
    def report(self) -> Path | None:
        rep = self.outputs.get("report")
        return (self.out / rep["report"]) if rep else None


def plan(spec: PipelineSpec) -> list[Stage]:
    """The stages of ``spec`` in order: generate, target, train-<method>..., gap, sysid, export,
    quantize, deploy, report (each only when its section is there)."""
    from .gap import GapStage
    from .generate import GenerateStage
    from .report import ReportStage
    from .select import SelectStage
    from .sysid import SysidStage
    from .target import TargetStage
    from .train import TrainStage

    stages: list[Any] = [GenerateStage()]
    if spec.target is not None:
        stages.append(TargetStage())
    methods = list(spec.train.methods) if spec.train is not None else []
    stages += [TrainStage(m, spec.target is not None) for m in methods]
    if methods:
        stages.append(SelectStage(methods))
    if spec.gap is not None:
        stages.append(GapStage(methods))
    if spec.sysid is not None:
        stages.append(SysidStage())
    stages += _deploy_stages(spec)
    stages.append(ReportStage(list(stages)))
    return stages


def _deploy_stages(spec: PipelineSpec) -> list[Any]:
    if spec.export is None:
        return []
    from .deploy import deploy_stages

    return deploy_stages(spec)


def default_out(spec: PipelineSpec) -> Path:
    return Path("runs") / spec.name


def run_pipeline(path: str | PathLike[str], out: str | PathLike[str] | None = None,
                 reporter: Reporter | None = None, overrides: Sequence[str] = ()) -> RunResult:
    """Run (or continue) the pipeline in ``path`` in the folder ``out`` (default ``runs/<name>``), with
    dotted ``key=value`` ``overrides`` of its keys (recorded in run.json)."""
    reporter = reporter or NullReporter()
    path = Path(path)
    spec = load_pipeline(path, overrides)
    run_dir = Path(out) if out is not None else default_out(spec)
    stages = plan(spec)
    with locked_dir(run_dir, purpose="pipeline run"):
        run_id = _run_id(run_dir)
        atomic_write_bytes(run_dir / PIPELINE_COPY, path.read_bytes())
        ctx = Context(spec, path.resolve().parent, run_dir, reporter, run_id)
        digests: dict[str, str] = {}
        actions: dict[str, str] = {}
        with reporter.task("pipeline", total=len(stages), unit="stage") as task:
            for stage in stages:
                task.update(stage=stage.name, status="running")
                record, actions[stage.name] = _run_stage(stage, ctx, digests)
                ctx.outputs[stage.name] = record.outputs
                digests[stage.name] = record.digest
                task.advance(stage=stage.name, status=actions[stage.name])
        from .summary import summary_rows

        summary = summary_rows(spec, ctx.outputs)
        parents = {name: o["id"] for name, o in ctx.outputs.items() if o.get("id")}
        write_run_info(run_dir, "pipeline", run_id, inputs={"pipeline": spec.model_dump(mode="json"),
                                                             "file": str(path.resolve()), "sha256": sha256_file(path),
                                                             "overrides": list(overrides)},
                       parents=parents)
        atomic_write_json(run_dir / SUMMARY, {"run": run_id, "summary": summary, "stages": actions})
    result = RunResult(run_id, run_dir, spec, ctx.outputs, actions, summary)
    reporter.result({"run": run_id, "out": str(run_dir), "report": str(result.report), "stages": actions,
                     "summary": dict((row[0], row[1]) for row in summary)})
    return result


def _run_id(run_dir: Path) -> str:
    try:
        return str(read_run_info(run_dir, "pipeline")["id"])
    except InputError:
        return new_run_id("pipeline")


def _run_stage(stage: Stage, ctx: Context, digests: dict[str, str]) -> tuple[StageRecord, str]:
    folder = ctx.run_dir / stage.name
    inputs = {"stage": stage.inputs(ctx), "needs": {n: digests[n] for n in stage.needs}}
    h = inputs_hash(inputs)
    old = read_record(folder)
    rep = ctx.reporter
    if old is not None and old.inputs_hash == h and old.status == DONE and _present(ctx, old.outputs):
        rep.message(f"{stage.name}: finished before with the same inputs: skipped")
        return old, SKIPPED
    if old is not None and old.inputs_hash != h:
        changed = ", ".join(_why(k) for k in _changed(old.inputs, inputs)[:4]) or "inputs"
        rep.message(f"{stage.name}: {changed} changed: running it again from the start")
        shutil.rmtree(folder)
        old = None
    action = RAN if old is None or old.status == DONE else RESUMED
    if action == RESUMED:
        rep.message(f"{stage.name}: resuming (its last run was {old.status})")  # type: ignore[union-attr]
    record = StageRecord(stage.name, RUNNING, inputs, h, attempts=(old.attempts if old else 0) + 1, started=now())
    record.save(folder)
    started = (time.monotonic(), cpu_seconds())
    try:
        record.outputs = stage.run(ctx, folder)
    except KeyboardInterrupt:
        _finish(record, folder, INTERRUPTED, started, "interrupted")
        raise
    except BaseException as exc:
        _finish(record, folder, FAILED, started, f"{type(exc).__name__}: {exc}")
        raise
    _finish(record, folder, DONE, started)
    return record, action


def _finish(record: StageRecord, folder: Path, status: str, started: tuple[float, float],
            error: str | None = None) -> None:
    record.status, record.error = status, error
    record.finished, record.seconds = now(), round(time.monotonic() - started[0], 3)
    record.cpu_seconds = round(cpu_seconds() - started[1], 3)
    record.save(folder)


def _present(ctx: Context, outputs: dict[str, Any]) -> bool:
    """The files a finished stage points at still exist (a deleted folder makes it run again)."""
    keys = ("path", "run", "images", "eval", "fit", "section", "report", "onnx", "bundle")
    return all(ctx.path(outputs[k]).exists() for k in keys if isinstance(outputs.get(k), str))


def _why(key: str) -> str:
    """``needs.generate`` -> ``generate's result``; ``stage.config.epochs`` -> ``config.epochs``."""
    if key.startswith("needs."):
        return f"{key.removeprefix('needs.')}'s result"
    return key.removeprefix("stage.")


def _changed(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ (for the message saying why a stage runs again)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += _changed(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return [] if old == new else [prefix.rstrip(".") or "inputs"]
