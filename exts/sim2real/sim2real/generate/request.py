"""What a generation run is asked to do, and turning it into a dataset spec."""

from __future__ import annotations

import importlib.metadata
import platform
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..dataset.encode import Outputs
from ..dataset.layout import DEFAULT_FRAMES_PER_SHARD
from ..dataset.manifest import DatasetSpec
from ..errors import ConfigError, InputError, UserError, did_you_mean
from ..fsutil import sha256_file
from ..paths import config_path, data_path

DEFAULT_SCENE = "tabletop"
DEFAULT_CAMERA = "main"
EXECUTORS = ("local", "ray")
SCENE_SUFFIX = {"isaac": ".usda"}  # shipped scenes: data/scenes/<name>.xml (MJCF) or .usda (made from it)


@dataclass
class GenerateRequest:
    profile: str  # a path to a TOML profile, or the name of one in config/profiles/
    frames: int
    out: Path
    scene: str | None = None  # path or name in data/scenes/; default: the profile's scene, else tabletop
    seed: int = 0
    resolution: tuple[int, int] = (640, 480)  # width, height
    camera: str = DEFAULT_CAMERA
    backend: str = "mujoco"
    outputs: Outputs = field(default_factory=Outputs)
    workers: int = 1
    executor: str = "local"
    threads: int = 2  # encoder/writer threads per worker
    frames_per_shard: int = DEFAULT_FRAMES_PER_SHARD
    ray_address: str | None = None  # None: start a local Ray; "auto" or "host:port": join a cluster
    gpus_per_worker: float = 0.0  # Ray: GPUs each renderer actor reserves (1 for Isaac Sim workers)
    chunk: int = 50  # most frames per Ray work item (fewer when a job is small: ray_executor)
    num_shards: int = 1  # split the dataset's shards over this many independent runs (one per GPU/node) ...
    shard_index: int = 0  # ... of which this is one: it writes OUT.parts/<k>-of-<K> (sim2real dataset merge)
    overrides: tuple[str, ...] = ()  # dotted key=value overrides of the profile's keys (terms.<name>.high=...)

    def __post_init__(self) -> None:
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise UserError(f"--shard-index: expected 0..{self.num_shards - 1} for --num-shards {self.num_shards} "
                            f"(got {self.shard_index})")
        if self.frames < 1:
            raise UserError(f"--frames: expected a positive number of frames (got {self.frames})")
        if self.workers < 1:
            raise UserError(f"--workers: expected at least 1 (got {self.workers})")
        if self.executor not in EXECUTORS:
            raise UserError(f"--executor: expected one of {', '.join(EXECUTORS)} (got {self.executor!r})")
        w, h = self.resolution
        if w < 1 or h < 1:
            raise UserError(f"--resolution: expected WIDTHxHEIGHT with positive sizes (got {w}x{h})")


def resolve_file(value: str, kind: str, folder: Path, suffix: str) -> Path:
    """A path as given, else ``folder/<value><suffix>`` (a shipped resource by name)."""
    path = Path(value).expanduser()
    if path.is_file():
        return path.resolve()
    named = folder / f"{value}{suffix}"
    if named.is_file():
        return named.resolve()
    shipped = sorted(p.stem for p in folder.glob(f"*{suffix}")) if folder.is_dir() else []
    raise InputError(f"--{kind}: {value!r} is neither a file nor one of: {', '.join(shipped) or '(none shipped)'}")


def profile_scene(profile_path: Path, scene: str, backend: str) -> Path:
    """The scene a profile names (``scene = ...``): a path relative to the profile's folder, else a
    shipped scene by name; a ConfigError naming the profile's ``scene`` key otherwise."""
    relative = profile_path.parent / scene
    if relative.is_file():
        return relative.resolve()
    folder, suffix = data_path("scenes"), SCENE_SUFFIX.get(backend, ".xml")
    try:
        return resolve_file(scene, "scene", folder, suffix)
    except InputError:
        shipped = sorted(p.stem for p in folder.glob(f"*{suffix}"))
        raise ConfigError(profile_path, "scene", f"a scene file (relative to the profile) or a shipped scene "
                          f"({', '.join(shipped)})", scene, hint=did_you_mean(scene, shipped)) from None


@dataclass
class Resolved:
    """The request with its files found and read: what workers need to rebuild the same frames."""

    request: GenerateRequest
    profile_path: Path
    scene_path: Path
    spec: DatasetSpec
    versions: dict[str, str]


def resolve(request: GenerateRequest) -> Resolved:
    from ..randomize.profile import load_profile, require_randomization

    profile_path = resolve_file(request.profile, "profile", config_path("profiles"), ".toml")
    profile = require_randomization(load_profile(profile_path, request.overrides))
    suffix = SCENE_SUFFIX.get(request.backend, ".xml")  # a shipped scene by name: its file for this backend
    if request.scene is not None:
        scene_path = resolve_file(request.scene, "scene", data_path("scenes"), suffix)
    elif profile.scene is not None:
        scene_path = profile_scene(profile_path, profile.scene, request.backend)
    else:
        scene_path = resolve_file(DEFAULT_SCENE, "scene", data_path("scenes"), suffix)
    spec = DatasetSpec(
        profile={"name": profile.name or profile_path.stem, "hash": profile.hash, "config": profile.to_dict()},
        scene={"name": scene_path.stem, "sha256": sha256_file(scene_path)},
        backend=request.backend,
        camera=request.camera,
        resolution=request.resolution,
        seed=request.seed,
        outputs=request.outputs,
    )
    return Resolved(request, profile_path, scene_path, spec, versions(request.backend))


def versions(backend: str) -> dict[str, str]:
    """Versions that can change the bytes of a frame (recorded in the manifest)."""
    import numpy

    from ..sim.registry import REGISTRY

    out = {
        "sim2real": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
    }
    entry = REGISTRY.get(backend)
    for module in entry.recorded if entry else ():
        try:
            out[module] = importlib.metadata.version(module)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def worker_args(resolved: Resolved) -> dict[str, Any]:
    """Picklable description from which a worker process rebuilds the frame source."""
    return {
        "spec": resolved.spec.to_dict(),
        "profile_path": str(resolved.profile_path),
        "overrides": list(resolved.request.overrides),
        "scene_path": str(resolved.scene_path),
        "out": str(resolved.request.out),
        "frames_per_shard": resolved.request.frames_per_shard,
        "threads": resolved.request.threads,
    }
