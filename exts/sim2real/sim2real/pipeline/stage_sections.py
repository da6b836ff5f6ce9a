"""Report sections a stage makes while it has its results, saved beside its record.

A stage writes ``RUN/<stage>/section.json`` (``Section.to_state``); the report stage assembles the
saved sections in stage order, so a skipped stage's part of the report is the one it made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IntegrityError
from ..fsutil import atomic_write_json
from ..report import Section
from .stage import SECTION_FILE


def save_section(folder: Path, section: Section) -> str:
    """Write the section; returns its file name (recorded in the stage's outputs)."""
    atomic_write_json(folder / SECTION_FILE, section.to_state(), indent=None)
    return SECTION_FILE


def load_section(folder: Path) -> Section:
    path = folder / SECTION_FILE
    try:
        return Section.from_state(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{path}: unreadable report section ({exc}); run the pipeline again") from None


def image_grid(section: Section, images: Sequence[np.ndarray], captions: Sequence[str], title: str,
               columns: int = 4) -> Section:
    """Thumbnails at most 256 pixels wide, drawn pixel-exact (small synthetic frames stay crisp)."""
    if images:
        section.image_grid(list(images), list(captions), title=title, columns=columns)
    return section


def fmt(value: Any, digits: int = 3) -> str:
    """A number for tables and the summary (``—`` for a missing one)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.{digits}g}"
    return str(value)


METRIC_NAMES = {"miou": "mIoU", "accuracy": "accuracy", "rmse": "RMSE", "ap": "AP", "ap50": "AP50"}


def metric_name(key: str) -> str:
    """A score's key as people write it (``miou`` -> ``mIoU``)."""
    return METRIC_NAMES.get(key, key)
