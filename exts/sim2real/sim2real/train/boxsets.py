"""Detection inputs: images and 2D boxes from a sim2real dataset, a COCO file or a Replicator folder.

Three formats, each read with its own conventions (the two foreign ones are what other tools write):

* a **sim2real dataset** (``manifest.json``): each visible instance's half-open ``box`` and
  ``class_name`` (what ``dataset export-coco`` writes too);
* **COCO** (a ``.json`` file, or a folder holding exactly one with ``images``/``annotations``/
  ``categories``): ``bbox`` is ``[x, y, width, height]`` in pixels of the image, category ids are
  arbitrary (named by ``categories``); ``file_name`` is looked up beside the JSON, then in an
  ``images/`` folder beside it (BlenderProc and Roboflow write the first, COCO 2017 wants the image
  folder given as the JSON's folder). ``iscrowd = 1`` annotations are left out of training;
* a **Replicator BasicWriter folder** (Isaac Sim, ``BasicWriter(rgb=True, bounding_box_2d_tight=True)``):
  ``rgb_{f}.png`` with ``bounding_box_2d_tight_{f}.npy`` (rows ``semanticId, x_min, y_min, x_max,
  y_max, occlusionRatio``; ``x_max``/``y_max`` inclusive) and ``bounding_box_2d_tight_labels_{f}.json``
  (``{"<semanticId>": {"class": "name"}}``), optionally ``distance_to_image_plane_{f}.npy`` (metres,
  ``inf`` where nothing is hit). ``{f}`` is whatever BasicWriter put there (``0007``, or ``2_0007``
  with an on-time trigger).

Every image is fitted to the model input as the other tasks fit theirs (``sources.fit``: centre crop
to the aspect ratio, then resize) and its boxes follow the same crop and scale; a box the crop cuts
is clipped, and one left under ``MIN_SIDE_PX`` a side is dropped. Boxes are ``(M, 5)`` float32 rows
``x0, y0, x1, y1, class`` (half-open, model-input pixels).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil import content_hash, sha256_file
from ..progress import NullReporter, Reporter
from .sources import Classes, ImageData, _open_dataset, _parallel, dataset_crop_classes, dataset_fingerprint, fit, is_dataset

log = logging.getLogger(__name__)

MIN_SIDE_PX = 1.0  # a fitted box narrower or lower than this is dropped
_RGB = re.compile(r"^rgb_(.+)\.(png|jpg|jpeg)$")
_IGNORED_LABELS = ("BACKGROUND", "UNLABELLED")  # Replicator's names for "no object"


@dataclass
class Frame:
    """One image of a detection source before fitting: boxes in its own pixels, class names per box."""

    name: str
    load: Callable[[], tuple[np.ndarray, np.ndarray | None]]  # -> (rgb (H, W, 3) uint8, depth (H, W) metres or None)
    boxes: np.ndarray  # (M, 4) float x0, y0, x1, y1 half-open
    names: list[str]


@dataclass
class BoxSource:
    kind: str  # "dataset", "coco" or "basicwriter"
    origin: str
    classes: list[str]  # the source's class names, in its own order
    frames: list[Frame]
    fingerprint: dict[str, Any]


def is_box_source(path: Path) -> bool:
    """A path one of the three readers takes (not a plain image folder or a bag)."""
    path = Path(path)
    return is_dataset(path) or path.suffix == ".json" or (path.is_dir() and (_coco_file(path) is not None or
                                                                              bool(_basic_keys(path))))


def open_box_source(path: Path, depth: bool = False, limit: int | None = None) -> BoxSource:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder; expected a sim2real dataset, a COCO .json or a "
                         "Replicator BasicWriter folder")
    if is_dataset(path):
        return _native(path, depth, limit)
    coco = path if path.is_file() else _coco_file(path)
    if coco is not None:
        if depth:
            raise InputError(f"{coco}: COCO holds no depth; expected depth = false (or a sim2real dataset / "
                             "BasicWriter folder with distance_to_image_plane)")
        return _coco(coco, limit)
    if _basic_keys(path):
        return _basic(path, depth, limit)
    raise InputError(f"{path}: expected a sim2real dataset (manifest.json), a COCO .json (or a folder with one) "
                     "or a Replicator BasicWriter folder (rgb_*.png + bounding_box_2d_tight_*.npy)")


def read_boxes(path: Path, size: tuple[int, int], depth: bool, classes: Classes | None, limit: int | None = None,
               reporter: Reporter | None = None) -> ImageData:
    """Images (+ depth) fitted to ``size``, with their boxes mapped to ``classes`` (None: unlabelled)."""
    src = open_box_source(path, depth, limit)
    if classes is not None:
        classes.check(sorted({n for f in src.frames for n in f.names}), src.origin)

    def one(frame: Frame) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        rgb, d = frame.load()
        rows = None
        if classes is not None:
            fitted, keep = fit_boxes(frame.boxes, (rgb.shape[1], rgb.shape[0]), size)
            cls = np.array([classes.index(n) for n in frame.names], np.float32).reshape(-1)[keep]
            rows = np.concatenate([fitted, cls[:, None]], 1).astype(np.float32)
        return fit(rgb, size), None if d is None else fit(d, size, nearest=True), rows

    out = _parallel(one, src.frames, reporter or NullReporter(), Path(path).name)
    return ImageData(np.stack([r[0] for r in out]), [f.name for f in src.frames],
                     np.stack([r[1] for r in out]) if depth else None, None, src.origin, src.fingerprint,
                     [r[2] for r in out] if classes is not None else None)


def box_classes(path: Path) -> list[str]:
    """The object classes a detection source names (no background)."""
    return open_box_source(path).classes


def fit_boxes(boxes: np.ndarray, shape: tuple[int, int], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Boxes of an image of ``shape`` (width, height) after ``sources.fit`` to ``size``: the fitted
    boxes that remain and the mask of the input rows they came from."""
    (iw, ih), (w, h) = shape, size
    x0, y0, cw, ch = 0.0, 0.0, float(iw), float(ih)
    if iw * h > ih * w:  # the crop of ``fit``, to the pixel
        cw = max(1, round(ih * w / h))
        x0 = (iw - cw) // 2
    elif iw * h < ih * w:
        ch = max(1, round(iw * h / w))
        y0 = (ih - ch) // 2
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    out = (b - [x0, y0, x0, y0]) * [w / cw, h / ch, w / cw, h / ch]
    out = np.clip(out, 0.0, [w, h, w, h])
    keep = ((out[:, 2] - out[:, 0]) >= MIN_SIDE_PX) & ((out[:, 3] - out[:, 1]) >= MIN_SIDE_PX)
    return out[keep], keep


