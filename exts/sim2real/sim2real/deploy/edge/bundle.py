"""The deploy bundle as the device sees it (the layout ``sim2real deploy bundle`` writes).

    manifest.json          format, id, task, classes, parents, models, host scores, files + sha256
    models/model.fp32.onnx the exported model (metadata inside), dynamic batch
    models/model.int8.onnx static INT8 (QDQ) when quantized
    models/model.fp16.onnx FP16 weights (float32 inputs/outputs) when converted
    preprocess.json        input size, channels, normalisation, resize rule (also in the models)
    labels.json            class names by output index
    eval/eval.npz          the small evaluation set: images uint8 (N,H,W,3) [+ depth (N,H,W) m],
                           labels, host_pred (the host model's predictions); state: features, targets;
                           detect: boxes (sum M, 5) x0 y0 x1 y1 class and box_counts (N,), no host_pred
    calib/calib.npz        calibration images (synthetic + target) for TensorRT INT8 on the device
    runner/s2r_edge/       this package
    README.md              how to run it

``verify(root)`` checks every file the manifest lists against its sha256 and size, that nothing
unlisted sits in the bundle and that it holds no link of any kind; nothing is trusted before that.
Files a device adds later live under ``engines/`` (TensorRT engines and their build logs) and are
not part of the manifest. What a manifest and a member name may be: ``schema``.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from .schema import DEVICE_DIRS, FORMAT, MANIFEST, VERSION, BundleError, check_manifest

__all__ = ["DEVICE_DIRS", "FORMAT", "MANIFEST", "VERSION", "BundleError", "Bundle", "check_files", "read_manifest",
           "verify"]
MODELS_DIR, EVAL_FILE, CALIB_FILE = "models", "eval/eval.npz", "calib/calib.npz"
PREPROCESS, LABELS, RUNNER_DIR, README = "preprocess.json", "labels.json", "runner", "README.md"
PACKAGE = "s2r_edge"
SKIPPED_DIRS = ("__pycache__",)  # written by Python when the runner runs; not part of the bundle


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
    except (ValueError, OSError) as exc:
        raise BundleError("{}: unreadable ({})".format(path, exc)) from None
    return check_manifest(manifest, path)


def check_files(where: str, listed: Dict[str, Any], present: Iterable[str],
                digest: Callable[[str], Tuple[int, str]]) -> List[str]:
    """The files ``present`` are exactly the ``listed`` ones (the manifest aside) and each has the
    listed size and sha256 (``digest(name) -> (size, sha256)``, called only when needed)."""
    present = set(present) - {MANIFEST}
    unlisted, missing = sorted(present - set(listed)), sorted(set(listed) - present)
    if unlisted:
        raise BundleError("{}: {} is not listed in {}".format(where, unlisted[0], MANIFEST))
    if missing:
        raise BundleError("{}: {} is missing (listed in {})".format(where, missing[0], MANIFEST))
    for name in sorted(listed):
        size, sha = digest(name)
        if size != listed[name]["size"] or sha != listed[name]["sha256"]:
            raise BundleError("{}: {} does not match its sha256 in {}".format(where, name, MANIFEST))
    return sorted(listed)


def verify(root: str, manifest: Optional[Dict[str, Any]] = None, shipped: bool = False) -> List[str]:
    """Check an unpacked bundle (see the module docstring); returns the checked paths. ``shipped``:
    a release just unpacked, where not even ``engines/`` may exist yet. Raises ``BundleError``
    naming the first bad file."""
    manifest = manifest or read_manifest(root)
    present = _regular_files(root, () if shipped else DEVICE_DIRS + SKIPPED_DIRS)

    def digest(rel: str) -> Tuple[int, str]:
        path = os.path.join(root, *rel.split("/"))
        return os.path.getsize(path), sha256_file(path)

    return check_files(root, manifest["files"], present, digest)


def _regular_files(root: str, skipped: Tuple[str, ...]) -> List[str]:
    """Every file under ``root`` as a relative POSIX path, except inside top-level ``skipped``
    folders and ``__pycache__`` ones when skipped; any symlink, device or FIFO anywhere (those
    folders included) is refused."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for name in dirnames + filenames:
            rel = name if rel_dir == "." else rel_dir + "/" + name
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                raise BundleError("{}: {} is a link; a release holds no links".format(root, rel))
            if name in filenames and not os.path.isfile(full):
                raise BundleError("{}: {} is not a regular file".format(root, rel))
        parts = rel_dir.split("/")
        if parts[0] in skipped or (set(SKIPPED_DIRS) & set(skipped) & set(parts)):
            continue
        out.extend(name if rel_dir == "." else rel_dir + "/" + name for name in filenames)
    return out


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

    def labels(self, data: Dict[str, np.ndarray]) -> Any:
        """State targets, detect boxes (a list of ``(M, 5)`` per image), else class labels."""
        if self.task == "detect":
            from .boxes import split

            return split(data["boxes"], data["box_counts"])
        return data["targets"] if self.task == "state" else data["labels"]

    def host_scores(self) -> Dict[str, Any]:
        return dict(self.manifest.get("host") or {})
