"""Where a resolved term or group gets its random numbers for one event.

Every (term, entity) stream hands out ``rows`` values per draw, one row per environment (an interval
chunk: per environment and firing, environment-major), through one of two sources:

* ``KeyedDraws`` (start-up, reset and frame events): a PCG64 generator re-keyed for (stream, event,
  index) (``streams.Streams.generator``), drawn with numpy's own samplers;
* ``FiringDraws`` (interval firings): counter-based uniforms (``streams.firing_uniforms``) through each
  distribution's ``from_uniforms`` (inverse CDF; Box-Muller for normals), for every stream of a period at once. A firing's values depend on
  (episode, firing) alone, so the number of firings drawn together is a cache size that changes nothing.

Both offer the three draws the units make: ``values`` (a distribution), ``uniform`` (constrained group
members, by inverse CDF) and ``normal`` (the noise of derived members; two uniforms per value).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np

from .dists import Dist, box_muller, uniform_shape
from .streams import INTERVAL, Streams, column_increments, firing_uniforms


class KeyedDraws:
    """Draws of one (event, index, sub) from keyed PCG64 streams, ``rows`` per stream."""

    __slots__ = ("streams", "code", "index", "sub", "rows")

    def __init__(self, streams: Streams, code: int, index: int, sub: int, rows: int) -> None:
        self.streams, self.code, self.index, self.sub, self.rows = streams, code, index, sub, rows

    def values(self, prefix: Any, dist: Dist) -> np.ndarray:
        return dist.draw(self.streams.generator(prefix, self.code, self.index, self.sub), self.rows)

    def term(self, prefixes: Sequence[Any], dist: Dist) -> list[np.ndarray]:
        """One term's values on several entities (one stream each)."""
        generator, code, index, sub, rows = self.streams.generator, self.code, self.index, self.sub, self.rows
        return [dist.draw(generator(p, code, index, sub), rows) for p in prefixes]

    def uniform(self, prefix: Any, shape: tuple[int, ...]) -> np.ndarray:
        return self.streams.generator(prefix, self.code, self.index, self.sub).random((self.rows, *shape))

    def normal(self, prefix: Any, shape: tuple[int, ...]) -> np.ndarray:
        return self.streams.generator(prefix, self.code, self.index, self.sub).standard_normal((self.rows, *shape))


class FiringLayout:
    """The streams one period's firings draw from and how many uniforms each takes per environment,
    laid out so that ``FiringDraws`` hashes all of them in one vectorised pass."""

    def __init__(self, prefixes: Sequence[Any], widths: Sequence[int], n_envs: int) -> None:
        self.prefixes, self.n_envs = list(prefixes), n_envs
        sizes = [n_envs * w for w in widths]
        self.owner = np.repeat(np.arange(len(sizes)), sizes)  # column -> stream
        self.increments = column_increments(np.concatenate([np.arange(s) for s in sizes]) if sizes else np.zeros(0))
        starts = np.cumsum([0, *sizes])
        self.slices = {id(p): slice(int(a), int(a) + s) for p, a, s in zip(self.prefixes, starts, sizes, strict=False)}
        self._keys: tuple[int, np.ndarray] | None = None  # (episode, each stream's key): hashed once per episode

    def keys(self, streams: Streams, episode: int) -> np.ndarray:
        """Each stream's 64-bit key for ``episode`` (``Streams.counter_key``)."""
        if self._keys is None or self._keys[0] != episode:
            keys = np.array([streams.counter_key(p, INTERVAL, episode) for p in self.prefixes], dtype=np.uint64)
            self._keys = (episode, keys)
        return self._keys[1]


class FiringDraws:
    """Interval firings ``first .. first + count - 1`` of ``episode``: row ``e * count + k`` is firing
    ``first + k`` of environment ``e``."""

    def __init__(self, streams: Streams, layout: FiringLayout, episode: int, first: int, count: int) -> None:
        self._u = firing_uniforms(layout.keys(streams, episode), layout.owner, layout.increments, first, count)
        self._slices, self.count, self.n_envs = layout.slices, count, layout.n_envs
        self.rows = layout.n_envs * count

    def uniform(self, prefix: Any, shape: tuple[int, ...]) -> np.ndarray:
        block = self._u[:, self._slices[id(prefix)]]  # (count, n_envs * width), environment-major
        return block.reshape(self.count, self.n_envs, -1).transpose(1, 0, 2).reshape(self.rows, *shape)

    def values(self, prefix: Any, dist: Dist) -> np.ndarray:
        return dist.from_uniforms(self.uniform(prefix, uniform_shape(dist)))

    def term(self, prefixes: Sequence[Any], dist: Dist) -> list[np.ndarray]:
        """One term's values on several entities, in one transform: their streams are adjacent columns."""
        first, last = self._slices[id(prefixes[0])], self._slices[id(prefixes[-1])]
        block = self._u[:, first.start:last.stop].reshape(self.count, len(prefixes), self.n_envs, -1)
        u = block.transpose(1, 2, 0, 3).reshape(len(prefixes), self.rows, *uniform_shape(dist))
        return list(dist.from_uniforms(u))

    def normal(self, prefix: Any, shape: tuple[int, ...]) -> np.ndarray:
        return box_muller(self.uniform(prefix, (*shape, 2)))


def width(shape: tuple[int, ...]) -> int:
    """Uniforms per environment and firing of a draw of ``shape``."""
    return prod(shape)


def dist_width(dist: Dist) -> int:
    """Uniforms per environment and firing that ``FiringDraws.values`` takes for ``dist``."""
    return prod(uniform_shape(dist))
