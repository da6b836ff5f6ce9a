#!/usr/bin/env python3
"""Benchmark: the training loader that streams frames from disk vs today's in-memory loader (issue #26).

What a segmentation run reads, at the model's input size (``--size``, default the demo's 96x72): RGB and
class-index masks of every frame of a sim2real dataset. Three loaders, each in a fresh process (so the
peak RSS is its own), interleaved over ``--rounds`` in rotating order:

* ``memory``: today's default, ``read_segment_dataset`` decodes every frame once into uint8 arrays,
  then the epochs index them;
* ``stream``: the same function with ``stream=True``: ``StreamedArray`` batches decode their frames
  (``FrameDataset``, two threads) every epoch; memory is a few batches;
* ``plain``: the baseline that imports nothing of sim2real: a ``torch.utils.data.Dataset`` a user would
  write over the shard folders (Pillow decode, OpenCV area resize to the same size, the semantic PNG's ids),
  read by a ``DataLoader`` (no workers) in the same shuffled batches.

Each process runs ``--epochs`` epochs of shuffled batches of ``--batch`` (indexing only: no model, so
this is the loader's own cost) and prints images/s over all epochs *including* the initial load, the
first epoch's and the last epoch's images/s, and its peak RSS (``ru_maxrss``) and the RSS after its
imports (torch alone is a few hundred MB). Figures: min/median/max over rounds, ratios of medians,
the load average before and after.

    .venv/bin/python tools/bench/bench_stream.py --data runs/demo/generate/dataset [--rounds 3] [--epochs 3]
        [--batch 16] [--size 96x72] [--frames N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

MODES = ("memory", "stream", "plain")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def epochs_of(n: int, epochs: int, batch: int, seed: int = 0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[np.sort(p[s : s + batch]) for s in range(0, n - batch + 1, batch)]
            for p in (rng.permutation(n) for _ in range(epochs))]


def ours(mode: str, data: Path, size: tuple[int, int], frames: int | None) -> tuple[Any, Any, int]:
    from sim2real.train import sources

    classes = sources.Classes.from_inputs(sources.dataset_class_names(data), {"*": "object"})
    d = sources.read_segment_dataset(data, size, False, classes, frames, stream=mode == "stream")
    return (lambda idx: (d.images[idx], d.labels[idx])), None, len(d)


def plain(data: Path, size: tuple[int, int], frames: int | None) -> tuple[Any, Any, int]:
    """A user's own loader: the shard folders' PNGs, Pillow, OpenCV (nothing of sim2real)."""
    import cv2
    import torch.utils.data
    from PIL import Image

    files = sorted(p for p in (data / "shards").glob("*/*.rgb.png"))[:frames]

    class Frames(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(files)

        def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray]:
            rgb = np.asarray(Image.open(files[k]).convert("RGB"))
            ids = np.asarray(Image.open(str(files[k]).replace(".rgb.png", ".semantic.png")))
            h, w = rgb.shape[:2]  # the dataset's aspect is the model's (4:3): no crop needed here
            x = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            rows = np.minimum(((np.arange(size[1]) + 0.5) * h / size[1]).astype(np.int64), h - 1)
            cols = np.minimum(((np.arange(size[0]) + 0.5) * w / size[0]).astype(np.int64), w - 1)
            return x, (ids[rows][:, cols] > 0).astype(np.uint8)

    ds = Frames()

    def batch(idx: np.ndarray) -> Any:
        loader = torch.utils.data.DataLoader(torch.utils.data.Subset(ds, idx.tolist()), batch_size=len(idx))
        return next(iter(loader))

    return batch, None, len(ds)


def child(mode: str, data: Path, size: tuple[int, int], epochs: int, batch: int, frames: int | None) -> None:
    import torch  # noqa: F401  (every mode pays for it: the trainer has it loaded)

    after_imports = rss_mb()
    started = time.perf_counter()
    get, _, n = plain(data, size, frames) if mode == "plain" else ours(mode, data, size, frames)
    loaded = time.perf_counter()
    per_epoch = []
    for order in epochs_of(n, epochs, batch):
        t = time.perf_counter()
        for idx in order:
            get(idx)
        per_epoch.append(len(order) * batch / (time.perf_counter() - t))
    total = time.perf_counter() - started
    images = sum(len(o) for o in epochs_of(n, epochs, batch)) * batch
    print(json.dumps({"mode": mode, "frames": n, "load_s": loaded - started, "images_per_s": images / total,
                      "first_epoch": per_epoch[0], "last_epoch": per_epoch[-1], "peak_rss_mb": peak_mb(),
                      "rss_after_imports_mb": after_imports}))


def stats(values: list[float]) -> str:
    return f"{min(values):9.1f} {statistics.median(values):9.1f} {max(values):9.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a sim2real dataset (native layout)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", default="96x72")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    a = ap.parse_args()
    size = tuple(int(v) for v in a.size.split("x"))
    if a.child:
        child(a.child, a.data, size, a.epochs, a.batch, a.frames)  # type: ignore[arg-type]
        return
    load_before = os.getloadavg()
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for r in range(a.rounds):
        for mode in MODES[r % 3:] + MODES[: r % 3]:
            cmd = [sys.executable, __file__, "--child", mode, "--data", str(a.data), "--epochs", str(a.epochs),
                   "--batch", str(a.batch), "--size", a.size] + (["--frames", str(a.frames)] if a.frames else [])
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[mode].append(json.loads(out.strip().splitlines()[-1]))
    load_after = os.getloadavg()
    n = results["memory"][0]["frames"]
    print(f"{n} frames of {a.data} at {a.size}, batch {a.batch}, {a.epochs} epochs, {a.rounds} rounds (min median max)")
    print(f"{'':8} {'img/s all':>29} {'first epoch':>29} {'last epoch':>29} {'peak RSS MB':>29} {'after imports':>14}")
    for mode in MODES:
        rows = results[mode]
        print(f"{mode:8} {stats([x['images_per_s'] for x in rows])}  {stats([x['first_epoch'] for x in rows])}  "
              f"{stats([x['last_epoch'] for x in rows])}  {stats([x['peak_rss_mb'] for x in rows])}  "
              f"{statistics.median(x['rss_after_imports_mb'] for x in rows):9.1f}")
    med = {m: {k: statistics.median(x[k] for x in results[m]) for k in ("images_per_s", "last_epoch", "peak_rss_mb",
                                                                          "rss_after_imports_mb")} for m in MODES}
    for other in ("memory", "plain"):
        print(f"stream / {other}: img/s all {med['stream']['images_per_s'] / med[other]['images_per_s']:.2f}x, "
              f"last epoch {med['stream']['last_epoch'] / med[other]['last_epoch']:.2f}x, peak RSS above imports "
              f"{med['stream']['peak_rss_mb'] - med['stream']['rss_after_imports_mb']:.0f} MB vs "
              f"{med[other]['peak_rss_mb'] - med[other]['rss_after_imports_mb']:.0f} MB")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}")


if __name__ == "__main__":
    main()
