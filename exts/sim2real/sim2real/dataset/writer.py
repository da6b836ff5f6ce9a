"""Writing Frames: an encoder/writer thread pool, and ``DatasetWriter``, the writer every engine uses.

The render loop hands a Frame to ``FramePool.submit`` and goes on rendering; threads encode the
images (PNG/zlib and numpy release the GIL) and commit the frame's files. At most ``max_pending``
frames are in flight, so memory stays flat however long the run.

``DatasetWriter`` is the engine-neutral entry point (the MuJoCo generation loop and Isaac Sim's
Replicator writer both use it): ``write(index, frame)`` one Frame at a time, each with its frame
index and its randomization record in ``frame.sample``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from os import PathLike
from pathlib import Path

from ..fsutil import DirLock
from ..sim.rendered_frame import Frame
from . import runlog
from .encode import Outputs, encode_frame
from .layout import DEFAULT_FRAMES_PER_SHARD, shard_name, shard_of
from .manifest import DatasetSpec
from .store import Catalog, FrameEntry, Recovery, lock, shard_dir, write_frame

log = logging.getLogger(__name__)


class FramePool:
    """Encode + write frames on ``threads`` threads; ``submit`` blocks only when ``max_pending`` are queued."""

    def __init__(
        self,
        directory: str | PathLike[str],
        outputs: Outputs,
        frames_per_shard: int,
        threads: int = 2,
        max_pending: int | None = None,
        durable: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.outputs = outputs
        self.frames_per_shard = frames_per_shard
        self.durable = durable
        self._executor = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="sim2real-writer")
        self._slots = threading.BoundedSemaphore(max_pending or 2 * max(1, threads))
        self._done: deque[FrameEntry] = deque()
        self._errors: deque[BaseException] = deque()
        self._pending: set[Future[FrameEntry]] = set()
        self._folders: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, index: int, frame: Frame) -> None:
        self._raise_error()
        self._slots.acquire()
        folder = self._folder(index)
        future = self._executor.submit(self._encode_and_write, folder, index, frame)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._finished)

    def _folder(self, index: int) -> Path:
        name = shard_name(shard_of(index, self.frames_per_shard))
        folder = shard_dir(self.directory, name)
        if name not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(name)
        return folder

    def _encode_and_write(self, folder: Path, index: int, frame: Frame) -> FrameEntry:
        return write_frame(folder, encode_frame(frame, index, self.outputs), durable=self.durable)

    def _finished(self, future: Future[FrameEntry]) -> None:
        with self._lock:
            self._pending.discard(future)
        exc = future.exception()
        if exc is not None:
            self._errors.append(exc)
        else:
            self._done.append(future.result())
        self._slots.release()

    def _raise_error(self) -> None:
        if self._errors:
            raise self._errors.popleft()

    def completed(self) -> list[FrameEntry]:
        """Frames committed since the last call (does not wait)."""
        out = []
        while self._done:
            out.append(self._done.popleft())
        self._raise_error()
        return out

    def drain(self) -> list[FrameEntry]:
        """Wait for every submitted frame, then return what ``completed`` would."""
        with self._lock:
            pending = list(self._pending)
        for f in pending:
            f.exception()  # waits
        return self.completed()

    def close(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)


class DatasetWriter:
    """Create or resume a dataset in ``directory`` and commit Frames to it.

    ``with DatasetWriter(out, spec, frames=N, versions=v) as w:`` then, for each index in
    ``w.missing()``, ``w.write(index, frame)``. Holds the directory lock while open; a second
    writer is refused with ``LockedError``. ``on_commit(entry)`` is called in this thread for every
    committed frame (progress). ``runtime`` (executor, workers, ...) goes to ``runtime.jsonl``
    with this run's times and host, never into the compared files.
    """

    def __init__(
        self,
        directory: str | PathLike[str],
        spec: DatasetSpec,
        frames: int,
        versions: dict[str, str],
        *,
        threads: int = 2,
        frames_per_shard: int = DEFAULT_FRAMES_PER_SHARD,
        durable: bool = True,
        on_commit: Callable[[FrameEntry], None] | None = None,
        runtime: dict[str, object] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.spec = spec
        self.frames = frames
        self.versions = versions
        self.threads = threads
        self.frames_per_shard = frames_per_shard
        self.durable = durable
        self.on_commit = on_commit
        self.runtime = dict(runtime or {})
        self.written = 0
        self._started = (time.time(), time.monotonic())
        self._run = secrets.token_hex(4)  # which line of runtime.jsonl is this run's
        self.catalog: Catalog | None = None
        self.recovery = Recovery()
        self._lock: DirLock | None = None
        self._pool: FramePool | None = None
        self._external = False

    def open(self) -> DatasetWriter:
        self._lock = lock(self.directory).acquire()
        try:
            self.catalog, self.recovery = Catalog.open(
                self.directory, self.spec, self.frames, self.versions, self.frames_per_shard
            )
            self._pool = FramePool(
                self.directory, self.spec.outputs, self.catalog.manifest.frames_per_shard, self.threads,
                durable=self.durable,
            )
            runlog.begin(self.directory, self._runtime_line())
        except BaseException:
            self._lock.release()
            raise
        return self

    def missing(self) -> list[int]:
        assert self.catalog is not None, "open() first"
        return self.catalog.missing()

    def write(self, index: int, frame: Frame) -> None:
        assert self._pool is not None, "open() first"
        self._pool.submit(index, frame)
        self._commit(self._pool.completed())

    def drain(self) -> None:
        """Wait until every frame handed to ``write`` is committed."""
        assert self._pool is not None, "open() first"
        self._commit(self._pool.drain())

    def add(self, entry: FrameEntry) -> None:
        """Commit a frame another process wrote (multi-process and Ray executors)."""
        self._external = True
        self._commit([entry])

    def _commit(self, entries: list[FrameEntry]) -> None:
        assert self.catalog is not None
        for entry in entries:
            self.catalog.add(entry)
            self.written += 1
            if self.on_commit is not None:
                self.on_commit(entry)

    def close(self, status: str = "finished") -> None:
        """Commit what is queued, write the indexes and the manifest, record the run (``status``:
        ``finished``, ``interrupted`` or ``failed``, see ``runlog``) and release the lock."""
        try:
            if self._pool is not None:
                try:
                    self._commit(self._pool.drain())
                finally:
                    self._pool.close()
            if self.catalog is not None:
                if self._external:  # other processes wrote here; they are gone now: tidy what they left
                    self.catalog.rescan()
                self.catalog.flush(force=True)
                runlog.end(self.directory, self._runtime_line(), status)
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def _runtime_line(self) -> dict[str, object]:
        """This run's facts for runtime.jsonl (the one file that differs between runs)."""
        assert self.catalog is not None
        seconds = time.monotonic() - self._started[1]
        return {
            "run": self._run,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self._started[0])),
            "seconds": round(seconds, 3),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "frames_written": self.written,
            "frames_per_s": round(self.written / seconds, 3) if seconds > 0 else None,
            "frames_done": self.catalog.done,
            "recovered": vars(self.recovery),
            "versions": self.versions,
            **self.runtime,
        }

    def __enter__(self) -> DatasetWriter:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        self.close("finished" if exc_type is None else "interrupted" if interrupted else "failed")
