"""``--executor ray``: shards of missing frames spread over a Ray cluster, merged into one manifest.

One Ray actor per worker slot loads the backend once and renders work items: runs of at most
``chunk`` missing frames, each inside one shard (a shard's frames are its own index range, so its
randomization samples are its own seed range). Actors write the frame files straight into the output
directory, which must therefore be on a filesystem every node mounts at the same path (NFS, Lustre,
...); the driver holds the directory lock and commits the entries each item returns into the
manifest. Local Ray (no ``--ray-address``) starts ``--workers`` CPUs on this machine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ..dataset.layout import shard_of
from ..dataset.store import FrameEntry
from ..dataset.writer import DatasetWriter
from ..errors import NotInstalledError
from .loop import PoolSink, open_source, run
from .request import Resolved, worker_args

log = logging.getLogger(__name__)


class FrameWorker:
    """A Ray actor: one loaded backend and writer pool, rendering work items on request."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.source, self.pool = open_source(args)

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
        from ray.util import ActorPool
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
        pool = ActorPool([actor.remote(args) for _ in range(request.workers)])
        items = work_items(missing, request.frames_per_shard, request.chunk)
        for entries in pool.map_unordered(lambda a, item: a.render.remote(item), items):
            for entry in entries:
                writer.add(entry)
    finally:
        ray.shutdown()
