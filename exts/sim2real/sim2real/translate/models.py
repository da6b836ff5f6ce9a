"""CycleGAN's networks, small: a ResNet generator and a PatchGAN discriminator (Zhu et al. 2017).

Generator: 7x7 conv, two stride-2 3x3 convs, ``blocks`` residual blocks at 1/4 resolution, two
nearest-neighbour upsamplings each followed by a 3x3 conv (instead of transposed convolutions, which
leave checkerboard artefacts), 7x7 conv, tanh. Instance normalisation, reflection padding. Images are
in [-1, 1]. Discriminator: a PatchGAN (4x4 convs, LeakyReLU 0.2) giving one realness score per
overlapping patch, for the least-squares GAN loss (no sigmoid).
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(c_in: int, c_out: int, k: int, stride: int = 1) -> list[nn.Module]:
    return [nn.ReflectionPad2d(k // 2), nn.Conv2d(c_in, c_out, k, stride), nn.InstanceNorm2d(c_out), nn.ReLU(True)]


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv(c, c, 3), nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    STRIDE = 4  # input sides must be multiples of it

    def __init__(self, width: int = 16, blocks: int = 3) -> None:
        super().__init__()
        w = width
        layers: list[nn.Module] = [*_conv(3, w, 7), *_conv(w, 2 * w, 3, 2), *_conv(2 * w, 4 * w, 3, 2)]
        layers += [ResBlock(4 * w) for _ in range(blocks)]
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv(4 * w, 2 * w, 3),
                   nn.Upsample(scale_factor=2, mode="nearest"), *_conv(2 * w, w, 3),
                   nn.ReflectionPad2d(3), nn.Conv2d(w, 3, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 16, layers: int = 2) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(layers - 1):
            mods += [nn.Conv2d(c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.LeakyReLU(0.2, True)]
            c *= 2
        mods += [nn.Conv2d(c, 2 * c, 4, 1, 1), nn.InstanceNorm2d(2 * c), nn.LeakyReLU(0.2, True),
                 nn.Conv2d(2 * c, 1, 4, 1, 1)]
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ImagePool:
    """Past generated images for the discriminator (Shrivastava et al. 2017): once full, each new
    fake is, with probability 1/2, swapped for a stored one (which is returned instead). Draws come
    from the run's generator; the pool is part of the checkpoint."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, fakes: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if self.size == 0:
            return fakes
        out = []
        for img in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand((), generator=g).item() < 0.5:
                i = int(torch.randint(len(self.images), (), generator=g).item())
                out.append(self.images[i])
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)

    def state(self) -> torch.Tensor | None:
        return torch.stack(self.images) if self.images else None

    def load(self, state: torch.Tensor | None) -> None:
        self.images = [] if state is None else [t.clone() for t in state]
