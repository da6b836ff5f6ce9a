"""Task families: many physics draws of one system, each a supervised learning task.

* ``DynamicsTasks``: one MuJoCo scene (``backends.mujoco.rollout.MujocoSimulator``, batched
  ``mujoco.rollout``) under the physical terms of a randomization profile, one draw per task (the
  profile's reset event for episode ``task index``: the same seed and index give the same physics).
  Each task's samples are transitions ``x = [joint positions, joint velocities, commands]`` ->
  ``y = next joint state - joint state`` (one control period later) of rollouts from random states
  under random piecewise-constant commands.
* ``PolicyTasks``: a gymnasium MuJoCo environment wrapped in ``control.wrappers.DomainRandomization``
  with the same episode index at every reset, so every episode of a task has that task's physics.
  Samples are ``observation -> expert action`` pairs from demonstrations of the task's own LQR
  controller (``backends.mujoco.lqr``), run with exploration noise while the label stays the expert's
  noise-free action (DART, Laskey et al. 2017), so the states cover recoveries from mistakes. The
  adapted policy is also scored by its return in the task's environment.

Why behaviour cloning and not a policy-gradient inner loop for the policy: with K = 10 samples and
3 gradient steps, a REINFORCE gradient on a CPU budget is noise (one episode of a balancing task
carries about one bit about the motor's strength); a handful of labelled actions from the real
robot's operator or a tuned controller pins the gain down. Both are "K samples, a few steps".

Task data are plain arrays (``TaskData``); engines are imported only inside the builders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..progress import NullReporter, Reporter
from ..randomize.targets import split_key
from .config import MetaConfig, family_profile

log = logging.getLogger(__name__)

# the pendulum expert's cost: cart position, pole angle, their velocities; the motor command
LQR_Q = {"InvertedPendulum": ([1.0, 10.0, 0.1, 0.1], [0.02])}


@dataclass
class TaskData:
    """One task: its index (the physics draw), the values drawn, and its samples."""

    index: int
    physics: dict[str, float]
    x: np.ndarray  # (N, n_in) float32
    y: np.ndarray  # (N, n_out) float32

    def split(self, k: int, q: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``k`` support and ``q`` query samples, disjoint, drawn with ``rng``."""
        idx = rng.permutation(len(self.x))[: k + q]
        s, t = idx[:k], idx[k:]
        return self.x[s], self.y[s], self.x[t], self.y[t]


def task_indices(cfg: MetaConfig) -> tuple[list[int], list[int]]:
    """Training task indices, then held-out ones (physics draws never seen in training)."""
    return list(range(cfg.train_tasks)), list(range(cfg.train_tasks, cfg.train_tasks + cfg.test_tasks))


def physical_values(sample: Any, supports: Any, env: int = 0) -> dict[str, tuple[float, str]]:
    """``{key: (value, op)}`` of the scalar model parameters in a randomization sample that the
    simulator applies itself (latency, gain error and sensor terms act outside the model)."""
    out = {}
    for key, arr in sample.values.items():
        kind, _, attr = split_key(key)
        v = np.asarray(arr[env])
        if v.ndim == 0 and supports(kind, attr):
            out[key] = (float(v), str(sample.ops[key]))
    return out


# ---------------------------------------------------------------- dynamics


class DynamicsTasks:
    """Transitions of a MuJoCo scene under per-task physics (see the module docstring)."""

    def __init__(self, cfg: MetaConfig) -> None:
        from ..backends.mujoco.rollout import MujocoSimulator
        from ..randomize.profile import load_profile
        from ..randomize.runtime import Randomizer

        self.cfg, self.spec = cfg, cfg.dynamics
        self.sim = MujocoSimulator(self.spec.scene, nthread=self.spec.threads)
        profile = load_profile(family_profile(self.spec.profile))
        self.randomizer = Randomizer(profile, cfg.seed, self.sim.entities(), dt=self.sim.dt)
        joints = [c for c in self.sim.channels() if c.joint and not c.sensor and c.kind in ("position", "velocity")]
        self.state_channels = [c.name for c in joints if c.kind == "position"] + [c.name for c in joints if c.kind == "velocity"]
        self.ranges = self.sim.command_ranges()
        if not self.state_channels or not self.sim.actuators():
            raise InputError(f"dynamics.scene {self.spec.scene}: expected a model with joints and actuators")
        self.inputs = self.state_channels + [f"cmd.{a}" for a in self.sim.actuators()]
        self.outputs = [f"d.{c}" for c in self.state_channels]

    def close(self) -> None:
        self.sim.close()

    def build(self, index: int) -> TaskData:
        spec, sim = self.spec, self.sim
        physics = physical_values(self.randomizer.reset(index), sim.supports)
        rng = np.random.default_rng([self.cfg.seed, index, 0xD1])
        b, nu, n_pos = spec.rollouts, len(sim.actuators()), len(self.state_channels) // 2
        lo, hi = self._command_bounds()
        cmd = rng.uniform(lo, hi, size=(b, spec.steps, nu))
        start = rng.uniform(lo, hi, size=(b, nu)) if nu == n_pos else np.zeros((b, n_pos))
        initial = np.stack([sim.initial_state(dict(zip(self.state_channels[:n_pos], s, strict=True))) for s in start])
        ctrl = np.repeat(cmd, spec.control_period_steps, axis=1)
        out = sim.rollout([physics] * b, initial, ctrl, self.state_channels)  # (b, T + 1, channels)
        states = out[:, :: spec.control_period_steps]  # at every command change, and one period after the last
        x = np.concatenate([states[:, :-1], cmd], axis=2).reshape(-1, len(self.inputs))
        y = (states[:, 1:] - states[:, :-1]).reshape(-1, len(self.outputs))
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise InputError(f"{spec.profile}: task {index} diverged in simulation ({physics}); narrow the profile")
        return TaskData(index, {k: v for k, (v, _) in physics.items()}, x.astype(np.float32), y.astype(np.float32))

    def _command_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        frac = self.spec.command_fraction
        lo = np.array([-1.0 if r is None else r[0] for r in self.ranges])
        hi = np.array([1.0 if r is None else r[1] for r in self.ranges])
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * frac
        return mid - half, mid + half


