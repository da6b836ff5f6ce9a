"""Training configuration (TOML; every key optional, command-line options override the file)::

    env = "InvertedPendulum-v5"
    profile = "data/control/inverted_pendulum_dr.toml"   # randomization profile (relative to this file)
    algo = "ppo"                                         # or "sac"
    steps = 100000
    seed = 0
    checkpoint_every = 10000                              # environment steps between checkpoints
    normalize = false                                     # VecNormalize on observations (PPO and SAC)
    hyperparameters = { n_steps = 1024, learning_rate = 3e-4 }   # passed to the stable-baselines3 class

    [observation_noise]                                   # control.wrappers.ObservationNoise
    bias = [0.0, 0.01, 0.0, 0.0]                          # ± per component (its units), drawn per episode
    white = 0.002
    correlated = 0.0
    tau_s = 0.5

    [action_delay]                                        # control.wrappers.ActionDelay (control steps)
    steps = [0, 1]
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, StrictBool, StrictInt, StrictStr

from ..config import StrictModel, load_model
from ..randomize.schema import Num

ALGOS = ("ppo", "sac")
Components = Num | list[Num]


class NoiseSpec(StrictModel):
    bias: Components = 0.0
    white: Components = 0.0
    correlated: Components = 0.0
    tau_s: Components = 0.5


class DelaySpec(StrictModel):
    steps: list[StrictInt] = Field(min_length=2, max_length=2)


class TrainConfig(StrictModel):
    env: StrictStr = "InvertedPendulum-v5"
    env_kwargs: dict[str, Any] = {}
    profile: StrictStr | None = None
    algo: Literal["ppo", "sac"] = "ppo"
    steps: StrictInt = Field(100_000, ge=1)
    seed: StrictInt = Field(0, ge=0)
    checkpoint_every: StrictInt = Field(10_000, ge=1)
    normalize: StrictBool = False
    hyperparameters: dict[str, Any] = {}
    observation_noise: NoiseSpec | None = None
    action_delay: DelaySpec | None = None

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    def profile_path(self) -> Path | None:
        if self.profile is None:
            return None
        path = Path(self.profile).expanduser()
        return path if path.is_absolute() else (self._base_dir / path).resolve()

    def resolved(self) -> dict[str, Any]:
        """The configuration with the profile as an absolute path (what a run records)."""
        data = self.model_dump(mode="json")
        if self.profile is not None:
            data["profile"] = str(self.profile_path())
        return data


def load_config(path: str | PathLike[str]) -> TrainConfig:
    cfg = load_model(path, TrainConfig)
    cfg._base_dir = Path(path).resolve().parent
    return cfg


def config_from(data: dict[str, Any], base_dir: str | PathLike[str] | None = None) -> TrainConfig:
    """A configuration from a plain dict (a run's recorded one, or options)."""
    from ..config import parse_model

    cfg = parse_model(data, TrainConfig, "training configuration")
    cfg._base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
    return cfg
