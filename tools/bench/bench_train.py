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
2. Throughput (source-only): images/s of ``train`` (what ``sim2real train`` runs: its epoch loop with
   uint8 -> float, augmentation and standardisation on the helper thread) against a plain PyTorch loop
   over ready-made in-memory tensors (plain_train_loop.py, which imports nothing of sim2real), each in
   a fresh process, interleaved over ``--rounds``; min/median/max of the ratio, the start-up to the
   first step, the device and the load average (target >= 0.9x).

Runs are kept in --work (run folders resume, so a second call only prints).

    .venv/bin/python tools/bench/bench_train.py [--seeds 3] [--epochs 12] [--frames 400] [--full]
        [--methods source-only,dann,coral,mmd,adabn] [--work runs/bench-train] [--skip adaptation,throughput]
        [--rounds 3] [--throughput-epochs 4] [--device auto|cpu|cuda] [--omp-passive]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import devices
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


class _EpochClock(NullReporter):
    """Wall and CPU time at every training batch, per epoch: from the end of an epoch's first batch to the
    end of its last (evaluation and checkpoints between epochs fall outside), and the first batch's end."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.epochs: dict[int, list[tuple[float, float, int]]] = {}

    def _on_task(self, task: Any, final: bool, force: bool = False) -> None:
        if task.name != "train" or final or task.done <= task.start_done:
            return
        if self.first is None:
            self.first = time.time()
        marks = self.epochs.setdefault(task.info.get("epoch", 0), [])
        marks[1:] = []  # the first mark and the latest
        marks.append((time.perf_counter(), time.process_time(), task.done))

    def rates(self) -> tuple[list[float], list[float]]:
        """Images per second and per CPU second of each epoch."""
        wall, cpu = [], []
        for first, last in (m for m in self.epochs.values() if len(m) == 2):
            wall.append((last[2] - first[2]) / (last[0] - first[0]))
            cpu.append((last[2] - first[2]) / (last[1] - first[1]))
        return wall, cpu


def _after_first(per_epoch: list[float]) -> float:
    """The median over the epochs after the first (which warms up)."""
    return statistics.median(per_epoch[1:] or per_epoch)


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def export_arrays(data: dict[str, Path], path: Path) -> Path:
    """The decoded source set and the run's settings as plain arrays, for the plain PyTorch baseline."""
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs, load
    from sim2real.train.taskmap import make_task

    cfg = load_config(None, {**SETTINGS, "method": "source-only"})
    loaded = load(cfg, Inputs(data["plain"]), NullReporter())
    train_set = loaded.train
    task = make_task(cfg, loaded.classes)
    norm = task.input_norm(train_set)
    task.set_class_weights(train_set)
    assert task.weights is not None and cfg.model.widths is not None
    np.savez(path, images=train_set.images, labels=train_set.labels, mean=norm.mean, std=norm.std,
             class_weights=task.weights.numpy(), widths=cfg.model.widths, batch_size=cfg.batch_size, lr=cfg.lr,
             weight_decay=cfg.weight_decay, seed=0)
    return path


def child_ours(data: dict[str, Path], out: Path, epochs: int, device: str, launched: float) -> None:
    """One fresh process training source-only with ``train`` as ``sim2real train`` does; prints JSON."""
    import shutil

    from devices import describe, torch_device
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    shutil.rmtree(out, ignore_errors=True)
    dev = torch_device(device)
    cfg = load_config(None, {**SETTINGS, "method": "source-only", "epochs": epochs, "seed": 0, "device": dev.type})
    rep = _EpochClock()
    train(TrainRequest(cfg, Inputs(data["plain"]), out), rep)
    import torch

    wall, cpu = rep.rates()
    print(json.dumps({"images_per_s": wall, "images_per_cpu_s": cpu,
                      "startup_s": None if rep.first is None else rep.first - launched, "device": describe(dev),
                      "threads": torch.get_num_threads()}))


