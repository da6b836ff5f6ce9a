"""Policy checkpoints and models carry a sha256 (issue 22): a changed byte of a checkpoint's
model.zip (or vecnormalize.pkl, a pickle) starts the run again with a warning instead of resuming
from it, and ``Policy.load`` refuses a changed model.zip in one line naming it."""

from __future__ import annotations

import json
import logging

import pytest
from control_helpers import PENDULUM, Interrupt
from sim2real.control.config import config_from
from sim2real.control.policy import Policy
from sim2real.control.train import train
from sim2real.errors import IntegrityError


def _flip(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_changed_policy_files_are_not_loaded(tmp_path, caplog) -> None:
    cfg = config_from({"env": PENDULUM, "steps": 512, "normalize": True, "checkpoint_every": 10000,
                       "hyperparameters": {"n_steps": 128, "batch_size": 64, "n_epochs": 1}})
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "run", Interrupt(200))
    info = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    folder = tmp_path / "run" / info["folder"]
    assert (folder / "model.zip.sha256").is_file() and (folder / "vecnormalize.pkl.sha256").is_file()
    _flip(folder / "vecnormalize.pkl")
    with caplog.at_level(logging.WARNING):
        result = train(cfg, tmp_path / "run")
    assert result.resumed_from is None and "vecnormalize.pkl: sha256" in caplog.text
    assert "starting again from step 0" in caplog.text and result.summary["steps"] == 512
    Policy.load(tmp_path / "run")
    _flip(tmp_path / "run" / "model.zip")
    with pytest.raises(IntegrityError, match=r"model.zip: sha256 .* does not match"):
        Policy.load(tmp_path / "run")
