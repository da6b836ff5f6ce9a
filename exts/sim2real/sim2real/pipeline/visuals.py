"""Pictures for the run report: depth, segmentation and boxes of a frame; predicted masks.

Every function returns a uint8 ``(H, W, 3)`` array for ``Section.image_grid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dataset.basic import palette

PANEL_WIDTH = 256  # small frames are enlarged (nearest neighbour) to about this width, so labels stay legible


def depth_image(depth: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """Depth (metres, 0 = no measurement) as a colour map: near bright, far dark; no data black."""
    if depth is None:
        return np.zeros((*shape, 3), dtype=np.uint8)
    from matplotlib import colormaps

    d = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(d) & (d > 0)
    out = np.zeros((*d.shape, 3), dtype=np.uint8)
    if valid.any():
        lo, hi = np.percentile(d[valid], [1, 99])
        t = 1.0 - np.clip((d - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
        rgb = colormaps["magma"](t)[..., :3]
        out[valid] = np.round(rgb[valid] * 255).astype(np.uint8)
    return out


def mask_colours(ids: np.ndarray) -> np.ndarray:
    """Class or instance ids as colours (0 black), the dataset's palette."""
    ids = np.asarray(ids)
    present = np.unique(ids)
    lut = np.zeros((int(present.max()) + 1 if present.size else 1, 3), dtype=np.uint8)
    lut[present] = palette(present)[:, :3]
    return lut[ids]


def boxes_image(rgb: np.ndarray, instances: Sequence[Any], scale: int = 1) -> np.ndarray:
    """The image (enlarged ``scale`` times) with each visible instance's tight box (half-open, in the
    frame's pixels) and class name drawn."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(np.ascontiguousarray(enlarge(rgb, scale)))
    draw = ImageDraw.Draw(img)
    for inst in instances:
        if inst.box is None:
            continue
        x0, y0, x1, y1 = (v * scale for v in inst.box)
        colour = tuple(int(c) for c in palette(np.array([inst.class_id + 1]))[0, :3])
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour, width=1)
        draw.text((x0 + 2, max(0, y0 - 11)), inst.class_name, fill=colour)
    return np.asarray(img)


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel repeated ``scale`` x ``scale`` times."""
    return image if scale == 1 else np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def panel_scale(width: int) -> int:
    return max(1, PANEL_WIDTH // max(width, 1))


def frame_panels(frame: Any) -> list[np.ndarray]:
    """RGB, depth, semantic segmentation (class colours on black: blended over the image they looked like
    the image itself), boxes: the four views of a frame."""
    shape = frame.rgb.shape[:2]
    k = panel_scale(shape[1])
    semantic = frame.semantic if frame.semantic is not None else np.zeros(shape, dtype=np.int64)
    return [enlarge(frame.rgb, k), enlarge(depth_image(frame.depth, shape), k), enlarge(mask_colours(semantic), k),
            boxes_image(frame.rgb, frame.instances, k)]
