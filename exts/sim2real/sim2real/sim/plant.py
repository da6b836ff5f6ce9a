"""The engine's part of a SURROGATE robot (``sim2real.sysid.surrogate``): a backend plus how to read its
named channels and add friction the model does not have. ``sim2real.backends.mujoco.plant`` builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import Field, StrictStr

from ..config import StrictModel
from ..randomize.schema import Num
from .backend import Backend


class FrictionSpec(StrictModel):
    """Unmodelled joint friction: ``-(coulomb + stribeck·exp(-(v/v_s)²))·tanh(v/v_eps) - viscous·v``."""

    joints: StrictStr = "*"
    coulomb: Num = Field(0.0, ge=0)  # N·m (hinge) or N (slide)
    stribeck: Num = Field(0.0, ge=0)  # extra breakaway friction at rest
    stribeck_velocity: Num = Field(0.1, gt=0)  # rad/s or m/s
    viscous: Num = Field(0.0, ge=0)  # N·m·s/rad or N·s/m
    smoothing_velocity: Num = Field(0.01, gt=0)  # below this speed friction fades to 0 (no chatter)


@dataclass
class Plant:
    """The engine's part: a backend plus how to read named channels and add unmodelled friction."""

    backend: Backend
    channels: list[str]
    units: list[str]
    read: Callable[[], np.ndarray]  # every channel now (after the backend's sensor noise and bias)
    add_friction: Callable[[FrictionSpec], None]  # install friction between physics steps
    reset: Callable[[], None]  # defaults restored, state at rest, nothing applied (start-up samples too)
    actuators: list[str]
    command_units: list[str]
    perturb: Callable[[np.ndarray, np.ndarray], None] | None = None  # offsets added to 1-dof joint positions, velocities
    joint_sizes: tuple[int, int] = (0, 0)  # sizes of the two vectors perturb takes
