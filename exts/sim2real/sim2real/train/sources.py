"""Reading training inputs into arrays at the model's input size (numpy; no torch).

Every image input is decoded once, fitted to the input size (centre crop to its aspect ratio, then
area resize; masks and depth nearest) and kept in memory as uint8 (a 10,000-frame dataset at
128x96 is 370 MB). Sources:

* source (labelled, synthetic): a sim2real dataset (``segment``: RGB + semantic masks [+ depth];
  ``classify``: one crop per visible object instance, labelled with its class) or, for ``classify``,
  a folder of class sub-folders;
* target (unlabelled): anything ``sim2real.dataset.imagesets.open_image_set`` reads: an image folder, a
  sim2real dataset (its RGB only; ``classify``: crops at its boxes, which stand for the detector's
  regions at deployment) or an image topic of a ROS bag;
* evaluation (labelled target, metrics only): a sim2real dataset, a folder ``images/`` + ``masks/``
  + ``labels.json`` (segment) or a folder of class sub-folders (classify).

RGB-D (``depth = true``): depth in metres from sim2real datasets, or from a folder's ``depth/``
sub-folder of 16-bit PNGs in millimetres named like the images (0 = no measurement).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil import content_hash
from ..progress import NullReporter, Reporter

log = logging.getLogger(__name__)

IMAGES_DIR, MASKS_DIR, DEPTH_DIR, LABELS_FILE = "images", "masks", "depth", "labels.json"
BACKGROUND = "background"
CROP_MARGIN = 1.2  # classify: crop side = 1.2 x the longer side of the object's box
THREADS = 2
STREAM_ENV = "SIM2REAL_TRAIN_STREAM_MB"  # decoded arrays above this many MiB are streamed (0: always)


@dataclass
class ImageData:
    """Images at the model's input size with optional depth and labels."""

    images: np.ndarray  # (N, H, W, 3) uint8 RGB
    names: list[str]
    depth: np.ndarray | None = None  # (N, H, W) float32 metres, 0 = no measurement
    labels: np.ndarray | None = None  # segment: (N, H, W) uint8 class index; classify: (N,) int64
    origin: str = ""  # where it came from (for messages)
    fingerprint: dict[str, Any] = field(default_factory=dict)  # identity of the input (run.json)
    # detect: per image (M, 5) float32 rows x0, y0, x1, y1 (half-open, pixels of the model input), class index
    boxes: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: np.ndarray) -> ImageData:
        return ImageData(
            _take(self.images, index), [self.names[i] for i in index],
            None if self.depth is None else _take(self.depth, index),
            None if self.labels is None else _take(self.labels, index), self.origin, self.fingerprint,
            None if self.boxes is None else [self.boxes[i] for i in index],
        )

    @property
    def streamed(self) -> bool:
        """Frames decoded when a batch needs them (``streaming.StreamedArray``), not held in memory."""
        return not isinstance(self.images, np.ndarray)


def _take(array: Any, index: np.ndarray) -> Any:
    """``array[index]``; a streamed array gives a view of those frames instead (nothing decoded)."""
    return array[index] if isinstance(array, np.ndarray) else array.subset(index)


# ---------------------------------------------------------------- resizing


def fit(image: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """Centre-crop ``image`` to the aspect ratio of ``size`` (width, height), then resize to it."""
    import cv2

    w, h = size
    ih, iw = image.shape[:2]
    if iw * h > ih * w:  # too wide: crop columns
        cw = max(1, round(ih * w / h))
        x0 = (iw - cw) // 2
        image = image[:, x0 : x0 + cw]
    elif iw * h < ih * w:
        ch = max(1, round(iw * h / w))
        y0 = (ih - ch) // 2
        image = image[y0 : y0 + ch]
    ih, iw = image.shape[:2]
    if iw == w and ih == h:
        return np.ascontiguousarray(image)
    if nearest:  # label ids and depth: pick the source pixel whose centre is nearest (any dtype)
        rows = np.minimum(((np.arange(h) + 0.5) * ih / h).astype(np.int64), ih - 1)
        cols = np.minimum(((np.arange(w) + 0.5) * iw / w).astype(np.int64), iw - 1)
        return np.ascontiguousarray(image[rows][:, cols])
    interp = cv2.INTER_AREA if iw >= w and ih >= h else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=interp)


