"""Reading a new task's K samples for ``sim2real meta adapt --samples FILE``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError


def read_samples(path: Path, inputs: list[str], outputs: list[str], n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` float32 from ``.npz`` (arrays ``x`` (K, n_in) and ``y`` (K, n_out)) or ``.csv`` (a header
    naming the model's input and output columns, e.g. ``shoulder.position, ..., cmd.shoulder, d.shoulder.position``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--samples {path}: no such file")
    if path.suffix == ".npz":
        with np.load(path) as z:
            if "x" not in z or "y" not in z:
                raise InputError(f"{path}: expected arrays 'x' (K, {n_in}) and 'y' (K, {n_out})")
            x, y = z["x"], z["y"]
    elif path.suffix == ".csv":
        import csv

        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        missing = [c for c in inputs + outputs if not rows or c not in rows[0]]
        if missing:
            raise InputError(f"{path}: expected the columns {', '.join(missing)}")
        try:
            x = np.array([[float(r[c]) for c in inputs] for r in rows])
            y = np.array([[float(r[c]) for c in outputs] for r in rows])
        except ValueError as exc:
            raise InputError(f"{path}: expected numbers ({exc})") from None
    else:
        raise InputError(f"--samples {path}: expected a .npz or .csv file")
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != n_in or y.shape[1] != n_out or len(x) != len(y) or not len(x):
        raise InputError(f"{path}: expected x (K, {n_in}) and y (K, {n_out}) with K >= 1 (got {x.shape}, {y.shape})")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError(f"{path}: expected finite numbers")
    return x.astype(np.float32), y.astype(np.float32)
