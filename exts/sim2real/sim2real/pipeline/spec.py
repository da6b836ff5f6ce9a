"""The pipeline file (TOML): which stages run, and their settings.

Every section but ``[generate]`` is optional; a missing section is a stage that does not run. Paths
are relative to the pipeline file's folder; profiles, scenes and sysid files may also be named by
their shipped name (``tabletop``, ``arm2_surrogate``). Unknown keys, wrong types and inconsistent
sections are one-line ``ConfigError``s naming the file and the dotted key. Format:
``exts/sim2real/docs/pipeline.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, StrictInt, StrictStr, field_validator, model_validator

from ..config import StrictModel, load_model, parse_model, read_toml
from ..train.config import MethodName, TrainConfig, ValidatorName

Signal = Literal["multisine", "chirp", "prbs"]


class GenerateSection(StrictModel):
    """The labelled synthetic dataset (``sim2real generate``)."""

    profile: StrictStr = "tabletop"  # a profile file, or the name of one in config/profiles/
    scene: StrictStr | None = None  # default: the profile's scene
    frames: StrictInt = Field(ge=1)
    seed: StrictInt = 0
    resolution: tuple[StrictInt, StrictInt] = (128, 96)  # width, height (pixels)
    camera: StrictStr = "main"
    workers: StrictInt = Field(1, ge=1)  # renderer processes (the output does not depend on it)


class TargetSection(StrictModel):
    """The unlabelled "real" images training adapts to, and an optional labelled evaluation set.

    ``source = "surrogate"`` renders a SURROGATE target domain with a held-out profile (the demo's
    stand-in for a camera); ``"images"`` is a folder of the robot's images, ``"bag"`` an image topic
    of a ROS 2 bag / MCAP file.
    """

    source: Literal["surrogate", "images", "bag"] = "surrogate"
    profile: StrictStr = "tabletop_target"  # surrogate: the held-out profile
    frames: StrictInt = Field(200, ge=2)  # surrogate: unlabelled target images
    eval_frames: StrictInt = Field(100, ge=0)  # surrogate: labelled evaluation images (another seed); 0: none
    seed: StrictInt = 1  # surrogate: seed of the target images (the evaluation set uses seed + 1)
    path: StrictStr | None = None  # images / bag: the folder or bag file
    topic: StrictStr | None = None  # bag: the image topic (optional when the bag has one)
    eval: StrictStr | None = None  # images / bag: a labelled evaluation set (dataset or images/+masks/+labels.json)
    max_images: StrictInt | None = Field(None, ge=2)  # images / bag: use at most this many

    @model_validator(mode="after")
    def _consistent(self) -> TargetSection:
        if self.source == "surrogate" and (self.path or self.topic or self.eval):
            raise ValueError("path, topic and eval are for source = 'images' or 'bag'; a surrogate target is rendered")
        if self.source != "surrogate" and not self.path:
            raise ValueError(f"source = {self.source!r} needs path = the robot's images (a folder or a bag)")
        if self.source == "images" and self.topic:
            raise ValueError("topic applies to source = 'bag'")
        return self


class TrainSection(TrainConfig):
    """``sim2real train`` once per method; every key of the training configuration applies to all.

    ``deploy`` pins the method whose model is exported; by default (``"best"``) the one that scores best on
    ``deploy_by`` ships (``pipeline.select``).
    """

    methods: list[MethodName] = Field(default_factory=lambda: ["source-only", "dann"], min_length=1)
    deploy: Literal["best"] | MethodName = "best"
    deploy_by: Literal["auto", "target"] | ValidatorName = "auto"

    @model_validator(mode="after")
    def _methods(self) -> TrainSection:
        if "method" in self.model_fields_set:
            raise ValueError("use methods = [...] (a list) in a pipeline; 'method' is for sim2real train")
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods: each method once (got {self.methods})")
        if self.deploy != "best" and self.deploy not in self.methods:
            raise ValueError(f"deploy = {self.deploy!r} must be 'best' or one of methods {self.methods}")
        if self.deploy_by not in ("auto", "target") and self.deploy_by not in (self.validators or []):
            raise ValueError(f"deploy_by = {self.deploy_by!r} must be 'auto', 'target' or one of the validators "
                             f"{self.validators}")
        return self

    def for_method(self, method: str) -> TrainConfig:
        data = self.model_dump(mode="json", exclude={"methods", "deploy", "deploy_by", "method"})
        return TrainConfig.model_validate({**data, "method": method})


class GapSection(StrictModel):
    """The image gap between the synthetic and the target images (``sim2real gap images``)."""

    features: Literal["model", "random"] = "model"  # model: each trained model's encoder (+ random)
    size: StrictInt = Field(64, ge=8)  # square side fed to the features, pixels
    max_images: StrictInt = Field(200, ge=4)  # per side
    kid_subsets: StrictInt = Field(50, ge=1)
    kid_subset_size: StrictInt = Field(1000, ge=2)
    permutations: StrictInt = Field(100, ge=10)
    seed: StrictInt = 0


class SurrogateLogs(StrictModel):
    """Logs recorded on a SURROGATE robot (a simulated robot with hidden differences), for the demo."""

    spec: StrictStr = "arm2_surrogate"  # a surrogate spec file, or a name in data/sysid/
    signals: list[Signal] = Field(default_factory=lambda: ["multisine", "multisine", "chirp"], min_length=2)
    holdout: StrictInt = Field(1, ge=0)  # the last N logs are held out for validation
    duration_s: float = Field(12.0, gt=0)
    rate_hz: float = Field(100.0, gt=0)
    amplitude: list[float] = Field(default_factory=lambda: [0.8, 1.0], min_length=1)  # command units
    center: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    max_velocity: list[float] | None = Field(default_factory=lambda: [4.0, 6.0])  # command units / s
    band_hz: tuple[float, float] = (0.2, 4.0)
    seed: StrictInt = 1

    @model_validator(mode="after")
    def _holdout(self) -> SurrogateLogs:
        if self.holdout >= len(self.signals):
            raise ValueError(f"holdout = {self.holdout} leaves no log to fit ({len(self.signals)} signals)")
        return self


class SysidSection(StrictModel):
    """System identification (``sim2real sysid fit``) on the robot's logs, or on a surrogate's."""

    model: StrictStr = "arm2"  # scene / MJCF of the robot
    params: StrictStr = "arm2_params"  # a parameter file (or a name in data/sysid/), or targets 'body:*/mass,...'
    logs: list[StrictStr] = []  # the robot's logs (CSV, Parquet, JSON lines, bags); or [sysid.surrogate]
    holdout: list[StrictStr] = []  # the robot's held-out logs
    surrogate: SurrogateLogs | None = None
    topic: StrictStr | None = None  # bags: measurement topic
    command_topic: StrictStr | None = None  # bags: command topic
    optimizer: Literal["lsq", "cma"] = "lsq"
    max_iter: StrictInt = Field(100, ge=1)
    holdout_fraction: float = Field(0.25, ge=0, lt=0.9)
    safety: float = Field(2.0, ge=1)  # x the confidence half-width: never narrower than the data support
    profile: StrictStr | None = None  # a base randomization profile to calibrate
    seed: StrictInt = 0
    threads: StrictInt = Field(2, ge=1)

    @model_validator(mode="after")
    def _one_source(self) -> SysidSection:
        if bool(self.logs) == (self.surrogate is not None):
            raise ValueError("expected either logs = [...] (the robot's logs) or a [sysid.surrogate] table, not both")
        if self.holdout and not self.logs:
            raise ValueError("holdout logs go with logs = [...]")
        return self


class ExportSection(StrictModel):
    """ONNX export of the deployed method's model, checked against PyTorch."""

    eval_images: StrictInt = Field(32, ge=1)  # evaluation images: parity here, scores in quantize and deploy
    tolerance: float = Field(1e-4, gt=0)  # largest |onnxruntime - PyTorch| allowed (FP32)


