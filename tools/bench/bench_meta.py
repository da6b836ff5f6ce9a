#!/usr/bin/env python3
"""Benchmark meta-learning: error on held-out tasks after K samples and a few gradient steps, from a
meta-learned initialisation (MAML, first-order MAML, Reptile) vs a plainly pre-trained one (the
multi-task average model trained on the same tasks for the same number of Adam steps).

Families (config/meta/*.toml, shortened with --iterations): ``dynamics`` = arm2 under
data/meta/arm2_tasks.toml (real MuJoCo rollouts), ``policy`` = InvertedPendulum-v5 under
data/meta/pendulum_tasks.toml, adapted by behaviour cloning from K expert samples (the return of the
adapted policy is reported too). Each seed draws other tasks. The pre-trained init is adapted with
the same steps and learning rate as the meta-learned ones, and (a stronger baseline) with the best
of a few learning rates, chosen on its own held-out tasks. Prints the ratio meta / pretrained
(< 1: the meta-learned init adapts better).

    .venv/bin/python tools/bench/bench_meta.py [--families dynamics,policy] [--seeds 3]
        [--iterations 300] [--work runs/bench-meta]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

ALGORITHMS = ("pretrain", "maml", "fomaml", "reptile")
BASELINE_LRS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
CONFIGS = {"dynamics": "arm2_dynamics", "policy": "pendulum_policy"}


def run_one(family: str, algorithm: str, seed: int, iterations: int, work: Path) -> dict[str, Any]:
    from sim2real.meta.cli import _config_file
    from sim2real.meta.config import load_config
    from sim2real.meta.run import TASKS, train

    cfg = load_config(_config_file(CONFIGS[family]), {"algorithm": algorithm, "seed": seed, "iterations": iterations})
    out = work / f"{family}-{algorithm}-s{seed}"
    shared = work / f"{family}-pretrain-s{seed}" / TASKS
    if not out.exists() and shared.is_file():  # the same tasks for every algorithm of a seed
        out.mkdir(parents=True)
        shutil.copy(shared, out / TASKS)
    t = time.perf_counter()
    summary = train(cfg, out)
    if time.perf_counter() - t > 5:
        print(f"  {out.name}: {summary['evaluation']['mean']} ({time.perf_counter() - t:.0f} s)", flush=True)
    return {"cfg": cfg, "out": out, "summary": summary}


def baseline_best_lr(run: dict[str, Any]) -> dict[str, Any]:
    """The pretrained init adapted with each of BASELINE_LRS; the best mean error after adaptation."""
    from sim2real.meta.families import PolicyTasks, task_indices
    from sim2real.meta.run import TASKS, evaluate, load_meta_model, load_tasks

    cfg = run["cfg"]
    model, _ = load_meta_model(run["out"])
    tasks, _ = load_tasks(run["out"] / TASKS)
    held = [tasks[i] for i in task_indices(cfg)[1]]
    family = PolicyTasks(cfg) if cfg.family == "policy" else None
    try:
        results = {lr: evaluate(cfg, model, held, family, lr=lr) for lr in BASELINE_LRS}
    finally:
        if family is not None:
            family.close()
    lr = min(results, key=lambda k: results[k]["mean"]["error_after"])
    return {"lr": lr, **results[lr]["mean"]}


def bench_family(family: str, seeds: int, iterations: int, work: Path) -> dict[str, Any]:
    print(f"\n--- {family}: {seeds} seed(s), {iterations} iterations", flush=True)
    runs = {a: [run_one(family, a, s, iterations, work) for s in range(seeds)] for a in ALGORITHMS}
    best = [baseline_best_lr(r) for r in runs["pretrain"]]
    first = runs["maml"][0]["summary"]["evaluation"]
    keys = list(first["mean"])
    table: dict[str, Any] = {}
    for a, rs in runs.items():
        table[a] = {k: [r["summary"]["evaluation"]["mean"][k] for r in rs] for k in keys}
    table["pretrain (best lr)"] = {k: [b[k] for b in best] for k in keys}
    print(f"K = {first['k_shot']} samples, {first['steps']} SGD steps of {first['lr']} "
          f"(best baseline lr per seed: {[b['lr'] for b in best]})")
    header = "".join(f"{k:>22s}" for k in keys)
    print(f"{'init':20s}{header}{'ratio vs pretrain':>20s}{'vs best-lr':>12s}")
    base = statistics.mean(table["pretrain"]["error_after"])
    base_best = statistics.mean(table["pretrain (best lr)"]["error_after"])
    for a, row in table.items():
        cells = "".join(f"{statistics.mean(v):14.4g} +- {statistics.pstdev(v):5.2g}" for v in row.values())
        err = statistics.mean(row["error_after"])
        print(f"{a:20s}{cells}{err / base:20.3f}{err / base_best:12.3f}")
    return {"table": table, "ratio_maml": statistics.mean(table["maml"]["error_after"]) / base,
            "ratio_maml_best_lr": statistics.mean(table["maml"]["error_after"]) / base_best}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default="dynamics,policy")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--work", type=Path, default=Path("runs/bench-meta"))
    args = ap.parse_args()
    out = {f: bench_family(f, args.seeds, args.iterations, args.work) for f in args.families.split(",")}
    for f, r in out.items():
        print(f"{f}: MAML error after adaptation / pretrained init = {r['ratio_maml']:.3f} "
              f"(vs the pretrained init at its best lr: {r['ratio_maml_best_lr']:.3f})")
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "result.json").write_text(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
