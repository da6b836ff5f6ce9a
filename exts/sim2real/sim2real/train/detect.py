"""The ``detect`` task: CenterNet-style targets and loss, decoding, and COCOeval scores.

Targets (Zhou et al. 2019, "Objects as Points", with TTFNet's elliptical Gaussians, Liu et al. 2020):
for each box, at stride ``s`` (4), the cell ``(i, j)`` holding its centre gets

* heatmap: in its class's channel, ``exp(-(dx^2 / 2 sx^2 + dy^2 / 2 sy^2))`` over the grid, with
  ``sx = GAUSSIAN_ALPHA * w / 6`` and ``sy = GAUSSIAN_ALPHA * h / 6`` (box size in cells), the maximum
  where Gaussians of one class overlap; exactly 1 at the centre cell;
* box: ``log(w / s)``, ``log(h / s)`` and the sub-cell offset of the centre, read at the centre cell only.

Loss per image: CenterNet's penalty-reduced focal loss (alpha 2, beta 4) over the heatmaps plus the L1
of the four box channels at the centres, both divided by the image's box count (the batch loss divides
the batch's sums by the batch's box count, as CenterNet does).

Decoding (``decode``, also what the deployed model's consumer does): sigmoid heatmaps, peaks that are
the maximum of their 3x3 neighbourhood, the ``TOP_K`` highest over all classes, boxes from the box
channels at each peak, in model-input pixels (half-open ``x0, y0, x1, y1``).

Score (``BoxScore``): pycocotools' ``COCOeval`` (bbox) of the decoded boxes against the set's boxes,
both in model-input pixels: AP (IoU 0.50:0.95), AP50, AP75, AR@100 and AP / AP50 per class. COCO's
small/medium/large areas are absolute pixel counts, meaningless at a model's input size: left out.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import NotInstalledError
from .augment import Augment
from .models import CenterNet
from .sources import ImageData
from .tasks import ImageTask, Norm

GAUSSIAN_ALPHA = 0.54  # TTFNet's Gaussian size relative to the box
FOCAL_ALPHA, FOCAL_BETA = 2.0, 4.0  # CenterNet's focal loss exponents
TOP_K = 100  # detections per image (COCOeval's maxDets)
MIN_SCORE = 0.01  # peaks below are not detections
MAX_LOG_SIZE = 8.0  # exp() of the size channels is clamped here (a box of e^8 cells is off any image)
BOX_CHANNELS = 4


class DetectTask(ImageTask):
    name = "detect"
    metric = "ap"

    @property
    def stride(self) -> int:
        return CenterNet.stride

    def build_model(self, train: ImageData) -> tuple[nn.Module, dict[str, Any]]:
        config = {"in_channels": self.in_channels, "num_classes": len(self.classes),
                  "widths": list(self.cfg.model.widths), "skips": self.cfg.model.skips}
        return CenterNet(**config), config

    def batch(self, data: ImageData, idx: np.ndarray, norm: Norm, device: torch.device, augment: Augment | None = None,
              g: torch.Generator | None = None, labels: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, _ = super().batch(data, idx, norm, device, augment, g, labels=False)  # colour only: boxes stay put
        if not labels or data.boxes is None:
            return x, None
        h, w = x.shape[2] // self.stride, x.shape[3] // self.stride
        y = np.stack([encode(data.boxes[i], len(self.classes), (w, h), self.stride) for i in idx])
        return x, torch.from_numpy(y).to(device)

    def set_class_weights(self, train: ImageData) -> list[float] | None:
        return None  # the focal loss already weighs the rare positives

    def probabilities(self, out: torch.Tensor) -> torch.Tensor | None:
        return None  # independent sigmoids per location and class: no softmax rows for entropy/SND/IM

    def sample_losses(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        total, count = self._terms(out, y)
        return total / count.clamp_min(1.0)

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        total, count = self._terms(out, y)
        return total.sum() / count.sum().clamp_min(1.0)

    def _terms(self, out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per image: the sum of focal and box losses, and the box count."""
        k = len(self.classes)
        logits, heat = out[:, :k].float(), y[:, :k]
        centre = y[:, k + BOX_CHANNELS]
        pos = heat.eq(1.0).float()
        p = torch.sigmoid(logits)
        focal = -(pos * (1 - p).pow(FOCAL_ALPHA) * F.logsigmoid(logits)
                  + (1 - pos) * (1 - heat).pow(FOCAL_BETA) * p.pow(FOCAL_ALPHA) * F.logsigmoid(-logits))
        box = (out[:, k : k + BOX_CHANNELS].float() - y[:, k : k + BOX_CHANNELS]).abs() * centre.unsqueeze(1)
        return focal.sum((1, 2, 3)) + box.sum((1, 2, 3)), centre.sum((1, 2))

    def scorer(self, data: ImageData) -> BoxScore:
        return BoxScore(self.classes, data, self.stride)

    def new_score(self) -> BoxScore:
        raise TypeError("the detect task scores a set through scorer(data): its boxes are the ground truth")

    def output_spec(self) -> dict[str, Any]:
        k = len(self.classes)
        return {"layout": "NCHW", "stride": self.stride, "channels": k + BOX_CHANNELS,
                "heatmap": f"channels 0..{k - 1}: logits, one per class (sigmoid: the probability of an object centre)",
                "box": f"channels {k}..{k + 3}: log(w / stride), log(h / stride), dx, dy at the centre cell",
                "decode": "sim2real.train.detect.decode: 3x3 peaks of the heatmaps, top 100, "
                          "x = (col + dx) * stride, w = exp(log w) * stride (model-input pixels)"}


