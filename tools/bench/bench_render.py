"""Benchmark: frames per second of ``step + apply + render`` through the MuJoCo backend against the bare
``mujoco.Renderer`` loop on the same scene, measured side by side in this process.

Both loops produce RGB, depth and segmentation of the tabletop scene from camera ``main``:

* bare: ``mj_step``; ``Renderer.update_scene``; ``render()`` three times (RGB, depth, segmentation);
* backend: ``step()``; ``apply()`` of a per-frame visual sample (lights, materials, camera, object
  poses); ``render()`` → a Frame (RGB, linear depth, instance + semantic maps, boxes, poses, K, and
  each object's occlusion, which takes extra passes).

Target (issue #4): backend >= 0.9x the bare loop, at 640x480 and 128x128. Frames of the two loops
alternate, so that machine load (other jobs on the same cores) hits both alike; the median frame time
of each is reported.

    .venv/bin/python tools/bench/bench_render.py [--frames 40] [--no-occlusion] [--effects]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import mujoco
import numpy as np
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.randomize.sample import Sample


def frame_samples(n: int, seed: int = 0, effects: bool = False) -> list[Sample]:
    """Per-frame visual randomization: 3 lights, 4 materials, the camera orbit, 8 object poses."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        v: dict[str, np.ndarray] = {}
        ops: dict[str, str] = {}
        for light in ("key", "fill", "rim"):
            v[f"light:{light}/intensity"], ops[f"light:{light}/intensity"] = rng.uniform(0.6, 1.4, 1), "scale"
            v[f"light:{light}/color"], ops[f"light:{light}/color"] = rng.uniform(0.7, 1.0, (1, 3)), "set"
        for mat in ("table_top", "obj_00", "obj_01", "obj_02"):
            v[f"material:{mat}/base_color"], ops[f"material:{mat}/base_color"] = rng.uniform(0.1, 0.9, (1, 3)), "set"
        v["camera:main/azimuth"], ops["camera:main/azimuth"] = rng.uniform(-0.3, 0.3, 1), "add"
        v["camera:main/elevation"], ops["camera:main/elevation"] = rng.uniform(-0.1, 0.1, 1), "add"
        for k in range(8):
            key = f"object:obj_{k:02d}/position"
            v[key], ops[key] = rng.uniform([-0.03, -0.03, 0], [0.03, 0.03, 0], (1, 3)), "add"
        if effects:
            v["image:main/noise_std"], ops["image:main/noise_std"] = rng.uniform(0, 0.02, 1), "set"
            v["image:main/blur"], ops["image:main/blur"] = rng.uniform(0, 1.0, 1), "set"
        out.append(Sample(seed, i, "frame", 1, v, ops))
    return out


class BareLoop:
    """The baseline: MuJoCo's own Renderer producing RGB, depth and segmentation of the same model."""

    def __init__(self, model: mujoco.MjModel, width: int, height: int) -> None:
        self.model, self.data = model, mujoco.MjData(model)
        self.renderer = mujoco.Renderer(model, height, width)

    def frame(self) -> None:
        r = self.renderer
        mujoco.mj_step(self.model, self.data)
        r.update_scene(self.data, "main")
        r.render()
        r.enable_depth_rendering()
        r.render()
        r.enable_segmentation_rendering()
        r.render()
        r.disable_segmentation_rendering()


def backend_frame(backend: MujocoBackend, sample: Sample) -> None:
    backend.step()
    backend.apply(sample)
    backend.render("main")


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--no-occlusion", action="store_true", help="skip the occlusion passes")
    parser.add_argument("--effects", action="store_true", help="also randomize image noise and blur")
    args = parser.parse_args()
    print(f"mujoco {mujoco.__version__}, MUJOCO_GL={__import__('os').environ.get('MUJOCO_GL')}")
    for width, height in ((640, 480), (128, 128)):
        backend = MujocoBackend()
        backend.load("tabletop", resolution=(width, height), occlusion=not args.no_occlusion)
        reference = copy.copy(backend.model)  # the scene's defaults, for the bare loop
        bare = BareLoop(reference, width, height)
        samples = frame_samples(args.frames, effects=args.effects)
        try:
            bare.frame()  # warm-up: shader compilation, first uploads
            backend_frame(backend, samples[0])
            t_bare, t_ours = [], []
            for s in samples:  # interleaved, so that machine load hits both loops alike
                t_bare.append(timed(bare.frame))
                t_ours.append(timed(backend_frame, backend, s))
        finally:
            bare.renderer.close()
            backend.close()
        b, o = 1 / statistics.median(t_bare), 1 / statistics.median(t_ours)
        print(f"{width}x{height}: bare mujoco.Renderer {b:7.2f} fps | backend step+apply+render {o:7.2f} fps "
              f"| ratio {o / b:.2f}x (target >= 0.9x; medians of {len(samples)} interleaved frames)")


if __name__ == "__main__":
    main()
