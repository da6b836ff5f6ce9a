"""Committing frames to a dataset directory without ever losing or mixing work.

A frame is committed in this order: each of its files is written to a temporary name, fsynced and
renamed; then its record (``000012.json``, which lists every file with its sha256) is written the
same way. The record is the commit marker: a frame whose record exists is complete, whatever
happened after. The ``Catalog`` (one per dataset, in the process that holds the directory lock)
collects committed frames into the shard indexes and the manifest, both rewritten atomically.

After a crash, ``Catalog.open`` recovers: temporary files and files of frames without a record are
deleted; records that the shard index does not list yet are checked against their files' checksums
and adopted (or their frame is deleted and made again). The rest is trusted.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil import LOCK_NAME, DirLock, atomic_write_bytes, fsync_dir, is_tmp_name, sha256_bytes, sha256_file
from ..runs import RUN_INFO, write_run_info
from .encode import EncodedFrame
from .files import json_bytes
from .layout import MANIFEST, RUNTIME_LOG, SHARD_INDEX, SHARDS_DIR, is_frame_file_name, shard_of
from .layouts import get_layout
from .manifest import DatasetSpec, Manifest, load_manifest, manifest_path

log = logging.getLogger(__name__)


@dataclass
class FrameEntry:
    """What the catalog needs to know about one committed frame (small, picklable)."""

    index: int
    record: str  # record file name
    record_sha256: str
    files: dict[str, str]  # file name -> sha256
    labels: dict[int, str] = field(default_factory=dict)
    preview: str | None = None  # file name of the RGB image (sample-image previews)

    def index_entry(self) -> dict[str, Any]:
        return {"record": self.record, "sha256": self.record_sha256, "files": dict(sorted(self.files.items()))}


def shard_dir(directory: str | PathLike[str], shard: str) -> Path:
    return Path(directory) / SHARDS_DIR / shard


def write_frame(directory: Path, encoded: EncodedFrame, *, durable: bool = True) -> FrameEntry:
    """Write ``encoded``'s files into ``directory`` (its shard folder), the record last.

    With ``durable`` every file is fsynced before its rename and the folder after, so a committed
    frame survives a power cut too (a process kill needs no fsync: the page cache survives it).
    """
    hashes: dict[str, str] = {}
    files_meta: dict[str, dict[str, Any]] = {}
    for f in encoded.files:
        atomic_write_bytes(directory / f.name, f.data, fsync=durable, sync_dir=False)
        digest = sha256_bytes(f.data)
        hashes[f.name] = digest
        files_meta[f.channel] = {"name": f.name, "sha256": digest, "encoding": f.encoding, "bytes": len(f.data)}
    if durable:
        fsync_dir(directory)  # the files' directory entries before the record that vouches for them
    record = dict(encoded.record)
    record["files"] = files_meta
    data = json_bytes(record)
    atomic_write_bytes(directory / encoded.record_name, data, fsync=durable)
    labels = {int(k): str(v) for k, v in record["labels"].items()}
    preview = files_meta.get("rgb", {}).get("name")
    return FrameEntry(encoded.index, encoded.record_name, sha256_bytes(data), hashes, labels, preview)


def read_shard_index(directory: str | PathLike[str], shard: str) -> dict[int, dict[str, Any]]:
    """Frame index -> {"record", "sha256", "files"} from a shard's index.json ({} if absent)."""
    path = shard_dir(directory, shard) / SHARD_INDEX
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    return {int(k): v for k, v in data["frames"].items()}


def shard_index_bytes(shard: str, frames: dict[int, dict[str, Any]]) -> bytes:
    return json_bytes({"shard": shard, "frames": {f"{i:06d}": frames[i] for i in sorted(frames)}})


@dataclass
class Recovery:
    adopted: int = 0  # committed frames found outside the shard index, checked and added
    discarded: int = 0  # incomplete frames whose files were deleted
    removed_files: int = 0


def _remove_temporaries(directory: Path) -> None:
    """Delete the half-written manifest or run-info files a killed run left at the dataset's top level
    (the caller holds the lock, so no live writer owns them); shard folders are swept by recovery."""
    for p in directory.iterdir():
        if is_tmp_name(p) and p.is_file():
            p.unlink(missing_ok=True)


