"""Image sets: the one place that turns a path into images (the gap report, training and translation use it).

``open_image_set`` reads a folder of png/jpg files (sub-folders become class labels), a sim2real dataset
(its RGB frames), or an image topic of a ROS bag (``sensor_msgs/Image`` or ``CompressedImage``, read with
``rosbags``: rosbag2 sqlite3/MCAP or ROS 1). Images are ``(H, W, 3)`` uint8 RGB, loaded lazily one at a
time (a bag is read once; its messages stay as recorded, compressed or raw, until loaded).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from ..errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


@dataclass
class ImageItem:
    """One image of a set: ``name`` pairs it with its counterpart, ``label`` is its class (or None)."""

    name: str
    label: str | None
    load: Callable[[], np.ndarray]
    path: str = ""


@dataclass
class ImageSet:
    root: str
    items: list[ImageItem]
    kind: str = "folder"

    @property
    def labels(self) -> list[str]:
        return sorted({i.label for i in self.items if i.label is not None})

    def __len__(self) -> int:
        return len(self.items)


def open_image_set(path: str | PathLike[str], max_images: int | None = None, topic: str | None = None) -> ImageSet:
    """The images under ``path``: a folder of png/jpg (class sub-folders give labels), a sim2real
    dataset folder, or a ROS bag (``topic`` names its image topic; optional if it has only one)."""
    from ..trajectory.readers import is_bag

    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: no such file or folder")
    if is_bag(root):
        return _bag_image_set(root, topic, max_images)
    if topic is not None:
        raise InputError(f"{root}: a topic applies to ROS bags only (.mcap, .db3, .bag or a rosbag2 folder)")
    if (root / "manifest.json").exists():
        return _dataset_image_set(root, max_images)
    if not root.is_dir():
        raise InputError(f"{root}: expected a folder of .png/.jpg images, a sim2real dataset or a ROS bag")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InputError(f"{root}: expected .png or .jpg images in this folder (found none)")
    if max_images is not None:
        files = files[:max_images]
    items = []
    for p in files:
        rel = p.relative_to(root)
        label = rel.parts[0] if len(rel.parts) > 1 else None
        items.append(ImageItem(rel.with_suffix("").as_posix(), label, _loader(p), str(p)))
    return ImageSet(str(root), items)


def _dataset_image_set(root: Path, max_images: int | None) -> ImageSet:
    """The RGB frames of a sim2real dataset, named by frame index (``000012``), unlabelled."""
    from .reader import Dataset

    ds = Dataset(root)
    if not len(ds):
        raise InputError(f"{root}: the dataset holds no finished frames yet")
    indices = [int(i) for i in ds.indices[:max_images]]

    def loader(index: int) -> Callable[[], np.ndarray]:
        return lambda: ds.channel(index, "rgb")  # type: ignore[return-value]

    items = [ImageItem(f"{i:06d}", None, loader(i), f"{root}#{i}") for i in indices]
    return ImageSet(str(root), items, kind="dataset")


def _bag_image_set(root: Path, topic: str | None, max_images: int | None) -> ImageSet:
    """The images of one topic of a bag, in recording order, named by their position (``000012``)."""
    from ..trajectory import rosmsg
    from ..trajectory.readers import iter_bag, pick_topic

    topic = pick_topic(root, topic, rosmsg.IMAGE_TYPES, ask="a topic")
    items: list[ImageItem] = []
    with contextlib.closing(iter_bag(root, [topic])) as messages:
        for _, msgtype, t_ns, msg in messages:
            if max_images is not None and len(items) >= max_images:
                break
            where = f"{root}:{topic} message {len(items)} (t = {t_ns} ns)"
            items.append(ImageItem(f"{len(items):06d}", None, _message_loader(msgtype, msg, where), where))
    if not items:
        raise InputError(f"{root}: topic {topic} has no messages")
    return ImageSet(str(root), items, kind="bag")


def _message_loader(msgtype: str, msg: object, where: str) -> Callable[[], np.ndarray]:
    from ..trajectory import rosmsg

    def load() -> np.ndarray:
        try:
            return rosmsg.image_of(msgtype, msg)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None

    return load


def _loader(path: Path) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from ..imagefile import load_image

        return load_image(path, mode="RGB")

    return load


def iter_loaded(items: Sequence[ImageItem]) -> Iterator[tuple[ImageItem, np.ndarray]]:
    for item in items:
        img = item.load()
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise InputError(f"{item.path or item.name}: expected an RGB uint8 image (got {img.dtype} {img.shape})")
        yield item, img
