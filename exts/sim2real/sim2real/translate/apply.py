"""Using a trained translator: images in, translated images out; image sets; the distance it removes.

* ``Translator(run)``: the sim->target generator of a ``sim2real translate train`` run folder (its
  ``translator.pt``). ``translator(images)`` takes uint8 RGB ``(N, H, W, 3)`` at any size whose sides
  are multiples of 4 (the generator is fully convolutional) and returns uint8 images of the same size;
  ``fitted=True`` first fits each image to the training resolution (centre crop + area resize, as
  training inputs are read), for images of other sizes.
* ``translated_image_set(images, translator)``: an ``ImageSet`` (``sim2real.dataset.imagesets``) whose items
  load translated, so every consumer of image sets (the gap report) reads translated images.
* ``set_distance(a, b)``: the image-set distance of ``sim2real gap images`` (its ``image_gap``:
  KID and MMD on seeded random-conv features, colour statistics), on in-memory images.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from ..train.runfolder import load_torch
from .models import Generator

TRANSLATOR, TRANSLATOR_KIND = "translator.pt", "sim2real-translator"
BATCH = 16


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div(127.5).sub(1.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float NCHW in [-1, 1] -> uint8 NHWC (rounded, clipped)."""
    return ((x.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


class Translator:
    """The sim->target generator of a translator run (see the module docstring)."""

    def __init__(self, run: str | Path) -> None:
        path = Path(run)
        path = path / TRANSLATOR if path.is_dir() else path
        if not path.is_file():
            raise InputError(f"{run}: expected a `sim2real translate train` run folder (with {TRANSLATOR})")
        ckpt = load_torch(path)
        if ckpt.get("kind") != TRANSLATOR_KIND:
            raise InputError(f"{path}: not a translator (expected the {TRANSLATOR} of `sim2real translate train`)")
        from ..fsutil import sha256_file

        self.path = path
        self.sha256 = sha256_file(path)  # the weights' identity (training runs record it)
        self.resolution: tuple[int, int] = tuple(ckpt["resolution"])  # type: ignore[assignment]
        self.net = Generator(ckpt["width"], ckpt["blocks"])
        self.net.load_state_dict(ckpt["model"])
        self.net.eval()

    def __call__(self, images: np.ndarray, fitted: bool = False) -> np.ndarray:
        if fitted:
            from ..train.sources import fit

            images = np.stack([fit(img, self.resolution) for img in images])
        h, w = images.shape[1:3]
        if h % Generator.STRIDE or w % Generator.STRIDE:
            raise InputError(f"translator {self.path}: images of {w}x{h} px; expected sides that are multiples of "
                             f"{Generator.STRIDE} (or fit them to {self.resolution[0]}x{self.resolution[1]})")
        out = []
        with torch.no_grad():
            for s in range(0, len(images), BATCH):
                out.append(to_uint8(self.net(to_tensor(images[s : s + BATCH]))))
        return np.concatenate(out) if out else images.copy()


def translated_image_set(images: Any, translator: Translator) -> Any:
    """``images`` (a ``dataset.imagesets.ImageSet``) with each item translated when loaded (at the
    translator's resolution)."""
    from ..dataset.imagesets import ImageSet

    def translated(load: Any) -> Any:
        return lambda: translator(load()[None], fitted=True)[0]

    items = [replace(i, load=translated(i.load)) for i in images.items]
    return ImageSet(f"{images.root} (translated by {translator.path})", items, images.kind)


def memory_image_set(images: np.ndarray, name: str) -> Any:
    """In-memory uint8 images as a ``dataset.imagesets.ImageSet``."""
    from ..dataset.imagesets import ImageItem, ImageSet

    return ImageSet(name, [ImageItem(f"{i:06d}", None, (lambda img=img: img)) for i, img in enumerate(images)],
                    kind="memory")


def set_distance(a: np.ndarray, b: np.ndarray, seed: int = 0, size: int = 64) -> dict[str, float]:
    """``sim2real gap images``' set metrics of two in-memory image sets: KID (mean), MMD² and the
    colour-mean difference (random-conv features seeded with ``seed``)."""
    from ..train.features import RandomConvFeatures
    from ..gap.image_gap import image_gap

    g = image_gap(memory_image_set(a, "a"), memory_image_set(b, "b"), RandomConvFeatures(seed=seed, size=size),
                  pair_mode="none", kid_subsets=20, permutations=0, seed=seed)
    return {"kid": g.kid["mean"], "mmd2": g.mmd["mmd2"], "colour_mean_abs_diff": g.stats["colour"]["mean_abs_diff"]}


def write_translated(translator: Translator, images: Any, out: Path, reporter: Any = None) -> tuple[int, int]:
    """Each image of ``images`` translated into ``out/<name>.png`` (atomic; existing files are kept, so
    an interrupted call resumes). Returns (translated, already there)."""
    import cv2

    from ..fsutil import atomic_write_bytes, locked_dir, remove_stale_tmp
    from ..progress import NullReporter

    rep = reporter or NullReporter()
    made = skipped = 0
    with locked_dir(out, purpose="translating images"), rep.task("translate", total=len(images), unit="img") as bar:
        remove_stale_tmp(out)
        for item in images.items:
            path = Path(out) / f"{item.name}.png"
            if path.is_file():
                skipped += 1
            else:
                img = translator(item.load()[None], fitted=True)[0]
                ok, png = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
                if not ok:
                    raise InputError(f"{item.path}: could not encode the translated image")
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(path, png.tobytes(), fsync=False)
                made += 1
            bar.advance()
    return made, skipped
