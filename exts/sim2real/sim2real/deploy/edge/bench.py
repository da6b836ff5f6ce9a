"""Benchmark a bundle on the device: latency percentiles, FPS, and accuracy against the host.

For each precision in the bundle: open the engine (TensorRT when present and built, else
onnxruntime), run ``warmup`` untimed then ``iterations`` timed inferences at ``batch`` on the
bundle's evaluation images (cycled), and score the whole evaluation set. The host's scores of the
same set (PyTorch and each ONNX model, computed when the bundle was made) are in the manifest, so
the report says how far the device's answers are from the workstation's; ``agreement`` is the
fraction of predictions (pixels or samples) equal to the host PyTorch model's.
"""

from __future__ import annotations

import platform
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from . import PROTOCOL, engines, metrics
from .bundle import Bundle


def latency_stats(seconds: Sequence[float], batch: int = 1) -> Dict[str, float]:
    """Per-inference wall times (s) -> p50/p95/p99/mean/min/max in ms and FPS (images per second)."""
    t = np.asarray(seconds, dtype=np.float64) * 1000.0
    if not len(t):
        raise ValueError("no timed iterations")
    p50, p95, p99 = np.percentile(t, [50, 95, 99])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99), "mean_ms": float(t.mean()),
            "min_ms": float(t.min()), "max_ms": float(t.max()), "fps": float(batch * len(t) / (t.sum() / 1000.0)),
            "iterations": int(len(t)), "batch": int(batch)}


def time_engine(run: Callable[[np.ndarray], Any], inputs: np.ndarray, warmup: int, iterations: int, batch: int = 1,
                clock: Callable[[], float] = time.perf_counter) -> List[float]:
    """Wall time of each of ``iterations`` calls of ``run`` after ``warmup`` untimed ones; the
    batches cycle through ``inputs``."""
    n = len(inputs)
    if n == 0:
        raise ValueError("no inputs to time")

    def batch_at(i: int) -> np.ndarray:
        idx = [(i * batch + j) % n for j in range(batch)]
        return np.ascontiguousarray(inputs[idx])

    for i in range(warmup):
        run(batch_at(i))
    times = []
    for i in range(iterations):
        x = batch_at(i)
        start = clock()
        run(x)
        times.append(clock() - start)
    return times


def evaluate(run: Callable[[np.ndarray], np.ndarray], bundle: Bundle, data: Dict[str, np.ndarray],
             inputs: np.ndarray, batch: int = 8) -> Dict[str, Any]:
    """Score the evaluation set, and the agreement with the host model's predictions."""
    score = metrics.Score(bundle.task, bundle.classes, bundle.manifest.get("outputs"))
    labels = bundle.labels(data)
    host_pred = data.get("host_pred")
    agree, total = 0, 0
    for start in range(0, len(inputs), batch):
        out = run(inputs[start:start + batch])
        score.add(out, labels[start:start + batch])
        if host_pred is not None and bundle.task not in ("state", "detect"):
            pred = out.argmax(1)
            agree += int((pred == host_pred[start:start + batch]).sum())
            total += int(pred.size)
    result = score.result()
    if total:
        result["agreement"] = agree / total
    return result


def bench(root: str, precisions: Optional[Sequence[str]] = None, backend: str = "auto", warmup: int = 10,
          iterations: int = 100, batch: int = 1, threads: Optional[int] = None) -> Dict[str, Any]:
    """The device benchmark of a bundle (what ``sim2real deploy bench`` returns as JSON)."""
    from .jetson import probe

    bundle = Bundle(root)
    data = bundle.eval_set()
    inputs = bundle.inputs(data)
    host = bundle.host_scores()
    key = metrics.headline(bundle.task)
    rows = []
    for precision in precisions or bundle.precisions:
        engine = engines.open_engine(bundle, precision, backend, threads)
        times = time_engine(engine.run, inputs, warmup, iterations, batch)
        acc = evaluate(engine.run, bundle, data, inputs)
        reference = host.get("torch") or host.get("fp32")
        row = {
            "precision": precision, "engine": engine.describe(), "latency": latency_stats(times, batch),
            "accuracy": acc, "host": host.get(precision), "host_torch": reference,
            "metric": key,
            "change_vs_host": metrics.change(bundle.task, reference, acc) if reference else None,
        }
        if engine.backend == "tensorrt":  # pragma: no cover - TensorRT: trtexec's own GPU timing beside ours
            from .build import trtexec_timing

            row["trtexec"] = trtexec_timing(root, precision, engine.version, iterations, 200, batch)
        rows.append(row)
    return {"protocol": PROTOCOL, "bundle": bundle.id, "task": bundle.task, "metric": key, "warmup": warmup,
            "iterations": iterations, "batch": batch, "eval_count": int(len(inputs)), "results": rows,
            "device": probe(), "python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "executable": sys.executable}
