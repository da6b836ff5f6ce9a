"""Local executors: the generation loop in this process, or in N worker processes.

Workers are spawned (fresh interpreters: no inherited GL contexts or locks) with the scene the parent
compiled once (``loop.prepare_scene``) and their share of the cores for the rasterizer
(``loop.rasterizer_threads``); each renders an interleaved share of the missing frames (``missing[w::N]``)
and commits them itself; the parent,
which holds the directory lock, receives the committed entries and keeps the manifest. Workers die
with the parent (``PR_SET_PDEATHSIG`` on Linux), so a killed run leaves nothing running behind.

Ctrl-C belongs to the parent: workers ignore SIGINT (a terminal sends it to the whole process group)
and stop when the parent sets the stop event, after committing and reporting the frames they have
rendered, so an interrupted run indexes every finished frame.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
import traceback
from itertools import takewhile
from typing import Any

from ..dataset.writer import DatasetWriter
from ..errors import Sim2RealError, UserError
from .loop import FrameSource, PoolSink, open_source, prepare_scene, rasterizer_threads, run
from .request import Resolved, worker_args

log = logging.getLogger(__name__)


def run_in_process(resolved: Resolved, writer: DatasetWriter, missing: list[int], source: Any = None) -> None:
    """Render ``missing`` here, with ``source`` (default: the registered backend's FrameSource)."""
    if source is None:
        source = FrameSource(resolved.spec, resolved.profile_path, resolved.scene_path,
                             overrides=resolved.request.overrides)
    try:
        run(source, missing, writer)
        writer.drain()
    finally:
        source.close()


def run_processes(resolved: Resolved, writer: DatasetWriter, missing: list[int], workers: int) -> None:
    ctx = mp.get_context("spawn")
    results: Any = ctx.Queue()
    stop = ctx.Event()
    args = worker_args(resolved)
    args["rasterizer_threads"] = rasterizer_threads(workers)
    args["scene"] = prepare_scene(resolved.spec, resolved.profile_path, resolved.scene_path,
                                  resolved.request.overrides)  # once, for all
    procs = [
        ctx.Process(target=_worker_main, args=(w, args, missing[w::workers], results, stop, os.getpid()),
                    name=f"sim2real-generate-{w}", daemon=True)
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    running = set(range(workers))
    try:
        while running:
            _receive(results, writer, procs, running, timeout=0.5)
    except KeyboardInterrupt:
        stop.set()
        _let_workers_finish(results, writer, procs, running)
        raise
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)


def _receive(results: Any, writer: DatasetWriter, procs: list[Any], running: set[int], timeout: float) -> None:
    """Handle one message from the workers (or check they are alive when none came)."""
    try:
        kind, worker, payload = results.get(timeout=timeout)
    except queue.Empty:
        _check_alive(procs, running)
        return
    if kind == "frames":
        for entry in payload:
            writer.add(entry)
    elif kind == "done":
        running.discard(worker)
    else:
        _raise_worker_error(worker, payload)


def _let_workers_finish(results: Any, writer: DatasetWriter, procs: list[Any], running: set[int],
                        grace_s: float = 30.0) -> None:
    """After the stop: index what the workers commit while they finish their frame in flight. A
    second Ctrl-C, a worker error or the grace period ends the wait; the caller terminates them."""
    deadline = time.monotonic() + grace_s
    try:
        while running and time.monotonic() < deadline:
            _receive(results, writer, procs, running, timeout=0.2)
    except Sim2RealError as exc:
        log.warning("while stopping: %s", exc)


def _check_alive(procs: list[Any], running: set[int]) -> None:
    for w in sorted(running):
        code = procs[w].exitcode
        if code is not None:
            raise Sim2RealError(f"generator worker {w} died (exit code {code}); finished frames are kept")


def _raise_worker_error(worker: int, payload: dict[str, Any]) -> None:
    log.debug("worker %d failed:\n%s", worker, payload["traceback"])
    cls = UserError if payload["user"] else Sim2RealError
    raise cls(f"worker {worker}: {payload['message']}")


def _worker_main(worker: int, args: dict[str, Any], indices: list[int], results: Any, stop: Any, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and sets ``stop``
    try:
        source, pool = open_source(args)
        try:
            sink = PoolSink(pool, lambda entries: results.put(("frames", worker, entries)))
            run(source, takewhile(lambda _: not stop.is_set(), indices), sink)
            sink.flush()
        finally:
            pool.close()
            source.close()
        results.put(("done", worker, None))
    except BaseException as exc:  # report every failure to the parent, which decides
        message = str(exc) if isinstance(exc, Sim2RealError) else f"{type(exc).__name__}: {exc}"
        results.put(("error", worker, {"message": message, "user": isinstance(exc, UserError),
                                       "traceback": traceback.format_exc()}))
        results.close()
        results.join_thread()
        sys.exit(1)


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux); exit if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
