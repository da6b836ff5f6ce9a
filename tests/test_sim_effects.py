"""Image-space sensor effects (backends/effects.py): neutral is identity, each effect does what it says,
same generator state gives the same bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim2real.backends.effects import NEUTRAL, ImageEffects, effect_rng, hue_rotation


def _image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, :32] = (200, 60, 40)
    img[:, 32:] = (40, 90, 200)
    img[10:20, 10:20] = rng.integers(0, 255, (10, 10, 3))
    return img


def test_neutral_effects_change_nothing() -> None:
    img, depth = _image(), np.full((48, 64), 1.5, np.float32)
    fx = ImageEffects.from_values(NEUTRAL)
    assert fx.neutral
    rng = np.random.default_rng(0)
    assert np.array_equal(fx.apply_rgb(img, rng), img)
    assert np.array_equal(fx.apply_depth(depth, rng), depth)


def test_unknown_effect_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown image effects"):
        ImageEffects.from_values({"sharpen": 1.0})


def test_brightness_scales_and_saturates() -> None:
    img = _image()
    out = ImageEffects(brightness=0.5).apply_rgb(img, np.random.default_rng(0))
    assert np.abs(out.astype(int) - np.round(img * 0.5)).max() <= 1
    bright = ImageEffects(brightness=4.0).apply_rgb(img, np.random.default_rng(0))
    assert bright.max() == 255 and bright[0, 0, 0] == 255


def test_saturation_zero_gives_grey_and_contrast_zero_gives_mean() -> None:
    img = _image()
    grey = ImageEffects(saturation=0.0).apply_rgb(img, np.random.default_rng(0)).astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 1 and np.abs(grey[..., 1] - grey[..., 2]).max() <= 1
    flat = ImageEffects(contrast=0.0).apply_rgb(img, np.random.default_rng(0)).astype(int)
    assert np.ptp(flat) <= 1  # every pixel becomes the mean luma


def test_hue_rotation_keeps_grey_and_turns_colours() -> None:
    assert np.allclose(hue_rotation(0.0), np.eye(3), atol=1e-6)
    grey = np.array([0.5, 0.5, 0.5], np.float32)
    assert np.allclose(hue_rotation(73.0) @ grey, grey, atol=1e-3)
    red = np.array([1.0, 0.0, 0.0], np.float32)
    turned = hue_rotation(120.0) @ red
    assert turned[1] > turned[0] and turned[1] > turned[2]  # red turns towards green


def test_blur_smooths_edges_without_moving_them() -> None:
    img = _image()
    out = ImageEffects(blur=2.0).apply_rgb(img, np.random.default_rng(0)).astype(int)
    row = out[30, :, 0]
    assert 40 < row[31] < 200 and 40 < row[32] < 200  # the step became a ramp
    assert abs(int(row[0]) - 200) <= 2 and abs(int(row[-1]) - 40) <= 2  # far from the edge: unchanged


def test_noise_has_the_requested_spread_and_is_reproducible() -> None:
    img = np.full((200, 200, 3), 128, np.uint8)
    fx = ImageEffects(noise_std=0.02)
    a = fx.apply_rgb(img, effect_rng(7, 3, "main", 0))
    b = fx.apply_rgb(img, effect_rng(7, 3, "main", 0))
    c = fx.apply_rgb(img, effect_rng(7, 3, "main", 1))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(a.astype(float).std() / 255 - 0.02) < 0.002


def test_shot_noise_grows_with_signal() -> None:
    dark, light = np.full((100, 100, 3), 20, np.uint8), np.full((100, 100, 3), 230, np.uint8)
    fx = ImageEffects(shot_noise=100.0)
    sd = [fx.apply_rgb(x, np.random.default_rng(1)).astype(float).std() for x in (dark, light)]
    assert sd[1] > 2 * sd[0]  # Poisson: variance proportional to the signal


@pytest.mark.parametrize("level", [10, 128])  # dim pixels (exact Poisson counts) and bright ones (one normal draw)
def test_shot_and_read_noise_drawn_together_add_their_variances(level: int) -> None:
    photons, read = 400.0, 0.02
    x = level / 255
    img = np.full((300, 300, 3), level, np.uint8)
    both = ImageEffects(shot_noise=photons, noise_std=read).apply_rgb(img, np.random.default_rng(3)).astype(float) / 255
    expected = math.sqrt(x / photons + read ** 2)  # independent noises: variances add
    assert abs(both.std() - expected) < 0.05 * expected
    assert abs(both.mean() - x) < 0.002


def test_depth_noise_and_holes_only_touch_valid_pixels() -> None:
    depth = np.full((100, 100), 2.0, np.float32)
    depth[:, :10] = 0.0  # no measurement
    out = ImageEffects(depth_noise_std=0.01, depth_holes=0.1).apply_depth(depth, np.random.default_rng(0))
    assert (out[:, :10] == 0).all()
    valid = out[:, 10:]
    holes = valid == 0
    assert 0.07 < holes.mean() < 0.13
    assert abs(valid[~holes].std() - 0.01) < 0.002 and abs(valid[~holes].mean() - 2.0) < 0.002
