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

    frames: int = Field(100, ge=1, le=10_000_000)
    out: str = Field("runs/capture", min_length=1)
    scene: str | None = None  # default: the profile's scene
    seed: int = Field(0, ge=0)
    width: int = Field(640, ge=16, le=8192)  # pixels
    height: int = Field(480, ge=16, le=8192)
    camera: str = "main"
    backend: Literal["isaac", "mujoco"] = "mujoco"  # the panel inside Isaac Sim starts with "isaac"
    workers: int = Field(1, ge=1, le=256)
    layout: Literal["native", "basic"] = "native"
    depth_npy: bool = False

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


TrainTask = Literal["segment", "classify", "state"]
TrainMethod = Literal["source-only", "dann", "coral", "mmd", "adabn"]


class TrainSettings(StrictModel):
    """``sim2real train``: unset fields take the training config's values."""

    data: str = Field("runs/capture", min_length=1)  # the synthetic dataset (the capture's out)
    out: str = Field("runs/train", min_length=1)
    target: str | None = None  # unlabelled real images
    eval: str | None = None  # labelled real set for metrics only
    task: TrainTask | None = None
    method: TrainMethod | None = None
    config: str | None = None  # a TOML file or a shipped name such as "quick"
    epochs: int | None = Field(None, ge=1, le=100_000)
    batch_size: int | None = Field(None, ge=1, le=65_536)
    lr: float | None = Field(None, gt=0, le=10)
    seed: int | None = Field(None, ge=0)
    device: Literal["auto", "cpu", "cuda"] | None = None

    def args(self) -> list[str]:
        return ["train", "--data", self.data, "--out", self.out, *_opt("--target", self.target),
                *_opt("--eval", self.eval), *_opt("--task", self.task), *_opt("--method", self.method),
                *_opt("--config", self.config), *_opt("--epochs", self.epochs),
                *_opt("--batch-size", self.batch_size), *_opt("--lr", self.lr), *_opt("--seed", self.seed),
                *_opt("--device", self.device)]


class GapSettings(StrictModel):
    """``sim2real gap images``: how far the synthetic images are from real ones."""

    sim: str = Field("runs/capture", min_length=1)
    real: str = Field("", min_length=1)
    out: str | None = None
    features: str = "random"  # or "model:RUN" (a trained model's encoder)
    size: int = Field(64, ge=8, le=1024)  # pixels
    max_images: int | None = Field(None, ge=2)
    seed: int = Field(0, ge=0)

    def args(self) -> list[str]:
        return ["gap", "images", self.sim, self.real, *_opt("--out", self.out), "--features", self.features,
                "--size", str(self.size), *_opt("--max-images", self.max_images), "--seed", str(self.seed)]


class SysidSettings(StrictModel):
    """``sim2real sysid fit``: physics identified from real logs; its calibrated profile can be loaded."""

    model: str = Field("arm2", min_length=1)
    logs: list[str] = Field(default_factory=list)
    params: str = Field("", min_length=1)  # a .toml file or targets, e.g. 'body:*/mass'
    out: str | None = None
    profile: str | None = None  # base profile to calibrate
    optimizer: Literal["lsq", "cma"] = "lsq"
    max_iter: int = Field(100, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0)

    def args(self) -> list[str]:
        logs = [a for log in self.logs for a in ("--log", log)]
        return ["sysid", "fit", "--model", self.model, *logs, "--params", self.params, *_opt("--out", self.out),
                *_opt("--profile", self.profile), "--optimizer", self.optimizer, "--max-iter", str(self.max_iter),
                "--seed", str(self.seed)]


class DeploySettings(StrictModel):
    """``sim2real export``, ``deploy bundle``, ``deploy push`` and ``deploy bench`` of one training run."""

    run: str = Field("runs/train", min_length=1)
    onnx: str = Field("runs/model/model.onnx", min_length=1)
    bundle: str = Field("runs/model/bundle.tar", min_length=1)
    precision: str = Field("fp32,int8", pattern=r"^(fp32|int8|fp16)(,(fp32|int8|fp16))*$")
    target: str | None = None  # the name of a stored deploy target
    root: str = Field("sim2real", min_length=1)  # the deploy folder on the device
    iterations: int = Field(100, ge=1, le=1_000_000)  # bench: timed inferences
    warmup: int = Field(10, ge=0, le=100_000)

    def export_args(self) -> list[str]:
        return ["export", self.run, "--onnx", self.onnx, "--precision", self.precision]

    def bundle_args(self) -> list[str]:
        return ["deploy", "bundle", self.run, "--out", self.bundle, "--precision", self.precision]
