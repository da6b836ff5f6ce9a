"""What the web panel holds: one ``sim2real.app.Panel`` and the output folder of each job it started.

All behaviour is the ``Panel``'s (the Kit window binds the same objects): forms, profile editor,
deploy targets, job frames, bench results. The web side adds only what a server must: every path
typed into a form is checked before a job starts (outputs stay inside the workdir, inputs must
exist), and the output folder of each job is remembered, the one folder whose files it may serve.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..app.stage_views import JobFrame
from ..app.jobs import Job
from ..app.panel import Panel
from ..app.targets import DeployTarget
from ..errors import ConfigError, UserError
from ..generate.request import DEFAULT_SCENE
from ..paths import config_path
from ..sim.registry import names as backend_names
from ..sim.registry import scene_entities
from . import fields
from .paths import input_path, output_path

log = logging.getLogger(__name__)
MAX_NAME_BYTES = 200  # of a saved profile's name: NAME.toml must fit the 255 bytes of a file name


@dataclass(frozen=True)
class Frame:
    title: str
    intro: str
    actions: tuple[tuple[str, str], ...]  # (job kind, button label)
    template: str = "frame.html"


FRAMES: dict[str, Frame] = {
    "capture": Frame("Generate", "Render a labelled synthetic dataset from the profile open in the editor "
                     "(paths are relative to the workdir).", (("capture", "Generate"),)),
    "train": Frame("Train", "Train a perception model on the dataset, adapting it to unlabelled real images.",
                   (("train", "Train"),)),
    "gap": Frame("Gap", "How far the synthetic images are from real ones (KID, MMD test, colour statistics).",
                 (("gap", "Measure the gap"),)),
    "sysid": Frame("Sysid", "Identify physics parameters from real robot logs; the calibrated profile can be opened "
                   "in the editor.", (("sysid", "Fit"),), "sysid.html"),
    "pipeline": Frame("Pipeline", "The main job: generate, target set, train, gap, sysid, export, quantize, deploy "
                      "and a report, in one run folder (a shipped name such as demo_quick, or a pipeline file). "
                      "Running it again skips finished stages.", (("pipeline", "Run"),)),
    "deploy": Frame("Deploy", "Bundle the trained model, push it to a device over SSH, benchmark it there.",
                    (("bundle", "Bundle"), ("push", "Push"), ("bench", "Bench")), "deploy.html"),
}
ACTION_FRAME = {kind: frame for frame, spec in FRAMES.items() for kind, _ in spec.actions}
# the setting naming a job's output (whose files the job may serve) and the settings naming its inputs
OUTPUT_FIELD = {"capture": "out", "train": "out", "gap": "out", "sysid": "out", "pipeline": "out", "bundle": "bundle"}
INPUT_FIELDS = {"train": ("data", "target", "eval"), "gap": ("sim", "real"), "sysid": ("logs",),
                "pipeline": ("pipeline",), "bundle": ("run",), "push": ("bundle",)}
# defaults of the web panel: outputs in sub-folders of the workdir, sizes that finish quickly on a CPU
DEFAULTS: dict[str, dict[str, Any]] = {
    "capture": {"out": "datasets/capture", "frames": 32, "width": 160, "height": 120},
    "train": {"data": "datasets/capture", "out": "train/run", "config": "quick"},
    "gap": {"sim": "datasets/capture", "out": "gap/report"},
    "sysid": {"out": "sysid/fit"},
    "pipeline": {"out": "pipeline/run"},
    "deploy": {"run": "train/run", "onnx": "model/model.onnx", "bundle": "model/bundle.tar"},
}


class WebPanel:
    def __init__(self, workdir: Path, python: str | None = None, targets_file: Path | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.app = Panel(workdir, python=python, targets_path=targets_file)
        self.workdir = self.app.workdir
        self.pipeline = self.app.pipeline
        self.frames: dict[str, JobFrame] = {"capture": self.app.capture, "train": self.app.train, "gap": self.app.gap,
                                            "sysid": self.app.sysid, "pipeline": self.pipeline, "deploy": self.app.deploy}
        for frame, values in DEFAULTS.items():
            self.frames[frame].form.update(values)
        self._outputs: dict[int, Path] = {}

    @property
    def profile(self) -> Any:
        return self.app.editor

    @property
    def targets(self) -> Any:
        return self.app.targets

    def form(self, frame: str) -> Any:
        return self.frames[frame].form

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
            raise ConfigError(None, "profile", "a .toml file", text)
        return self.profile.load(path)

    def save_profile(self, name: str) -> Path:
        """Save the edited profile as ``profiles/NAME.toml`` in the workdir."""
        name = name.strip().removesuffix(".toml")
        if not name or "/" in name or "\\" in name or name.startswith(".") or not name.isprintable():
            raise ConfigError(None, "name", "a file name without folders or control characters", name)
        if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise ConfigError(None, "name", f"a file name of at most {MAX_NAME_BYTES} bytes (got {len(name)} characters)")
        path = output_path(self.workdir, "name", f"profiles/{name}.toml")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return self.profile.save(path)
        except OSError as exc:
            raise UserError(f"name: cannot write {path} ({exc.strerror or exc})") from None

    def profile_view(self) -> dict[str, Any]:
        return {"editor": self.profile.snapshot(), "shipped": self.shipped_profiles()}

    # ------------------------------------------------------------------ forms and jobs
    def specs(self, frame: str) -> list[fields.InputSpec]:
        """The inputs of a frame's form; names known only at run time (registered backends, the scene's
        cameras, stored deploy targets) become choice lists."""
        form = self.form(frame)
        values = form.snapshot()["values"]
        choices: dict[str, list[str]] = {}
        if frame == "capture":
            choices["backend"] = backend_names()
            scene = values.get("scene") or (self.profile.snapshot().get("scene")) or DEFAULT_SCENE
            choices["camera"] = scene_cameras(str(scene))
        elif frame == "deploy":
            choices["target"] = [t["name"] for t in self.targets.snapshot()["targets"]]
        for name, options in choices.items():  # what the form holds stays a choice (a typed path, an old name)
            if options and values.get(name) is not None and str(values[name]) not in options:
                options.append(str(values[name]))
        return fields.input_specs(form.model, choices)

    def update_form(self, frame: str, submitted: Mapping[str, Any]) -> bool:
        form = self.form(frame)
        specs = {s.name: s for s in self.specs(frame)}
        values = {name: fields.coerce(specs[name], submitted.get(name)) for name in specs if name in submitted}
        return form.update(values)

    def start(self, kind: str, submitted: Mapping[str, Any]) -> Job:
        """Take what was just submitted into the frame's form, check its paths, start the job."""
        frame = ACTION_FRAME.get(kind)
        if frame is None:
            raise UserError(f"unknown job {kind!r} (one of {', '.join(ACTION_FRAME)})")
        self.update_form(frame, submitted)
        settings = self.form(frame).require()
        for name in INPUT_FIELDS.get(kind, ()):
            value = settings.file() if kind == "pipeline" else getattr(settings, name, None)
            for item in value if isinstance(value, list) else [value] if value else []:
                input_path(self.workdir, f"{frame}.{name}", item)
        out = None
        if kind in OUTPUT_FIELD:
            where, value = f"{frame}.{OUTPUT_FIELD[kind]}", getattr(settings, OUTPUT_FIELD[kind])
            if not value:  # the command's default folder may lie outside the workdir: the panel names one
                raise UserError(f"{where}: expected an output folder inside the panel's workdir {self.workdir}")
            out = output_path(self.workdir, where, value)
            out = out.parent if kind == "bundle" else out
            out.parent.mkdir(parents=True, exist_ok=True)
        job = self._starter(kind)()
        if out is not None:
            self._outputs[job.ident] = out
        return job

    def _starter(self, kind: str) -> Callable[[], Job]:
        d = self.app.deploy
        return {"capture": self.app.capture.start, "train": self.app.train.start, "gap": self.app.gap.start,
                "sysid": self.app.sysid.start, "pipeline": self.pipeline.start, "bundle": d.bundle, "push": d.push,
                "bench": d.bench}[kind]

    def job(self, ident: int) -> Job:
        for job in self.app.runner.jobs:
            if job.ident == ident:
                return job
        raise UserError(f"no job {ident}")

    def jobs_of(self, frame: str) -> list[Job]:
        kinds = {k for k, f in ACTION_FRAME.items() if f == frame}
        return [j for j in reversed(self.app.runner.jobs) if j.kind in kinds]

    def output_folder(self, job: Job) -> Path:
        out = self._outputs.get(job.ident)
        if out is None:
            raise UserError(f"job {job.ident} has no output folder")
        return out

    def frame_extra(self, frame: str) -> dict[str, Any]:
        if frame == "deploy":
            return {"targets": self.targets.snapshot(), "bench": self.app.deploy.bench_results(),
                    "target_specs": fields.input_specs(DeployTarget)}
        if frame == "gap":
            return {"summary": self.app.gap.summary()}
        return {}

    def shutdown(self) -> None:
        self.app.shutdown(timeout=30)


@functools.lru_cache(maxsize=16)
def _cameras(scene: str) -> tuple[str, ...]:
    return tuple(scene_entities(scene).get("camera", []))


def scene_cameras(scene: str) -> list[str]:
    """The cameras of a scene (loaded once per scene); none when it does not load, so the field stays
    a text input and the job's own check names the problem."""
    try:
        return list(_cameras(scene))
    except Exception as exc:  # a scene typed half-way, a backend not installed: the form still works
        log.debug("no camera list for scene %r: %s", scene, exc)
        return []
