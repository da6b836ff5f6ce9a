"""``sim2real dataset verify``: check every file of a dataset against the manifest's checksum chain.

manifest.json -> sha256 of each shard's index.json -> sha256 of each frame record -> sha256 of each
file the record lists. Anything that does not match, is missing, or is left over is reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import Sim2RealError
from ..fsutil import is_tmp_name, sha256_bytes, sha256_file
from .layout import MANIFEST, SHARD_INDEX
from .manifest import ShardInfo, load_manifest
from .store import shard_dir


@dataclass
class Problem:
    path: str  # relative to the dataset directory
    message: str
    severity: str = "error"  # error | warning


@dataclass
class VerifyReport:
    directory: str
    frames: int = 0  # target frame count in the manifest
    frames_checked: int = 0
    files_checked: int = 0
    complete: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


def verify(
    directory: str | PathLike[str], threads: int = 4, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Check the whole dataset; ``progress(n)`` is called with the number of frames checked so far."""
    root = Path(directory)
    report = VerifyReport(str(root))
    try:
        manifest = load_manifest(root)
    except Sim2RealError as exc:
        report.problems.append(Problem(MANIFEST, str(exc)))
        return report
    report.frames = manifest.frames
    report.complete = manifest.complete
    if manifest.done != manifest.frames:
        report.problems.append(
            Problem(MANIFEST, f"incomplete: {manifest.done} of {manifest.frames} frames (re-run the generator)", "warning")
        )
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for info in manifest.shards:
            _verify_shard(root, info, report, pool)
            if progress is not None:
                progress(report.frames_checked)
    return report


def _verify_shard(root: Path, info: ShardInfo, report: VerifyReport, pool: ThreadPoolExecutor) -> None:
    folder = shard_dir(root, info.name)
    rel = folder.relative_to(root)
    index_path = folder / SHARD_INDEX
    if not index_path.is_file():
        if info.done or info.index_sha256:
            report.problems.append(Problem(str(rel / SHARD_INDEX), "missing"))
        return
    data = index_path.read_bytes()
    if info.index_sha256 != sha256_bytes(data):
        report.problems.append(Problem(str(rel / SHARD_INDEX), "does not match the checksum in manifest.json"))
    try:
        frames = {int(k): v for k, v in json.loads(data)["frames"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(Problem(str(rel / SHARD_INDEX), f"corrupt ({exc})"))
        return
    if len(frames) != info.done:
        report.problems.append(
            Problem(str(rel / SHARD_INDEX), f"lists {len(frames)} frames, manifest.json says {info.done}")
        )
    expected: dict[str, str] = {}
    for index, entry in sorted(frames.items()):
        if not info.first <= index < info.first + info.count:
            report.problems.append(Problem(str(rel / SHARD_INDEX), f"frame {index} does not belong to this shard"))
        expected[entry["record"]] = entry["sha256"]
        expected.update(entry["files"])
        _check_record(folder, rel, entry, report)
    names = sorted(expected)
    for name, actual in zip(names, pool.map(lambda n: _sha_or_none(folder / n), names)):
        report.files_checked += 1
        if actual is None:
            report.problems.append(Problem(str(rel / name), "missing"))
        elif actual != expected[name]:
            report.problems.append(Problem(str(rel / name), "checksum mismatch (file changed or corrupt)"))
    for p in sorted(folder.iterdir()):
        if p.name == SHARD_INDEX or p.name in expected:
            continue
        what = "left-over temporary file" if is_tmp_name(p) else "file not listed in the shard index"
        report.problems.append(Problem(str(rel / p.name), what, "warning"))
    report.frames_checked += len(frames)


def _check_record(folder: Path, rel: Path, entry: dict[str, Any], report: VerifyReport) -> None:
    """The record must list exactly the files the shard index lists, with the same checksums."""
    try:
        record = json.loads((folder / entry["record"]).read_bytes())
        listed = {m["name"]: m["sha256"] for m in record["files"].values()}
    except FileNotFoundError:
        return  # reported as missing with the other files
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(Problem(str(rel / entry["record"]), f"corrupt record ({exc})"))
        return
    if listed != entry["files"]:
        report.problems.append(Problem(str(rel / entry["record"]), "lists other files than the shard index"))


def _sha_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except FileNotFoundError:
        return None
