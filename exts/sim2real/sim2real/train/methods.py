"""Domain-adaptation methods, selectable by name: source-only, DANN, Deep CORAL, MMD, AdaBN.

A method sees the encoder features of a source batch and of a target batch (``model.features``:
a map ``(N, C, h, w)`` or vectors ``(N, D)``) and returns an adaptation loss, added to the task loss
with weight ``lambda * ramp(p)``, ``p`` the training progress in [0, 1]:

* ``source-only``: no adaptation loss; the baseline.
* ``dann`` (Ganin & Lempitsky 2015; Ganin et al. 2016, JMLR 17:59): a domain classifier on the
  features through a gradient reversal layer: forward is the identity, backward multiplies the
  gradient by ``-alpha``, with the papers' (and the seeds') schedule ``alpha = 2 / (1 + exp(-10 p)) - 1``.
  The classifier learns to tell sim from real; the encoder learns to make that impossible. On a
  feature map the classifier is a small strided convolutional net judging overlapping patches (a patch
  discriminator).
* ``coral`` (Sun & Saenko 2016, Deep CORAL): ``||C_s - C_t||_F^2 / (4 d^2)``, the distance between
  the feature covariances of the two batches.
* ``mmd`` (Long et al. 2015, DAN): the multi-kernel maximum mean discrepancy between the batches,
  Gaussian kernels at bandwidths 2^k (k = -2..2) times the median pairwise distance.
* ``adabn`` (Li et al. 2016, AdaBN): source-only training; the inference model's batch-norm
  statistics are then re-estimated on target images (no labels, no gradient).

Maps are flattened to one feature vector per location; at most ``MAX_LOCATIONS`` per domain are
drawn (with the run's generator) for CORAL and MMD, whose cost grows with the count, and
``DANN_LOCATIONS`` for the domain classifier.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UnsupportedError

MAX_LOCATIONS = 512
DANN_LOCATIONS = 4096
MMD_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def dann_alpha(p: float) -> float:
    """The DANN schedule ``2 / (1 + exp(-10 p)) - 1``: 0 at the start, about 1 at the end."""
    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0


class GradientReversal(torch.autograd.Function):
    """Identity forward; the gradient is multiplied by ``-alpha`` on the way back."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.alpha = alpha
        return x.view_as(x)  # a new tensor: autograd must see an output distinct from the input

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad.neg() * ctx.alpha, None


def reverse_gradient(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return GradientReversal.apply(x, alpha)


def as_vectors(f: torch.Tensor) -> torch.Tensor:
    """``(N, C, h, w)`` -> ``(N*h*w, C)``; vectors pass through."""
    return f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]) if f.dim() == 4 else f


