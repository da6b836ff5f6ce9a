"""What the exports to other tools' formats share (YOLO, Hugging Face parquet, WebDataset; COCO has its own).

Each export is a pure function of the dataset: the same dataset gives the same bytes. An export reads
the committed frames (``Dataset.indices``) in order, takes one lock on its output directory (a second
exporter into it is refused) and writes every file atomically, so an interrupted export leaves no
half-written file and the next run rewrites the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .png import encode_png
from .reader import Dataset

Progress = Callable[[int], None] | None
RGB_PNG = "png/rgb8"  # the native layout's RGB file: exported as stored, byte for byte


@dataclass
class ExportFrame:
    """One frame as the exports need it: its record, its RGB as PNG bytes, and (lazily) its ids."""

    ds: Dataset
    index: int
    record: dict[str, Any]

    @property
    def width(self) -> int:
        return int(self.record["width"])

    @property
    def height(self) -> int:
        return int(self.record["height"])

    def rgb_png(self) -> bytes:
        """The RGB image as PNG: the stored file when it is an RGB PNG, else re-encoded (BasicWriter's RGBA)."""
        meta = self.record["files"]["rgb"]
        if meta.get("encoding") == RGB_PNG:
            return self.ds.checked_file(self.index, "rgb", self.record).read_bytes()
        rgb = self.ds.channel(self.index, "rgb", self.record)
        assert rgb is not None
        return encode_png(rgb)

    def ids_png(self, channel: str) -> bytes | None:
        """The semantic or instance ids as a 16-bit greyscale PNG (None when the dataset has none)."""
        ids = self.ds.channel(self.index, channel, self.record)
        if ids is None:
            return None
        if ids.size and (ids.min() < 0 or ids.max() > 0xFFFF):
            raise InputError(f"{self.ds.directory}: frame {self.index} {channel} ids outside 0..65535; expected "
                             "16-bit ids")
        return encode_png(ids.astype(np.uint16))

    def boxes(self) -> list[dict[str, Any]]:
        """The visible instances that have a box (half-open ``x0, y0, x1, y1`` pixels)."""
        return [inst for inst in self.record["instances"] if inst["box"] is not None]


def frames(ds: Dataset, progress: Progress = None) -> Iterator[ExportFrame]:
    for n, index in enumerate(ds.indices.tolist(), start=1):
        yield ExportFrame(ds, int(index), ds.record(int(index)))
        if progress is not None:
            progress(n)


def open_dataset(directory: str | PathLike[str]) -> Dataset:
    ds = Dataset(directory)
    if not len(ds):
        raise InputError(f"{directory}: the dataset holds no finished frames to export; generate some first")
    return ds


def object_classes(ds: Dataset) -> dict[int, str]:
    """The dataset's object classes (semantic id -> name), background left out, by id."""
    return {k: v for k, v in sorted(ds.labels.items()) if k != 0}


def out_dir(directory: str | PathLike[str], out: str | PathLike[str] | None, default: str) -> Path:
    """The export's directory: ``out`` or ``DIR/<default>``; never the dataset directory itself."""
    path = Path(out) if out is not None else Path(directory) / default
    if path.resolve() == Path(directory).resolve():
        raise InputError(f"--out {path}: is the dataset directory; expected a directory of its own for the export")
    return path