# ---------------------------------------------------------------- sim2real datasets


def _native(path: Path, depth: bool, limit: int | None) -> BoxSource:
    ds = _open_dataset(path)
    frames = []
    for i in [int(i) for i in ds.indices[:limit]]:
        rec = ds.record(i)
        insts = [inst for inst in rec["instances"] if inst["box"] is not None]
        frames.append(Frame(f"{i:06d}", _native_loader(ds, i, depth, path),
                            np.array([inst["box"] for inst in insts], dtype=np.float64).reshape(-1, 4),
                            [inst["class_name"] for inst in insts]))
    return BoxSource("dataset", str(path), dataset_crop_classes(path), frames, dataset_fingerprint(ds))


def _native_loader(ds: Any, i: int, depth: bool, path: Path) -> Callable[[], tuple[np.ndarray, np.ndarray | None]]:
    def load() -> tuple[np.ndarray, np.ndarray | None]:
        rec = ds.record(i)
        d = None
        if depth:
            raw = ds.channel(i, "depth_npy" if "depth_npy" in rec["files"] else "depth", rec)
            if raw is None:
                raise InputError(f"{path}: frame {i} has no depth; expected an RGB-D dataset for depth = true")
            d = raw.astype(np.float32)
        return ds.channel(i, "rgb", rec), d

    return load


# ---------------------------------------------------------------- COCO


