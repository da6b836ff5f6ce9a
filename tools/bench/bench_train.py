#!/usr/bin/env python3
"""Benchmark training with domain adaptation on the surrogate target, and the training data pipeline.

1. Adaptation (averaged over --seeds): the tabletop rendered with the plain source profile
   (config/profiles/tabletop_plain.toml) trains a segmentation net (objects vs background, 96x72)
   with every method; each is scored on a labelled evaluation set of the SURROGATE target
   (config/profiles/tabletop_target.toml, other seed than the unlabelled target images it adapts
   to). Prints the target mIoU per method (last epoch, the shipped one by default; mean +- sd over
   seeds, and per seed), its margin over source-only, and the domain gap in the model's features
   (``alignment.mmd2``, like for like). Also: how well each unsupervised validator tracked the true target mIoU over the
   epochs (Spearman rank correlation) and the target mIoU of the epoch it would pick. ``--full``
   repeats the comparison with the fully randomized source profile (tabletop.toml).
2. Throughput: training images/s of the trainer's own epoch loop (uint8 arrays -> float,
   augmentation, standardisation on the helper thread) against the same model and step fed from
   ready-made in-memory tensors, interleaved in one process (target >= 0.8x).

Runs are kept in --work (run folders resume, so a second call only prints).

    .venv/bin/python tools/bench/bench_train.py [--seeds 3] [--epochs 12] [--frames 400] [--full]
        [--methods source-only,dann,coral,mmd,adabn] [--work runs/bench-train] [--skip adaptation,throughput]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim2real.generate.api import generate
from sim2real.generate.request import GenerateRequest
from sim2real.progress import NullReporter

METHODS = ("source-only", "dann", "coral", "mmd", "adabn")
GEN_RESOLUTION = (128, 96)
SETTINGS = {"resolution": (96, 72), "class_map": {"*": "object"}, "batch_size": 16, "keep_checkpoints": 0}


def make_data(work: Path, frames: int, full: bool) -> dict[str, Path]:
    """Source (plain, and full randomization), unlabelled target, labelled target evaluation set."""
    sets = {"plain": ("tabletop_plain", frames, 0), "target": ("tabletop_target", frames * 3 // 4, 1),
            "eval": ("tabletop_target", frames // 2, 2)}
    if full:
        sets["full"] = ("tabletop", frames, 0)
    out = {}
    for name, (profile, n, seed) in sets.items():
        out[name] = work / "data" / name
        t = time.perf_counter()
        r = generate(GenerateRequest(profile=profile, frames=n, out=out[name], seed=seed, resolution=GEN_RESOLUTION,
                                     workers=2))
        if r["made"]:
            print(f"generated {name}: {n} frames of {profile} in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def train_one(data: dict[str, Path], source: str, method: str, seed: int, epochs: int, work: Path) -> dict[str, Any]:
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    out = work / "runs" / f"{source}-{method}-s{seed}"
    t = time.perf_counter()
    metrics = out / "metrics.json"
    if metrics.is_file() and json.loads(metrics.read_text()).get("epochs_done") == epochs:
        return json.loads(metrics.read_text())  # analysed again: read, not resumed
    cfg = load_config(None, {**SETTINGS, "method": method, "seed": seed, "epochs": epochs})
    summary = train(TrainRequest(cfg, Inputs(data[source], data["target"], None, data["eval"]), out))
    took = time.perf_counter() - t
    if took > 5:
        print(f"  {out.name}: target mIoU {summary['final']['target']['miou']:.3f} ({took:.0f} s)", flush=True)
    return summary


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def adaptation(data: dict[str, Path], source: str, seeds: int, epochs: int, work: Path,
               methods: tuple[str, ...] = METHODS) -> dict[str, Any]:
    print(f"\n--- adaptation: {source} source -> surrogate target, {seeds} seed(s), {epochs} epochs", flush=True)
    runs = {m: [train_one(data, source, m, s, epochs, work) for s in range(seeds)] for m in methods}
    table: dict[str, Any] = {}
    for m, summaries in runs.items():
        last = [s["history"][-1]["target"]["miou"] for s in summaries]
        peak = [max(h["target"]["miou"] for h in s["history"]) for s in summaries]
        src = [s["history"][-1]["source"]["miou"] for s in summaries]
        gap = [s["history"][-1].get("alignment", {}).get("mmd2", float("nan")) for s in summaries]
        table[m] = {"target_miou": statistics.mean(last), "sd": statistics.stdev(last) if len(last) > 1 else 0.0,
                    "per_seed": last, "peak_epoch_miou": statistics.mean(peak), "source_val_miou": statistics.mean(src),
                    "feature_mmd2": statistics.mean(gap)}
    base = table["source-only"]
    print(f"{'method':12s} {'target mIoU':>18s} {'vs source-only':>15s} {'peak epoch':>11s} {'source val':>11s} "
          f"{'feature MMD2':>13s}  per seed")
    for m, row in table.items():
        row["margin"] = row["target_miou"] - base["target_miou"]
        row["collapsed_seeds"] = sum(v < 0.5 * b for v, b in zip(row["per_seed"], base["per_seed"], strict=True))
        print(f"{m:12s} {row['target_miou']:10.3f} +- {row['sd']:.3f} {row['margin']:+15.3f} "
              f"{row['peak_epoch_miou']:11.3f} {row['source_val_miou']:11.3f} {row['feature_mmd2']:13.4f}  "
              f"{' '.join(f'{v:.3f}' for v in row['per_seed'])}")
    others = [m for m in methods if m not in ("source-only", "dann")]
    best_other = max(others, key=lambda m: table[m]["target_miou"]) if others else None
    print(f"DANN vs source-only: {table['dann']['margin']:+.3f} mIoU"
          + (f"; best other ({best_other}): {table[best_other]['margin']:+.3f}" if best_other else ""))
    return {"methods": table, "best_other": best_other, "validators": validators(runs)}


def validators(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per validator: rank correlation with the true target mIoU over epochs, and what it picks."""
    from sim2real.train.config import VALIDATOR_SIGN

    out: dict[str, Any] = {}
    for v, sign in VALIDATOR_SIGN.items():
        rhos, picked, last, oracle = [], [], [], []
        for summaries in runs.values():
            for s in summaries:
                hist = [h for h in s["history"] if v in h["validators"]]
                if len(hist) < 3:
                    continue
                vals = [sign * h["validators"][v] for h in hist]
                miou = [h["target"]["miou"] for h in hist]
                rhos.append(spearman(vals, miou))
                picked.append(miou[int(np.argmax(vals))])
                last.append(miou[-1])
                oracle.append(max(miou))
        if rhos:
            out[v] = {"spearman": float(np.nanmean(rhos)), "picked_miou": statistics.mean(picked),
                      "last_epoch_miou": statistics.mean(last), "best_epoch_miou": statistics.mean(oracle), "runs": len(rhos)}
    print(f"{'validator':10s} {'rank corr.':>10s} {'picked mIoU':>12s} {'last epoch':>11s} {'best epoch':>11s}")
    for v, row in out.items():
        print(f"{v:10s} {row['spearman']:10.2f} {row['picked_miou']:12.3f} {row['last_epoch_miou']:11.3f} "
              f"{row['best_epoch_miou']:11.3f}")
    return out