def _parallel(fn: Callable[[Any], Any], items: Sequence[Any], reporter: Reporter, what: str) -> list[Any]:
    """``fn`` over ``items`` on a few threads (image decoding releases the GIL), in order."""
    out: list[Any] = []
    with reporter.task(f"load {what}", total=len(items), unit="img") as task, ThreadPoolExecutor(THREADS) as pool:
        for result in pool.map(fn, items):
            out.append(result)
            task.advance()
    return out


# ---------------------------------------------------------------- class names


@dataclass(frozen=True)
class Classes:
    """The training classes (by output index) and how input class names map onto them.

    ``rename`` maps a class name or an ``fnmatch`` pattern to a training class (first match wins),
    e.g. ``{"*": "object"}`` merges every object class into one; unmatched names stay as they are.
    """

    names: tuple[str, ...]
    rename: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_inputs(cls, raw: Sequence[str], rename: dict[str, str] | None = None) -> Classes:
        pairs = tuple((rename or {}).items())
        out: list[str] = []
        for name in raw:
            mapped = _rename(name, pairs)
            if mapped not in out:
                out.append(mapped)
        if BACKGROUND in out:  # background stays class 0
            out.remove(BACKGROUND)
            out.insert(0, BACKGROUND)
        return cls(tuple(out), pairs)

    def map(self, raw: str) -> str:
        return _rename(raw, self.rename)

    def index(self, raw: str) -> int:
        return self.names.index(self.map(raw))

    def unknown(self, raw: Sequence[str]) -> list[str]:
        return sorted({r for r in raw if self.map(r) not in self.names})

    def check(self, raw: Sequence[str], origin: str) -> None:
        """Unknown class names (a class-count mismatch) are a one-line error."""
        unknown = self.unknown(raw)
        if unknown:
            raise InputError(
                f"{origin}: classes {', '.join(unknown)} are not among the training classes "
                f"({', '.join(self.names)}); expected the source dataset's class names")


def _rename(name: str, pairs: tuple[tuple[str, str], ...]) -> str:
    if name == BACKGROUND:
        return name
    for pattern, new in pairs:
        if fnmatch.fnmatchcase(name, pattern):
            return new
    return name


def class_lut(labels: dict[int, str], classes: Classes, origin: str) -> np.ndarray:
    """Semantic id -> class index (a lookup table over ids)."""
    classes.check(list(labels.values()), origin)
    lut = np.zeros(max(labels) + 1 if labels else 1, dtype=np.uint8)
    for cid, name in labels.items():
        lut[cid] = classes.index(name)
    return lut


def _lookup(lut: np.ndarray, ids: np.ndarray, origin: str) -> np.ndarray:
    if ids.size and (ids.min() < 0 or ids.max() >= len(lut)):
        raise InputError(f"{origin}: mask holds class id {int(ids.max())}, which its labels do not name")
    return lut[ids]


# ---------------------------------------------------------------- sim2real datasets


def _open_dataset(path: Path) -> Any:
    from ..dataset.reader import Dataset

    ds = Dataset(path)
    if not len(ds):
        raise InputError(f"{path}: the dataset holds no finished frames; generate some first")
    return ds


def dataset_fingerprint(ds: Any) -> dict[str, Any]:
    return {"kind": "dataset", "id": ds.manifest.dataset_id, "frames": len(ds),
            "profile": ds.spec.profile.get("name"), "profile_hash": ds.spec.profile.get("hash")}


def dataset_class_names(path: Path) -> list[str]:
    """Segmentation classes of a dataset: background first, then by semantic id."""
    ds = _open_dataset(path)
    labels = ds.labels
    names = [labels[k] for k in sorted(labels)]
    if BACKGROUND not in names:
        names.insert(0, BACKGROUND)
    return names