# ---------------------------------------------------------------- policy


class PolicyTasks:
    """Expert demonstrations in a randomized control environment (see the module docstring)."""

    def __init__(self, cfg: MetaConfig) -> None:
        from ..control.envs import make_env
        from ..control.tasks import task_for
        from ..control.wrappers import DomainRandomization
        from ..randomize.profile import load_profile

        self.cfg, self.spec = cfg, cfg.policy
        weights = next((v for k, v in LQR_Q.items() if self.spec.env.startswith(k)), None)
        if weights is None:
            raise InputError(f"policy.env {self.spec.env!r}: an LQR expert is defined for "
                             f"{', '.join(k + '-*' for k in LQR_Q)}; expected one of those")
        self.q_diag, self.r_diag = weights
        base = make_env(self.spec.env)
        task = task_for(self.spec.env, base.observation_space.shape[0])
        self.env = DomainRandomization(base, load_profile(family_profile(self.spec.profile)), cfg.seed, task)
        space = base.action_space
        self.low, self.high = space.low.astype(np.float64), space.high.astype(np.float64)
        self.inputs = list(task.observation)
        self.outputs = [f"action.{i}" for i in range(space.shape[0])]
        self._gains: dict[int, np.ndarray] = {}

    def close(self) -> None:
        self.env.close()

    def _reset(self, index: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
        self.env.episode = index  # the randomization draw of this task, at every reset
        obs, info = self.env.reset(seed=seed)
        return np.asarray(obs, np.float64), info

    def expert_gain(self, index: int) -> np.ndarray:
        if index not in self._gains:
            from ..backends.mujoco.lqr import lqr_gain

            self._reset(index, 0)
            env = self.env.unwrapped
            self._gains[index] = lqr_gain(env.model, np.array(self.q_diag), np.array(self.r_diag), env.frame_skip)
        return self._gains[index]

    def expert(self, index: int, obs: np.ndarray) -> np.ndarray:
        return np.clip(-(self.expert_gain(index) @ obs.T).T, self.low, self.high)

    def build(self, index: int) -> TaskData:
        spec = self.spec
        rng = np.random.default_rng([self.cfg.seed, index, 0xB0])
        xs, ys = [], []
        physics: dict[str, float] = {}
        for episode in range(spec.demos):
            obs, info = self._reset(index, int(rng.integers(2**31)))
            physics = {k: float(np.asarray(v).ravel()[0]) for k, v in info["randomization"].items()
                       if np.asarray(v).size == 1}
            for _ in range(spec.demo_steps):
                label = self.expert(index, obs)
                xs.append(obs)
                ys.append(label)
                act = np.clip(label + rng.normal(0.0, spec.demo_noise, label.shape), self.low, self.high)
                obs, _, terminated, truncated, _ = self.env.step(act.astype(np.float32))
                obs = np.asarray(obs, np.float64)
                if terminated or truncated:
                    obs, _ = self._reset(index, int(rng.integers(2**31)))
        return TaskData(index, physics, np.array(xs, np.float32), np.array(ys, np.float32))

    def episode_return(self, index: int, act: Any, seed: int) -> float:
        """Return of ``act(obs) -> action`` in task ``index``'s environment over one episode."""
        obs, _ = self._reset(index, seed)
        total = 0.0
        for _ in range(self.spec.eval_steps):
            a = np.clip(np.asarray(act(obs), np.float64), self.low, self.high)
            obs, reward, terminated, truncated, _ = self.env.step(a.astype(np.float32))
            obs = np.asarray(obs, np.float64)
            total += float(reward)
            if terminated or truncated:
                break
        return total

    def mean_return(self, index: int, act: Any) -> float:
        seeds = np.random.default_rng([self.cfg.seed, index, 0xE7]).integers(2**31, size=self.spec.eval_episodes)
        return float(np.mean([self.episode_return(index, act, int(s)) for s in seeds]))


def open_family(cfg: MetaConfig) -> DynamicsTasks | PolicyTasks:
    return DynamicsTasks(cfg) if cfg.family == "dynamics" else PolicyTasks(cfg)


def build_tasks(family: DynamicsTasks | PolicyTasks, indices: list[int], reporter: Reporter | None = None) -> list[TaskData]:
    rep = reporter or NullReporter()
    out = []
    with rep.task("tasks", total=len(indices), unit="task") as task:
        for i in indices:
            out.append(family.build(i))
            task.advance()
    return out
