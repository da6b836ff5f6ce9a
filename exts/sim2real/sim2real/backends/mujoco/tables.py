"""Physics writes merged into a few stores: a row of sampled values becomes one numpy store.

Interval terms fire every few physics steps; on a small robot, a hundred steps take a few hundred
microseconds, so applying a firing key by key (a Python call and a small numpy write each) costs
more than the randomization is worth. Every physics target compiles once into ``Elements``: the model
elements a key writes, each an affine map of one component of the sampled value,
``max(scale * value[component] + offset, floor)`` (``set``, ``scale`` and ``add`` of a default are all
affine; so are inertia following a mass and a servo's bias following its gain), or a ``custom`` map
when it is not (restitution). ``FieldTables`` stacks the elements of many keys, turns a block of
firings into tables with a few vectorised operations (``tables``) and applies a firing with one store
through the model buffer (``write``). ``apply`` uses the same path with one row, so both give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import affine_parts
from .world import World


@dataclass(frozen=True)
class Elements:
    """The model elements one key writes: ``field`` (a model field path such as ``body_inertia`` or
    ``opt.gravity``) at the flat positions ``index``, each
    ``max(scale * value[component] + offset, floor)`` of the key's sampled value, or ``custom(rows)``:
    ``(R, components)`` to ``(R, len(index))`` when the map is not affine."""

    field: str
    index: np.ndarray
    component: np.ndarray  # which component of the value each element reads
    scale: np.ndarray
    offset: np.ndarray
    floor: float = -np.inf  # clipped from below (0 for friction, damping, ...)
    const: bool = False  # MuJoCo derives constants from it: mj_setConst after writing
    positive: Callable[[float], str] | None = None  # the error when an element would be <= 0
    remember: Callable[[np.ndarray], None] | None = None  # told each written row (an applier's own state)
    custom: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def width(self) -> int:
        """Components of the value it reads."""
        return int(self.component.max()) + 1

    def values(self, rows: np.ndarray) -> np.ndarray:
        """New element values for sampled rows ``(R, width)``: ``(R, len(index))``."""
        if self.custom is not None:
            return self.custom(rows)
        out = rows[:, self.component] * self.scale + self.offset
        if self.floor > -np.inf:
            np.maximum(out, self.floor, out=out)
        if self.positive is not None and (out <= 0).any():
            raise UnsupportedError(self.positive(float(out.min())))
        return out

    def derived(self, field: str, index: np.ndarray, factor: Any) -> Elements:
        """Other elements that are ``factor`` times these (inertia following a mass, -kp in a bias)."""
        n = len(index)
        return Elements(field, index, np.resize(self.component, n), self.scale * factor, self.offset * factor,
                        const=self.const)


def affine(field: str, index: np.ndarray, default: Any, op: str, key: str, component: Any = None,
           **options: Any) -> Elements:
    """Elements set to ``op(default, value)``: ``set`` → value, ``scale`` → default × value,
    ``add`` → default + value, for each of ``index`` (``default`` per element or one for all)."""
    n = len(index)
    scale, offset = affine_parts(np.broadcast_to(np.asarray(default, dtype=float), (n,)), op, key)
    comp = np.zeros(n, dtype=np.intp) if component is None else np.asarray(component, dtype=np.intp)
    return Elements(field, np.asarray(index), comp, scale, offset, **options)


def custom(field: str, index: np.ndarray, values: Callable[[np.ndarray], np.ndarray], **options: Any) -> Elements:
    """Elements whose values are not affine in the sampled value (``values``: rows to elements)."""
    n = len(index)
    return Elements(field, np.asarray(index), np.zeros(n, dtype=np.intp), np.ones(n), np.zeros(n),
                    custom=values, **options)


def value_rows(rows: Any, width: int, key: str) -> np.ndarray:
    """A key's sampled rows as ``(R, width)``: one value is used for every component."""
    v = np.asarray(rows, dtype=float)
    v = v.reshape(len(v), -1)
    if v.shape[1] == width:
        return v
    if v.shape[1] == 1:
        return np.repeat(v, width, axis=1)
    raise UnsupportedError(f"{key}: expected {width} values (got {v.shape[1]})")


def write_value(world: World, key: str, elements: Sequence[Elements], value: Any) -> None:
    """Write one sampled value of one key (``apply`` of a single value, outside any plan)."""
    rows = value_rows(np.asarray(value, dtype=float)[None], max(el.width for el in elements), key)
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


@dataclass(frozen=True)
class _Store:
    """One numpy store, ``target[where] = row``, fed by columns ``columns`` of the stacked table."""

    target: np.ndarray
    where: Any
    columns: slice


