#!/usr/bin/env python3
"""Benchmark the deployed segmentation model: onnxruntime vs PyTorch eager, INT8 vs FP32.

1. A segmentation run to deploy: the tabletop rendered with the plain source profile trains the
   default segmentation net (SegNet, widths 16-32-64) on objects vs background at 96x72 (the
   'quick' training settings), adapting with DANN to unlabelled SURROGATE target images; a
   labelled surrogate-target set (another seed) is the evaluation set. ``--run RUN`` uses an
   existing run folder instead. Everything is kept in --work (a second call reuses it).
2. Export (parity with PyTorch reported), INT8 static QDQ calibrated on synthetic + target
   images, FP16.
3. Latency at batch 1 on this CPU, interleaved in one process (blocks of --iterations per engine,
   alternating, --rounds times; medians of every timed call):
   * PyTorch eager (``torch.no_grad``, eval mode) vs onnxruntime FP32 -> ratio torch / ort;
   * onnxruntime INT8 (and FP16) vs FP32 -> ratio fp32 / int8, with the mIoU change on the
     evaluation set.
   Both frameworks get the same thread count (--threads, default 1: on a shared machine the
   spinning OpenMP threads of a 2-thread PyTorch make its figures erratic).
   ``--device auto`` (the default) times PyTorch on CUDA and onnxruntime with its CUDA provider when
   both are present, else the CPU; the device line is printed beside the figures (``devices.py``).

    .venv/bin/python tools/bench/bench_deploy.py [--frames 300] [--epochs 8] [--threads 1]
        [--iterations 200] [--rounds 5] [--run RUN] [--work runs/bench-deploy] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

import devices

GEN_RESOLUTION = (128, 96)


def make_run(work: Path, frames: int, epochs: int) -> Path:
    from sim2real.generate.api import generate
    from sim2real.generate.request import GenerateRequest
    from sim2real.train.config import config_file, load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train

    data = {}
    for name, (profile, n, seed) in {"source": ("tabletop_plain", frames, 0), "target": ("tabletop_target", frames // 2, 1),
                                     "eval": ("tabletop_target", 64, 2)}.items():
        data[name] = work / "data" / name
        t = time.perf_counter()
        r = generate(GenerateRequest(profile=profile, frames=n, out=data[name], seed=seed, resolution=GEN_RESOLUTION,
                                     workers=2))
        if r["made"]:
            print(f"generated {name}: {n} frames of {profile} in {time.perf_counter() - t:.0f} s", flush=True)
    cfg = load_config(config_file("quick"), {"method": "dann", "epochs": epochs, "seed": 0})
    run = work / "run"
    t = time.perf_counter()
    summary = train(TrainRequest(cfg, Inputs(data["source"], data["target"], None, data["eval"]), run))
    print(f"trained {run}: {summary['epochs_done']} epochs, target mIoU {summary['final']['target']['miou']:.3f} "
          f"({time.perf_counter() - t:.0f} s)", flush=True)
    return run


def interleaved(engines: dict[str, Callable[[np.ndarray], Any]], x: np.ndarray, iterations: int, rounds: int,
                warmup: int = 20) -> dict[str, dict[str, float]]:
    """Per engine: median / p95 latency (ms) of every timed call, blocks alternating between engines."""
    from sim2real.deploy.edge.bench import latency_stats, time_engine

    times: dict[str, list[float]] = {k: [] for k in engines}
    for run in engines.values():
        time_engine(run, x, warmup, 0)
    for _ in range(rounds):
        for name, run in engines.items():
            times[name] += time_engine(run, x, 0, iterations)
    return {k: latency_stats(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("runs/bench-deploy"))
    ap.add_argument("--run", type=Path, default=None)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--device", default="auto", choices=devices.CHOICES, help="cuda when present (auto)")
    args = ap.parse_args()

    import onnxruntime as ort
    import torch

    from sim2real.deploy.edge.engines import OrtEngine
    from sim2real.deploy.prepare import ExportRequest, build_models
    from sim2real.train.runfolder import load_model

    torch.set_num_threads(args.threads)
    run = args.run or make_run(args.work, args.frames, args.epochs)
    out = args.work / "export"
    t = time.perf_counter()
    built = build_models(ExportRequest(run, ("fp32", "int8", "fp16"), eval_count=64, calib_count=64, iterations=20),
                         {p: out / f"model.{p}.onnx" for p in ("fp32", "int8", "fp16")})
    print(f"exported + quantized in {time.perf_counter() - t:.1f} s; parity max |ort - torch| = "
          f"{built.exported.parity_max_abs:.3g} on {built.exported.parity_samples} evaluation images", flush=True)
    dev = devices.torch_device(args.device)
    model, spec = load_model(run)
    model.to(dev)
    x = built.eval.prepared(spec)

    def torch_eager(batch: np.ndarray) -> Any:
        with torch.no_grad():
            out = model(torch.from_numpy(batch).to(dev))
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)  # the call's time includes the kernels it queued
            return out

    engines: dict[str, Callable[[np.ndarray], Any]] = {"torch": torch_eager}
    providers = devices.ort_providers(dev.type, ort.get_available_providers())
    for p, path in built.paths.items():
        engines[p] = OrtEngine(str(path), threads=args.threads, providers=providers).run
    lat = interleaved(engines, x, args.iterations, args.rounds)
    shape = f"1x{x.shape[1]}x{x.shape[2]}x{x.shape[3]}"
    miou = {p: r["score"]["miou"] for p, r in built.report.items()}
    result = {
        "model": f"{spec.arch} widths {spec.config['widths']}, input {shape}, {len(spec.classes)} classes",
        "threads": args.threads, "iterations": args.iterations * args.rounds,
        "latency_ms": {k: {"p50": v["p50_ms"], "p95": v["p95_ms"]} for k, v in lat.items()},
        "torch_over_ort_fp32": lat["torch"]["p50_ms"] / lat["fp32"]["p50_ms"],
        "fp32_over_int8": lat["fp32"]["p50_ms"] / lat["int8"]["p50_ms"],
        "fp32_over_fp16": lat["fp32"]["p50_ms"] / lat["fp16"]["p50_ms"],
        "miou": {"torch": built.host["torch"]["miou"], **miou},
        "int8_miou_change": miou["int8"] - miou["fp32"], "fp16_miou_change": miou["fp16"] - miou["fp32"],
        "parity_max_abs": built.exported.parity_max_abs, "eval_images": len(built.eval),
        "device": devices.describe(dev), "ort_providers": providers,
    }
    print(f"\nsegmentation model {result['model']}, batch 1, {args.threads} threads, "
          f"{result['iterations']} timed calls per engine")
    print(f"device: {result['device']}; onnxruntime providers: {', '.join(providers)}")
    print(f"{'engine':16s} {'p50 ms':>8s} {'p95 ms':>8s} {'mIoU':>8s}")
    names = {"torch": "PyTorch eager", "fp32": "ORT FP32", "int8": "ORT INT8 (QDQ)", "fp16": "ORT FP16"}
    for k, name in names.items():
        print(f"{name:16s} {lat[k]['p50_ms']:8.3f} {lat[k]['p95_ms']:8.3f} {result['miou'][k]:8.4f}")
    print(f"onnxruntime FP32 vs PyTorch eager: {result['torch_over_ort_fp32']:.2f}x faster (p50 ratio torch/ort)")
    print(f"INT8 vs FP32 (onnxruntime): {result['fp32_over_int8']:.2f}x (p50 ratio fp32/int8), "
          f"mIoU change {result['int8_miou_change']:+.4f}")
    print(f"FP16 vs FP32 (onnxruntime, CPU: FP16 runs through casts here): {result['fp32_over_fp16']:.2f}x, "
          f"mIoU change {result['fp16_miou_change']:+.4f}")
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
