"""A training run's checkpoints: one per finished epoch, the resume from the newest intact one, and
``best.pt``, the weights the run ships (the epoch the validator chose), kept in step with them.

A checkpoint holds everything the next epoch depends on (``Trainables``: weights, optimiser, schedule and
every random generator's state) and the history so far, so a resumed run ends with the same bytes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import __version__, checksums
from ..errors import InputError, IntegrityError
from ..fsutil import atomic_write_json
from . import runfolder as rf
from .selection import Choice, prune

log = logging.getLogger(__name__)


@dataclass
class Trainables:
    """What a checkpoint saves and a resume restores, besides the history. ``rank`` of ``world``
    torchrun processes: each rank augments with a stream of its own (``distributed.py``)."""

    model: nn.Module
    method: nn.Module
    opt: Any
    sched: Any
    g: torch.Generator
    g_aug: torch.Generator
    method_name: str  # the config's ``method``, named by the error for a state that does not fit
    rank: int = 0
    world: int = 1

    def state(self, augment_ranks: list[torch.Tensor]) -> dict[str, Any]:
        """``augment_ranks``: every rank's augmentation state (rank 0's is also ``augment``)."""
        return {
            "model": self.model.state_dict(), "method": self.method.state_dict(), "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "generator": self.g.get_state(), "augment": self.g_aug.get_state(),
                    "augment_ranks": augment_ranks},
        }

    def load(self, ckpt: dict[str, Any], path: Path) -> None:
        rf.load_weights(self.model, ckpt["model"], path)
        try:
            self.method.load_state_dict(ckpt["method"])
            self.opt.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError):  # e.g. an older DANN held both discriminators
            raise InputError(f"{path}: its {self.method_name} state does not fit this version's; expected a "
                             "checkpoint of this sim2real version, or choose another --out") from None
        self.sched.load_state_dict(ckpt["scheduler"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        self.g.set_state(ckpt["rng"]["generator"])
        self.g_aug.set_state(_rank_state(ckpt["rng"], self.rank, self.world, self.g_aug.get_state()))


class Checkpoints:
    """The checkpoints and ``best.pt`` of the run in ``out`` (model ``spec``, settings hashed ``config_hash``)."""

    def __init__(self, out: Path, spec: rf.ModelSpec, config_hash: str, keep: Any) -> None:
        self.out, self.spec, self.config_hash, self.keep = out, spec, config_hash, keep

    def resume(self, t: Trainables) -> tuple[int, list[dict[str, Any]]]:
        """Restore ``t`` from the newest intact checkpoint: (its epoch, the history), or (0, [])."""
        for epoch in reversed(rf.checkpoint_epochs(self.out)):
            path = rf.checkpoint_path(self.out, epoch)
            try:
                ckpt = rf.load_torch(path)
            except (InputError, IntegrityError) as exc:  # corrupt or torn by something else: fall back one epoch
                log.warning("%s; falling back to the checkpoint before it", exc)
                continue
            rf.check_same_model(ckpt, self.spec, path)
            if ckpt.get("config_hash") != self.config_hash:
                raise InputError(f"{path}: made with other settings; expected a checkpoint of this run")
            t.load(ckpt, path)
            return epoch, list(ckpt["history"])
        return 0, []

    def save(self, epoch: int, t: Trainables, inference: nn.Module, history: list[dict[str, Any]],
             augment_ranks: list[torch.Tensor]) -> None:
        """``epoch``'s checkpoint; ``inference`` is the model the target is scored with (its own
        weights only when it differs from the trained one: per-domain batch-norm statistics)."""
        state = t.state(augment_ranks)
        ckpt = {
            "format": rf.CHECKPOINT_FORMAT, "version": rf.FORMAT_VERSION, "sim2real_version": __version__,
            "epoch": epoch, "arch": self.spec.arch, "model_config": self.spec.config,
            "config_hash": self.config_hash,
            "model": state["model"],
            "inference": None if inference is t.model else inference.state_dict(),
            **{k: state[k] for k in ("method", "optimizer", "scheduler", "rng")},
            "history": history,
        }
        (self.out / rf.CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        rf.save_torch(rf.checkpoint_path(self.out, epoch), ckpt)

    def update_best(self, choice: Choice | None, epoch: int, inference: nn.Module) -> None:
        """``best.pt`` from the epoch just finished, when the validator chose it."""
        if choice is not None and choice.epoch == epoch:
            self._write_best(choice, inference.state_dict())

    def reconcile_best(self, choice: Choice | None) -> None:
        """After a resume: ``best.pt`` as the checkpointed history says (a kill between writing a checkpoint
        and it leaves it one epoch behind), written again from its epoch's checkpoint if damaged."""
        if choice is None:
            return
        try:
            have = json.loads((self.out / rf.BEST_INFO).read_text()).get("epoch")
        except (OSError, ValueError):
            have = None
        if have != choice.epoch or not self._best_is_intact():
            ckpt = rf.load_torch(rf.checkpoint_path(self.out, choice.epoch))
            self._write_best(choice, ckpt["inference"] or ckpt["model"])

    def prune(self, choice: Choice | None) -> None:
        prune(self.out, self.keep, None if choice is None else choice.epoch)

    def _write_best(self, choice: Choice, weights: dict[str, Any]) -> None:
        rf.save_torch(self.out / rf.BEST, {
            "format": rf.CHECKPOINT_FORMAT, "version": rf.FORMAT_VERSION, "epoch": choice.epoch, "arch": self.spec.arch,
            "model_config": self.spec.config, "model": weights, "inference": None, **choice.to_dict()})
        atomic_write_json(self.out / rf.BEST_INFO, {
            **choice.to_dict(), "checkpoint": str(rf.checkpoint_path(self.out, choice.epoch).relative_to(self.out))})

    def _best_is_intact(self) -> bool:
        best = self.out / rf.BEST
        if not best.is_file():
            return False
        try:
            checksums.verify(best)
        except IntegrityError as exc:
            log.warning("%s; writing it again from its epoch's checkpoint", exc)
            return False
        return True


def _rank_state(rng: dict[str, Any], rank: int, world: int, fresh: torch.Tensor) -> torch.Tensor:
    """This rank's saved augmentation state; a rank the checkpoint did not have (another process
    count) starts its stream afresh."""
    if rank == 0:
        return rng["augment"]
    states = rng.get("augment_ranks") or []
    return states[rank] if len(states) == world else fresh