class QuantizeSection(StrictModel):
    """INT8 (static, QDQ, calibrated on synthetic and target images) and FP16 versions."""

    int8: bool = True
    fp16: bool = False
    calibration_images: StrictInt = Field(64, ge=2)  # half synthetic, half target
    calibration: Literal["minmax", "entropy", "percentile"] = "minmax"
    latency_runs: StrictInt = Field(50, ge=5)  # batch-1 runs per model for the latency figure

    @model_validator(mode="after")
    def _one_precision_at_least(self) -> QuantizeSection:
        if not (self.int8 or self.fp16):
            raise ValueError("expected int8 = true and/or fp16 = true (or remove [quantize])")
        return self


class DeploySection(StrictModel):
    """Push the bundle to a device over SSH and benchmark it there (only when configured)."""

    target: StrictStr  # user@host[:port]
    identity: StrictStr | None = None  # private key file (default: the SSH agent and ~/.ssh keys)
    known_hosts: StrictStr | None = None  # default: ~/.ssh/known_hosts
    accept_new_host_key: bool = False  # first contact only: record the device's key (a changed key is refused)
    root: StrictStr = "sim2real"  # deploy folder on the device (relative to the login's home)
    python: StrictStr = "python3"  # the device's Python (numpy and onnxruntime)
    keep: StrictInt = Field(3, ge=1)  # releases kept on the device
    iterations: StrictInt = Field(100, ge=1)
    warmup: StrictInt = Field(10, ge=0)

    @field_validator("target")
    @classmethod
    def _target(cls, v: str) -> str:
        user, _, host = v.partition("@")
        if not user or not host:
            raise ValueError("expected user@host[:port]")
        return v


