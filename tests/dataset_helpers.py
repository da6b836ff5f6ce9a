"""Frames built from numpy arrays for the dataset tests: the data contract, not a mock of an engine.

``make_frame(index)`` draws a few labelled rectangles (later ones occlude earlier ones) over a
background, with depth, instance and semantic ids, tight half-open boxes computed from the pixels,
poses and a randomization record, all a pure function of (index, seed, size).
"""

from __future__ import annotations

import numpy as np

from sim2real.sim.rendered_frame import Frame, Instance, Pose

CLASSES = {1: "cube", 2: "sphere", 3: "mug"}


def make_frame(index: int, seed: int = 0, width: int = 64, height: int = 48, objects: int = 4) -> Frame:
    rng = np.random.default_rng([seed, index])
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    depth = np.full((height, width), 2.0, dtype=np.float32) + np.linspace(0, 0.5, width, dtype=np.float32)
    depth[: height // 6] = 0.0  # no measurement (beyond the far plane)
    instance = np.zeros((height, width), dtype=np.int32)
    semantic = np.zeros((height, width), dtype=np.int32)
    K = np.array([[50.0, 0, (width - 1) / 2], [0, 50.0, (height - 1) / 2], [0, 0, 1]])
    cam_to_world = np.eye(4)
    cam_to_world[:3, 3] = [0.1 * index, 0.0, 1.0]
    specs = []
    for k in range(objects):
        x0, y0 = int(rng.integers(-8, width - 4)), int(rng.integers(-8, height - 4))
        w, h = int(rng.integers(4, width // 2)), int(rng.integers(4, height // 2))
        if k == objects - 1 and index % 3 == 0:
            x0 = width + 5  # sometimes one object is outside the image: not visible, no box
        class_id = int(rng.integers(1, 4))
        z = float(rng.uniform(0.5, 1.9))
        full = max(0, min(x0 + w, width) - max(x0, 0)) * max(0, min(y0 + h, height) - max(y0, 0))
        xs, ys = slice(max(x0, 0), max(min(x0 + w, width), 0)), slice(max(y0, 0), max(min(y0 + h, height), 0))
        instance[ys, xs] = k + 1
        semantic[ys, xs] = class_id
        depth[ys, xs] = z
        specs.append((k + 1, class_id, full, z, rng.normal(size=3), rng.normal(size=4)))
        rgb[ys, xs] = (40 * class_id, 255 - 30 * k, 90)
    instances = []
    for inst_id, class_id, full, z, pos, quat in specs:
        mask = instance == inst_id
        n = int(mask.sum())
        box = None
        if n:
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        quat = quat / np.linalg.norm(quat)
        instances.append(
            Instance(
                id=inst_id, name=f"obj_{inst_id - 1:02d}", class_id=class_id, class_name=CLASSES[class_id],
                box=box, visible_pixels=n, visible_fraction=n / full if full else 0.0,
                pose_world=Pose(pos, quat), pose_camera=Pose(np.array([pos[0], pos[1], z]), quat),
            )
        )
    labels = {0: "background", **{c: CLASSES[c] for c in sorted({s[1] for s in specs})}}
    sample = {
        "light:key/intensity": float(rng.uniform(0.5, 2.0)),
        "light:key/color": rng.uniform(0, 1, 3).tolist(),
        "object:obj_00/asset": ["cube", "sphere", "mug"][index % 3],
        "scene:object_count": int(objects),
    }
    return Frame(rgb=rgb, depth=depth, instance=instance, semantic=semantic, labels=labels, instances=instances,
                 K=K, cam_to_world=cam_to_world, camera="main", index=index, sample=sample,
                 meta={"znear_m": 0.05, "zfar_m": 10.0})
