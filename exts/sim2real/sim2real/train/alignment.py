"""How far apart the two domains are in a model's features: a like-for-like adaptation measure.

The feature space is the same layer of every model: the predictor's input (``model.represent``), the
features the adaptation methods align; for a feature map (segmentation) each location is a sample.
Each domain's samples go through the model as it processes that domain (``evaluation.Models``).
Computed every epoch on fixed image subsets and stored in ``metrics.json`` (``history[i].alignment``):

* ``mmd2``, the headline: the multi-kernel MMD^2 between source and target features, Gaussian
  kernels at 0.25-4x the median pairwise squared distance (``methods.mk_mmd2``). The bandwidth
  follows the features, so the figure does not depend on their scale and compares across models.
  It falls when adaptation aligns the domains (on MNIST -> MNIST-M: source-only 0.34, DANN 0.06).
  The ``mmd`` method minimises this very quantity, so for it the figure is partly circular.
* ``domain_accuracy`` and ``proxy_a_distance`` ``2 (2 acc - 1)`` (Ben-David et al. 2007): a fresh
  logistic-regression domain classifier trained on half of the samples, scored on the other half.
  Reported, not the headline: on wide features (the classifier's 1,024) a fresh linear probe still
  tells DANN's domains apart (0.98-1.0) while the DANN discriminator it was trained against is at
  chance: DANN removes what its own discriminator can see, not every difference.
"""

from __future__ import annotations

import torch

from .methods import mk_mmd2
from .validators import DomainClassifier

POINTS = 2048  # feature-map locations drawn per domain
MMD_ROWS = 1024  # at most this many samples per domain in the MMD (its cost grows with their square)


def domain_accuracy(source: torch.Tensor, target: torch.Tensor) -> float:
    """Held-out, class-balanced accuracy of a domain classifier on ``(N, C)`` source and target
    features: even rows train it, odd rows score it (as many rows of each domain)."""
    n = min(len(source), len(target))
    if n < 4:
        return float("nan")
    s, t = source[:n], target[:n]
    clf = DomainClassifier(s[0::2], t[0::2])
    hit_s = (clf.logit(s[1::2]) < 0).double().mean()
    hit_t = (clf.logit(t[1::2]) > 0).double().mean()
    return float(0.5 * (hit_s + hit_t))


def alignment(source: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """``{"mmd2", "domain_accuracy", "proxy_a_distance"}`` of source and target feature rows."""
    acc = domain_accuracy(source, target)
    with torch.no_grad():
        mmd2 = float(mk_mmd2(_evenly(source, MMD_ROWS).double(), _evenly(target, MMD_ROWS).double()))
    return {"mmd2": mmd2, "domain_accuracy": acc, "proxy_a_distance": 2.0 * (2.0 * acc - 1.0)}


def _evenly(rows: torch.Tensor, n: int) -> torch.Tensor:
    """At most ``n`` rows spread over all of ``rows`` (which come image by image)."""
    return rows[:: -(-len(rows) // n)] if len(rows) > n else rows
