"""A trained policy: the stable-baselines3 model, its observation normalisation and its contract.

``Policy.act(obs)`` is the deterministic command for a raw observation in contract units (what runs on
a robot); ``Policy.load(run)`` reads a training run's final model (or its latest checkpoint).
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .. import checksums
from ..errors import InputError
from .contract import Contract, load_contract

ALGO_CLASSES = {"ppo": "PPO", "sac": "SAC"}
MODEL = "model.zip"
VECNORM = "vecnormalize.json"  # observation mean/var/clip as plain JSON (read without pickles)


def algo_class(algo: str) -> Any:
    import stable_baselines3

    return getattr(stable_baselines3, ALGO_CLASSES[algo])


def normalization_of(vecnorm: Any) -> dict[str, Any] | None:
    """The observation normalisation of a ``VecNormalize`` as plain numbers (None without one)."""
    if vecnorm is None or not vecnorm.norm_obs:
        return None
    rms = vecnorm.obs_rms
    return {"mean": rms.mean.tolist(), "std": np.sqrt(rms.var + vecnorm.epsilon).tolist(),
            "clip": float(vecnorm.clip_obs)}


class Policy:
    """Deterministic actions of a stable-baselines3 model (PPO or SAC) for raw observations."""

    def __init__(self, model: Any, contract: Contract) -> None:
        self.model, self.contract = model, contract
        norm = contract.normalization
        self._mean = np.asarray(norm["mean"]) if norm else None
        self._std = np.asarray(norm["std"]) if norm else None
        self._clip = float(norm["clip"]) if norm else None

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float64)
        if self._mean is None:
            return obs
        return np.clip((obs - self._mean) / self._std, -self._clip, self._clip)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The command (actuator units, within the action bounds) for one raw observation."""
        action, _ = self.model.predict(self.normalize(obs).astype(np.float32), deterministic=True)
        return np.asarray(action, dtype=np.float64)

    @classmethod
    def load(cls, directory: str | PathLike[str]) -> Policy:
        """The policy saved in ``directory`` (a training run or a checkpoint folder inside one)."""
        directory = Path(directory)
        if not (directory / MODEL).is_file():
            latest = latest_checkpoint(directory)
            if latest is None:
                raise InputError(f"{directory}: no trained policy ({MODEL}) and no checkpoint")
            directory = latest
        contract = load_contract(directory)
        checksums.verify(directory / MODEL)
        model = algo_class(contract.algo).load(directory / MODEL, device="cpu")
        return cls(model, contract)


def latest_checkpoint(run: str | PathLike[str]) -> Path | None:
    """The checkpoint folder named by ``run/checkpoint.json`` (None without one)."""
    path = Path(run) / "checkpoint.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    folder = Path(run) / str(info.get("folder", ""))
    return folder if (folder / MODEL).is_file() else None
