"""The optimizer and its learning-rate schedule.

* ``sgd`` (the default for classification): SGD with momentum 0.9 and the annealed learning rate of
  Ganin et al. (JMLR 2016): ``mu_p = mu_0 / (1 + alpha p)^beta``, ``alpha = 10``, ``beta = 0.75``,
  ``mu_0 = 0.01``, ``p`` the training progress in [0, 1] (``lr_schedule = "dann"``).
* ``adamw`` (the default for segmentation and state regression): AdamW, ``lr = 2e-3``, same schedule.

``cosine`` and ``constant`` schedules are options. A schedule is a callable object (not a lambda) so
that ``LambdaLR.state_dict`` saves it with the checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from .config import TrainConfig

ANNEAL_ALPHA, ANNEAL_BETA = 10.0, 0.75


class LRSchedule:
    """Learning-rate factor at a step: DANN's ``(1 + 10 p)^-0.75``, cosine, or constant."""

    def __init__(self, kind: str, total_steps: int) -> None:
        self.kind = kind
        self.total = max(total_steps, 1)

    def __call__(self, step: int) -> float:
        p = min(step / self.total, 1.0)
        if self.kind == "dann":
            return (1.0 + ANNEAL_ALPHA * p) ** -ANNEAL_BETA
        if self.kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * p))
        return 1.0


def make_optimizer(cfg: TrainConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    assert cfg.lr is not None
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_schedule(cfg: TrainConfig, opt: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(opt, LRSchedule(cfg.lr_schedule, total_steps))
