"""One image in, one prediction out: what the OpenCV runner and the ROS 2 node share.

``Predictor(bundle_root)`` opens the bundle's engine (TensorRT if built, else onnxruntime) and
turns an RGB uint8 image of any size into a ``Prediction``: class probabilities (classify), a
class mask at the model's input size with each class's pixel fraction (segment), or boxes in the
frame's pixels above a score threshold (detect, ``Detections``), plus the time it took
(preprocessing + inference + decoding, ms). ``LatencyWindow`` keeps the last N times for the
statistics both runners publish (the seeds log the mean and FPS every 30 frames).
"""

from __future__ import annotations

import collections
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .boxes import decode
from .bundle import Bundle
from .engines import open_engine

DRAW_THRESHOLD = 0.3  # detect: the score a box must reach to be reported (CenterNet's visualisation threshold)


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


class Prediction:
    def __init__(self, task: str, classes: List[str], output: np.ndarray, latency_ms: float):
        self.task = task
        self.classes = classes
        self.latency_ms = latency_ms
        self.boxes: Optional[np.ndarray] = None  # detect: (M, 4) x0, y0, x1, y1 in the frame's pixels
        probs = softmax(output[None] if output.ndim in (1, 3) else output)[0]
        self.probabilities = probs  # classify: (K,); segment: (K, H, W)
        if task == "segment":
            self.mask = probs.argmax(0).astype(np.uint8)
            counts = np.bincount(self.mask.reshape(-1), minlength=len(classes))[: len(classes)]
            self.scores = (counts / max(1, self.mask.size)).astype(np.float32)  # pixel fraction per class
        else:
            self.mask = None
            self.scores = probs.astype(np.float32)
        self.top = classes[int(self.scores.argmax())] if task != "segment" else self._top_object()

    def _top_object(self) -> str:
        """The class covering most pixels, background aside (background if nothing else)."""
        order = np.argsort(-self.scores)
        for i in order:
            if self.classes[int(i)] != "background" and self.scores[int(i)] > 0:
                return self.classes[int(i)]
        return self.classes[int(order[0])]

    def to_dict(self) -> Dict[str, Any]:
        key = "fractions" if self.task == "segment" else "probabilities"
        return {"top": self.top, key: {c: round(float(s), 6) for c, s in zip(self.classes, self.scores)},
                "latency_ms": round(self.latency_ms, 3)}


class Detections(Prediction):
    """A detect model's boxes above ``threshold`` in the frame's pixels (decoded by ``boxes.decode``);
    ``scores`` per class: its best box's score (0 without one), ``top`` the best box's class."""

    def __init__(self, classes: List[str], found: Tuple[np.ndarray, np.ndarray, np.ndarray], latency_ms: float):
        self.task, self.classes, self.latency_ms, self.mask, self.probabilities = "detect", classes, latency_ms, None, None
        self.boxes, self.box_scores, self.box_classes = found
        self.scores = np.zeros(len(classes), dtype=np.float32)
        np.maximum.at(self.scores, self.box_classes, self.box_scores)
        self.top = classes[int(self.box_classes[0])] if len(self.box_scores) else "none"

    def to_dict(self) -> Dict[str, Any]:
        assert self.boxes is not None
        return {"top": self.top, "detections": [
            {"class": self.classes[int(c)], "score": round(float(s), 6), "box": [round(float(v), 2) for v in b]}
            for b, s, c in zip(self.boxes, self.box_scores, self.box_classes)], "latency_ms": round(self.latency_ms, 3)}


class Predictor:
    def __init__(self, root: str, precision: str = "fp32", backend: str = "auto", threads: Optional[int] = None,
                 clock: Any = time.perf_counter, threshold: float = DRAW_THRESHOLD):
        self.bundle = Bundle(root)
        self.threshold = threshold  # detect: boxes below this score are not reported
        if self.bundle.task == "state":
            raise ValueError("{}: a state-regression model takes feature vectors, not images".format(root))
        self.preprocess = self.bundle.preprocess()
        self.engine = open_engine(self.bundle, precision, backend, threads)
        self.clock = clock

    def __call__(self, rgb: np.ndarray, depth: Optional[np.ndarray] = None) -> Prediction:
        start = self.clock()
        image = self.preprocess.fit(rgb)
        d = None if depth is None else self.preprocess.fit(depth, nearest=True)[None]
        out = self.engine.run(self.preprocess(image[None], d))
        if self.bundle.task == "detect":
            k, stride = len(self.bundle.classes), int(self.bundle.manifest["outputs"]["stride"])
            b, s, c = decode(out, k, stride, min_score=self.threshold)[0]
            found = (self.preprocess.to_frame(b, rgb.shape[1], rgb.shape[0]), s, c)
            return Detections(self.bundle.classes, found, (self.clock() - start) * 1000.0)
        return Prediction(self.bundle.task, self.bundle.classes, out[0], (self.clock() - start) * 1000.0)


class LatencyWindow:
    """The last ``size`` latencies (ms; None: all of them): mean, p50, p95 and the FPS they allow."""

    def __init__(self, size: Optional[int] = 30):
        self.times: collections.deque = collections.deque(maxlen=size)
        self.count = 0

    def add(self, ms: float) -> None:
        self.times.append(float(ms))
        self.count += 1

    def summary(self) -> Dict[str, float]:
        if not self.times:
            return {"frames": 0}
        t = np.asarray(self.times)
        mean = float(t.mean())
        return {"frames": self.count, "window": len(t), "mean_ms": mean, "p50_ms": float(np.percentile(t, 50)),
                "p95_ms": float(np.percentile(t, 95)), "fps": 1000.0 / mean if mean > 0 else 0.0}
