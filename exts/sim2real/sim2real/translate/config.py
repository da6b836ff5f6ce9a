"""What a translator training run is asked to do (``sim2real translate train --config FILE``)."""

from __future__ import annotations

from os import PathLike
from typing import Any

from pydantic import Field, field_validator

from ..config import StrictModel, parse_model, read_toml


class TranslateConfig(StrictModel):
    resolution: tuple[int, int] = (64, 48)  # training crops, pixels (width, height); multiples of 4
    iterations: int = Field(2000, ge=1)  # generator updates
    batch_size: int = Field(4, ge=1)
    lr: float = Field(2e-4, gt=0.0)  # Adam, betas (0.5, 0.999) as CycleGAN
    decay_from: float = Field(0.5, ge=0.0, le=1.0)  # share of the run after which the lr decays linearly to 0
    lambda_cycle: float = Field(10.0, ge=0.0)  # cycle-consistency weight (L1)
    lambda_identity: float = Field(0.5, ge=0.0)  # identity weight, relative to lambda_cycle
    pool_size: int = Field(50, ge=0)  # image pool of past fakes the discriminators see (0 = none)
    width: int = Field(16, ge=4)  # generator channels at full resolution (x2 per downsampling)
    blocks: int = Field(3, ge=1)  # residual blocks at 1/4 resolution
    disc_width: int = Field(16, ge=4)  # PatchGAN channels in its first layer
    disc_layers: int = Field(2, ge=1)  # stride-2 layers of the PatchGAN (receptive field 16 px at 2)
    hflip: bool = True  # random horizontal flips of both domains
    max_images: int | None = Field(None, ge=2)  # per domain
    seed: int = 0
    checkpoint_every: int = Field(100, ge=1)
    eval_images: int = Field(64, ge=4)  # per domain, for the image-set distance before/after

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 16 or v[1] < 16 or v[0] % 4 or v[1] % 4:
            raise ValueError("expected a width and height of at least 16 pixels, multiples of 4")
        return v


def load_config(path: str | PathLike[str] | None, overrides: dict[str, Any]) -> TranslateConfig:
    """Defaults, then the TOML file (if any), then ``overrides`` (command-line options; None = not given)."""
    base: dict[str, Any] = read_toml(path) if path is not None else {}
    if path is not None:
        parse_model(base, TranslateConfig, source=path)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return parse_model(base, TranslateConfig, source=path or "command line")