def _coco_file(folder: Path) -> Path | None:
    found = [p for p in sorted(folder.glob("*.json")) if _looks_like_coco(p)]
    if len(found) > 1:
        raise InputError(f"{folder}: holds {len(found)} COCO files ({', '.join(p.name for p in found)}); "
                         "expected --data to name one of them")
    return found[0] if found else None


def _looks_like_coco(path: Path) -> bool:
    try:
        head = path.read_text(errors="replace")[:1_000_000]
    except OSError:
        return False
    return '"annotations"' in head and '"images"' in head


def _coco(path: Path, limit: int | None) -> BoxSource:
    doc = _coco_json(path)
    names = {}
    for k, c in enumerate(_list(doc, "categories", path)):
        names[_field(c, "id", int, f"categories[{k}]", path)] = _field(c, "name", str, f"categories[{k}]", path)
    per_image: dict[int, list[tuple[list[float], str]]] = {}
    crowd = 0
    for k, a in enumerate(_list(doc, "annotations", path)):
        where = f"annotations[{k}]"
        if a.get("iscrowd", 0):
            crowd += 1
            continue
        cat = _field(a, "category_id", int, where, path)
        if cat not in names:
            raise InputError(f"{path}: {where}.category_id {cat} is not among the categories' ids {sorted(names)}")
        bbox = a.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox)):
            raise InputError(f"{path}: {where}.bbox is {bbox!r}; expected [x, y, width, height] in pixels")
        x, y, w, h = (float(v) for v in bbox)
        per_image.setdefault(_field(a, "image_id", int, where, path), []).append(([x, y, x + w, y + h], names[cat]))
    if crowd:
        log.info("%s: left out %d iscrowd annotation(s)", path, crowd)
    frames = [_coco_frame(path, k, img, per_image) for k, img in enumerate(_list(doc, "images", path)[:limit])]
    if not frames:
        raise InputError(f"{path}: lists no images; expected COCO 'images' entries")
    fp = {"kind": "coco", "path": str(path.resolve()), "json": sha256_file(path)[:16], "images": len(frames)}
    return BoxSource("coco", str(path), [names[k] for k in sorted(names)], frames, fp)


def _coco_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable as JSON ({exc}); expected a COCO instances file") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a COCO object with images, annotations and categories")
    return doc


def _list(doc: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{path}: '{key}' is {'missing' if value is None else 'not a list of objects'}; expected "
                         "a COCO instances file (images, annotations, categories)")
    return value


def _field(obj: dict[str, Any], key: str, kind: type, where: str, path: Path) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"{path}: {where}.{key} is {value!r}; expected {'an integer' if kind is int else 'a string'}")
    return value


def _coco_frame(path: Path, k: int, img: dict[str, Any], per_image: dict[int, list[tuple[list[float], str]]]) -> Frame:
    where = f"images[{k}]"
    image_id = _field(img, "id", int, where, path)
    file_name = _field(img, "file_name", str, where, path)
    candidates = [path.parent / file_name, path.parent / "images" / file_name]
    if Path(file_name).is_absolute() or ".." in Path(file_name).parts:
        raise InputError(f"{path}: {where}.file_name {file_name!r} leaves the folder of the COCO file; expected a "
                         "path relative to it")
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise InputError(f"{path}: {where}.file_name {file_name!r} is neither {candidates[0]} nor {candidates[1]}")
    size = (img.get("width"), img.get("height"))
    rows = per_image.get(image_id, [])

    def load() -> tuple[np.ndarray, np.ndarray | None]:
        from ..imagefile import load_image

        rgb = load_image(found, mode="RGB")
        if None not in size and (rgb.shape[1], rgb.shape[0]) != size:
            raise InputError(f"{found}: image is {rgb.shape[1]}x{rgb.shape[0]} but {path} {where} says "
                             f"{size[0]}x{size[1]}; expected the image the boxes were drawn on")
        return rgb, None

    return Frame(Path(file_name).stem, load, np.array([r[0] for r in rows], dtype=np.float64).reshape(-1, 4),
                 [r[1] for r in rows])


# ---------------------------------------------------------------- Replicator BasicWriter


