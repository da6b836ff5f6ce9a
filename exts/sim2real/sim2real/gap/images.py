"""Image-level gap metrics: SSIM, normalised cross-correlation, colour and frequency statistics.

Images come as ``sim2real.dataset.imagesets.ImageSet`` (a folder, a sim2real dataset or a bag topic),
``(H, W, 3)`` uint8 RGB, loaded lazily one at a time.

Per pair (a sim and a real image of the same scene):

* SSIM (Wang et al. 2004): Gaussian window sigma 1.5 (11 taps), K1 = 0.01, K2 = 0.03, data range
  255, computed per RGB channel and averaged, image borders of half a window excluded;
* NCC: zero-mean normalised cross-correlation of the grey images, in [-1, 1] (the seeds' OpenCV
  ``TM_CCOEFF_NORMED`` on equal-sized images); the seeds' "image similarity" is (NCC + 1) / 2 with a
  threshold of 0.7.

Per set: colour statistics (per-channel mean, standard deviation, 32-bin histograms and their
Wasserstein-1 distance in grey levels) and frequency statistics (the radially averaged power
spectrum of grey images, its log-log slope, the share of power above a quarter of the sampling
frequency, and the mean distance between the two log10 spectra).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset.imagesets import ImageItem, ImageSet
from ..errors import InputError

log = logging.getLogger(__name__)

LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as OpenCV's RGB2GRAY
SEEDS_SIMILARITY_THRESHOLD = 0.7
HIST_BINS = 32
SPECTRUM_SIZE = 128


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of a uint8 RGB image."""
    from PIL import Image

    if image.shape[1] == width and image.shape[0] == height:
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR), dtype=np.uint8)


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre crop to a square, then resize to ``size`` x ``size`` (aspect ratio kept)."""
    h, w = image.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    return resize(np.ascontiguousarray(image[y0 : y0 + s, x0 : x0 + s]), size, size)


def grey(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float64)[..., :3] @ LUMA


# ------------------------------------------------------------------ pairs


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0, sigma: float = 1.5) -> float:
    """Mean structural similarity of two equal-sized images (grey ``(H, W)`` or colour ``(H, W, C)``)."""
    from scipy.ndimage import gaussian_filter

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"SSIM: expected images of the same shape (got {a.shape} and {b.shape})")
    if a.ndim == 3:
        return float(np.mean([ssim(a[..., c], b[..., c], data_range, sigma) for c in range(a.shape[2])]))
    truncate = 3.5
    pad = int(truncate * sigma + 0.5)
    if min(a.shape) < 2 * pad + 1:
        raise InputError(f"SSIM: expected images at least {2 * pad + 1} pixels on each side (got {a.shape})")

    def blur(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, sigma, mode="reflect", truncate=truncate)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s[pad:-pad, pad:-pad].mean())


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Zero-mean normalised cross-correlation of the grey images, in [-1, 1] (0 if one is flat)."""
    ga, gb = grey(a), grey(b)
    if ga.shape != gb.shape:
        raise InputError(f"NCC: expected images of the same size (got {ga.shape} and {gb.shape})")
    ga, gb = ga - ga.mean(), gb - gb.mean()
    den = np.sqrt((ga**2).sum() * (gb**2).sum())
    return float((ga * gb).sum() / den) if den > 0 else 0.0


PAIR_MODES = ("auto", "name", "order", "none")


def resolve_pair_mode(sim: ImageSet, real: ImageSet, mode: str = "auto") -> tuple[str, str]:
    """(mode, why) for ``auto``: pair by name only when both sides are paired captures, image folders
    sharing names that identify a capture. Datasets and bags name frames by position (``000000``...)
    and so do many cameras' folders: equal counters of two unrelated sets are no pairing."""
    if mode not in PAIR_MODES:
        raise InputError(f"--pair: expected one of {', '.join(PAIR_MODES)} (got {mode!r})")
    if mode != "auto":
        return mode, f"--pair {mode}"
    if sim.kind != "folder" or real.kind != "folder":
        return "none", (f"auto: frames of a {sim.kind if sim.kind != 'folder' else real.kind} are numbered by "
                        "position, not paired captures (--pair name to pair them anyway)")
    shared = {i.name for i in sim.items} & {i.name for i in real.items}
    if not shared or _counters(shared):
        return "none", ("auto: the folders share no capture names" if not shared else
                        "auto: the shared names are frame counters, not paired captures") + " (--pair name to pair anyway)"
    return "name", f"auto: {len(shared)} capture names found on both sides"


def _counters(names: set[str]) -> bool:
    """True when file names differ only in their digits (``000012``, ``frame_0012``, ``mug/012``): a
    camera's or a writer's counter, which says nothing about which scene a frame shows."""
    return len({re.sub(r"\d+", "#", Path(n).name) for n in names}) == 1


def pair_items(sim: ImageSet, real: ImageSet, mode: str = "name") -> list[tuple[ImageItem, ImageItem]]:
    """Pairs of sim and real images of the same scene: by equal name, by sorted order, or none
    (``auto``: see ``resolve_pair_mode``)."""
    mode = resolve_pair_mode(sim, real, mode)[0]
    if mode == "none":
        return []
    if mode == "order":
        return list(zip(sim.items, real.items, strict=False))
    by_name = {i.name: i for i in real.items}
    return [(s, by_name[s.name]) for s in sim.items if s.name in by_name]


