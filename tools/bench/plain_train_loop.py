#!/usr/bin/env python3
"""The baseline of ``bench_train.py``'s throughput: training as a user writes it in plain PyTorch.

Imports numpy, torch and ``devices.py`` (this folder) only, nothing of sim2real. The images are held
in memory as ready-made tensors: the whole source set converted to float, standardised, on the device
once before the first step; each step indexes a shuffled batch out of it, runs the same network (the
U-Net of ``sim2real.train.models.SegNet``, written out again below), class-weighted cross-entropy,
AdamW. No augmentation, no helper thread, no evaluation, no checkpoints.

    plain_train_loop.py ARRAYS.npz --epochs 4 [--device auto] [--flush-denormals] [--launched UNIX_TIME]

``ARRAYS.npz`` (written by bench_train.py from the decoded dataset): ``images`` uint8 (N, H, W, 3),
``labels`` (N, H, W), ``mean``/``std`` (3,), ``class_weights`` (K,), ``widths``, ``batch_size``,
``lr``, ``weight_decay``, ``seed``. Prints one JSON line: images per second and per CPU second of each epoch, the start-up (launch to
the end of the first step) and the device.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devices  # noqa: E402


def conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Encoder stages halving the resolution, bilinear upsampling with skips, logits upsampled x2."""

    def __init__(self, classes: int, widths: list[int]) -> None:
        super().__init__()
        self.stages = nn.ModuleList(nn.Sequential(conv_bn(c, w, 2), *([conv_bn(w, w)] if i else []))
                                    for i, (c, w) in enumerate(zip([3, *widths[:-1]], widths, strict=True)))
        self.ups = nn.ModuleList(conv_bn(widths[i + 1] + widths[i], widths[i]) for i in range(len(widths) - 2, -1, -1))
        self.classifier = nn.Conv2d(widths[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        for up, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = up(torch.cat([F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False), skip], 1))
        return F.interpolate(self.classifier(x), scale_factor=2.0, mode="bilinear", align_corners=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("arrays", type=Path)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--device", default="auto", choices=devices.CHOICES)
    ap.add_argument("--flush-denormals", action="store_true", help="torch.set_flush_denormal(True) first")
    ap.add_argument("--launched", type=float, default=None, help="time.time() when the parent started this process")
    args = ap.parse_args()
    launched = args.launched or time.time()
    if args.flush_denormals:  # what sim2real train does for its run; a loop without it slows when gradients get tiny
        torch.set_flush_denormal(True)
    a = np.load(args.arrays)
    device = devices.torch_device(args.device)
    b = int(a["batch_size"])
    mean, std = (torch.tensor(a[k], dtype=torch.float32).view(1, 3, 1, 1) for k in ("mean", "std"))
    x = ((torch.from_numpy(a["images"]).permute(0, 3, 1, 2).float() / 255.0 - mean) / std).contiguous().to(device)
    y = torch.from_numpy(a["labels"]).long().to(device)
    weights = torch.tensor(a["class_weights"], dtype=torch.float32, device=device)
    torch.manual_seed(int(a["seed"]))
    model = UNet(len(weights), [int(w) for w in a["widths"]]).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=float(a["lr"]), weight_decay=float(a["weight_decay"]))
    g = torch.Generator().manual_seed(int(a["seed"]))
    steps, rates, cpu_rates, startup = len(x) // b, [], [], None
    model.train()
    for _ in range(args.epochs):
        order = torch.randperm(len(x), generator=g).to(device)
        for i in range(steps):
            idx = order[i * b:(i + 1) * b]
            loss = F.cross_entropy(model(x[idx]), y[idx], weight=weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()  # as a loop that logs its loss: waits for the step (on CUDA too)
            if startup is None:
                startup, startup_cpu = time.time() - launched, time.process_time()
            if i == 0:  # timed from the end of the first batch, as bench_train.py times sim2real train
                t, c = time.perf_counter(), time.process_time()
        rates.append((steps - 1) * b / (time.perf_counter() - t))
        cpu_rates.append((steps - 1) * b / (time.process_time() - c))
    print(json.dumps({"images_per_s": rates, "images_per_cpu_s": cpu_rates, "startup_s": startup,
                      "startup_cpu_s": startup_cpu, "device": devices.describe(device),
                      "threads": torch.get_num_threads(), "flush_denormals": args.flush_denormals}))


if __name__ == "__main__":
    main()
