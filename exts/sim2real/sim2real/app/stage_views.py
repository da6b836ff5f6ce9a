"""The panel's frames as view-models: Randomize preview, Capture, Train, Gap, Sysid and Deploy.

Each job frame holds a settings ``Form`` and shows the latest job of its kind; ``start()`` launches the
command through the ``JobRunner`` and a refused start (an invalid form, a profile with errors, a job
of the kind already running) is kept in ``error`` for the frame to show, as well as raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..generate.isaac_launcher import SCRIPT as ISAAC_SCRIPT
from ..paths import resource_root
from ..randomize.profile import save_profile
from .forms import Form
from .jobs import Job, JobRunner
from .observable import Observable
from .profile_editor import ProfileEditor
from .settings import CaptureSettings, DeploySettings, GapSettings, SysidSettings, TrainSettings
from .targets import TargetsStore

PANEL_DIR = ".sim2real-panel"  # under the work folder: the profiles jobs were started with


class JobFrame(Observable):
    """A form, the jobs it starts (by kind) and the error of the last refused start."""

    kinds: tuple[str, ...] = ()

    def __init__(self, runner: JobRunner, form: Form[Any]) -> None:
        super().__init__()
        self.runner = runner
        self.form = form
        self.error: str | None = None
        form.subscribe(lambda _m: self._changed())
        runner.subscribe(lambda _m: self._changed())

    def job(self, kind: str | None = None) -> Job | None:
        """The latest job of ``kind`` (default: of any kind this frame starts)."""
        jobs = [j for j in (self.runner.latest(k) for k in ((kind,) if kind else self.kinds)) if j is not None]
        return max(jobs, key=lambda j: j.ident) if jobs else None

    @property
    def busy(self) -> bool:
        return any(self.runner.active(k) is not None for k in self.kinds)

    def cancel(self) -> None:
        for kind in self.kinds:
            job = self.runner.active(kind)
            if job is not None:
                job.cancel()

    def _start(self, kind: str, args_of: Any, progress: bool = True, program: Sequence[str] | None = None) -> Job:
        """Start ``sim2real ARGS`` (or ``PROGRAM ARGS``) where ``args_of(settings)`` gives ARGS; a refusal is kept
        in ``error``."""
        try:
            if self.busy:
                raise UserError(f"a {self.job().kind} job is running already; wait for it or cancel it")  # type: ignore[union-attr]
            job = self.runner.start(kind, args_of(self.form.require()), progress=progress, program=program)
        except UserError as err:
            self.error = str(err)
            self._changed()
            raise
        self.error = None
        self._changed()
        return job

    def snapshot(self) -> dict[str, Any]:
        job = self.job()
        return {"settings": self.form.snapshot(), "error": self.error, "busy": self.busy,
                "job": job.snapshot() if job is not None else None}


class CaptureFrame(JobFrame):
    """``sim2real generate`` with the profile being edited: frames done, sample images, result.

    With the isaac backend the job is Isaac Sim's own headless script (``isaac_python`` + ``tools/isaac/
    generate.py``, the same options), so it runs in Isaac Sim's interpreter and environment; the mujoco
    backend runs ``sim2real generate`` with the runner's Python."""

    kinds = ("capture",)

    def __init__(self, runner: JobRunner, editor: ProfileEditor, isaac_python: Sequence[str] | None = None) -> None:
        super().__init__(runner, Form(CaptureSettings, {"backend": "isaac"} if isaac_python else None, name="capture"))
        self.editor = editor
        self.isaac_python = list(isaac_python) if isaac_python else None

    def start(self, scene: str | None = None) -> Job:
        """Start the capture; ``scene``: the stage to render when the form names none (inside Isaac Sim: the
        open stage's file)."""
        def args(settings: CaptureSettings) -> list[str]:
            if settings.scene is None and scene:
                settings = settings.model_copy(update={"scene": scene})
            return settings.args(str(self._profile_file()))

        if self.form.values.get("backend") == "isaac":
            return self._start("capture", lambda s: args(s)[1:], program=self._isaac_program())
        return self._start("capture", args)

    def _isaac_program(self) -> list[str]:
        if not self.isaac_python:
            self.error = ("capture.backend: the isaac backend renders with Isaac Sim's Python: open the panel inside "
                          "Isaac Sim or set ISAAC_SIM_PATH")
            self._changed()
            raise UserError(self.error)
        return [*self.isaac_python, str(resource_root() / ISAAC_SCRIPT)]

    def _profile_file(self) -> Path:
        """The valid profile of the enabled categories, written where the job can read it."""
        try:
            profile = self.editor.require()
        except UserError as err:
            raise UserError(f"profile: {err}") from None
        folder = (self.runner.cwd or Path.cwd()) / PANEL_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return save_profile(profile, folder / f"profile-{profile.hash}.toml")

    def state(self) -> dict[str, Any]:
        """Frames done of total, the newest sample image, the result: what the Capture frame shows."""
        job = self.job()
        if job is None:
            return {"done": 0, "total": None, "sample_image": None, "result": None}
        event = job.progress("generate") or {}
        return {"done": event.get("done", 0), "total": event.get("total"), "sample_image": job.artifact("sample_image"),
                "result": job.result}

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "state": self.state()}


class TrainFrame(JobFrame):
    """``sim2real train``; its ``epoch`` metrics (loss, validators, target scores) are the plot's series."""

    kinds = ("train",)

    def __init__(self, runner: JobRunner) -> None:
        super().__init__(runner, Form(TrainSettings, name="train"))

    def start(self) -> Job:
        return self._start("train", lambda s: s.args())

    def loss(self) -> list[float]:
        job = self.job()
        return job.series.values("epoch", "loss") if job is not None else []


