"""Interval terms, drawn a block of firings at a time.

An interval term fires every ``every`` physics steps. Re-keying a stream and drawing from it cost a few
microseconds whatever the number of values — as much as a hundred physics steps of a small arm — so
each (term, entity) stream draws ``BLOCK`` firings at once: firing ``f`` of an episode (after physics
step ``f * every``, ``f >= 1``) is row ``(f - 1) % BLOCK`` of block ``(f - 1) // BLOCK``, whose stream
is keyed by (episode, block). ``BLOCK`` is part of the sampling format: changing it changes every
interval value. 64 covers a typical episode (10 s at 500 Hz firing every 100 steps: 50 firings) with
one block; memory is ``n_envs * BLOCK`` values per (term, entity), 2 MiB per scalar attribute with
4096 environments.

The terms of one period share a block, so a backend can turn the values of ``BLOCK`` firings into
model writes at once and then apply one firing with a few stores (``prepare_interval`` in
``sim/backend.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .sample import Sample

BLOCK = 64  # firings per block (never change casually: it is part of every interval value's key; was 32)


def firing_row(step: int, period: int) -> tuple[int, int] | None:
    """(block, row) of the firing after physics step ``step`` of a term firing every ``period``
    steps; None when the term does not fire at that step."""
    if step % period:
        return None
    return divmod(step // period - 1, BLOCK)


@dataclass(frozen=True, eq=False)
class IntervalBlock:
    """``BLOCK`` firings of the interval terms of one period, for every environment.

    ``values`` maps each key to an array ``(n_envs, BLOCK, *attribute shape)``; row ``k`` is the
    firing after physics step ``step(k)``."""

    seed: int
    period: int  # physics steps between firings
    episode: int
    index: int  # block number within the episode
    n_envs: int
    values: Mapping[str, np.ndarray]
    ops: Mapping[str, str]

    @property
    def keys(self) -> list[str]:
        return list(self.values)

    def step(self, k: int) -> int:
        """The physics step (since the reset) after which row ``k`` fires."""
        return (self.index * BLOCK + k + 1) * self.period

    def row(self, k: int, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Row ``k``'s values as a Sample holds them: ``key -> (n_envs, *shape)``."""
        return {key: self.values[key][:, k] for key in (self.values if keys is None else keys)}

    def sample(self, k: int, keys: Sequence[str] | None = None) -> Sample:
        """Row ``k`` (or some of its keys) as the Sample ``Randomizer.step`` gives for that step."""
        values = self.row(k, keys)
        ops = {key: self.ops[key] for key in values}
        return Sample(self.seed, self.step(k), "step", self.n_envs, values, ops, {"episode": self.episode})
