"""Friction buckets: keep randomized physics materials under PhysX's limit of 64k materials.

PhysX creates one material per distinct (static friction, dynamic friction, restitution) written
through the tensor API; past 64000 unique materials the simulation crashes (Isaac Lab's
``randomize_rigid_body_material`` docstring). Isaac Lab samples ``num_buckets`` triples once and hands
them out at random; Isaac Sim's DR extension snaps values to evenly spaced levels of the sampling
range. We snap every coefficient to a fixed grid, which keeps the profile's distribution (up to the
grid step) and keeps a value independent of what the other environments drew (the same seed gives
environment ``i`` the same material whatever the number of environments):

* friction (static and dynamic) to ``friction_levels`` levels on ``[0, friction_max]``;
* restitution to ``restitution_levels`` levels on ``[0, 1]``;
* dynamic friction never above static friction (PhysX's convention; Isaac Lab's ``make_consistent``).

At most ``friction_levels·(friction_levels+1)/2·restitution_levels`` triples exist;
``for_budget`` picks the finest grid whose count stays within a budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PHYSX_MATERIAL_LIMIT = 64000
DEFAULT_BUDGET = 60000  # leaves room for the scene's own materials


@dataclass(frozen=True)
class FrictionBuckets:
    friction_levels: int = 101
    restitution_levels: int = 11
    friction_max: float = 2.0

    def __post_init__(self) -> None:
        if self.friction_levels < 2 or self.restitution_levels < 2 or not self.friction_max > 0:
            raise ValueError("friction buckets: expected at least 2 levels each and friction_max > 0")

    @classmethod
    def for_budget(cls, budget: int = DEFAULT_BUDGET, restitution_levels: int = 11,
                   friction_max: float = 2.0) -> FrictionBuckets:
        """The most friction levels whose number of distinct triples stays within ``budget``."""
        n = 2
        while (n + 1) * (n + 2) // 2 * restitution_levels <= budget:
            n += 1
        if n * (n + 1) // 2 * restitution_levels > budget:
            raise ValueError(f"friction buckets: a budget of {budget} materials is too small")
        return cls(n, restitution_levels, friction_max)

    @property
    def capacity(self) -> int:
        """How many distinct (static, dynamic, restitution) triples the grid can produce."""
        n = self.friction_levels
        return n * (n + 1) // 2 * self.restitution_levels

    @property
    def friction_step(self) -> float:
        return self.friction_max / (self.friction_levels - 1)

    def snap(self, materials: np.ndarray) -> np.ndarray:
        """``(..., 3)`` [static, dynamic, restitution] -> the nearest grid triple (float32)."""
        m = np.asarray(materials, dtype=np.float64)
        out = np.empty(m.shape, dtype=np.float32)
        f_step = self.friction_step
        friction = np.clip(m[..., :2], 0.0, self.friction_max)
        levels = np.rint(friction / f_step)
        levels[..., 1] = np.minimum(levels[..., 1], levels[..., 0])
        out[..., :2] = levels * f_step
        r_step = 1.0 / (self.restitution_levels - 1)
        out[..., 2] = np.rint(np.clip(m[..., 2], 0.0, 1.0) / r_step) * r_step
        return out