class ReportSection(StrictModel):
    samples: StrictInt = Field(6, ge=1, le=32)  # frames shown per image grid
    histograms: StrictInt = Field(24, ge=0, le=96)  # parameter histograms drawn (the most varied first)


class PipelineSpec(StrictModel):
    version: Literal[1] = 1
    name: StrictStr = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: StrictStr = ""
    generate: GenerateSection
    target: TargetSection | None = None
    train: TrainSection | None = None
    gap: GapSection | None = None
    sysid: SysidSection | None = None
    export: ExportSection | None = None
    quantize: QuantizeSection | None = None
    deploy: DeploySection | None = None
    report: ReportSection = Field(default_factory=ReportSection)

    @model_validator(mode="after")
    def _stages_fit(self) -> PipelineSpec:
        adapted = [m for m in self.train.methods if m != "source-only"] if self.train else []
        needs = [
            (bool(adapted) and self.target is None, f"train: methods {adapted} adapt to target images; add a [target] section"),
            (self.train is not None and self.train.deploy_by == "target" and not _labelled_target(self.target),
             "train.deploy_by = 'target' needs a labelled target evaluation set ([target] eval_frames or eval)"),
            (self.gap is not None and (self.train is None and self.gap.features == "model"),
             "gap: features = 'model' needs a [train] section (or features = 'random')"),
            (self.gap is not None and self.target is None, "gap: needs a [target] section (the images to compare with)"),
            (self.export is not None and self.train is None, "export: needs a [train] section (the model to export)"),
            (self.quantize is not None and self.export is None, "quantize: needs an [export] section"),
            (self.deploy is not None and self.export is None, "deploy: needs an [export] section"),
        ]
        for failed, message in needs:
            if failed:
                raise ValueError(message)
        return self


def _labelled_target(target: TargetSection | None) -> bool:
    if target is None:
        return False
    return target.eval_frames > 0 if target.source == "surrogate" else target.eval is not None


def load_pipeline(path: str | PathLike[str], overrides: Sequence[str] = ()) -> PipelineSpec:
    """Read and validate a pipeline file, with dotted ``key=value`` overrides (``train.epochs=2``) on top
    (one-line ``ConfigError`` on any problem)."""
    if not overrides:
        return load_model(path, PipelineSpec)
    from ..overrides import apply_overrides, parse_overrides

    return parse_model(apply_overrides(read_toml(path), parse_overrides(overrides, PipelineSpec)), PipelineSpec,
                       source=path)


def resolve_path(value: str, base_dir: Path) -> Path:
    """A path from the pipeline file: absolute, or relative to the file's folder (``~`` expanded)."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def section_dict(section: Any) -> dict[str, Any]:
    """A section's settings as plain JSON (for hashing and stage records)."""
    return section.model_dump(mode="json") if section is not None else {}