def _spawn(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, *argv, "--launched", repr(time.time())], capture_output=True, text=True,
                          env={**os.environ, **env}, check=False)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv[:2])} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def throughput(data: dict[str, Path], work: Path, rounds: int, epochs: int, device: str,
               env: dict[str, str]) -> dict[str, Any]:
    """Images/s of ``train`` (source-only: its epoch loop with augmentation and standardisation on the
    helper thread, TensorBoard logging; evaluation and checkpoints excluded) against the plain PyTorch
    loop over in-memory tensors (plain_train_loop.py), each round in two fresh processes, interleaved.
    Each process's figure is the median over its epochs after the first (the first warms up), each epoch
    timed from the end of its first batch to the end of its last, in wall-clock and CPU seconds: on a
    machine shared with other jobs the scheduler gives a process with more busy threads (ours has the
    helper thread) a larger share, which the wall-clock ratio counts and the per-CPU-second one does not."""
    import os

    here = Path(__file__).resolve().parent
    arrays = export_arrays(data, work / "throughput-arrays.npz")
    label = " ".join(f"{k}={v}" for k, v in env.items()) or "default environment"
    print(f"\n--- throughput: sim2real train vs a plain PyTorch loop on in-memory tensors, {rounds} rounds x "
          f"{epochs} epochs, fresh processes, interleaved ({label}); load average {os.getloadavg()}", flush=True)
    ours_argv = [str(here / "bench_train.py"), "--child-ours", "--work", str(work), "--device", device,
                 "--epochs", str(epochs)]
    base_argv = [str(here / "plain_train_loop.py"), str(arrays), "--device", device, "--epochs", str(epochs),
                 "--flush-denormals"]  # the numerics train runs with: the loop a careful user writes
    rows: list[dict[str, Any]] = []
    for r in range(rounds):
        pair = [("ours", ours_argv), ("plain", base_argv)]
        got = {who: _spawn(argv, env) for who, argv in (pair if r % 2 == 0 else pair[::-1])}  # alternate who goes first
        row: dict[str, Any] = {who: {**res, "rate": _after_first(res["images_per_s"]),
                                     "cpu_rate": _after_first(res["images_per_cpu_s"])} for who, res in got.items()}
        row["ratio"] = row["ours"]["rate"] / row["plain"]["rate"]
        row["ratio_cpu"] = row["ours"]["cpu_rate"] / row["plain"]["cpu_rate"]
        rows.append(row)
        print(f"  round {r + 1}: ours {row['ours']['rate']:6.1f} img/s ({row['ours']['cpu_rate']:.1f} per CPU s), "
              f"plain {row['plain']['rate']:6.1f} img/s ({row['plain']['cpu_rate']:.1f} per CPU s): {row['ratio']:.2f}x "
              f"wall, {row['ratio_cpu']:.2f}x per CPU s; start-up to the first step: ours {row['ours']['startup_s']:.1f} s,"
              f" plain {row['plain']['startup_s']:.1f} s", flush=True)
    result = {"device": rows[0]["ours"]["device"], "env": env, "rounds": rows, "load_average": os.getloadavg(),
              "ratio": _spread([r["ratio"] for r in rows]), "ratio_cpu": _spread([r["ratio_cpu"] for r in rows]),
              "startup_s": {who: _spread([r[who]["startup_s"] for r in rows]) for who in ("ours", "plain")}}
    print(f"device: {result['device']}")
    for key, what in (("ratio", "wall clock"), ("ratio_cpu", "per CPU second")):
        q = result[key]
        print(f"ours / plain in-memory loop, {what}: median {q['median']:.2f}x (min {q['min']:.2f}, max {q['max']:.2f};"
              " target >= 0.9x)")
    st = result["startup_s"]
    print(f"start-up to the first step, median: ours {st['ours']['median']:.1f} s, plain {st['plain']['median']:.1f} s;"
          f" load average {result['load_average']}", flush=True)
    return result


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
    ap.add_argument("--rounds", type=int, default=3, help="throughput: interleaved rounds")
    ap.add_argument("--throughput-epochs", type=int, default=4)
    ap.add_argument("--device", default="auto", choices=devices.CHOICES, help="throughput: cuda when present (auto)")
    ap.add_argument("--omp-passive", action="store_true",
                    help="throughput: both processes with OMP_WAIT_POLICY=PASSIVE (see training.md, Benchmark)")
    ap.add_argument("--child-ours", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--launched", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_ours:
        paths = {n: args.work / "data" / n for n in ("plain",)}
        return child_ours(paths, args.work / "throughput-run", args.throughput_epochs, args.device,
                          args.launched or time.time())
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
        env = {"OMP_WAIT_POLICY": "PASSIVE"} if args.omp_passive else {}
        report["throughput"] = throughput(data, args.work, args.rounds, args.throughput_epochs, args.device, env)
    (args.work / "bench_train.json").write_text(json.dumps(report, indent=2, default=float))
    print(f"\nfigures: {args.work / 'bench_train.json'}")


if __name__ == "__main__":
    main()
