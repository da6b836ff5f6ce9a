"""What the sampler and a backend exchange: the ``Sample`` it applies and the ``Capabilities`` it declares.

A sample holds the values drawn for one event (startup, reset, interval, frame) for N environments.

``values`` maps resolved keys (``light:key/intensity``) to arrays of shape ``(n_envs, *attr.shape)``
(``choice`` attributes hold strings, dtype object). ``ops`` says how each value combines with the
default the backend captured at load: ``set`` replaces it, ``scale`` multiplies it, ``add`` adds to
it. A backend always applies relative to the captured default, never to the current value, so
repeated samples never drift. ``Capabilities`` says what a backend accepts (the (kind, attribute)
pairs of the target catalogue) and produces; a profile asking for more is one clear error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UnsupportedError
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


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do. ``targets`` holds the (kind, attribute) pairs ``apply`` accepts."""

    targets: frozenset[tuple[str, str]]
    rgb: bool = True
    depth: bool = False
    segmentation: bool = False
    boxes: bool = False
    physics: bool = True
    max_envs: int = 1
    occlusion: bool = False  # frames carry each object's visible fraction (extra render passes)
    control: bool = False  # ``set_control`` commands actuators (else it raises)

    def supports(self, kind: str, attribute: str) -> bool:
        return (kind, attribute) in self.targets

    def require(self, backend: str, wanted: Iterable[tuple[str, str]], source: str = "profile") -> None:
        """Raise one clear error listing what is supported if any wanted target is not."""
        missing = sorted({f"{k}:*/{a}" for k, a in wanted if (k, a) not in self.targets})
        if missing:
            supported = ", ".join(sorted(f"{k}/{a}" for k, a in self.targets))
            raise UnsupportedError(
                f"{source}: the {backend} backend cannot apply {', '.join(missing)}; it supports: {supported}"
            )
