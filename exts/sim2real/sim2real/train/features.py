"""Set-level image distances on features: KID and MMD, and the extractors that make the features.

A feature extractor is any callable ``images (N, H, W, 3) uint8 -> features (N, D) float`` with a
``name`` (recorded in reports) and a ``size`` (the square side, in pixels, it wants its input at).
Two kinds:

* ``RandomConvFeatures``: a fixed convolutional network with seeded random weights (no downloaded
  weights, numpy only). Random conv features are a weak but honest stand-in for a pretrained
  network: they respond to colour, contrast, texture and edge statistics.
* ``sim2real.train.encoder_features.ModelFeatures``: a trained sim2real model's encoder (``model:RUN``,
  a training run folder), through ``extractor_from_spec``.

KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets (mean and standard deviation reported).
MMD: unbiased MMD^2 with a Gaussian kernel whose bandwidth is the median pairwise distance of the
pooled features, with a permutation-test p-value (small p: the sets are distinguishable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InputError


@runtime_checkable
class FeatureExtractor(Protocol):
    name: str
    size: int

    def __call__(self, images: np.ndarray) -> np.ndarray:  # (N, size, size, 3) uint8 -> (N, D) float
        ...


class RandomConvFeatures:
    """A seeded random conv net: 3x3 stride-2 convolutions with ReLU, He-normal weights.

    Features are the per-channel mean and standard deviation of every layer's activations,
    ``2 * sum(widths)`` numbers per image. Same seed, same features, on every machine.
    """

    def __init__(self, seed: int = 0, size: int = 64, widths: Sequence[int] = (16, 32, 64)) -> None:
        if size < 2 ** len(widths):
            raise InputError(f"random features: expected an input size of at least {2 ** len(widths)} (got {size})")
        self.seed = seed
        self.size = size
        self.widths = tuple(widths)
        self.name = f"random-conv(seed={seed},size={size},widths={'-'.join(map(str, self.widths))})"
        rng = np.random.default_rng(seed)
        self.weights = []
        c_in = 3
        for c_out in self.widths:
            w = rng.standard_normal((3, 3, c_in, c_out)) * np.sqrt(2.0 / (9 * c_in))
            b = rng.standard_normal(c_out) * 0.1
            self.weights.append((w.astype(np.float32), b.astype(np.float32)))
            c_in = c_out

    @property
    def dim(self) -> int:
        return 2 * sum(self.widths)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images)
        if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
            raise InputError(f"random features: expected (N, H, W, 3) uint8 images (got {x.dtype} {x.shape})")
        h = x.astype(np.float32) / 127.5 - 1.0
        feats = []
        for w, b in self.weights:
            h = np.maximum(_conv3x3_s2(h, w) + b, 0.0)
            feats += [h.mean(axis=(1, 2)), h.std(axis=(1, 2))]
        return np.concatenate(feats, axis=1).astype(np.float64)


def _conv3x3_s2(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """'Same'-padded 3x3 convolution with stride 2: (N, H, W, C) -> (N, ceil(H/2), ceil(W/2), C')."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))[:, ::2, ::2]  # (N, H', W', C, 3, 3)
    return np.einsum("nhwcij,ijco->nhwo", win, w, optimize=True)


def extractor_from_spec(spec: str, seed: int = 0, size: int = 64) -> FeatureExtractor:
    """``random`` (default) or ``model:RUN`` (the encoder of the model trained in run folder RUN)."""
    if spec == "random":
        return RandomConvFeatures(seed=seed, size=size)
    if spec.startswith("model:"):
        run = spec.removeprefix("model:")
        try:
            from .encoder_features import ModelFeatures
        except ImportError:
            from ..errors import NotInstalledError

            raise NotInstalledError(f"--features {spec}: trained-model features (torch)", "pip install 'sim2real[train]'") from None
        return ModelFeatures(run, size=size)
    raise InputError(f"--features: expected 'random' or 'model:RUN' (a training run folder) (got {spec!r})")


def extract(extractor: FeatureExtractor, images: Sequence[np.ndarray], batch: int = 32,
            on_batch: Any = None) -> np.ndarray:
    """Features of images already at ``extractor.size``, in batches; ``on_batch(n)`` after each."""
    out = []
    for i in range(0, len(images), batch):
        chunk = np.stack(images[i : i + batch])
        f = np.asarray(extractor(chunk), dtype=np.float64)
        if f.ndim != 2 or len(f) != len(chunk):
            raise InputError(f"feature extractor {extractor.name}: expected (N, D) features (got {f.shape})")
        out.append(f)
        if on_batch:
            on_batch(len(chunk))
    return np.concatenate(out) if out else np.zeros((0, 0))


def _unbiased_mmd2(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    m, n = len(kxx), len(kyy)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


@dataclass(frozen=True)
class KID:
    mean: float
    std: float
    subsets: int
    subset_size: int


def kid(x: np.ndarray, y: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KID:
    """Kernel Inception Distance of feature sets ``x`` (N, D) and ``y`` (M, D), over random subsets."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise InputError(f"KID: expected at least 2 images per set (got {len(x)} and {len(y)})")
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        vals.append(_unbiased_mmd2(polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b)))
    v = np.array(vals)
    return KID(float(v.mean()), float(v.std()), subsets, m)


@dataclass(frozen=True)
class MMD:
    mmd2: float
    bandwidth: float
    p_value: float
    permutations: int


def mmd_rbf(x: np.ndarray, y: np.ndarray, permutations: int = 200, seed: int = 0) -> MMD:
    """Unbiased MMD^2 with a median-heuristic Gaussian kernel and its permutation-test p-value."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise InputError(f"MMD: expected at least 2 images per set (got {m} and {n})")
    z = np.concatenate([x, y])
    sq = np.sum(z**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * z @ z.T, 0.0)
    off = d2[~np.eye(len(z), dtype=bool)]
    bandwidth = float(np.sqrt(np.median(off))) if np.median(off) > 0 else 1.0
    k = np.exp(-d2 / (2 * bandwidth**2))

    def stat(idx: np.ndarray) -> float:
        a, b = idx[:m], idx[m:]
        return _unbiased_mmd2(k[np.ix_(a, a)], k[np.ix_(b, b)], k[np.ix_(a, b)])

    observed = stat(np.arange(m + n))
    rng = np.random.default_rng(seed)
    exceed = sum(stat(rng.permutation(m + n)) >= observed for _ in range(permutations))
    return MMD(observed, bandwidth, (exceed + 1) / (permutations + 1), permutations)
