"""#26 item 10: the YOLO, Hugging Face parquet and WebDataset exports, each read back by the other
tool's own reader (globox for YOLO, ``datasets.load_dataset`` for parquet, ``webdataset`` for the tars),
compared with what our reader returns for the same frames."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_dataset_format import generate

from sim2real.dataset.hfparquet import export_parquet
from sim2real.dataset.reader import Dataset
from sim2real.dataset.wds import export_webdataset, shard_pattern
from sim2real.dataset.yolo import export_yolo
from sim2real.errors import InputError, LockedError
from sim2real.fsutil import DirLock

FRAMES = 10


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return generate(tmp_path_factory.mktemp("exports") / "ds", FRAMES, per_shard=4)


def boxes_of(ds: Dataset, index: int) -> list[tuple[str, tuple[int, ...]]]:
    return sorted((i.class_name, i.box) for i in ds.get(index, ()).instances if i.box is not None)


def test_yolo_export_reads_back_in_globox_with_our_boxes(ds: Dataset, tmp_path: Path) -> None:
    import yaml
    from globox import AnnotationSet

    data_yaml = export_yolo(ds.directory, tmp_path / "yolo", val_fraction=0.3, seed=1)
    meta = yaml.safe_load(data_yaml.read_text())
    assert meta["names"] == {0: "cube", 1: "sphere", 2: "mug"} and meta["nc"] == 3
    assert "path" not in meta  # folders resolve against data.yaml's own directory
    names = meta["names"]
    seen = 0
    for part in ("train", "val"):
        images = tmp_path / "yolo" / meta[part]
        labels = tmp_path / "yolo" / "labels" / part
        assert sorted(p.stem for p in images.glob("*.png")) == sorted(p.stem for p in labels.glob("*.txt"))
        annotations = AnnotationSet.from_yolo_v5(labels, image_folder=images, image_extension=".png")
        for ann in annotations:
            index = int(ann.image_id.split(".")[0])
            assert (ann.image_width, ann.image_height) == (64, 48)
            got = sorted((names[int(b.label)], tuple(round(v) for v in b.ltrb)) for b in ann.boxes)
            assert got == boxes_of(ds, index)
            assert np.array_equal(np.asarray(Image.open(images / ann.image_id)), ds.get(index, ()).rgb)
            seen += 1
    assert seen == FRAMES and len(list((tmp_path / "yolo/images/val").glob("*.png"))) == 3
    export_yolo(ds.directory, tmp_path / "yolo")  # again, no validation split: the old val files go
    assert not list((tmp_path / "yolo/images/val").glob("*")) and yaml.safe_load(data_yaml.read_text())["val"] == \
        "images/train"
    assert len(list((tmp_path / "yolo/labels/train").glob("*.txt"))) == FRAMES


@pytest.mark.parametrize("images", ["embed", "reference"])
def test_parquet_export_loads_in_hugging_face_datasets(ds: Dataset, tmp_path: Path, images: str) -> None:
    import datasets

    files = export_parquet(ds.directory, tmp_path / "hf", images=images, rows_per_file=4, row_group=3)
    assert [f.name for f in files] == [f"train-0000{k}-of-00003.parquet" for k in range(3)]
    loaded = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train",
                                   cache_dir=str(tmp_path / "cache"))
    assert isinstance(loaded.features["image"], datasets.Image)
    assert isinstance(loaded.features["semantic"], datasets.Image)
    category = loaded.features["objects"]["category"]
    category = getattr(category, "feature", category)
    assert category.names == ["background", "cube", "sphere", "mug"]
    assert len(loaded) == FRAMES
    for row in loaded:
        frame = ds.get(row["frame"], ("semantic",))
        assert np.array_equal(np.asarray(row["image"].convert("RGB")), frame.rgb)
        assert np.array_equal(np.asarray(row["semantic"]), frame.semantic)
        got = sorted((category.int2str(c), tuple(round(v) for v in (x, y, x + w, y + h)))
                     for c, (x, y, w, h) in zip(row["objects"]["category"], row["objects"]["bbox"], strict=True))
        assert got == boxes_of(ds, row["frame"])
    if images == "reference":
        import pyarrow.parquet as pq

        image = pq.read_table(files[0]).column("image").combine_chunks()
        assert image.field("bytes").null_count == len(image)  # paths, not images
        assert all(Path(p).is_absolute() and Path(p).is_file() for p in image.field("path").to_pylist())
    again = export_parquet(ds.directory, tmp_path / "hf", images=images, rows_per_file=4, row_group=3)
    assert [f.read_bytes() for f in again] == [f.read_bytes() for f in files]


def test_webdataset_shards_stream_through_the_webdataset_reader(ds: Dataset, tmp_path: Path) -> None:
    import webdataset as wds

    shards = export_webdataset(ds.directory, tmp_path / "wds", frames_per_shard=4)
    assert [s.name for s in shards] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    samples = list(wds.WebDataset(shard_pattern(tmp_path / "wds", len(shards)), shardshuffle=False)
                   .decode(wds.handle_extension("semantic.png instance.png", _ids), "rgb8"))
    assert [s["__key__"] for s in samples] == [f"{i:06d}" for i in range(FRAMES)]
    for s in samples:
        frame = ds.get(int(s["__key__"]))
        assert np.array_equal(s["png"], frame.rgb)
        assert np.array_equal(s["semantic.png"], frame.semantic)
        assert np.array_equal(s["instance.png"], frame.instance)
        assert np.allclose(s["depth.npy"], frame.depth, atol=1e-3)  # the 16-bit mm PNG: 1 mm steps
        assert sorted((b["class_name"], tuple(b["box"])) for b in s["json"]["instances"] if b["box"]) == \
            boxes_of(ds, frame.index)
    before = [s.read_bytes() for s in shards]
    assert [s.read_bytes() for s in export_webdataset(ds.directory, tmp_path / "wds", frames_per_shard=4)] == before


def _ids(data: bytes) -> np.ndarray:
    """16-bit id PNGs: WebDataset's own image decoders make 8-bit RGB or luminance of them."""
    return np.asarray(Image.open(io.BytesIO(data)))


def test_exports_refuse_the_dataset_folder_and_a_second_writer(ds: Dataset, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is the dataset directory"):
        export_yolo(ds.directory, ds.directory)
    with DirLock(tmp_path / "busy", "exporting"), pytest.raises(LockedError):
        export_webdataset(ds.directory, tmp_path / "busy")