class GapFrame(JobFrame):
    """``sim2real gap images``: KID, MMD test, colour statistics and the HTML report."""

    kinds = ("gap",)

    def __init__(self, runner: JobRunner) -> None:
        super().__init__(runner, Form(GapSettings, name="gap"))

    def start(self) -> Job:
        return self._start("gap", lambda s: s.args())

    def summary(self) -> dict[str, Any] | None:
        job = self.job()
        if job is None or job.result is None:
            return None
        r = job.result
        return {"report": r.get("report") or job.artifact("report"), "kid": (r.get("kid") or {}).get("mean"),
                "kid_std": (r.get("kid") or {}).get("std"), "mmd_p_value": (r.get("mmd") or {}).get("p_value")}

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "summary": self.summary()}


class SysidFrame(JobFrame):
    """``sim2real sysid fit``; ``use_calibrated()`` opens the calibrated profile in the editor."""

    kinds = ("sysid",)

    def __init__(self, runner: JobRunner, editor: ProfileEditor) -> None:
        super().__init__(runner, Form(SysidSettings, name="sysid"))
        self.editor = editor

    def start(self) -> Job:
        return self._start("sysid", lambda s: s.args())

    def use_calibrated(self) -> bool:
        job = self.job()
        path = (job.result or {}).get("profile") if job is not None and job.state == "succeeded" else None
        if not path:
            raise UserError("no calibrated profile yet: run a fit with a base profile first")
        return self.editor.load(Path(self.runner.cwd or Path.cwd()) / path)


class DeployFrame(JobFrame):
    """Export, bundle, push to a stored target, and bench on it (latency, FPS, accuracy per precision)."""

    kinds = ("export", "bundle", "push", "bench")

    def __init__(self, runner: JobRunner, targets: TargetsStore) -> None:
        super().__init__(runner, Form(DeploySettings, name="deploy"))
        self.targets = targets
        targets.subscribe(lambda _m: self._changed())

    def export(self) -> Job:
        return self._start("export", lambda s: s.export_args())

    def bundle(self) -> Job:
        return self._start("bundle", lambda s: s.bundle_args())

    def push(self) -> Job:
        return self._start("push", lambda s: ["deploy", "push", s.bundle, *self._ssh(s), "--root", s.root])

    def bench(self) -> Job:
        """``deploy bench --json`` (a short remote run: its result is the JSON it prints)."""
        return self._start("bench", lambda s: ["deploy", "bench", *self._ssh(s), "--root", s.root, "--iterations",
                                               str(s.iterations), "--warmup", str(s.warmup), "--json"], progress=False)

    def _ssh(self, settings: DeploySettings) -> list[str]:
        if not settings.target:
            raise UserError("deploy.target: expected the name of a stored target (add one under Targets)")
        try:
            return self.targets.get(settings.target).ssh_args()
        except UserError as err:
            raise UserError(f"deploy.target: {err}") from None

    def bench_results(self) -> dict[str, Any] | None:
        """The last successful bench: one row per precision (latency percentiles, FPS, accuracy)."""
        job = self.job("bench")
        data = job.output_json() if job is not None and job.state == "succeeded" else None
        if not isinstance(data, dict):
            return None
        metric = data.get("metric")
        rows = []
        for row in data.get("results", []):
            lat, acc, engine = row.get("latency", {}), row.get("accuracy", {}), row.get("engine", {})
            rows.append({"precision": row.get("precision"), "backend": engine.get("backend"),
                         "p50_ms": lat.get("p50_ms"), "p95_ms": lat.get("p95_ms"), "p99_ms": lat.get("p99_ms"),
                         "fps": lat.get("fps"), "accuracy": acc.get(metric),
                         "host_accuracy": (row.get("host_torch") or {}).get(metric)})
        return {"target": data.get("target"), "bundle": data.get("bundle"), "metric": metric, "rows": rows}

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "bench": self.bench_results(), "targets": self.targets.names()}


class RandomizePreview(Observable):
    """"Randomize now": which (profile, seed, episode) to apply to the open stage, and what it did.

    The UI asks ``next()`` for the sample to apply, applies it with its engine (inside Isaac Sim,
    ``sim2real_isaac``'s randomizer service), then reports ``applied(record)`` or ``failed(message)``.
    Episode numbers advance so every click shows a new draw that the same seed reproduces.
    """

    def __init__(self, editor: ProfileEditor) -> None:
        super().__init__()
        self.editor = editor
        self.seed = 0
        self.episode = -1
        self.record: dict[str, Any] | None = None
        self.error: str | None = None

    def set_seed(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UserError(f"randomize.seed: expected a whole number >= 0 (got {seed!r})")
        with self._lock:
            self.seed, self.episode = seed, -1
        self._changed()

    def next(self) -> tuple[Any, int, int]:
        """(profile, seed, episode) of the next draw; a ``UserError`` when the profile is invalid."""
        try:
            profile = self.editor.require()
        except UserError as err:
            self.failed(str(err))
            raise
        with self._lock:
            self.episode += 1
            return profile, self.seed, self.episode

    def applied(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.record, self.error = record, None
        self._changed()

    def failed(self, message: str) -> None:
        with self._lock:
            self.error = message
        self._changed()

    def snapshot(self) -> dict[str, Any]:
        from ..fsutil import to_jsonable

        with self._lock:
            return {"revision": self.revision, "seed": self.seed, "episode": self.episode,
                    "record": to_jsonable(self.record), "error": self.error}
