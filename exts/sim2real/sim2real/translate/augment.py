"""Translation as a training augmentation (``translate = {run = ..., share = ...}`` in ``sim2real train``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..progress import NullReporter, Reporter
from ..train.sources import ImageData
from ..errors import InputError
from .apply import BATCH, Translator


def translate_source(data: ImageData, run: str | Path, share: float, seed: int,
                     reporter: Reporter | None = None) -> ImageData:
    """``data`` with a ``share`` of its images (drawn with ``seed``) replaced by their sim->target
    translation at the training resolution; labels, depth and names unchanged. The fingerprint records
    the translator, so a run resumed with another translator is refused."""
    rep = reporter or NullReporter()
    if data.streamed:
        raise InputError(f"{data.origin}: translate replaces source images in memory, but this dataset is streamed "
                         "from disk (larger than memory); expected a smaller source or no [train.translate]")
    translator = Translator(run)
    n = len(data)
    pick = np.sort(np.random.default_rng([seed, 0x7A]).permutation(n)[: round(share * n)])
    images = data.images.copy()
    with rep.task("translate source", total=len(pick), unit="img") as bar:
        for s in range(0, len(pick), BATCH):
            idx = pick[s : s + BATCH]
            images[idx] = translator(data.images[idx])
            bar.advance(len(idx))
    fingerprint = {**data.fingerprint, "translated_by": translator.sha256, "translated_share": share}
    return replace(data, images=images, fingerprint=fingerprint)


def source_translation(config: Any) -> Callable[[ImageData, Reporter], ImageData] | None:
    """What a ``TrainConfig``'s ``translate`` table asks training to do to its source images (None without
    one): ``TrainRequest(translate_source=...)``."""
    option = config.translate
    if option is None:
        return None
    return partial(_translated, run=option.run, share=option.share, seed=config.seed)


def _translated(data: ImageData, reporter: Reporter, *, run: str, share: float, seed: int) -> ImageData:
    return translate_source(data, run, share, seed, reporter)

