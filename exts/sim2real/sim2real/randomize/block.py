"""One block of memory per keyed sample: the continuous term draws of a start-up, reset or frame event.

Why: a reset of 30 terms x 4,096 environments made 30 separately allocated result arrays (about 1 MB)
and a temporary or two per term; glibc returned the freed heap top to the system after each call
(its trim threshold), so the next call faulted about 210 fresh pages back in, which cost more than
the draws (#24). And numpy's ``uniform``/``normal`` spend about 6 us per call on argument handling,
which with 30 one-entity terms is most of a call at a few hundred environments (#28).

``KeyedBlock`` lays the (term, entity) streams of a plan's uniform, log-uniform, normal and truncated
normal terms out as rows of one float64 array, grouped into families of one distribution class and shape:
each stream fills its row with its base variate in place (``dists.VARIATE``), then each family becomes
values in one vectorised pass (``into``) of a distribution whose parameters are its rows' stacked
``(rows, 1, *shape)``. Per element these are the operations the per-term draw makes, so every value
keeps its bytes (tests/randomize/test_randomize_block.py) and its stream (prefix-stable as before).

Ownership: a sample's arrays are views of a block allocated for that sample alone (``np.empty`` per
call, never reused), so a sample the caller keeps is never written by a later one. The block is freed
when the last of its arrays is; after the first, glibc serves it from the heap it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np

from .dists import Dist, LogUniform, Normal, TruncNormal, Uniform
from .streams import Streams

# the public parameters each family's distribution is built from, in constructor order
_PARAMETERS: dict[type, tuple[str, ...]] = {
    Uniform: ("low", "high"),
    LogUniform: ("low", "high"),
    Normal: ("mean", "std"),
    TruncNormal: ("mean", "std", "low", "high"),
}


def stackable(dist: Dist) -> bool:
    """Whether ``dist`` draws into a block (a continuous family)."""
    return type(dist) in _PARAMETERS


def _family_of(dist: Dist) -> tuple[Any, ...]:
    """Rows of one family share one transform: class and shape, and for a truncated normal whether its CDF
    underflows (only those rows clamp it)."""
    return type(dist), dist.shape, getattr(dist, "underflow", False)


class _Family:
    """Rows of one family: their keys and stream prefixes, where they sit in the block, and the distribution
    whose parameters are theirs stacked."""

    __slots__ = ("keys", "prefixes", "start", "stop", "shape", "variate", "dist")

    def __init__(self, rows: Sequence[tuple[str, Any, Dist]], start: int, n: int) -> None:
        first = rows[0][2]
        self.keys, self.prefixes = tuple(k for k, _, _ in rows), tuple(p for _, p, _ in rows)
        self.shape = (len(rows), n, *first.shape)
        self.start, self.stop = start, start + prod(self.shape)
        self.variate = type(first).VARIATE  # type: ignore[attr-defined]
        stacked = [_stacked([d for _, _, d in rows], name) for name in _PARAMETERS[type(first)]]
        self.dist = type(first)(*stacked, first.shape)  # type: ignore[call-arg]


def _stacked(dists: Sequence[Dist], name: str) -> np.ndarray:
    """Parameter ``name`` of every row, ``(rows, 1, *shape)``: broadcast against the rows' ``(rows, n, *shape)``."""
    shape = dists[0].shape
    values = [np.broadcast_to(np.asarray(getattr(d, name), dtype=np.float64), shape) for d in dists]
    return np.stack(values).reshape(len(dists), 1, *shape)


class KeyedBlock:
    """The stackable (term, entity) streams of one keyed event's plan, drawn for ``n`` environments."""

    def __init__(self, rows: Sequence[tuple[str, Any, Dist]], n: int) -> None:
        families: dict[tuple[Any, ...], list[tuple[str, Any, Dist]]] = {}
        for row in rows:
            families.setdefault(_family_of(row[2]), []).append(row)
        self.families, start = [], 0
        for members in families.values():
            family = _Family(members, start, n)
            self.families.append(family)
            start = family.stop
        self.size = start

    def fill(self, streams: Streams, code: int, index: int, out: dict[str, Any]) -> None:
        """Draw every row of event ``code``, number ``index``, into a new block; ``out`` gets its views."""
        block = np.empty(self.size)
        generator = streams.generator
        for f in self.families:
            values = block[f.start:f.stop].reshape(f.shape)
            for key, prefix, row in zip(f.keys, f.prefixes, values, strict=True):
                getattr(generator(prefix, code, index), f.variate)(out=row)
                out[key] = row
            f.dist.into(values)
