"""Environments by id: gymnasium's own (``InvertedPendulum-v5``, ``Reacher-v5``, ``Pusher-v5``, any
registered id) and ours (``sim2real/Arm2Reach-v0``, the arm of data/scenes/arm2.xml)."""

from __future__ import annotations

from typing import Any

from ..errors import NotInstalledError, UserError
from .tasks import ARM2_ENV, Arm2ReachTask

INSTALL = "pip install 'sim2real[control]' (gymnasium[mujoco], stable-baselines3)"


def require_gymnasium() -> Any:
    try:
        import gymnasium
    except ImportError:
        raise NotInstalledError("gymnasium", INSTALL) from None
    return gymnasium


def register() -> None:
    """Register our environments with gymnasium (idempotent)."""
    gym = require_gymnasium()
    if ARM2_ENV not in gym.registry:
        gym.register(ARM2_ENV, entry_point="sim2real.backends.mujoco.arm_env:Arm2ReachEnv", max_episode_steps=150,
                     kwargs={"task_factory": Arm2ReachTask})


def make_env(env_id: str, **kwargs: Any) -> Any:
    """``gymnasium.make(env_id, **kwargs)`` with our ids registered; an unknown id is a one-line error."""
    gym = require_gymnasium()
    register()
    if env_id not in gym.registry:
        mujoco_ids = sorted(k for k, v in gym.registry.items() if "mujoco" in str(v.entry_point))
        raise UserError(f"--env: no environment {env_id!r}; MuJoCo ones: {', '.join(mujoco_ids)}")
    return gym.make(env_id, **kwargs)
