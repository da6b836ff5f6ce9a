"""Policy-level transfer: sim vs real episode returns (the seeds' TransferValidator, done carefully).

* transfer ratio = mean real return / mean sim return; it is only meaningful when the sim mean is
  positive (a ratio of negative returns reads backwards), otherwise it is reported as undefined;
* performance gap = mean sim return - mean real return;
* success rate = share of episodes whose return reaches an explicit threshold (the seeds defaulted
  to the 75th percentile of the real returns themselves, which makes the rate about 25% whatever the
  policy does; here the threshold must be given), or the share of episodes flagged successful;
* assessment: the seeds' wording on the transfer ratio (> 0.8, > 0.6, > 0.4).

Returns files: CSV/JSON-lines with a ``return`` column (and optionally ``success``), or a JSON list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

TRANSFER_WORDING: tuple[tuple[float, str, str], ...] = (
    (0.8, "Excellent transfer - Policy performs well in reality.", "good"),
    (0.6, "Good transfer - Policy adapts reasonably to reality.", "good"),
    (0.4, "Fair transfer - Significant performance drop in reality.", "warn"),
    (-math.inf, "Poor transfer - Major adaptation required.", "bad"),
)


def assess_transfer(ratio: float | None) -> tuple[str, str]:
    if ratio is None or not math.isfinite(ratio):
        return "Undefined - the transfer ratio needs a positive mean sim return", "info"
    for bound, words, status in TRANSFER_WORDING:
        if ratio > bound:
            return words, status
    return TRANSFER_WORDING[-1][1], TRANSFER_WORDING[-1][2]


def _stats(x: np.ndarray) -> dict[str, float]:
    return {"n": len(x), "mean": float(x.mean()), "std": float(x.std()), "median": float(np.median(x)),
            "min": float(x.min()), "max": float(x.max())}


def transfer_metrics(
    sim_returns: Sequence[float], real_returns: Sequence[float], success_threshold: float | None = None,
    sim_success: Sequence[bool] | None = None, real_success: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """Return statistics, transfer ratio, performance gap, success rates and the assessment."""
    s = np.asarray(sim_returns, dtype=np.float64)
    r = np.asarray(real_returns, dtype=np.float64)
    if len(s) == 0 or len(r) == 0 or not (np.isfinite(s).all() and np.isfinite(r).all()):
        raise InputError("policy returns: expected at least one finite return per side")
    ratio = float(r.mean() / s.mean()) if s.mean() > 0 else None
    words, status = assess_transfer(ratio)
    out: dict[str, Any] = {
        "sim": _stats(s), "real": _stats(r), "transfer_ratio": ratio,
        "performance_gap": float(s.mean() - r.mean()), "assessment": words, "status": status,
        "success_threshold": success_threshold,
    }
    if success_threshold is not None:
        out["success_rate_sim"] = float(np.mean(s >= success_threshold))
        out["success_rate_real"] = float(np.mean(r >= success_threshold))
    if sim_success is not None:
        out["success_rate_sim"] = float(np.mean(np.asarray(sim_success, bool)))
    if real_success is not None:
        out["success_rate_real"] = float(np.mean(np.asarray(real_success, bool)))
    return out


def read_returns(path: str | PathLike[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Episode returns (and success flags if present) from .csv, .jsonl or .json."""
    from ..trajectory.readers import TABLE_SUFFIXES, csv_columns, jsonl_columns

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc.msg})") from None
        if isinstance(data, dict):
            data = data.get("returns")
        if not isinstance(data, list) or not all(isinstance(v, int | float) for v in data):
            raise InputError(f"{path}: expected a JSON list of returns (or {{\"returns\": [...]}})")
        return np.array(data, dtype=np.float64), None
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind not in ("csv", "jsonl"):
        raise InputError(f"{path}: expected a .csv, .jsonl or .json file of episode returns")
    cols = csv_columns(path) if kind == "csv" else jsonl_columns(path)
    if "return" not in cols:
        raise InputError(f"{path}: expected a 'return' column (found {', '.join(cols)})")
    ret = np.asarray(cols["return"], dtype=np.float64)
    success = _flags(cols["success"], path) if "success" in cols else None
    return ret, success


def _flags(col: np.ndarray, path: Path) -> np.ndarray:
    """0/1, true/false or yes/no per episode."""
    col = np.asarray(col)
    if col.dtype.kind in "fiub":
        return col.astype(np.float64) > 0
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    try:
        return np.array([words[str(v).strip().lower()] for v in col], dtype=bool)
    except KeyError as exc:
        raise InputError(f"{path}: success: expected true/false or 1/0 (got {exc.args[0]!r})") from None
