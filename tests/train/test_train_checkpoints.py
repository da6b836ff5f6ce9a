"""A run's checkpoints and identity without training (``checkpoints.py``, ``run_identity.py``): a
resume restores every state the next epoch depends on, each torchrun rank its own augmentation
stream (a rank the checkpoint did not have starts afresh); a method state that does not fit, a
checkpoint of other settings, other data or an unreadable config.json are one-line errors naming
the file; pruning keeps the shipped epoch and the last N; best.pt follows the chosen epoch.
Tiny linear models, no data: each test takes milliseconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from sim2real.errors import InputError
from sim2real.train import run_identity as ident
from sim2real.train import runfolder as rf
from sim2real.train.checkpoints import Checkpoints, Trainables
from sim2real.train.selection import Choice



def _spec() -> rf.ModelSpec:  # a fresh one per use: write_identity sets its run_id
    return rf.ModelSpec(arch="linear", config={"in": 3}, task="segment", classes=["a", "b"], input={},
                        normalization={"mean": [0.0], "std": [1.0]})


HASH = "0123456789abcdef"


def _trainables(seed: int, method_out: int = 2, rank: int = 0, world: int = 1) -> Trainables:
    torch.manual_seed(seed)
    model, method = nn.Linear(3, 2), nn.Linear(2, method_out)
    opt = torch.optim.SGD([*model.parameters(), *method.parameters()], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    t = Trainables(model, method, opt, sched, torch.Generator().manual_seed(seed),
                   torch.Generator().manual_seed(seed + 1), "dann", rank, world)
    method(model(torch.randn(4, 3))).sum().backward()  # one step: the optimiser has momentum to restore
    opt.step()
    sched.step()
    return t


def _history(epochs: int) -> list[dict]:
    return [{"epoch": e, "validators": {"snd": 0.1 * e}} for e in range(1, epochs + 1)]


def _saved(out: Path, epochs: int = 1, keep: int = 0) -> tuple[Checkpoints, Trainables, torch.Tensor]:
    """``epochs`` checkpoints of one run; the rank-1 augmentation state they hold."""
    ckpts, t = Checkpoints(out, _spec(), HASH, keep), _trainables(0)
    rank1 = torch.Generator().manual_seed(99).get_state()
    for e in range(1, epochs + 1):
        ckpts.save(e, t, t.model, _history(e), [t.g_aug.get_state(), rank1])
    return ckpts, t, rank1


def test_a_resume_restores_weights_optimiser_schedule_and_every_generator(tmp_path: Path) -> None:
    ckpts, a, rank1 = _saved(tmp_path)
    ckpt = rf.load_torch(rf.checkpoint_path(tmp_path, 1))
    assert list(ckpt) == ["format", "version", "sim2real_version", "epoch", "arch", "model_config", "config_hash",
                          "model", "inference", "method", "optimizer", "scheduler", "rng", "history"]
    assert list(ckpt["rng"]) == ["torch", "generator", "augment", "augment_ranks"] and ckpt["inference"] is None
    expected = {"global": torch.rand(3), "g": torch.rand(3, generator=a.g), "aug": torch.rand(3, generator=a.g_aug)}

    b = _trainables(7)
    assert ckpts.resume(b) == (1, _history(1))
    assert all(torch.equal(v, a.model.state_dict()[k]) for k, v in b.model.state_dict().items())
    assert all(torch.equal(v, a.method.state_dict()[k]) for k, v in b.method.state_dict().items())
    assert b.opt.state_dict()["state"][0]["momentum_buffer"].equal(a.opt.state_dict()["state"][0]["momentum_buffer"])
    assert b.sched.get_last_lr() == a.sched.get_last_lr()
    assert torch.equal(torch.rand(3), expected["global"]) and torch.equal(torch.rand(3, generator=b.g), expected["g"])
    assert torch.equal(torch.rand(3, generator=b.g_aug), expected["aug"])


def test_each_rank_resumes_its_own_augmentation_stream_and_a_new_rank_starts_afresh(tmp_path: Path) -> None:
    ckpts, _, rank1 = _saved(tmp_path)
    same = _trainables(7, rank=1, world=2)
    ckpts.resume(same)
    assert torch.equal(same.g_aug.get_state(), rank1)
    other = _trainables(7, rank=1, world=3)  # three processes now, two then: rank 1's saved stream is not its own
    fresh = other.g_aug.get_state()
    ckpts.resume(other)
    assert torch.equal(other.g_aug.get_state(), fresh)


def test_a_method_state_that_does_not_fit_or_other_settings_are_one_line_errors(tmp_path: Path) -> None:
    ckpts, _, _ = _saved(tmp_path)
    path = rf.checkpoint_path(tmp_path, 1)
    with pytest.raises(InputError, match=f"{path}: its dann state does not fit this version's") as e:
        ckpts.resume(_trainables(7, method_out=4))  # e.g. a discriminator of another shape
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match=f"{path}: made with other settings"):
        Checkpoints(tmp_path, _spec(), "another hash", 0).resume(_trainables(7))


def test_prune_keeps_the_shipped_epoch_and_the_last_n(tmp_path: Path) -> None:
    ckpts, _, _ = _saved(tmp_path / "keep1", epochs=4, keep=1)
    ckpts.prune(Choice(2, "snd", 0.2, "the best snd"))
    assert rf.checkpoint_epochs(tmp_path / "keep1") == [2, 4]
    assert sorted(p.name for p in (tmp_path / "keep1" / rf.CHECKPOINTS).iterdir()) == [
        "epoch_002.pt", "epoch_002.pt.sha256", "epoch_004.pt", "epoch_004.pt.sha256"]
    ckpts, _, _ = _saved(tmp_path / "all", epochs=3, keep=0)
    ckpts.prune(Choice(1, "snd", 0.1, "the best snd"))
    assert rf.checkpoint_epochs(tmp_path / "all") == [1, 2, 3]


def test_best_follows_the_chosen_epoch_and_a_resume_catches_it_up(tmp_path: Path) -> None:
    ckpts, t, _ = _saved(tmp_path, epochs=2)
    ckpts.update_best(Choice(1, "snd", 0.1, "r"), 2, t.model)  # the validator chose an earlier epoch
    assert not (tmp_path / rf.BEST).exists()
    ckpts.update_best(Choice(2, "snd", 0.2, "r"), 2, t.model)
    assert json.loads((tmp_path / rf.BEST_INFO).read_text())["checkpoint"] == "checkpoints/epoch_002.pt"
    ckpts.reconcile_best(Choice(1, "snd", 0.3, "after the resume"))  # as if killed before best.pt followed
    best = rf.load_torch(tmp_path / rf.BEST)
    assert best["epoch"] == 1 and best["reason"] == "after the resume"
    assert json.loads((tmp_path / rf.BEST_INFO).read_text())["epoch"] == 1


def test_a_folder_of_other_settings_or_data_or_an_unreadable_config_is_refused(tmp_path: Path) -> None:
    record = {"config": {"lr": 0.002, "model": {"widths": [8]}}, "inputs": {"data": "src"}}
    fingerprints = {"source": {"id": "d1", "kind": "dataset", "frames": 24}, "target": None, "eval": None}
    spec = _spec()
    ident.write_identity(tmp_path, spec, record, fingerprints)
    ident.check_config(tmp_path, record)
    ident.check_fingerprints(tmp_path, fingerprints)
    assert json.loads((tmp_path / rf.CONFIG).read_text()) == {**record, "fingerprints": fingerprints}
    again = _spec()
    ident.write_identity(tmp_path, again, record, fingerprints)
    assert again.run_id == spec.run_id != ""  # a restart keeps the run's id
    other = {**record, "config": {"lr": 0.01, "model": {"widths": [8, 16]}}}
    with pytest.raises(InputError, match=r"other settings \(config.lr: 0.002 then, 0.01 now; "
                                         r"config.model.widths: \[8\] then, \[8, 16\] now\)"):
        ident.check_config(tmp_path, other)
    with pytest.raises(InputError, match=r"other data \(source.frames: 24 then, 25 now\)"):
        ident.check_fingerprints(tmp_path, {**fingerprints, "source": {**fingerprints["source"], "frames": 25}})
    (tmp_path / rf.CONFIG).write_text("{torn")
    with pytest.raises(InputError, match=f"{tmp_path / rf.CONFIG}: unreadable"):
        ident.check_config(tmp_path, record)
