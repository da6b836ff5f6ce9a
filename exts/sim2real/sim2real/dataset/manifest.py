"""The dataset manifest: what a dataset is (its spec), which shards it holds, and their checksums.

``manifest.json`` holds nothing that depends on when, where or how fast it was made (no times, hosts
or worker counts: those go to ``runtime.jsonl``), so the same spec gives a byte-identical manifest
however the frames were produced. It is rewritten atomically whenever a shard index changes.

``manifest_sha256`` is the sha256 of the canonical JSON (``fsutil.canonical_json``) of every other key:
a changed value or key that still parses (a digit of a shard checksum, a class name) is caught by
``load_manifest`` and ``dataset verify``. Manifests written before it existed have none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import InputError, IntegrityError
from ..fsutil import atomic_write_json, canonical_json, sha256_bytes
from ..runs import content_id
from .encode import Outputs
from .layout import FORMAT_NAME, MANIFEST, SCHEMA_VERSION, shard_count, shard_name, shard_range

SELF_KEY = "manifest_sha256"


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that decides the content of frame ``i`` (with ``i`` itself)."""

    profile: dict[str, Any]  # {"name": str, "hash": str, "config": normalised profile}
    scene: dict[str, Any]  # {"name": str, "sha256": str of the scene file}
    backend: str
    camera: str
    resolution: tuple[int, int]  # (width, height) pixels
    seed: int
    outputs: Outputs = field(default_factory=Outputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "scene": self.scene,
            "backend": self.backend,
            "camera": self.camera,
            "resolution": list(self.resolution),
            "seed": self.seed,
            "outputs": self.outputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSpec:
        return cls(
            profile=data["profile"],
            scene=data["scene"],
            backend=data["backend"],
            camera=data["camera"],
            resolution=(int(data["resolution"][0]), int(data["resolution"][1])),
            seed=int(data["seed"]),
            outputs=Outputs.from_dict(data["outputs"]),
        )

    def dataset_id(self) -> str:
        return content_id("dataset", self.to_dict())

    def differences(self, other: DatasetSpec) -> list[str]:
        """Human-readable ``key: this vs other`` lines for what differs."""
        a, b = _summary(self), _summary(other)
        return [f"{k} {a[k]} vs {b[k]}" for k in a if a[k] != b[k]]


def _summary(spec: DatasetSpec) -> dict[str, str]:
    o = spec.outputs
    return {
        "profile": f"{spec.profile.get('name')}@{spec.profile.get('hash')}",
        "scene": f"{spec.scene.get('name')}@{str(spec.scene.get('sha256'))[:12]}",
        "backend": spec.backend,
        "camera": spec.camera,
        "resolution": f"{spec.resolution[0]}x{spec.resolution[1]}",
        "seed": str(spec.seed),
        "layout": o.layout,
        "depth-npy": str(o.depth_npy),
        "png-level": str(o.png_level),
    }


@dataclass
class ShardInfo:
    name: str
    first: int
    count: int
    done: int = 0
    index_sha256: str | None = None  # sha256 of shards/<name>/index.json as last written

    @property
    def complete(self) -> bool:
        return self.done == self.count


@dataclass
class Manifest:
    spec: DatasetSpec
    frames: int
    frames_per_shard: int
    versions: dict[str, str]
    labels: dict[int, str] = field(default_factory=dict)
    shards: list[ShardInfo] = field(default_factory=list)

    @classmethod
    def new(cls, spec: DatasetSpec, frames: int, frames_per_shard: int, versions: dict[str, str]) -> Manifest:
        manifest = cls(spec, 0, frames_per_shard, dict(versions))
        manifest.extend(frames)
        return manifest

    def extend(self, frames: int) -> None:
        """Grow the target frame count (datasets are append-only: frame i never changes)."""
        self.frames = frames
        per = self.frames_per_shard
        for s in range(shard_count(frames, per)):
            r = shard_range(s, per, frames)
            if s < len(self.shards):
                self.shards[s].count = len(r)
            else:
                self.shards.append(ShardInfo(shard_name(s), r.start, len(r)))

    @property
    def done(self) -> int:
        return sum(s.done for s in self.shards)

    @property
    def complete(self) -> bool:
        return self.done == self.frames

    @property
    def dataset_id(self) -> str:
        return self.spec.dataset_id()

    def to_dict(self) -> dict[str, Any]:
        body = self._body()
        return {**body, SELF_KEY: digest(body)}

    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION,
            "id": self.dataset_id,
            "spec": self.spec.to_dict(),
            "frames": self.frames,
            "frames_done": self.done,
            "complete": self.complete,
            "frames_per_shard": self.frames_per_shard,
            "versions": self.versions,
            "labels": {str(k): v for k, v in sorted(self.labels.items())},
            "shards": [
                {"name": s.name, "first": s.first, "count": s.count, "done": s.done, "index_sha256": s.index_sha256}
                for s in self.shards
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = MANIFEST) -> Manifest:
        if data.get("format") != FORMAT_NAME:
            raise InputError(f"{source}: not a sim2real dataset manifest (format {data.get('format')!r})")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise InputError(f"{source}: schema_version {version} is not supported (this sim2real reads {SCHEMA_VERSION})")
        try:
            manifest = cls(
                spec=DatasetSpec.from_dict(data["spec"]),
                frames=int(data["frames"]),
                frames_per_shard=int(data["frames_per_shard"]),
                versions=dict(data["versions"]),
                labels={int(k): str(v) for k, v in data["labels"].items()},
                shards=[ShardInfo(s["name"], int(s["first"]), int(s["count"]), int(s["done"]), s["index_sha256"])
                        for s in data["shards"]],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IntegrityError(f"{source}: malformed manifest ({type(exc).__name__}: {exc})") from None
        manifest._check_shards(source)
        return manifest

    def _check_shards(self, source: str) -> None:
        """Shard ``s`` is ``shards/<shard_name(s)>`` over ``shard_range(s)``: a name is never a path."""
        if self.frames_per_shard < 1 or self.frames < 0:
            raise IntegrityError(f"{source}: frames {self.frames}, frames_per_shard {self.frames_per_shard}: "
                                 "expected 0 or more, 1 or more")
        count = shard_count(self.frames, self.frames_per_shard)
        if count != len(self.shards):
            raise IntegrityError(f"{source}: shards: expected {count} for {self.frames} frames of "
                                 f"{self.frames_per_shard} a shard (got {len(self.shards)})")
        for s, info in enumerate(self.shards):
            r = shard_range(s, self.frames_per_shard, self.frames)
            if (info.name, info.first, info.count) != (shard_name(s), r.start, len(r)) or not 0 <= info.done <= info.count:
                raise IntegrityError(f"{source}: shards[{s}]: expected name {shard_name(s)!r}, first {r.start}, "
                                     f"count {len(r)} and done within 0..{len(r)} (got {info.name!r}, {info.first}, "
                                     f"{info.count}, {info.done})")

    def save(self, directory: str | PathLike[str]) -> Path:
        return atomic_write_json(Path(directory) / MANIFEST, self.to_dict())


def manifest_path(directory: str | PathLike[str]) -> Path:
    return Path(directory) / MANIFEST


def digest(body: dict[str, Any]) -> str:
    """``manifest_sha256`` of a manifest's other keys (see the module docstring)."""
    return sha256_bytes(canonical_json({k: v for k, v in body.items() if k != SELF_KEY}).encode("utf-8"))


def digest_problem(data: dict[str, Any], manifest: Manifest) -> str | None:
    """Why the manifest ``data`` (parsed into ``manifest``) does not check out against its
    ``manifest_sha256`` (None if it does, or if it predates the key and has no key we do not write)."""
    unknown = sorted(set(data) - set(manifest.to_dict()))
    if unknown:
        return f"unexpected key {unknown[0]!r} (a changed key name, or not written by sim2real)"
    if SELF_KEY not in data:
        return None
    if data[SELF_KEY] != digest(data):
        return f"{SELF_KEY} does not match the manifest's contents (a value changed after it was written)"
    return None


def load_manifest(directory: str | PathLike[str], check: bool = True) -> Manifest:
    """Read ``DIR/manifest.json``; one-line errors for a missing or corrupt one, or (``check``) one
    whose contents do not match its ``manifest_sha256``."""
    path, data = read_manifest_data(directory)
    manifest = Manifest.from_dict(data, str(path))
    problem = digest_problem(data, manifest) if check else None
    if problem:
        raise IntegrityError(f"{path}: {problem}; run sim2real dataset verify")
    return manifest


def read_manifest_data(directory: str | PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """``DIR/manifest.json`` as parsed JSON (a dict), unchecked; one-line errors as ``load_manifest``."""
    path = manifest_path(directory)
    if not Path(directory).is_dir():
        raise InputError(f"{directory}: no such dataset directory")
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{directory}: not a sim2real dataset (no {MANIFEST})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for a flipped high bit
        raise IntegrityError(f"{path}: corrupt JSON ({exc})") from None
    if not isinstance(data, dict):
        raise IntegrityError(f"{path}: corrupt manifest (not a JSON object)")
    return path, data
