"""What a sim2real ONNX model says about itself, and how an image becomes its input.

Export writes these ONNX ``metadata_props`` (values are strings; ``*`` ones hold JSON):

    sim2real.format         "sim2real-onnx"
    sim2real.version        metadata version (1)
    sim2real.task           segment | classify | state
    sim2real.arch           the architecture (segnet, lenet, edge-classifier, state-mlp)
    sim2real.precision      fp32 | fp16 | int8 (what the weights are; inputs/outputs stay float32)
    sim2real.classes*       output index -> class name (state: target names)
    sim2real.input*         {"name", "shape" [null (batch), C, H, W], "layout": "NCHW", "channels",
                             "range": "0..1", "resize": "center-crop+area", "dtype": "float32"}
    sim2real.normalization* {"mean": [...], "std": [...]} per channel, applied after scaling to 0..1
    sim2real.output*        {"name", "shape", "kind": "logits"}
    sim2real.units*         {"rgb": "uint8/255 -> 0..1", "depth": "m" or null, "output": "..."}
    sim2real.outputs*       state: {"mean", "std"} turning outputs into target units
    sim2real.run_id         the training run
    sim2real.dataset_id     the source dataset the model was trained on
    sim2real.parents*       every parent id of the run (source, target, eval)

``Preprocess`` turns uint8 RGB images (any size) into the standardised float32 NCHW batch, the
same arithmetic as ``sim2real.train.runfolder.ModelSpec.prepare`` (a test compares them).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

FORMAT = "sim2real-onnx"
VERSION = 1
PREFIX = "sim2real."
JSON_KEYS = ("classes", "input", "normalization", "output", "units", "outputs", "parents")


class MetadataError(ValueError):
    """A model without (or with broken) sim2real metadata."""


def encode(meta: Dict[str, Any]) -> Dict[str, str]:
    """Metadata dict -> ONNX ``metadata_props`` strings (``sim2real.`` prefixed)."""
    out = {}
    for key, value in meta.items():
        out[PREFIX + key] = json.dumps(value, sort_keys=True) if key in JSON_KEYS else str(value)
    return out


def decode(props: Dict[str, str], source: str = "model") -> Dict[str, Any]:
    """ONNX ``metadata_props`` (or onnxruntime's ``custom_metadata_map``) -> metadata dict."""
    meta: Dict[str, Any] = {}
    for key, value in props.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        try:
            meta[name] = json.loads(value) if name in JSON_KEYS else value
        except ValueError:
            raise MetadataError("{}: metadata {} is not valid JSON".format(source, key)) from None
    if meta.get("format") != FORMAT:
        raise MetadataError("{}: not a sim2real model (no {}format = {})".format(source, PREFIX, FORMAT))
    for need in ("task", "classes", "input", "normalization"):
        if need not in meta:
            raise MetadataError("{}: metadata {}{} is missing".format(source, PREFIX, need))
    return meta


def read_onnx_metadata(path: str) -> Dict[str, Any]:
    """The metadata of an ONNX file through onnxruntime (the device has no ``onnx`` package)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return decode(dict(sess.get_modelmeta().custom_metadata_map), path)


class Preprocess:
    """uint8 RGB images -> the model's standardised float32 NCHW input."""

    def __init__(self, width: int, height: int, mean: List[float], std: List[float], depth_units: Optional[str] = None):
        self.width, self.height = int(width), int(height)
        self.mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
        self.depth_units = depth_units

    @classmethod
    def from_meta(cls, meta: Dict[str, Any]) -> Preprocess:
        shape = meta["input"]["shape"]
        if len(shape) != 4:
            raise MetadataError("input shape {} is not an image batch (N, C, H, W)".format(shape))
        units = meta.get("units") or {}
        norm = meta["normalization"]
        return cls(shape[3], shape[2], norm["mean"], norm["std"], units.get("depth"))

    @property
    def size(self) -> tuple:
        return self.width, self.height

    def crop(self, iw: int, ih: int) -> Tuple[int, int, int, int]:
        """``x0, y0, width, height`` of the centred crop of an ``iw`` x ``ih`` frame with the input's aspect."""
        w, h = self.width, self.height
        if iw * h > ih * w:
            cw = max(1, int(round(ih * w / h)))
            return (iw - cw) // 2, 0, cw, ih
        if iw * h < ih * w:
            ch = max(1, int(round(iw * h / w)))
            return 0, (ih - ch) // 2, iw, ch
        return 0, 0, iw, ih

    def to_frame(self, boxes: np.ndarray, iw: int, ih: int) -> np.ndarray:
        """Boxes ``(M, 4)`` in model-input pixels -> pixels of the ``iw`` x ``ih`` frame ``fit`` was given."""
        x0, y0, cw, ch = self.crop(iw, ih)
        scale = np.array([cw / self.width, ch / self.height] * 2, dtype=np.float32)
        return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) * scale + np.array([x0, y0, x0, y0], np.float32)

    def fit(self, image: np.ndarray, nearest: bool = False) -> np.ndarray:
        """Centre-crop ``image`` (H, W[, C]) to the input's aspect ratio, then resize to it (area
        filter when shrinking, bilinear when enlarging, as training read its images; ``nearest``
        for depth)."""
        w, h = self.width, self.height
        x0, y0, cw, ch = self.crop(image.shape[1], image.shape[0])
        image = image[y0:y0 + ch, x0:x0 + cw]
        ih, iw = image.shape[:2]
        if (iw, ih) == (w, h):
            return np.ascontiguousarray(image)
        try:
            import cv2
        except ImportError:
            raise RuntimeError("images of {}x{} need resizing to {}x{}: install OpenCV (python3-opencv or "
                               "opencv-python-headless)".format(iw, ih, w, h)) from None
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA if iw >= w and ih >= h else cv2.INTER_LINEAR
        return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=interp)

    def __call__(self, images: np.ndarray, depth: Optional[np.ndarray] = None) -> np.ndarray:
        """uint8 ``(N, H, W, 3)`` at the input size [+ depth ``(N, H, W)`` metres] -> float32 NCHW."""
        x = np.asarray(images, dtype=np.float32).transpose(0, 3, 1, 2) / np.float32(255.0)
        if self.depth_units:
            if depth is None:
                raise ValueError("the model expects RGB-D input (depth in {}); got RGB only".format(self.depth_units))
            x = np.concatenate([x, np.asarray(depth, dtype=np.float32)[:, None]], axis=1)
        return (x - self.mean) / self.std
