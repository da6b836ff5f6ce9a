"""Unsupervised validators: scoring a model on the target domain without target labels.

Computed every epoch and stored in ``metrics.json``; ``select`` names the one that picks ``best.pt``.

* ``source``: the task score on held-out source frames (mIoU, accuracy, or -RMSE). Needs no target
  data; blind to the domain gap, it is the baseline every other validator should beat.
* ``entropy`` (Grandvalet & Bengio 2005 as a criterion; used for model selection by Morerio et al.
  2018, "Minimal-entropy correlation alignment"): the mean normalised entropy of the target
  predictions, in [0, 1]. Lower is better.
* ``snd`` (Saito et al. 2021, "Tune it the right way: unsupervised validation of domain adaptation
  via soft neighborhood density"): target predictions are L2-normalised, their similarity matrix
  (diagonal excluded) divided by a temperature of 0.05 goes through a row softmax, and SND is the
  mean entropy of those rows. Higher is better: predictions that form dense neighbourhoods.
* ``dev`` (You et al. 2019, "Towards accurate model selection in deep unsupervised domain
  adaptation", Deep Embedded Validation): the source validation loss weighted by the density ratio
  ``p_target(x) / p_source(x)`` of the features, estimated by a logistic-regression domain
  classifier, with the paper's control variate. Lower is better.
* ``iwv`` (Sugiyama et al. 2007, importance-weighted cross-validation): the same density-ratio
  weighted source validation loss without the control variate. Lower is better.
* ``im`` (information maximization, Shi & Sha 2012; as a validator in Musgrave et al. 2022,
  "Benchmarking validation methods for unsupervised domain adaptation"): the mutual information
  between target inputs and predicted classes, ``H(mean p) - mean H(p)``, normalised by ``log K``.
  Higher is better: confident predictions spread over the classes.

For segmentation every pixel is a prediction; entropy averages all target pixels, SND uses
``SND_POINTS`` pixels drawn with a generator seeded from the run seed and the epoch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SND_TEMPERATURE = 0.05
SND_POINTS = 1024
DEV_L2 = 1e-3


def mean_entropy(probs: torch.Tensor) -> float:
    """Mean entropy of probability rows ``(M, K)``, divided by ``log K`` (so in [0, 1])."""
    k = probs.shape[1]
    h = -(probs * torch.log(probs.clamp_min(1e-12))).sum(1)
    return float(h.mean() / math.log(k)) if k > 1 else 0.0


def snd(probs: torch.Tensor, temperature: float = SND_TEMPERATURE) -> float:
    """Soft neighbourhood density of probability rows ``(M, K)`` (higher is better)."""
    p = F.normalize(probs.double(), dim=1)
    sim = p @ p.T / temperature
    sim.fill_diagonal_(float("-inf"))
    q = torch.softmax(sim, dim=1)
    h = -(q * torch.log(q.clamp_min(1e-300))).sum(1)
    return float(h.mean())


class DomainClassifier:
    """L2-regularised logistic regression telling target (1) from source (0) features, on features
    standardised with the training rows' mean and spread (LBFGS, float64)."""

    def __init__(self, source: torch.Tensor, target: torch.Tensor) -> None:
        x = torch.cat([source, target]).double()
        y = torch.cat([torch.zeros(len(source)), torch.ones(len(target))]).double()
        self.mu, self.sd = x.mean(0), x.std(0).clamp_min(1e-6)
        x = (x - self.mu) / self.sd
        w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=100, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(x @ w + b, y) + DEV_L2 * (w * w).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(closure)
        self.w, self.b = w.detach(), b.detach()

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.double() - self.mu) / self.sd) @ self.w + self.b


def density_ratio(src_train: torch.Tensor, target: torch.Tensor, src_val: torch.Tensor) -> torch.Tensor:
    """``p_target(x) / p_source(x)`` at ``src_val`` from a domain classifier trained on features
    ``src_train`` (source) and ``target``: ``(n_s / n_t) * P(target|x) / P(source|x)``."""
    return torch.exp(DomainClassifier(src_train, target).logit(src_val)) * (len(src_train) / len(target))


def dev(weight: torch.Tensor, val_loss: torch.Tensor) -> float:
    """Deep Embedded Validation risk (lower is better): the ``weight``-ed source validation losses
    ``val_loss`` ``(m,)`` with the paper's control variate."""
    wl = weight * val_loss.double()
    var_w = weight.var()
    eta = -_cov(wl, weight) / var_w if var_w > 0 else torch.zeros((), dtype=torch.float64)
    return float(wl.mean() + eta * weight.mean() - eta)


def iwv(weight: torch.Tensor, val_loss: torch.Tensor) -> float:
    """Importance-weighted validation risk (lower is better)."""
    return float((weight * val_loss.double()).mean())


def information(mean_probs: torch.Tensor, mean_entropy_value: float) -> float:
    """Mutual information ``H(mean p) - mean H(p)`` over ``log K`` (higher is better)."""
    k = len(mean_probs)
    p = mean_probs.double().clamp_min(1e-12)
    return float(-(p * p.log()).sum() / math.log(k)) - mean_entropy_value if k > 1 else 0.0


def _cov(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - a.mean()) * (b - b.mean())).sum() / max(len(a) - 1, 1)


def sample_rows(probs: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    if len(probs) <= n:
        return probs
    return probs[torch.randperm(len(probs), generator=generator)[:n]]
