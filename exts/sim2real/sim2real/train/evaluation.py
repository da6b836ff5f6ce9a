"""End-of-epoch scores: the validators, the source validation score, the evaluation set's score."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .config import TrainConfig
from .data import TaskData
from .tasks import EvalResult, Norm, Task
from .validators import dev, snd

DEV_SOURCE = 256  # source training samples that train DEV's domain classifier


def epoch_scores(model: nn.Module, d: TaskData, task: Task, norm: Norm, device: torch.device, cfg: TrainConfig,
                 validators: list[str], epoch: int) -> dict[str, Any]:
    """``{"validators": {...}, "source": score, "target": score}`` of ``model`` after ``epoch``."""
    b = max(cfg.batch_size, 32)
    g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)  # independent of the training stream
    out: dict[str, Any] = {"validators": {}}
    val: EvalResult | None = None
    if len(d.val):
        val = task.evaluate(model, d.val, norm, device, b)
        out["source"] = val.score
        if "source" in validators:
            out["validators"]["source"] = task.higher(val.score)
    if d.target is not None and any(v != "source" for v in validators):
        tgt = task.evaluate(model, d.target.subset(spread(len(d.target), cfg.validator_images)), norm, device, b,
                            g=g, labelled=False)
        if "entropy" in validators and tgt.entropy is not None:
            out["validators"]["entropy"] = tgt.entropy
        if "snd" in validators and tgt.rows is not None:
            out["validators"]["snd"] = snd(tgt.rows)
        if "dev" in validators and val is not None and val.losses is not None and len(d.val) >= 2:
            fs = task.evaluate(model, d.train.subset(spread(len(d.train), DEV_SOURCE)), norm, device, b,
                               labelled=False).embeddings
            assert fs is not None and tgt.embeddings is not None and val.embeddings is not None
            out["validators"]["dev"] = dev(fs, tgt.embeddings, val.embeddings, val.losses)
    if d.eval is not None:
        out["target"] = task.evaluate(model, d.eval, norm, device, b, embeddings=False).score
    return out


def spread(n: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(n)`` (all of them when ``n <= k``): a fixed subset."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))
