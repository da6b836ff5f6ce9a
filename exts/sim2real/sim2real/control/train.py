"""Policy training with stable-baselines3 (PPO, SAC) under domain randomization, curriculum and ADR.

``train(cfg, out)`` is ``sim2real policy train``. The run folder holds:

==========================  =====================================================================
``model.zip``               the final stable-baselines3 model (what ``Policy.load`` reads)
``contract.json``           the observation/action contract (``control.contract``)
``config.json``             the resolved training configuration
``result.json``             steps, episodes, recent returns and success rate, ADR ranges
``run.json``                provenance: configuration, profile hash, parent run (fine-tuning)
``checkpoint.json``         names the latest complete checkpoint folder (written last: the commit)
``ckpt-<steps>/``           model.zip, replay_buffer.pkl (SAC), vecnormalize.pkl, randomizer_state.json,
                            contract.json
``progress.jsonl``          one line per finished episode: return, length, success, ADR ranges
==========================  =====================================================================

A checkpoint is written every ``checkpoint_every`` environment steps and when the run is interrupted
(Ctrl-C). Running the same command again resumes from the latest checkpoint (model, SAC replay buffer,
VecNormalize statistics, the randomizer's curriculum/ADR state and episode counter) and trains the
remaining steps; a finished run is not trained again. A resumed run continues the same schedule but is
not bit-identical to an uninterrupted one (the simulator state of the interrupted episode is not kept).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from .. import checksums
from ..errors import ConfigError, InputError, IntegrityError
from ..fsutil import atomic_write_json, atomic_write_text, content_hash, locked_dir
from ..progress import NullReporter, Reporter
from ..randomize.profile import Profile, load_profile, require_randomization
from .config import TrainConfig
from .contract import Contract, Signal
from .envs import make_env
from .policy import MODEL, Policy, algo_class, normalization_of
from .tasks import Task, check_observation, task_for
from .wrappers import ActionDelay, DomainRandomization, ObservationNoise

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.json"
REPLAY = "replay_buffer.pkl"
VECNORM_PKL = "vecnormalize.pkl"
STATE_FILES = (MODEL, REPLAY, VECNORM_PKL)  # sealed with a sha256 (``checksums``), checked before loading

RECENT = 20  # episodes in the running return / success figures


def verify_state(folder: Path) -> None:
    """Every state file of a saved policy matches its recorded sha256 (``IntegrityError`` otherwise)."""
    for name in STATE_FILES:
        if (folder / name).is_file():
            checksums.verify(folder / name)


class TaskSuccess(gym.Wrapper):
    """Marks the last step of every episode with ``info["is_success"]`` (the task's rule)."""

    def __init__(self, env: gym.Env, task: Task) -> None:
        super().__init__(env)
        self.task = task

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, "is_success": self.task.success(terminated, truncated, info)}
        return obs, reward, terminated, truncated, info


@dataclass
class SimEnv:
    """A training/evaluation environment and its parts."""

    env: gym.Env
    task: Task
    randomization: DomainRandomization | None
    backend: Any  # the MuJoCo backend stepping the environment (None for other environments)


def build_env(cfg: TrainConfig, seed: int, profile: Profile | None = None, noise: bool = True) -> SimEnv:
    """The environment of ``cfg``: gymnasium env → task success → randomization → command delay →
    observation noise (``noise=False`` leaves the delay and noise out: the nominal simulator)."""
    env = make_env(cfg.env, **cfg.env_kwargs)
    task = task_for(cfg.env, int(np.prod(env.observation_space.shape)))
    check_observation(task, env.observation_space.shape)
    env = TaskSuccess(env, task)
    dr = None
    if profile is not None:
        env = dr = DomainRandomization(env, profile, seed, task)
        backend = dr.backend
    else:
        backend = _backend_of(env)
    if noise and cfg.action_delay is not None:
        env = ActionDelay(env, tuple(cfg.action_delay.steps), seed)  # type: ignore[arg-type]
    if noise and cfg.observation_noise is not None:
        n = cfg.observation_noise
        env = ObservationNoise(env, task.observation, n.bias, n.white, n.correlated, n.tau_s, seed=seed)
    return SimEnv(env, task, dr, backend)


