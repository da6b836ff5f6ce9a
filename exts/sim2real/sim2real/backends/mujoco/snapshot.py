"""Every field of an ``MjModel``, captured and restored generically.

Randomization writes into many model fields; resetting must restore all of them exactly. Instead of
listing the fields we touch (and forgetting one), a snapshot walks the model: every numpy array
attribute, and every scalar or array field of the nested option/visual/statistic structs
(``opt``, ``vis.*``, ``stat``). The same walk compares two models field by field (tests use it to
prove that 1,000 random samples and resets leave no drift) and transplants what a recompilation
changed into the live model (so the renderer and ``MjData`` keep pointing at the same model).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
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
    for name in dir(model):
        if _is_field(model, name) and isinstance(getattr(model, name), np.ndarray):
            yield name, model, name
    for struct in STRUCTS:
        yield from _struct_fields(getattr(model, struct), struct)


class ModelSnapshot:
    """A deep copy of every field of a model at one moment."""

    def __init__(self, model: Any) -> None:
        self.values: dict[str, Any] = {}
        for path, owner, name in model_fields(model):
            value = getattr(owner, name)
            self.values[path] = value.copy() if isinstance(value, np.ndarray) else value
        self._walked: tuple[Any, list[tuple[str, Any, str]]] | None = None

    def __getitem__(self, path: str) -> Any:
        return self.values[path]

    def _fields(self, model: Any) -> list[tuple[str, Any, str]]:
        """``model_fields(model)``, walked once per model (``restore`` runs at every episode reset;
        the walk through ``dir()`` costs far more than the copies)."""
        if self._walked is None or self._walked[0] is not model:
            self._walked = (model, list(model_fields(model)))
        return self._walked[1]

    def restore(self, model: Any, only: set[str] | None = None) -> None:
        """Write the captured values back into ``model`` (all fields, or the paths in ``only``)."""
        for path, owner, name in self._fields(model):
            if only is not None and path not in only:
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


def transplant_changes(dst: Any, before: Any, after: Any) -> bool:
    """Copy into model ``dst`` every element where model ``after`` differs from model ``before`` (two
    compilations of one spec); elements equal in both keep ``dst``'s run-time values. Returns False,
    copying nothing, when the compilations' array shapes differ."""
    triples = list(zip(model_fields(dst), model_fields(before), model_fields(after), strict=True))
    for (_, d_owner, name), (_, b_owner, _), (_, a_owner, _) in triples:
        d, b, a = getattr(d_owner, name), getattr(b_owner, name), getattr(a_owner, name)
        if isinstance(d, np.ndarray) and not (d.shape == b.shape == a.shape):
            return False
    for (_, d_owner, name), (_, b_owner, _), (_, a_owner, _) in triples:
        d, b, a = getattr(d_owner, name), getattr(b_owner, name), getattr(a_owner, name)
        if isinstance(d, np.ndarray):
            changed = a != b
            if changed.any():
                d[changed] = a[changed]
        elif a != b:
            setattr(d_owner, name, a)
    return True
