"""Checkpoints are checksummed (issue 22): a byte flipped inside ``epoch_NNN.pt`` (the file still
loads: ``torch.load`` checks nothing) makes the resume fall back to the checkpoint before it, with a
warning, and retrain to the same weights; a flipped ``best.pt`` is rewritten on resume and is a
one-line error naming it on export; the TensorBoard curves survive a resume."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from train_helpers import TINY, make_dataset

from sim2real.errors import IntegrityError
from sim2real.train import runfolder as rf
from sim2real.train.config import load_config
from sim2real.train.data import Inputs
from sim2real.train.trainer import TrainRequest, train
from testlib import flip_stored_byte


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("integrity-data")
    (root / "tiny.toml").write_text(TINY)
    return {"src": make_dataset(root / "src", 24), "tgt": make_dataset(root / "tgt", 8, seed=1, real=True),
            "cfg": root / "tiny.toml"}


def _train(data: dict[str, Path], out: Path, epochs: int) -> dict:
    cfg = load_config(data["cfg"], {"epochs": epochs, "method": "dann"})
    return train(TrainRequest(cfg, Inputs(data["src"], data["tgt"]), out))


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def test_a_corrupt_checkpoint_falls_back_and_a_corrupt_best_is_refused(data, tmp_path: Path, caplog, run_cli) -> None:
    out = tmp_path / "run"
    first = _train(data, out, 2)
    good = _weights(rf.checkpoint_path(out, 2))
    assert rf.checkpoint_path(out, 2).with_name("epoch_002.pt.sha256").is_file() and (out / "best.pt.sha256").is_file()
    before = rf.checkpoint_path(out, 2).read_bytes()
    flip_stored_byte(rf.checkpoint_path(out, 2))
    assert rf.checkpoint_path(out, 2).read_bytes() != before
    torch.load(rf.checkpoint_path(out, 2), map_location="cpu", weights_only=True)  # corrupt, and it still loads
    with caplog.at_level(logging.WARNING):
        again = _train(data, out, 2)
    assert "epoch_002.pt: sha256" in caplog.text and "falling back" in caplog.text
    redone = _weights(rf.checkpoint_path(out, 2))
    assert all(torch.equal(good[k], redone[k]) for k in good)  # epoch 2 retrained from epoch 1: the same weights
    assert [h["validators"] for h in again["history"]] == [h["validators"] for h in first["history"]]

    flip_stored_byte(out / "best.pt")
    with pytest.raises(IntegrityError, match="best.pt: sha256 .* does not match"):
        rf.load_model(out)
    r = run_cli("export", str(out), "--onnx", str(tmp_path / "m.onnx"), "--progress", "none")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and "best.pt: sha256" in lines[0], r.stderr
    assert not (tmp_path / "m.onnx").exists()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _train(data, out, 2)  # a resume rewrites best.pt from its epoch's checkpoint
    assert "best.pt: sha256" in caplog.text and rf.load_model(out)[0] is not None


def _scalars(tb: Path, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb), size_guidance={"scalars": 0})
    acc.Reload()  # applies TensorBoard's purge of what a killed run logged after its checkpoint
    return [e.step for e in acc.Scalars(tag)]


def test_tensorboard_keeps_every_epoch_after_a_resume(data, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _train(data, out, 3)
    whole = _scalars(out / "tb", "validators/snd")
    for e in (3,):  # as if killed after epoch 3 was logged but before its checkpoint was renamed into place
        from sim2real import checksums

        checksums.remove(rf.checkpoint_path(out, e))
    _train(data, out, 3)
    assert len(whole) == 3 and _scalars(out / "tb", "validators/snd") == whole
    train_steps = _scalars(out / "tb", "train/loss")
    assert train_steps == sorted(set(train_steps))  # the retrained epoch replaced its first logging
