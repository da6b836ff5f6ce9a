"""Reading a dataset: iterate frames or pick one by position or frame index. numpy only, no torch.

    ds = Dataset("runs/tabletop")
    len(ds); frame = ds[0]                 # a sim2real.sim.rendered_frame.Frame
    for frame in ds.iter(channels=("rgb", "semantic")): ...
    ds.record(12)                          # the JSON record of frame 12 (boxes, poses, sample, files)

A dataset that is still being written (or was interrupted) is readable: it holds the frames
committed so far (``ds.indices``). A training framework wraps ``Dataset`` in its own dataset class.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, overload

import numpy as np

from ..errors import InputError, IntegrityError
from ..imagefile import describe, unreadable
from ..sim.rendered_frame import Frame, Instance, Pose
from .layout import is_frame_file_name
from .layouts import decode, get_layout
from .manifest import Manifest, load_manifest
from .store import read_shard_index, shard_dir

CHANNELS = ("rgb", "depth", "instance", "semantic")


class Dataset(Sequence[Frame]):
    def __init__(self, directory: str | PathLike[str]) -> None:
        self.directory = Path(directory)
        self.manifest: Manifest = load_manifest(self.directory)
        self.layout = get_layout(self.manifest.spec.outputs.layout)
        self.indices = self._committed_indices()

    def _committed_indices(self) -> np.ndarray:
        parts = []
        for info in self.manifest.shards:
            if info.complete:
                parts.append(np.arange(info.first, info.first + info.count))
            elif info.done:
                parts.append(np.array(sorted(read_shard_index(self.directory, info.name)), dtype=np.int64))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    @property
    def labels(self) -> dict[int, str]:
        """Semantic class id -> name over the whole dataset (0 is background)."""
        return dict(self.manifest.labels)

    @property
    def spec(self) -> Any:
        return self.manifest.spec

    def __len__(self) -> int:
        return len(self.indices)

    @overload
    def __getitem__(self, position: int) -> Frame: ...
    @overload
    def __getitem__(self, position: slice) -> list[Frame]: ...

    def __getitem__(self, position: int | slice) -> Frame | list[Frame]:
        if isinstance(position, slice):
            return [self.get(int(i)) for i in self.indices[position]]
        if not -len(self) <= position < len(self):
            raise IndexError(f"dataset has {len(self)} frames (asked for position {position})")
        return self.get(int(self.indices[position]))

    def __iter__(self) -> Iterator[Frame]:
        return self.iter()

    def iter(self, channels: Sequence[str] = CHANNELS) -> Iterator[Frame]:
        for i in self.indices:
            yield self.get(int(i), channels)

    def folder(self, index: int) -> Path:
        info = self.manifest.shards[index // self.manifest.frames_per_shard]
        return shard_dir(self.directory, info.name)

    def record(self, index: int) -> dict[str, Any]:
        """The JSON record of frame ``index``."""
        if not 0 <= index < self.manifest.frames:
            raise IndexError(f"frame {index} is outside this dataset (0..{self.manifest.frames - 1})")
        path = self.folder(index) / self.layout.record(index)
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            raise InputError(f"{self.directory}: frame {index} has not been generated (no {path.name})") from None
        except json.JSONDecodeError as exc:
            raise IntegrityError(f"{path}: corrupt record ({exc})") from None

    def channel(self, index: int, channel: str, record: dict[str, Any] | None = None) -> np.ndarray | None:
        """One channel (rgb, depth, depth_npy, instance, semantic) of frame ``index``; None if not stored."""
        record = record if record is not None else self.record(index)
        meta = record["files"].get(channel)
        if meta is None:
            return None
        path = self._member(index, meta)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise self._damaged(path, describe(exc)) from None
        self._check_size(path, len(data), meta)
        try:
            array = decode(meta["encoding"], data, record, channel)
        except unreadable() as exc:
            raise self._damaged(path, describe(exc)) from None
        self._check_shape(path, array, record, channel)
        return array

    def checked_file(self, index: int, channel: str, record: dict[str, Any] | None = None) -> Path:
        """The path of one stored file of frame ``index``, checked to exist with its recorded size
        (without decoding it); a missing, emptied or truncated file is a one-line error naming it."""
        record = record if record is not None else self.record(index)
        meta = record["files"][channel]
        path = self._member(index, meta)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise self._damaged(path, describe(exc)) from None
        self._check_size(path, size, meta)
        return path

    def _member(self, index: int, meta: dict[str, Any]) -> Path:
        """The shard-folder file a record entry names; a name that is not a plain file name is refused."""
        folder = self.folder(index)
        name = meta.get("name")
        if not is_frame_file_name(name):
            raise IntegrityError(f"{folder / self.layout.record(index)}: files: {name!r} is not a file name of "
                                 "the shard folder (a record never points outside it)")
        return folder / name

    def _check_size(self, path: Path, size: int, meta: dict[str, Any]) -> None:
        """A file whose size is not the recorded one was truncated, emptied or replaced."""
        expected = meta.get("bytes")
        if isinstance(expected, int) and size != expected:
            what = "empty file" if not size else f"{size} bytes"
            raise self._damaged(path, f"{what}, the record says {expected} bytes (truncated or replaced)")

    def _check_shape(self, path: Path, array: np.ndarray, record: dict[str, Any], channel: str) -> None:
        """A decodable file of another size or channel count than the record's is as wrong as a broken one."""
        expected: tuple[int, ...] = (int(record["height"]), int(record["width"]))
        if channel == "rgb":
            expected += (3,)
        if array.shape != expected:
            raise self._damaged(path, f"decodes to an array of shape {array.shape}; the record says {expected} "
                                      f"(height, width[, channels]) for its {channel} channel")

    def _damaged(self, path: Path, what: str) -> InputError:
        return InputError(f"{path}: {what}; `sim2real dataset verify {self.directory}` lists every damaged file")

    def get(self, index: int, channels: Sequence[str] = CHANNELS) -> Frame:
        """Frame ``index`` as a Frame. ``rgb`` is always read; other channels not asked for (or not
        stored) are None. Depth comes from the float32 ``.npy`` when the dataset has it."""
        record = self.record(index)
        arrays: dict[str, np.ndarray | None] = {}
        for c in dict.fromkeys(("rgb", *channels)):
            source = "depth_npy" if c == "depth" and "depth_npy" in record["files"] else c
            arrays[c] = self.channel(index, source, record)
        return frame_from_record(record, arrays)


