"""Benchmark: applying one episode of the tabletop profile to the USD tabletop (issue #10).

What the Isaac Sim extension does at every reset (and, for the USD path, before the simulation starts):
``UsdScene.restore`` + ``UsdScene.apply(reset sample)`` on ``data/scenes/tabletop.usda``. Baseline, in
the same process and interleaved: writing the very attribute values that apply produced (read back
from the edit layer) with bare ``Usd.Attribute.Set`` calls into a cleared layer, i.e. the cost of the
USD attribute writes alone, without finding defaults, combining ops, variant switches (metadata),
support-point lifts, texture networks and material bindings (relationships, connections). No target is set by the issue; the ratio says what the
applier's logic costs on top of the writes.

    .venv/bin/python tools/bench/bench_usd_apply.py [--repeat 5] [--number 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pxr import Sdf, Usd

from sim2real.randomize.profile import load_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.usd import UsdScene, open_stage

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=20)
    args = parser.parse_args()
    stage = open_stage(ROOT / "data" / "scenes" / "tabletop.usda")
    scene = UsdScene(stage)
    r = Randomizer(load_profile(ROOT / "config" / "profiles" / "tabletop.toml"), 0, scene.entities())
    samples = [r.reset(i) for i in range(args.number)]
    keys = [[k for k in s.values if not k.startswith("image:")] for s in samples]

    # the writes apply makes, per sample: (attribute path, value, type), replayed by the baseline
    writes = []
    for s, k in zip(samples, keys):
        scene.restore()
        scene.apply(s, keys=k)
        layer = scene.edits.layer
        paths: list[Sdf.Path] = []
        layer.Traverse("/", lambda path: paths.append(path) if path.IsPropertyPath() else None)
        specs = [(p, layer.GetAttributeAtPath(p)) for p in paths]
        writes.append([(p, spec.default, spec.typeName) for p, spec in specs
                       if spec is not None and spec.default is not None])

    def applier() -> None:
        for s, k in zip(samples, keys):
            scene.restore()
            scene.apply(s, keys=k)

    def bare() -> None:
        for batch in writes:
            scene.edits.clear()
            with Usd.EditContext(stage, scene.edits.layer):
                for path, value, type_name in batch:
                    prim = stage.GetPrimAtPath(path.GetPrimPath())
                    if not prim:
                        prim = stage.OverridePrim(path.GetPrimPath())
                    attr = prim.GetAttribute(path.name) or prim.CreateAttribute(path.name, type_name)
                    attr.Set(value)

    best = {"applier": float("inf"), "bare": float("inf")}
    for _ in range(args.repeat):
        for name, fn in (("applier", applier), ("bare", bare)):
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], (time.perf_counter() - t) / args.number)
    scene.close()
    n_keys = sum(len(k) for k in keys) / len(keys)
    n_writes = sum(len(b) for b in writes) / len(writes)
    print(f"tabletop reset sample: {n_keys:.0f} keys -> {n_writes:.0f} attribute writes")
    print(f"UsdScene.restore + apply : {best['applier'] * 1e3:7.2f} ms per reset")
    print(f"bare Usd.Attribute.Set   : {best['bare'] * 1e3:7.2f} ms per reset (baseline)")
    print(f"ratio                    : {best['applier'] / best['bare']:.2f}x the bare writes")


if __name__ == "__main__":
    main()