def _backend_of(env: gym.Env) -> Any:
    """A backend attached to a MuJoCo env (for its contract), or None for other environments."""
    from ..errors import UnsupportedError

    try:
        from ..backends.mujoco.gym_env import attach_env
    except ImportError:
        return None
    try:
        return attach_env(env)
    except UnsupportedError:
        return None


def latency_range_s(profile: Profile | None, cfg: TrainConfig, physics_dt: float, control_dt: float) -> tuple[float, float]:
    """The command latency the policy meets in training: the profile's ``actuator:*/latency`` range
    (physics steps; ``set`` terms) plus the configured action delay (control steps), in seconds."""
    values = [float(v) for term in (profile.terms if profile is not None else [])
              if term.target.endswith("/latency") and (term.op or "set") == "set"
              for v in (term.low, term.high, term.value, term.mean) if isinstance(v, int | float)]
    lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
    lo, hi = lo * physics_dt, hi * physics_dt
    if cfg.action_delay is not None:
        lo += cfg.action_delay.steps[0] * control_dt
        hi += cfg.action_delay.steps[1] * control_dt
    return float(lo), float(hi)


def make_contract(cfg: TrainConfig, sim: SimEnv, profile: Profile | None, normalization: dict[str, Any] | None) -> Contract:
    from ..backends.mujoco.gym_env import effort_per_command

    base = sim.env.unwrapped
    space = sim.env.action_space
    names: list[str]
    effort: dict[str, float] = {}
    physics_dt = float(getattr(base, "model").opt.timestep) if hasattr(base, "model") else 0.0
    if sim.backend is not None:
        names = sim.backend.control_names()
        effort = effort_per_command(sim.backend)
    else:
        names = [f"action.{i}" for i in range(int(np.prod(space.shape)))]
    action = [Signal(n, "", float(lo), float(hi), effort.get(n)) for n, lo, hi in
              zip(names, space.low.reshape(-1), space.high.reshape(-1), strict=True)]
    obs = [Signal(n, u) for n, u in zip(sim.task.observation, sim.task.units, strict=True)]
    control_dt = float(getattr(base, "dt", 0.0))
    noise = cfg.observation_noise.model_dump() if cfg.observation_noise is not None else None
    return Contract(cfg.env, obs, action, control_dt, latency_range_s(profile, cfg, physics_dt, control_dt),
                    normalization, noise, cfg.algo, {"task": sim.task.to_dict()})


def run_inputs(cfg: TrainConfig, profile: Profile | None, init: str | None) -> dict[str, Any]:
    """What defines a run (a checkpoint resumes only a run with the same inputs)."""
    return {"config": cfg.resolved(), "profile_hash": profile.hash if profile is not None else None, "init": init}


