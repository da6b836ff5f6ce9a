#!/usr/bin/env python3
"""Benchmark ``sim2real generate`` on the tabletop scene (MuJoCo backend) against the loop a user would
write without us, run side by side.

1. generate vs a bare MuJoCo loop (the headline figure): ``generate()``, the CLI's own loop, with the
   shipped ``tabletop`` profile (every randomization category: lights, textures, materials, object
   assets/count/pose/scale, camera, physics, image effects), writing the native layout (RGB, 16-bit
   depth, instance and semantic PNGs, a JSON record per frame, fsync'd), 2 writer threads; against
   ``_bare_generate.py``, which imports nothing of ours: ``mujoco.Renderer`` on the same compiled scene
   (saved here as MJB with its default objects), RGB + depth + segmentation, the same label maps, boxes
   and poses, the same files written with OpenCV at the same zlib level on 2 writer threads. Each run is
   a fresh process; the two alternate, ``--rounds`` rounds per resolution (order swapped every round).
   Reported: frames/s steady (after the first 10 % of frames: start-up excluded) and wall (the whole
   process, start-up included); the ratio per round with min/median/max; CPU seconds per steady frame
   (all threads of the process: rasterizer, writers) and their ratio, bare ÷ ours, which other jobs on
   the machine disturb far less than wall time; the load average.
2. 2 workers vs 1: frames/s of ``generate`` with two worker processes against one, alternating rounds,
   wall clock (start-up included) and steady (after the first 10 % of frames), and frames/s per busy
   core (target >= 0.95 of one worker's). Both give the rasterizer every core: one worker llvmpipe's
   default thread per core, N workers cores / N each (``generate.loop.rasterizer_threads``).
3. memory: peak RSS while generating --rss-frames frames in one process (every frame sampled),
   against the RSS at frame 100, and the curve (target: flat within 10 %).

    .venv/bin/python tools/bench/bench_generate.py [--frames 60] [--rounds 3]
        [--resolutions 320x240,640x480,1280x720] [--rss-frames 10000] [--skip bare,workers,rss]
        [--before CHECKOUT]   # an earlier sim2real's generate in the same rounds (before/after figures)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sim2real.cli_common import parse_resolution
from sim2real.dataset.writer import DatasetWriter
from sim2real.generate.api import generate
from sim2real.generate.loop import FrameSource
from sim2real.generate.request import GenerateRequest, resolve
from sim2real.progress import Reporter

HERE = Path(__file__).resolve().parent


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


class _Commits(Reporter):
    """Records (time, frames done, CPU time of this process) at every committed frame."""

    def __init__(self) -> None:
        self.points: list[tuple[float, int, float]] = []

    def _on_task(self, task: Any, final: bool, force: bool = False) -> None:
        self.points.append((time.perf_counter(), task.done, time.process_time()))

    def steady_fps(self, skip: int) -> float:
        (t0, d0, _), (t1, d1, _) = next(p for p in self.points if p[1] >= skip), self.points[-1]
        return (d1 - d0) / (t1 - t0)


# ---------------------------------------------------------------------- 1. generate vs a bare loop
def steady(done: dict[str, list[float]]) -> tuple[float, float]:
    """Frames per second and CPU seconds per frame after the first 10 % of frames (start-up and warm-up
    excluded); CPU: every thread of the process (writer threads and the rasterizer's included)."""
    wall, cpu = done["done_s"], done["cpu_s"]
    skip = max(1, len(wall) // 10)
    frames = len(wall) - skip
    return frames / (wall[-1] - wall[skip - 1]), (cpu[-1] - cpu[skip - 1]) / frames


def child_generate(frames: int, resolution: str, out: str) -> None:
    """``--child``: run ``generate()`` here and print when each frame was committed."""
    start = time.perf_counter()
    commits = _Commits()
    generate(request(Path(out), frames, parse_resolution(resolution)), commits)
    done = sorted({d: (t - start, c) for t, d, c in commits.points if d > 0}.values())
    print(json.dumps({"done_s": [t for t, _ in done], "cpu_s": [c for _, c in done]}))


def _timed_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, dict[str, list[float]]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


def save_scene(resolution: tuple[int, int], path: Path) -> None:
    """The compiled tabletop scene (default objects in their slots) as MJB, for the bare loop."""
    import mujoco
    from sim2real.backends.mujoco.backend import MujocoBackend

    backend = MujocoBackend()
    backend.load("tabletop", resolution=resolution)
    mujoco.mj_saveModel(backend.model, str(path), None)
    backend.close()


def bench_vs_bare(tmp: Path, frames: int, res: str, rounds: int, before: str | None = None) -> dict[str, Any]:
    """``before``: a checkout of an earlier sim2real whose ``generate`` joins the same rounds."""
    mjb = tmp / f"tabletop-{res}.mjb"
    save_scene(parse_resolution(res), mjb)
    contenders = ["bare", "generate"] + (["before"] if before else [])
    runs: dict[str, list[tuple[float, float, float]]] = {c: [] for c in contenders}  # steady fps, wall fps, CPU s/frame
    load = [os.getloadavg()[0]]
    for r in range(rounds):
        for who in contenders[r % len(contenders):] + contenders[:r % len(contenders)]:  # rotate the order
            out = tmp / f"{who}-{res}-{r}"
            env = None
            if who == "bare":
                cmd = [sys.executable, str(HERE / "_bare_generate.py"), "--model", str(mjb), "--frames", str(frames),
                       "--out", str(out), "--resolution", res]
            else:
                cmd = [sys.executable, __file__, "--child", "generate", "--frames", str(frames), "--resolution", res,
                       "--out", str(out)]
                if who == "before":
                    env = {**os.environ, "PYTHONPATH": str(Path(before, "exts", "sim2real"))}
            wall, done = _timed_process(cmd, env)
            fps, cpu = steady(done)
            runs[who].append((fps, frames / wall, cpu))
            load.append(os.getloadavg()[0])
    out = {"resolution": res, "frames": frames, "rounds": rounds, "runs": runs, "load": load}
    for who in contenders[1:]:
        out[f"{who}_ratio"] = [g[0] / b[0] for g, b in zip(runs[who], runs["bare"], strict=True)]
        out[f"{who}_ratio_wall"] = [g[1] / b[1] for g, b in zip(runs[who], runs["bare"], strict=True)]
        out[f"{who}_ratio_cpu"] = [b[2] / g[2] for g, b in zip(runs[who], runs["bare"], strict=True)]
    return out


def _mmm(values: list[float], fmt: str = ".2f") -> str:
    return f"{min(values):{fmt}}/{statistics.median(values):{fmt}}/{max(values):{fmt}}"


def print_vs_bare(r: dict[str, Any]) -> None:
    b = r["runs"]["bare"]
    print(f"{r['resolution']}, min/median/max of {r['rounds']} interleaved rounds of {r['frames']} frames, load "
          f"average {_mmm(r['load'], '.1f')} on {os.cpu_count()} cores: bare loop {_mmm([x[0] for x in b])} frames/s "
          f"steady, {_mmm([x[2] for x in b], '.3f')} CPU s/frame", flush=True)
    for who in r["runs"]:
        if who != "bare":
            mine = r["runs"][who]
            print(f"  {who}: {_mmm([x[0] for x in mine])} frames/s steady, ratio {_mmm(r[who + '_ratio'])} "
                  f"(target >= 0.9); wall with start-up {_mmm(r[who + '_ratio_wall'])}; "
                  f"{_mmm([x[2] for x in mine], '.3f')} CPU s/frame, CPU ratio {_mmm(r[who + '_ratio_cpu'])}",
                  flush=True)


# ---------------------------------------------------------------------- 2. workers
def _workers_run(tmp: Path, frames: int, resolution: tuple[int, int], workers: int, tag: str) -> dict[str, float]:
    commits = _Commits()
    cpu = _cpu_seconds()
    t = time.perf_counter()
    generate(request(tmp / f"workers{workers}-{tag}", frames, resolution, workers), commits)
    wall = time.perf_counter() - t
    busy = (_cpu_seconds() - cpu) / wall  # CPU seconds per second: cores kept busy
    return {"fps": frames / wall, "steady_fps": commits.steady_fps(frames // 10), "cores_busy": busy,
            "fps_per_core": frames / wall / busy}


def bench_workers(tmp: Path, frames: int, resolution: tuple[int, int], rounds: int) -> dict[str, Any]:
    """1 and 2 worker processes in alternating rounds. Wall clock includes start-up (spawning workers,
    loading the scene); steady excludes the first 10 % of frames; frames/s per busy core divides the
    wall rate by the CPU seconds per second of the run (this process and its workers)."""
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    load = [os.getloadavg()[0]]
    for r in range(rounds):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            runs[workers].append(_workers_run(tmp, frames, resolution, workers, str(r)))
            load.append(os.getloadavg()[0])
    pairs = list(zip(runs[1], runs[2], strict=True))
    return {"runs": runs, "load": load, "ratio": [b["fps"] / a["fps"] for a, b in pairs],
            "steady_ratio": [b["steady_fps"] / a["steady_fps"] for a, b in pairs],
            "per_core_ratio": [b["fps_per_core"] / a["fps_per_core"] for a, b in pairs]}


def print_workers(r: dict[str, Any], res: str, frames: int) -> None:
    one, two = r["runs"][1], r["runs"][2]
    print(f"2 workers vs 1 at {res}, {frames} frames, min/median/max of {len(one)} alternating rounds, load average "
          f"{_mmm(r['load'], '.1f')}: {_mmm([x['fps'] for x in two])} vs {_mmm([x['fps'] for x in one])} frames/s = "
          f"{_mmm(r['ratio'])}x with start-up, {_mmm(r['steady_ratio'])}x steady; cores busy "
          f"{_mmm([x['cores_busy'] for x in two])} vs {_mmm([x['cores_busy'] for x in one])}; frames/s per busy core "
          f"{_mmm(r['per_core_ratio'])}x one worker's (target >= 0.95)", flush=True)


# ---------------------------------------------------------------------- 3. memory
def bench_rss(tmp: Path, frames: int, resolution: tuple[int, int], start: int = 100) -> dict[str, Any]:
    """RSS of one generating process (renderer, texture library, writer threads, catalog) after every
    frame, compared from frame ``start`` on; the curve at ten points."""
    resolved = resolve(request(tmp / "rss", frames, resolution))
    source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path)
    curve: list[tuple[int, float]] = []
    marks = set(range(start, frames + 1, max(1, (frames - start) // 10))) | {start, frames}
    t = time.perf_counter()
    with DatasetWriter(tmp / "rss", resolved.spec, frames, resolved.versions, threads=2) as writer:
        for i in range(frames):
            writer.write(i, source.render(i))
            if i + 1 >= start:
                curve.append((i + 1, rss_mb()))
                if i + 1 in marks:  # as it goes: a long run cut short still leaves its curve
                    print(f"  RSS at frame {i + 1}: {curve[-1][1]:.1f} MB ({curve[-1][1] / curve[0][1]:.3f}x frame "
                          f"{start}'s), {(i + 1) / (time.perf_counter() - t):.1f} frames/s", flush=True)
    seconds = time.perf_counter() - t
    source.close()
    at_start, peak = curve[0][1], max(r for _, r in curve)
    return {"frames": frames, "fps": frames / seconds, "start": start, "rss_mb_at_start": at_start,
            "rss_mb_peak": peak, "rss_mb_end": curve[-1][1], "peak_over_start": peak / at_start,
            "curve": [(i, round(r, 1)) for i, r in curve if i in marks]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--resolutions", default="320x240,640x480,1280x720")
    parser.add_argument("--workers-frames", type=int, default=200)
    parser.add_argument("--workers-resolution", default="640x480")
    parser.add_argument("--rss-frames", type=int, default=10_000)
    parser.add_argument("--rss-resolution", default="640x480")
    parser.add_argument("--skip", default="", help="comma-separated: bare, workers, rss")
    parser.add_argument("--before", help="a checkout of an earlier sim2real: its generate joins the same rounds")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--resolution", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "generate":
        child_generate(args.frames, args.resolution, args.out)
        return
    from sim2real.backends.mujoco import gl  # noqa: F401  (sets MUJOCO_GL, which the children inherit)

    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {}
    print(f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}, LP_NUM_THREADS={os.environ.get('LP_NUM_THREADS', 'default')}")
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        if "bare" not in skip:
            results["vs_bare"] = []
            for res in args.resolutions.split(","):
                r = bench_vs_bare(Path(tmp), args.frames, res, args.rounds, args.before)
                results["vs_bare"].append(r)
                print_vs_bare(r)
        if "workers" not in skip:
            res = parse_resolution(args.workers_resolution)
            results["workers_2_vs_1"] = r = bench_workers(Path(tmp), args.workers_frames, res, args.rounds)
            print_workers(r, args.workers_resolution, args.workers_frames)
        if "rss" not in skip:
            res = parse_resolution(args.rss_resolution)
            results["rss"] = r = bench_rss(Path(tmp), args.rss_frames, res)
            print(f"RSS over {args.rss_frames} frames at {args.rss_resolution}: peak {r['rss_mb_peak']:.0f} MB vs "
                  f"{r['rss_mb_at_start']:.0f} MB at frame {r['start']} = {r['peak_over_start']:.3f}x (target <= 1.10); "
                  f"{r['fps']:.1f} frames/s; curve (frame, MB): {r['curve']}", flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
