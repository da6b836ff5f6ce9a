"""WebDataset export: POSIX tar shards whose members are grouped by key, for streaming trainers.

    OUT/shard-000000.tar   frames 0..frames_per_shard-1, in order; then shard-000001.tar, ...

Each frame is one sample with key ``000012`` (its index) and the members (WebDataset's convention:
key = file name up to the first dot, the rest is the extension its decoders dispatch on):

* ``000012.png``           RGB, the stored PNG;
* ``000012.semantic.png``  semantic class ids, 16-bit greyscale PNG; ``000012.instance.png`` instance ids;
* ``000012.depth.npy``     depth in metres, float32 (when the dataset has depth);
* ``000012.json``          the frame's record (boxes, instances with poses, K, camera pose, the
                           randomization sample, labels) without our file table.

The tars are deterministic (members in this order, mtime 0, owner 0, mode 0644, ustar), so the same
dataset gives the same bytes. ``webdataset.WebDataset("OUT/shard-{000000..000002}.tar")`` reads them.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from ..fsutil import fsync_dir, locked_dir, tmp_name
from .exports import ExportFrame, Progress, frames, open_dataset, out_dir
from .files import json_bytes, npy_bytes

FRAMES_PER_SHARD = 1000


def members(frame: ExportFrame) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of one sample, in a fixed order."""
    key = f"{frame.index:06d}"
    yield f"{key}.png", frame.rgb_png()
    for channel in ("semantic", "instance"):
        data = frame.ids_png(channel)
        if data is not None:
            yield f"{key}.{channel}.png", data
    stored = frame.record["files"]
    source = "depth_npy" if "depth_npy" in stored else "depth"
    if source in stored:
        depth = frame.ds.channel(frame.index, source, frame.record)
        assert depth is not None
        yield f"{key}.depth.npy", npy_bytes(depth.astype("float32"))
    yield f"{key}.json", json_bytes({k: v for k, v in frame.record.items() if k != "files"})


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def shard_pattern(root: Path, count: int) -> str:
    """The brace pattern WebDataset expands to every shard."""
    return str(root / (f"shard-{{000000..{count - 1:06d}}}.tar" if count > 1 else "shard-000000.tar"))


def export_webdataset(directory: str | PathLike[str], out: str | PathLike[str] | None = None, *,
                      frames_per_shard: int = FRAMES_PER_SHARD, progress: Progress = None) -> list[Path]:
    """Write the WebDataset shards of the dataset in ``directory`` (default ``DIR/wds``); returns them."""
    ds = open_dataset(directory)
    root = out_dir(directory, out, "wds")
    count = -(-len(ds) // frames_per_shard)
    paths = [root / f"shard-{k:06d}.tar" for k in range(count)]
    with locked_dir(root, "exporting WebDataset shards into"):
        for stale in root.glob("shard-*.tar"):  # an earlier export of another size
            if stale not in paths:
                stale.unlink()
        samples = frames(ds, progress)
        for path in paths:
            tmp = tmp_name(path)
            with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
                for _, frame in zip(range(frames_per_shard), samples):
                    for name, data in members(frame):
                        _add(tar, name, data)
            tmp.replace(path)
        fsync_dir(root)
    return paths