def encode(boxes: np.ndarray, k: int, grid: tuple[int, int], stride: int) -> np.ndarray:
    """The target maps ``(k + 5, h, w)`` float32 of one image's ``(M, 5)`` boxes: ``k`` heatmaps,
    four box channels and the centre mask (1 at each box's centre cell)."""
    w, h = grid
    y = np.zeros((k + BOX_CHANNELS + 1, h, w), dtype=np.float32)
    cols, rows = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)[:, None]
    for x0, y0, x1, y1, c in boxes:
        bw, bh = (x1 - x0) / stride, (y1 - y0) / stride
        cx, cy = (x0 + x1) / 2 / stride, (y0 + y1) / 2 / stride
        i, j = min(int(cx), w - 1), min(int(cy), h - 1)
        sx, sy = max(GAUSSIAN_ALPHA * bw / 6, 0.3), max(GAUSSIAN_ALPHA * bh / 6, 0.3)
        g = np.exp(-((cols - i) ** 2 / (2 * sx * sx) + (rows - j) ** 2 / (2 * sy * sy)))
        np.maximum(y[int(c)], g, out=y[int(c)])
        y[k:, j, i] = (np.log(bw), np.log(bh), cx - i, cy - j, 1.0)
    return y


def decode(out: torch.Tensor, k: int, stride: int, top_k: int = TOP_K,
           min_score: float = MIN_SCORE) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image of the raw output ``(N, k + 4, h, w)``: boxes ``(M, 4)`` (half-open x0, y0, x1, y1 in
    model-input pixels), scores ``(M,)`` and class indices ``(M,)``, highest score first."""
    heat = torch.sigmoid(out[:, :k].float())
    heat = heat * (heat == F.max_pool2d(heat, 3, 1, 1))
    n, _, h, w = heat.shape
    scores, idx = heat.reshape(n, -1).topk(min(top_k, k * h * w))
    cls, cell = idx // (h * w), idx % (h * w)
    reg = out[:, k : k + BOX_CHANNELS].float().reshape(n, BOX_CHANNELS, -1)
    lw, lh, dx, dy = (reg[:, c].gather(1, cell) for c in range(BOX_CHANNELS))
    cx, cy = ((cell % w).float() + dx) * stride, ((cell // w).float() + dy) * stride
    bw, bh = lw.clamp(max=MAX_LOG_SIZE).exp() * stride, lh.clamp(max=MAX_LOG_SIZE).exp() * stride
    boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 2)
    out_rows = []
    for b in range(n):
        keep = scores[b] >= min_score
        out_rows.append((boxes[b][keep].cpu().numpy(), scores[b][keep].cpu().numpy(), cls[b][keep].cpu().numpy()))
    return out_rows


class BoxScore:
    """Detections decoded batch by batch, in the set's order, scored against its boxes by COCOeval."""

    def __init__(self, classes: list[str], data: ImageData, stride: int) -> None:
        assert data.boxes is not None
        self.classes, self.data, self.stride = classes, data, stride
        self.detections: list[dict[str, Any]] = []
        self.seen = 0

    def add(self, out: torch.Tensor, y: torch.Tensor | None = None) -> None:
        for boxes, scores, cls in decode(out, len(self.classes), self.stride):
            self.seen += 1
            self.detections += [{"image_id": self.seen, "category_id": int(c) + 1, "score": float(s),
                                 "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]}
                                for (x0, y0, x1, y1), s, c in zip(boxes, scores, cls, strict=True)]

    def result(self) -> dict[str, Any]:
        assert self.data.boxes is not None
        return coco_scores(self.data.boxes[: self.seen], self.detections, self.classes)


def _cocoeval() -> Any:
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise NotInstalledError("pycocotools (detection scores)", "pip install 'sim2real[train]'") from None
    return COCO, COCOeval


def coco_scores(truth: list[np.ndarray], detections: list[dict[str, Any]], classes: list[str]) -> dict[str, Any]:
    """COCOeval (bbox) of ``detections`` (COCO results, image ids 1..N, category ids class + 1) against
    the ``(M, 5)`` boxes of each image."""
    COCO, COCOeval = _cocoeval()
    annotations = [{"image_id": i + 1, "category_id": int(c) + 1, "iscrowd": 0,
                    "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], "area": float((x1 - x0) * (y1 - y0))}
                   for i, rows in enumerate(truth) for x0, y0, x1, y1, c in rows]
    for n, a in enumerate(annotations):
        a["id"] = n + 1
    base = {"images": len(truth), "boxes": len(annotations), "detections": len(detections)}
    empty = {"ap": 0.0, "ap50": 0.0, "ap75": 0.0, "ar100": 0.0, **base,
             "per_class": {c: None for c in classes}, "per_class_ap50": {c: None for c in classes}}
    if not annotations or not detections:  # COCOeval cannot load empty results; no truth: nothing to find
        return empty
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

    def per_class(p: np.ndarray) -> float | None:
        return float(p[p > -1].mean()) if (p > -1).any() else None

    return {"ap": float(ev.stats[0]), "ap50": float(ev.stats[1]), "ap75": float(ev.stats[2]),
            "ar100": float(ev.stats[8]), **base,
            "per_class": {c: per_class(precision[:, :, k, 0, -1]) for k, c in enumerate(classes)},
            "per_class_ap50": {c: per_class(precision[0, :, k, 0, -1]) for k, c in enumerate(classes)}}
