"""The deploy bundle as the device sees it (the layout ``sim2real deploy bundle`` writes).

    manifest.json          format, id, task, classes, parents, models, host scores, files + sha256
    models/model.fp32.onnx the exported model (metadata inside), dynamic batch
    models/model.int8.onnx static INT8 (QDQ) when quantized
    models/model.fp16.onnx FP16 weights (float32 inputs/outputs) when converted
    preprocess.json        input size, channels, normalisation, resize rule (also in the models)
    labels.json            class names by output index
    eval/eval.npz          the small evaluation set: images uint8 (N,H,W,3) [+ depth (N,H,W) m],
                           labels, host_pred (the host model's predictions); state: features, targets
    calib/calib.npz        calibration images (synthetic + target) for TensorRT INT8 on the device
    runner/s2r_edge/       this package
    README.md              how to run it

``verify(root)`` checks every file the manifest lists against its sha256 and size; nothing is
trusted before that. Files a device adds later live under ``engines/`` (TensorRT engines and
their build logs) and are not part of the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, List, Optional

import numpy as np

MANIFEST = "manifest.json"
FORMAT = "sim2real-bundle"
VERSION = 1
MODELS_DIR, EVAL_FILE, CALIB_FILE = "models", "eval/eval.npz", "calib/calib.npz"
PREPROCESS, LABELS, RUNNER_DIR, README = "preprocess.json", "labels.json", "runner", "README.md"
PACKAGE = "s2r_edge"
DEVICE_DIRS = ("engines",)  # written on the device after unpacking; not in the manifest


class BundleError(ValueError):
    """A bundle that is not one, or whose files do not match its manifest."""


def model_file(precision: str) -> str:
    return "{}/model.{}.onnx".format(MODELS_DIR, precision)


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        block = fh.read(chunk)
        while block:
            h.update(block)
            block = fh.read(chunk)
    return h.hexdigest()


def read_manifest(root: str) -> Dict[str, Any]:
    path = os.path.join(root, MANIFEST)
    try:
        with open(path) as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise BundleError("{}: not a sim2real bundle (no {})".format(root, MANIFEST)) from None
    except ValueError as exc:
        raise BundleError("{}: unreadable ({})".format(path, exc)) from None
    if manifest.get("format") != FORMAT:
        raise BundleError("{}: not a sim2real bundle (format {!r})".format(path, manifest.get("format")))
    if int(manifest.get("version", 0)) > VERSION:
        raise BundleError("{}: bundle format version {} is newer than this runner's ({}); update the runner"
                          .format(path, manifest.get("version"), VERSION))
    return manifest


def verify(root: str, manifest: Optional[Dict[str, Any]] = None) -> List[str]:
    """Check every listed file's size and sha256, and that nothing unlisted sits in the bundle
    (outside ``engines/``). Returns the checked paths; raises ``BundleError`` naming the first bad one."""
    manifest = manifest or read_manifest(root)
    files = manifest.get("files") or {}
    for rel, entry in sorted(files.items()):
        path = os.path.join(root, rel)
        if not os.path.isfile(path) or os.path.islink(path):
            raise BundleError("{}: {} is missing".format(root, rel))
        if os.path.getsize(path) != entry["size"] or sha256_file(path) != entry["sha256"]:
            raise BundleError("{}: {} does not match its sha256 in {}".format(root, rel, MANIFEST))
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.split(os.sep)[0] in DEVICE_DIRS:
            continue
        dirnames[:] = [d for d in dirnames if not (rel_dir == "." and d in DEVICE_DIRS) and d != "__pycache__"]
        for name in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            if rel != MANIFEST and rel not in files:
                raise BundleError("{}: {} is not listed in {}".format(root, rel, MANIFEST))
    return sorted(files)


class Bundle:
    """An unpacked bundle: its manifest, models, preprocessing and evaluation set."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.manifest = read_manifest(self.root)
        self.task = self.manifest["task"]
        self.classes = list(self.manifest["classes"])
        with open(os.path.join(self.root, PREPROCESS)) as fh:
            self.preprocess_spec = json.load(fh)

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def precisions(self) -> List[str]:
        return sorted(self.manifest["models"], key=["fp32", "fp16", "int8"].index)

    def model_path(self, precision: str) -> str:
        models = self.manifest["models"]
        if precision not in models:
            raise BundleError("{}: no {} model in this bundle (it has {})".format(
                self.root, precision, ", ".join(self.precisions)))
        return os.path.join(self.root, models[precision]["file"])

    def preprocess(self) -> Any:
        from .meta import Preprocess

        p = self.preprocess_spec
        if self.task == "state":
            return None
        return Preprocess(p["width"], p["height"], p["mean"], p["std"], p.get("depth_units"))

    def eval_set(self) -> Dict[str, np.ndarray]:
        entry = self.manifest.get("eval")
        if not entry:
            raise BundleError("{}: this bundle has no evaluation set".format(self.root))
        with np.load(os.path.join(self.root, entry["file"])) as data:
            return {k: data[k] for k in data.files}

    def inputs(self, data: Dict[str, np.ndarray]) -> np.ndarray:
        """The model input of an evaluation/calibration set: images preprocessed, or state
        features standardised."""
        if self.task == "state":
            p = self.preprocess_spec
            mean = np.asarray(p["mean"], dtype=np.float32)
            std = np.asarray(p["std"], dtype=np.float32)
            return ((data["features"].astype(np.float32) - mean) / std).astype(np.float32)
        return self.preprocess()(data["images"], data.get("depth"))

    def labels(self, data: Dict[str, np.ndarray]) -> np.ndarray:
        return data["targets"] if self.task == "state" else data["labels"]

    def host_scores(self) -> Dict[str, Any]:
        return dict(self.manifest.get("host") or {})
