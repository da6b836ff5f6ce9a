"""The whole panel: every view-model, wired to one job runner, profile editor and targets store.

    panel = Panel(workdir="~/robot")            # relative paths of jobs resolve here
    panel.editor.load("config/profiles/tabletop.toml")
    panel.capture.form.set("frames", 200)
    job = panel.capture.start()                 # sim2real generate ... --progress json
    panel.snapshot()                            # JSON types only: what a UI draws

Both UIs build one ``Panel``: the omni.ui window (exts/sim2real_ui) and the web panel.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path
from typing import Any

from .stage_views import CaptureFrame, DeployFrame, GapFrame, RandomizePreview, SysidFrame, TrainFrame
from .jobs import JobRunner
from .pipeline import PipelineFrame
from .profile_editor import ProfileEditor
from .targets import TargetsStore


class Panel:
    def __init__(self, workdir: str | PathLike[str] = ".", python: str | None = None,
                 targets_path: str | PathLike[str] | None = None, grace_s: float = 10.0) -> None:
        self.workdir = Path(os.path.expanduser(workdir)).resolve()
        self.runner = JobRunner(python=python, cwd=self.workdir, grace_s=grace_s)
        self.editor = ProfileEditor()
        self.targets = TargetsStore(targets_path)
        self.preview = RandomizePreview(self.editor)
        self.capture = CaptureFrame(self.runner, self.editor)
        self.train = TrainFrame(self.runner)
        self.gap = GapFrame(self.runner)
        self.sysid = SysidFrame(self.runner, self.editor)
        self.deploy = DeployFrame(self.runner, self.targets)
        self.pipeline = PipelineFrame(self.runner)

    def snapshot(self) -> dict[str, Any]:
        return {"workdir": str(self.workdir), "profile": self.editor.snapshot(), "preview": self.preview.snapshot(),
                "capture": self.capture.snapshot(), "train": self.train.snapshot(), "gap": self.gap.snapshot(),
                "sysid": self.sysid.snapshot(), "deploy": self.deploy.snapshot(), "pipeline": self.pipeline.snapshot(),
                "targets": self.targets.snapshot()}

    def shutdown(self, timeout: float | None = 30.0) -> None:
        """Cancel running jobs (they keep what they finished) and wait for them to exit."""
        self.runner.shutdown(timeout)
