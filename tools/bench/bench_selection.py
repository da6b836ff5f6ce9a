#!/usr/bin/env python3
"""Which checkpoint to ship: the last epoch, an average of the last epochs' weights, or a validator's pick.

Reads the finished run folders of ``bench_digits.py`` and ``bench_train.py`` (run with every
checkpoint kept) and scores, per run, on its labelled target set:

* ``last``: the last epoch (what ships by default);
* ``average-K``: the mean of the last K epochs' weights (K = 2, 3, 4), batch-norm statistics then
  re-estimated as the trainer does for the run's method (``evaluation.domain_models``; source-only:
  on source images, as SWA does);
* each validator's pick (from ``metrics.json``), and its Spearman rank correlation with the target score.

Prints the mean over runs of each, the number of runs each is below the last epoch, and writes JSON.

    .venv/bin/python tools/bench/bench_selection.py RUNS_DIR [RUNS_DIR ...] [--out selection.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

AVERAGES = (2, 3, 4)


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def averaged_scores(run: Path, scratch: Path) -> dict[str, float]:
    """Target score of the mean of the last K epochs' weights, for each K in AVERAGES."""
    import torch

    from sim2real.progress import NullReporter
    from sim2real.train import runfolder as rf
    from sim2real.train.config import TrainConfig
    from sim2real.train.data import Inputs
    from sim2real.train.evaluation import domain_models
    from sim2real.train.methods import adapt_batch_norm
    from sim2real.train.trainer import Dist, Run, TrainRequest

    record = json.loads((run / "config.json").read_text())
    cfg = TrainConfig.model_validate(record["config"])
    paths = {k: (Path(v) if v else None) for k, v in record["inputs"].items() if k != "target_topic"}
    r = Run(TrainRequest(cfg, Inputs(paths["data"], paths["target"], None, paths["eval"]), scratch / run.name),
            NullReporter(), Dist("cpu"))
    r.setup()
    epochs = rf.checkpoint_epochs(run)
    out = {}
    for k in AVERAGES:
        states = [rf.load_torch(rf.checkpoint_path(run, e))["model"] for e in epochs[-k:]]
        mean = {n: (sum(s[n].double() for s in states) / k).to(states[0][n].dtype) if states[0][n].is_floating_point()
                else states[-1][n] for n in states[0]}
        r.model.load_state_dict(mean)
        models = domain_models(r.model, cfg, r.data, r.task, r.norm, r.device)
        target = models.target
        if target is r.model:  # no per-domain statistics: re-estimate on the source, as SWA does
            batches = (r.task.batch(r.data.train, np.arange(s, min(s + 64, len(r.data.train), 256)), r.norm,
                                    r.device, labels=False)[0] for s in range(0, 256, 64))
            target = adapt_batch_norm(r.model, batches)
        with torch.no_grad():
            score = r.task.evaluate(target, r.data.eval, r.norm, r.device, 64, embeddings=False).score
        out[f"average-{k}"] = r.task.higher(score)
    return out


def analyse(run: Path, scratch: Path) -> dict[str, Any] | None:
    m = json.loads((run / "metrics.json").read_text())
    if m.get("epochs_done") != m.get("epochs") or len(m["history"]) < max(AVERAGES):
        return None
    metric, signs = m["metric"], m["validator_signs"]
    score = [h["target"][metric] for h in m["history"]]
    row: dict[str, Any] = {"run": str(run), "last": score[-1], "best_epoch": max(score)}
    for v, sign in signs.items():
        vals = [sign * h["validators"][v] for h in m["history"] if v in h["validators"]]
        if len(vals) == len(score):
            row[v] = score[len(vals) - 1 - int(np.argmax(vals[::-1]))]
            row[f"rho:{v}"] = spearman(vals, score)
    row.update(averaged_scores(run, scratch))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="folders of run folders")
    ap.add_argument("--out", type=Path, default=Path("selection.json"))
    args = ap.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as scratch:
        for folder in args.runs:
            rows = [r for run in sorted(folder.iterdir()) if (run / "metrics.json").is_file()
                    for r in [analyse(run, Path(scratch))] if r is not None]
            report[str(folder)] = rows
            keys = [k for k in rows[0] if k not in ("run", "best_epoch") and not k.startswith("rho:")]
            print(f"\n{folder}: {len(rows)} runs; mean target score (runs below the last epoch); rank corr.")
            for k in keys:
                below = sum(r[k] < r["last"] - 1e-9 for r in rows)
                rho = [r[f"rho:{k}"] for r in rows if f"rho:{k}" in r]
                print(f"  {k:12s} {statistics.mean(r[k] for r in rows):.4f}  ({below:2d} of {len(rows)} below last)"
                      + (f"  rho {np.nanmean(rho):+.2f}" if rho else ""))
            print(f"  {'best epoch':12s} {statistics.mean(r['best_epoch'] for r in rows):.4f}  (oracle, uses labels)")
    args.out.write_text(json.dumps(report, indent=2, default=float))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
