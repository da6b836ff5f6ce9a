"""COCO export: instances with RLE masks, boxes, areas and iscrowd, categories from the labels.

Each visible instance of each frame becomes one annotation whose ``segmentation`` is the compressed
RLE (pycocotools) of exactly that instance's pixels in our instance segmentation; ``bbox`` is
``[x0, y0, x1 - x0, y1 - y0]`` from our half-open box (equal to ``pycocotools.mask.toBbox``),
``area`` the pixel count, ``iscrowd`` 0. Image ids are frame indices; ``file_name`` is relative to
the dataset directory (give that directory as the image root). Category ids are our semantic class
ids. The file is a pure function of the dataset (no dates), written atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, NotInstalledError
from ..fsutil import atomic_write_bytes
from .files import json_bytes
from .reader import Dataset


def _mask_utils() -> Any:
    try:
        from pycocotools import mask
    except ImportError:
        raise NotInstalledError("pycocotools (COCO export)", "pip install 'sim2real[data]'") from None
    return mask


def coco_dict(ds: Dataset, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    mask_utils = _mask_utils()
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for n, index in enumerate(ds.indices.tolist(), start=1):
        record = ds.record(index)
        instance = ds.channel(index, "instance", record)
        if instance is None:
            raise InputError(f"{ds.directory}: frame {index} has no instance segmentation to export; expected a "
                             "dataset generated with instance ids")
        rgb = ds.checked_file(index, "rgb", record)  # COCO names the image: it must be there, whole
        images.append({
            "id": index,
            "file_name": str(rgb.relative_to(ds.directory)),
            "width": record["width"],
            "height": record["height"],
        })
        for inst in record["instances"]:
            if inst["box"] is None:
                continue
            rle = mask_utils.encode(np.asfortranarray(instance == inst["id"], dtype=np.uint8))
            x0, y0, x1, y1 = inst["box"]
            annotations.append({
                "id": len(annotations) + 1,
                "image_id": index,
                "category_id": inst["class_id"],
                "segmentation": {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")},
                "area": int(mask_utils.area(rle)),
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "iscrowd": 0,
                "sim2real": {"name": inst["name"], "visible_fraction": inst["visible_fraction"]},
            })
        if progress is not None:
            progress(n)
    categories = [{"id": k, "name": v, "supercategory": "object"} for k, v in sorted(ds.labels.items()) if k != 0]
    return {
        "info": {"description": f"sim2real dataset {ds.manifest.dataset_id}", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def export_coco(directory: str | PathLike[str], out: str | PathLike[str] | None = None,
                progress: Callable[[int], None] | None = None) -> Path:
    """Write the COCO instances JSON of the dataset in ``directory`` (default ``DIR/coco/instances.json``)."""
    ds = Dataset(directory)
    path = Path(out) if out is not None else Path(directory) / "coco" / "instances.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json_bytes(coco_dict(ds, progress)))
    return path
