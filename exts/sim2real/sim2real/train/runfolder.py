"""The run folder contract (read by export and the pipeline; documented in docs/training.md).

    RUN/run.json                 provenance: kind "train", id, inputs, parents (dataset, target, eval ids)
    RUN/config.json              the full TrainConfig and the inputs (a resume must match it)
    RUN/model.json               ModelSpec: architecture + constructor config, task, classes, input, normalisation
    RUN/checkpoints/epoch_NNN.pt model, method, optimiser, scheduler and RNG states after epoch NNN
    RUN/best.pt                  the shipped inference weights: the last epoch's, or a ``select`` validator's pick
    RUN/**/*.pt.sha256           the sha256 of each ``.pt`` (``sim2real.checksums``), checked on every load
    RUN/best.json                {"epoch", "select", "validator", "value", "reason", "checkpoint"}
    RUN/metrics.json             per-epoch losses, validators, source and target scores
    RUN/tb/                      TensorBoard event files

``load_model(RUN)`` gives ``(torch.nn.Module in eval mode, ModelSpec)``; ``ModelSpec.prepare``
turns uint8 images into the model's input.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import checksums
from ..errors import InputError, IntegrityError
from ..fsutil import atomic_write_json, read_json
from .models import ARCHITECTURES, build

CONFIG, MODEL, METRICS, BEST, BEST_INFO, CHECKPOINTS, TB = (
    "config.json", "model.json", "metrics.json", "best.pt", "best.json", "checkpoints", "tb")
SPEC_FORMAT = "sim2real-model"
CHECKPOINT_FORMAT = "sim2real-checkpoint"
FORMAT_VERSION = 1


@dataclass
class ModelSpec:
    """Everything needed to rebuild a model and feed it: what ``model.json`` holds."""

    arch: str
    config: dict[str, Any]  # constructor arguments of ``ARCHITECTURES[arch]``
    task: str
    classes: list[str]  # segment/classify: class names by output index; state: target names
    input: dict[str, Any]  # images: {"width", "height", "channels": ["r","g","b"(,"depth")], "range": "0..1",
    #                        "resize": ...}; state: {"features": [names]}
    normalization: dict[str, list[float]]  # {"mean": [...], "std": [...]} per input channel, after scaling to 0..1
    depth_units: str | None = None  # "m" when the fourth input channel is depth in metres
    outputs: dict[str, Any] = field(default_factory=dict)  # state: {"mean", "std"} to turn outputs into units
    method: str = ""
    run_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"format": SPEC_FORMAT, "version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> ModelSpec:
        if data.get("format") != SPEC_FORMAT:
            raise InputError(f"{source}: not a sim2real model description (format {data.get('format')!r})")
        try:
            fields = {k: data[k] for k in ("arch", "config", "task", "classes", "input", "normalization")}
            extra = {k: data[k] for k in ("depth_units", "outputs", "method", "run_id") if k in data}
        except KeyError as exc:
            raise IntegrityError(f"{source}: missing key {exc}") from None
        if fields["arch"] not in ARCHITECTURES:
            raise InputError(f"{source}: unknown architecture {fields['arch']!r} (this sim2real has "
                             f"{', '.join(ARCHITECTURES)})")
        return cls(**fields, **extra)

    def build(self) -> nn.Module:
        return build(self.arch, self.config)

    def prepare(self, images: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
        """uint8 ``(N, H, W, 3)`` images (already at the input size) [+ depth ``(N, H, W)`` metres]
        -> float32 ``(N, C, H, W)`` standardised model input."""
        x = np.asarray(images, dtype=np.float32).transpose(0, 3, 1, 2) / np.float32(255.0)
        if self.depth_units:
            if depth is None:
                raise InputError(f"model {self.arch} expects RGB-D input (depth in {self.depth_units}); got RGB only")
            x = np.concatenate([x, np.asarray(depth, dtype=np.float32)[:, None]], axis=1)
        mean = np.asarray(self.normalization["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(self.normalization["std"], dtype=np.float32).reshape(1, -1, 1, 1)
        return (x - mean) / std


def write_spec(run: Path, spec: ModelSpec) -> None:
    atomic_write_json(run / MODEL, spec.to_dict())


def read_spec(run: str | PathLike[str]) -> ModelSpec:
    path = Path(run) / MODEL
    data = read_json(path, f"{run}: not a sim2real training run (no {MODEL})", corrupt=IntegrityError)
    return ModelSpec.from_dict(data, str(path))


# ---------------------------------------------------------------- checkpoint files


def save_torch(path: Path, obj: dict[str, Any]) -> Path:
    """``torch.save`` to a temporary name, then rename (a kill never leaves a torn checkpoint),
    with the file's sha256 recorded beside it (``checksums.write_bytes``)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return checksums.write_bytes(path, buf.getvalue())


