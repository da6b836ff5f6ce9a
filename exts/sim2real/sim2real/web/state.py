"""What the web panel holds: the view-models of ``sim2real.app`` and the jobs they started.

``WebPanel`` is the web side's only state. It owns one ``ProfileEditor``, one settings ``Form`` per
frame (Capture, Train, Gap, Deploy), the ``TargetsStore`` and the ``JobRunner``, all from
``sim2real.app`` (the Kit panel binds the same objects), plus what only a server needs: the workdir
every output must stay in, and the output folder of each job, the one folder whose files it serves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..app.forms import Form
from ..app.jobs import Job, JobRunner
from ..app.profile_editor import ProfileEditor
from ..app.settings import CaptureSettings, DeploySettings, GapSettings, TrainSettings
from ..app.targets import TargetsStore
from ..errors import UserError
from ..paths import config_path
from . import fields
from .paths import input_path, output_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    title: str
    intro: str
    actions: tuple[tuple[str, str], ...]  # (job action, button label)
    template: str = "frame.html"


FRAMES: dict[str, Frame] = {
    "capture": Frame("Generate", "Render a labelled synthetic dataset from the profile open in the editor "
                     "(paths are relative to the workdir).", (("generate", "Generate"),)),
    "train": Frame("Train", "Train a perception model on the dataset, adapting it to unlabelled real images.",
                   (("train", "Train"),)),
    "gap": Frame("Gap", "How far the synthetic images are from real ones (FID/KID and more).",
                 (("gap", "Measure the gap"),)),
    "deploy": Frame("Deploy", "Bundle the trained model, push it to a device over SSH, benchmark it there.",
                    (("bundle", "Bundle"), ("push", "Push"), ("bench", "Bench")), "deploy.html"),
}
ACTION_FRAME = {action: frame for frame, spec in FRAMES.items() for action, _ in spec.actions}
# which setting names a job's output (the folder whose files the job may serve)
OUTPUT_FIELD = {"generate": "out", "train": "out", "gap": "out", "bundle": "bundle"}
INPUT_FIELDS = {"train": ("data", "target", "eval"), "gap": ("sim", "real"), "bundle": ("run",)}


class WebPanel:
    def __init__(self, workdir: Path, python: str | None = None, targets_file: Path | None = None) -> None:
        self.workdir = workdir.resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.profile = ProfileEditor()
        self.forms: dict[str, Form[Any]] = {
            "capture": Form(CaptureSettings, {"out": "datasets/capture", "frames": 16, "width": 160, "height": 120},
                            name="capture"),
            "train": Form(TrainSettings, {"data": "datasets/capture", "out": "train/run", "config": "quick"},
                          name="train"),
            "gap": Form(GapSettings, {"sim": "datasets/capture", "out": "gap/report"}, name="gap"),
            "deploy": Form(DeploySettings, {"run": "train/run", "onnx": "model/model.onnx",
                                            "bundle": "model/bundle.tar"}, name="deploy"),
        }
        self.targets = TargetsStore(targets_file)
        self.runner = JobRunner(python=python, cwd=self.workdir)
        self._outputs: dict[int, Path] = {}
        self._frames: dict[int, str] = {}

    # ------------------------------------------------------------------ profile
    def shipped_profiles(self) -> list[str]:
        return sorted(p.stem for p in config_path("profiles").glob("*.toml"))

    def load_profile(self, text: str) -> bool:
        """Open a shipped profile by name, or a TOML file by path (relative to the workdir)."""
        text = text.strip()
        if not text:
            raise UserError("profile: expected a shipped name or the path of a .toml file")
        if text in self.shipped_profiles():
            return self.profile.load(config_path("profiles", f"{text}.toml"))
        path = input_path(self.workdir, "profile", text)
        if path.suffix != ".toml" or not path.is_file():
            raise UserError(f"profile: expected a .toml file (got {text!r})")
        return self.profile.load(path)

    def save_profile(self, name: str) -> Path:
        """Save the edited profile as ``profiles/NAME.toml`` in the workdir."""
        name = name.strip().removesuffix(".toml")
        if not name or "/" in name or name.startswith("."):
            raise UserError(f"name: expected a file name without folders (got {name!r})")
        return self.profile.save(output_path(self.workdir, "name", f"profiles/{name}.toml"))

    def profile_view(self) -> dict[str, Any]:
        return {"editor": self.profile.snapshot(), "shipped": self.shipped_profiles()}

    def _profile_for_job(self, ident: int) -> Path:
        """The profile a generation uses: the editor's valid profile of the enabled categories, written
        beside the jobs so that the dataset records exactly what was on screen."""
        from ..randomize.profile import save_profile

        profile = self.profile.require()
        path = self.workdir / "profiles" / f"job-{ident}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_profile(profile, path)
        return path

    # ------------------------------------------------------------------ forms and jobs
    def update_form(self, frame: str, submitted: Mapping[str, Any]) -> bool:
        form = self.forms[frame]
        specs = {s.name: s for s in fields.input_specs(form.model)}
        values = {name: fields.coerce(specs[name], submitted.get(name)) for name in specs if name in submitted}
        return form.update(values)

    def start(self, action: str, submitted: Mapping[str, Any]) -> Job:
        """Validate the frame's form (with what was just submitted) and start its job."""
        frame = ACTION_FRAME.get(action)
        if frame is None:
            raise UserError(f"unknown action {action!r}")
        self.update_form(frame, submitted)
        settings = self.forms[frame].require()
        for name in INPUT_FIELDS.get(action, ()):
            value = getattr(settings, name, None)
            if value:
                input_path(self.workdir, f"{frame}.{name}", value)
        out_field = OUTPUT_FIELD.get(action)
        out = output_path(self.workdir, f"{frame}.{out_field}", getattr(settings, out_field)) if out_field else None
        args = self._args(action, settings)
        job = self.runner.start(action, args, progress=action != "bench")  # bench answers with --json
        self._frames[job.ident] = frame
        if out is not None:
            self._outputs[job.ident] = out.parent if action == "bundle" else out
        return job

    def _args(self, action: str, settings: Any) -> list[str]:
        if action == "generate":
            return settings.args(str(self._profile_for_job(len(self.runner.jobs) + 1)))
        if action == "bundle":
            return settings.bundle_args()
        if action in ("push", "bench"):
            return self._device_args(action, settings)
        return settings.args()

    def _device_args(self, action: str, settings: DeploySettings) -> list[str]:
        if not settings.target:
            raise UserError("deploy.target: expected the name of a stored deploy target (add one below)")
        target = self.targets.get(settings.target)
        common = [*target.ssh_args(), "--root", settings.root]
        if action == "push":
            return ["deploy", "push", settings.bundle, *common]
        return ["deploy", "bench", *common, "--iterations", str(settings.iterations), "--warmup", str(settings.warmup),
                "--json"]

    def job(self, ident: int) -> Job:
        for job in self.runner.jobs:
            if job.ident == ident:
                return job
        raise UserError(f"no job {ident}")

    def jobs_of(self, frame: str) -> list[Job]:
        return [j for j in reversed(self.runner.jobs) if self._frames.get(j.ident) == frame]

    def output_folder(self, job: Job) -> Path:
        out = self._outputs.get(job.ident)
        if out is None:
            raise UserError(f"job {job.ident} has no output folder")
        return out

    def job_extra(self, job: Job) -> str:
        return ""

    def frame_extra(self, frame: str) -> dict[str, Any]:
        if frame == "deploy":
            return {"targets": self.targets.snapshot()}
        return {}

    def shutdown(self) -> None:
        self.runner.shutdown(timeout=30)
