"""``generate(request, reporter)``: make (or complete) a dataset, whatever the executor."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..dataset.store import FrameEntry
from ..dataset.writer import DatasetWriter
from ..progress import NullReporter, Reporter
from .request import GenerateRequest, resolve

PREVIEW_EVERY_S = 3.0


def generate(request: GenerateRequest, reporter: Reporter | None = None) -> dict[str, Any]:
    """Generate ``request.frames`` frames into ``request.out``; resumes what an earlier run left."""
    reporter = reporter or NullReporter()
    resolved = resolve(request)
    runtime = {"executor": request.executor, "workers": request.workers, "threads": request.threads}
    writer = DatasetWriter(request.out, resolved.spec, request.frames, resolved.versions, threads=request.threads,
                           frames_per_shard=request.frames_per_shard, runtime=runtime)
    started = time.monotonic()
    with writer:
        assert writer.catalog is not None
        missing = writer.missing()
        done_before = request.frames - len(missing)
        if done_before:
            reporter.message(f"resuming {request.out}: {done_before} of {request.frames} frames already made")
        task = reporter.task("generate", total=request.frames, unit="frame", done=done_before)
        preview = _Preview(reporter, writer)
        writer.on_commit = lambda entry: (task.advance(), preview.offer(entry))
        if missing:
            _execute(resolved, writer, missing)
        task.close()
        manifest = writer.catalog.manifest
    seconds = time.monotonic() - started
    made = len(missing)
    result = {
        "dataset": manifest.dataset_id,
        "out": str(request.out),
        "frames": manifest.frames,
        "made": made,
        "already_done": done_before,
        "seconds": round(seconds, 3),
        "frames_per_s": round(made / seconds, 2) if made and seconds > 0 else None,
    }
    reporter.result(result)
    return result


def _execute(resolved: Any, writer: DatasetWriter, missing: list[int]) -> None:
    request = resolved.request
    if request.executor == "ray":
        from .ray_executor import run_ray

        run_ray(resolved, writer, missing, request.gpus_per_worker)
        return
    from .local import run_in_process, run_processes

    workers = min(request.workers, len(missing))
    if workers > 1:
        run_processes(resolved, writer, missing, workers)
    else:
        run_in_process(resolved, writer, missing)


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
