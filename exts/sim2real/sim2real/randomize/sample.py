"""A sample: the values drawn for one event (startup, reset, interval, frame) for N environments.

``values`` maps resolved keys (``light:key/intensity``) to arrays of shape ``(n_envs, *attr.shape)``
(``choice`` attributes hold strings, dtype object). ``ops`` says how each value combines with the
default the backend captured at load: ``set`` replaces it, ``scale`` multiplies it, ``add`` adds to
it. A backend always applies relative to the captured default, never to the current value, so
repeated samples never drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .targets import Op


@dataclass(frozen=True)
class Sample:
    seed: int
    index: int
    event: str
    n_envs: int
    values: Mapping[str, np.ndarray]
    ops: Mapping[str, Op]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def env(self, i: int) -> dict[str, Any]:
        """The values of environment ``i`` (numpy scalars/arrays, strings for choices)."""
        return {k: v[i] for k, v in self.values.items()}

    def record(self, i: int = 0) -> dict[str, Any]:
        """Flat JSON-ready record ``key -> value`` of environment ``i``, stored with every frame/episode."""
        out: dict[str, Any] = {}
        for key, arr in self.values.items():
            v = arr[i]
            out[key] = v.tolist() if isinstance(v, np.ndarray) else v.item() if isinstance(v, np.generic) else v
        return out
