"""How a sampled value combines with the default a backend captured at load (``set``, ``scale``, ``add``).

Shared by every backend's appliers (MuJoCo fields, USD attributes, PhysX tensor buffers)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedError


def combine(default: Any, value: Any, op: str, key: str) -> Any:
    """``set`` → value, ``scale`` → default × value, ``add`` → default + value (elementwise)."""
    if op == "set":
        return np.asarray(value, dtype=float) if np.ndim(default) else float(value)
    if op == "scale":
        return np.asarray(default, dtype=float) * value
    if op == "add":
        return np.asarray(default, dtype=float) + value
    raise _unknown(op, key)


def affine_parts(default: Any, op: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    """``combine`` as ``scale × value + offset`` (same results bit for bit): per-element ``(scale,
    offset)`` for ``default``, so that many values can be combined in one vectorised expression."""
    d = np.asarray(default, dtype=float)
    if op == "set":
        return np.ones_like(d), np.zeros_like(d)
    if op == "scale":
        return d.copy(), np.zeros_like(d)
    if op == "add":
        return np.ones_like(d), d.copy()
    raise _unknown(op, key)


def _unknown(op: str, key: str) -> UnsupportedError:
    return UnsupportedError(f"{key}: expected an operation among set, scale, add (got {op!r})")


def require_set(op: str, key: str) -> None:
    """Booleans and choices can only be set."""
    if op != "set":
        raise UnsupportedError(f"{key}: this attribute can only be set (got operation {op!r})")


def as_vector(value: Any, size: int, key: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float).reshape(-1)
    if arr.size == 1 and size > 1:
        arr = np.repeat(arr, size)
    if arr.size != size:
        raise UnsupportedError(f"{key}: expected {size} values (got {arr.size})")
    return arr
