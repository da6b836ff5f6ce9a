#!/usr/bin/env python3
"""Benchmark sim->real image translation on the SURROGATE target, at tiny CPU scale.

The tabletop rendered with the plain source profile (config/profiles/tabletop_plain.toml) is the sim
domain; the surrogate target profile (config/profiles/tabletop_target.toml) gives the unlabelled
target images (seed 1) and a labelled evaluation set (seed 2, never trained on). At --resolution
(default 64x48):

1. a CycleGAN-style translator (``sim2real translate train``) is trained sim -> target; the image-set
   distance of ``sim2real gap images`` (KID on seeded random-conv features, colour-mean difference)
   between the sim images and the evaluation images, before and after translation;
2. a segmentation net (objects vs background) is trained on the sim data source-only, with DANN, on
   translated sim data (``translate = {run = ...}``, source-only), and translated + DANN; the target
   mIoU of each on the evaluation set (``sim2real.train``'s own evaluation), mean +- sd over --seeds.

Runs are kept in --work and resume, so a second call only prints.

    .venv/bin/python tools/bench/bench_translate.py [--seeds 2] [--frames 240] [--iterations 1500]
        [--epochs 8] [--resolution 64x48] [--work runs/bench-translate]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from sim2real.generate.api import generate
from sim2real.generate.request import GenerateRequest

SETTINGS = {"class_map": {"*": "object"}, "batch_size": 16}


def make_data(work: Path, frames: int, resolution: tuple[int, int]) -> dict[str, Path]:
    sets = {"sim": ("tabletop_plain", frames, 0), "target": ("tabletop_target", frames, 1),
            "eval": ("tabletop_target", frames // 2, 2)}
    out = {}
    for name, (profile, n, seed) in sets.items():
        out[name] = work / "data" / name
        t = time.perf_counter()
        r = generate(GenerateRequest(profile=profile, frames=n, out=out[name], seed=seed, resolution=resolution, workers=2))
        if r["made"]:
            print(f"generated {name}: {n} frames of {profile} in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def translator(data: dict[str, Path], work: Path, iterations: int, resolution: tuple[int, int]) -> Path:
    from sim2real.translate.config import TranslateConfig
    from sim2real.translate.run import TranslateRequest, train

    out = work / "translator"
    t = time.perf_counter()
    cfg = TranslateConfig(resolution=resolution, iterations=iterations, checkpoint_every=250)
    summary = train(TranslateRequest(cfg, data["sim"], data["target"], out))
    print(f"translator: {summary['iterations_done']} iterations ({time.perf_counter() - t:.0f} s); cycle loss "
          f"{summary['history'][0]['cycle']:.3f} -> {summary['history'][-1]['cycle']:.3f}", flush=True)
    return out


def distance(data: dict[str, Path], run: Path, resolution: tuple[int, int], n: int = 120) -> dict[str, Any]:
    """Sim vs the labelled target evaluation images (not the images the translator saw)."""
    from sim2real.train.sources import read_image_set
    from sim2real.translate.apply import Translator, set_distance

    sim = read_image_set(data["sim"], resolution, limit=n).images
    ev = read_image_set(data["eval"], resolution, limit=n).images
    before, after = set_distance(sim, ev), set_distance(Translator(run)(sim), ev)
    print(f"\n--- image-set distance sim -> target ({len(sim)} vs {len(ev)} images, {resolution[0]}x{resolution[1]})")
    print(f"{'metric':24s} {'before':>10s} {'after':>10s} {'after/before':>13s}")
    for k in before:
        print(f"{k:24s} {before[k]:10.4g} {after[k]:10.4g} {after[k] / before[k] if before[k] else float('nan'):13.3f}")
    return {"before": before, "after": after}


def segment(data: dict[str, Path], run: Path, variant: str, seed: int, epochs: int, resolution: tuple[int, int],
            work: Path) -> float:
    from sim2real.train.config import load_config
    from sim2real.train.data import Inputs
    from sim2real.train.trainer import TrainRequest, train
    from sim2real.translate.augment import source_translation

    method = "dann" if "dann" in variant else "source-only"
    extra = {"translate": {"run": str(run)}} if variant.startswith("translated") else {}
    cfg = load_config(None, {**SETTINGS, **extra, "resolution": resolution, "method": method, "seed": seed,
                             "epochs": epochs})
    out = work / "runs" / f"{variant}-s{seed}"
    t = time.perf_counter()
    summary = train(TrainRequest(cfg, Inputs(data["sim"], data["target"], None, data["eval"]), out, source_translation(cfg)))
    miou = summary["final"]["target"]["miou"]
    if time.perf_counter() - t > 5:
        print(f"  {out.name}: target mIoU {miou:.3f} ({time.perf_counter() - t:.0f} s)", flush=True)
    return miou


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--iterations", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--resolution", default="64x48")
    ap.add_argument("--work", type=Path, default=Path("runs/bench-translate"))
    args = ap.parse_args()
    w, h = (int(v) for v in args.resolution.split("x"))
    res = (w, h)
    data = make_data(args.work, args.frames, res)
    run = translator(data, args.work, args.iterations, res)
    dist = distance(data, run, res)
    variants = ("source-only", "dann", "translated", "translated+dann")
    print(f"\n--- segmentation, target mIoU on the labelled surrogate target, {args.seeds} seed(s), {args.epochs} epochs")
    table = {v: [segment(data, run, v, s, args.epochs, res, args.work) for s in range(args.seeds)] for v in variants}
    base = statistics.mean(table["source-only"])
    print(f"{'variant':16s} {'target mIoU':>18s} {'vs source-only':>15s}")
    for v, vals in table.items():
        print(f"{v:16s} {statistics.mean(vals):10.3f} +- {statistics.pstdev(vals):.3f} {statistics.mean(vals) - base:+15.3f}")
    result = {"distance": dist, "miou": table, "seeds": args.seeds, "epochs": args.epochs,
              "iterations": args.iterations, "resolution": res}
    (args.work / "result.json").write_text(json.dumps(result, indent=2, default=float))
    print(f"\nKID ratio after/before translation: {dist['after']['kid'] / dist['before']['kid']:.3f}; "
          f"translated vs source-only: {statistics.mean(table['translated']) - base:+.3f} mIoU, "
          f"DANN vs source-only: {statistics.mean(table['dann']) - base:+.3f}")


if __name__ == "__main__":
    main()
