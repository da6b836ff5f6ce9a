"""Merging the parts of a dataset made by several independent processes (one per GPU or node).

``tools/isaac/generate.py --num-shards K --shard-index k`` makes the dataset shards ``s`` with
``s % K == k`` into their own part dataset ``OUT.parts/<k>-of-<K>/`` (each part holds its own lock,
manifest and resume state, so parts can run on different machines and be interrupted). Frames are a
pure function of (profile, scene, seed, index), so the parts of one request fit together exactly.
``merge_parts`` moves their committed frames into ``OUT`` (record last, as every commit) and lets the
dataset's recovery adopt them, checking every file against its record's checksum; a part whose
frames all moved is deleted. Interrupted, it is simply run again.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import fsync_dir
from ..progress import NullReporter, Reporter
from .layout import RUNTIME_LOG
from .manifest import Manifest, load_manifest, manifest_path
from .store import read_shard_index, shard_dir
from .writer import DatasetWriter

log = logging.getLogger(__name__)
PARTS_SUFFIX = ".parts"


def parts_dir(out: str | PathLike[str]) -> Path:
    out = Path(out)
    return out.with_name(out.name + PARTS_SUFFIX)


def part_path(out: str | PathLike[str], index: int, count: int) -> Path:
    """Where shard-set ``index`` of ``count`` writes its part of dataset ``out``."""
    return parts_dir(out) / f"{index:03d}-of-{count:03d}"


def owns(index: int, frames_per_shard: int, shard_index: int, num_shards: int) -> bool:
    """Does shard-set ``shard_index`` of ``num_shards`` make frame ``index``? (whole dataset shards,
    dealt round-robin, so every part writes complete shard folders)"""
    return (index // frames_per_shard) % num_shards == shard_index


def find_parts(out: str | PathLike[str]) -> list[Path]:
    root = parts_dir(out)
    return sorted(p for p in root.iterdir() if p.is_dir() and manifest_path(p).is_file()) if root.is_dir() else []


def merge_parts(out: str | PathLike[str], parts: list[Path] | None = None, reporter: Reporter | None = None,
                ) -> dict[str, Any]:
    """Merge ``parts`` (default: every part in ``OUT.parts/``) into the dataset ``out``."""
    reporter = reporter or NullReporter()
    out = Path(out)
    parts = list(parts) if parts is not None else find_parts(out)
    if not parts:
        raise InputError(f"{out}: no parts to merge (expected part datasets in {parts_dir(out)})")
    manifests = [load_manifest(p) for p in parts]
    first = manifests[0]
    for part, m in zip(parts[1:], manifests[1:]):
        diffs = first.spec.differences(m.spec)
        if diffs or m.frames_per_shard != first.frames_per_shard:
            what = "; ".join(diffs) or "frames per shard"
            raise InputError(f"{part}: a part of another dataset than {parts[0]} ({what})")
    frames = max(m.frames for m in manifests)
    moved = 0
    with DatasetWriter(out, first.spec, frames, first.versions, frames_per_shard=first.frames_per_shard,
                       runtime={"executor": "merge", "parts": len(parts)}) as writer:
        assert writer.catalog is not None
        missing = set(writer.missing())
        task = reporter.task("merge", total=sum(m.done for m in manifests), unit="frame")
        for part, manifest in zip(parts, manifests):
            moved += _move_part(part, manifest, out, missing, task)
        recovery = writer.catalog.rescan()
        _append_runtime(out, parts)
        task.close()
        done = writer.catalog.done
    kept = []
    for part in parts:
        if _empty(part):
            shutil.rmtree(part)
        else:
            kept.append(str(part))
    if parts_dir(out).is_dir() and not any(parts_dir(out).iterdir()):
        parts_dir(out).rmdir()
    result = {"out": str(out), "frames": frames, "frames_done": done, "moved": moved,
              "adopted": recovery.adopted, "discarded": recovery.discarded, "parts_kept": kept}
    reporter.result(result)
    return result


def _move_part(part: Path, manifest: Manifest, out: Path, missing: set[int], task: Any) -> int:
    moved = 0
    for info in manifest.shards:
        entries = read_shard_index(part, info.name)
        if not entries:
            continue
        target = shard_dir(out, info.name)
        target.mkdir(parents=True, exist_ok=True)
        source = shard_dir(part, info.name)
        for index, entry in sorted(entries.items()):
            if index in missing:
                for name in sorted(entry["files"]):
                    if name != entry["record"]:
                        _move(source / name, target / name)
                fsync_dir(target)
                _move(source / entry["record"], target / entry["record"])  # the commit marker last
                moved += 1
            task.advance()
        fsync_dir(target)
    return moved


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = dst.with_name(f".{dst.name}.merge-tmp")  # another filesystem: copy, then rename
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
        src.unlink()


def _empty(part: Path) -> bool:
    """True when no frame file is left in the part (only its books)."""
    shards = part / "shards"
    if not shards.is_dir():
        return True
    return all(p.name == "index.json" for p in shards.rglob("*") if p.is_file())


def _append_runtime(out: Path, parts: list[Path]) -> None:
    lines = []
    for part in parts:
        log_file = part / RUNTIME_LOG
        if log_file.is_file():
            lines += [line for line in log_file.read_text().splitlines() if line.strip()]
    if lines:
        with open(out / RUNTIME_LOG, "a") as fh:
            fh.write("\n".join(lines) + "\n")
