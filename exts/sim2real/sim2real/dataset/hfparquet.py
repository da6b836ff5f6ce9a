"""Hugging Face ``datasets`` export: parquet files in the Hub's layout, written with pyarrow.

    OUT/data/train-00000-of-00003.parquet   up to ``rows_per_file`` frames each, row groups of ``row_group``

``datasets.load_dataset("parquet", data_files=...)`` or ``load_dataset(OUT)`` reads them with these
features (from the ``huggingface`` schema metadata that ``datasets`` itself writes, so no
``datasets`` install is needed to export):

* ``frame`` int64, ``width``/``height`` int32;
* ``image``: ``Image()``: the RGB PNG embedded (``images="embed"``, the file's bytes as stored) or
  referenced by its absolute path (``images="reference"``: small files, but they only work where the
  dataset stays);
* ``semantic``: ``Image()`` of the semantic class ids as a 16-bit PNG (class id = ``objects.category``);
* ``objects``: the detection layout of the Hub's datasets (as cppe-5): per visible object ``id``
  (instance id), ``name``, ``bbox`` ``[x, y, w, h]`` pixels (COCO order, from our half-open box),
  ``category`` (``ClassLabel`` whose names are indexed by semantic id) and ``area`` (visible pixels).

Memory is one row group of images at a time.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import NotInstalledError
from ..fsutil import fsync_dir, locked_dir, tmp_name
from .exports import ExportFrame, Progress, frames, open_dataset, out_dir

IMAGE_MODES = ("embed", "reference")
ROWS_PER_FILE = 1000
ROW_GROUP = 100


def _pa() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise NotInstalledError("pyarrow (Hugging Face parquet export)", "pip install 'sim2real[logs]'") from None
    return pa, pq


def class_names(labels: dict[int, str]) -> list[str]:
    """``ClassLabel`` names indexed by semantic id (an id the dataset does not name gets ``class_<id>``)."""
    return [labels.get(k, f"class_{k}") for k in range(max(labels, default=0) + 1)]


def features(labels: dict[int, str]) -> dict[str, Any]:
    """The ``datasets`` features of the export, as ``Features.to_dict()`` writes them."""
    def value(dtype: str) -> dict[str, str]:
        return {"dtype": dtype, "_type": "Value"}

    objects = {"id": value("int32"), "name": value("string"),
               "bbox": {"feature": value("float32"), "length": 4, "_type": "Sequence"},
               "category": {"names": class_names(labels), "_type": "ClassLabel"}, "area": value("int64")}
    return {"frame": value("int64"), "image": {"_type": "Image"}, "width": value("int32"),
            "height": value("int32"), "semantic": {"_type": "Image"},
            "objects": {"feature": objects, "_type": "Sequence"}}


def schema(labels: dict[int, str]) -> Any:
    """The arrow schema ``datasets`` derives from ``features`` (it must match field for field)."""
    pa, _ = _pa()
    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    objects = pa.struct([("id", pa.list_(pa.int32())), ("name", pa.list_(pa.string())),
                         ("bbox", pa.list_(pa.list_(pa.float32(), 4))), ("category", pa.list_(pa.int64())),
                         ("area", pa.list_(pa.int64()))])
    fields = [("frame", pa.int64()), ("image", image), ("width", pa.int32()), ("height", pa.int32()),
              ("semantic", image), ("objects", objects)]
    meta = {"huggingface": json.dumps({"info": {"features": features(labels)}})}
    return pa.schema(fields, metadata=meta)


def row(frame: ExportFrame, images: str) -> dict[str, Any]:
    stem = f"{frame.index:06d}"
    if images == "embed":
        image = {"bytes": frame.rgb_png(), "path": f"{stem}.png"}
    else:
        image = {"bytes": None, "path": str(frame.ds.checked_file(frame.index, "rgb", frame.record).resolve())}
    semantic = frame.ids_png("semantic")
    boxes = frame.boxes()
    return {
        "frame": frame.index, "image": image, "width": frame.width, "height": frame.height,
        "semantic": None if semantic is None else {"bytes": semantic, "path": f"{stem}.semantic.png"},
        "objects": {"id": [int(b["id"]) for b in boxes], "name": [str(b["name"]) for b in boxes],
                    "bbox": [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)] for x0, y0, x1, y1 in
                             (b["box"] for b in boxes)],
                    "category": [int(b["class_id"]) for b in boxes],
                    "area": [int(b["visible_pixels"]) for b in boxes]},
    }


def export_parquet(directory: str | PathLike[str], out: str | PathLike[str] | None = None, *,
                   images: str = "embed", rows_per_file: int = ROWS_PER_FILE, row_group: int = ROW_GROUP,
                   progress: Progress = None) -> list[Path]:
    """Write the parquet export of the dataset in ``directory`` (default ``DIR/hf``); returns its files."""
    if images not in IMAGE_MODES:
        raise ValueError(f"images={images!r}: expected one of {', '.join(IMAGE_MODES)}")
    pa, pq = _pa()
    ds = open_dataset(directory)
    root = out_dir(directory, out, "hf")
    sch = schema(ds.labels)
    n_files = -(-len(ds) // rows_per_file)
    paths = [root / "data" / f"train-{k:05d}-of-{n_files:05d}.parquet" for k in range(n_files)]
    with locked_dir(root, "exporting parquet into"):
        (root / "data").mkdir(exist_ok=True)
        for stale in (root / "data").glob("train-*.parquet"):  # an earlier export of another size
            if stale not in paths:
                stale.unlink()
        rows = (row(frame, images) for frame in frames(ds, progress))
        for path in paths:
            tmp = tmp_name(path)
            with pq.ParquetWriter(tmp, sch) as writer:
                for start in range(0, rows_per_file, row_group):
                    batch = [r for _, r in zip(range(min(row_group, rows_per_file - start)), rows)]
                    if batch:
                        writer.write_table(pa.Table.from_pylist(batch, schema=sch))
            tmp.replace(path)
        fsync_dir(root / "data")
    return paths
