"""verify (checksum chain, corruption), COCO export through pycocotools, stats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import make_frame
from test_dataset_format import generate

from sim2real.dataset.coco import export_coco
from sim2real.dataset.manifest import digest
from sim2real.dataset.reader import Dataset
from sim2real.dataset.stats import dataset_stats
from sim2real.dataset.store import shard_dir
from sim2real.dataset.verify import verify


def errors(out: Path) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in verify(out).errors]


def test_verify_passes_a_clean_dataset(tmp_path: Path) -> None:
    generate(tmp_path / "ds", 9)
    report = verify(tmp_path / "ds")
    assert report.ok and report.problems == [] and report.complete
    assert report.frames_checked == 9 and report.files_checked == 9 * 5 + 0


def test_verify_reports_incomplete_datasets_as_warnings(tmp_path: Path) -> None:
    generate(tmp_path / "ds", 9, order=[0, 3, 8])
    report = verify(tmp_path / "ds")
    assert report.ok and not report.complete
    assert [p.message for p in report.problems] == ["incomplete: 3 of 9 frames (re-run the generator)"]


def test_verify_detects_a_corrupt_manifest(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 9)
    manifest = out / "manifest.json"
    original = manifest.read_text()
    manifest.write_text(original.replace('"frames_per_shard": 4', '"frames_per_shard": 4,,'))
    assert errors(out)[0][0] == "manifest.json" and "corrupt JSON" in errors(out)[0][1]
    data = json.loads(original)
    data["shards"][1]["index_sha256"] = "f" * 64
    manifest.write_text(json.dumps(data))
    assert errors(out) == [("manifest.json", "manifest_sha256 does not match the manifest's contents (a value "
                                             "changed after it was written)"),
                           ("shards/00001/index.json", "does not match the checksum in manifest.json")]
    data["manifest_sha256"] = digest(data)  # consistent again: only the shard index is wrong
    manifest.write_text(json.dumps(data))
    assert errors(out) == [("shards/00001/index.json", "does not match the checksum in manifest.json")]
    data = json.loads(original)
    data["schema_version"] = 99
    manifest.write_text(json.dumps(data))
    assert "schema_version 99 is not supported" in errors(out)[0][1]


def test_verify_detects_changed_missing_and_stray_files(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 9)
    folder = shard_dir(out, "00000")
    rgb = folder / "000001.rgb.png"
    rgb.write_bytes(rgb.read_bytes()[:-1] + b"\x00")
    (folder / "000002.json").unlink()
    (folder / "000003.semantic.png.tmp-1-2").write_bytes(b"x")
    report = verify(out)
    assert [(p.path, p.message, p.severity) for p in report.problems] == [
        ("shards/00000/000001.rgb.png", "checksum mismatch (file changed or corrupt)", "error"),
        ("shards/00000/000002.json", "missing", "error"),
        ("shards/00000/000003.semantic.png.tmp-1-2", "left-over temporary file", "error"),
    ]
    index = folder / "index.json"
    index.write_bytes(index.read_bytes().replace(b'"000000"', b'"000004"', 1))
    assert ("shards/00000/index.json", "does not match the checksum in manifest.json") in errors(out)
    assert ("shards/00000/index.json", "frame 4 does not belong to this shard") in errors(out)


@pytest.mark.parametrize("layout", ["native", "basic"])
def test_coco_export_loads_in_pycocotools_and_masks_decode_exactly(tmp_path: Path, layout: str) -> None:
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    out = tmp_path / "ds"
    generate(out, 6, layout=layout)
    path = export_coco(out)
    assert path == out / "coco" / "instances.json"
    coco = COCO(str(path))
    ds = Dataset(out)
    assert sorted(coco.getImgIds()) == list(range(6))
    assert {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())} == {
        k: v for k, v in ds.labels.items() if k != 0}
    n = 0
    for index in range(6):
        frame = make_frame(index)
        img = coco.loadImgs(index)[0]
        assert (out / img["file_name"]).is_file() and (img["width"], img["height"]) == (64, 48)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=index))
        visible = [inst for inst in frame.instances if inst.box is not None]
        assert len(anns) == len(visible)
        for ann, inst in zip(anns, visible):
            mask = coco.annToMask(ann)
            assert np.array_equal(mask.astype(bool), frame.instance == inst.id)
            x0, y0, x1, y1 = inst.box
            assert ann["bbox"] == [x0, y0, x1 - x0, y1 - y0]
            assert ann["bbox"] == mask_utils.toBbox(ann["segmentation"]).tolist()
            assert ann["area"] == inst.visible_pixels and ann["iscrowd"] == 0
            assert ann["category_id"] == inst.class_id
            n += 1
    assert n == len(coco.getAnnIds()) > 0
    assert export_coco(out).read_bytes() == path.read_bytes()  # deterministic


def test_stats_counts_classes_pixels_and_parameters(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 6)
    stats = dataset_stats(Dataset(out), bins=4)
    frames = [make_frame(i) for i in range(6)]
    total = sum(f.semantic.size for f in frames)
    for name, row in stats["classes"].items():
        cid = row["id"]
        assert row["pixels"] == sum(int((f.semantic == cid).sum()) for f in frames)
        assert row["pixel_share"] == pytest.approx(row["pixels"] / total)
        if cid:
            assert row["instances"] == sum(i.class_id == cid and i.box is not None for f in frames for i in f.instances)
    assert sum(r["pixel_share"] for r in stats["classes"].values()) == pytest.approx(1.0)
    intensity = stats["parameters"]["light:key/intensity"]
    values = [f.sample["light:key/intensity"] for f in frames]
    assert intensity["count"] == 6 and intensity["min"] == min(values) and sum(intensity["histogram"]["counts"]) == 6
    assert "light:key/color[2]" in stats["parameters"]
    assert stats["choices"]["object:obj_00/asset"] == {"cube": 2, "mug": 2, "sphere": 2}
