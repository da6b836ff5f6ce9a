"""Every field of an ``MjModel``, captured and restored generically.

Randomization writes into many model fields; resetting must restore all of them exactly. Instead of
listing the fields we touch (and forgetting one), a snapshot walks the model: every numpy array
attribute, and every scalar or array field of the nested option/visual/statistic structs
(``opt``, ``vis.*``, ``stat``). The same walk compares two models field by field (tests use it to
prove that 1,000 random samples and resets leave no drift).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

STRUCTS = ("opt", "vis", "stat")


def _is_field(obj: Any, name: str) -> bool:
    if name.startswith("_"):
        return False
    value = getattr(obj, name)
    return not callable(value) and not isinstance(value, type)


def _struct_fields(obj: Any, prefix: str) -> Iterator[tuple[str, Any, str]]:
    """(dotted path, owner object, attribute) of every leaf field of a binding struct."""
    for name in dir(obj):
        if not _is_field(obj, name):
            continue
        value = getattr(obj, name)
        path = f"{prefix}.{name}"
        if isinstance(value, np.ndarray | int | float | bool | np.generic):
            yield path, obj, name
        else:  # a nested struct, e.g. vis.global_
            yield from _struct_fields(value, path)


def model_fields(model: Any) -> Iterator[tuple[str, Any, str]]:
    """(path, owner, attribute) for every array of the model and every leaf of its structs."""
    for path, parts in _field_paths(model):
        owner = model
        for part in parts[:-1]:
            owner = getattr(owner, part)
        yield path, owner, parts[-1]


_PATHS: dict[type, list[tuple[str, tuple[str, ...]]]] = {}


def _field_paths(model: Any) -> list[tuple[str, tuple[str, ...]]]:
    """The fields of a model class, walked through ``dir()`` once (the walk costs far more than the
    copies and comparisons made with it; every model of one mujoco build has the same fields)."""
    paths = _PATHS.get(type(model))
    if paths is None:
        paths = [(name, (name,)) for name in dir(model)
                 if _is_field(model, name) and isinstance(getattr(model, name), np.ndarray)]
        for struct in STRUCTS:
            paths += [(path, tuple(path.split("."))) for path, _, _ in _struct_fields(getattr(model, struct), struct)]
        _PATHS[type(model)] = paths
    return paths


class ModelSnapshot:
    """A deep copy of every field of a model at one moment.

    The arrays are kept as one copy of the model's buffer (``ArrayLayout``), so ``restore`` is one
    memcpy plus the struct leaves: it runs at every episode reset."""

    def __init__(self, model: Any) -> None:
        self.layout = ArrayLayout.of(model)
        self._raw = self.layout.raw(model).copy() if self.layout is not None else None
        self._covered = frozenset(self.layout.names) if self.layout is not None else frozenset()
        offsets = dict(zip(self.layout.names, self.layout.starts.tolist())) if self.layout is not None else {}
        self.values: dict[str, Any] = {}
        for path, owner, name in model_fields(model):
            value = getattr(owner, name)
            if isinstance(value, np.ndarray) and path in offsets:  # a view of the buffer's copy
                self.values[path] = np.ndarray(value.shape, value.dtype, buffer=self._raw, offset=offsets[path])
            else:
                self.values[path] = value.copy() if isinstance(value, np.ndarray) else value
        self._walked: tuple[Any, list[tuple[str, Any, str]], bool] | None = None

    def __getitem__(self, path: str) -> Any:
        return self.values[path]

    def _fields(self, model: Any) -> tuple[list[tuple[str, Any, str]], bool]:
        """``model_fields(model)`` and whether ``model`` has this snapshot's buffer layout, found once
        per model."""
        if self._walked is None or self._walked[0] is not model:
            same = self.layout is not None and self.layout.same(ArrayLayout.of(model))
            self._walked = (model, list(model_fields(model)), same)
        return self._walked[1], self._walked[2]

    def restore(self, model: Any, only: set[str] | None = None) -> None:
        """Write the captured values back into ``model`` (all fields, or the paths in ``only``)."""
        fields, same_layout = self._fields(model)
        whole = only is None and same_layout
        if whole:
            self.layout.raw(model)[:] = self._raw  # type: ignore[union-attr]  (padding bytes too: harmless)
        for path, owner, name in fields:
            if (only is not None and path not in only) or (whole and path in self._covered):
                continue
            saved = self.values[path]
            current = getattr(owner, name)
            if isinstance(current, np.ndarray):
                if current.shape != saved.shape:
                    raise ValueError(f"cannot restore {path}: shape {current.shape} != {saved.shape}")
                current[...] = saved
            elif current != saved:
                setattr(owner, name, saved)

    def differences(self, model: Any) -> list[str]:
        """Paths whose value in ``model`` differs from the snapshot (bitwise for arrays; NaN == NaN)."""
        out = []
        for path, owner, name in model_fields(model):
            now, then = getattr(owner, name), self.values.get(path)
            if isinstance(now, np.ndarray):
                same = (isinstance(then, np.ndarray) and now.shape == then.shape and now.dtype == then.dtype
                        and now.tobytes() == then.tobytes())
            else:
                same = now == then or (_is_nan(now) and _is_nan(then))
            if not same:
                out.append(path)
        return out


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


@dataclass(frozen=True)
class ArrayLayout:
    """Where a model's arrays lie in its one buffer (MuJoCo allocates them all in one block), so that
    the arrays of a model are copied and restored with one memcpy."""

    first: str  # the array at the lowest address
    span: int  # bytes from its start to the end of the last array
    starts: np.ndarray  # byte offset of each array (ascending)
    names: list[str]  # the arrays, in that order

    @classmethod
    def of(cls, model: Any) -> ArrayLayout | None:
        """None when the arrays are not in one block of ``nbuffer`` bytes (then snapshots copy array by array)."""
        arrays = [(getattr(model, p).__array_interface__["data"][0], getattr(model, p).nbytes, p)
                  for p, parts in _field_paths(model) if len(parts) == 1 and getattr(model, p).size]
        arrays.sort()
        lo, hi = arrays[0][0], max(a + n for a, n, _ in arrays)
        if hi - lo > getattr(model, "nbuffer", 0):
            return None
        return cls(arrays[0][2], hi - lo, np.array([a - lo for a, _, _ in arrays]), [p for _, _, p in arrays])

    def same(self, other: ArrayLayout | None) -> bool:
        return (other is not None and self.span == other.span and self.names == other.names
                and np.array_equal(self.starts, other.starts))

    def raw(self, model: Any) -> np.ndarray:
        """The model's arrays as one uint8 view (valid while the model lives)."""
        first = getattr(model, self.first)
        return np.lib.stride_tricks.as_strided(first.reshape(-1).view(np.uint8), shape=(self.span,), strides=(1,))
