"""Frames/s per worker on a real Ray cluster (``ray start`` head + worker node on 127.0.0.1, one
renderer each) against the baseline a user would run otherwise: one local ``sim2real generate``
process. Rounds are interleaved; each figure is the CLI's own ``frames_per_s`` (frames made over
the run's wall time, actor start-up included), printed as min/median/max with the load average.

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    local: list[float] = []
    ray: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, RayCluster(Path(tmp) / "ray") as cluster:
        cluster.head()
        cluster.worker()
        for r in range(args.rounds):
            local.append(_rate(Path(tmp) / f"local{r}", args.frames, cluster.env))
            ray.append(_rate(Path(tmp) / f"ray{r}", args.frames, cluster.env, "--executor", "ray", "--workers", "2",
                             "--ray-address", cluster.address) / 2)
    fmt = lambda xs: f"min {min(xs):.2f} median {statistics.median(xs):.2f} max {max(xs):.2f}"  # noqa: E731
    print(f"load average {os.getloadavg()}; {args.frames} frames 64x48, {args.rounds} interleaved rounds")
    print(f"local, 1 process:            {fmt(local)} frames/s")
    print(f"ray start cluster, per actor: {fmt(ray)} frames/s (2 nodes x 1 actor)")
    print(f"per-worker ratio ray/local: {statistics.median(ray) / statistics.median(local):.2f}")


if __name__ == "__main__":
    main()
