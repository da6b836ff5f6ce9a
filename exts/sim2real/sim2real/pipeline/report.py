"""Stage ``report``: one self-contained ``report.html`` (and ``report.json``) for the whole run.

An overview (the summary table, and every stage with its status and the id of what it made), then
one section per stage in pipeline order: the sections stages saved while they had their results,
and the training section made here once every method has finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report import Report, Section
from .stage_sections import load_section
from .stage import Context
from .summary import summary_rows

REPORT = "report.html"


class ReportStage:
    name = "report"
    title = "Report"

    def __init__(self, upstream: list[Any]) -> None:
        self.upstream = upstream
        self.needs: tuple[str, ...] = tuple(s.name for s in upstream)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"settings": ctx.spec.report.model_dump(mode="json"), "run": ctx.run_id}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from .train import TrainStage, train_section

        spec = ctx.spec
        facts = {"run": ctx.run_id, "pipeline": spec.name, "folder": str(ctx.run_dir.resolve())}
        report = Report(f"sim2real run: {spec.name}", subtitle=spec.description or "sim2real pipeline report",
                        facts=facts, kind="pipeline", data={"summary": summary_rows(spec, ctx.outputs),
                                                            "stages": {s.name: ctx.outputs[s.name] for s in self.upstream}})
        report.add(overview(spec, ctx, self.upstream))
        trains = [s.name for s in self.upstream if isinstance(s, TrainStage)]
        for stage in self.upstream:
            if isinstance(stage, TrainStage):
                if stage.name == trains[0]:
                    report.add(train_section(ctx, trains))
            else:
                report.add(load_section(ctx.path(ctx.outputs[stage.name]["section"]).parent))
        html, _ = report.write(folder)
        ctx.reporter.artifact("report", html)
        return {"id": f"report-{ctx.run_id}", "report": ctx.rel(html)}


def overview(spec: Any, ctx: Context, stages: list[Any]) -> Section:
    sec = Section("overview", "Overview")
    sec.table(["result", "value"], summary_rows(spec, ctx.outputs), title="Summary")
    sec.table(["stage", "what", "id (provenance)"],
              [[s.name, s.title, ctx.outputs[s.name].get("id", "")] for s in stages],
              title="Stages: each folder holds stage.json (inputs hash, outputs, status) and run.json where it made an artefact")
    return sec
