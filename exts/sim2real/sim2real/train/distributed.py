"""Several processes under torchrun: world size, rank, device, gradient averaging, rank 0 writes.

``torchrun --nproc_per_node N -m sim2real.cli train ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; each process then takes its share of every batch (the effective batch stays
``batch_size``), DistributedDataParallel averages the gradients (NCCL on GPUs, gloo on CPUs), batch
norm is synchronised across GPUs, and rank 0 alone evaluates and writes the run folder. Without
torchrun (``WORLD_SIZE`` unset) everything here is a no-op around one process.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from ..errors import UnsupportedError


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

        return DistributedDataParallel(step, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                                       find_unused_parameters=True)

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
