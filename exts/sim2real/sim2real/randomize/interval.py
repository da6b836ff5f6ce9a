"""Interval terms: firing ``f`` of an episode is the one after physics step ``f * every`` (``f >= 1``).

A firing's values depend on (seed, term, entity, episode, firing, environment) alone: each (term,
entity) stream is keyed once per episode and every firing is a counter into it (``draws.FiringDraws``,
``streams.firing_uniforms``), so firings can be drawn any number at a time in one vectorised pass. An
``IntervalChunk`` holds consecutive firings of the interval terms of one period, for every environment;
how many a chunk holds (``sim.schedule.CHUNK``) is a cache size that changes no value. (The earlier
format keyed a block of 64 firings by (episode, block): the block size changed every value; CHANGELOG.)

The terms of one period share a chunk, so a backend can turn the values of many firings into model
writes at once and then apply one firing with a few stores (``prepare_interval`` in ``sim/backend.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .sample import Sample


def firing(step: int, period: int) -> int | None:
    """The number of the firing after physics step ``step`` of a term firing every ``period`` steps
    (1 for the first); None when the term does not fire at that step."""
    if step < 1:
        raise ValueError(f"expected a physics step index >= 1 since the reset (got {step})")
    return None if step % period else step // period


@dataclass(frozen=True, eq=False)
class IntervalChunk:
    """Firings ``first .. first + count - 1`` of the interval terms of one period, for every environment.

    ``values`` maps each key to an array ``(n_envs, count, *attribute shape)``; row ``k`` is firing
    ``first + k``, after physics step ``step(k)``."""

    seed: int
    period: int  # physics steps between firings
    episode: int
    first: int  # the firing number of row 0
    count: int
    n_envs: int
    values: Mapping[str, np.ndarray]
    ops: Mapping[str, str]

    @property
    def keys(self) -> list[str]:
        return list(self.values)

    def holds(self, number: int) -> bool:
        return self.first <= number < self.first + self.count

    def step(self, k: int) -> int:
        """The physics step (since the reset) after which row ``k`` fires."""
        return (self.first + k) * self.period

    def row(self, k: int, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Row ``k``'s values as a Sample holds them: ``key -> (n_envs, *shape)``."""
        return {key: self.values[key][:, k] for key in (self.values if keys is None else keys)}

    def sample(self, k: int, keys: Sequence[str] | None = None) -> Sample:
        """Row ``k`` (or some of its keys) as the Sample ``Randomizer.step`` gives for that step."""
        values = self.row(k, keys)
        ops = {key: self.ops[key] for key in values}
        return Sample(self.seed, self.step(k), "step", self.n_envs, values, ops, {"episode": self.episode})
