"""The inputs of a run, read and split: source train / source validation / target / evaluation.

The source validation split (``val_fraction`` of the source, drawn with the run seed) is never
trained on; the validators use it. The target is unlabelled whatever it is (labels of a surrogate
target dataset are not read); the evaluation set is only scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..progress import NullReporter, Reporter
from . import sources
from .config import TrainConfig
from .state import StateData, check_compatible, read_state

MIN_SOURCE = 4


@dataclass
class Inputs:
    """Where the data of a run comes from (paths as given) - stored in ``config.json``."""

    data: Path
    target: Path | None = None
    target_topic: str | None = None
    eval: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"data": str(self.data), "target": None if self.target is None else str(self.target),
                "target_topic": self.target_topic, "eval": None if self.eval is None else str(self.eval)}


@dataclass
class TaskData:
    classes: list[str]  # segment/classify: class names; state: target names
    train: Any  # ImageData | StateData, labelled
    val: Any  # held-out source, labelled (may be empty)
    target: Any | None  # unlabelled
    eval: Any | None  # labelled target, metrics only

    def fingerprints(self) -> dict[str, Any]:
        return {"source": self.train.fingerprint, "target": None if self.target is None else self.target.fingerprint,
                "eval": None if self.eval is None else self.eval.fingerprint}


def load(cfg: TrainConfig, inputs: Inputs, reporter: Reporter | None = None) -> TaskData:
    reporter = reporter or NullReporter()
    if cfg.uses_target and inputs.target is None:
        raise InputError(f"--target: method {cfg.method} adapts to target images; expected --target DIR|BAG "
                         "(or --method source-only)")
    if cfg.task == "state":
        return _load_state(cfg, inputs)
    loaders = {"segment": _load_segment, "classify": _load_classify, "detect": _load_detect}
    return loaders[cfg.task](cfg, inputs, reporter)


def _split(cfg: TrainConfig, n: int) -> tuple[np.ndarray, np.ndarray]:
    if n < MIN_SOURCE:
        raise InputError(f"the source has {n} samples; expected at least {MIN_SOURCE}")
    perm = np.random.default_rng([cfg.seed, 0x5A11]).permutation(n)
    n_val = max(0, min(round(n * cfg.val_fraction), n - cfg.batch_size))  # leave at least one batch to train on
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _with_split(cfg: TrainConfig, classes: list[str] | sources.Classes, source: Any, target: Any, ev: Any) -> TaskData:
    train_idx, val_idx = _split(cfg, len(source))
    if len(train_idx) < cfg.batch_size:
        raise InputError(f"{source.origin}: {len(train_idx)} training samples after the validation split; "
                         f"expected at least one batch ({cfg.batch_size})")
    names = list(classes.names) if isinstance(classes, sources.Classes) else list(classes)
    return TaskData(names, source.subset(train_idx), source.subset(val_idx), target, ev)


def _target(cfg: TrainConfig, inputs: Inputs, reporter: Reporter, is_labelled_set: Callable[[Path], bool],
            read_set: Callable[[Path], Any]) -> Any:
    """The unlabelled target: a labelled set's images by ``read_set`` (labels left unread), else an
    image folder, dataset or bag (undecodable images skipped, as a camera's stream may hold some)."""
    if inputs.target is None:
        return None
    if is_labelled_set(inputs.target):
        return read_set(inputs.target)
    return sources.read_image_set(inputs.target, cfg.resolution, cfg.depth, inputs.target_topic, cfg.max_target_images,
                                  reporter=reporter, skip_unreadable=True)


def _load_segment(cfg: TrainConfig, inputs: Inputs, reporter: Reporter) -> TaskData:
    if not sources.is_dataset(inputs.data):
        raise InputError(f"--data {inputs.data}: expected a sim2real dataset (a folder with manifest.json) for "
                         "--task segment")
    size = cfg.resolution
    classes = sources.Classes.from_inputs(sources.dataset_class_names(inputs.data), cfg.class_map)
    if len(classes.names) < 2:
        raise InputError(f"{inputs.data}: the dataset labels one class; expected background and at least one object class")
    source = sources.read_segment_dataset(inputs.data, size, cfg.depth, classes, reporter=reporter)
    target = _target(cfg, inputs, reporter, sources.is_dataset, lambda p: sources.read_segment_dataset(
        p, size, cfg.depth, None, cfg.max_target_images, reporter))
    ev = None
    if inputs.eval is not None:
        ev = (sources.read_segment_dataset(inputs.eval, size, cfg.depth, classes, reporter=reporter)
              if sources.is_dataset(inputs.eval) else
              sources.read_mask_folder(inputs.eval, size, cfg.depth, classes, reporter))
    return _with_split(cfg, classes, source, target, ev)


def _load_classify(cfg: TrainConfig, inputs: Inputs, reporter: Reporter) -> TaskData:
    size = cfg.resolution
    if sources.is_dataset(inputs.data):
        classes = sources.Classes.from_inputs(sources.dataset_crop_classes(inputs.data), cfg.class_map)
        source = sources.read_crop_dataset(inputs.data, size, classes, cfg.min_object_pixels, True, reporter=reporter)
    else:
        classes = sources.Classes.from_inputs(_class_folders(inputs.data), cfg.class_map)
        source = sources.read_image_set(inputs.data, size, cfg.depth, classes=classes, reporter=reporter)
    if len(classes.names) < 2:
        raise InputError(f"{inputs.data}: one class ({', '.join(classes.names)}); expected at least two to classify")
    target = _target(cfg, inputs, reporter, sources.is_dataset, lambda p: sources.read_crop_dataset(
        p, size, None, cfg.min_object_pixels, False, cfg.max_target_images, reporter))
    ev = None
    if inputs.eval is not None:
        ev = (sources.read_crop_dataset(inputs.eval, size, classes, cfg.min_object_pixels, True, reporter=reporter)
              if sources.is_dataset(inputs.eval) else
              sources.read_image_set(inputs.eval, size, cfg.depth, classes=classes, reporter=reporter))
    return _with_split(cfg, classes, source, target, ev)


def _load_detect(cfg: TrainConfig, inputs: Inputs, reporter: Reporter) -> TaskData:
    from . import boxsets

    size = cfg.resolution
    if not boxsets.is_box_source(inputs.data):
        raise InputError(f"--data {inputs.data}: expected a sim2real dataset, a COCO .json (or a folder with one) "
                         "or a Replicator BasicWriter folder for --task detect")
    classes = sources.Classes.from_inputs(boxsets.box_classes(inputs.data), cfg.class_map)
    if not classes.names:
        raise InputError(f"{inputs.data}: names no object class; expected boxes of at least one class")
    source = boxsets.read_boxes(inputs.data, size, cfg.depth, classes, reporter=reporter)
    target = _target(cfg, inputs, reporter, boxsets.is_box_source, lambda p: boxsets.read_boxes(  # boxes not read
        p, size, cfg.depth, None, cfg.max_target_images, reporter))
    ev = None
    if inputs.eval is not None:
        if not boxsets.is_box_source(inputs.eval):
            raise InputError(f"--eval {inputs.eval}: expected labelled boxes for --task detect (a sim2real dataset, "
                             "a COCO .json or a BasicWriter folder)")
        ev = boxsets.read_boxes(inputs.eval, size, cfg.depth, classes, reporter=reporter)
    return _with_split(cfg, classes, source, target, ev)


def _class_folders(root: Path) -> list[str]:
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"--data {root}: expected a sim2real dataset or a folder of class sub-folders")
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        raise InputError(f"--data {root}: expected one sub-folder of images per class (found none)")
    return names


def _load_state(cfg: TrainConfig, inputs: Inputs) -> TaskData:
    sim = read_state(inputs.data, labelled=True)
    target: StateData | None = None
    if inputs.target is not None:
        target = read_state(inputs.target, labelled=False)
        check_compatible(sim, target, "real")
        target = StateData(target.features, None, target.feature_names, target.target_names, target.origin,
                           target.fingerprint)  # unlabelled whatever the file holds
    ev = None
    if inputs.eval is not None:
        ev = read_state(inputs.eval, labelled=True)
        check_compatible(sim, ev, "evaluation")
    return _with_split(cfg, sim.target_names, sim, target, ev)