class _Trainer:
    """One training run: the environment, the model, checkpoints and progress (see the module docstring)."""

    def __init__(self, cfg: TrainConfig, out: Path, reporter: Reporter, init: str | None) -> None:
        self.cfg, self.out, self.reporter, self.init = cfg, out, reporter, init
        path = cfg.profile_path()
        self.profile = require_randomization(load_profile(path)) if path is not None else None
        self.key = content_hash(run_inputs(cfg, self.profile, init))
        self.sim = build_env(cfg, cfg.seed, self.profile)
        self.returns: deque[float] = deque(maxlen=RECENT)
        self.successes: deque[float] = deque(maxlen=RECENT)
        self.episodes = 0

    def vec_env(self, stats: Path | None) -> Any:
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        venv = DummyVecEnv([lambda: self.sim.env])
        if not self.cfg.normalize:
            return venv
        if stats is not None and stats.is_file():
            venv = VecNormalize.load(str(stats), venv)
            venv.training = True
            return venv
        return VecNormalize(venv, norm_obs=True, norm_reward=False)

    def model(self, resume: Path | None) -> Any:
        """The model to train: resumed from ``resume``, fine-tuned from ``init``, or new."""
        from stable_baselines3.common.logger import Logger

        model = self._load_or_make(resume)
        # Our reporter shows progress; without a logger of its own, SB3 makes an empty
        # tempdir/SB3-<date> folder on every learn() and leaves it behind.
        model.set_logger(Logger(folder=None, output_formats=[]))
        return model

    def _load_or_make(self, resume: Path | None) -> Any:
        cls = algo_class(self.cfg.algo)
        if resume is not None:
            env = self.vec_env(resume / VECNORM_PKL)
            model = cls.load(resume / MODEL, env=env, device="cpu")
            if self.cfg.algo == "sac" and (resume / REPLAY).is_file():
                model.load_replay_buffer(resume / REPLAY)
            if self.sim.randomization is not None:
                self.sim.randomization.load_state(resume)
            return model
        env = self.vec_env(None)
        if self.init is not None:  # fine-tuning: the weights of another run, this run's environment
            checksums.verify(Path(self.init) / MODEL)
            model = cls.load(Path(self.init) / MODEL, env=env, device="cpu")
            model.set_random_seed(self.cfg.seed)
            model.num_timesteps = 0  # this run's steps count from here
            return model
        try:
            return cls("MlpPolicy", env, seed=self.cfg.seed, device="cpu", verbose=0, **self.cfg.hyperparameters)
        except (TypeError, ValueError, AssertionError) as exc:  # stable-baselines3's own argument checks
            raise ConfigError("training configuration", "hyperparameters",
                              f"arguments stable_baselines3.{cls.__name__} accepts", f"{exc}") from None

    def contract(self, model: Any) -> Contract:
        vecnorm = model.get_vec_normalize_env()
        return make_contract(self.cfg, self.sim, self.profile, normalization_of(vecnorm))

    def save(self, model: Any, folder: Path) -> None:
        """Everything needed to resume, into ``folder``, fsynced."""
        folder.mkdir(parents=True, exist_ok=True)
        model.save(folder / MODEL)
        if self.cfg.algo == "sac":
            model.save_replay_buffer(folder / REPLAY)
        vecnorm = model.get_vec_normalize_env()
        if vecnorm is not None:
            vecnorm.save(str(folder / VECNORM_PKL))
        if self.sim.randomization is not None:
            self.sim.randomization.save_state(folder)
        self.contract(model).save(folder)
        for name in STATE_FILES:  # written by stable-baselines3 without fsync, nor a checksum
            if (folder / name).is_file():
                with open(folder / name, "rb") as fh:
                    os.fsync(fh.fileno())
                checksums.seal(folder / name)

    def checkpoint(self, model: Any) -> None:
        steps = int(model.num_timesteps)
        folder = self.out / f"ckpt-{steps}"
        if folder.exists():
            shutil.rmtree(folder)
        self.save(model, folder)
        atomic_write_json(self.out / CHECKPOINT, {"inputs": self.key, "steps": steps, "episodes": self.episodes,
                                                  "folder": folder.name})
        for old in self.out.glob("ckpt-*"):
            if old != folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint at step %d -> %s", steps, folder)

    def resumable(self) -> tuple[Path | None, dict[str, Any]]:
        path = self.out / CHECKPOINT
        if not path.is_file():
            return None, {}
        try:
            info = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None, {}
        folder = self.out / str(info.get("folder", ""))
        if info.get("inputs") != self.key or not (folder / MODEL).is_file():
            raise InputError(f"{self.out}: holds a checkpoint of another training run (different configuration, "
                             "profile or initial policy); choose another --out or delete the folder")
        try:
            verify_state(folder)
        except IntegrityError as exc:  # the only checkpoint kept: nothing older to fall back to
            log.warning("%s; starting again from step 0", exc)
            return None, {}
        return folder, info

    def on_episode(self, info: dict[str, Any]) -> None:
        ep = info["episode"]
        self.episodes += 1
        self.returns.append(float(ep["r"]))
        self.successes.append(float(bool(info.get("is_success", False))))
        record = {"episode": self.episodes, "return": float(ep["r"]), "length": int(ep["l"]),
                  "success": bool(info.get("is_success", False))}
        if self.sim.randomization is not None:
            record.update(self.sim.randomization.metrics())
        with open(self.out / "progress.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_progress(self) -> None:
        """Forget the episodes logged after the checkpoint (their training is lost; they run again)."""
        path = self.out / "progress.jsonl"
        if path.is_file():
            lines = path.read_text().splitlines(keepends=True)[:self.episodes]
            atomic_write_text(path, "".join(lines))

    def summary(self, model: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"steps": int(model.num_timesteps), "episodes": self.episodes,
                               "recent_return_mean": float(np.mean(self.returns)) if self.returns else None,
                               "recent_success_rate": float(np.mean(self.successes)) if self.successes else None}
        if self.sim.randomization is not None:
            out["randomization"] = self.sim.randomization.metrics()
            out["adr_changes"] = [c.__dict__ for c in self.sim.randomization.adr_changes]
        return out


def _callback(trainer: _Trainer, task: Any) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.last_ckpt = 0

        def _on_training_start(self) -> None:
            self.last_ckpt = int(self.model.num_timesteps)

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", []):
                if "episode" in info:
                    trainer.on_episode(info)
                    trainer.reporter.metric("train", int(self.model.num_timesteps),
                                            {"return": float(info["episode"]["r"]),
                                             "success": float(bool(info.get("is_success", False)))})
            steps = int(self.model.num_timesteps)
            if steps - self.last_ckpt >= trainer.cfg.checkpoint_every:
                trainer.checkpoint(self.model)
                self.last_ckpt = steps
            if steps % 256 == 0 or steps >= trainer.cfg.steps:
                mean = np.mean(trainer.returns) if trainer.returns else float("nan")
                task.update(done=min(steps, trainer.cfg.steps), episodes=trainer.episodes, ret=f"{mean:.4g}")
            return True

    return Progress()


@dataclass
class TrainResult:
    out: Path
    summary: dict[str, Any]
    resumed_from: int | None


def train(cfg: TrainConfig, out: str | PathLike[str], reporter: Reporter | None = None,
          init: str | PathLike[str] | None = None, on_ready: Callable[[], None] | None = None) -> TrainResult:
    """Train (or resume, or skip a finished run) into ``out``. ``init``: a run whose final weights start
    this one (fine-tuning, as the progressive transfer does)."""
    import torch
    from stable_baselines3.common.monitor import Monitor

    from ..runs import new_run_id, write_run_info

    reporter = reporter or NullReporter()
    out = Path(out)
    torch.set_num_threads(1)  # small MLPs: threads only contend (a 2-core machine runs 5-10x slower with them)
    with locked_dir(out, purpose="policy training"):
        trainer = _Trainer(cfg, out, reporter, str(Path(init).resolve()) if init is not None else None)
        trainer.sim.env = Monitor(trainer.sim.env, info_keywords=("is_success",))
        done_path = out / "result.json"
        if (out / MODEL).is_file() and done_path.is_file():
            result = json.loads(done_path.read_text())
            if result.get("inputs") == trainer.key:
                reporter.message(f"{out}: already trained ({result['summary']['steps']} steps)")
                return TrainResult(out, result["summary"], None)
        folder, info = trainer.resumable()
        model = trainer.model(folder)
        resumed = int(model.num_timesteps) if folder is not None else None
        if folder is not None:
            trainer.episodes = int(info.get("episodes", 0))
            trainer.truncate_progress()
            reporter.message(f"resuming from the checkpoint at step {resumed}")
        atomic_write_json(out / "config.json", cfg.resolved())
        remaining = max(cfg.steps - int(model.num_timesteps), 0)
        if on_ready is not None:
            on_ready()
        with reporter.task("train", total=cfg.steps, unit="step", done=int(model.num_timesteps)) as task:
            try:
                if remaining:
                    model.learn(total_timesteps=remaining, reset_num_timesteps=folder is None,
                                callback=_callback(trainer, task))
            except KeyboardInterrupt:
                trainer.checkpoint(model)  # the work so far is kept; the same command resumes
                raise
        trainer.save(model, out)
        for name in (REPLAY, VECNORM_PKL, "randomizer_state.json"):  # resume state: only in checkpoints
            checksums.remove(out / name)
        for old in out.glob("ckpt-*"):  # the final model supersedes them (SAC's replay buffers are large)
            shutil.rmtree(old, ignore_errors=True)
        (out / CHECKPOINT).unlink(missing_ok=True)
        summary = trainer.summary(model)
        atomic_write_json(done_path, {"inputs": trainer.key, "summary": summary})
        run_id = new_run_id("policy")
        write_run_info(out, "policy", run_id, inputs=run_inputs(cfg, trainer.profile, trainer.init),
                       parents={"init": trainer.init} if trainer.init else None)
        reporter.artifact("policy", out / MODEL)
        return TrainResult(out, summary, resumed)


def load_policy(run: str | PathLike[str]) -> Policy:
    return Policy.load(run)