def load_torch(path: Path) -> dict[str, Any]:
    """A sim2real checkpoint, after checking its recorded sha256 (``IntegrityError`` naming the file
    on a mismatch; ``InputError`` for a missing or foreign file)."""
    if not Path(path).is_file():
        raise InputError(f"{path}: no such checkpoint")
    checksums.verify(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # torch raises many types for a foreign or corrupt file
        raise InputError(f"{path}: not a readable sim2real checkpoint ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path}: not a sim2real checkpoint")
    return obj


def checkpoint_path(run: Path, epoch: int) -> Path:
    return run / CHECKPOINTS / f"epoch_{epoch:03d}.pt"


def checkpoint_epochs(run: Path) -> list[int]:
    folder = run / CHECKPOINTS
    out = []
    for p in folder.glob("epoch_*.pt") if folder.is_dir() else []:
        try:
            out.append(int(p.stem.split("_", 1)[1]))
        except ValueError:
            continue
    return sorted(out)


def check_same_model(ckpt: dict[str, Any], spec: ModelSpec, path: Path) -> None:
    """A checkpoint made by another model is a one-line error, not a torch traceback."""
    if ckpt.get("arch") != spec.arch or ckpt.get("model_config") != spec.config:
        raise InputError(
            f"{path}: checkpoint of a {ckpt.get('arch')} {_short(ckpt.get('model_config'))}, but the run's "
            f"{MODEL} describes a {spec.arch} {_short(spec.config)}; expected a checkpoint of this model")


def load_weights(model: nn.Module, state: dict[str, Any], path: Path) -> None:
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{path}: weights do not fit the model ({first[:160]})") from None


def _short(config: Any) -> str:
    if not isinstance(config, dict):
        return repr(config)
    return "(" + ", ".join(f"{k}={v}" for k, v in config.items()) + ")"


def checkpoint_choice(run: str | PathLike[str], checkpoint: str | PathLike[str] | None = None) -> dict[str, Any]:
    """Which file ``load_model`` loads and why: ``{"file", "epoch", "select", "reason"}``."""
    run = Path(run)
    if checkpoint is not None:
        ckpt = load_torch(Path(checkpoint))
        return {"file": str(checkpoint), "epoch": ckpt.get("epoch"), "select": "given",
                "reason": f"the checkpoint given ({Path(checkpoint).name}, epoch {ckpt.get('epoch')})"}
    if (run / BEST).is_file():
        info = read_json(run / BEST_INFO, f"{run}: {BEST} without {BEST_INFO}", corrupt=IntegrityError) \
            if (run / BEST_INFO).is_file() else {}
        epoch = info.get("epoch")
        reason = info.get("reason") or f"epoch {epoch}, chosen by {info.get('validator')}"  # runs made before reasons
        return {"file": str(run / BEST), "epoch": epoch, "select": info.get("select", info.get("validator")),
                "reason": reason}
    epochs = checkpoint_epochs(run)
    last = epochs[-1] if epochs else None
    return {"file": str(checkpoint_path(run, last)) if last else None, "epoch": last, "select": "last",
            "reason": f"no {BEST} yet: the last checkpoint (epoch {last})"}


def load_model(run: str | PathLike[str], checkpoint: str | PathLike[str] | None = None) -> tuple[nn.Module, ModelSpec]:
    """The trained model of a run folder in eval mode (``best.pt``, else the last epoch's inference
    weights), and its ``ModelSpec``. ``checkpoint`` picks another file (an ``epoch_NNN.pt`` or a
    ``best.pt``); one from another model is a one-line ``InputError``."""
    run = Path(run)
    spec = read_spec(run)
    if checkpoint is not None:
        path = Path(checkpoint)
    elif (run / BEST).is_file():
        path = run / BEST
    else:
        epochs = checkpoint_epochs(run)
        if not epochs:
            raise InputError(f"{run}: no checkpoint yet (no {BEST}, nothing in {CHECKPOINTS}/)")
        path = checkpoint_path(run, epochs[-1])
    ckpt = load_torch(path)
    check_same_model(ckpt, spec, path)
    model = spec.build()
    load_weights(model, ckpt.get("inference") or ckpt["model"], path)
    model.eval()
    return model, spec
