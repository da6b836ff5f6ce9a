"""Shared helpers of the control tests: tiny profiles, configurations and scripted policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from testlib import REPO

from sim2real.progress import Reporter

DATA = REPO / "data" / "control"
SURROGATE = DATA / "inverted_pendulum_surrogate.toml"
SAFETY = DATA / "inverted_pendulum_safety.toml"
PARAMS = DATA / "inverted_pendulum_params.toml"
PENDULUM = "InvertedPendulum-v5"


def write_profile(path: Path, terms: list[dict[str, Any]], **tables: Any) -> Path:
    """A profile TOML with these terms (and top-level tables such as ``adr``)."""
    import tomli_w

    path.write_text(tomli_w.dumps({"version": 1, "terms": terms, **tables}))
    return path


def balance(obs: np.ndarray) -> np.ndarray:
    """A hand-written PD balance controller for the inverted pendulum (push the cart under the pole)."""
    return np.clip([1.0 * obs[0] + 12.0 * obs[1] + 0.5 * obs[2] + 1.0 * obs[3]], -3.0, 3.0)


class Interrupt(Reporter):
    """Presses Ctrl-C once training has passed ``at`` steps."""

    def __init__(self, at: int) -> None:
        self.at = at

    def metric(self, series, step, values, echo=False) -> None:
        if step >= self.at:
            raise KeyboardInterrupt
