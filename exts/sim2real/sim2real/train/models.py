"""The models: small, plain convolutional nets that export to ONNX and run well on a Jetson.

Every model splits at the input of its last layer, which is what the adaptation methods rely on:

* ``represent(x)``: everything up to the last layer - the features the predictor reads
  (``(N, C, H/2, W/2)`` maps for segmentation, ``(N, D)`` vectors for the others). DANN, CORAL
  and MMD align these between domains, as DANN aligns the input of its label classifier;
* ``predict(features)``: the last layer(s), giving the task output;
* ``forward(x) = predict(represent(x))``: what is exported (one input, one output, no control flow);
* ``embed(x) -> (N, D)``: one vector per input (the pooled encoder bottleneck for segmentation),
  for the gap report's features and the DEV validator.

Only standard layers (3x3 and 5x5 convolutions, batch norm, ReLU, bilinear upsampling, average and
max pooling with fixed kernels, linear): each maps to one ONNX operator that TensorRT supports.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import LENET_GRID, LENET_KERNEL, lenet_map


def conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class _UNet(nn.Module):
    """The encoder-decoder shared by the segmentation and detection nets: each encoder stage halves
    the resolution (the first one too); the decoder climbs back with bilinear upsampling and
    (optionally) skip connections, up to encoder stage ``top`` (output stride ``2 ** (top + 1)``)."""

    feature_maps = True  # represent() gives (N, C, h, w) maps

    def __init__(self, in_channels: int, widths: list[int] | tuple[int, ...], skips: bool, top: int) -> None:
        super().__init__()
        self.widths = list(widths)
        self.skips = skips
        self.top = top
        stages, c = [], in_channels
        for i, w in enumerate(self.widths):
            layers = [conv_bn(c, w, stride=2)] + ([conv_bn(w, w)] if i > 0 else [])
            stages.append(nn.Sequential(*layers))
            c = w
        self.stages = nn.ModuleList(stages)
        ups = []
        for i in range(len(self.widths) - 2, top - 1, -1):
            c_in = self.widths[i + 1] + (self.widths[i] if skips else 0)
            ups.append(conv_bn(c_in, self.widths[i]))
        self.ups = nn.ModuleList(ups)

    @property
    def feature_dim(self) -> int:
        return self.widths[self.top]

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        stages = self.encode(x)
        y = stages[-1]
        for up, skip in zip(self.ups, reversed(stages[self.top : -1]), strict=True):
            y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
            y = up(torch.cat([y, skip], 1) if self.skips else y)
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(self.represent(x))

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[-1].mean(dim=(2, 3))


class SegNet(_UNet):
    """A small U-Net whose class logits, made at half resolution, are upsampled to the input size.
    Output stride ``2 ** len(widths)`` at the bottleneck."""

    arch = "segnet"

    def __init__(self, in_channels: int = 3, num_classes: int = 2, widths: list[int] | tuple[int, ...] = (16, 32, 64),
                 skips: bool = True) -> None:
        super().__init__(in_channels, widths, skips, top=0)
        self.classifier = nn.Conv2d(self.widths[0], num_classes, 1)

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.classifier(features), scale_factor=2.0, mode="bilinear", align_corners=False)


HEATMAP_PRIOR = 0.1  # CenterNet's initial heatmap probability (bias -2.19): a calm focal loss at the start


class CenterNet(_UNet):
    """An anchor-free detector in the manner of CenterNet (Zhou et al. 2019, "Objects as Points"):
    the U-Net decoder stops at stride 4 and two heads (3x3 conv-ReLU-1x1 conv) read its map:

    * ``K`` heatmap logits, one per class: a peak at each object's centre;
    * 4 box channels: ``log(w / 4)``, ``log(h / 4)`` (box size in cells, log so that small and
      large boxes weigh alike) and the centre's sub-cell offset ``(dx, dy)`` in [0, 1).

    ``forward`` returns them concatenated, ``(N, K + 4, H/4, W/4)`` raw (no sigmoid, no exp): the
    decoding (``train.detect.decode``) is outside the network, so the export has no control flow."""

    arch = "centernet"
    stride = 4

    def __init__(self, in_channels: int = 3, num_classes: int = 1,
                 widths: list[int] | tuple[int, ...] = (16, 32, 64, 128), skips: bool = True, head: int = 64) -> None:
        super().__init__(in_channels, widths, skips, top=1)
        c = self.widths[1]
        self.heatmap = nn.Sequential(nn.Conv2d(c, head, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(head, num_classes, 1))
        self.box = nn.Sequential(nn.Conv2d(c, head, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(head, 4, 1))
        nn.init.constant_(self.heatmap[-1].bias, -math.log((1.0 - HEATMAP_PRIOR) / HEATMAP_PRIOR))

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.heatmap(features), self.box(features)], 1)


def mlp_head(dim: int, hidden: int, num_classes: int, dropout: float) -> nn.Sequential:
    """Dropout-linear-ReLU-dropout-linear: the classification head of the seeds and of Ganin et al."""
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                         nn.Linear(hidden, num_classes))


class _FlatClassifier(nn.Module):
    """A convolutional ``backbone`` whose output map is flattened into the features of ``classifier``."""

    backbone: nn.Sequential
    classifier: nn.Sequential
    dim: int
    feature_maps = False  # represent() gives (N, D) vectors

    @property
    def feature_dim(self) -> int:
        return self.dim

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.backbone(x), 1)

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(self.represent(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.represent(x)


class EdgeClassifier(_FlatClassifier):
    """The seeds' edge classifier: conv-BN-ReLU stages (stride 2 on every other one), a 2x2 average
    pool, then dropout-linear-ReLU-dropout-linear. Default widths (32, 64, 128, 256) as in the seeds."""

    arch = "edge-classifier"

    def __init__(self, in_channels: int = 3, num_classes: int = 5, widths: list[int] | tuple[int, ...] = (32, 64, 128, 256),
                 dropout: float = 0.2, hidden: int = 128) -> None:
        super().__init__()
        layers, c = [], in_channels
        for i, w in enumerate(widths):
            layers.append(conv_bn(c, w, stride=2 if i % 2 == 0 else 1))
            c = w
        layers.append(nn.AdaptiveAvgPool2d((2, 2)))
        self.backbone = nn.Sequential(*layers)
        self.dim = c * 4
        self.classifier = mlp_head(self.dim, hidden, num_classes, dropout)


class LeNet(_FlatClassifier):
    """The network Ganin et al. (JMLR 2016) train on digits, with batch norm: per stage a 5x5
    convolution without padding, BN, ReLU and a 2x2 max pool; the last map keeps its spatial
    layout (max-pooled down to at most 4x4 cells with a fixed kernel, for larger inputs) and is
    flattened into dropout-linear(128)-ReLU-dropout-linear. Default widths (32, 48) as in the paper.

    Why it is the classification default: on MNIST -> MNIST-M its source-only target accuracy is
    about twice the edge classifier's (tools/bench/bench_digits.py). Padding and global pooling are
    what hurt there: padded convolutions and averaging over the map feed the head the texture of
    the crop's margin (blank in the source, a photograph in the target), where valid convolutions
    drop the margin and a flattened map keeps where each stroke is."""

    arch = "lenet"

    def __init__(self, in_channels: int = 3, num_classes: int = 5, widths: list[int] | tuple[int, ...] = (32, 48),
                 dropout: float = 0.2, hidden: int = 128, input_size: list[int] | tuple[int, int] = (28, 28)) -> None:
        super().__init__()
        w_in, h_in = input_size
        side = [lenet_map(v, len(widths)) for v in (h_in, w_in)]
        if min(side) < 1:
            raise ValueError(f"input {w_in}x{h_in} is too small for {len(widths)} stages of 5x5 convolution and 2x2 pooling")
        layers, c = [], in_channels
        for w in widths:
            layers += [nn.Conv2d(c, w, LENET_KERNEL, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = w
        pool = [max(1, v // LENET_GRID) for v in side]
        if max(pool) > 1:  # a fixed kernel, not an adaptive pool: it exports to ONNX at any input size
            layers.append(nn.MaxPool2d(pool, pool))
        self.backbone = nn.Sequential(*layers)
        self.dim = c * (side[0] // pool[0]) * (side[1] // pool[1])
        self.classifier = mlp_head(self.dim, hidden, num_classes, dropout)


class StateNet(nn.Module):
    """The seeds' state-regression network: an MLP feature extractor (``widths`` hidden sizes,
    default 256, 256, 256) and a regression head (hidden/2, then the outputs)."""

    arch = "state-mlp"
    feature_maps = False

    def __init__(self, in_features: int, out_features: int, widths: list[int] | tuple[int, ...] = (256, 256, 256),
                 dropout: float = 0.0, batch_norm: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_features
        for i, w in enumerate(widths):
            layers.append(nn.Linear(c, w))
            if i < len(widths) - 1:
                layers += [nn.BatchNorm1d(w)] if batch_norm else []
                layers.append(nn.ReLU(inplace=True))
            c = w
        self.extractor = nn.Sequential(*layers)
        half = max(1, c // 2)
        self.regressor = nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(c, half), nn.ReLU(inplace=True),
                                       nn.Linear(half, out_features))
        self.dim = c

    @property
    def feature_dim(self) -> int:
        return self.dim

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        return self.extractor(x)

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return self.regressor(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(self.represent(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.represent(x)


ARCHITECTURES: dict[str, type[nn.Module]] = {c.arch: c for c in (SegNet, CenterNet, EdgeClassifier, LeNet, StateNet)}  # type: ignore[attr-defined]


def build(arch: str, config: dict[str, Any]) -> nn.Module:
    """A model by architecture name and constructor arguments (as stored in ``model.json``)."""
    return ARCHITECTURES[arch](**config)


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
