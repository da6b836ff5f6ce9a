"""What fills an object slot now: one record per slot, the same for every backend (the MuJoCo backend's
slot bodies, the USD stage's ``asset`` variant sets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class SlotState:
    asset: str  # the library asset in the slot
    visible: bool = True  # object:<slot>/visible
    filled: bool = True  # within scene:object_count
    scale: float = 1.0  # uniform, times the asset's size
    position: np.ndarray | None = None  # rest point, world metres (None: the slot's default)
    rpy: np.ndarray = field(default_factory=lambda: np.zeros(3))  # roll, pitch, yaw (rad) on the default
    mass: Any = None  # what body:<slot>/mass asked for (None: the asset's, scaled); backend-specific form
    com: Any = None  # likewise for body:<slot>/com
