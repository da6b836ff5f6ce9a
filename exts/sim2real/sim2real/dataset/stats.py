"""``sim2real dataset stats``: counts per class, pixel share per class, randomization parameter histograms."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from .reader import Dataset


def dataset_stats(ds: Dataset, bins: int = 10, limit: int | None = None,
                  progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Statistics over the first ``limit`` committed frames (all by default)."""
    indices = ds.indices.tolist()[: limit if limit is not None else None]
    instances: Counter[int] = Counter()
    frames_with: Counter[int] = Counter()
    pixels: Counter[int] = Counter()
    total_pixels = 0
    numeric: dict[str, list[float]] = defaultdict(list)
    choices: dict[str, Counter[str]] = defaultdict(Counter)
    for n, index in enumerate(indices, start=1):
        record = ds.record(index)
        visible = [inst for inst in record["instances"] if inst["box"] is not None]
        instances.update(inst["class_id"] for inst in visible)
        frames_with.update({inst["class_id"] for inst in visible})
        semantic = ds.channel(index, "semantic", record)
        if semantic is not None:
            counts = np.bincount(semantic.ravel())
            pixels.update({int(k): int(v) for k, v in enumerate(counts) if v})
            total_pixels += semantic.size
        _collect_sample(record.get("sample", {}), numeric, choices)
        if progress is not None:
            progress(n)
    labels = ds.labels
    classes = {}
    for cid in sorted(set(labels) | set(pixels) | set(instances)):
        classes[labels.get(cid, f"class_{cid}")] = {
            "id": cid,
            "instances": instances[cid],
            "frames": frames_with[cid],
            "pixels": pixels[cid],
            "pixel_share": pixels[cid] / total_pixels if total_pixels else 0.0,
        }
    return {
        "dataset": ds.manifest.dataset_id,
        "frames": len(indices),
        "classes": classes,
        "parameters": {k: _histogram(v, bins) for k, v in sorted(numeric.items())},
        "choices": {k: dict(sorted(c.items())) for k, c in sorted(choices.items())},
    }


def _collect_sample(sample: dict[str, Any], numeric: dict[str, list[float]], choices: dict[str, Counter[str]]) -> None:
    for key, value in sample.items():
        if isinstance(value, int | float):  # bool too
            numeric[key].append(float(value))
        elif isinstance(value, str):
            choices[key][value] += 1
        elif isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
            for i, v in enumerate(value):
                numeric[f"{key}[{i}]"].append(float(v))


def _histogram(values: list[float], bins: int) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    counts, edges = np.histogram(arr, bins=bins)
    return {
        "count": int(arr.size),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "mean": float(arr.mean()),
        "std": float(arr.std()),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }
