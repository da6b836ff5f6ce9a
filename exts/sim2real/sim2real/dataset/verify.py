"""``sim2real dataset verify``: check every byte of a dataset a reader uses, and that nothing else is there.

manifest.json (its own ``manifest_sha256``) -> sha256 of each shard's index.json -> sha256 of each
frame record -> sha256 of each file the record lists; ``run.json`` must name the manifest's dataset.
Anything that does not match or is missing is an error. Files that are not part of the dataset (a
shard folder the manifest does not list, an unknown file at the top level or in a shard, a left-over
temporary file) are errors too, or warnings with ``strays="warning"`` (``--allow-strays``). What is
expected at the top level besides the shards: ``EXTRA`` (not checked: ``runtime.jsonl`` varies by run,
the lock file is the writer's, ``coco/instances.json`` is a product of the dataset) and the default
folders of the other exports (``yolo/``, ``hf/``, ``wds/``: products too, their contents not looked at).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import Sim2RealError
from ..fsutil import LOCK_NAME, is_tmp_name, sha256_bytes, sha256_file
from ..runs import RUN_INFO
from .layout import MANIFEST, RUNTIME_LOG, SHARD_INDEX, SHARDS_DIR, is_frame_file_name
from .manifest import SELF_KEY, Manifest, ShardInfo, digest_problem, read_manifest_data
from .store import shard_dir

COCO = "coco/instances.json"
EXTRA = (RUNTIME_LOG, LOCK_NAME, COCO)
EXPORT_DIRS = ("yolo", "hf", "wds")  # the default --out of export-yolo, export-parquet, export-webdataset
STRAYS = ("error", "warning")


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
    directory: str | PathLike[str], threads: int = 4, progress: Callable[[int], None] | None = None,
    strays: str = "error",
) -> VerifyReport:
    """Check the whole dataset; ``progress(n)`` is called with the number of frames checked so far;
    ``strays`` is the severity of files that are not part of the dataset."""
    if strays not in STRAYS:
        raise ValueError(f"strays: expected one of {STRAYS} (got {strays!r})")
    root = Path(directory)
    report = VerifyReport(str(root))
    try:
        manifest = _check_manifest(root, report)
    except Sim2RealError as exc:
        report.problems.append(Problem(MANIFEST, str(exc)))
        return report
    _check_run_info(root, manifest, report)
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for info in manifest.shards:
            _verify_shard(root, info, report, pool, strays)
            if progress is not None:
                progress(report.frames_checked)
    _check_top_level(root, manifest, report, strays)
    return report


def _check_manifest(root: Path, report: VerifyReport) -> Manifest:
    path, data = read_manifest_data(root)
    manifest = Manifest.from_dict(data, str(path))
    report.frames = manifest.frames
    report.complete = manifest.complete
    problem = digest_problem(data, manifest)
    if problem:
        report.problems.append(Problem(MANIFEST, problem))
    elif SELF_KEY not in data:
        report.problems.append(Problem(MANIFEST, f"no {SELF_KEY} (written before sim2real recorded one): its values "
                                                 "are not checked, only the files it lists", "warning"))
    if manifest.done != manifest.frames:
        report.problems.append(
            Problem(MANIFEST, f"incomplete: {manifest.done} of {manifest.frames} frames (re-run the generator)", "warning")
        )
    return manifest


def _check_run_info(root: Path, manifest: Manifest, report: VerifyReport) -> None:
    """``run.json`` is derived from the spec: it must say so (readers of lineage take its id)."""
    try:
        info = json.loads((root / RUN_INFO).read_bytes())
    except FileNotFoundError:
        report.problems.append(Problem(RUN_INFO, "missing"))
        return
    except ValueError as exc:
        report.problems.append(Problem(RUN_INFO, f"corrupt JSON ({exc})"))
        return
    want = {"kind": "dataset", "id": manifest.dataset_id, "inputs": manifest.spec.to_dict()}
    wrong = [k for k, v in want.items() if not isinstance(info, dict) or info.get(k) != v]
    if wrong:
        report.problems.append(Problem(RUN_INFO, f"{', '.join(wrong)}: do not match manifest.json's dataset"))


def _check_top_level(root: Path, manifest: Manifest, report: VerifyReport, strays: str) -> None:
    """Everything outside the shard folders (whose contents ``_verify_shard`` checks)."""
    shards = {info.name for info in manifest.shards}
    expected = {MANIFEST, RUN_INFO, *EXTRA, SHARDS_DIR, *EXPORT_DIRS}
    for p in _walk(root, prune=lambda p: p.parent == root / SHARDS_DIR or p.parent == root and p.name in EXPORT_DIRS):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            report.problems.append(Problem(rel, "a symbolic link (a dataset holds none)"))
        elif p.parent == root / SHARDS_DIR:
            if p.name not in shards or not p.is_dir():
                report.problems.append(Problem(rel, f"not a shard of this dataset (manifest.json lists {len(shards)})",
                                               strays))
        elif not (rel in expected or p.is_dir() and any(e.startswith(rel + "/") for e in expected)):
            report.problems.append(Problem(rel, _stray(p, "not part of the dataset"), strays))


def _walk(root: Path, prune: Callable[[Path], bool]) -> list[Path]:
    """Every path under ``root`` (sorted), not descending into links or folders ``prune`` names."""
    out = []
    for p in sorted(root.iterdir()):
        out.append(p)
        if p.is_dir() and not p.is_symlink() and not prune(p):
            out.extend(_walk(p, prune))
    return out


def _stray(path: Path, what: str) -> str:
    return "left-over temporary file" if is_tmp_name(path) else what


def _verify_shard(root: Path, info: ShardInfo, report: VerifyReport, pool: ThreadPoolExecutor, strays: str) -> None:
    folder = shard_dir(root, info.name)
    rel = folder.relative_to(root)
    index_path = folder / SHARD_INDEX
    if folder.is_symlink() or not index_path.is_file():
        if info.done or info.index_sha256:
            report.problems.append(Problem(str(rel / SHARD_INDEX), "missing"))
        return
    data = index_path.read_bytes()
    if info.index_sha256 != sha256_bytes(data):
        report.problems.append(Problem(str(rel / SHARD_INDEX), "does not match the checksum in manifest.json"))
    try:
        frames = _index_entries(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
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
        if p.is_symlink():
            report.problems.append(Problem(str(rel / p.name), "a symbolic link (a dataset holds none)"))
        elif p.name != SHARD_INDEX and p.name not in expected:
            report.problems.append(Problem(str(rel / p.name), _stray(p, "file not listed in the shard index"), strays))
    report.frames_checked += len(frames)


def _index_entries(data: bytes) -> dict[int, dict[str, Any]]:
    """A shard index's frames, each ``{"record": NAME, "sha256": HEX, "files": {NAME: HEX}}`` with every
    NAME a plain file name of the shard folder (an index is never trusted to point elsewhere)."""
    frames = {int(k): v for k, v in json.loads(data)["frames"].items()}
    for index, entry in frames.items():
        names = [entry["record"], *entry["files"]]
        sums = [entry["sha256"], *entry["files"].values()]
        bad = [n for n in names if not is_frame_file_name(n)]
        if bad:
            raise ValueError(f"frame {index}: {bad[0]!r} is not a file name of the shard folder")
        if not all(isinstance(h, str) for h in sums):
            raise ValueError(f"frame {index}: expected sha256 strings")
    return frames


def _check_record(folder: Path, rel: Path, entry: dict[str, Any], report: VerifyReport) -> None:
    """The record must list exactly the files the shard index lists, with the same checksums."""
    path = folder / entry["record"]
    try:
        record = json.loads(path.read_bytes()) if not path.is_symlink() else None
        listed = {m["name"]: m["sha256"] for m in record["files"].values()} if record is not None else None
    except FileNotFoundError:
        return  # reported as missing with the other files
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        report.problems.append(Problem(str(rel / entry["record"]), f"corrupt record ({exc})"))
        return
    if listed is not None and listed != entry["files"]:
        report.problems.append(Problem(str(rel / entry["record"]), "lists other files than the shard index"))


def _sha_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except FileNotFoundError:
        return None
