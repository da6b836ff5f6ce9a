"""Curriculum: phases that scale ranges about their centre.

Progressive randomization (the seeds' ``progressive_randomization``) widens ranges phase by phase,
e.g. ``start = 0.2, end = 1.0, phases = 5``; the reverse (``start = 1.0, end = 0.2``) narrows them as a
policy moves toward the real robot. Unlike the seeds' sketch, each phase scales the profile's
*original* range (the sketch rescaled the already-scaled range, compounding the factors).

The phase is ``min(episode // episodes_per_phase, phases - 1)`` — a function of the episode index, so
any episode's sample can be regenerated from its index — unless the caller sets it (``set_phase``),
e.g. when progress is measured by success rate; a set phase is part of the saved state.
"""

from __future__ import annotations

from typing import Any

from .schema import Curriculum


class CurriculumState:
    def __init__(self, cfg: Curriculum) -> None:
        self.cfg = cfg
        self.scales = cfg.scale_list()
        self.manual: int | None = None

    @property
    def n_phases(self) -> int:
        return len(self.scales)

    def phase(self, episode: int) -> int:
        if self.manual is not None:
            return self.manual
        if self.cfg.episodes_per_phase <= 0:
            return 0
        return min(max(episode, 0) // self.cfg.episodes_per_phase, self.n_phases - 1)

    def scale(self, episode: int) -> float:
        return self.scales[self.phase(episode)]

    def set_phase(self, phase: int | None) -> None:
        if phase is not None and not 0 <= phase < self.n_phases:
            raise ValueError(f"expected a curriculum phase in 0..{self.n_phases - 1} (got {phase})")
        self.manual = phase

    def state_dict(self) -> dict[str, Any]:
        return {"phase": self.manual}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.set_phase(state.get("phase"))
