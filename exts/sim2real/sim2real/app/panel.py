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
from collections.abc import Sequence
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
                 targets_path: str | PathLike[str] | None = None, grace_s: float = 10.0,
                 isaac_python: Sequence[str] | None = None, job_path: Sequence[str] = ()) -> None:
        """``python``: the interpreter of ``sim2real`` jobs (default: ``isaac_python`` when given, else this one);
        ``isaac_python``: the command running Isaac Sim's Python (``generate.isaac_launcher.isaac_python``): when
        given, captures default to the isaac backend through Isaac Sim's headless script; ``job_path``: folders
        on the jobs' PYTHONPATH (inside Kit: Kit's ``sys.path``, where its bundled packages are)."""
        self.workdir = Path(os.path.expanduser(workdir)).resolve()
        if python is None and isaac_python and len(isaac_python) == 1:
            python = isaac_python[0]
        self.runner = JobRunner(python=python, cwd=self.workdir, grace_s=grace_s, path=job_path)
        self.editor = ProfileEditor()
        self.targets = TargetsStore(targets_path)
        self.preview = RandomizePreview(self.editor)
        self.capture = CaptureFrame(self.runner, self.editor, isaac_python)
        self.train = TrainFrame(self.runner)
        self.gap = GapFrame(self.runner)
        self.sysid = SysidFrame(self.runner, self.editor)
        self.deploy = DeployFrame(self.runner, self.targets)
        self.pipeline = PipelineFrame(self.runner)

    @classmethod
    def in_isaac_sim(cls, app_folder: str | None, executable: str, job_path: Sequence[str], **kwargs: Any) -> Panel:
        """The panel of a Kit window: jobs in Isaac Sim's own Python, found from Kit's app folder (its parent
        holds ``python.sh`` in a binary install) or, in a pip install, Kit's own interpreter; Kit's
        ``sys.path`` (``job_path``) on their PYTHONPATH."""
        from ..generate.isaac_launcher import isaac_python

        return cls(isaac_python=isaac_python(app_folder=app_folder, executable=executable), job_path=job_path,
                   **kwargs)

    def snapshot(self) -> dict[str, Any]:
        return {"workdir": str(self.workdir), "profile": self.editor.snapshot(), "preview": self.preview.snapshot(),
                "capture": self.capture.snapshot(), "train": self.train.snapshot(), "gap": self.gap.snapshot(),
                "sysid": self.sysid.snapshot(), "deploy": self.deploy.snapshot(), "pipeline": self.pipeline.snapshot(),
                "targets": self.targets.snapshot()}

    def shutdown(self, timeout: float | None = 30.0) -> None:
        """Cancel running jobs (they keep what they finished) and wait for them to exit."""
        self.runner.shutdown(timeout)
