"""The Pipeline frame: ``sim2real run PIPELINE.toml`` (#13) from a panel, with its stages and report.

``Panel.pipeline`` holds it for both panels (the Kit window has no Pipeline frame yet). The settings name a pipeline file, or a shipped one by name
(``demo``, ``demo_quick``, ``example`` in ``config/pipelines``), and the run folder; re-running the
same folder skips finished stages and resumes an interrupted one, as the command does.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..config import StrictModel
from ..paths import config_path
from .forms import Form
from .stage_views import JobFrame
from .jobs import Job, JobRunner


def shipped_pipelines() -> list[str]:
    return sorted(p.stem for p in config_path("pipelines").glob("*.toml"))


class PipelineSettings(StrictModel):
    """``sim2real run``: a pipeline file (or shipped name) and its run folder."""

    pipeline: str = Field("demo_quick", min_length=1, title="Pipeline",
                          description="a shipped name (demo, demo_quick, example) or a pipeline file")
    out: str = Field("runs/pipeline", min_length=1, title="Run folder")

    def file(self) -> str:
        """The pipeline file: a shipped name resolves to ``config/pipelines/NAME.toml``."""
        return str(config_path("pipelines", f"{self.pipeline}.toml")) if self.pipeline in shipped_pipelines() \
            else self.pipeline

    def args(self) -> list[str]:
        return ["run", self.file(), "--out", self.out]


class PipelineFrame(JobFrame):
    """One pipeline run at a time: per-stage progress, the summary rows and the report."""

    kinds = ("pipeline",)

    def __init__(self, runner: JobRunner) -> None:
        super().__init__(runner, Form(PipelineSettings, name="pipeline"))

    def start(self) -> Job:
        return self._start("pipeline", lambda s: s.args())

    def summary(self) -> dict[str, Any] | None:
        """The finished run: id, folder, what each stage did, the report (paths as the command printed)."""
        job = self.job()
        if job is None or job.result is None:
            return None
        r = job.result
        return {"run": r.get("run"), "out": r.get("out"), "stages": dict(r.get("stages") or {}),
                "summary": dict(r.get("summary") or {}), "report": r.get("report") or job.artifact("report")}

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "summary": self.summary(), "pipelines": shipped_pipelines()}

