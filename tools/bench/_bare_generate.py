#!/usr/bin/env python3
"""The baseline of ``bench_generate.py``: the render loop a user would write with MuJoCo's own API
instead of running ``sim2real generate``. It imports nothing of sim2real (only mujoco, numpy, cv2 and
the standard library), so it can measure nothing of ours.

It loads a compiled scene (an MJB file: ``bench_generate.py`` saves the tabletop scene with its default
objects in their slots) and, per frame:

* moves every free body a little (a new world per frame, as a user's own randomization would);
* renders with ``mujoco.Renderer``: RGB, depth and segmentation (three ``render()`` calls);
* turns segmentation into instance ids (one per top-level free body) and class ids (the asset name in
  the body's name, ``obj_00/<asset>/...``), depth into uint16 millimetres (0 = no surface);
* computes each instance's tight box and pixel count, the camera intrinsics and every object's pose;
* writes ``rgb.png``, ``depth.png`` (16-bit), ``instance.png`` and ``semantic.png`` (16-bit) with OpenCV at
  zlib level 1 (sim2real's default level) and a JSON record, on ``--threads`` writer threads (0: inline).

Prints one JSON line: when each frame's files were written, seconds after start, wall clock and CPU time
of the process (all threads).

    python tools/bench/_bare_generate.py --model scene.mjb --frames 100 --out DIR [--resolution 640x480]
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import mujoco
import numpy as np

START = time.perf_counter()
PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1]
GEOM = int(mujoco.mjtObj.mjOBJ_GEOM)  # an int: comparing an array with the enum itself goes element by element


class Labels:
    """Lookup tables from a segmentation pass's geom ids to instance and class ids."""

    def __init__(self, model: mujoco.MjModel) -> None:
        free = [model.jnt_bodyid[j] for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
        self.bodies = [int(b) for b in free]
        names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "" for b in range(model.nbody)]
        assets = sorted({n.split("/")[1] for n in names if n.count("/") >= 2})
        root = model.body_rootid[model.geom_bodyid]
        body_instance = np.zeros(model.nbody, np.int32)
        body_instance[self.bodies] = np.arange(1, len(self.bodies) + 1)
        self.instance = np.zeros(model.ngeom + 1, np.uint16)  # index 0: no geom
        self.instance[1:] = body_instance[root]
        geom_class = [assets.index(names[b].split("/")[1]) + 1 if names[b].count("/") >= 2 else 0
                      for b in model.geom_bodyid]
        self.semantic = np.zeros(model.ngeom + 1, np.uint16)
        self.semantic[1:] = geom_class
        self.labels = {0: "background", **{i + 1: a for i, a in enumerate(assets)}}


def boxes(instance: np.ndarray, n: int) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        mask = instance == i
        cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
        if cols.size:
            out.append({"id": i, "box": [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1],
                        "pixels": int(mask.sum())})
    return out


def intrinsics(model: mujoco.MjModel, camera: int, width: int, height: int) -> list[list[float]]:
    f = 0.5 * height / math.tan(math.radians(model.cam_fovy[camera]) / 2)
    return [[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]]


def write(folder: Path, index: int, rgb: np.ndarray, depth_mm: np.ndarray, instance: np.ndarray,
          semantic: np.ndarray, record: dict) -> None:
    stem = folder / f"{index:06d}"
    cv2.imwrite(f"{stem}.rgb.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), PNG)
    cv2.imwrite(f"{stem}.depth.png", depth_mm, PNG)
    cv2.imwrite(f"{stem}.instance.png", instance, PNG)
    cv2.imwrite(f"{stem}.semantic.png", semantic, PNG)
    Path(f"{stem}.json").write_text(json.dumps(record, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="compiled scene (.mjb)")
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--resolution", default="640x480")
    parser.add_argument("--camera", default="main")
    parser.add_argument("--threads", type=int, default=2, help="writer threads (0: write in the render loop)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    model = mujoco.MjModel.from_binary_path(args.model)
    data = mujoco.MjData(model)
    renderer = mujoco.Renderer(model, height, width)
    camera = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, args.camera)
    labels = Labels(model)
    adr = [int(model.jnt_qposadr[j]) for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
    rng = np.random.default_rng(args.seed)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    K = intrinsics(model, camera, width, height)
    done: list[tuple[float, float]] = []  # (wall, CPU) seconds
    pool = ThreadPoolExecutor(args.threads) if args.threads else None
    slots = threading.BoundedSemaphore(2 * max(1, args.threads))

    def finished(_: object) -> None:
        done.append((time.perf_counter() - START, time.process_time()))
        slots.release()

    for index in range(args.frames):
        data.qpos[:] = model.qpos0
        for a in adr:
            data.qpos[a:a + 2] += rng.uniform(-0.03, 0.03, 2)
        mujoco.mj_forward(model, data)
        renderer.update_scene(data, camera)
        rgb = renderer.render()
        renderer.enable_depth_rendering()
        depth = renderer.render()
        renderer.disable_depth_rendering()
        renderer.enable_segmentation_rendering()
        seg = renderer.render()
        renderer.disable_segmentation_rendering()
        geom = np.where(seg[..., 1] == GEOM, seg[..., 0] + 1, 0)
        instance, semantic = labels.instance[geom], labels.semantic[geom]
        mm = np.rint(depth.astype(np.float64) * 1000.0)
        mm[(geom == 0) | ~np.isfinite(mm) | (mm > 65535)] = 0
        record = {"index": index, "K": K, "labels": labels.labels,
                  "cam_pos": data.cam_xpos[camera].tolist(), "cam_xmat": data.cam_xmat[camera].tolist(),
                  "instances": boxes(instance, len(labels.bodies)),
                  "poses": {int(b): {"position": data.xpos[b].tolist(), "quat_wxyz": data.xquat[b].tolist()}
                            for b in labels.bodies}}
        job = (folder, index, rgb, mm.astype(np.uint16), instance, semantic, record)
        if pool is None:
            write(*job)
            done.append((time.perf_counter() - START, time.process_time()))
        else:
            slots.acquire()
            pool.submit(write, *job).add_done_callback(finished)
    if pool is not None:
        pool.shutdown(wait=True)
    renderer.close()
    print(json.dumps({"done_s": [t for t, _ in sorted(done)], "cpu_s": [c for _, c in sorted(done)]}))


if __name__ == "__main__":
    main()
