"""Augmentation: each operation does what it says, parameters come from the generator only, and
masks follow their image's flip."""

from __future__ import annotations

import numpy as np
import torch

from sim2real.train.augment import Augment, gaussian_blur, grey, hue_matrices
from sim2real.train.config import AugmentConfig

OFF = {"enabled": True, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "hue_deg": 0.0, "noise_std": 0.0, "blur_sigma_px": 0.0,
       "hflip": False}


def _images(n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 12, 16, generator=g) * 0.6 + 0.2


def _aug(**on: object) -> Augment:
    return Augment(AugmentConfig(**{**OFF, **on}))


def test_all_off_is_the_identity_and_disabled_draws_nothing() -> None:
    x = _images()
    g = torch.Generator().manual_seed(1)
    out, = _aug()(x, g)
    assert torch.allclose(out, x, atol=1e-6)
    g2 = torch.Generator().manual_seed(1)
    state = g2.get_state()
    out, = Augment(AugmentConfig(enabled=False))(x, g2)
    assert out is x and torch.equal(g2.get_state(), state)


def test_same_generator_same_result_and_each_image_its_own_draw() -> None:
    x = _images()
    a, = Augment(AugmentConfig(enabled=True))(x, torch.Generator().manual_seed(5))
    b, = Augment(AugmentConfig(enabled=True))(x, torch.Generator().manual_seed(5))
    c, = Augment(AugmentConfig(enabled=True))(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0
    same = Augment(AugmentConfig(enabled=True))(x[:1].repeat(6, 1, 1, 1), torch.Generator().manual_seed(5))[0]
    assert len({round(float(v), 5) for v in same.mean(dim=(1, 2, 3))}) == 6  # six different draws


def test_colour_operations() -> None:
    x = _images() * 0.6  # dark enough that no operation clips at 1
    g = torch.Generator().manual_seed(0)
    b, = _aug(brightness=0.5)(x, g)
    ratio = (b / x).flatten(1)
    assert torch.allclose(ratio.min(1).values, ratio.max(1).values, atol=1e-4)  # one gain per image
    assert ratio[:, 0].min() >= 0.5 - 1e-4 and ratio[:, 0].max() <= 1.5 + 1e-4
    c, = _aug(contrast=0.5)(x, g)
    assert torch.allclose(grey(c).mean(dim=(1, 2, 3)), grey(x).mean(dim=(1, 2, 3)), atol=1e-4)  # about the mean grey
    s, = _aug(saturation=0.9)(x, g)
    assert torch.allclose(grey(s), grey(x), atol=1e-4)  # saturation keeps luma
    pastel = 0.4 + 0.25 * _images()  # chroma small enough that a rotation never leaves [0, 1]
    h, = _aug(hue_deg=90.0)(pastel, g)
    assert torch.allclose(grey(h), grey(pastel), atol=1e-4) and not torch.allclose(h, pastel, atol=1e-2)
    full = hue_matrices(torch.tensor([360.0, 0.0]))
    assert torch.allclose(full, torch.eye(3).expand(2, 3, 3), atol=1e-5)


def test_noise_and_blur() -> None:
    x = torch.full((4, 3, 32, 32), 0.5)
    n, = _aug(noise_std=0.2)(x, torch.Generator().manual_seed(0))
    sd = (n - x).flatten(1).std(1)
    assert float(sd.max()) < 0.2 and float(sd.max()) > 0.01
    img = torch.zeros(2, 3, 15, 15)
    img[:, :, 7, 7] = 1.0
    out = gaussian_blur(img, torch.tensor([1.0, 2.0]))
    assert torch.allclose(out.sum(dim=(2, 3)), torch.ones(2, 3), atol=1e-5)  # mass preserved
    assert float(out[1, 0, 7, 7]) < float(out[0, 0, 7, 7]) < 1.0  # wider sigma, lower peak
    yy, xx = torch.meshgrid(torch.arange(15.0) - 7, torch.arange(15.0) - 7, indexing="ij")
    var = float((out[0, 0] * (xx**2)).sum())
    assert abs(var - 1.0) < 0.05  # the kernel's variance is sigma^2


def test_flips_move_masks_and_depth_with_their_image() -> None:
    x = _images(8)
    mask = torch.arange(16).repeat(8, 12, 1)  # column index
    depth = torch.arange(16.0).repeat(8, 1, 12, 1)
    out, m, d = _aug(hflip=True)(x, torch.Generator().manual_seed(3), mask, depth)
    flipped = torch.tensor([bool(m[i, 0, 0] == 15) for i in range(8)])
    assert 0 < int(flipped.sum()) < 8
    for i in range(8):
        want = x[i].flip(-1) if flipped[i] else x[i]
        assert torch.equal(out[i], want)
        assert torch.equal(m[i], mask[i].flip(-1) if flipped[i] else mask[i])
        assert torch.equal(d[i], depth[i].flip(-1) if flipped[i] else depth[i])
    assert np.array_equal(np.unique(m.numpy()), np.arange(16))


def _mirrored(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per image: does ``out`` look more like the mirror image of ``x`` than like ``x``?"""
    def corr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = grey(a).flatten(1), grey(b).flatten(1)
        a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
        return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))

    return corr(out, x.flip(-1)) > corr(out, x)


def test_flips_only_where_the_labels_allow_by_default() -> None:
    """Classification (digits, text, left/right parts) is never flipped by default; segmentation is,
    masks with their images; ``--no-augment`` turns it all off."""
    from sim2real.train.config import load_config

    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 3, 12, 16)
    x[..., :6] = 0.9  # bright on the left: a flip is plain to see under any colour jitter
    x += torch.rand(64, 3, 12, 16, generator=g) * 0.05
    assert load_config(None, {"task": "classify"}).augment.enabled is False  # off by default (measured)
    classify = load_config(None, {"task": "classify", "augment": {"enabled": True}})
    assert classify.augment.hflip is False
    out, = Augment(classify.augment)(x, torch.Generator().manual_seed(1))
    assert not _mirrored(out, x).any() and not torch.allclose(out, x, atol=1e-3)  # jittered, never flipped

    segment = load_config(None, {"task": "segment"})
    assert segment.augment.hflip is True
    mask = (x[:, 0] > 0.5).long()
    out, m = Augment(segment.augment)(x, torch.Generator().manual_seed(1), mask)
    flipped = _mirrored(out, x)
    assert 16 < int(flipped.sum()) < 48  # about half
    assert torch.equal(m[flipped], mask[flipped].flip(-1)) and torch.equal(m[~flipped], mask[~flipped])
    assert load_config(None, {"task": "classify", "augment": {"hflip": True}}).augment.hflip is True  # still an option
    off = load_config(None, {"task": "segment", "augment": {"enabled": False}})
    assert Augment(off.augment)(x, torch.Generator().manual_seed(1))[0] is x
