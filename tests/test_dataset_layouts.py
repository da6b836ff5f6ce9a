"""The Layout registry: a layout we did not ship (one raw .npy per channel, written here as a user
would) is registered, written by DatasetWriter, read back by Dataset and verified; clashing encodings
and unknown names are refused in one line. The recipe is in docs/extending.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import make_frame
from sim2real.dataset import layouts
from sim2real.dataset.encode import Outputs
from sim2real.dataset.files import EncodedFile, load_npy, npy_bytes
from sim2real.dataset.manifest import DatasetSpec
from sim2real.dataset.reader import Dataset
from sim2real.dataset.verify import verify
from sim2real.dataset.writer import DatasetWriter


class RawLayout:
    """Every channel as a raw .npy in the shard folder: ``raw_000012_rgb.npy``, ..., and the record
    ``raw_000012.json``."""

    name = "raw"
    decoders = {"npy/raw": lambda data, record, channel: load_npy(data)}

    def record(self, index: int) -> str:
        return f"raw_{index:06d}.json"

    def file(self, index: int, stem: str, ext: str) -> str:
        return f"raw_{index:06d}_{stem}.{ext}"

    def frame_of(self, filename: str) -> int | None:
        match = re.match(r"^raw_(\d{6})(?:_[a-z]+)?\.(?:npy|json)$", filename)
        return int(match.group(1)) if match else None

    def encode(self, frame, index: int, png_level: int, depth_npy: bool) -> list[EncodedFile]:
        return [EncodedFile(channel, self.file(index, channel, "npy"), npy_bytes(getattr(frame, channel)), "npy/raw")
                for channel in ("rgb", "depth", "instance", "semantic") if getattr(frame, channel) is not None]


@pytest.fixture
def raw() -> Iterator[RawLayout]:
    layout = RawLayout()
    layouts.register(layout)
    yield layout
    layouts._LAYOUTS.pop(layout.name)


def _spec(layout: str) -> DatasetSpec:
    return DatasetSpec(profile={"name": "unit", "hash": "0123456789abcdef", "config": {"terms": []}},
                       scene={"name": "synthetic", "sha256": "0" * 64}, backend="numpy-frames", camera="main",
                       resolution=(64, 48), seed=0, outputs=Outputs(layout=layout))


def test_a_registered_layout_is_written_read_back_and_verified(raw: RawLayout, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    with DatasetWriter(out, _spec("raw"), 5, {"sim2real": "test"}, frames_per_shard=2) as writer:
        for i in writer.missing():
            writer.write(i, make_frame(i))
    names = sorted(p.name for p in (out / "shards" / "00000").iterdir())
    assert "raw_000001_depth.npy" in names and "raw_000000.json" in names
    ds = Dataset(out)
    assert len(ds) == 5
    for i in range(5):
        want, got = make_frame(i), ds[i]
        for channel in ("rgb", "depth", "instance", "semantic"):
            assert np.array_equal(getattr(got, channel), getattr(want, channel)), (i, channel)
        assert [inst.box for inst in got.instances] == [inst.box for inst in want.instances]
    report = verify(out)
    assert report.ok and report.frames_checked == 5 and report.complete


def test_encodings_belong_to_one_layout_and_unknown_names_are_one_line(raw: RawLayout) -> None:
    thief = RawLayout()
    thief.name = "thief"
    thief.decoders = {"png/rgb8": raw.decoders["npy/raw"]}
    with pytest.raises(ValueError, match="encodings png/rgb8 belong to layout 'native'"):
        layouts.register(thief)
    with pytest.raises(ValueError, match=r"layout: expected one of native, basic, raw \(got 'coco'\)"):
        Outputs(layout="coco")
    assert layouts.names() == ["native", "basic", "raw"]
