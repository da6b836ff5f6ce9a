"""Gymnasium wrappers for training policies that transfer.

* ``DomainRandomization``: a randomization profile applied to a gymnasium MuJoCo environment through
  the MuJoCo backend (``backends.mujoco.gym_env.attach_env``): reset terms every episode, interval terms
  every N physics steps, time-varying (signal) terms between physics steps, start-up terms once; the
  profile's curriculum follows the episode index and its ADR is fed each episode's success.
* ``ActionDelay``: a command delay of whole control steps drawn per episode (``sim.wrappers.CommandPipe``
  at the control rate), for environments without the backend's physics-step latency (a robot, a
  replayed log).
* ``ObservationNoise``: per-episode bias, white noise and exponentially correlated noise on each
  observation component (``sim.wrappers.SensorNoise`` and ``CorrelatedNoise``).

Randomness comes from generators seeded by (seed, episode): the same seed gives the same episodes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from typing import Any

import gymnasium as gym
import numpy as np

from ..randomize.profile import Profile
from ..sim.wrappers import CommandPipe, CorrelatedNoise, SensorNoise
from .tasks import Task

log = logging.getLogger(__name__)


class DomainRandomization(gym.Wrapper):
    """Randomize a gymnasium MuJoCo environment from ``profile`` (see the module docstring).

    ``info`` after ``reset`` holds ``randomization`` (every applied value, ``{resolved key: value}``) and
    ``episode_index``; after the last step of an episode, ``is_success`` and (ADR) ``adr_changes``."""

    def __init__(self, env: gym.Env, profile: Profile, seed: int, task: Task) -> None:
        super().__init__(env)
        from ..backends.mujoco.gym_env import attach_env
        from ..randomize.runtime import Randomizer
        from ..sim.driver import RandomizedSim

        self.backend = attach_env(env)
        self.backend.capabilities.require(self.backend.name, profile.targets(), source=str(profile.source or "profile"))
        self.profile, self.task = profile, task
        unread = sorted(f"{k}:*/{a}" for k, a in profile.targets() if k in ("sensor", "image"))
        if unread:  # applied to the backend's sensors and renders, which a gymnasium observation does not read
            log.warning("%s: %s do not reach a gymnasium observation; use ObservationNoise ([observation_noise])",
                        profile.source or "profile", ", ".join(unread))
        self.randomizer = Randomizer(profile, seed, self.backend.entities(), dt=self.backend.dt)
        self.sim = RandomizedSim(self.backend, self.randomizer)
        self.sim.start()
        self.episode = 0  # index of the next episode
        self.adr_changes: list[Any] = []  # every boundary move so far (adr.Change)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self.sim.reset(self.episode)  # model defaults, then this episode's values
        obs, info = self.env.reset(seed=seed, options=options)  # gymnasium's initial state on that model
        info = {**info, "episode_index": self.episode, "randomization": self.backend.record()}
        self.episode += 1
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            success = self.task.success(terminated, truncated, info)
            info = {**info, "is_success": success}
            if self.randomizer.adr is not None:
                changes = self.randomizer.report([float(success)])
                if changes:
                    self.adr_changes.extend(changes)
                    info["adr_changes"] = [c.__dict__ for c in changes]
                    log.info("ADR: %s", ", ".join(f"{c.term} {c.side} {c.old:g} -> {c.new:g}" for c in changes))
        return obs, reward, terminated, truncated, info

    def metrics(self) -> dict[str, float]:
        """Curriculum phase and ADR ranges now (for progress and logs)."""
        out: dict[str, float] = {"episodes": float(self.episode)}
        r = self.randomizer
        if r.curriculum is not None:
            out["curriculum_phase"] = float(r.curriculum.phase(max(self.episode - 1, 0)))
        if r.adr is not None:
            out.update(r.adr.metrics())
        return out

    def save_state(self, directory: str | PathLike[str]) -> None:
        self.randomizer.save_state(directory)

    def load_state(self, directory: str | PathLike[str]) -> bool:
        """Restore the curriculum, ADR ranges and episode counter saved in ``directory``."""
        if not self.randomizer.load_state(directory):
            return False
        self.episode = self.randomizer.episode + 1
        return True


def _episode_rng(seed: int, episode: int, salt: int) -> np.random.Generator:
    return np.random.default_rng([seed % 2**63, episode, salt])


class ActionDelay(gym.Wrapper):
    """Delay every command by a whole number of control steps drawn per episode from ``steps`` (low, high
    inclusive); before the episode's first command the actuators hold ``initial`` (default zeros)."""

    def __init__(self, env: gym.Env, steps: tuple[int, int], seed: int = 0, initial: Sequence[float] | None = None) -> None:
        super().__init__(env)
        lo, hi = int(steps[0]), int(steps[1])
        if not 0 <= lo <= hi:
            raise ValueError(f"expected 0 <= low <= high control steps of delay (got {steps})")
        n = int(np.prod(env.action_space.shape))
        self.range, self.seed = (lo, hi), seed
        self.pipe = CommandPipe(n)
        self.initial = np.zeros(n) if initial is None else np.asarray(initial, dtype=float)
        self.episode = 0
        self.delay = lo

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        rng = _episode_rng(self.seed, self.episode, 0xDE1A)
        self.delay = int(rng.integers(self.range[0], self.range[1] + 1))
        self.pipe.reset(self.initial)
        self.pipe.set_latency(np.full(self.pipe.n, self.delay))
        self.episode += 1
        obs, info = self.env.reset(**kwargs)
        return obs, {**info, "action_delay_steps": self.delay}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        shape = self.env.action_space.shape
        self.pipe.command(np.asarray(action, dtype=float).reshape(-1))
        return self.env.step(self.pipe.output().reshape(shape).astype(self.env.action_space.dtype))


