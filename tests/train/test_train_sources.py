"""Training inputs: sim2real datasets, image folders, real ROS 2 bags (rosbags-written MCAP and
sqlite3 with raw and compressed images), labelled evaluation sets, class maps, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gap.gap_helpers import typestore, write_bag
from PIL import Image
from train_helpers import compressed_msg, image_msg, make_dataset, write_pngs

from sim2real.errors import InputError
from sim2real.dataset.imagesets import open_image_set
from sim2real.train import sources
from sim2real.train.config import load_config
from sim2real.train.data import Inputs, load
from sim2real.train.sources import Classes, fit, square_crop

CLASSES = ["background", "cube", "sphere", "mug"]  # by semantic id in dataset_helpers


def _rgb(seed: int, w: int = 40, h: int = 30) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_fit_crops_to_the_aspect_ratio_then_resizes() -> None:
    img = np.zeros((40, 100, 3), dtype=np.uint8)
    img[:, 20:80] = 255  # the centre 60 columns: a 60x40 crop has the 3:2 aspect of 48x32
    out = fit(img, (48, 32))
    assert out.shape == (32, 48, 3) and out.min() == 255
    ids = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert fit(ids, (8, 6), nearest=True).tolist()[0] == [0, 0, 1, 1, 2, 2, 3, 3]  # nearest keeps ids exact
    assert np.array_equal(square_crop(_rgb(0), (0, 0, 10, 6)).shape, (12, 12, 3))  # edge-padded at the border


def test_class_map_merges_and_renames_and_rejects_unknown_names() -> None:
    c = Classes.from_inputs(["cube", "background", "mug", "sphere"], {"m*": "container", "*": "object"})
    assert c.names == ("background", "object", "container")
    assert c.index("sphere") == 1 and c.index("mug") == 2 and c.index("background") == 0
    plain = Classes.from_inputs(CLASSES)
    with pytest.raises(InputError, match="torus are not among the training classes"):
        plain.check(["cube", "torus"], "eval")


def test_segment_data_from_datasets_with_a_held_out_split(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "src", 20)
    tgt = make_dataset(tmp_path / "tgt", 6, seed=5, real=True)
    cfg = load_config(None, {"resolution": (32, 24), "batch_size": 4, "val_fraction": 0.25})
    d = load(cfg, Inputs(src, tgt, None, tgt))
    assert d.classes == CLASSES
    assert len(d.train) == 15 and len(d.val) == 5
    assert d.train.images.shape == (15, 24, 32, 3) and d.train.labels.shape == (15, 24, 32)
    assert d.target.labels is None and d.target.images.shape == (6, 24, 32, 3)  # the target stays unlabelled
    assert d.eval.labels is not None and set(np.unique(d.eval.labels)) <= {0, 1, 2, 3}
    assert sorted(d.train.names + d.val.names) == [f"{i:06d}" for i in range(20)]
    assert d.fingerprints()["source"]["kind"] == "dataset" and d.fingerprints()["target"]["frames"] == 6
    again = load(cfg, Inputs(src, tgt, None, None))
    assert again.train.names == d.train.names and np.array_equal(again.train.images, d.train.images)


def test_classify_data_from_dataset_crops_and_class_folders(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "src", 12)
    cfg = load_config(None, {"task": "classify", "method": "source-only", "resolution": (16, 16), "batch_size": 4,
                              "min_object_pixels": 20})
    d = load(cfg, Inputs(src))
    assert d.classes == ["cube", "sphere", "mug"]
    n = len(d.train) + len(d.val)
    assert n >= 12 and d.train.images.shape[1:] == (16, 16, 3) and d.train.labels.dtype == np.int64
    folders = tmp_path / "folders"
    for k, cls in enumerate(["cat_a", "cat_b"]):
        write_pngs(folders / cls, [_rgb(10 * k + i) for i in range(5)])
    d2 = load(cfg, Inputs(folders))
    assert d2.classes == ["cat_a", "cat_b"] and sorted(np.concatenate([d2.train.labels, d2.val.labels]).tolist()) == [0] * 5 + [1] * 5
    bad_eval = tmp_path / "bad_eval"
    write_pngs(bad_eval / "cat_c", [_rgb(99)])
    with pytest.raises(InputError, match="cat_c are not among the training classes"):
        load(cfg, Inputs(folders, eval=bad_eval))


def test_mask_folder_evaluation_set(tmp_path: Path) -> None:
    root = tmp_path / "eval"
    write_pngs(root / "images", [_rgb(1), _rgb(2)], ["a", "b"])
    (root / "masks").mkdir()
    for name, val in (("a", 2), ("b", 7)):
        m = np.zeros((30, 40), dtype=np.uint8)
        m[5:15, 5:20] = val
        Image.fromarray(m).save(root / "masks" / f"{name}.png")
    (root / "labels.json").write_text(json.dumps({"0": "background", "2": "mug", "7": "cube"}))
    data = sources.read_mask_folder(root, (20, 15), False, Classes.from_inputs(CLASSES))
    assert data.names == ["a", "b"] and data.labels.shape == (2, 15, 20)
    assert set(np.unique(data.labels[0])) == {0, 3} and set(np.unique(data.labels[1])) == {0, 1}
    (root / "labels.json").write_text(json.dumps({"0": "background", "2": "mug", "7": "torus"}))
    with pytest.raises(InputError, match="labels.json: classes torus"):
        sources.read_mask_folder(root, (20, 15), False, Classes.from_inputs(CLASSES))


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_bag_image_topics_raw_and_compressed(tmp_path: Path, storage: str) -> None:
    ts = typestore()
    imgs = [_rgb(i) for i in range(4)]
    raw = [(1000 + i, image_msg(ts, img, 5 * 10**9 + i, "bgr8" if i % 2 else "rgb8")) for i, img in enumerate(imgs)]
    comp = [(2000 + i, compressed_msg(ts, img, 6 * 10**9 + i)) for i, img in enumerate(imgs[:3])]
    bag = write_bag(tmp_path / "cam", {"/camera/image_raw": raw, "/camera/compressed": comp}, storage=storage)
    s = open_image_set(bag, topic="/camera/image_raw")
    assert s.kind == "bag" and [i.name for i in s.items] == ["000000", "000001", "000002", "000003"]
    for item, img in zip(s.items, imgs, strict=True):
        assert np.array_equal(item.load(), img)  # bgr8 comes back as RGB
    c = open_image_set(bag, topic="/camera/compressed", max_images=2)
    assert len(c) == 2 and np.array_equal(c.items[1].load(), imgs[1])
    with pytest.raises(InputError, match="expected a topic naming one of /camera/compressed"):
        open_image_set(bag)  # two image topics: which one?
    with pytest.raises(InputError, match="no topic /camera/depth"):
        open_image_set(bag, topic="/camera/depth")
    data = sources.read_image_set(bag, (20, 15), topic="/camera/image_raw")
    assert data.images.shape == (4, 15, 20, 3) and data.fingerprint["topic"] == "/camera/image_raw"


def test_unusable_inputs_are_one_line_errors(tmp_path: Path) -> None:
    cfg = load_config(None, {"resolution": (32, 24), "batch_size": 2})
    src = make_dataset(tmp_path / "src", 6)
    # a dataset whose generation never finished a frame
    from train_helpers import VERSIONS

    from sim2real.dataset.encode import Outputs
    from sim2real.dataset.manifest import DatasetSpec
    from sim2real.dataset.writer import DatasetWriter

    spec = DatasetSpec(profile={"name": "x", "hash": "0", "config": {}}, scene={"name": "s", "sha256": "0"},
                       backend="numpy-frames", camera="main", resolution=(64, 48), seed=0, outputs=Outputs())
    with DatasetWriter(tmp_path / "empty", spec, 4, VERSIONS):
        pass
    alone = load_config(None, {"resolution": (32, 24), "batch_size": 2, "method": "source-only"})
    with pytest.raises(InputError, match="holds no finished frames"):
        load(alone, Inputs(tmp_path / "empty"))
    with pytest.raises(InputError, match="expected a sim2real dataset"):
        load(alone, Inputs(tmp_path))
    mixed = write_pngs(tmp_path / "mixed", [_rgb(1, 40, 30), _rgb(2, 40, 30), _rgb(3, 64, 48)])
    with pytest.raises(InputError, match="image is 64x48 but the first of .* is 40x30; expected images of one size"):
        load(cfg, Inputs(src, mixed))
    with pytest.raises(InputError, match="method dann adapts to target images; expected --target"):
        load(cfg, Inputs(src))
    (tmp_path / "none").mkdir()
    with pytest.raises(InputError, match="expected .png or .jpg images"):
        load(cfg, Inputs(src, tmp_path / "none"))
    with pytest.raises(InputError, match="depth = true needs a sim2real dataset or a folder with images/ and depth/"):
        sources.read_image_set(mixed, (32, 24), depth=True)
