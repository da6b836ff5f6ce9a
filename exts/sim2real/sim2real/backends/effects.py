"""Image-space sensor effects applied to rendered frames (``image:<camera>/<attribute>`` targets).

Engine-neutral: the MuJoCo backend applies them after rendering, the Isaac writer reuses them on
Replicator's annotator outputs. Pure numpy + Pillow (for the Gaussian blur, which Pillow runs in C).

The order follows a camera's pipeline: optics (``blur``), exposure (``brightness``), the sensor's
photon shot noise (``shot_noise``) and read noise (``noise_std``, drawn together with it), then the ISP's colour adjustments
(``contrast``, ``saturation``, ``hue``), then 8-bit quantisation. Depth gets Gaussian noise on valid
pixels (``depth_noise_std``) and dropouts (``depth_holes``, set to 0 = no measurement). Labels
(segmentation, boxes) are never altered: they describe the scene, not the sensor.

All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

# neutral value of every effect: applying these changes nothing
NEUTRAL: dict[str, float] = {
    "noise_std": 0.0,
    "shot_noise": 0.0,
    "blur": 0.0,
    "brightness": 1.0,
    "contrast": 1.0,
    "saturation": 1.0,
    "hue": 0.0,
    "depth_noise_std": 0.0,
    "depth_holes": 0.0,
}

# ITU-R BT.601 luma weights (what "grayscale" means for contrast and saturation)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class ImageEffects:
    """Sensor effect parameters of one camera; the defaults change nothing."""

    noise_std: float = 0.0  # Gaussian read noise, fraction of full scale
    shot_noise: float = 0.0  # photons at full scale (Poisson); 0 = off
    blur: float = 0.0  # Gaussian blur sigma, pixels
    brightness: float = 1.0  # exposure multiplier
    contrast: float = 1.0  # multiplier about the mean luma
    saturation: float = 1.0  # multiplier about each pixel's luma
    hue: float = 0.0  # rotation of the hue, degrees
    depth_noise_std: float = 0.0  # metres
    depth_holes: float = 0.0  # fraction of valid depth pixels dropped

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ImageEffects:
        """From ``{attribute: value}`` (unknown attributes raise ``KeyError``)."""
        unknown = set(values) - set(NEUTRAL)
        if unknown:
            raise KeyError(f"unknown image effects {sorted(unknown)}; known: {sorted(NEUTRAL)}")
        return cls(**{k: float(v) for k, v in values.items()})

    def with_value(self, name: str, value: float) -> ImageEffects:
        return replace(self, **{name: float(value)})

    @property
    def neutral(self) -> bool:
        return all(getattr(self, f.name) == NEUTRAL[f.name] for f in fields(self))

    def apply_rgb(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return a new ``(H, W, 3)`` uint8 image with the effects applied (``rgb`` is not modified)."""
        if self.neutral or rgb.size == 0:
            return rgb.copy()
        if self.blur > 0:
            rgb = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(self.blur)))
        # in place wherever the result is the same number: each full-image temporary costs as much as the op
        x = np.multiply(rgb, np.float32(1 / 255), dtype=np.float32)
        if self.brightness != 1.0:
            x *= np.float32(self.brightness)
        if self.shot_noise > 0:  # with the read noise: one draw for both
            x = _sensor_noise(x, np.float32(self.shot_noise), np.float32(self.noise_std), rng)
        elif self.noise_std > 0:
            noise = rng.standard_normal(x.shape, dtype=np.float32)
            noise *= np.float32(self.noise_std)
            x += noise
        if self.contrast != 1.0:
            mean = float((x @ _LUMA).mean())
            x -= mean
            x *= np.float32(self.contrast)
            x += np.float32(mean)
        if self.saturation != 1.0:
            luma = (x @ _LUMA)[..., None]
            x -= luma
            x *= np.float32(self.saturation)
            x += luma
        if self.hue != 0.0:
            x = x @ hue_rotation(self.hue).T
        np.clip(x, 0.0, 1.0, out=x)
        x *= 255
        x += 0.5
        return x.astype(np.uint8)

    def apply_depth(self, depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return a new depth image (metres, 0 = no measurement) with noise and holes."""
        out = depth.astype(np.float32, copy=True)
        valid = out > 0
        if self.depth_noise_std > 0:
            noise = rng.standard_normal(out.shape, dtype=np.float32) * np.float32(self.depth_noise_std)
            out = np.where(valid, np.maximum(out + noise, np.float32(1e-6)), np.float32(0))
        if self.depth_holes > 0:
            drop = rng.random(out.shape, dtype=np.float32) < self.depth_holes
            out[drop] = 0.0
        return out


POISSON_EXACT_BELOW = 20.0  # photons: below, exact Poisson draws; above, the normal approximation


def _sensor_noise(x: np.ndarray, photons: np.float32, read_std: np.float32, rng: np.random.Generator) -> np.ndarray:
    """Photon noise and read noise: ``Poisson(x·photons) / photons + N(0, read_std²)``.

    Where the mean count is 20 or more the photon noise is drawn as a normal with the same mean and
    variance (its error is below 1% of the spread there), and then the two noises are one normal of
    the summed variance: one draw per pixel instead of two, and several times faster than Poisson
    draws on a whole image. Dimmer pixels get exact Poisson counts plus the read noise."""
    lam = np.clip(x, 0, None)
    lam *= photons
    normal = rng.standard_normal(lam.shape, dtype=np.float32)
    out = lam * np.float32(1 / (photons * photons))
    out += read_std * read_std
    np.sqrt(out, out=out)
    out *= normal
    out += lam / photons
    dim = lam < POISSON_EXACT_BELOW
    if dim.any():
        out[dim] = rng.poisson(lam[dim]).astype(np.float32) / photons + read_std * normal[dim]
    return out


def hue_rotation(degrees: float) -> np.ndarray:
    """3x3 matrix rotating linear RGB colours about the grey axis by ``degrees``, luma preserved.

    The standard hue-rotate colour matrix (as in the SVG/CSS ``hueRotate`` filter): exact for greys,
    a close, fast, linear stand-in for an HSV hue shift elsewhere.
    """
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    lr, lg, lb = 0.213, 0.715, 0.072
    return np.array(
        [
            [lr + c * (1 - lr) - s * lr, lg - c * lg - s * lg, lb - c * lb + s * (1 - lb)],
            [lr - c * lr + s * 0.143, lg + c * (1 - lg) + s * 0.140, lb - c * lb - s * 0.283],
            [lr - c * lr - s * (1 - lr), lg - c * lg + s * lg, lb + c * (1 - lb) + s * lb],
        ],
        dtype=np.float32,
    )


def effect_seed(seed: int, index: int, camera: str, frame: int) -> np.random.SeedSequence:
    """The seed of one frame's sensor noise: a pure function of (seed, sample index, camera, frame
    counter), so the same run renders the same bytes."""
    return np.random.SeedSequence([seed % (1 << 64), index % (1 << 64), zlib.crc32(camera.encode()), frame, 0x1A9E])


def effect_rng(seed: int, index: int, camera: str, frame: int) -> np.random.Generator:
    """The generator of one frame's sensor noise (``effect_seed``)."""
    return np.random.default_rng(effect_seed(seed, index, camera, frame))


@dataclass(frozen=True)
class PendingEffects:
    """One camera's sensor effects on one frame, not yet applied (``Frame.effects``).

    Why: the effects cost about as much CPU as a render pass, and they need nothing of the simulator.
    ``apply`` draws its noise from ``seed``, so it gives the same bytes in whichever thread or process
    runs it; the generation loop leaves it to its writer threads (``Frame.finished``)."""

    effects: ImageEffects
    seed: np.random.SeedSequence

    def apply(self, rgb: np.ndarray, depth: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.seed)
        rgb = self.effects.apply_rgb(rgb, rng)
        return rgb, (None if depth is None else self.effects.apply_depth(depth, rng))
