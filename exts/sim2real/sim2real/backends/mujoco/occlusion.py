"""How much of each labelled object is hidden: the pixels it would cover with nothing in front of it.

Objects whose projected bounds do not overlap are drawn together in one segmentation pass
(``render.FrameRenderer.silhouettes``), so a frame costs a few extra passes, not one per object.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mujoco
import numpy as np

from .render import FrameRenderer, Passes
from .scene import VISUAL_GROUPS, LabelledObject

Rect = tuple[int, int, int, int]  # pixel box (x0, y0, x1, y1), half-open
_CORNERS = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T  # of a box


def unoccluded_pixels(renderer: FrameRenderer, data: mujoco.MjData, shown: Sequence[LabelledObject],
                      passes: Passes, geom_inst: np.ndarray, n_inst: int) -> np.ndarray:
    """Pixels each shown object would cover unoccluded, per instance id (index 0 unused). The
    renderer must hold the frame's main view (``passes`` was just rendered)."""
    model = renderer.model
    world_to_cam = np.linalg.inv(passes.cam_to_world)
    rects = {}
    for o in shown:
        geoms = o.geoms[np.isin(model.geom_group[o.geoms], VISUAL_GROUPS)]
        rects[o.instance_id] = projected_rect(model, data, geoms, world_to_cam, passes.K,
                                              renderer.width, renderer.height)
    groups, bounds = _disjoint_groups(rects)
    by_id = {o.instance_id: o for o in shown}
    member_geoms = [[by_id[i].geoms for i in members] for members in groups]
    return renderer.silhouettes(member_geoms, bounds, geom_inst, n_inst)


def _disjoint_groups(rects: dict[int, Rect]) -> tuple[list[list[int]], list[Rect]]:
    """Greedy grouping of the non-empty boxes so that no two boxes of a group overlap; each group's
    bounding box."""
    groups: list[list[int]] = []
    bounds: list[Rect] = []
    for i, r in rects.items():
        if r[2] <= r[0] or r[3] <= r[1]:
            continue
        for k, members in enumerate(groups):
            if all(not _overlap(r, rects[j]) for j in members):
                members.append(i)
                b = bounds[k]
                bounds[k] = (min(b[0], r[0]), min(b[1], r[1]), max(b[2], r[2]), max(b[3], r[3]))
                break
        else:
            groups.append([i])
            bounds.append(r)
    return groups, bounds


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def projected_rect(model: mujoco.MjModel, data: mujoco.MjData, geoms: np.ndarray, world_to_cam: np.ndarray,
                   K: np.ndarray, width: int, height: int) -> Rect:
    """Pixel box (half-open) that surely contains the geoms' image: their bounding boxes' corners
    projected; the whole image when a corner is behind the camera."""
    if len(geoms) == 0:
        return (0, 0, 0, 0)
    aabb = model.geom_aabb[geoms]
    local = aabb[:, None, :3] + _CORNERS[None] * aabb[:, None, 3:]
    rot = data.geom_xmat[geoms].reshape(-1, 3, 3)
    world = np.einsum("gij,gkj->gki", rot, local) + data.geom_xpos[geoms][:, None]
    cam = world.reshape(-1, 3) @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    if (cam[:, 2] <= 1e-6).any():
        return (0, 0, width, height)
    uv = cam @ K.T
    u, v = uv[:, 0] / uv[:, 2], uv[:, 1] / uv[:, 2]
    x0, y0 = max(0, math.floor(u.min() - 1)), max(0, math.floor(v.min() - 1))
    x1, y1 = min(width, math.ceil(u.max() + 2)), min(height, math.ceil(v.max() + 2))
    return (x0, y0, x1, y1)
