"""Frames/s per worker on a real Ray cluster (``ray start`` head + worker node on 127.0.0.1, one
CPU each) with 1 and with 2 actors, against the baseline a user would run otherwise: one local
``sim2real generate`` process that imports no Ray. Rounds are interleaved (local, ray x1, ray x2);
each figure is the CLI's own ``frames_per_s`` (frames made over the job's wall time, the driver's
connection to the cluster and actor start-up included; the cluster itself is started once, before
the rounds) divided by the number of workers, printed as min/median/max with the load average.

    PYTHONPATH=exts/sim2real .venv/bin/python tools/bench/bench_ray_cluster.py [--frames 48] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))  # the cluster helper the tests use

from ray_cluster import RayCluster  # noqa: E402


def _rate(out: Path, frames: int, env: dict[str, str], *extra: str) -> float:
    cmd = [sys.executable, "-m", "sim2real.cli", "generate", "--profile", "tabletop", "--resolution", "64x48",
           "--seed", "3", "--frames", str(frames), "--out", str(out), "--progress", "json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=True)
    result = [json.loads(x) for x in proc.stdout.splitlines() if '"event": "result"' in x][-1]
    return float(result["payload"]["frames_per_s"])


def _fmt(xs: list[float]) -> str:
    return f"min {min(xs):.2f} median {statistics.median(xs):.2f} max {max(xs):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    rates: dict[str, list[float]] = {"local": [], "ray1": [], "ray2": []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, RayCluster(Path(tmp) / "ray") as cluster:
        cluster.head()
        cluster.worker()
        for r in range(args.rounds):
            rates["local"].append(_rate(Path(tmp) / f"local{r}", args.frames, cluster.env))
            for n in (1, 2):
                rate = _rate(Path(tmp) / f"ray{n}-{r}", args.frames, cluster.env, "--executor", "ray",
                             "--workers", str(n), "--ray-address", cluster.address)
                rates[f"ray{n}"].append(rate / n)
    print(f"load average before {load_before}, after {os.getloadavg()}; {args.frames} frames 64x48, "
          f"{args.rounds} interleaved rounds")
    print(f"local, 1 process:              {_fmt(rates['local'])} frames/s")
    print(f"ray start cluster, 1 actor:    {_fmt(rates['ray1'])} frames/s per worker")
    print(f"ray start cluster, 2 actors:   {_fmt(rates['ray2'])} frames/s per worker (2 nodes x 1 actor)")
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"per-worker ratios (medians): ray x1/local {med['ray1'] / med['local']:.2f}, "
          f"ray x2/ray x1 {med['ray2'] / med['ray1']:.2f}, ray x2/local {med['ray2'] / med['local']:.2f}")


if __name__ == "__main__":
    main()
