"""Process-wide numeric settings that training wants, set for the duration of a run only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def denormals_flushed() -> Iterator[None]:
    """Flush float denormals to zero while training, then restore the caller's setting.

    Confident predictions give gradients below float32's normal range; on a CPU, arithmetic on such
    denormals is 10-20x slower (measured: 9 vs 150 images/s). Flushing them is deterministic and
    changes nothing a model can notice, but it is process-wide CPU state (MXCSR): left on, it breaks
    code in the same process that relies on IEEE subnormals (numpy, hypothesis, scipy)."""
    was_on = bool(torch.tensor([1e-40], dtype=torch.float32).mul(1.0).item() == 0.0)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_on)
