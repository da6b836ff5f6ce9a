"""The labelled images export checks parity on and the bundle scores on; the calibration images.

* evaluation set (``--eval PATH``, else the run's own ``--eval`` input, else its source dataset,
  i.e. labelled synthetic frames): the first ``count`` samples, read by training's readers at the
  model's input size with the run's class mapping, so scores mean what training's meant;
* calibration set (INT8): a MIX of synthetic (the run's source dataset) and target images (the
  run's ``--target``, unlabelled), half each when both exist, drawn with a seed from the first
  ``4 x count`` of each. Static INT8 ranges calibrated on synthetic images alone would clip the
  real camera's (a different brightness and contrast is exactly the gap being adapted to).

Paths in the run's ``config.json`` are as the training command got them (relative to where it
ran); a missing one is a one-line error asking for ``--eval``/``--calib``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..train import sources
from ..train.runfolder import CONFIG, ModelSpec


@dataclass
class SampleSet:
    """Model inputs before preprocessing, with labels when known."""

    origin: str
    role: str  # "eval", "source", "target", "calibration"
    images: np.ndarray | None = None  # (N, H, W, 3) uint8 at the model's input size
    depth: np.ndarray | None = None  # (N, H, W) float32 metres
    labels: np.ndarray | None = None  # segment (N, H, W) / classify (N,) class indices
    boxes: list[np.ndarray] | None = None  # detect: per image (M, 5) x0, y0, x1, y1, class at the input size
    features: np.ndarray | None = None  # state (N, D)
    targets: np.ndarray | None = None  # state (N, K) in units
    parts: dict[str, int] = field(default_factory=dict)  # calibration: how many of each kind

    def __len__(self) -> int:
        arr = self.features if self.images is None else self.images
        return 0 if arr is None else len(arr)

    def arrays(self) -> dict[str, np.ndarray]:
        """What goes into the bundle's ``.npz`` (the names ``edge.bundle`` reads)."""
        named = {"images": self.images, "depth": self.depth, "labels": self.labels, "features": self.features,
                 "targets": self.targets}
        if self.boxes is not None:  # ragged: concatenated rows and a count per image (edge.boxes.split)
            named["boxes"] = np.concatenate([np.zeros((0, 5), np.float32), *self.boxes]).astype(np.float32)
            named["box_counts"] = np.array([len(b) for b in self.boxes], dtype=np.int32)
        return {k: v for k, v in named.items() if v is not None}

    def truth(self) -> Any:
        """What the task's scores compare with: state targets, detect boxes, else class labels."""
        return self.targets if self.features is not None else self.boxes if self.boxes is not None else self.labels

    def prepared(self, spec: ModelSpec) -> np.ndarray:
        """The float32 model input (standardised)."""
        if spec.task == "state":
            assert self.features is not None
            mean = np.asarray(spec.normalization["mean"], dtype=np.float32)
            std = np.asarray(spec.normalization["std"], dtype=np.float32)
            return ((self.features.astype(np.float32) - mean) / std).astype(np.float32)
        assert self.images is not None
        return spec.prepare(self.images, self.depth)


