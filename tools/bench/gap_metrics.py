"""Benchmark of sim2real.gap: DTW, a long trajectory comparison, image-set throughput.

Each figure is printed with its baseline measured in the same run:

* DTW (row-vectorised min-plus scan) vs the textbook double loop, on the same series;
* ``trajectory_gap`` on a one-hour, 100 Hz, 6-channel log vs merely reading the aligned arrays
  (``align``) — how much the metrics cost on top of the alignment they need anyway;
* ``image_gap`` images/s (load, statistics, random features, KID, MMD, pairs) vs decoding the same
  PNG files only.

Run: ``.venv/bin/python tools/bench/gap_metrics.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sim2real.trajectory.align import align
from sim2real.train.features import RandomConvFeatures
from sim2real.gap.image_gap import image_gap
from sim2real.dataset.imagesets import open_image_set
from sim2real.gap.metrics import dtw, trajectory_gap
from sim2real.trajectory.series import Trajectory, stamps_from_seconds


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def textbook_dtw(a: np.ndarray, b: np.ndarray) -> float:
    n, m = len(a), len(b)
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i, j] = abs(a[i - 1] - b[j - 1]) + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return float(D[n, m])


def bench_dtw() -> None:
    rng = np.random.default_rng(0)
    a, b = np.cumsum(rng.normal(size=600)), np.cumsum(rng.normal(size=600))
    ours = timed(lambda: dtw(a, b), 3)
    ref = timed(lambda: textbook_dtw(a, b))
    assert abs(dtw(a, b)[0] - textbook_dtw(a, b)) < 1e-6 * textbook_dtw(a, b)
    print(f"DTW 600x600: ours {ours * 1e3:.1f} ms, textbook loop {ref * 1e3:.0f} ms, speed-up x{ref / ours:.0f}")


def bench_trajectory() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 3600, 0.01)
    t_real = t + rng.uniform(-2e-3, 2e-3, len(t))
    vals = np.stack([np.sin((k + 1) * 0.3 * t) for k in range(6)], axis=1)
    real_vals = np.stack([np.sin((k + 1) * 0.3 * (t_real - 0.02)) for k in range(6)], axis=1)
    names = [f"j{k}" for k in range(6)]
    sim = Trajectory.clean(stamps_from_seconds(1.7e9 + t), vals, names)
    real = Trajectory.clean(stamps_from_seconds(1.7e9 + t_real), real_vals, names)
    base = timed(lambda: align(sim, real))
    full = timed(lambda: trajectory_gap(sim, real))
    print(f"trajectory_gap, 1 h at 100 Hz x 6 channels ({len(t)} samples): {full:.2f} s; "
          f"alignment alone {base:.2f} s; metrics cost x{full / base:.1f} the alignment")


def bench_images() -> None:
    rng = np.random.default_rng(2)
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("sim", "real"):
            d = Path(tmp) / side
            d.mkdir()
            for i in range(200):
                img = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
                Image.fromarray(img).save(d / f"{i:04d}.png")
        sim, real = open_image_set(Path(tmp) / "sim"), open_image_set(Path(tmp) / "real")
        decode = timed(lambda: [item.load() for s in (sim, real) for item in s.items])
        full = timed(lambda: image_gap(sim, real, RandomConvFeatures(size=64), permutations=200))
        n = len(sim) + len(real)
        print(f"image_gap, 2 x 200 images 320x240 with 200 pairs: {n / full:.0f} images/s; "
              f"PNG decoding alone {n / decode:.0f} images/s; ratio x{decode / full:.2f}")


if __name__ == "__main__":
    bench_dtw()
    bench_trajectory()
    bench_images()
