#!/usr/bin/env python3
"""Benchmark detection with domain adaptation on the surrogate camera target.

The same source and target as the segmentation adaptation benchmark (bench_train.py): the tabletop
rendered with the plain source profile (config/profiles/tabletop_plain.toml) trains a CenterNet
detector (``--task detect``, one class "object", every object a box) with each method; each run is
scored by pycocotools COCOeval on a labelled evaluation set of the SURROGATE target
(config/profiles/tabletop_target.toml, another seed than the unlabelled target images it adapts to).
Methods: source-only, DANN (image-level: a patch discriminator on the backbone's stride-4 feature
map behind a gradient reversal, as the image-level component of Chen et al. 2018, "Domain Adaptive
Faster R-CNN") and AdaBN (target batch-norm statistics at inference). Prints AP50 and AP of the last
epoch (what ships by default) per method, mean +- sd over seeds and per seed, the margin over
source-only, and the source validation AP50 (how well each fits its own domain).

No hyper-parameter here was tuned on the evaluation target: the DANN weight is the detect default
(0.3, the segmentation default) with the default ramp; ``--adapt-weight`` is there to try others,
and a run with it says so in its output.

Runs are kept in --work (run folders resume, so a second call only prints).

    .venv/bin/python tools/bench/bench_detect_adapt.py [--seeds 3] [--epochs 10] [--frames 160]
        [--methods source-only,dann,adabn] [--adapt-weight W] [--work runs/bench-detect]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench_train import make_data

METHODS = ("source-only", "dann", "adabn")
SETTINGS = {"task": "detect", "resolution": (96, 72), "class_map": {"*": "object"}, "batch_size": 16,
            "keep_checkpoints": 0, "validators": ["source"], "validator_images": 32,
            "model": {"widths": [16, 32, 64]}}  # 3 stages (the default 4 needs sizes divisible by 16)


def train_one(data: dict[str, Path], method: str, seed: int, epochs: int, work: Path,
              adapt_weight: float | None) -> dict[str, Any]:
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    tag = "" if adapt_weight is None else f"-w{adapt_weight:g}"
    out = work / "runs" / f"{method}{tag}-s{seed}"
    metrics = out / "metrics.json"
    if metrics.is_file() and json.loads(metrics.read_text()).get("epochs_done") == epochs:
        return json.loads(metrics.read_text())  # analysed again: read, not resumed
    extra = {} if adapt_weight is None or method != "dann" else {"adapt_weight": adapt_weight}
    cfg = load_config(None, {**SETTINGS, **extra, "method": method, "seed": seed, "epochs": epochs})
    t = time.perf_counter()
    summary = train(TrainRequest(cfg, Inputs(data["plain"], data["target"], None, data["eval"]), out))
    final = summary["final"]["target"]
    print(f"  {out.name}: target AP50 {final['ap50']:.3f} AP {final['ap']:.3f} ({time.perf_counter() - t:.0f} s)",
          flush=True)
    return summary


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def adaptation(data: dict[str, Path], methods: tuple[str, ...], seeds: int, epochs: int, work: Path,
               adapt_weight: float | None) -> dict[str, Any]:
    runs = {m: [train_one(data, m, s, epochs, work, adapt_weight) for s in range(seeds)] for m in methods}
    table: dict[str, Any] = {}
    for m, summaries in runs.items():
        last = [s["history"][-1]["target"] for s in summaries]
        ap50, ap = [t["ap50"] for t in last], [t["ap"] for t in last]
        src = [s["history"][-1]["source"]["ap50"] for s in summaries]
        table[m] = {"ap50": _mean_sd(ap50), "ap": _mean_sd(ap), "ap50_per_seed": ap50, "ap_per_seed": ap,
                    "source_val_ap50": statistics.mean(src),
                    "peak_epoch_ap50": statistics.mean(max(h["target"]["ap50"] for h in s["history"]) for s in summaries)}
    base = table["source-only"]
    print(f"\n{'method':12s} {'target AP50':>16s} {'vs source-only':>15s} {'target AP':>16s} {'source val AP50':>16s} "
          f"{'peak epoch AP50':>16s}  per seed AP50 | AP")
    for m, row in table.items():
        row["margin_ap50"] = row["ap50"][0] - base["ap50"][0]
        print(f"{m:12s} {row['ap50'][0]:8.3f} +- {row['ap50'][1]:.3f} {row['margin_ap50']:+15.3f} "
              f"{row['ap'][0]:8.3f} +- {row['ap'][1]:.3f} {row['source_val_ap50']:16.3f} {row['peak_epoch_ap50']:16.3f}  "
              f"{' '.join(f'{v:.3f}' for v in row['ap50_per_seed'])} | {' '.join(f'{v:.3f}' for v in row['ap_per_seed'])}")
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--frames", type=int, default=160, help="source frames (target 3/4, evaluation 1/2 of it)")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated; source-only is always trained")
    ap.add_argument("--adapt-weight", type=float, default=None,
                    help="DANN lambda instead of the detect default (a run with it is tuned by hand: said so)")
    ap.add_argument("--work", type=Path, default=Path("runs/bench-detect"))
    args = ap.parse_args()
    methods = tuple(dict.fromkeys(["source-only", *filter(None, args.methods.split(","))]))
    if set(methods) - set(METHODS):
        ap.error(f"--methods: unknown {sorted(set(methods) - set(METHODS))}; expected some of {', '.join(METHODS)}")
    load = os.getloadavg()
    data = make_data(args.work, args.frames, full=False)
    print(f"\n--- detect adaptation: plain source -> surrogate target, {args.seeds} seed(s), {args.epochs} epochs, "
          f"{args.frames} source frames at {SETTINGS['resolution'][0]}x{SETTINGS['resolution'][1]}"
          + ("" if args.adapt_weight is None else f", DANN lambda {args.adapt_weight:g} (set by hand)"), flush=True)
    t = time.perf_counter()
    table = adaptation(data, methods, args.seeds, args.epochs, args.work, args.adapt_weight)
    took = time.perf_counter() - t
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start, "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} at the end; {took:.0f} s of training", flush=True)
    report = {"settings": {**SETTINGS, "epochs": args.epochs, "seeds": args.seeds, "frames": args.frames,
                           "adapt_weight": args.adapt_weight}, "methods": table, "load_average": [load, os.getloadavg()]}
    name = "bench_detect_adapt.json" if args.adapt_weight is None else f"bench_detect_adapt-w{args.adapt_weight:g}.json"
    (args.work / name).write_text(json.dumps(report, indent=2, default=float))
    print(f"\nfigures: {args.work / name}")


if __name__ == "__main__":
    main()