def _basic_keys(folder: Path) -> list[str]:
    """The frame keys of a BasicWriter folder with tight boxes: ``rgb_{key}.png`` names (empty if
    the folder holds no ``bounding_box_2d_tight_*.npy``)."""
    if not folder.is_dir() or not any(folder.glob("bounding_box_2d_tight_*.npy")):
        return []
    return [m.group(1) for p in sorted(folder.iterdir()) if (m := _RGB.match(p.name))]


def _basic(folder: Path, depth: bool, limit: int | None) -> BoxSource:
    keys = _basic_keys(folder)[:limit]
    frames, classes = [], set()
    for key in keys:
        boxes, names = _basic_boxes(folder, key)
        classes.update(names)
        rgb = next(folder / f"rgb_{key}.{ext}" for ext in ("png", "jpg", "jpeg") if (folder / f"rgb_{key}.{ext}").is_file())
        frames.append(Frame(key, _basic_loader(folder, rgb, key, depth), boxes, names))
    fp = {"kind": "basicwriter", "path": str(folder.resolve()), "frames": len(frames),
          "items": content_hash([[f.name, (folder / f"bounding_box_2d_tight_{f.name}.npy").stat().st_size] for f in frames], 16)}
    return BoxSource("basicwriter", str(folder), sorted(classes), frames, fp)


def _basic_boxes(folder: Path, key: str) -> tuple[np.ndarray, list[str]]:
    from ..dataset.basic import BBOX_2D_DTYPE

    npy, labels = folder / f"bounding_box_2d_tight_{key}.npy", folder / f"bounding_box_2d_tight_labels_{key}.json"
    if not npy.is_file():
        raise InputError(f"{folder}: frame {key} has rgb_{key} but no {npy.name}; expected "
                         "BasicWriter(bounding_box_2d_tight=True) output")
    try:
        rows = np.load(npy, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{npy}: unreadable ({exc}); expected a structured .npy array") from None
    wanted, have = BBOX_2D_DTYPE.names or (), rows.dtype.names or ()
    missing = [n for n in wanted if n not in have]
    if missing:
        raise InputError(f"{npy}: no field(s) {', '.join(missing)}; expected BasicWriter's bounding_box_2d_tight rows "
                         f"({', '.join(wanted)})")
    try:
        id_to_labels = json.loads(labels.read_text())
    except FileNotFoundError:
        raise InputError(f"{folder}: frame {key} has no {labels.name}; expected BasicWriter's idToLabels beside "
                         f"{npy.name}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{labels}: unreadable ({exc}); expected {{\"<semanticId>\": {{\"class\": name}}}}") from None
    boxes, names = [], []
    for r in rows.reshape(-1):
        entry = id_to_labels.get(str(int(r["semanticId"])))
        name = entry.get("class") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise InputError(f"{labels}: semanticId {int(r['semanticId'])} of {npy.name} has no 'class' label; "
                             "expected BasicWriter(semantic_types=['class']) labels")
        if name in _IGNORED_LABELS:
            continue
        boxes.append([r["x_min"], r["y_min"], r["x_max"] + 1, r["y_max"] + 1])  # inclusive -> half-open
        names.append(name)
    return np.array(boxes, dtype=np.float64).reshape(-1, 4), names


def _basic_loader(folder: Path, rgb: Path, key: str, depth: bool) -> Callable[[], tuple[np.ndarray, np.ndarray | None]]:
    def load() -> tuple[np.ndarray, np.ndarray | None]:
        from ..imagefile import load_image

        image = load_image(rgb, mode="RGB")  # BasicWriter writes RGBA
        if not depth:
            return image, None
        path = folder / f"distance_to_image_plane_{key}.npy"
        if not path.is_file():
            raise InputError(f"{folder}: frame {key} has no {path.name}; expected "
                             "BasicWriter(distance_to_image_plane=True) output for depth = true")
        d = np.load(path, allow_pickle=False).astype(np.float32).squeeze()
        d[~np.isfinite(d)] = 0.0  # inf where nothing is hit: our "no measurement"
        return image, d

    return load
