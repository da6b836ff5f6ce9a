"""Helpers shared by the MuJoCo backend tests: Samples built by hand, fresh backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sim2real.randomize.sample import Sample


def make_sample(values: Mapping[str, Any], ops: Mapping[str, str] | None = None, event: str = "reset",
                seed: int = 0, index: int = 0) -> Sample:
    """A one-environment Sample: ``{key: value}`` with ops defaulting to ``set``."""
    arrays = {}
    for key, value in values.items():
        if isinstance(value, str):
            arrays[key] = np.array([value], dtype=object)
        else:
            arrays[key] = np.asarray(value)[None]
    ops = {k: (ops or {}).get(k, "set") for k in values}
    return Sample(seed, index, event, 1, arrays, ops)
