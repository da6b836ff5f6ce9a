"""Several processes under torchrun: world size, rank, device, gradient averaging, rank 0 writes.

``torchrun --nproc_per_node N -m sim2real.cli train ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; each process then takes an equal share of every batch, so the effective batch
(the one the learning rate is tuned for) stays ``batch_size``, which must be a multiple of N.
DistributedDataParallel averages the gradients (NCCL on GPUs, gloo on CPUs); batch norm is
synchronised across GPUs (on CPUs each process normalises its share, and rank 0's running
statistics are the ones kept). Rank 0 alone evaluates and writes the run folder.

Seeding: every rank starts from the same seed, so the model starts identical and the run
generator (data order, CORAL/MMD subsampling) stays in step on every rank; each rank takes
``order[rank::N]`` of the same batch. Augmentation draws per image, so each rank has a stream of
its own (rank 0's is the single-process one); all of them are saved in each checkpoint, so a run
resumed with the same N continues as if never stopped. Every parameter receives a gradient every
step (a test checks each task and method), so DDP runs without ``find_unused_parameters`` and its
extra autograd traversal per step. Without torchrun (``WORLD_SIZE`` unset) everything here is a
no-op around one process.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, UnsupportedError


class Dist:
    """torchrun's environment: world size, rank, and the device of this process."""

    def __init__(self, device: str) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available() and device in ("auto", "cuda")
        if device == "cuda" and not torch.cuda.is_available():
            raise UnsupportedError("--device cuda: no CUDA device is visible to torch")
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu")
        if self.world > 1:
            import torch.distributed as tdist

            if cuda:
                torch.cuda.set_device(self.device)
            tdist.init_process_group("nccl" if cuda else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, step: nn.Module) -> nn.Module:
        if self.world == 1:
            return step
        from torch.nn.parallel import DistributedDataParallel

        if self.device.type == "cuda":  # batch statistics over the whole batch, not each process's share
            step = nn.SyncBatchNorm.convert_sync_batchnorm(step)

        return DistributedDataParallel(step, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def check_batch(self, batch_size: int) -> None:
        if batch_size % self.world:
            raise ConfigError(None, "batch_size", f"a multiple of the {self.world} torchrun processes (each takes an "
                              "equal share of every batch)", batch_size)

    def seed(self, base: int) -> int:
        """A seed of this rank's own: ``base`` on rank 0, an unrelated stream on every other rank."""
        if self.rank == 0:
            return base
        return int(np.random.SeedSequence([base, self.rank]).generate_state(1, np.uint64)[0] >> 1)

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` of every rank, in rank order (every rank calls it)."""
        if self.world == 1:
            return [obj]
        import torch.distributed as tdist

        out: list[Any] = [None] * self.world
        tdist.all_gather_object(out, obj)
        return out

    def share(self, idx: np.ndarray) -> np.ndarray:
        return idx[self.rank :: self.world]

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as tdist

            tdist.barrier()

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as tdist

            tdist.destroy_process_group()
