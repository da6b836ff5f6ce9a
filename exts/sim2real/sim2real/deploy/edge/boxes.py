"""Boxes of a detect model: the decoder shipped with every detect bundle, COCOeval scores, drawing.

The output contract of an exported detect model (``metadata`` ``outputs``; training writes the same
in ``model.json``): one float32 tensor ``(N, K + 4, H / s, W / s)`` at stride ``s``:

* channels ``0..K-1``: heatmap logits, one per class (sigmoid: the probability that an object of
  that class is centred in the cell);
* channels ``K..K+3``: ``log(w / s)``, ``log(h / s)``, ``dx``, ``dy`` (the centre's offset in the cell).

``decode`` (numpy; training decodes with the same function): sigmoid heatmaps, peaks that are the
maximum of their 3x3 neighbourhood (CenterNet's max-pool NMS), the ``top_k`` highest over all
classes above ``min_score``, each box ``x = (col + dx) * s``, ``w = exp(log w) * s``: half-open
``x0, y0, x1, y1`` in model-input pixels, highest score first.

``coco_scores``: pycocotools' ``COCOeval`` (bbox) of detections against ``(M, 5)`` boxes
(``x0, y0, x1, y1, class``): AP (IoU 0.50:0.95), AP50, AP75, AR@100 and AP / AP50 per class.
COCO's small/medium/large areas are absolute pixel counts, meaningless at a model's input size:
left out. On a device, ``pip install pycocotools`` for the scores (the runner itself needs only numpy).

``draw`` outlines boxes on an RGB image in a colour per class (numpy only, no OpenCV needed).
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

BOX_CHANNELS = 4
TOP_K = 100  # detections per image (COCOeval's maxDets)
MIN_SCORE = 0.01  # peaks below are not detections
MAX_LOG_SIZE = 8.0  # exp() of the size channels is clamped here (a box of e^8 cells is off any image)
PALETTE = np.array([(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                    (70, 240, 240), (240, 50, 230)], dtype=np.uint8)

Detections = Tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (M, 4), scores (M,), classes (M,)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


def _peaks(heat: np.ndarray) -> np.ndarray:
    """``heat`` where it is the maximum of its 3x3 neighbourhood, else 0 (``(N, K, h, w)``)."""
    h, w = heat.shape[2:]
    padded = np.pad(heat, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    best = heat.copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(best, padded[:, :, dy:dy + h, dx:dx + w], out=best)
    return np.where(heat == best, heat, 0.0)


def decode(out: np.ndarray, k: int, stride: int, top_k: int = TOP_K, min_score: float = MIN_SCORE) -> List[Detections]:
    """Per image of the raw output ``(N, k + 4, h, w)``: boxes, scores and class indices (see above)."""
    out = np.asarray(out, dtype=np.float32)
    heat = _peaks(_sigmoid(out[:, :k]))
    n, _, h, w = heat.shape
    flat = heat.reshape(n, -1)
    rows = []
    for b in range(n):
        idx = np.argsort(-flat[b], kind="stable")[: min(top_k, flat.shape[1])]
        idx = idx[flat[b, idx] >= min_score]
        cls, cell = idx // (h * w), idx % (h * w)
        reg = out[b, k:k + BOX_CHANNELS].reshape(BOX_CHANNELS, -1)[:, cell]
        cx, cy = (cell % w + reg[2]) * stride, (cell // w + reg[3]) * stride
        bw = np.exp(np.minimum(reg[0], MAX_LOG_SIZE)) * stride
        bh = np.exp(np.minimum(reg[1], MAX_LOG_SIZE)) * stride
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1).astype(np.float32)
        rows.append((boxes.reshape(-1, 4), flat[b, idx].astype(np.float32), cls.astype(np.int64)))
    return rows


def to_coco(detections: List[Detections], first_id: int = 1) -> List[Dict[str, Any]]:
    """COCO result rows (image ids from ``first_id``, category ids class + 1, ``[x, y, w, h]``)."""
    return [{"image_id": first_id + i, "category_id": int(c) + 1, "score": float(s),
             "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]}
            for i, (boxes, scores, cls) in enumerate(detections)
            for (x0, y0, x1, y1), s, c in zip(boxes, scores, cls)]


def _cocoeval() -> Any:
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise RuntimeError("detection scores need pycocotools: pip install pycocotools") from None
    return COCO, COCOeval


def coco_scores(truth: List[np.ndarray], detections: List[Dict[str, Any]], classes: List[str]) -> Dict[str, Any]:
    """COCOeval (bbox) of ``detections`` (COCO results, image ids 1..N, category ids class + 1) against
    the ``(M, 5)`` boxes of each image."""
    annotations = [{"image_id": i + 1, "category_id": int(c) + 1, "iscrowd": 0,
                    "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], "area": float((x1 - x0) * (y1 - y0))}
                   for i, rows in enumerate(truth) for x0, y0, x1, y1, c in rows]
    for n, a in enumerate(annotations):
        a["id"] = n + 1
    base = {"images": len(truth), "boxes": len(annotations), "detections": len(detections)}
    if not annotations or not detections:  # COCOeval cannot load empty results; no truth: nothing to find
        return {"ap": 0.0, "ap50": 0.0, "ap75": 0.0, "ar100": 0.0, **base,
                "per_class": {c: None for c in classes}, "per_class_ap50": {c: None for c in classes}}
    COCO, COCOeval = _cocoeval()
    gt = COCO()
    gt.dataset = {"images": [{"id": i + 1} for i in range(len(truth))], "annotations": annotations,
                  "categories": [{"id": k + 1, "name": c} for k, c in enumerate(classes)]}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(detections), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"]  # (IoU thresholds, recall points, classes, areas, max dets)

    def per_class(p: np.ndarray) -> Optional[float]:
        return float(p[p > -1].mean()) if (p > -1).any() else None

    return {"ap": float(ev.stats[0]), "ap50": float(ev.stats[1]), "ap75": float(ev.stats[2]),
            "ar100": float(ev.stats[8]), **base,
            "per_class": {c: per_class(precision[:, :, k, 0, -1]) for k, c in enumerate(classes)},
            "per_class_ap50": {c: per_class(precision[0, :, k, 0, -1]) for k, c in enumerate(classes)}}


def split(boxes: np.ndarray, counts: np.ndarray) -> List[np.ndarray]:
    """Per image ``(M_i, 5)`` boxes from the concatenated ``(sum M_i, 5)`` rows and the counts (how an
    evaluation set's ragged boxes sit in an ``.npz``)."""
    return np.split(np.asarray(boxes, dtype=np.float32).reshape(-1, 5), np.cumsum(counts)[:-1])


def draw(rgb: np.ndarray, boxes: np.ndarray, classes: np.ndarray, thickness: int = 1) -> np.ndarray:
    """A copy of ``rgb`` (H, W, 3) uint8 with each box's outline in its class's colour."""
    img = np.array(rgb, dtype=np.uint8, copy=True)
    h, w = img.shape[:2]
    for (x0, y0, x1, y1), c in zip(np.asarray(boxes).reshape(-1, 4), np.asarray(classes).reshape(-1)):
        a, b = int(np.clip(np.floor(x0), 0, w - 1)), int(np.clip(np.ceil(x1) - 1, 0, w - 1))
        t, u = int(np.clip(np.floor(y0), 0, h - 1)), int(np.clip(np.ceil(y1) - 1, 0, h - 1))
        colour = PALETTE[int(c) % len(PALETTE)]
        img[t:t + thickness, a:b + 1] = colour
        img[max(u - thickness + 1, 0):u + 1, a:b + 1] = colour
        img[t:u + 1, a:a + thickness] = colour
        img[t:u + 1, max(b - thickness + 1, 0):b + 1] = colour
    return img
