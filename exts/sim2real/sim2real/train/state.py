"""The state dataset format of the ``state`` task (the seeds' state-regression DANN).

One file per domain, ``.npz`` or ``.csv``:

* ``.npz``: ``features`` ``(N, D)`` float; ``targets`` ``(N, K)`` float (required in the labelled
  simulation file, ignored in the unlabelled real file, used by ``--eval``); optional
  ``feature_names`` ``(D,)`` and ``target_names`` ``(K,)`` string arrays.
* ``.csv``: a header row; columns ``x.NAME`` are features and ``y.NAME`` targets (others ignored),
  one row per sample. A unit may follow in brackets: ``x.joint_vel [rad/s]``.

Sim and real files must name the same features (same count, and the same names when both have
names). Values must be finite.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil import sha256_file

SUFFIXES = (".npz", ".csv")


@dataclass
class StateData:
    features: np.ndarray  # (N, D) float32
    targets: np.ndarray | None  # (N, K) float32
    feature_names: list[str]
    target_names: list[str]
    origin: str = ""
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, index: np.ndarray) -> StateData:
        return StateData(self.features[index], None if self.targets is None else self.targets[index],
                         self.feature_names, self.target_names, self.origin, self.fingerprint)


def read_state(path: str | Path, labelled: bool) -> StateData:
    """Read a state file; ``labelled`` requires targets."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such state file (expected {' or '.join(SUFFIXES)})")
    if path.suffix.lower() == ".npz":
        feats, targets, fnames, tnames = _npz(path)
    elif path.suffix.lower() == ".csv":
        feats, targets, fnames, tnames = _csv(path)
    else:
        raise InputError(f"{path}: expected a state file ending in {' or '.join(SUFFIXES)}")
    if feats.ndim != 2 or len(feats) == 0 or feats.shape[1] == 0:
        raise InputError(f"{path}: features: expected an (N, D) array with N, D > 0 (got shape {feats.shape})")
    if labelled and targets is None:
        raise InputError(f"{path}: expected targets (npz key 'targets' or csv columns 'y.NAME') in the labelled file")
    if targets is not None:
        if targets.ndim == 1:
            targets = targets[:, None]
        if targets.ndim != 2 or len(targets) != len(feats):
            raise InputError(f"{path}: targets: expected ({len(feats)}, K) to match the features (got {targets.shape})")
        if not np.isfinite(targets).all():
            raise InputError(f"{path}: targets: expected finite numbers (found NaN or inf)")
    if not np.isfinite(feats).all():
        raise InputError(f"{path}: features: expected finite numbers (found NaN or inf)")
    fnames = fnames or [f"x{i}" for i in range(feats.shape[1])]
    tnames = tnames or ([f"y{i}" for i in range(targets.shape[1])] if targets is not None else [])
    fp = {"kind": "state", "path": str(path.resolve()), "sha256": sha256_file(path), "samples": len(feats)}
    return StateData(feats.astype(np.float32), None if targets is None else targets.astype(np.float32),
                     fnames, tnames, str(path), fp)


def _npz(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str], list[str]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            if "features" not in z:
                raise InputError(f"{path}: expected an array named 'features' (found {', '.join(z.files) or 'none'})")
            feats = np.asarray(z["features"], dtype=np.float64)
            targets = np.asarray(z["targets"], dtype=np.float64) if "targets" in z else None
            fnames = [str(n) for n in z["feature_names"]] if "feature_names" in z else []
            tnames = [str(n) for n in z["target_names"]] if "target_names" in z else []
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .npz file ({exc})") from None
    return feats, targets, fnames, tnames


def _csv(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r]
    if len(rows) < 2:
        raise InputError(f"{path}: expected a header row and at least one sample")
    header = [h.strip() for h in rows[0]]
    xs = [i for i, h in enumerate(header) if h.startswith("x.")]
    ys = [i for i, h in enumerate(header) if h.startswith("y.")]
    if not xs:
        raise InputError(f"{path}: expected feature columns named 'x.NAME' (found {', '.join(header[:8])})")
    try:
        table = np.array([[float(r[i]) if i < len(r) and r[i].strip() else np.nan for i in xs + ys] for r in rows[1:]])
    except ValueError as exc:
        raise InputError(f"{path}: expected numbers in the x./y. columns ({exc})") from None
    names = [header[i][2:] for i in xs + ys]
    return table[:, : len(xs)], (table[:, len(xs):] if ys else None), names[: len(xs)], names[len(xs):]


def check_compatible(sim: StateData, other: StateData, role: str) -> None:
    """The real (or evaluation) file must describe the same features as the sim file."""
    if other.features.shape[1] != sim.features.shape[1]:
        raise InputError(f"{other.origin}: {other.features.shape[1]} features but {sim.origin} has "
                         f"{sim.features.shape[1]}; expected the same state vector in the {role} file")
    if other.feature_names != sim.feature_names and not _generic(other.feature_names) and not _generic(sim.feature_names):
        raise InputError(f"{other.origin}: feature names {other.feature_names[:6]} differ from {sim.origin}'s "
                         f"{sim.feature_names[:6]}; expected the same state vector in the {role} file")
    if other.targets is not None and sim.targets is not None and other.targets.shape[1] != sim.targets.shape[1]:
        raise InputError(f"{other.origin}: {other.targets.shape[1]} targets but {sim.origin} has {sim.targets.shape[1]}")


def _generic(names: list[str]) -> bool:
    return all(n == f"x{i}" for i, n in enumerate(names))