class FieldTables:
    def __init__(self, world: World, keys: Sequence[tuple[str, list[Elements]]]) -> None:
        """``keys``: (key, its elements) in application order; a later key wins an element two write."""
        self.world = world
        self.keys = [key for key, _ in keys]
        self._width = {key: max(el.width for el in elements) for key, elements in keys}
        column, start = {}, 0
        for key in self.keys:
            column[key], start = start, start + self._width[key]
        self._columns = [(key, column[key], column[key] + self._width[key]) for key in self.keys]
        self._values_width = start
        by_field: dict[str, list[tuple[str, Elements]]] = {}
        for key, elements in keys:
            for el in elements:
                by_field.setdefault(el.field, []).append((key, el))
        fields = []  # (name, positions, [(key, elements, element's column j) per kept column])
        for name, parts in by_field.items():
            owners = [(key, el, j) for key, el in parts for j in range(len(el.index))]
            index = np.concatenate([el.index for _, el in parts])
            last = {int(pos): i for i, pos in enumerate(index)}  # the last writer of each element
            order = sorted(last.values(), key=lambda i: index[i])
            fields.append((name, index[order], [owners[i] for i in order]))
        # every store's elements side by side: a block becomes tables with one gather for all of them
        owners, self._stores = [], []
        for target, where, ids in _targets(world, fields):
            held = [owner for i in ids for owner in fields[i][2]]
            self._stores.append(_Store(target, where, slice(len(owners), len(owners) + len(held))))
            owners += held
        self._source = np.array([column[key] + el.component[j] for key, el, j in owners], dtype=np.intp)
        self._scale = np.array([el.scale[j] for _, el, j in owners])
        self._offset = np.array([el.offset[j] for _, el, j in owners])
        floors = np.array([el.floor for _, el, _ in owners])
        self._floor = floors if (floors > -np.inf).any() else None
        self._custom, self._positive = _custom_columns(owners), _positive_columns(owners)
        self.const = any(el.const for _, elements in keys for el in elements)
        self._remembering = [(key, el) for key, elements in keys for el in elements if el.remember is not None]

    def _stacked(self, rows: Mapping[str, Any]) -> np.ndarray:
        """The keys' sampled rows side by side, ``(R, total width)``; one value fills every component."""
        out = np.empty((len(rows[self.keys[0]]), self._values_width))
        columns = out.T  # (width, R): rows (R,), (R, 1) and (R, width) of a key all fill its columns
        for key, a, b in self._columns:
            v = rows[key]
            try:
                columns[a:b] = v.T
            except (AttributeError, ValueError):  # not an array of R rows of 1 or width values
                out[:, a:b] = value_rows(v, b - a, key)  # (raises the key's own error)
        return out

    def tables(self, rows: Mapping[str, np.ndarray]) -> Tables:
        """Every store's new values per row; ``rows`` maps each key to ``(R, *shape)``."""
        table = self._stacked(rows)[:, self._source]
        table *= self._scale
        table += self._offset
        if self._floor is not None:
            np.maximum(table, self._floor, out=table)
        for cols, own, key, el in self._custom:
            table[:, cols] = el.values(value_rows(rows[key], self._width[key], key))[:, own]
        if self._positive is not None and (table[:, self._positive[0]] <= 0).any():
            for cols, message in self._positive[1]:
                if (table[:, cols] <= 0).any():
                    raise UnsupportedError(message(float(table[:, cols].min())))
        remembered = [(el.remember, el.values(value_rows(rows[key], self._width[key], key)))
                      for key, el in self._remembering]
        return Tables([table[:, store.columns] for store in self._stores], remembered)

    def write(self, tables: Tables, k: int) -> None:
        """Store row ``k`` of ``tables`` into the model."""
        for store, table in zip(self._stores, tables.fields, strict=True):
            store.target[store.where] = table[k]
        for remember, values in tables.remembered:
            remember(values[k])
        if self.const:
            self.world.const_dirty = True


def _custom_columns(owners: list) -> list[tuple[np.ndarray, np.ndarray, str, Elements]]:
    """(columns, the elements' own order, key, elements) of each custom map among the stacked columns."""
    custom: dict[int, tuple[list[int], list[int], str, Elements]] = {}
    for c, (key, el, j) in enumerate(owners):
        if el.custom is not None:
            cols, own, _, _ = custom.setdefault(id(el), ([], [], key, el))
            cols.append(c)
            own.append(j)
    for cols, _, _, el in custom.values():  # a custom map is written whole or not at all
        if len(cols) != len(el.index):
            raise UnsupportedError(f"{el.field}: an element of a custom map is also written by another key")
    return [(np.array(cols), np.array(own), key, el) for cols, own, key, el in custom.values()]


def _positive_columns(owners: list) -> tuple[np.ndarray, list[tuple[np.ndarray, Callable[[float], str]]]] | None:
    """The columns that must stay positive (checked at once), and each group's error; None if none."""
    positive: dict[int, tuple[list[int], Callable[[float], str]]] = {}
    for c, (_, el, _) in enumerate(owners):
        if el.positive is not None:
            positive.setdefault(id(el), ([], el.positive))[0].append(c)
    if not positive:
        return None
    groups = [(np.array(cols), message) for cols, message in positive.values()]
    return np.concatenate([cols for cols, _ in groups]), groups


@dataclass
class Tables:
    """A block's rows, per store, and per remembering element."""

    fields: list[np.ndarray]
    remembered: list[tuple[Callable[[np.ndarray], None], np.ndarray]]


def _targets(world: World, fields: list) -> list[tuple[np.ndarray, Any, list[int]]]:
    """(target array, where, the fields it holds): one store through the model buffer for the fields
    that live there (``World.buffer_view``), one per field for the others (``opt.gravity``)."""
    inside = [i for i, (name, _, _) in enumerate(fields) if "." not in name]
    merged = world.buffer_view([(fields[i][0], fields[i][1]) for i in inside]) if len(inside) > 1 else None
    out = [(merged[0], merged[1], inside)] if merged is not None else []
    return out + [(world.flat(name), _selector(index), [i]) for i, (name, index, _) in enumerate(fields)
                  if merged is None or i not in inside]


def _selector(index: np.ndarray) -> Any:
    """A slice when the positions are consecutive (a slice store is cheaper than a fancy one)."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return index