def _sample_rows(x: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    if len(x) <= n:
        return x
    idx = torch.randperm(len(x), generator=generator)[:n].to(x.device)
    return x[idx]


class Method(nn.Module):
    """Base: no adaptation. Subclasses add trainable parts (they are ``nn.Module`` children)."""

    name = "source-only"
    uses_target = False

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.feature_dim = feature_dim

    def loss(self, fs: torch.Tensor, ft: torch.Tensor, p: float, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        """Adaptation loss of source features ``fs`` and target features ``ft`` at progress ``p``."""
        return fs.new_zeros(()), {}


class DANN(Method):
    name = "dann"
    uses_target = True

    def __init__(self, feature_dim: int, maps: bool = False, hidden: int = 1024, patch_hidden: int = 64) -> None:
        super().__init__(feature_dim)
        self.maps = maps
        # only the discriminator the features need: a parameter without a gradient would make
        # DistributedDataParallel search the autograd graph for unused parameters every step
        if maps:  # a fully convolutional discriminator judging overlapping patches
            h = patch_hidden
            self.discriminator = nn.Sequential(
                nn.Conv2d(feature_dim, h, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(h, h, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(h, 1, 3, 1, 1))
        else:
            self.discriminator = nn.Sequential(
                nn.Linear(feature_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden),
                nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def loss(self, fs: torch.Tensor, ft: torch.Tensor, p: float, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        alpha = dann_alpha(p)
        both = reverse_gradient(torch.cat([fs, ft]), alpha)
        if (both.dim() == 4) != self.maps:
            raise ValueError(f"DANN built for {'maps' if self.maps else 'vectors'}, given {both.dim()}-D features")
        logits = self.discriminator(both)
        n_s = len(fs) * logits[0].numel()
        logits = logits.reshape(-1)
        domain = torch.zeros_like(logits)
        domain[n_s:] = 1.0  # sim 0, real 1
        # each domain weighs half, whatever the batch sizes
        per = F.binary_cross_entropy_with_logits(logits, domain, reduction="none")
        loss = 0.5 * per[:n_s].mean() + 0.5 * per[n_s:].mean()
        with torch.no_grad():
            acc = ((logits > 0).float() == domain).float().mean().item()
        return loss, {"domain_loss": loss.item(), "domain_acc": acc, "alpha": alpha}


class _Statistic(Method):
    """Base of the methods that compare two samples of feature vectors (at most MAX_LOCATIONS each)."""

    uses_target = True
    key = ""

    def loss(self, fs: torch.Tensor, ft: torch.Tensor, p: float, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        s = _sample_rows(as_vectors(fs), MAX_LOCATIONS, generator)
        t = _sample_rows(as_vectors(ft), MAX_LOCATIONS, generator)
        loss = self.distance(s, t)
        return loss, {self.key: loss.item()}

    def distance(self, s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class CORAL(_Statistic):
    name = "coral"
    key = "coral"

    def distance(self, s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        cs, ct = covariance(s), covariance(t)
        # relative to the covariances' own size: shrinking the features cannot lower it (the collapse
        # the paper's ||Cs - Ct||^2 / 4d^2 invites), and its scale does not depend on the feature count
        return (cs - ct).pow(2).sum() / (cs.pow(2).sum() + ct.pow(2).sum()).clamp_min(1e-12)


def covariance(x: torch.Tensor) -> torch.Tensor:
    xc = x - x.mean(0, keepdim=True)
    return xc.T @ xc / max(len(x) - 1, 1)


class MMD(_Statistic):
    name = "mmd"
    key = "mmd2"

    def distance(self, s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return mk_mmd2(s, t)


def mk_mmd2(x: torch.Tensor, y: torch.Tensor, scales: tuple[float, ...] = MMD_SCALES) -> torch.Tensor:
    """Biased multi-kernel MMD^2 (mean of Gaussian kernels; bandwidth from the median, not learned)."""
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z).pow(2)
    # the bandwidth follows the features (not detached): shrinking them all cannot lower the MMD
    base = d2[d2 > 0].median() if bool((d2 > 0).any()) else d2.new_tensor(1.0)
    k = sum(torch.exp(-d2 / (2.0 * base * s)) for s in scales) / len(scales)
    m = len(x)
    return k[:m, :m].mean() + k[m:, m:].mean() - 2.0 * k[:m, m:].mean()


class AdaBN(Method):
    """No loss: the trainer ships the model with batch-norm statistics re-estimated on the target
    (``adapt_batch_norm``), as it does for every method trained with ``domain_bn = "separate"``."""

    name = "adabn"
    uses_target = True


def adapt_batch_norm(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """A copy of ``model`` whose batch-norm running statistics are the target's (cumulative average)."""
    adapted = copy.deepcopy(model)
    norms = [m for m in adapted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise UnsupportedError("adabn: the model has no batch-norm layers to adapt (state task: set model.batch_norm = true)")
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every target batch counts the same
    adapted.eval()  # dropout off; only the batch norms collect statistics
    for m in norms:
        m.train()
    with torch.no_grad():
        for x in batches:
            adapted(x)
    adapted.eval()
    return adapted


METHODS: dict[str, type[Method]] = {m.name: m for m in (Method, DANN, CORAL, MMD, AdaBN)}


def make_method(name: str, feature_dim: int, maps: bool = False, **options: Any) -> Method:
    """A method by name. ``maps``: the features are ``(N, C, h, w)`` maps (segmentation), else
    ``(N, D)`` vectors; ``options`` go to the constructors that take them (DANN: ``hidden``)."""
    return METHODS[name](feature_dim, maps, **options) if name == DANN.name else METHODS[name](feature_dim)
