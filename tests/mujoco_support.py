"""Helpers shared by the MuJoCo backend tests: Samples built by hand, backends loaded once per module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.randomize.sample import Sample


def backend_fixture(scene: Any, resolution: tuple[int, int]) -> Any:
    """A module-scoped fixture: ``scene`` loaded once, closed after the module's tests."""

    @pytest.fixture(scope="module")
    def fixture() -> Any:
        backend = MujocoBackend()
        backend.load(scene, resolution=resolution)
        yield backend
        backend.close()

    return fixture


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
