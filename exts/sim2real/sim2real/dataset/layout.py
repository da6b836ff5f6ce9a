"""Where things live in a dataset directory, and what each file of a frame is called.

    DIR/manifest.json              what the dataset is and which shards it has (deterministic)
    DIR/run.json                   provenance (kind "dataset", content id, inputs)
    DIR/runtime.jsonl              one line per generator run: host, workers, durations (not compared)
    DIR/shards/00000/index.json    per frame: record name + sha256 of every file of the frame
    DIR/shards/00000/<frame files> see ``Layout``

Two layouts for the frame files. ``native`` (default): ``000012.rgb.png``, ``000012.depth.png``,
``000012.instance.png``, ``000012.semantic.png`` (+ ``000012.depth.npy``) and the record
``000012.json``. ``basic``: the file names and encodings of Isaac Sim Replicator's ``BasicWriter``
(``rgb_0012.png``, ``distance_to_image_plane_0012.npy``, ...) plus our record
``sim2real_frame_0012.json``, so that tools written for BasicWriter output read each shard folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA_VERSION = 1
FORMAT_NAME = "sim2real-dataset"
MANIFEST = "manifest.json"
RUNTIME_LOG = "runtime.jsonl"
SHARDS_DIR = "shards"
SHARD_INDEX = "index.json"
DEFAULT_FRAMES_PER_SHARD = 1000
LAYOUTS = ("native", "basic")


def shard_of(index: int, per_shard: int) -> int:
    return index // per_shard


def shard_name(shard: int) -> str:
    return f"{shard:05d}"


def shard_range(shard: int, per_shard: int, total: int) -> range:
    return range(shard * per_shard, min((shard + 1) * per_shard, total))


def shard_count(total: int, per_shard: int) -> int:
    return -(-total // per_shard)


@dataclass(frozen=True)
class Layout:
    """File names of one frame's channels in a shard folder."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in LAYOUTS:
            raise ValueError(f"layout: expected one of {', '.join(LAYOUTS)} (got {self.name!r})")

    def record(self, index: int) -> str:
        return f"{index:06d}.json" if self.name == "native" else f"sim2real_frame_{index:04d}.json"

    def file(self, index: int, stem: str, ext: str) -> str:
        """``stem`` is a native channel name (``rgb``) or a BasicWriter annotator file stem."""
        if self.name == "native":
            return f"{index:06d}.{stem}.{ext}"
        return f"{stem}_{index:04d}.{ext}"

    def frame_of(self, filename: str) -> int | None:
        """The frame index a file of this layout belongs to (None for files that are not frame files)."""
        match = (_NATIVE if self.name == "native" else _BASIC).match(filename)
        return int(match.group(1)) if match else None


_NATIVE = re.compile(r"^(\d+)\.[a-z_]+(?:\.[a-z0-9]+)?$")
_BASIC = re.compile(r"^[a-z0-9_]+?_(\d+)\.[a-z0-9]+$")