def frame_from_record(record: dict[str, Any], arrays: dict[str, np.ndarray | None]) -> Frame:
    rgb = arrays["rgb"]
    assert rgb is not None, "every frame stores rgb"
    return Frame(
        rgb=rgb,
        depth=arrays.get("depth"),
        instance=arrays.get("instance"),
        semantic=arrays.get("semantic"),
        labels={int(k): v for k, v in record["labels"].items()},
        instances=[_instance(d) for d in record["instances"]],
        K=np.asarray(record["K"], dtype=np.float64),
        cam_to_world=np.asarray(record["cam_to_world"], dtype=np.float64),
        camera=record["camera"],
        index=int(record["index"]),
        sample=record["sample"],
        meta=record["meta"],
    )


def _pose(d: dict[str, Any]) -> Pose:
    return Pose(np.asarray(d["position"], dtype=np.float64), np.asarray(d["quat_wxyz"], dtype=np.float64))


def _instance(d: dict[str, Any]) -> Instance:
    return Instance(
        id=int(d["id"]),
        name=d["name"],
        class_id=int(d["class_id"]),
        class_name=d["class_name"],
        box=None if d["box"] is None else tuple(int(v) for v in d["box"]),  # type: ignore[arg-type]
        visible_pixels=int(d["visible_pixels"]),
        visible_fraction=float(d["visible_fraction"]),
        pose_world=_pose(d["pose_world"]),
        pose_camera=_pose(d["pose_camera"]),
        extra=d.get("extra", {}),
    )
