"""``--executor ray``: shards of missing frames spread over a Ray cluster, merged into one manifest.

One Ray actor per worker slot loads the backend once and renders work items: runs of at most
``chunk`` missing frames, each inside one shard (a shard's frames are its own index range, so its
randomization samples are its own seed range). Actors write the frame files straight into the output
directory, which must therefore be on a filesystem every node mounts at the same path (NFS, Lustre,
...); the driver holds the directory lock and commits the entries each item returns into the
manifest. Before any frame, each actor proves it sees that folder (``shared_storage``).

A node that dies mid-job takes its actors with it: the work items they held go back to the queue
and the surviving actors render them (a frame file a dead actor left behind is rewritten with the
same bytes; only the entries an item returns are committed, so nothing is indexed twice). When no
actor is left the run stops with one line, keeping every committed frame for the next run. Local
Ray (no ``--ray-address``) starts ``--workers`` CPUs on this machine.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterator
from typing import Any

from ..dataset.layout import shard_of
from ..dataset.store import FrameEntry
from ..dataset.writer import DatasetWriter
from ..errors import NotInstalledError, Sim2RealError
from .loop import PoolSink, open_source, run
from .request import Resolved, worker_args
from .shared_storage import check_probe, refuse_unshared, write_probe

log = logging.getLogger(__name__)
ITEMS_PER_WORKER = 4  # a small job still spreads over every actor, and a lost item costs little


class FrameWorker:
    """A Ray actor: one loaded backend and writer pool, rendering work items on request."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.source, self.pool = open_source(args)

    def check_storage(self, probe: str, token: str) -> tuple[str, str | None]:
        """(this node's id, None or what is wrong with the shared output folder)."""
        import ray

        return ray.get_runtime_context().get_node_id(), check_probe(probe, token)

    def render(self, indices: list[int]) -> list[FrameEntry]:
        entries: list[FrameEntry] = []
        sink = PoolSink(self.pool, entries.extend)
        run(self.source, indices, sink)
        sink.flush()
        return entries


def work_items(missing: list[int], frames_per_shard: int, chunk: int) -> Iterator[list[int]]:
    """Runs of at most ``chunk`` indices, never crossing a shard boundary."""
    item: list[int] = []
    for index in missing:
        if item and (len(item) == chunk or shard_of(index, frames_per_shard) != shard_of(item[0], frames_per_shard)):
            yield item
            item = []
        item.append(index)
    if item:
        yield item


def run_ray(resolved: Resolved, writer: DatasetWriter, missing: list[int], gpus_per_worker: float = 0.0) -> None:
    try:
        import ray
    except ImportError:
        raise NotInstalledError("Ray (--executor ray)", "pip install 'sim2real[ray]'") from None
    request = resolved.request
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if request.ray_address:
        ray.init(address=request.ray_address, **options)
    else:
        ray.init(num_cpus=request.workers, num_gpus=0, **options)
    try:
        actor = ray.remote(num_cpus=1, num_gpus=gpus_per_worker)(FrameWorker)
        args = {**worker_args(resolved), "rasterizer_threads": 1}  # the one CPU Ray reserves for each actor
        actors = [actor.remote(args) for _ in range(request.workers)]
        _check_shared(ray, actors, request.out)
        chunk = max(1, min(request.chunk, math.ceil(len(missing) / (ITEMS_PER_WORKER * request.workers))))
        _render_all(ray, actors, work_items(missing, request.frames_per_shard, chunk), writer)
    finally:
        ray.shutdown()


def _check_shared(ray: Any, actors: list[Any], out: Any) -> None:
    """Refuse in one line unless every actor's node sees the output folder (``shared_storage``)."""
    probe, token = write_probe(out)
    try:
        for node, problem in ray.get([a.check_storage.remote(str(probe), token) for a in actors]):
            if problem:
                address = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes()}.get(node, "?")
                raise refuse_unshared(out, f"{address} (id {node[:12]})", problem)
    finally:
        probe.unlink(missing_ok=True)


def _render_all(ray: Any, actors: list[Any], items: Iterator[list[int]], writer: DatasetWriter) -> None:
    """Hand each idle actor the next item; an item whose actor died goes back to the queue."""
    from ray.exceptions import ObjectLostError, RayActorError

    todo, idle = deque(items), list(actors)
    running: dict[Any, tuple[Any, list[int]]] = {}
    while todo or running:
        while todo and idle:
            worker, item = idle.pop(), todo.popleft()
            running[worker.render.remote(item)] = (worker, item)
        if not running:
            raise Sim2RealError(f"Ray: every generator worker died, {len(todo)} work items left; finished frames "
                                "are kept: run the same command again to resume")
        [ref], _ = ray.wait(list(running), num_returns=1)
        worker, item = running.pop(ref)
        try:
            entries = ray.get(ref)
        except (RayActorError, ObjectLostError) as exc:
            log.warning("a Ray worker was lost (%s); frames %d-%d go to the others", type(exc).__name__,
                        item[0], item[-1])
            todo.appendleft(item)
            continue
        for entry in entries:
            writer.add(entry)
        idle.append(worker)