def read_segment_dataset(path: Path, size: tuple[int, int], depth: bool, classes: Classes | None,
                         limit: int | None = None, reporter: Reporter | None = None,
                         stream: bool | None = None) -> ImageData:
    """RGB (+ depth) and class-index masks of every finished frame (``classes=None``: no masks);
    held in memory, or streamed from disk (``stream``; None: when the arrays would take more than
    ``stream_threshold()``)."""
    ds = _open_dataset(path)
    indices = [int(i) for i in ds.indices[:limit]]
    lut = class_lut(ds.labels, classes, str(path)) if classes is not None else None
    names, fingerprint = [f"{i:06d}" for i in indices], dataset_fingerprint(ds)
    if stream if stream is not None else _should_stream(len(indices), size, depth, lut is not None):
        return _streamed(path, indices, size, depth, lut, names, fingerprint)
    rows = _parallel(lambda i: decode_segment_frame(ds, i, size, depth, lut, path), indices,
                     reporter or NullReporter(), Path(path).name)
    return ImageData(
        np.stack([r[0] for r in rows]), names,
        np.stack([r[1] for r in rows]) if depth else None,
        np.stack([r[2] for r in rows]) if lut is not None else None,
        str(path), fingerprint,
    )


def decode_segment_frame(ds: Any, i: int, size: tuple[int, int], depth: bool, lut: np.ndarray | None,
                         path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Frame ``i`` at the model's input size: RGB, depth in metres (or None), class-index mask (or None)."""
    rec = ds.record(i)
    rgb = fit(ds.channel(i, "rgb", rec), size)
    d = None
    if depth:
        src = "depth_npy" if "depth_npy" in rec["files"] else "depth"
        raw = ds.channel(i, src, rec)
        if raw is None:
            raise InputError(f"{path}: frame {i} has no depth; expected an RGB-D dataset for depth = true")
        d = fit(raw.astype(np.float32), size, nearest=True)
    m = None
    if lut is not None:
        m = _lookup(lut, fit(ds.channel(i, "semantic", rec), size, nearest=True), f"{path} frame {i}")
    return rgb, d, m


def _should_stream(frames: int, size: tuple[int, int], depth: bool, labels: bool) -> bool:
    return decoded_bytes(frames, size, depth, labels) > stream_threshold()


def stream_threshold() -> int:
    """Bytes of decoded arrays above which a dataset is streamed instead of held in memory."""
    env = os.environ.get(STREAM_ENV)
    if env is not None:
        try:
            return int(float(env) * 2**20)
        except ValueError:
            raise InputError(f"{STREAM_ENV}={env!r}: expected a number of MiB (0 streams every dataset)") from None
    try:
        with open("/proc/meminfo") as fh:
            available = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return available // 2


def decoded_bytes(frames: int, size: tuple[int, int], depth: bool, labels: bool) -> int:
    """What the in-memory loader would hold: RGB uint8 (+ mask uint8) (+ depth float32) per frame."""
    return frames * size[0] * size[1] * (3 + (1 if labels else 0) + (4 if depth else 0))


def _streamed(path: Path, indices: list[int], size: tuple[int, int], depth: bool, lut: np.ndarray | None,
              names: list[str], fingerprint: dict[str, Any]) -> ImageData:
    from .streaming import FrameDataset, StreamedArray

    frames = FrameDataset(path, indices, size, depth, lut, decode_segment_frame)
    log.info("%s: %d frames streamed from disk (their arrays exceed %d MiB, %s)", path, len(indices),
             stream_threshold() >> 20, STREAM_ENV)
    return ImageData(StreamedArray(frames, "rgb"), names, StreamedArray(frames, "depth") if depth else None,
                     StreamedArray(frames, "mask") if lut is not None else None, str(path), fingerprint)


def dataset_crop_classes(path: Path) -> list[str]:
    """Classification classes of a dataset: its object classes (no background)."""
    return [n for n in dataset_class_names(path) if n != BACKGROUND]


def read_crop_dataset(path: Path, size: tuple[int, int], classes: Classes | None, min_pixels: int,
                      labelled: bool, limit: int | None = None, reporter: Reporter | None = None) -> ImageData:
    """One square crop per visible object instance (``min_pixels`` or more), labelled by its class."""
    ds = _open_dataset(path)
    indices = [int(i) for i in ds.indices[:limit]]

    def one(i: int) -> list[tuple[str, np.ndarray, str]]:
        rec = ds.record(i)
        rgb = ds.channel(i, "rgb", rec)
        out = []
        for inst in rec["instances"]:
            if inst["box"] is None or inst["visible_pixels"] < min_pixels:
                continue
            out.append((f"{i:06d}-{inst['name']}", fit(square_crop(rgb, inst["box"]), size), inst["class_name"]))
        return out

    crops = [c for rows in _parallel(one, indices, reporter or NullReporter(), Path(path).name) for c in rows]
    if not crops:
        raise InputError(f"{path}: no object instance of {min_pixels} visible pixels or more to crop")
    labels = None
    if labelled:
        assert classes is not None
        classes.check([c for _, _, c in crops], str(path))
        labels = np.array([classes.index(c) for _, _, c in crops], dtype=np.int64)
    return ImageData(np.stack([c[1] for c in crops]), [c[0] for c in crops], labels=labels, origin=str(path),
                     fingerprint={**dataset_fingerprint(ds), "crops": len(crops)})


def square_crop(image: np.ndarray, box: Sequence[int], margin: float = CROP_MARGIN) -> np.ndarray:
    """A square around a half-open box ``(x0, y0, x1, y1)``, ``margin`` x its longer side; edge-padded."""
    x0, y0, x1, y1 = (int(v) for v in box)
    side = max(2, round(max(x1 - x0, y1 - y0) * margin))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    h, w = image.shape[:2]
    pad = max(0, -left, -top, left + side - w, top + side - h)
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge") if pad else image
    return padded[top + pad : top + pad + side, left + pad : left + pad + side]


def is_dataset(path: Path) -> bool:
    return (Path(path) / "manifest.json").is_file()


# ---------------------------------------------------------------- image sets (folders, bags)


def read_image_set(path: Path, size: tuple[int, int], depth: bool = False, topic: str | None = None,
                   limit: int | None = None, classes: Classes | None = None,
                   reporter: Reporter | None = None, skip_unreadable: bool = False) -> ImageData:
    """Images of a folder, dataset or bag (``open_image_set``), fitted to ``size``.

    All images must have one size (a camera gives one; mixed sizes mean mixed sources). With
    ``classes`` the class sub-folders become labels. ``depth``: the folder's ``depth/`` PNGs.
    ``skip_unreadable``: a file or message of a folder or bag that does not decode is left out with
    one warning that counts them (unlabelled camera images: one broken JPEG should not stop a run).
    """
    from ..dataset.imagesets import open_image_set

    root = Path(path)
    structured = root.is_dir() and (root / IMAGES_DIR).is_dir()
    images = open_image_set(root / IMAGES_DIR if structured else root, limit, topic)
    if depth and not structured:
        raise InputError(f"{root}: depth = true needs a sim2real dataset or a folder with {IMAGES_DIR}/ and {DEPTH_DIR}/")
    skip = skip_unreadable and images.kind in ("folder", "bag")
    first: list[tuple[int, int]] = []

    def one(item: Any) -> tuple[np.ndarray, np.ndarray | None] | InputError:
        try:
            img = item.load()
        except InputError as exc:
            if not skip:
                raise
            return exc
        if img.ndim != 3 or img.shape[2] != 3:
            raise InputError(f"{item.path}: expected an RGB image (got shape {img.shape})")
        return img, _depth_for(root, item) if depth else None

    def fitted(pair: tuple[np.ndarray, np.ndarray | None], item: Any) -> tuple[np.ndarray, np.ndarray | None]:
        img, d = pair
        shape = (img.shape[1], img.shape[0])
        if not first:
            first.append(shape)
        elif shape != first[0]:
            raise InputError(f"{item.path}: image is {shape[0]}x{shape[1]} but the first of {root} is "
                             f"{first[0][0]}x{first[0][1]}; expected images of one size (one camera)")
        return fit(img, size), None if d is None else fit(d, size, nearest=True)

    loaded, items = _drop_unreadable(root, _parallel(one, images.items, reporter or NullReporter(), root.name),
                                     images.items)
    rows = [fitted(pair, item) for pair, item in zip(loaded, items, strict=True)]
    labels = None
    if classes is not None:
        missing = [i.path for i in items if i.label is None]
        if missing:
            raise InputError(f"{missing[0]}: expected images in class sub-folders ({', '.join(classes.names)})")
        classes.check([str(i.label) for i in items], str(root))
        labels = np.array([classes.index(str(i.label)) for i in items], dtype=np.int64)
    fp = {"kind": images.kind, "path": str(root.resolve()), "topic": topic,
          "items": content_hash([[i.name, _size_of(i.path)] for i in items], 16), "count": len(items)}
    return ImageData(np.stack([r[0] for r in rows]), [i.name for i in items],
                     np.stack([r[1] for r in rows]) if depth else None, labels, str(root), fp)


def _drop_unreadable(root: Path, loaded: list[Any], items: list[Any]) -> tuple[list[Any], list[Any]]:
    """The loaded images and their items without the unreadable ones (``InputError`` in ``loaded``),
    with one warning that counts what was left out; an error if nothing is left."""
    bad = [k for k, row in enumerate(loaded) if isinstance(row, InputError)]
    if not bad:
        return loaded, items
    if len(bad) == len(items):
        raise InputError(f"{root}: none of its {len(items)} images is readable (first: {loaded[bad[0]]})")
    log.warning("%s: skipped %d unreadable image(s) of %d (first: %s)", root, len(bad), len(items), loaded[bad[0]])
    dropped = set(bad)
    keep = [k for k in range(len(items)) if k not in dropped]
    return [loaded[k] for k in keep], [items[k] for k in keep]


def _size_of(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return -1


def _single_channel(path: Path, what: str) -> np.ndarray:
    """A one-channel PNG (mask or depth) as an array; a missing or multi-channel file is an error."""
    from ..imagefile import load_image

    if not path.exists():
        raise InputError(f"{path}: missing {what}")
    arr = load_image(path)
    if arr.ndim != 2:
        raise InputError(f"{path}: expected a single-channel {what}")
    return arr


def _depth_for(root: Path, item: Any) -> np.ndarray:
    mm = _single_channel(root / DEPTH_DIR / f"{item.name}.png", "16-bit depth PNG in millimetres")
    return mm.astype(np.float32) / np.float32(1000.0)


def read_mask_folder(path: Path, size: tuple[int, int], depth: bool, classes: Classes,
                     reporter: Reporter | None = None) -> ImageData:
    """A labelled segmentation folder: ``images/NAME.png``, ``masks/NAME.png`` (class ids, 8 or 16
    bit) and ``labels.json`` (``{"0": "background", "1": "cube", ...}``)."""
    root = Path(path)
    try:
        raw = json.loads((root / LABELS_FILE).read_text())
        labels = {int(k): str(v) for k, v in raw.items()}
    except FileNotFoundError:
        raise InputError(f"{root}: expected {LABELS_FILE} naming the classes of the mask ids") from None
    except (ValueError, AttributeError) as exc:
        raise InputError(f"{root / LABELS_FILE}: expected a JSON object {{\"id\": \"class name\"}} ({exc})") from None
    lut = class_lut(labels, classes, str(root / LABELS_FILE))
    data = read_image_set(root, size, depth, reporter=reporter)

    def mask(name: str) -> np.ndarray:
        p = root / MASKS_DIR / f"{name}.png"
        m = _single_channel(p, f"mask of class ids for image {name}")
        return _lookup(lut, fit(m.astype(np.int64), size, nearest=True), str(p))

    data.labels = np.stack([mask(n) for n in data.names])
    return data
