"""One image in, one prediction out: what the OpenCV runner and the ROS 2 node share.

``Predictor(bundle_root)`` opens the bundle's engine (TensorRT if built, else onnxruntime) and
turns an RGB uint8 image of any size into a ``Prediction``: class probabilities (classify) or a
class mask at the model's input size with each class's pixel fraction (segment), plus the time
it took (preprocessing + inference, ms). ``LatencyWindow`` keeps the last N times for the
statistics both runners publish (the seeds log the mean and FPS every 30 frames).
"""

from __future__ import annotations

import collections
import time
from typing import Any, Dict, List, Optional

import numpy as np

from .bundle import Bundle
from .engines import open_engine


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


class Prediction:
    def __init__(self, task: str, classes: List[str], output: np.ndarray, latency_ms: float):
        self.task = task
        self.classes = classes
        self.latency_ms = latency_ms
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


class Predictor:
    def __init__(self, root: str, precision: str = "fp32", backend: str = "auto", threads: Optional[int] = None,
                 clock: Any = time.perf_counter):
        self.bundle = Bundle(root)
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
