"""Scores of model outputs against labels, in numpy (the same definitions as training's).

* segment: logits ``(N, K, H, W)``, labels ``(N, H, W)`` class indices: mIoU over the classes whose
  union is not empty, pixel accuracy, per-class IoU;
* classify: logits ``(N, K)``, labels ``(N,)``: accuracy, balanced accuracy;
* state: standardised outputs ``(N, K)``, targets ``(N, K)`` in units: RMSE and MAE in units;
* detect: raw heads ``(N, K + 4, h, w)``, labels a list of ``(M, 5)`` boxes per image: decoded by
  ``boxes.decode`` (the bundle's decoder) and scored by COCOeval (``boxes.coco_scores``: AP, AP50, ...).

``headline(task)`` names the number compared between the host and the device (higher is better
except ``rmse``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from . import boxes

HEADLINE = {"segment": "miou", "classify": "accuracy", "state": "rmse", "detect": "ap"}


def headline(task: str) -> str:
    return HEADLINE[task]


class Score:
    """Accumulates a task's score over batches."""

    def __init__(self, task: str, classes: List[str], outputs: Optional[Dict[str, Any]] = None):
        if task not in HEADLINE:
            raise ValueError("unknown task {!r} (expected one of {})".format(task, ", ".join(HEADLINE)))
        self.task = task
        self.classes = list(classes)
        k = len(self.classes)
        self.matrix = np.zeros((k, k), dtype=np.int64)
        self.outputs = outputs or {}
        self.sq: List[np.ndarray] = []
        self.ab: List[np.ndarray] = []
        self.truth: List[np.ndarray] = []  # detect: boxes per image, and the decoded detections
        self.found: List[Any] = []

    def add(self, out: np.ndarray, labels: Any) -> None:
        if self.task == "detect":
            self.found += boxes.decode(out, len(self.classes), int(self.outputs["stride"]))
            self.truth += [np.asarray(b, dtype=np.float32).reshape(-1, 5) for b in labels]
            return
        if self.task == "state":
            mean = np.asarray(self.outputs.get("mean", 0.0), dtype=np.float64)
            std = np.asarray(self.outputs.get("std", 1.0), dtype=np.float64)
            err = np.asarray(out, dtype=np.float64) * std + mean - np.asarray(labels, dtype=np.float64)
            self.sq.append(err ** 2)
            self.ab.append(np.abs(err))
            return
        k = len(self.classes)
        pred = np.asarray(out).argmax(1).reshape(-1).astype(np.int64)
        truth = np.asarray(labels).reshape(-1).astype(np.int64)
        self.matrix += np.bincount(truth * k + pred, minlength=k * k).reshape(k, k)

    def result(self) -> Dict[str, Any]:
        if self.task == "detect":
            return boxes.coco_scores(self.truth, boxes.to_coco(self.found), self.classes)
        if self.task == "state":
            sq, ab = np.concatenate(self.sq), np.concatenate(self.ab)
            return {"rmse": float(np.sqrt(sq.mean())), "mae": float(ab.mean()), "n": int(len(sq))}
        m = self.matrix.astype(np.float64)
        tp, truth, pred = np.diag(m), m.sum(1), m.sum(0)
        total = float(m.sum())
        out: Dict[str, Any] = {"accuracy": float(tp.sum() / total) if total else 0.0, "n": int(total)}
        if self.task == "segment":
            union = truth + pred - tp
            valid = union > 0
            iou = np.where(valid, tp / np.maximum(union, 1), np.nan)
            out["miou"] = float(iou[valid].mean()) if valid.any() else 0.0
            out["iou"] = {c: (None if not valid[i] else float(iou[i])) for i, c in enumerate(self.classes)}
        else:
            present = truth > 0
            recall = np.where(present, tp / np.maximum(truth, 1), np.nan)
            out["balanced_accuracy"] = float(recall[present].mean()) if present.any() else 0.0
        return out


def score(task: str, classes: List[str], out: np.ndarray, labels: np.ndarray,
          outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    s = Score(task, classes, outputs)
    s.add(out, labels)
    return s.result()


def change(task: str, reference: Dict[str, Any], other: Dict[str, Any]) -> float:
    """``other - reference`` of the headline number (negative: ``other`` is worse, except RMSE)."""
    key = headline(task)
    return float(other[key]) - float(reference[key])


def agreement(task: str, a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of predictions (pixels, samples) on which two models agree (image tasks)."""
    if task in ("state", "detect"):
        raise ValueError("agreement is defined for class predictions only")
    return float((np.asarray(a).argmax(1) == np.asarray(b).argmax(1)).mean())
