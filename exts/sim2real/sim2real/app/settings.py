"""The settings of each panel frame, as validated models that know their ``sim2real`` command line.

Each model mirrors one command's options (``sim2real generate``, ``train``, ``gap images``, ``sysid
fit``, ``export``, ``deploy bundle|push|bench``); the command validates again, so these checks are
only what a form can say before a job starts (ranges, choices), never a second implementation of
the command's own checks.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from ..config import StrictModel


def _opt(flag: str, value: object) -> list[str]:
    """``[flag, value]``, or nothing when the value is unset (the command's default applies)."""
    return [] if value is None else [flag, str(value)]


class CaptureSettings(StrictModel):
    """``sim2real generate``: a labelled synthetic dataset from the profile being edited."""

    frames: int = Field(100, ge=1, le=10_000_000, title="Frames", description="how many frames to render")
    out: str = Field("runs/capture", min_length=1, title="Output folder", description="the dataset folder to write")
    scene: str | None = Field(None, title="Scene", description="a shipped scene or an MJCF file; empty: the profile's")
    seed: int = Field(0, ge=0, title="Seed", description="same seed, same frames")
    width: int = Field(640, ge=16, le=8192, title="Width (px)", description="image width in pixels")
    height: int = Field(480, ge=16, le=8192, title="Height (px)", description="image height in pixels")
    camera: str = Field("main", title="Camera", description="the scene camera that renders")
    backend: Literal["isaac", "mujoco"] = Field("mujoco", title="Backend",  # the panel inside Isaac Sim starts with "isaac"
                                                 description="the simulator that renders")
    workers: int = Field(1, ge=1, le=256, title="Worker processes", description="frames rendered in parallel")
    layout: Literal["native", "basic"] = Field("native", title="Layout",
                                               description="native, or Replicator's BasicWriter folders")
    depth_npy: bool = Field(False, title="Depth as .npy", description="also write depth as float32 metres")

    @field_validator("workers")
    @classmethod
    def _one_isaac_process(cls, workers: int, info: ValidationInfo) -> int:
        if info.data.get("backend") == "isaac" and workers != 1:
            raise ValueError("1 with the isaac backend: the panel starts one Isaac Sim process (for several GPUs "
                             "run sim2real generate --backend isaac --workers N)")
        return workers

    def args(self, profile: str) -> list[str]:
        return ["generate", "--profile", profile, "--frames", str(self.frames), "--out", self.out,
                *_opt("--scene", self.scene), "--seed", str(self.seed), "--resolution", f"{self.width}x{self.height}",
                "--camera", self.camera, "--backend", self.backend, "--workers", str(self.workers),
                "--layout", self.layout, *(["--depth-npy"] if self.depth_npy else [])]


TrainTask = Literal["segment", "classify", "detect", "state"]
TrainMethod = Literal["source-only", "dann", "coral", "mmd", "adabn"]


class TrainSettings(StrictModel):
    """``sim2real train``: unset fields take the training config's values."""

    data: str = Field("runs/capture", min_length=1, title="Synthetic dataset",
                      description="the labelled dataset to train on (a capture's output folder)")
    out: str = Field("runs/train", min_length=1, title="Output folder", description="the training run folder")
    target: str | None = Field(None, title="Real images (unlabelled)", description="the images to adapt to")
    eval: str | None = Field(None, title="Real images (labelled)", description="scored only, never trained on")
    task: TrainTask | None = Field(None, title="Task", description="empty: the training config's")
    method: TrainMethod | None = Field(None, title="Adaptation method", description="empty: the training config's")
    config: str | None = Field(None, title="Training config", description='a TOML file or a shipped name ("quick")')
    epochs: int | None = Field(None, ge=1, le=100_000, title="Epochs", description="passes over the dataset")
    batch_size: int | None = Field(None, ge=1, le=65_536, title="Batch size (images)")
    lr: float | None = Field(None, gt=0, le=10, title="Learning rate", description="e.g. 1e-3")
    seed: int | None = Field(None, ge=0, title="Seed")
    device: Literal["auto", "cpu", "cuda"] | None = Field(None, title="Device", description="empty: auto")

    def args(self) -> list[str]:
        return ["train", "--data", self.data, "--out", self.out, *_opt("--target", self.target),
                *_opt("--eval", self.eval), *_opt("--task", self.task), *_opt("--method", self.method),
                *_opt("--config", self.config), *_opt("--epochs", self.epochs),
                *_opt("--batch-size", self.batch_size), *_opt("--lr", self.lr), *_opt("--seed", self.seed),
                *_opt("--device", self.device)]


class GapSettings(StrictModel):
    """``sim2real gap images``: how far the synthetic images are from real ones."""

    sim: str = Field("runs/capture", min_length=1, title="Synthetic images", description="a dataset or image folder")
    real: str = Field("", min_length=1, title="Real images", description="a dataset or image folder")
    out: str | None = Field(None, title="Report folder")
    features: str = Field("random", title="Features",
                          description='"random" (a fixed random network) or "model:RUN" (a trained encoder)')
    size: int = Field(64, ge=8, le=1024, title="Image size (px)", description="images are resized to size x size")
    max_images: int | None = Field(None, ge=2, title="Images per side (max)", description="empty: all")
    seed: int = Field(0, ge=0, title="Seed")

    def args(self) -> list[str]:
        return ["gap", "images", self.sim, self.real, *_opt("--out", self.out), "--features", self.features,
                "--size", str(self.size), *_opt("--max-images", self.max_images), "--seed", str(self.seed)]


class SysidSettings(StrictModel):
    """``sim2real sysid fit``: physics identified from real logs; its calibrated profile can be loaded."""

    model: str = Field("arm2", min_length=1, title="Robot model", description="a shipped model or an MJCF file")
    logs: list[str] = Field(default_factory=list, title="Real logs", description="one log file per line")
    params: str = Field("", min_length=1, title="Parameters",
                        description="a .toml file or targets, e.g. body:*/mass")
    out: str | None = Field(None, title="Output folder")
    profile: str | None = Field(None, title="Base profile", description="the profile to calibrate (optional)")
    optimizer: Literal["lsq", "cma"] = Field("lsq", title="Optimizer",
                                             description="lsq: least squares; cma: CMA-ES")
    max_iter: int = Field(100, ge=1, le=1_000_000, title="Iterations (max)")
    seed: int = Field(0, ge=0, title="Seed")

    def args(self) -> list[str]:
        logs = [a for log in self.logs for a in ("--log", log)]
        return ["sysid", "fit", "--model", self.model, *logs, "--params", self.params, *_opt("--out", self.out),
                *_opt("--profile", self.profile), "--optimizer", self.optimizer, "--max-iter", str(self.max_iter),
                "--seed", str(self.seed)]


class DeploySettings(StrictModel):
    """``sim2real export``, ``deploy bundle``, ``deploy push`` and ``deploy bench`` of one training run."""

    run: str = Field("runs/train", min_length=1, title="Training run", description="the run folder to ship")
    onnx: str = Field("runs/model/model.onnx", min_length=1, title="ONNX file")
    bundle: str = Field("runs/model/bundle.tar", min_length=1, title="Bundle file")
    precision: str = Field("fp32,int8", pattern=r"^(fp32|int8|fp16)(,(fp32|int8|fp16))*$", title="Precisions",
                           description="comma-separated: fp32, fp16, int8")
    target: str | None = Field(None, title="Device", description="a stored deploy target (below)")
    root: str = Field("sim2real", min_length=1, title="Folder on the device")
    iterations: int = Field(100, ge=1, le=1_000_000, title="Timed inferences", description="bench")
    warmup: int = Field(10, ge=0, le=100_000, title="Warm-up inferences", description="bench, not timed")

    def export_args(self) -> list[str]:
        return ["export", self.run, "--onnx", self.onnx, "--precision", self.precision]

    def bundle_args(self) -> list[str]:
        return ["deploy", "bundle", self.run, "--out", self.bundle, "--precision", self.precision]
