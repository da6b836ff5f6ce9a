"""YOLO export (the Ultralytics / YOLOv5 txt layout): what most detection trainers read.

    OUT/data.yaml                    train/val image folders, nc, names (class index -> name)
    OUT/images/{train,val}/000012.png
    OUT/labels/{train,val}/000012.txt  one line per visible object: ``class cx cy w h``

Coordinates are the object's box centre and size divided by the image width and height (0..1, six
decimals), from our half-open pixel box (``w = (x1 - x0) / width``). Class indices are 0..nc-1 over
the dataset's object classes in semantic-id order (background is not a class). A frame with no
visible object gets an empty label file (a background image, as YOLO expects). ``data.yaml`` names
no ``path``: Ultralytics then resolves the folders against the file's own directory, so OUT can be
moved. The split is a seeded permutation of the frames (``val_fraction``, ``seed``); with no
validation frames ``val`` names the training folder (Ultralytics needs a ``val`` key).
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

import numpy as np

from ..fsutil import atomic_write_bytes, atomic_write_text, locked_dir
from .exports import ExportFrame, Progress, frames, object_classes, open_dataset, out_dir

PARTS = ("train", "val")


def label_lines(frame: ExportFrame, class_index: dict[int, int]) -> str:
    """The YOLO label file of one frame."""
    lines = []
    for inst in frame.boxes():
        x0, y0, x1, y1 = inst["box"]
        cx, cy = (x0 + x1) / 2 / frame.width, (y0 + y1) / 2 / frame.height
        w, h = (x1 - x0) / frame.width, (y1 - y0) / frame.height
        lines.append(f"{class_index[int(inst['class_id'])]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines)


def split_of(indices: np.ndarray, val_fraction: float, seed: int) -> dict[int, str]:
    """Frame index -> "train" or "val": a seeded permutation, ``round(n * val_fraction)`` frames to val."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction {val_fraction}: expected 0 <= val_fraction < 1")
    n_val = round(len(indices) * val_fraction)
    val = set(np.random.default_rng([seed, 0x7010]).permutation(indices)[:n_val].tolist())
    return {int(i): "val" if int(i) in val else "train" for i in indices.tolist()}


def data_yaml(names: list[str], has_val: bool) -> str:
    """``data.yaml`` without a YAML library: JSON strings are YAML double-quoted scalars."""
    body = [
        "# sim2real YOLO export; folders are relative to this file's directory",
        "train: images/train",
        f"val: images/{'val' if has_val else 'train'}",
        f"nc: {len(names)}",
        "names:",
        *(f"  {k}: {json.dumps(name)}" for k, name in enumerate(names)),
    ]
    return "\n".join(body) + "\n"


def export_yolo(directory: str | PathLike[str], out: str | PathLike[str] | None = None, *,
                val_fraction: float = 0.0, seed: int = 0, progress: Progress = None) -> Path:
    """Write the YOLO export of the dataset in ``directory`` (default ``DIR/yolo``); returns ``data.yaml``."""
    ds = open_dataset(directory)
    root = out_dir(directory, out, "yolo")
    classes = object_classes(ds)
    class_index = {cid: k for k, cid in enumerate(classes)}
    split = split_of(ds.indices, val_fraction, seed)
    written: set[Path] = set()
    with locked_dir(root, "exporting YOLO into"):
        for part in PARTS:
            for kind in ("images", "labels"):
                (root / kind / part).mkdir(parents=True, exist_ok=True)
        for frame in frames(ds, progress):
            part, stem = split[frame.index], f"{frame.index:06d}"
            image, label = root / "images" / part / f"{stem}.png", root / "labels" / part / f"{stem}.txt"
            atomic_write_bytes(image, frame.rgb_png(), fsync=False, sync_dir=False)
            atomic_write_bytes(label, label_lines(frame, class_index).encode(), fsync=False, sync_dir=False)
            written.update((image, label))
        _prune(root, written)
        return atomic_write_text(root / "data.yaml", data_yaml(list(classes.values()), "val" in split.values()))


def _prune(root: Path, written: set[Path]) -> None:
    """Remove the images and labels an earlier export wrote that this one did not (another split)."""
    for part in PARTS:
        for kind, ext in (("images", ".png"), ("labels", ".txt")):
            for path in (root / kind / part).glob(f"*{ext}"):
                if path not in written:
                    path.unlink()