def throughput(data: dict[str, Path], work: Path, rounds: int = 8) -> dict[str, Any]:
    """Images/s of the trainer's epoch loop vs the same steps on in-memory tensors, interleaved; both
    with denormals flushed, as ``train`` runs."""
    from sim2real.train.numerics import denormals_flushed

    with denormals_flushed():
        return _throughput(data, work, rounds)


def _throughput(data: dict[str, Path], work: Path, rounds: int) -> dict[str, Any]:
    import torch

    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import Dist, Run, TrainRequest

    print("\n--- throughput: the trainer's data pipeline vs in-memory tensors (same model, same step)", flush=True)
    results = {}
    for method in ("source-only", "dann"):
        cfg = load_config(None, {**SETTINGS, "method": method, "epochs": 100})
        run = Run(TrainRequest(cfg, Inputs(data["plain"], data["target"]), work / "throughput" / method),
                  NullReporter(), Dist("cpu"))
        run.setup()
        steps, b = run.steps_per_epoch, cfg.batch_size
        # the baseline's tensors: built once, held in memory, no augmentation
        tensors = []
        uses_target = method != "source-only"
        for i in range(steps):
            idx = np.arange(i * b, (i + 1) * b)
            xs, ys = run.task.batch(run.data.train, idx, run.norm, run.device)
            xt = run.task.batch(run.data.target, idx % len(run.data.target), run.norm, run.device, labels=False)[0] \
                if uses_target else None
            tensors.append((xs, ys, xt))

        def in_memory() -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            for i, (xs, ys, xt) in enumerate(tensors):
                loss, _ = run.step_module(xs, ys, xt, i / steps, 1.0, run.g)
                run.opt.zero_grad(set_to_none=True)
                loss.backward()
                run.opt.step()
            return time.perf_counter() - wall, time.process_time() - cpu

        class _Quiet:
            def advance(self, *a: Any, **k: Any) -> None:
                pass

        def pipeline() -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()  # process time counts the helper thread too
            run._epoch(1, _Quiet(), None)
            return time.perf_counter() - wall, time.process_time() - cpu

        in_memory(), pipeline()  # warm-up
        pipe, mem = [], []
        for _ in range(rounds):  # interleaved: load from other jobs hits both alike
            pipe.append(pipeline())
            mem.append(in_memory())
        n = steps * b * rounds
        row = {"pipeline_img_s": n / sum(w for w, _ in pipe), "in_memory_img_s": n / sum(w for w, _ in mem),
               "pipeline_img_per_cpu_s": n / sum(c for _, c in pipe), "in_memory_img_per_cpu_s": n / sum(c for _, c in mem),
               "threads": torch.get_num_threads(), "rounds": rounds, "images_per_round": steps * b}
        row["ratio"] = row["pipeline_img_s"] / row["in_memory_img_s"]
        row["ratio_cpu"] = row["pipeline_img_per_cpu_s"] / row["in_memory_img_per_cpu_s"]
        results[method] = row
        print(f"{method:12s} pipeline {row['pipeline_img_s']:7.1f} img/s, in-memory tensors {row['in_memory_img_s']:7.1f} "
              f"img/s: {row['ratio']:.2f}x wall clock, {row['ratio_cpu']:.2f}x per CPU second (target >= 0.8x)", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--frames", type=int, default=400, help="source frames (target 3/4, evaluation 1/2 of it)")
    ap.add_argument("--full", action="store_true", help="also train on the fully randomized tabletop profile")
    ap.add_argument("--work", type=Path, default=Path("runs/bench-train"))
    ap.add_argument("--methods", default=",".join(METHODS),
                    help="comma-separated; source-only and dann are always trained (the margin is DANN's)")
    ap.add_argument("--skip", default="", help="comma-separated: adaptation, throughput")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    methods = tuple(dict.fromkeys(["source-only", "dann", *filter(None, args.methods.split(","))]))
    unknown = set(methods) - set(METHODS)
    if unknown:
        ap.error(f"--methods: unknown {sorted(unknown)}; expected some of {', '.join(METHODS)}")
    data = make_data(args.work, args.frames, args.full)
    report: dict[str, Any] = {"settings": {**SETTINGS, "epochs": args.epochs, "seeds": args.seeds, "frames": args.frames}}
    if "adaptation" not in skip:
        report["plain"] = adaptation(data, "plain", args.seeds, args.epochs, args.work, methods)
        if args.full:
            report["full"] = adaptation(data, "full", args.seeds, args.epochs, args.work, methods)
    if "throughput" not in skip:
        report["throughput"] = throughput(data, args.work)
    (args.work / "bench_train.json").write_text(json.dumps(report, indent=2, default=float))
    print(f"\nfigures: {args.work / 'bench_train.json'}")


if __name__ == "__main__":
    main()
