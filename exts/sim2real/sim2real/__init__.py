"""sim2real: take a robot task from simulation to a real robot.

Importing this package is deliberately cheap (no numpy, no simulator, no torch). The public API is
``sim2real.api`` (ten verbs: ``load_profile``, ``make_backend``, ``randomize``, ``generate``,
``open_dataset``, ``train``, ``identify``, ``measure_gap``, ``export``, ``run_pipeline``), itself
cheap to import; ``sim2real.api`` is also reachable as an attribute of this package.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "api"]


def __getattr__(name: str) -> Any:
    if name == "api":  # imported on first use: ``import sim2real; sim2real.api.generate(...)``
        return importlib.import_module("sim2real.api")
    raise AttributeError(f"module 'sim2real' has no attribute {name!r}")
