"""``sim2real/Arm2Reach-v0``: our two-link arm (data/scenes/arm2.xml) as a gymnasium MuJoCo environment.

The task (observation, reward, goal, success) is handed in: ``sim2real.control.envs`` registers the id
with ``sim2real.control.tasks.Arm2ReachTask``, the same task that scores the arm on a robot from its
channels. This module only reads the model's sensors into those channels. Actions are the two position servos' targets (rad, within their control ranges); one control
step is 10 physics steps of 2 ms (50 Hz).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.envs.mujoco import MujocoEnv

from ...paths import data_path

FRAME_SKIP = 10


class Arm2ReachEnv(MujocoEnv):
    metadata = {"render_modes": ["rgb_array", "depth_array"], "render_fps": 50}

    def __init__(self, task_factory: Callable[[], Any], frame_skip: int = FRAME_SKIP, reset_noise_rad: float = 0.05,
                 **kwargs: Any) -> None:
        """``task_factory()`` makes the task: ``channels``, ``observation``, ``observe(channels)``,
        ``reward(obs, action)``, ``distance(obs)``, ``reset(rng)`` and ``SUCCESS_DISTANCE_M``."""
        self.task = task_factory()
        self._reset_noise = float(reset_noise_rad)
        obs_space = spaces.Box(-np.inf, np.inf, shape=(len(self.task.observation),), dtype=np.float64)
        MujocoEnv.__init__(self, str(data_path("scenes", "arm2.xml")), frame_skip, observation_space=obs_space,
                           width=kwargs.pop("width", 160), height=kwargs.pop("height", 120), **kwargs)
        self.metadata = {**self.metadata, "render_fps": int(round(1.0 / self.dt))}
        self._columns = {}
        for c in self.task.channels:
            name, _, comp = c.partition(".")
            sensor = self.model.sensor(name)
            self._columns[c] = int(sensor.adr[0]) + (int(comp) if comp else 0)

    def _channels(self) -> dict[str, float]:
        return {c: float(self.data.sensordata[i]) for c, i in self._columns.items()}

    def _get_obs(self) -> np.ndarray:
        return self.task.observe(self._channels())

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.do_simulation(action, self.frame_skip)
        obs = self._get_obs()
        reward, terminated = self.task.reward(obs, np.asarray(action, dtype=float))
        distance = self.task.distance(obs)
        return obs, reward, terminated, False, {"distance_m": distance,
                                                "is_success": distance < self.task.SUCCESS_DISTANCE_M}

    def reset_model(self) -> np.ndarray:
        self.task.reset(self.np_random)
        q = self.init_qpos + self.np_random.uniform(-self._reset_noise, self._reset_noise, self.model.nq)
        self.set_state(q, self.init_qvel.copy())
        return self._get_obs()
