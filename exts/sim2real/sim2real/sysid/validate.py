"""Held-out validation against measurements the fit never saw, with ``sim2real.trajectory.measures`` (RMSE,
NRMSE, VAF) per channel:

* open loop: the simulator before and after calibration, each held-out row simulated from the start of
  its log (the error includes everything the simulator accumulates before it, as in any open-loop use);
* one step ahead (with the neural residual): each held-out row predicted from the state measured one
  sample earlier, by the calibrated simulator alone and with the residual MLP added. One-step errors
  are much smaller than open-loop ones by nature; compare the two one-step variants with each other.

Held-out rows are those a run does not fit: a ``--holdout`` log entirely, or the last part of each
fitted log (``holdout_fraction``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..trajectory.measures import nrmse, rmse, vaf_pct
from .problem import Problem, Run

WORSE = 1.05  # a channel whose held-out RMSE grew by more than this factor got worse (beyond noise)
OneStep = Callable[[Run], tuple[np.ndarray, np.ndarray]]  # run -> (simulated, simulated + residual), rows 1..N-1


@dataclass
class Validation:
    """One run's held-out rows: the measurements and each variant's simulation of them."""

    run: str
    t_s: np.ndarray  # (N,) seconds from the log's start
    measured: np.ndarray  # (N, C)
    predicted: dict[str, np.ndarray]  # variant -> (N, C)
    channels: list[str]
    metrics: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # variant -> channel -> metric

    def measure(self) -> None:
        for variant, pred in self.predicted.items():
            cols = zip(rmse(pred, self.measured), nrmse(pred, self.measured), vaf_pct(pred, self.measured), strict=True)
            self.metrics[variant] = {c: {"rmse": float(a), "nrmse": float(b), "vaf_pct": float(v)}
                                     for c, (a, b, v) in zip(self.channels, cols, strict=True)}


def validate(problem: Problem, runs: Sequence[Run], before: np.ndarray, after: np.ndarray) -> list[Validation]:
    """Open loop: simulate every run at ``before`` and ``after`` (one batch), measure the held-out rows."""
    sims = problem.simulate(np.stack([before, after]), runs)
    out = []
    for r, s in zip(runs, sims, strict=True):
        held = ~r.fit
        if held.any():
            v = Validation(r.name, r.t_s[held], r.measured[held], {"before": s[0][held], "after": s[1][held]},
                           list(problem.channels))
            v.measure()
            out.append(v)
    return out


def validate_one_step(problem: Problem, runs: Sequence[Run], one_step: OneStep) -> list[Validation]:
    """One step ahead: the held-out rows (but a log's first) predicted from the row before."""
    out = []
    for r in runs:
        held = ~r.fit[1:]
        if held.any():
            sim, corrected = one_step(r)
            v = Validation(r.name, r.t_s[1:][held], r.measured[1:][held],
                           {"one-step": sim[held], "one-step+residual": corrected[held]}, list(problem.channels))
            v.measure()
            out.append(v)
    return out


def summary(validations: Sequence[Validation], channels: Sequence[str]) -> dict[str, Any]:
    """Pooled over every held-out row: per channel and variant RMSE / NRMSE / VAF; with ``before`` and
    ``after``, the ratio of their RMSE per channel (the acceptance figure: at most 0.2), its mean, the
    worst channel and its ratio, and the channels that got worse (ratio above ``WORSE``): a mean
    can hide one channel calibration made worse."""
    if not validations:
        return {"held_out_rows": 0}
    measured = np.concatenate([v.measured for v in validations])
    variants = [k for k in validations[0].predicted if all(k in v.predicted for v in validations)]
    per: dict[str, dict[str, dict[str, float]]] = {}
    for k in variants:
        pred = np.concatenate([v.predicted[k] for v in validations])
        cols = zip(rmse(pred, measured), nrmse(pred, measured), vaf_pct(pred, measured), strict=True)
        per[k] = {c: {"rmse": float(a), "nrmse": float(b), "vaf_pct": float(v)}
                  for c, (a, b, v) in zip(channels, cols, strict=True)}
    out: dict[str, Any] = {"held_out_rows": len(measured), "per_channel": per}
    for k in variants:
        out[f"nrmse_mean_{k}"] = float(np.nanmean([per[k][c]["nrmse"] for c in channels]))
        out[f"vaf_mean_{k}"] = float(np.nanmean([per[k][c]["vaf_pct"] for c in channels]))
    if "before" in per and "after" in per:
        ratios = {c: per["after"][c]["rmse"] / per["before"][c]["rmse"] if per["before"][c]["rmse"] > 0
                  else float("nan") for c in channels}
        finite = {c: v for c, v in ratios.items() if np.isfinite(v)}
        out["rmse_ratio"] = ratios
        out["rmse_ratio_mean"] = float(np.mean(list(finite.values()))) if finite else float("nan")
        out["rmse_ratio_max"] = max(finite.values()) if finite else float("nan")
        out["rmse_ratio_worst_channel"] = max(finite, key=finite.__getitem__) if finite else ""
        out["worse_channels"] = {c: v for c, v in finite.items() if v > WORSE}
    return out
