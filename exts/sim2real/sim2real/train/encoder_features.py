"""A trained model's encoder as a feature extractor for the gap report (``--features model:RUN``).

It implements ``sim2real.train.features.FeatureExtractor``: square uint8 RGB images in, one vector
per image out (``model.embed``: the pooled bottleneck of the segmentation net, the pooled backbone
of the classifier). Features learnt on the task separate what matters to the model, which random
features cannot; after adaptation, a small sim-vs-real KID on them is what adaptation aimed for.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError, UnsupportedError
from .runfolder import load_model

BATCH = 64


class ModelFeatures:
    """``FeatureExtractor`` from the run folder ``run`` (its ``best.pt``, else the last epoch)."""

    def __init__(self, run: str | PathLike[str], size: int = 64) -> None:
        self.model, self.spec = load_model(run)
        if self.spec.task == "state":
            raise UnsupportedError(f"--features model:{run}: a state-regression model has no image encoder")
        if self.spec.depth_units:
            raise UnsupportedError(f"--features model:{run}: the model takes RGB-D input; image gap sets are RGB")
        stride = 2 ** len(self.spec.config.get("widths", [])) if self.spec.arch == "segnet" else 1
        self.size = max(stride, -(-int(size) // stride) * stride)  # the net's stride must divide the side
        self.name = f"model:{self.spec.run_id or Path(run).name}({self.spec.arch}, size={self.size})"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images)
        if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
            raise InputError(f"{self.name}: expected (N, H, W, 3) uint8 images (got {x.dtype} {x.shape})")
        out = []
        with torch.no_grad():
            for i in range(0, len(x), BATCH):
                batch = torch.from_numpy(self.spec.prepare(x[i : i + BATCH]))
                out.append(self.model.embed(batch).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))
