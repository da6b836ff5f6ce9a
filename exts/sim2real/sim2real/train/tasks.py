"""The tasks: what a batch is, the loss, the score, and evaluation over a whole set.

* ``segment``: ``SegNet``; per-pixel cross-entropy; score = mIoU over the classes present (union
  > 0) in the evaluated set, plus pixel accuracy and per-class IoU.
* ``classify``: ``LeNet`` (or ``EdgeClassifier``: ``model.arch``); cross-entropy; score = accuracy (+ per class).
* ``detect``: ``CenterNet``; focal + box loss; score = COCO AP (``detect.py``).
* ``state``: ``StateNet``; mean squared error on standardised targets; score = RMSE in the targets'
  units (and MAE). Validators need class probabilities, so only ``source`` and ``dev`` apply.

``higher`` is the task's headline number turned "higher is better" (mIoU, accuracy, -RMSE): the
``source`` validator's value and what the benchmark compares methods by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .augment import Augment
from .config import TrainConfig
from .models import LeNet, SegNet, StateNet, build
from .sources import ImageData
from .state import StateData
from .methods import as_vectors
from .validators import SND_POINTS, mean_entropy

Data = ImageData | StateData


@dataclass
class Norm:
    """Per-channel standardisation ``(x - mean) / std`` of the model input (channel dimension 1)."""

    mean: list[float]
    std: list[float]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - x.new_tensor(self.mean).view(shape)) / x.new_tensor(self.std).view(shape)


@dataclass
class EvalResult:
    """What one pass over a set gives: the score (labelled sets), per-sample losses, one embedding
    per sample, and prediction probabilities for the validators."""

    score: dict[str, Any] = field(default_factory=dict)
    losses: torch.Tensor | None = None  # (N,)
    embeddings: torch.Tensor | None = None  # (N, D)
    rows: torch.Tensor | None = None  # (M, K) probability rows drawn for SND
    entropy: float | None = None
    mean_probs: torch.Tensor | None = None  # (K,) the mean prediction (over pixels for segmentation)
    features: torch.Tensor | None = None  # (M, C) the predictor's input: vectors, or locations drawn from maps


class Task:
    name = ""
    metric = ""

    def __init__(self, cfg: TrainConfig, classes: list[str]) -> None:
        self.cfg = cfg
        self.classes = classes
        self.weights: torch.Tensor | None = None  # class weights of the loss (image tasks)

    # -- model and data
    def build_model(self, train: Any) -> tuple[nn.Module, dict[str, Any]]:
        raise NotImplementedError

    def input_norm(self, train: Any, target: Any = None) -> Norm:
        """Input standardisation from the source training set (and the unlabelled target, if given)."""
        raise NotImplementedError

    def batch(self, data: Any, idx: np.ndarray, norm: Norm, device: torch.device, augment: Augment | None = None,
              g: torch.Generator | None = None, labels: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def set_class_weights(self, train: Any) -> list[float] | None:
        return None

    # -- loss and score
    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.sample_losses(out, y).mean()

    def sample_losses(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def probabilities(self, out: torch.Tensor) -> torch.Tensor | None:
        """Probability rows ``(M, K)`` (one per pixel or per sample); None for regression."""
        return None

    def new_score(self) -> Any:
        raise NotImplementedError

    def scorer(self, data: Any) -> Any:
        """The accumulator that scores ``data`` batch by batch (``add(out, y)``, then ``result()``)."""
        return self.new_score()

    def output_spec(self) -> dict[str, Any]:
        """What the model's output means, for model.json (the export's contract); {} when the export says it."""
        return {}

    def higher(self, score: dict[str, Any]) -> float:
        return float(score[self.metric])

    # -- evaluation
    @torch.no_grad()
    def evaluate(self, model: nn.Module, data: Any, norm: Norm, device: torch.device, batch: int,
                 g: torch.Generator | None = None, labelled: bool = True, embeddings: bool = True,
                 feature_points: int = 0) -> EvalResult:
        """One pass over ``data`` in order (no augmentation). ``g`` draws the SND rows and, for
        feature maps, ``feature_points`` feature vectors (locations) of the predictor's input;
        vector features are all kept as they are."""
        model.eval()
        n = len(data)
        acc = self.scorer(data) if labelled else None
        out = _Collected()
        for start in range(0, n, batch):
            idx = np.arange(start, min(start + batch, n))
            x, y = self.batch(data, idx, norm, device, labels=labelled)
            f = model.represent(x)
            logits = model.predict(f)
            if embeddings:  # the predictor's input, pooled over locations
                out.embeds.append((f.mean(dim=(2, 3)) if f.dim() == 4 else f).float().cpu())
            if feature_points:
                out.features.append(_draw(as_vectors(f).float().cpu(), feature_points, len(idx), n, g)
                                    if f.dim() == 4 else f.float().cpu())
            if acc is not None and y is not None:
                acc.add(logits, y)
                out.losses.append(self.sample_losses(logits, y).float().cpu())
            probs = self.probabilities(logits)
            if probs is not None:
                out.add_probs(probs, _draw(probs.cpu(), SND_POINTS, len(idx), n, g) if g is not None else None)
        return out.result(acc.result() if acc is not None else {})


@dataclass
class _Collected:
    """What ``Task.evaluate`` gathers batch by batch."""

    losses: list[torch.Tensor] = field(default_factory=list)
    embeds: list[torch.Tensor] = field(default_factory=list)
    features: list[torch.Tensor] = field(default_factory=list)
    rows: list[torch.Tensor] = field(default_factory=list)
    ent_sum: float = 0.0
    count: int = 0
    prob_sum: torch.Tensor | None = None

    def add_probs(self, probs: torch.Tensor, drawn: torch.Tensor | None) -> None:
        self.ent_sum += mean_entropy(probs) * len(probs)
        self.count += len(probs)
        batch_sum = probs.double().sum(0).cpu()
        self.prob_sum = batch_sum if self.prob_sum is None else self.prob_sum + batch_sum
        if drawn is not None:
            self.rows.append(drawn)

    def result(self, score: dict[str, Any]) -> EvalResult:
        def cat(parts: list[torch.Tensor]) -> torch.Tensor | None:
            return torch.cat(parts) if parts else None

        return EvalResult(score=score, losses=cat(self.losses), embeddings=cat(self.embeds), rows=cat(self.rows),
                          features=cat(self.features), entropy=self.ent_sum / self.count if self.count else None,
                          mean_probs=self.prob_sum / self.count if self.prob_sum is not None else None)


def _draw(rows: torch.Tensor, total: int, batch_n: int, n: int, g: torch.Generator | None) -> torch.Tensor:
    """This batch's share (``batch_n`` of ``n`` samples) of ``total`` rows drawn without replacement."""
    k = -(-total * batch_n // n)
    if g is None:
        return rows[:: max(1, len(rows) // k)][:k]
    return rows[torch.randperm(len(rows), generator=g)[:k]]


# ---------------------------------------------------------------- images


class ImageTask(Task):
    def input_norm(self, train: ImageData, target: ImageData | None = None) -> Norm:
        """Mean and standard deviation of each input channel over the source training images, or
        over source and target together (``input_norm = "both"``, as Ganin et al. subtract the mean
        pixel of both domains): each domain weighs half, whatever its size."""
        sets = [train] + ([target] if target is not None and self.cfg.input_norm == "both" else [])
        moments = [_moments(d.images, 3, 1.0 / 255.0) for d in sets]
        mean, sq = np.mean([m for m, _ in moments], axis=0), np.mean([q for _, q in moments], axis=0)
        if self.cfg.depth:  # metres: the source's
            assert train.depth is not None
            dm, dq = _moments(train.depth, 1)
            mean, sq = np.append(mean, dm), np.append(sq, dq)
        return Norm(mean.tolist(), np.maximum(np.sqrt(np.maximum(sq - mean**2, 0.0)), 1e-3).tolist())

    @property
    def in_channels(self) -> int:
        return 4 if self.cfg.depth else 3

    def batch(self, data: ImageData, idx: np.ndarray, norm: Norm, device: torch.device, augment: Augment | None = None,
              g: torch.Generator | None = None, labels: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        # transpose the uint8 pixels (a quarter of the bytes of floats), then convert
        x = torch.from_numpy(np.ascontiguousarray(data.images[idx].transpose(0, 3, 1, 2))).to(device).float().div_(255.0)
        y = torch.from_numpy(data.labels[idx]).to(device).long() if labels and data.labels is not None else None
        d = torch.from_numpy(data.depth[idx]).to(device).unsqueeze(1) if self.cfg.depth and data.depth is not None else None
        if augment is not None:
            assert g is not None
            aligned = [t for t in (y if y is not None and y.dim() == 3 else None, d) if t is not None]
            x, *flipped = augment(x, g, *aligned)
            it = iter(flipped)
            y = next(it) if y is not None and y.dim() == 3 else y
            d = next(it) if d is not None else None
        if d is not None:
            x = torch.cat([x, d], 1)
        return norm.apply(x), y

    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(out.float(), dim=1)
        return p.permute(0, 2, 3, 1).reshape(-1, p.shape[1]) if p.dim() == 4 else p

    def sample_losses(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        per = F.cross_entropy(out, y, reduction="none")
        return per.flatten(1).mean(1) if per.dim() > 1 else per

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        w = None if self.weights is None else self.weights.to(out.device)
        return F.cross_entropy(out, y, weight=w)

    def set_class_weights(self, train: ImageData) -> list[float] | None:
        """Loss weights from the source's class frequencies (pixels or samples): ``freq^-1/2``
        (``sqrt``) or ``freq^-1`` (``inverse``), scaled so the average sample weighs 1; classes
        absent from the source get the largest weight of the others."""
        mode = self.cfg.class_balance
        if mode == "none" or train.labels is None:
            return None
        k = len(self.classes)
        freq = _label_counts(train.labels, k).astype(np.float64)
        freq /= freq.sum()
        power = 0.5 if mode == "sqrt" else 1.0
        present = freq > 0
        w = np.zeros(k)
        w[present] = freq[present] ** -power
        w[~present] = w[present].max()
        w /= (w * freq).sum()
        self.weights = torch.tensor(w, dtype=torch.float32)
        return w.tolist()


def _moments(values: Any, channels: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and mean square of images (N, H, W[, C]) times ``scale``: in memory from a
    strided sample of at most about 2 million pixels (plenty for a few numbers); streamed from
    disk over every pixel in one pass (a strided sample would decode every frame anyway)."""
    if isinstance(values, np.ndarray):
        x = values.reshape(-1, channels)
        px = x[:: max(1, len(x) // 2_000_000)].astype(np.float64) * scale
        return px.mean(0), (px**2).mean(0)
    total, squares, n = np.zeros(channels), np.zeros(channels), 0
    for chunk in values.chunks():
        px = chunk.reshape(-1, channels).astype(np.float64) * scale
        total, squares, n = total + px.sum(0), squares + (px**2).sum(0), n + len(px)
    return total / max(n, 1), squares / max(n, 1)


def _label_counts(labels: Any, k: int) -> np.ndarray:
    """Occurrences of each class index 0..k-1 (pixels or samples), in memory or streamed."""
    chunks = [labels] if isinstance(labels, np.ndarray) else labels.chunks()
    return sum((np.bincount(c.reshape(-1).astype(np.int64), minlength=k)[:k] for c in chunks), np.zeros(k, np.int64))


class SegmentTask(ImageTask):
    name = "segment"
    metric = "miou"

    def build_model(self, train: ImageData) -> tuple[nn.Module, dict[str, Any]]:
        config = {"in_channels": self.in_channels, "num_classes": len(self.classes),
                  "widths": list(self.cfg.model.widths), "skips": self.cfg.model.skips}
        return SegNet(**config), config

    def new_score(self) -> Confusion:
        return Confusion(self.classes, segmentation=True)


class ClassifyTask(ImageTask):
    name = "classify"
    metric = "accuracy"

    def build_model(self, train: ImageData) -> tuple[nn.Module, dict[str, Any]]:
        m = self.cfg.model
        config = {"in_channels": self.in_channels, "num_classes": len(self.classes), "widths": list(m.widths),
                  "dropout": m.dropout}
        if m.arch == LeNet.arch:
            config["input_size"] = list(self.cfg.resolution)
        return build(m.arch, config), config

    def new_score(self) -> Confusion:
        return Confusion(self.classes, segmentation=False)


class Confusion:
    """A confusion matrix accumulated over batches (rows: truth, columns: prediction)."""

    def __init__(self, classes: list[str], segmentation: bool) -> None:
        self.classes = classes
        self.segmentation = segmentation
        self.matrix = torch.zeros(len(classes), len(classes), dtype=torch.int64)

    def add(self, out: torch.Tensor, y: torch.Tensor) -> None:
        k = len(self.classes)
        pred = out.argmax(1).flatten().cpu()
        truth = y.flatten().cpu()
        self.matrix += torch.bincount(truth * k + pred, minlength=k * k).view(k, k)

    def result(self) -> dict[str, Any]:
        m = self.matrix.double()
        tp, truth, pred = m.diag(), m.sum(1), m.sum(0)
        total = float(m.sum())
        out: dict[str, Any] = {"accuracy": float(tp.sum() / total) if total else 0.0, "n": int(total)}
        present = truth > 0
        if self.segmentation:
            union = truth + pred - tp
            iou = torch.where(union > 0, tp / union.clamp_min(1), torch.full_like(tp, float("nan")))
            valid = union > 0
            out["miou"] = float(iou[valid].mean()) if valid.any() else 0.0
            out["iou"] = {c: (None if not valid[i] else float(iou[i])) for i, c in enumerate(self.classes)}
            out["pixel_accuracy"] = out["accuracy"]
        else:
            recall = torch.where(present, tp / truth.clamp_min(1), torch.full_like(tp, float("nan")))
            out["per_class"] = {c: (None if not present[i] else float(recall[i])) for i, c in enumerate(self.classes)}
            out["balanced_accuracy"] = float(recall[present].mean()) if present.any() else 0.0
        return out


# ---------------------------------------------------------------- state vectors


class StateTask(Task):
    name = "state"
    metric = "rmse"

    def __init__(self, cfg: TrainConfig, classes: list[str]) -> None:
        super().__init__(cfg, classes)
        self.target_norm: Norm | None = None

    def build_model(self, train: StateData) -> tuple[nn.Module, dict[str, Any]]:
        assert train.targets is not None
        config = {"in_features": train.features.shape[1], "out_features": train.targets.shape[1],
                  "widths": list(self.cfg.model.widths), "dropout": self.cfg.model.dropout,
                  "batch_norm": self.cfg.model.batch_norm}
        return StateNet(**config), config

    def input_norm(self, train: StateData, target: StateData | None = None) -> Norm:
        assert train.targets is not None
        f, t = train.features.astype(np.float64), train.targets.astype(np.float64)
        self.target_norm = Norm(t.mean(0).tolist(), np.maximum(t.std(0), 1e-6).tolist())
        return Norm(f.mean(0).tolist(), np.maximum(f.std(0), 1e-6).tolist())

    def batch(self, data: StateData, idx: np.ndarray, norm: Norm, device: torch.device, augment: Augment | None = None,
              g: torch.Generator | None = None, labels: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = norm.apply(torch.from_numpy(data.features[idx]).to(device))
        y = None
        if labels and data.targets is not None:
            y = torch.from_numpy(data.targets[idx]).to(device)
        return x, y

    def _standard(self, y: torch.Tensor) -> torch.Tensor:
        assert self.target_norm is not None
        return self.target_norm.apply(y)

    def sample_losses(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((out - self._standard(y)) ** 2).mean(1)

    def to_units(self, out: torch.Tensor) -> torch.Tensor:
        """Model output (standardised) -> target units."""
        assert self.target_norm is not None
        return out * out.new_tensor(self.target_norm.std) + out.new_tensor(self.target_norm.mean)

    def new_score(self) -> Regression:
        return Regression(self)

    def higher(self, score: dict[str, Any]) -> float:
        return -float(score["rmse"])


class Regression:
    def __init__(self, task: StateTask) -> None:
        self.task = task
        self.sq: list[torch.Tensor] = []
        self.ab: list[torch.Tensor] = []

    def add(self, out: torch.Tensor, y: torch.Tensor) -> None:
        err = (self.task.to_units(out) - y).double().cpu()
        self.sq.append(err**2)
        self.ab.append(err.abs())

    def result(self) -> dict[str, Any]:
        sq, ab = torch.cat(self.sq), torch.cat(self.ab)
        return {"rmse": float(sq.mean().sqrt()), "mae": float(ab.mean()),
                "rmse_per_target": sq.mean(0).sqrt().tolist(), "n": len(sq)}
