"""Where things live in a dataset directory, and what each file of a frame is called.

    DIR/manifest.json              what the dataset is and which shards it has (deterministic)
    DIR/run.json                   provenance (kind "dataset", content id, inputs)
    DIR/runtime.jsonl              one line per generator run: host, workers, durations (not compared)
    DIR/shards/00000/index.json    per frame: record name + sha256 of every file of the frame
    DIR/shards/00000/<frame files> see ``Layout``

Two layouts for the frame files are registered (``layouts.py``; a new one implements ``Layout``). ``native`` (default): ``000012.rgb.png``, ``000012.depth.png``,
``000012.instance.png``, ``000012.semantic.png`` (+ ``000012.depth.npy``) and the record
``000012.json``. ``basic``: the file names and encodings of Isaac Sim Replicator's ``BasicWriter``
(``rgb_0012.png``, ``distance_to_image_plane_0012.npy``, ...) plus our record
``sim2real_frame_0012.json``, so that tools written for BasicWriter output read each shard folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from .files import Decoder, EncodedFile

if TYPE_CHECKING:
    from ..sim.rendered_frame import Frame

SCHEMA_VERSION = 1
FORMAT_NAME = "sim2real-dataset"
MANIFEST = "manifest.json"
RUNTIME_LOG = "runtime.jsonl"
SHARDS_DIR = "shards"
SHARD_INDEX = "index.json"
DEFAULT_FRAMES_PER_SHARD = 1000
# What our layouts name frame files. A name read from a record or an index is checked against it
# before use: a dataset from elsewhere never makes us open a file outside its shard folder.
_FRAME_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")


def is_frame_file_name(name: object) -> bool:
    """True for a plain file name of a shard folder (no separator, no ``..``, no leading dot)."""
    return isinstance(name, str) and _FRAME_FILE.match(name) is not None


def shard_of(index: int, per_shard: int) -> int:
    return index // per_shard


def shard_name(shard: int) -> str:
    return f"{shard:05d}"


def shard_range(shard: int, per_shard: int, total: int) -> range:
    return range(shard * per_shard, min((shard + 1) * per_shard, total))


def shard_count(total: int, per_shard: int) -> int:
    return -(-total // per_shard)


class Layout(Protocol):
    """How one frame's channels are named and encoded in a shard folder (registry: ``layouts.py``).

    ``file(index, stem, ext)`` names a frame's file (``stem``: a channel or an annotator name);
    ``record(index)`` the frame's JSON record; ``frame_of`` reads the index back from a file name
    (None for files that are not frame files). ``encode`` turns a Frame into files, each naming
    its encoding, which ``decoders`` turns back into arrays."""

    name: str
    decoders: Mapping[str, Decoder]

    def record(self, index: int) -> str: ...

    def file(self, index: int, stem: str, ext: str) -> str: ...

    def frame_of(self, filename: str) -> int | None: ...

    def encode(self, frame: Frame, index: int, png_level: int, depth_npy: bool) -> list[EncodedFile]: ...


class FileNames:
    """``record``, ``file`` and ``frame_of`` from two format strings (fields ``index``, ``stem``,
    ``ext``) and the pattern whose first group reads the index back: how both shipped layouts name files."""

    record_format = ""
    file_format = ""
    pattern = re.compile("$^")

    def record(self, index: int) -> str:
        return self.record_format.format(index=index)

    def file(self, index: int, stem: str, ext: str) -> str:
        return self.file_format.format(index=index, stem=stem, ext=ext)

    def frame_of(self, filename: str) -> int | None:
        match = self.pattern.match(filename)
        return int(match.group(1)) if match else None
