"""Physics writes merged per model field: a row of sampled values becomes one store per field.

Interval terms fire every few physics steps; on a small robot, a hundred steps take a few hundred
microseconds, so applying a firing key by key (a Python call and a small numpy write each) costs
more than the randomization is worth. ``FieldTables`` compiles the keys' ``Elements`` (physics.py)
once, turns a block of firings into one table per field (``tables``) and applies a firing as one
store per field (``write``). ``apply`` uses the same path with a one-row table, so both give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import combine
from .world import World


@dataclass(frozen=True)
class Elements:
    """The model elements one key writes: ``field`` (a model field path such as ``body_inertia`` or
    ``opt.gravity``) at the flat positions ``index``; ``values(rows)`` maps sampled values
    ``(R, *attribute shape)`` to the elements' new values ``(R, len(index))``, one row per sample."""

    field: str
    index: np.ndarray
    values: Callable[[np.ndarray], np.ndarray]
    const: bool = False  # MuJoCo derives constants from it: mj_setConst after writing
    remember: Callable[[np.ndarray], None] | None = None  # told each written row (an applier's own state)


def combine_rows(default: Any, rows: np.ndarray, op: str, key: str) -> np.ndarray:
    """``op(default, value)`` per row: ``default`` has m elements; a row holds one value for all of
    them or m values. Returns ``(R, m)``."""
    d = default if isinstance(default, np.ndarray) and default.ndim == 1 else np.atleast_1d(np.asarray(default, float))
    v = rows.reshape(len(rows), -1)
    if v.shape[1] not in (1, d.size):
        raise UnsupportedError(f"{key}: expected {d.size} values (got {v.shape[1]})")
    out = combine(d, v, op, key)  # (R, m), or (R, 1) when one value is set on m elements
    return out if out.shape[1] == d.size else np.repeat(out, d.size, axis=1)


def write_value(world: World, elements: Sequence[Elements], value: Any) -> None:
    """Write one sampled value of one key (``apply`` of a single value, outside any plan)."""
    rows = np.asarray(value, dtype=float)[None]
    for el in elements:
        new = el.values(rows)[0]
        world.flat(el.field)[el.index] = new
        if el.remember is not None:
            el.remember(new)
        world.const_dirty = world.const_dirty or el.const


def flat_positions(field: np.ndarray, rows: Any, column: Any = None) -> np.ndarray:
    """Flat positions of ``field[rows]`` (or ``field[rows, column]``) in ``field.reshape(-1)``."""
    grid = np.arange(field.size).reshape(field.shape)
    return np.atleast_1d(grid[rows] if column is None else grid[rows, column]).reshape(-1)


class FieldTables:
    def __init__(self, world: World, keys: Sequence[tuple[str, list[Elements]]]) -> None:
        """``keys``: (key, its elements) in application order; a later key wins an element two write."""
        self.world = world
        self.keys = [key for key, _ in keys]
        by_field: dict[str, list[tuple[str, Elements]]] = {}
        for key, elements in keys:
            for el in elements:
                by_field.setdefault(el.field, []).append((key, el))
        self._fields: list[tuple[str, np.ndarray, list[tuple[str, Elements]], np.ndarray | None]] = []
        for name, parts in by_field.items():
            index = np.concatenate([el.index for _, el in parts])
            last = {int(pos): i for i, pos in enumerate(index)}  # the last writer of each element
            order = np.array(sorted(last.values(), key=lambda i: index[i]), dtype=np.intp)
            keep = None if np.array_equal(order, np.arange(len(index))) else order  # None: every column, as is
            self._fields.append((name, index[order], parts, keep))
        self._stores = self._plan_stores(world)
        self.const = any(el.const for _, elements in keys for el in elements)
        self._remembering = [(key, el) for key, elements in keys for el in elements if el.remember is not None]

    def _plan_stores(self, world: World) -> list[tuple[np.ndarray, Any, list[int]]]:
        """(target array, where, the fields it holds): one store through the model buffer for the
        fields that live there (``World.buffer_view``), one per field for the others (``opt.gravity``)."""
        inside = [i for i, (name, *_) in enumerate(self._fields) if "." not in name]
        merged = world.buffer_view([self._fields[i][:2] for i in inside]) if len(inside) > 1 else None
        stores = [(merged[0], merged[1], inside)] if merged is not None else []
        return stores + [(world.flat(name), _selector(index), [i]) for i, (name, index, *_) in enumerate(self._fields)
                         if merged is None or i not in inside]

    def tables(self, rows: Mapping[str, np.ndarray]) -> Tables:
        """Every store's new element values per row; ``rows`` maps each key to ``(R, *shape)``."""
        rows = {key: np.asarray(rows[key], dtype=float) for key in self.keys}
        fields = []
        for _, _, parts, keep in self._fields:
            columns = [el.values(rows[key]) for key, el in parts]
            table = columns[0] if len(columns) == 1 else np.concatenate(columns, axis=1)
            fields.append(table if keep is None else table[:, keep])
        stores = [np.ascontiguousarray(np.concatenate([fields[i] for i in ids], axis=1)) for _, _, ids in self._stores]
        remembered = [(el.remember, el.values(rows[key])) for key, el in self._remembering]
        return Tables(stores, remembered)  # type: ignore[arg-type]

    def write(self, tables: Tables, k: int) -> None:
        """Store row ``k`` of ``tables`` into the model."""
        for (target, where, _), table in zip(self._stores, tables.fields, strict=True):
            target[where] = table[k]
        for remember, values in tables.remembered:
            remember(values[k])
        if self.const:
            self.world.const_dirty = True


@dataclass
class Tables:
    """A block's rows, per store (``FieldTables._stores``), and per remembering element."""

    fields: list[np.ndarray]
    remembered: list[tuple[Callable[[np.ndarray], None], np.ndarray]]


def _selector(index: np.ndarray) -> Any:
    """A slice when the positions are consecutive (a slice store is cheaper than a fancy one)."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return index
