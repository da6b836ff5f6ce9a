"""Process-wide numeric settings that training wants, set for the duration of a run only."""

from __future__ import annotations

import sys
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


@contextmanager
def deterministic_algorithms(warn_only: bool = False) -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` for the duration of a run, then the caller's setting.

    The flag is process-wide: left on, a caller's later nondeterministic-only operation (e.g. some
    CUDA backward passes) raises. Set through ``_set_deterministic`` (below), not the public call."""
    was = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    _set_deterministic(True, warn_only)
    try:
        yield
    finally:
        _set_deterministic(*was)


def _set_deterministic(mode: bool, warn_only: bool) -> None:
    """What ``torch.use_deterministic_algorithms`` does, without its ``import torch._inductor.config``:
    that import pulls in inductor, dynamo and sympy (about 1 s of start-up, 22 % of a short run) for a
    flag only compiled code reads. Nothing here compiles; if inductor is loaded already, its flag is
    set too, as the public call would."""
    inductor = sys.modules.get("torch._inductor.config")
    if inductor is not None:
        inductor.deterministic = mode  # type: ignore[attr-defined]
    torch._C._set_deterministic_algorithms(mode, warn_only=warn_only)
