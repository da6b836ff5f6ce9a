"""Helpers for the USD tests: real stages (the shipped tabletop, stages built in memory) and samples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from testlib import REPO

from sim2real.randomize.sample import Sample

TABLETOP = REPO / "data" / "scenes" / "tabletop.usda"


def tabletop() -> Any:
    """A fresh stage of the shipped tabletop (the root layer is shared and never edited)."""
    from sim2real.usd import open_stage

    return open_stage(TABLETOP)


def sample(values: Mapping[str, Any], ops: Mapping[str, str] | None = None, event: str = "reset",
           n_envs: int = 1, seed: int = 0, index: int = 0) -> Sample:
    """A Sample with the same value for every environment (or per-env when given a list of n_envs)."""
    arrays = {}
    for key, v in values.items():
        if isinstance(v, list) and len(v) == n_envs and n_envs > 1:
            arrays[key] = np.array(v, dtype=object if isinstance(v[0], str) else float)
        else:
            arr = np.asarray(v, dtype=object if isinstance(v, str) else float)
            arrays[key] = np.stack([arr] * n_envs)
    return Sample(seed, index, event, n_envs, arrays, dict(ops or {}))


def flat(stage: Any) -> str:
    """The stage as composed now (every layer, the session layer included), as text."""
    return stage.Flatten().ExportToString()


def attr(stage: Any, path: str, name: str) -> Any:
    return stage.GetPrimAtPath(path).GetAttribute(name).Get()
