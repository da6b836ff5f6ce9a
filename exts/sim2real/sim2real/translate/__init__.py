"""Generative sim->real image translation: a small CycleGAN (ResNet generators, PatchGAN
discriminators, LSGAN, cycle and identity losses, image pool) between a sim2real dataset and unlabelled
target images. Used as an augmentation in training (``translate`` in ``sim2real train``'s config) and
as a gap-reduction measure (``sim2real gap images --translator RUN``).

Public names load lazily (``import sim2real.translate`` does not import torch). Documentation:
``exts/sim2real/docs/translate.md``.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "TranslateConfig": "config",
    "TranslateRequest": "run",
    "train": "run",
    "Translator": "apply",
    "translated_image_set": "apply",
    "set_distance": "apply",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
