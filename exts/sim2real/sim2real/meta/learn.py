"""MAML, first-order MAML, Reptile and the multi-task baseline, on a small MLP; fast adaptation.

* ``maml`` (Finn et al. 2017): the inner loop takes ``inner_steps`` SGD steps on a task's K support
  samples with ``create_graph=True``; the outer loss is the adapted model's loss on the task's query
  samples, differentiated through the inner steps (second order: cheap for an MLP of a few thousand
  weights), averaged over ``meta_batch`` tasks, one Adam step.
* ``fomaml``: the same, with the inner gradients treated as constants (the query gradient at the
  adapted weights is applied to the initial weights).
* ``reptile`` (Nichol et al. 2018): ``inner_steps`` SGD steps on each task's support + query samples,
  then the initial weights move ``outer_lr`` (annealed linearly to 0) of the way towards the average
  of the adapted weights.
* ``pretrain``: the baseline a meta-learned initialisation is compared with: the same tasks, batches
  and number of Adam steps, minimising the loss of the *unadapted* model on all of them (the
  multi-task average model).

Losses are mean squared errors on standardised targets; the model standardises its inputs and
outputs itself (buffers fitted on the training tasks), so it takes and returns physical units.
Adaptation is plain SGD, ``steps`` full-batch steps of ``lr`` on the K samples: the same procedure
the inner loop was meta-trained for.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from .config import MetaConfig
from .families import TaskData

Params = dict[str, torch.Tensor]


class MetaModel(nn.Module):
    """An MLP (tanh) between standardised inputs and standardised outputs; physical units outside."""

    def __init__(self, n_in: int, n_out: int, hidden: Sequence[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        layers.append(nn.Linear(width, n_out))
        self.net = nn.Sequential(*layers)
        for name, n in (("x_mean", n_in), ("y_mean", n_out)):
            self.register_buffer(name, torch.zeros(n))
        for name, n in (("x_std", n_in), ("y_std", n_out)):
            self.register_buffer(name, torch.ones(n))

    def set_normalization(self, x: np.ndarray, y: np.ndarray) -> None:
        for name, arr in (("x", x), ("y", y)):
            getattr(self, f"{name}_mean").copy_(torch.from_numpy(arr.mean(0)))
            getattr(self, f"{name}_std").copy_(torch.from_numpy(np.maximum(arr.std(0), 1e-6)))

    def standardized(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.x_mean) / self.x_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Prediction in physical units (dynamics: state change; policy: the action's mean)."""
        return self.standardized(x) * self.y_std + self.y_mean

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean squared error on standardised targets."""
        return torch.mean(((self(x) - y) / self.y_std) ** 2)


def _call_loss(model: MetaModel, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``model.loss`` with the weights ``params`` (buffers: the model's own)."""
    return torch.mean(((functional_call(model, params, (x,)) - y) / model.y_std) ** 2)


def inner_loop(model: MetaModel, params: Params, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float,
               create_graph: bool) -> Params:
    """``steps`` SGD steps from ``params`` on ``(x, y)``; differentiable when ``create_graph``."""
    for _ in range(steps):
        loss = _call_loss(model, params, x, y)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)
        params = {k: p - lr * g for (k, p), g in zip(params.items(), grads, strict=True)}
        if not create_graph:
            params = {k: p.detach().requires_grad_() for k, p in params.items()}
    return params


def adapt_to_new_task(model: MetaModel, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, steps: int,
                      lr: float) -> MetaModel:
    """A copy of ``model`` after ``steps`` full-batch SGD steps of ``lr`` on the K samples ``(x, y)``
    (physical units, ``(K, n_in)`` and ``(K, n_out)``); ``model`` itself is left unchanged."""
    adapted = copy.deepcopy(model)
    x, y = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    params = {k: p.detach().requires_grad_() for k, p in adapted.named_parameters()}
    params = inner_loop(adapted, params, x, y, steps, lr, create_graph=False)
    with torch.no_grad():
        for k, p in adapted.named_parameters():
            p.copy_(params[k])
    return adapted


class MetaLearner:
    """One outer update per call of ``step``; the state (model, optimiser) is checkpointable."""

    def __init__(self, cfg: MetaConfig, model: MetaModel) -> None:
        self.cfg, self.model = cfg, model
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg.outer_lr) if cfg.algorithm != "reptile" else None

    def state_dict(self) -> dict[str, object]:
        return {"model": self.model.state_dict(), "optimizer": None if self.opt is None else self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.model.load_state_dict(state["model"])  # type: ignore[arg-type]
        if self.opt is not None:
            self.opt.load_state_dict(state["optimizer"])  # type: ignore[arg-type]

    def step(self, batch: list[TaskData], rng: np.random.Generator, iteration: int) -> float:
        """One outer update on ``batch``; returns the mean query loss (after adaptation; pretrain: before)."""
        cfg = self.cfg
        splits = [tuple(torch.from_numpy(a) for a in t.split(cfg.k_shot, cfg.query, rng)) for t in batch]
        if cfg.algorithm == "reptile":
            return self._reptile(splits, iteration)
        assert self.opt is not None
        self.opt.zero_grad(set_to_none=True)
        total = 0.0
        base = dict(self.model.named_parameters())
        for sx, sy, qx, qy in splits:
            if cfg.algorithm == "pretrain":
                loss = _call_loss(self.model, base, torch.cat([sx, qx]), torch.cat([sy, qy]))
                (loss / len(splits)).backward()
            elif cfg.algorithm == "maml":
                fast = inner_loop(self.model, base, sx, sy, cfg.inner_steps, cfg.inner_lr, create_graph=True)
                loss = _call_loss(self.model, fast, qx, qy)
                (loss / len(splits)).backward()
            else:  # fomaml: the query gradient at the adapted weights, applied to the initial ones
                start = {k: p.detach().requires_grad_() for k, p in base.items()}
                fast = inner_loop(self.model, start, sx, sy, cfg.inner_steps, cfg.inner_lr, create_graph=False)
                loss = _call_loss(self.model, fast, qx, qy)
                grads = torch.autograd.grad(loss, list(fast.values()))
                for p, g in zip(base.values(), grads, strict=True):
                    p.grad = g / len(splits) if p.grad is None else p.grad + g / len(splits)
            total += loss.item()
        self.opt.step()
        return total / len(splits)

    def _reptile(self, splits: list[tuple[torch.Tensor, ...]], iteration: int) -> float:
        cfg = self.cfg
        base = {k: p.detach() for k, p in self.model.named_parameters()}
        delta = {k: torch.zeros_like(p) for k, p in base.items()}
        total = 0.0
        for sx, sy, qx, qy in splits:
            start = {k: p.clone().requires_grad_() for k, p in base.items()}
            fast = inner_loop(self.model, start, torch.cat([sx, qx]), torch.cat([sy, qy]), cfg.inner_steps,
                              cfg.inner_lr, create_graph=False)
            with torch.no_grad():
                total += _call_loss(self.model, fast, qx, qy).item()
                for k in delta:
                    delta[k] += fast[k] - base[k]
        assert cfg.outer_lr is not None  # set by MetaConfig's validator
        eps = cfg.outer_lr * (1.0 - iteration / cfg.iterations)  # annealed to 0 over the run
        with torch.no_grad():
            for k, p in self.model.named_parameters():
                p.add_(delta[k], alpha=eps / len(splits))
        return total / len(splits)


def task_error(model: MetaModel, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error on standardised targets (1.0 = as bad as predicting the training mean)."""
    with torch.no_grad():
        return float(model.loss(torch.from_numpy(x), torch.from_numpy(y)).item())