class Catalog:
    """The parent-side book of a dataset: committed frames, shard indexes, manifest. Not thread-safe."""

    def __init__(self, directory: Path, manifest: Manifest, flush_interval_s: float = 2.0) -> None:
        self.directory = directory
        self.manifest = manifest
        self.layout = get_layout(manifest.spec.outputs.layout)
        self.flush_interval_s = flush_interval_s
        self._done = np.zeros(manifest.frames, dtype=bool)
        self._open: dict[int, dict[int, dict[str, Any]]] = {}  # shard -> entries, for incomplete shards
        self._dirty: set[int] = set()
        self._last_flush = time.monotonic()
        self._labels_dirty = False

    # ----------------------------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        directory: str | PathLike[str],
        spec: DatasetSpec,
        frames: int,
        versions: dict[str, str],
        frames_per_shard: int,
    ) -> tuple[Catalog, Recovery]:
        """Create or resume the dataset in ``directory`` (the caller holds its ``DirLock``)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        _remove_temporaries(directory)
        manifest = load_manifest(directory) if manifest_path(directory).exists() else None
        if manifest is not None and manifest.spec != spec and _holds_nothing(directory, manifest):
            log.warning("%s: replacing the empty dataset an earlier run left (%s)", directory,
                        "; ".join(manifest.spec.differences(spec)) or "other settings")
            manifest = None
            for name in (MANIFEST, RUN_INFO):
                (directory / name).unlink(missing_ok=True)
            shutil.rmtree(directory / SHARDS_DIR, ignore_errors=True)  # empty folders at most
        if manifest is not None:
            _check_compatible(directory, manifest, spec, frames, versions)
            if frames > manifest.frames:
                manifest.extend(frames)
        else:
            if any(p.name not in (LOCK_NAME, RUNTIME_LOG) for p in directory.iterdir()):
                raise InputError(f"{directory}: exists and is not a sim2real dataset; choose an empty or new --out")
            manifest = Manifest.new(spec, frames, frames_per_shard, versions)
            manifest.save(directory)  # first, so that an interrupted start is still recognised as ours
        write_run_info(directory, "dataset", manifest.dataset_id, inputs=spec.to_dict())
        catalog = cls(directory, manifest)
        recovery = catalog._recover()
        catalog.flush(force=True)
        return catalog, recovery

    def rescan(self) -> Recovery:
        """Adopt frames other processes committed but did not report, delete their half-written
        ones (call when those processes are gone: after an interrupt or a failure)."""
        self.flush(force=True)
        rec = self._recover()
        self.flush(force=True)
        return rec

    def _recover(self) -> Recovery:
        rec = Recovery()
        per = self.manifest.frames_per_shard
        for s, info in enumerate(self.manifest.shards):
            folder = shard_dir(self.directory, info.name)
            if info.complete and info.index_sha256:
                self._done[info.first : info.first + info.count] = True
                continue
            entries = read_shard_index(self.directory, info.name) if folder.is_dir() else {}
            if folder.is_dir():
                self._recover_shard(folder, entries, rec)
            for i in entries:
                if shard_of(i, per) == s and i < self.manifest.frames:
                    self._done[i] = True
            self._open[s] = entries
            self._dirty.add(s)
        return rec

    def _recover_shard(self, folder: Path, entries: dict[int, dict[str, Any]], rec: Recovery) -> None:
        by_frame: dict[int, list[Path]] = {}
        for p in folder.iterdir():
            if is_tmp_name(p):
                p.unlink(missing_ok=True)
                rec.removed_files += 1
                continue
            i = self.layout.frame_of(p.name)
            if i is not None and i not in entries:
                by_frame.setdefault(i, []).append(p)
        for i, paths in sorted(by_frame.items()):
            entry = self._adopt(folder, i, paths)
            if entry is not None:
                entries[i] = entry.index_entry()
                self._merge_labels(entry.labels)
                rec.adopted += 1
            else:
                for p in paths:
                    p.unlink(missing_ok=True)
                    rec.removed_files += 1
                rec.discarded += 1

    def _adopt(self, folder: Path, index: int, paths: list[Path]) -> FrameEntry | None:
        """A FrameEntry for a committed frame whose files all match its record; else None."""
        record_path = folder / self.layout.record(index)
        if record_path not in paths:
            return None
        try:
            data = record_path.read_bytes()
            record = json.loads(data)
            files = {m["name"]: m["sha256"] for m in record["files"].values()}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not all(is_frame_file_name(name) for name in files):
            return None  # a record naming a file outside its shard folder is not ours: make the frame again
        for name, digest in files.items():
            path = folder / name
            if not path.is_file() or sha256_file(path) != digest:
                log.warning("frame %d: %s does not match its record; making the frame again", index, name)
                return None
        labels = {int(k): str(v) for k, v in record.get("labels", {}).items()}
        return FrameEntry(index, record_path.name, sha256_bytes(data), files, labels)

    # ----------------------------------------------------------------------------------- running
    def missing(self) -> list[int]:
        return np.flatnonzero(~self._done).tolist()

    @property
    def done(self) -> int:
        return int(self._done.sum())

    def shard_folder(self, index: int) -> Path:
        info = self.manifest.shards[shard_of(index, self.manifest.frames_per_shard)]
        return shard_dir(self.directory, info.name)

    def add(self, entry: FrameEntry) -> None:
        """Record a committed frame; the indexes and manifest follow at the next flush."""
        s = shard_of(entry.index, self.manifest.frames_per_shard)
        self._open[s][entry.index] = entry.index_entry()  # every incomplete shard is open
        self._done[entry.index] = True
        self._dirty.add(s)
        self._merge_labels(entry.labels)
        info = self.manifest.shards[s]
        if len(self._open[s]) >= info.count:
            self.flush(force=True)  # a finished shard is written at once and leaves memory
        else:
            self.flush()

    def _merge_labels(self, labels: dict[int, str]) -> None:
        for k, v in labels.items():
            old = self.manifest.labels.get(k)
            if old is None:
                self.manifest.labels[k] = v
                self._labels_dirty = True
            elif old != v:
                log.warning("class id %d is %r in one frame and %r in another; keeping %r", k, old, v, min(old, v))
                self.manifest.labels[k] = min(old, v)
                self._labels_dirty = True

    def flush(self, force: bool = False) -> None:
        """Write changed shard indexes, then the manifest (at most every ``flush_interval_s`` unless forced)."""
        if not (self._dirty or self._labels_dirty):
            return
        if not force and time.monotonic() - self._last_flush < self.flush_interval_s:
            return
        for s in sorted(self._dirty):
            info = self.manifest.shards[s]
            entries = self._open[s]
            folder = shard_dir(self.directory, info.name)
            if entries or folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                data = shard_index_bytes(info.name, entries)
                atomic_write_bytes(folder / SHARD_INDEX, data)
                info.index_sha256 = sha256_bytes(data)
            info.done = len(entries)
            if info.complete:
                del self._open[s]
        self._dirty.clear()
        self._labels_dirty = False
        self.manifest.save(self.directory)
        self._last_flush = time.monotonic()


def _holds_nothing(directory: Path, manifest: Manifest) -> bool:
    """No frame was ever written: a run that failed before its first frame (nothing to keep)."""
    shards = directory / SHARDS_DIR
    return manifest.done == 0 and not (shards.is_dir() and any(p.is_file() for p in shards.rglob("*")))


def _check_compatible(directory: Path, manifest: Manifest, spec: DatasetSpec, frames: int,
                      versions: dict[str, str]) -> None:
    diffs = manifest.spec.differences(spec)
    if diffs:
        raise InputError(
            f"{directory}: holds a different dataset ({'; '.join(diffs)}, existing vs requested); "
            "use another --out or the same settings"
        )
    if frames < manifest.frames:
        raise InputError(
            f"{directory}: holds a dataset of {manifest.frames} frames; --frames {frames} would drop frames "
            f"(ask for {manifest.frames} or more)"
        )
    changed = sorted(k for k in set(versions) | set(manifest.versions) if versions.get(k) != manifest.versions.get(k))
    if changed:
        log.warning(
            "%s: made with other versions of %s; resumed frames may not be byte-identical to a single run",
            directory, ", ".join(changed),
        )


def lock(directory: str | PathLike[str]) -> DirLock:
    return DirLock(directory, purpose="generating")  # one word: the lock file stores key=value pairs


def dataset_files(directory: str | PathLike[str]) -> Iterable[Path]:
    """Every file a dataset comparison should cover (manifest, run.json, shards), sorted."""
    root = Path(directory)
    yield root / MANIFEST
    yield root / RUN_INFO
    yield from sorted(p for p in (root / SHARDS_DIR).rglob("*") if p.is_file())