class ObservationNoise(gym.Wrapper):
    """Noise on each observation component: a bias drawn per episode uniformly in ``±bias``, white noise
    of std ``white`` and exponentially correlated noise of std ``correlated`` with correlation time
    ``tau_s`` (scalars or one value per component, in the component's units)."""

    def __init__(self, env: gym.Env, names: Sequence[str], bias: Any = 0.0, white: Any = 0.0,
                 correlated: Any = 0.0, tau_s: Any = 0.5, dt_s: float | None = None, seed: int = 0) -> None:
        super().__init__(env)
        n = len(names)
        if env.observation_space.shape != (n,):
            raise ValueError(f"expected a flat observation of {n} values (got {env.observation_space.shape})")
        self.names = list(names)
        self.bias_range = np.broadcast_to(np.asarray(bias, dtype=float), (n,)).copy()
        self.white = np.broadcast_to(np.asarray(white, dtype=float), (n,)).copy()
        if (self.bias_range < 0).any() or (self.white < 0).any():
            raise ValueError("expected bias ranges and noise levels >= 0")
        period = float(dt_s if dt_s is not None else getattr(env.unwrapped, "dt", 1.0))
        self.drift = CorrelatedNoise(np.broadcast_to(np.asarray(correlated, dtype=float), (n,)),
                                     np.broadcast_to(np.asarray(tau_s, dtype=float), (n,)), period)
        self.noise = SensorNoise(self.names)
        self.seed, self.episode = seed, 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        rng = _episode_rng(self.seed, self.episode, 0x0B5E)
        self.noise.reset(rng)
        bias = rng.uniform(-self.bias_range, self.bias_range)
        for i, name in enumerate(self.names):
            self.noise.std[name], self.noise.bias[name] = float(self.white[i]), float(bias[i])
        self.drift.reset(rng)
        self.episode += 1
        obs, info = self.env.reset(**kwargs)
        return self._noisy(obs), {**info, "observation_bias": bias.tolist()}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._noisy(obs), reward, terminated, truncated, info

    def _noisy(self, obs: np.ndarray) -> np.ndarray:
        flat = np.asarray(obs, dtype=float)
        noisy = self.noise.apply({n: flat[i:i + 1] for i, n in enumerate(self.names)})
        out = np.array([noisy[n][0] for n in self.names]) + self.drift.sample()
        return out.astype(self.observation_space.dtype)
