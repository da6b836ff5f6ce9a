"""Image-space augmentation on batches, in torch (no torchvision): the seeds' colour jitter
(brightness, contrast, saturation, hue) plus sensor noise, blur and horizontal flips.

Each image of a batch draws its own parameters from the run's ``torch.Generator`` (so a run is
reproducible and resumable). Images are float ``(N, 3, H, W)`` in [0, 1]; masks and depth given
alongside are flipped with their image. Hue is a rotation of the chroma plane of YIQ (a linear
approximation of an HSV hue shift that keeps luma). Brightness, contrast (about the image's mean
grey), saturation and hue are all linear, so they are applied as one affine colour map per image
and clipped to [0, 1] once, instead of after each step as torchvision does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .config import AugmentConfig

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601
BLUR_MIN_PX = 0.3
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ2RGB = torch.linalg.inv(_RGB2YIQ)


def grey(x: torch.Tensor) -> torch.Tensor:
    w = x.new_tensor(LUMA).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def _uniform(n: int, half: float, g: torch.Generator, centre: float = 1.0) -> torch.Tensor:
    return centre + (torch.rand(n, generator=g) * 2.0 - 1.0) * half


def hue_matrices(degrees: torch.Tensor) -> torch.Tensor:
    """``(N, 3, 3)`` RGB -> RGB matrices rotating the hue by ``degrees`` (YIQ chroma rotation)."""
    t = degrees * (math.pi / 180.0)
    c, s = torch.cos(t), torch.sin(t)
    rot = torch.zeros(len(t), 3, 3)
    rot[:, 0, 0] = 1.0
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = c, -s, s, c
    return _YIQ2RGB @ rot @ _RGB2YIQ


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Blur each image of ``x`` with its own Gaussian ``sigma`` (pixels; 0 = unchanged), reflect padding."""
    n, c, h, w = x.shape
    radius = max(1, math.ceil(3.0 * float(sigma.max())))
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype)
    s = sigma.to(x.dtype).clamp_min(1e-3).view(n, 1)
    k = torch.exp(-0.5 * (taps.view(1, -1) / s) ** 2)
    k = k / k.sum(1, keepdim=True)
    k = k.repeat_interleave(c, 0).to(x.device)  # (n*c, taps)
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), k.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), k.view(n * c, 1, -1, 1), groups=n * c)
    return flat.view(n, c, h, w)


class Augment:
    """Callable ``(images, generator, *aligned) -> (images, *aligned)``; ``aligned`` are per-pixel
    tensors ``(N, H, W)`` or ``(N, 1, H, W)`` (masks, depth) that follow the images' flips."""

    def __init__(self, cfg: AugmentConfig) -> None:
        self.cfg = cfg

    def __call__(self, x: torch.Tensor, g: torch.Generator, *aligned: torch.Tensor) -> tuple[torch.Tensor, ...]:
        cfg = self.cfg
        if not cfg.enabled:
            return (x, *aligned)
        n, dev = len(x), x.device
        view = (n, 1, 1, 1)
        # draw every parameter first, on the CPU generator, in a fixed order (reproducible on any device)
        brightness = _uniform(n, cfg.brightness, g)
        contrast = _uniform(n, cfg.contrast, g)
        saturation = _uniform(n, cfg.saturation, g)
        hue = _uniform(n, cfg.hue_deg, g, centre=0.0)
        noise_std = torch.rand(n, generator=g) * cfg.noise_std
        blur = torch.rand(n, generator=g) * cfg.blur_sigma_px
        flip = (torch.rand(n, generator=g) < 0.5) if cfg.hflip else torch.zeros(n, dtype=torch.bool)
        noise = torch.randn(x.shape, generator=g) if cfg.noise_std > 0 else None

        # The four colour operations are linear, so they fold into one affine map per image:
        # brightness b and contrast c about the mean grey level m give  b*c*x + (1-c)*b*m, then
        # saturation s (towards grey) and hue are 3x3 matrices M; all together  M @ (a*x + o).
        luma = torch.tensor(LUMA)
        m = grey(x).mean(dim=(1, 2, 3)).cpu()
        scale = brightness * contrast
        offset = (1.0 - contrast) * brightness * m
        sat = saturation.view(n, 1, 1) * torch.eye(3) + (1.0 - saturation).view(n, 1, 1) * luma.view(1, 1, 3)
        mat = hue_matrices(hue) @ sat if cfg.hue_deg > 0 else sat
        # offset o is grey (equal in r, g, b): M @ (o, o, o) = o * M.sum(columns)
        bias = offset.view(n, 1) * mat.sum(2)
        x = torch.einsum("nij,njhw->nihw", (mat * scale.view(n, 1, 1)).to(dev, x.dtype), x)
        x = (x + bias.to(dev, x.dtype).view(n, 3, 1, 1)).clamp_(0.0, 1.0)
        if cfg.blur_sigma_px > 0:
            soft = blur > BLUR_MIN_PX  # below that a blur changes nothing visible
            if soft.any():
                idx = soft.nonzero().squeeze(1).to(dev)
                x = x.index_copy(0, idx, gaussian_blur(x.index_select(0, idx), blur[soft]))
        if noise is not None:
            x = x + noise.to(dev, x.dtype) * noise_std.to(dev).view(view)
        x = x.clamp_(0.0, 1.0)
        if flip.any():
            idx = flip.nonzero().squeeze(1).to(dev)
            x = x.index_copy(0, idx, x.index_select(0, idx).flip(-1))
            aligned = tuple(a.index_copy(0, idx, a.index_select(0, idx).flip(-1)) for a in aligned)
        return (x, *aligned)