def run_inputs(run: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training config, input paths) of a run folder."""
    path = Path(run) / CONFIG
    try:
        data = json.loads(path.read_text())
        return data["config"], data["inputs"]
    except FileNotFoundError:
        raise InputError(f"{run}: not a sim2real training run (no {CONFIG})") from None
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: unreadable training config ({exc})") from None


def _existing(path: str | None, what: str, option: str) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        raise InputError(f"the run's {what} {p} no longer exists; pass {option} PATH")
    return p


def _classes(spec: ModelSpec, config: dict[str, Any]) -> sources.Classes:
    return sources.Classes(tuple(spec.classes), tuple((config.get("class_map") or {}).items()))


def _size(spec: ModelSpec) -> tuple[int, int]:
    return int(spec.input["width"]), int(spec.input["height"])


def load_eval(run: Path, spec: ModelSpec, path: Path | None = None, count: int = 32) -> SampleSet:
    """``count`` labelled samples (see the module docstring for where they come from)."""
    config, inputs = run_inputs(run)
    role = "eval"
    if path is None:
        path = _existing(inputs.get("eval"), "evaluation set", "--eval")
    if path is None:
        path, role = _existing(inputs.get("data"), "source dataset", "--eval"), "source"
    assert path is not None
    return read_labelled(Path(path), spec, config, count, role)


def read_labelled(path: Path, spec: ModelSpec, config: dict[str, Any], count: int, role: str) -> SampleSet:
    if spec.task == "state":
        from ..train.state import read_state

        st = read_state(path, labelled=True)
        return SampleSet(str(path), role, features=st.features[:count], targets=st.targets[:count])
    classes, size, depth = _classes(spec, config), _size(spec), bool(spec.depth_units)
    if spec.task == "detect":
        from ..train import boxsets

        if not boxsets.is_box_source(path):
            raise InputError(f"{path}: expected labelled boxes for a detect model (a sim2real dataset, a COCO .json "
                             "or a BasicWriter folder)")
        found = boxsets.read_boxes(path, size, depth, classes, count)
        assert found.boxes is not None
        return SampleSet(str(path), role, images=found.images[:count], boxes=list(found.boxes[:count]),
                         depth=None if found.depth is None else found.depth[:count])
    if spec.task == "segment":
        data = (sources.read_segment_dataset(path, size, depth, classes, count) if sources.is_dataset(path) else
                sources.read_mask_folder(path, size, depth, classes))
    else:
        min_px = int(config.get("min_object_pixels", 64))
        data = (sources.read_crop_dataset(path, size, classes, min_px, True, count) if sources.is_dataset(path) else
                sources.read_image_set(path, size, depth, classes=classes))
    n = min(count, len(data))
    return SampleSet(str(path), role, images=data.images[:n], labels=data.labels[:n],
                     depth=None if data.depth is None else data.depth[:n])


def load_calibration(run: Path, spec: ModelSpec, count: int = 64, seed: int = 0,
                     synthetic: Path | None = None, target: Path | None = None) -> SampleSet:
    """``count`` images, half synthetic and half target when the run has a target (see above)."""
    if spec.task == "state":
        raise InputError("INT8 calibration is for image models; a state MLP is exported in FP32/FP16")
    config, inputs = run_inputs(run)
    synthetic = synthetic or _existing(inputs.get("data"), "source dataset", "--calib")
    if target is None and inputs.get("target"):
        target = _existing(inputs.get("target"), "target images", "--calib-target")
    assert synthetic is not None
    rng = np.random.default_rng([seed, 0xCA1B])
    n_target = count // 2 if target is not None else 0
    parts = {"synthetic": _read_unlabelled(synthetic, spec, config, count - n_target, rng, None)}
    if target is not None:
        parts["target"] = _read_unlabelled(target, spec, config, n_target, rng, inputs.get("target_topic"))
    images = np.concatenate([p[0] for p in parts.values()])
    depth = None if spec.depth_units is None else np.concatenate([p[1] for p in parts.values()])
    return SampleSet(", ".join(str(p) for p in (synthetic, target) if p), "calibration", images=images, depth=depth,
                     parts={k: len(v[0]) for k, v in parts.items()})


def _read_unlabelled(path: Path, spec: ModelSpec, config: dict[str, Any], n: int, rng: np.random.Generator,
                     topic: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    size, depth = _size(spec), bool(spec.depth_units)
    pool = max(n, 1) * 4
    from ..train import boxsets

    if spec.task == "detect" and boxsets.is_box_source(path):  # COCO and BasicWriter too
        data = boxsets.read_boxes(path, size, depth, None, pool)
    elif spec.task == "classify" and sources.is_dataset(path):
        data = sources.read_crop_dataset(path, size, None, int(config.get("min_object_pixels", 64)), False, pool)
    elif sources.is_dataset(path):
        data = sources.read_segment_dataset(path, size, depth, None, pool)
    else:
        data = sources.read_image_set(path, size, depth, topic, pool, skip_unreadable=True)
    pick = np.sort(rng.choice(len(data), size=min(n, len(data)), replace=False))
    return data.images[pick], None if data.depth is None else data.depth[pick]

