"""End-of-epoch scores: the validators, the source validation score, the evaluation set's score and
the domain alignment of the features (``alignment.py``).

A model trained with per-domain batch norm processes each domain with that domain's statistics, so
it is scored as two models (``Models``): source data through the source-statistics one, target data
through the target-statistics one (the one shipped). Otherwise both are the same model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .alignment import POINTS, alignment
from .config import TrainConfig
from .data import TaskData
from .methods import adapt_batch_norm
from .models import has_batch_norm
from .tasks import EvalResult, Norm, Task
from .validators import density_ratio, dev, information, iwv, snd

DEV_SOURCE = 256  # source training samples that train the domain classifiers (DEV, IWV, alignment)
BN_IMAGES = 256  # samples that re-estimate batch-norm statistics (AdaBN, per-domain batch norm)


@dataclass
class Models:
    source: nn.Module  # scores source data
    target: nn.Module  # scores target data; the model shipped


def domain_models(model: nn.Module, cfg: TrainConfig, d: TaskData, task: Task, norm: Norm,
                  device: torch.device) -> Models:
    """The model as each domain sees it. AdaBN ships it with batch-norm statistics re-estimated on
    target images; so does every adaptation method trained with per-domain batch norm
    (``domain_bn = "separate"``), whose source side gets the source's statistics back."""
    if d.target is None or cfg.method == "source-only" or not has_batch_norm(model):
        return Models(model, model)
    if cfg.method != "adabn" and cfg.domain_bn != "separate":
        return Models(model, model)
    target = adapt_batch_norm(model, _batches(d.target, task, norm, device, cfg.batch_size))
    if cfg.method == "adabn":  # trained on the source alone: its own statistics are the source's
        return Models(model, target)
    return Models(adapt_batch_norm(model, _batches(d.train, task, norm, device, cfg.batch_size)), target)


def _batches(data: Any, task: Task, norm: Norm, device: torch.device, b: int) -> Iterator[torch.Tensor]:
    """The first ``BN_IMAGES`` samples of ``data``, in batches, unaugmented."""
    n = min(len(data), BN_IMAGES)
    for s in range(0, n, b):
        yield task.batch(data, np.arange(s, min(s + b, n)), norm, device, labels=False)[0]


def epoch_scores(models: Models, d: TaskData, task: Task, norm: Norm, device: torch.device, cfg: TrainConfig,
                 validators: list[str], epoch: int) -> dict[str, Any]:
    """``{"validators", "source", "target", "alignment"}`` of the models after ``epoch``."""
    b = max(cfg.batch_size, 32)
    g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)  # independent of the training stream
    out: dict[str, Any] = {"validators": {}}
    val: EvalResult | None = None
    if len(d.val):
        val = task.evaluate(models.source, d.val, norm, device, b)
        out["source"] = val.score
        if "source" in validators:
            out["validators"]["source"] = task.higher(val.score)
    if d.target is not None:
        tgt = task.evaluate(models.target, d.target.subset(spread(len(d.target), cfg.validator_images)), norm, device, b,
                            g=g, labelled=False, feature_points=POINTS)
        src = task.evaluate(models.source, d.train.subset(spread(len(d.train), DEV_SOURCE)), norm, device, b,
                            g=g, labelled=False, feature_points=POINTS)
        assert src.features is not None and tgt.features is not None
        out["alignment"] = alignment(src.features, tgt.features)
        out["validators"].update(_target_validators(validators, tgt, src, val))
    if d.eval is not None:
        out["target"] = task.evaluate(models.target, d.eval, norm, device, b, embeddings=False).score
    return out


def _target_validators(validators: list[str], tgt: EvalResult, src: EvalResult, val: EvalResult | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if "entropy" in validators and tgt.entropy is not None:
        out["entropy"] = tgt.entropy
    if "snd" in validators and tgt.rows is not None:
        out["snd"] = snd(tgt.rows)
    if "im" in validators and tgt.mean_probs is not None and tgt.entropy is not None:
        out["im"] = information(tgt.mean_probs, tgt.entropy)
    weighted = [v for v in ("dev", "iwv") if v in validators]
    if weighted and val is not None and val.losses is not None and len(val.losses) >= 2:
        assert src.embeddings is not None and tgt.embeddings is not None and val.embeddings is not None
        weight = density_ratio(src.embeddings, tgt.embeddings, val.embeddings)
        for v in weighted:
            out[v] = (dev if v == "dev" else iwv)(weight, val.losses)
    return out


def spread(n: int, k: int) -> np.ndarray:
    """``k`` indices spread evenly over ``range(n)`` (all of them when ``n <= k``): a fixed subset."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))
