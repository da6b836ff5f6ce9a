#!/usr/bin/env python3
"""Benchmark dataset generation on the tabletop scene (MuJoCo backend), with baselines in the same run.

1. writing vs render-only: frames/s of the generation loop that encodes and commits RGB + depth +
   instance + semantic (thread pool) against the bare render loop, same process, same frames
   (target >= 0.85x). The render-only baseline is measured before and after, and averaged.
2. 2 workers vs 1: frames/s of `generate` with two worker processes against one, wall clock (start-up
   included) and steady (after the first 10 % of frames) (target >= 1.7x).
3. memory: peak RSS while generating --rss-frames frames in one process, against the RSS after the
   first 10 % (target: flat within 10 %).

    .venv/bin/python tools/bench/bench_generate.py [--frames 200] [--resolution 640x480]
        [--rss-frames 10000] [--rss-resolution 160x120] [--skip workers,rss]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sim2real.cli_common import parse_resolution
from sim2real.dataset.writer import DatasetWriter
from sim2real.generate.api import generate
from sim2real.generate.loop import FrameSource
from sim2real.generate.request import GenerateRequest, resolve
from sim2real.progress import Reporter


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes), seconds."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request(out: Path, frames: int, resolution: tuple[int, int], workers: int = 1) -> GenerateRequest:
    return GenerateRequest(profile="tabletop", frames=frames, out=out, resolution=resolution, workers=workers)


def bench_writing(tmp: Path, frames: int, resolution: tuple[int, int]) -> dict[str, float]:
    resolved = resolve(request(tmp / "writing", frames, resolution))
    source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path)
    for i in range(5):  # warm-up: GL context, caches
        source.render(10_000 + i)

    def render_only() -> float:
        t = time.perf_counter()
        for i in range(frames):
            source.render(i)
        return frames / (time.perf_counter() - t)

    before = render_only()
    t = time.perf_counter()
    with DatasetWriter(tmp / "writing", resolved.spec, frames, resolved.versions, threads=2) as writer:
        for i in range(frames):
            writer.write(i, source.render(i))
    writing = frames / (time.perf_counter() - t)
    after = render_only()
    source.close()
    baseline = (before + after) / 2
    return {"render_only_fps": baseline, "render_only_fps_before": before, "render_only_fps_after": after,
            "writing_fps": writing, "ratio": writing / baseline}


class _Commits(Reporter):
    """Records (time, frames done) at every progress update, to measure the steady rate."""

    def __init__(self) -> None:
        self.points: list[tuple[float, int]] = []

    def _on_task(self, task: Any, final: bool, force: bool = False) -> None:
        self.points.append((time.perf_counter(), task.done))

    def steady_fps(self, skip: int) -> float:
        (t0, d0), (t1, d1) = next(p for p in self.points if p[1] >= skip), self.points[-1]
        return (d1 - d0) / (t1 - t0)


def bench_workers(tmp: Path, frames: int, resolution: tuple[int, int]) -> dict[str, float]:
    """Wall clock includes start-up (spawning workers, loading the scene); steady excludes the first 10 %."""
    out = {}
    for workers in (1, 2):
        commits = _Commits()
        cpu = _cpu_seconds()
        t = time.perf_counter()
        generate(request(tmp / f"workers{workers}", frames, resolution, workers), commits)
        wall = time.perf_counter() - t
        out[f"workers{workers}_fps"] = frames / wall
        out[f"workers{workers}_steady_fps"] = commits.steady_fps(frames // 10)
        out[f"workers{workers}_cores_busy"] = (_cpu_seconds() - cpu) / wall  # CPU seconds per second
    out["ratio"] = out["workers2_fps"] / out["workers1_fps"]
    out["steady_ratio"] = out["workers2_steady_fps"] / out["workers1_steady_fps"]
    return out


def bench_rss(tmp: Path, frames: int, resolution: tuple[int, int]) -> dict[str, float]:
    samples: list[tuple[float, float]] = []  # (fraction done, RSS MB)
    done = [0]
    stop = threading.Event()

    def sampler() -> None:
        while not stop.wait(0.2):
            samples.append((done[0] / frames, rss_mb()))

    resolved = resolve(request(tmp / "rss", frames, resolution))
    source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path)
    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    t = time.perf_counter()
    with DatasetWriter(tmp / "rss", resolved.spec, frames, resolved.versions, threads=2) as writer:
        for i in range(frames):
            writer.write(i, source.render(i))
            done[0] = i + 1
    seconds = time.perf_counter() - t
    stop.set()
    thread.join()
    source.close()
    warm = [r for f, r in samples if f >= 0.1]
    at_10 = warm[0]
    peak = max(warm)
    return {"frames": frames, "fps": frames / seconds, "rss_mb_at_10pct": at_10, "rss_mb_peak": peak,
            "rss_mb_end": warm[-1], "peak_over_10pct": peak / at_10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--resolution", default="640x480")
    parser.add_argument("--rss-frames", type=int, default=10_000)
    parser.add_argument("--rss-resolution", default="160x120")
    parser.add_argument("--skip", default="", help="comma-separated: writing, workers, rss")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    res, rss_res = parse_resolution(args.resolution), parse_resolution(args.rss_resolution)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        if "writing" not in skip:
            results["writing_vs_render_only"] = r = bench_writing(Path(tmp), args.frames, res)
            print(f"writing vs render-only at {args.resolution}: {r['writing_fps']:.1f} vs "
                  f"{r['render_only_fps']:.1f} frames/s = {r['ratio']:.2f}x (target >= 0.85)", flush=True)
        if "workers" not in skip:
            results["workers_2_vs_1"] = r = bench_workers(Path(tmp), args.frames, res)
            print(f"2 workers vs 1 at {args.resolution}: {r['workers2_fps']:.1f} vs {r['workers1_fps']:.1f} "
                  f"frames/s = {r['ratio']:.2f}x with start-up, {r['steady_ratio']:.2f}x steady "
                  f"(target >= 1.7); one worker keeps {r['workers1_cores_busy']:.2f} cores busy, two keep "
                  f"{r['workers2_cores_busy']:.2f}", flush=True)
        if "rss" not in skip:
            results["rss"] = r = bench_rss(Path(tmp), args.rss_frames, rss_res)
            print(f"RSS over {args.rss_frames} frames at {args.rss_resolution}: peak {r['rss_mb_peak']:.0f} MB vs "
                  f"{r['rss_mb_at_10pct']:.0f} MB after 10 % = {r['peak_over_10pct']:.3f}x (target <= 1.10); "
                  f"{r['fps']:.1f} frames/s", flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
