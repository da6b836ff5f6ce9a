"""Which epoch a run ships (``best.pt``), and which checkpoints it keeps.

``select`` is ``"last"`` (the default: the last epoch) or the name of a validator (``validators.py``),
whose best epoch is shipped instead. The default is the product of a measurement, not a habit: on
the MNIST -> MNIST-M benchmark and the segmentation benchmark (docs/training.md, "Benchmark"), no
validator chose epochs that were as good as the last one on average, so shipping a validator's pick
would have cost accuracy; ``--select VALIDATOR`` remains for those who measured otherwise on their data.

Everything here is task-agnostic: a history is a list of per-epoch records with a ``validators``
mapping, whatever the task. Every choice carries the reason shown in ``metrics.json``, ``best.json``
and by ``sim2real export``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import checksums
from . import runfolder as rf
from .config import VALIDATOR_SIGN

LAST = "last"


@dataclass(frozen=True)
class Choice:
    epoch: int
    select: str  # "last" or a validator name
    value: float | None  # the validator's value at that epoch (None for "last")
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "select": self.select, "validator": None if self.select == LAST else self.select,
                "value": self.value, "reason": self.reason}


def choose(history: list[dict[str, Any]], select: str) -> Choice | None:
    """The epoch to ship after the epochs in ``history`` (None before the first)."""
    if not history:
        return None
    if select == LAST:
        epoch = history[-1]["epoch"]
        return Choice(epoch, LAST, None, f"the last epoch ({epoch}): the default (select = 'last')")
    sign = VALIDATOR_SIGN[select]
    scored = [(h["epoch"], h["validators"][select]) for h in history if select in h["validators"]]
    if not scored:
        epoch = history[-1]["epoch"]
        return Choice(epoch, LAST, None, f"the last epoch ({epoch}): validator {select} has no value yet")
    epoch, value = max(scored, key=lambda ev: (sign * ev[1], -ev[0]))  # ties: the earlier epoch
    word = "highest" if sign > 0 else "lowest"
    return Choice(epoch, select, value, f"epoch {epoch} of {history[-1]['epoch']}: the {word} {select} ({value:.4g})")


def prune(run: Path, keep: int, shipped: int | None) -> list[int]:
    """Delete all but the last ``keep`` checkpoints and the shipped epoch's (0 keeps all); the removed epochs."""
    if not keep:
        return []
    removed = []
    for e in rf.checkpoint_epochs(run)[:-keep]:
        if e != shipped:
            checksums.remove(rf.checkpoint_path(run, e))  # and its sha256 sidecar
            removed.append(e)
    return removed
