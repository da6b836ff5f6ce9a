"""``generate(request, reporter)``: make (or complete) a dataset, whatever the executor."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..dataset.manifest import manifest_path
from ..dataset.merge import owns, part_path
from ..dataset.store import FrameEntry
from ..dataset.writer import DatasetWriter
from ..progress import NullReporter, Reporter
from .request import GenerateRequest, Resolved, resolve

PREVIEW_EVERY_S = 3.0
SourceFactory = Callable[[Resolved], Any]  # -> a frame source: render(index) -> Frame, close()


def generate(request: GenerateRequest, reporter: Reporter | None = None, *,
             source_factory: SourceFactory | None = None,
             select: Callable[[int], bool] | None = None) -> dict[str, Any]:
    """Generate ``request.frames`` frames into ``request.out``; resumes what an earlier run left.

    ``source_factory`` renders in this process with a frame source built for the resolved request
    (the Isaac Sim script passes its Kit frame source); ``select`` keeps only the frame indices this
    run owns (one shard of a multi-GPU run). ``--backend isaac`` outside Isaac Sim launches Isaac Sim's
    Python on ``tools/isaac/generate.py`` (``generate.isaac_launcher``)."""
    reporter = reporter or NullReporter()
    if request.backend == "isaac" and source_factory is None:
        from .isaac_launcher import IsaacLauncher

        return IsaacLauncher().generate(request, reporter)
    runtime: dict[str, Any] = {"executor": request.executor, "workers": request.workers, "threads": request.threads}
    if request.num_shards > 1:  # one of several independent runs: its own part, merged afterwards
        k, n, per = request.shard_index, request.num_shards, request.frames_per_shard
        mine = select or (lambda i: True)
        select = lambda i: owns(i, per, k, n) and mine(i)  # noqa: E731
        request = replace(request, out=part_path(request.out, k, n))
        runtime.update(num_shards=n, shard_index=k)
    resolved = resolve(request)
    out = request.out
    # a new dataset: the frame source is built first (it binds the profile to the scene and the
    # backend), so a request that cannot work fails before anything exists in --out to block its fix
    source = None if manifest_path(out).exists() else _open_source(resolved, source_factory)
    return _generate(resolved, runtime, select, source, source_factory, reporter)


def _generate(resolved: Resolved, runtime: dict[str, Any], select: Callable[[int], bool] | None, source: Any,
              source_factory: SourceFactory | None, reporter: Reporter) -> dict[str, Any]:
    """The run proper; ``source`` (or None) is closed here, by ``_execute`` once handed to it."""
    request, out = resolved.request, resolved.request.out
    try:
        writer = DatasetWriter(out, resolved.spec, request.frames, resolved.versions, threads=request.threads,
                               frames_per_shard=request.frames_per_shard, runtime=runtime)
        started = time.monotonic()
        with writer:
            assert writer.catalog is not None
            total = sum(1 for i in range(request.frames) if select(i)) if select else request.frames
            missing = [i for i in writer.missing() if select(i)] if select else writer.missing()
            done_before = total - len(missing)
            if done_before:
                reporter.message(f"resuming {out}: {done_before} of {total} frames already made")
            task = reporter.task("generate", total=total, unit="frame", done=done_before)
            preview = _Preview(reporter, writer)

            def committed(entry: FrameEntry) -> None:
                task.advance()
                preview.offer(entry)

            writer.on_commit = committed
            if missing:
                handed, source = source, None
                _execute(resolved, writer, missing, handed, source_factory)
            task.close()
            manifest = writer.catalog.manifest
    finally:
        if source is not None:
            source.close()
    seconds = time.monotonic() - started
    made = len(missing)
    result = {
        "dataset": manifest.dataset_id,
        "out": str(out),
        "frames": manifest.frames,
        "made": made,
        "already_done": done_before,
        "seconds": round(seconds, 3),
        "frames_per_s": round(made / seconds, 2) if made and seconds > 0 else None,
    }
    reporter.result(result)
    return result


def _open_source(resolved: Resolved, source_factory: SourceFactory | None) -> Any:
    if source_factory is not None:
        return source_factory(resolved)
    from .loop import FrameSource

    return FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path, overrides=resolved.request.overrides)


def _execute(resolved: Resolved, writer: DatasetWriter, missing: list[int], source: Any,
             source_factory: SourceFactory | None) -> None:
    """Render ``missing``: here with ``source`` (opened now if None), in worker processes or on Ray
    (``source``, the parent's check of a new dataset, is then closed first: workers open their own)."""
    request = resolved.request
    workers = min(request.workers, len(missing))
    if source_factory is not None or (request.executor == "local" and workers <= 1):
        from .local import run_in_process

        run_in_process(resolved, writer, missing, source or _open_source(resolved, source_factory))
        return
    if source is not None:
        source.close()
    if request.executor == "ray":
        from .ray_executor import run_ray

        run_ray(resolved, writer, missing, request.gpus_per_worker)
        return
    from .local import run_processes

    run_processes(resolved, writer, missing, workers)


class _Preview:
    """Every few seconds, point UIs at the RGB image of a freshly committed frame."""

    def __init__(self, reporter: Reporter, writer: DatasetWriter) -> None:
        self.reporter = reporter
        self.writer = writer
        self.last = float("-inf")

    def offer(self, entry: FrameEntry) -> None:
        now = time.monotonic()
        if entry.preview is None or now - self.last < PREVIEW_EVERY_S or self.writer.catalog is None:
            return
        self.last = now
        path: Path = self.writer.catalog.shard_folder(entry.index) / entry.preview
        self.reporter.artifact("sample_image", path.resolve())