def pair_metrics(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """SSIM and NCC of a sim image and a real one (the real one resized to the sim's size if needed)."""
    b = resize(b, a.shape[1], a.shape[0])
    c = ncc(a, b)
    return {"ssim": ssim(a, b), "ncc": c, "similarity": (c + 1) / 2}


# ------------------------------------------------------------------ set statistics


@dataclass
class SetStats:
    """Colour and frequency statistics accumulated over a set, one image at a time."""

    n: int = 0
    pixels: int = 0
    sum: np.ndarray = field(default_factory=lambda: np.zeros(3))
    sumsq: np.ndarray = field(default_factory=lambda: np.zeros(3))
    hist: np.ndarray = field(default_factory=lambda: np.zeros((3, HIST_BINS)))
    spectrum: np.ndarray = field(default_factory=lambda: np.zeros(SPECTRUM_SIZE // 2))

    def add(self, image: np.ndarray) -> None:
        """Accumulate one uint8 RGB image."""
        raw = np.asarray(image, dtype=np.uint8).reshape(-1, 3)
        px = raw.astype(np.float64)
        self.n += 1
        self.pixels += len(px)
        self.sum += px.sum(0)
        self.sumsq += (px**2).sum(0)
        for c in range(3):  # 32 equal bins of 8 grey levels: the bin is the value's top 5 bits
            self.hist[c] += np.bincount(raw[:, c] >> 3, minlength=HIST_BINS)
        self.spectrum += radial_power(grey(square(image, SPECTRUM_SIZE)))

    @property
    def mean(self) -> np.ndarray:
        return self.sum / self.pixels

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.sumsq / self.pixels - self.mean**2, 0))

    @property
    def mean_spectrum(self) -> np.ndarray:
        return self.spectrum / max(self.n, 1)


def radial_power(g: np.ndarray) -> np.ndarray:
    """Radially averaged power spectrum of a square grey image (Hann-windowed), radii 0..N/2-1."""
    n = g.shape[0]
    win = np.outer(np.hanning(n), np.hanning(n))
    f = np.fft.fftshift(np.fft.fft2((g - g.mean()) * win))
    power = np.abs(f) ** 2 / (n * n)
    y, x = np.indices(g.shape) - n // 2
    r = np.round(np.hypot(x, y)).astype(int).ravel()
    keep = r < n // 2
    sums = np.bincount(r[keep], power.ravel()[keep], minlength=n // 2)
    counts = np.bincount(r[keep], minlength=n // 2)
    return sums / np.maximum(counts, 1)


def spectral_slope(spectrum: np.ndarray) -> float:
    """Slope of log10 power against log10 frequency (natural images: about -2)."""
    f = np.arange(len(spectrum))
    keep = (f >= 2) & (spectrum > 0)
    if keep.sum() < 3:
        return float("nan")
    return float(np.polyfit(np.log10(f[keep]), np.log10(spectrum[keep]), 1)[0])


def high_frequency_share(spectrum: np.ndarray) -> float:
    """Share of the (radially summed) power above a quarter of the sampling frequency."""
    n = len(spectrum)
    ring = spectrum * (2 * np.pi * np.maximum(np.arange(n), 0.5))  # power per ring ~ mean x circumference
    total = ring[1:].sum()
    return float(ring[n // 2 :].sum() / total) if total > 0 else float("nan")


def wasserstein_hist(h1: np.ndarray, h2: np.ndarray, bin_width: float) -> float:
    """Earth mover's distance between two 1-D histograms on the same bins, in bin units x width."""
    p = h1 / max(h1.sum(), 1)
    q = h2 / max(h2.sum(), 1)
    return float(np.abs(np.cumsum(p - q)).sum() * bin_width)


def compare_stats(sim: SetStats, real: SetStats) -> dict[str, Any]:
    """Colour and frequency differences between two sets (sim minus real where signed)."""
    width = 256 / HIST_BINS
    s_spec, r_spec = sim.mean_spectrum, real.mean_spectrum
    good = (s_spec[1:] > 0) & (r_spec[1:] > 0)
    log_dist = float(np.mean(np.abs(np.log10(s_spec[1:][good]) - np.log10(r_spec[1:][good])))) if good.any() else float("nan")
    return {
        "colour": {
            "mean_sim": sim.mean.tolist(), "mean_real": real.mean.tolist(),
            "std_sim": sim.std.tolist(), "std_real": real.std.tolist(),
            "mean_abs_diff": float(np.abs(sim.mean - real.mean).mean()),
            "histogram_emd": [wasserstein_hist(sim.hist[c], real.hist[c], width) for c in range(3)],
        },
        "frequency": {
            "slope_sim": spectral_slope(s_spec), "slope_real": spectral_slope(r_spec),
            "high_freq_share_sim": high_frequency_share(s_spec), "high_freq_share_real": high_frequency_share(r_spec),
            "log_spectrum_distance": log_dist,
        },
    }
