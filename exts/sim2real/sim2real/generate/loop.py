"""The one generation loop: frame i = render after reset + the samples of (seed, i); encode off-thread."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..dataset.manifest import DatasetSpec
from ..dataset.store import FrameEntry
from ..dataset.writer import FramePool
from ..sim.rendered_frame import Frame


class FrameSource:
    """A loaded backend driven by a Randomizer that renders frame ``i`` as a pure function of (spec, i).

    The start-up sample is applied once after loading (the backend keeps it across resets). For
    frame ``i`` the backend is reset to its captured defaults, then the reset sample of episode ``i``
    and the frame sample ``i`` are applied (``sim.driver.RandomizedSim``), so a frame never depends
    on the frames rendered before it in the same process. The backend records every value it applied
    in ``frame.sample``. The render thread only renders: a backend that can defer its image effects
    (``sim.backend.DefersEffects``) leaves them to the writer threads (``Frame.finished``), one that
    preloads textures (``sim.backend.PreloadsTextures``) gets the profile's images at load; the bytes
    are those of the plain path.
    """

    def __init__(self, spec: DatasetSpec, profile_path: str | Path, scene_path: str | Path,
                 prepared: Any = None, overrides: Sequence[str] = ()) -> None:
        """``prepared``: the scene as ``prepare_scene`` made it (worker processes), else it is loaded here;
        ``overrides``: the request's dotted overrides of the profile."""
        from ..randomize.profile import load_profile
        from ..randomize.runtime import Randomizer
        from ..sim import registry
        from ..sim.backend import DefersEffects
        from ..sim.driver import RandomizedSim

        self.spec = spec
        profile = load_profile(profile_path, overrides)
        self.backend = registry.create(spec.backend)
        if isinstance(self.backend, DefersEffects):
            self.backend.defer_effects = True
        try:
            if prepared is not None:
                self.backend.load(prepared, resolution=spec.resolution)
            else:
                self.backend.load(scene_path, resolution=spec.resolution, **_load_options(self.backend, profile))
            self.backend.capabilities.require(spec.backend, profile.targets(), source=str(profile_path))
            randomizer = Randomizer(profile, spec.seed, self.backend.entities(), n_envs=1, dt=self.backend.dt)
            self.sim = RandomizedSim(self.backend, randomizer)
            self.sim.start()
        except BaseException:
            self.backend.close()
            raise

    def render(self, index: int) -> Frame:
        self.sim.reset(index)
        return self.sim.render(self.spec.camera, index=index)

    def close(self) -> None:
        self.sim.close()
        self.backend.close()


class PoolSink:
    """The worker-side twin of ``DatasetWriter.write``: frames go through a FramePool, committed
    entries are handed to ``forward`` (a queue to the parent process, or a list for Ray)."""

    def __init__(self, pool: FramePool, forward: Callable[[list[FrameEntry]], None]) -> None:
        self.pool = pool
        self.forward = forward

    def write(self, index: int, frame: Frame) -> None:
        self.pool.submit(index, frame)
        self._send(self.pool.completed())

    def flush(self) -> None:
        self._send(self.pool.drain())

    def _send(self, entries: list[FrameEntry]) -> None:
        if entries:
            self.forward(entries)


class Sink(Protocol):
    def write(self, index: int, frame: Frame) -> None: ...


def _load_options(backend: Any, profile: Any) -> dict[str, Any]:
    from ..sim.backend import PreloadsTextures

    return {"textures": profile.texture_files()} if isinstance(backend, PreloadsTextures) else {}


def prepare_scene(spec: DatasetSpec, profile_path: str | Path, scene_path: str | Path,
                  overrides: Sequence[str] = ()) -> Any:
    """The scene loaded and compiled once for every worker process (``sim.backend.PreparesScene``), or
    None when the backend cannot hand one over (then each worker loads the file)."""
    from ..randomize.profile import load_profile
    from ..sim import registry
    from ..sim.backend import PreparesScene

    backend = registry.create(spec.backend)
    try:
        if not isinstance(backend, PreparesScene):
            return None
        options = _load_options(backend, load_profile(profile_path, overrides))
        return backend.prepare_scene(scene_path, resolution=spec.resolution, **options)
    finally:
        backend.close()


def rasterizer_threads(workers: int) -> int:
    """Threads of Mesa's software rasterizer (llvmpipe) per renderer: the cores shared among the
    workers, so that one worker and N workers both use every core (llvmpipe's own default is one
    thread per core in every process)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def run(source: FrameSource, indices: Iterable[int], sink: Sink) -> None:
    """The generation loop. ``sink.write`` returns as soon as the frame is queued for encoding."""
    for index in indices:
        sink.write(index, source.render(index))


def open_source(args: dict[str, Any]) -> tuple[FrameSource, FramePool]:
    """Rebuild the frame source and a writer pool in a worker from ``request.worker_args``.

    Each worker's rasterizer gets its share of the cores (``rasterizer_threads``, set by the parent;
    oversubscribing 2 cores with a thread per core in each of 2 workers measured 1.26x one worker
    instead of 1.40x). A user's LP_NUM_THREADS wins. The scene comes compiled from the parent when the
    backend can hand it over (``prepare_scene``)."""
    os.environ.setdefault("LP_NUM_THREADS", str(args["rasterizer_threads"]))
    spec = DatasetSpec.from_dict(args["spec"])
    source = FrameSource(spec, args["profile_path"], args["scene_path"], prepared=args.get("scene"),
                         overrides=args.get("overrides", ()))
    return source, FramePool(args["out"], spec.outputs, args["frames_per_shard"], args["threads"])
