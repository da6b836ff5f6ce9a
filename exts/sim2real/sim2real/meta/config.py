"""What a meta-learning run is asked to do (``sim2real meta train --config FILE``).

``MetaConfig`` is strict plain data: defaults, then the TOML file, then command-line options. It is
stored in the run folder (``config.json``); resuming with other settings is refused.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from ..config import StrictModel, parse_model, read_toml

Family = Literal["dynamics", "policy"]
Algorithm = Literal["maml", "fomaml", "reptile", "pretrain"]
ALGORITHMS: tuple[str, ...] = ("maml", "fomaml", "reptile", "pretrain")


class DynamicsFamily(StrictModel):
    """Tasks = one MuJoCo scene under physics drawn from a randomization profile (one draw per task);
    samples = ``(joint state, command) -> next joint state`` from real rollouts of the backend."""

    scene: str = "arm2"  # a shipped scene name or an MJCF path
    profile: str = "arm2_tasks"  # a profile path, or a shipped one in data/meta/ by name
    rollouts: int = Field(6, ge=1)  # rollouts per task, each from a random state under random commands
    steps: int = Field(40, ge=2)  # control steps per rollout
    control_period_steps: int = Field(10, ge=1)  # physics steps per command (arm2: 10 x 2 ms = 20 ms)
    command_fraction: float = Field(0.6, gt=0.0, le=1.0)  # commands drawn within this share of ctrlrange
    threads: int = Field(2, ge=0)  # mujoco.rollout threads


class PolicyFamily(StrictModel):
    """Tasks = a gymnasium MuJoCo control env (``sim2real.control``) under one physics draw of a profile;
    samples = ``(observation) -> expert action`` from demonstrations of that task's own LQR expert."""

    env: str = "InvertedPendulum-v5"
    profile: str = "pendulum_tasks"  # a profile path, or a shipped one in data/meta/ by name
    demos: int = Field(4, ge=1)  # demonstration episodes per task
    demo_steps: int = Field(60, ge=2)  # control steps per demonstration
    demo_noise: float = Field(0.5, ge=0.0)  # exploration noise on the expert's action (std, action units)
    eval_episodes: int = Field(2, ge=1)  # return of the adapted policy: episodes per held-out task
    eval_steps: int = Field(300, ge=1)


class MetaConfig(StrictModel):
    family: Family = "dynamics"
    algorithm: Algorithm = "maml"
    seed: int = 0
    iterations: int = Field(300, ge=1)  # outer (meta) updates
    meta_batch: int = Field(4, ge=1)  # tasks per outer update
    k_shot: int = Field(10, ge=1)  # support samples a task adapts from (the K of adapt_to_new_task)
    query: int = Field(30, ge=1)  # query samples the adapted model is scored on
    inner_steps: int = Field(3, ge=1)  # gradient steps of the inner loop (and of adaptation)
    inner_lr: float = Field(0.05, gt=0.0)  # SGD step of the inner loop (and of adaptation)
    # Adam's step (maml, fomaml, pretrain; default 1e-3); Reptile: the interpolation step (default 1.0,
    # annealed linearly to 0)
    outer_lr: float | None = Field(None, gt=0.0)
    hidden: list[int] = Field(default_factory=lambda: [64, 64])
    train_tasks: int = Field(24, ge=2)  # tasks meta-training draws from
    test_tasks: int = Field(6, ge=1)  # held-out tasks (other physics draws) the result is measured on
    checkpoint_every: int = Field(50, ge=1)  # iterations between checkpoints
    dynamics: DynamicsFamily = Field(default_factory=DynamicsFamily)
    policy: PolicyFamily = Field(default_factory=PolicyFamily)

    @model_validator(mode="after")
    def _consistent(self) -> MetaConfig:
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError("hidden: expected a non-empty list of positive layer widths")
        if self.meta_batch > self.train_tasks:
            raise ValueError(f"meta_batch = {self.meta_batch} exceeds train_tasks = {self.train_tasks}")
        if self.outer_lr is None:
            self.outer_lr = 1.0 if self.algorithm == "reptile" else 1e-3
        return self

    @property
    def samples_per_task(self) -> int:
        """What one task must offer: a support and a query set."""
        return self.k_shot + self.query


def load_config(path: str | PathLike[str] | None, overrides: dict[str, Any]) -> MetaConfig:
    """Defaults, then the TOML file (if any), then ``overrides`` (command-line options; None = not given)."""
    base: dict[str, Any] = read_toml(path) if path is not None else {}
    if path is not None:
        parse_model(base, MetaConfig, source=path)  # the file alone must be valid: errors name it
    base.update({k: v for k, v in overrides.items() if v is not None})
    return parse_model(base, MetaConfig, source=path or "command line")


def family_profile(value: str) -> Path:
    """A profile path as given, else a shipped task family by name (``data/meta/<name>.toml``)."""
    from ..generate.request import resolve_file
    from ..paths import data_path

    return resolve_file(value, "profile", data_path("meta"), ".toml")
