"""A reference DANN that imports nothing of sim2real: Ganin et al. (JMLR 2016) for MNIST -> MNIST-M,
written out in plain PyTorch as a user would copy it from the paper, to tell our trainer's figures
apart from what the data allow.

The paper's MNIST architecture (section 5.2.2, figure 4): conv 5x5x32, ReLU, max-pool 2x2/2, conv
5x5x48, ReLU, max-pool 2x2/2 (the features); label predictor FC 100, ReLU, FC 100, ReLU, FC 10;
domain classifier FC 100, ReLU, FC 1 behind a gradient reversal layer with
``lambda_p = 2 / (1 + exp(-10 p)) - 1``. SGD, momentum 0.9, ``mu_p = 0.01 / (1 + 10 p)^0.75``,
batches of 64 source + 64 target images, inputs minus the mean pixel of both training domains.
Source-only: the same network and recipe without the domain classifier.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 64


def _folder(root: Path, labelled: bool) -> tuple[np.ndarray, np.ndarray | None]:
    from PIL import Image

    files = sorted(root.rglob("*.png"))
    x = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files]).astype(np.float32) / 255.0
    y = np.array([int(f.parent.name) for f in files]) if labelled else None
    return x.transpose(0, 3, 1, 2), y


def _nets() -> tuple[Any, Any, Any]:
    from torch import nn

    features = nn.Sequential(nn.Conv2d(3, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 48, 5), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten())
    label = nn.Sequential(nn.Linear(48 * 4 * 4, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))
    domain = nn.Sequential(nn.Linear(48 * 4 * 4, 100), nn.ReLU(), nn.Linear(100, 1))
    return features, label, domain


def train(paths: dict[str, Path], seed: int, epochs: int, adapt: bool) -> list[float]:
    """Target test accuracy after each epoch (an epoch: one pass over the source)."""
    import torch
    import torch.nn.functional as F

    class Reverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, lam: float) -> torch.Tensor:
            ctx.lam = lam
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
            return -ctx.lam * g, None

    xs, ys = _folder(paths["source"], True)
    xt, _ = _folder(paths["target"], False)
    xe, ye = _folder(paths["test"], True)
    mean = np.concatenate([xs, xt]).mean(axis=(0, 2, 3), keepdims=True)
    xs, xt, xe = (torch.from_numpy(a - mean) for a in (xs, xt, xe))
    ys_t, ye_t = torch.from_numpy(ys), torch.from_numpy(ye)
    torch.manual_seed(seed)
    features, label, domain = _nets()
    params = [*features.parameters(), *label.parameters(), *(domain.parameters() if adapt else [])]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    steps = len(xs) // BATCH
    total, accs = steps * epochs, []
    for epoch in range(epochs):
        order, t_order = torch.randperm(len(xs), generator=g), torch.randint(len(xt), (steps * BATCH,), generator=g)
        for i in range(steps):
            p = (epoch * steps + i) / total
            for group in opt.param_groups:
                group["lr"] = 0.01 / (1 + 10 * p) ** 0.75
            idx = order[i * BATCH : (i + 1) * BATCH]
            fs = features(xs[idx])
            loss = F.cross_entropy(label(fs), ys_t[idx])
            if adapt:
                ft = features(xt[t_order[i * BATCH : (i + 1) * BATCH]])
                lam = 2.0 / (1.0 + math.exp(-10 * p)) - 1.0
                d = domain(Reverse.apply(torch.cat([fs, ft]), lam)).squeeze(1)
                loss = loss + F.binary_cross_entropy_with_logits(d, torch.cat([torch.zeros(BATCH), torch.ones(BATCH)]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            accs.append(float((label(features(xe)).argmax(1) == ye_t).float().mean()))
    return accs


def run(paths: dict[str, Path], seed: int, epochs: int, out: Path) -> dict[str, Any]:
    """Source-only and DANN for one seed (cached in ``out``)."""
    path = out / "reference.json"
    if path.is_file():
        return json.loads(path.read_text())
    result: dict[str, Any] = {}
    for name, adapt in (("source-only", False), ("dann", True)):
        t = time.perf_counter()
        accs = train(paths, seed, epochs, adapt)
        result[name] = {"last": accs[-1], "per_epoch": accs, "wall_s": time.perf_counter() - t}
        print(f"  reference {name} s{seed}: last epoch acc {accs[-1]:.3f} ({result[name]['wall_s']:.0f} s)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


def summarize(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for name in ("source-only", "dann"):
        v = [r[name]["last"] for r in per_seed]
        out[name] = {"last": statistics.mean(v), "sd": statistics.stdev(v) if len(v) > 1 else 0.0, "per_seed": v,
                     "wall_s": statistics.mean(r[name]["wall_s"] for r in per_seed)}
    out["gain"] = out["dann"]["last"] / out["source-only"]["last"] - 1.0
    print(f"reference (plain PyTorch, the paper's network): source-only {out['source-only']['last']:.3f}, "
          f"DANN {out['dann']['last']:.3f} ({100 * out['gain']:+.1f} %)")
    return out
