"""Report sections of ``sim2real sysid fit`` (built with ``sim2real.report``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..report import Assessment, Metric, Section, grade
from .calibrate import Estimate
from .optimize import FitResult
from .params import Param
from .uncertainty import Uncertainty
from .validate import WORSE, Validation

RATIO_BANDS = (0.2, 0.5)  # held-out RMSE after / before: good below 0.2 (the acceptance bar), warn below 0.5
STRONG_CORRELATION = 0.9
MODEL_ERROR_DISCOUNT = 19.0  # (1 + ρ) / (1 - ρ) at ρ = 0.9: residuals that are mostly model error
MAX_PLOTTED_RUNS = 4


def summary_section(summary: dict[str, Any], result: FitResult, n_params: int) -> Section:
    ratio = summary.get("rmse_ratio_mean", float("nan"))
    worst, worst_ratio = summary.get("rmse_ratio_worst_channel", ""), summary.get("rmse_ratio_max")
    worse = summary.get("worse_channels", {})
    status = grade(ratio, *RATIO_BANDS)
    words = {"good": "Calibrated: held-out error cut to a fifth or less", "warn": "Improved, but less than 5x",
             "bad": "Calibration did not improve held-out predictions much", "info": "No held-out rows to judge"}
    label, detail = words[status], f"mean over channels of held-out RMSE after / before calibration = {ratio:.3g}"
    if worse:
        status = "bad" if status == "bad" else "warn"
        label = f"Calibration made {len(worse)} channel(s) worse: " + ", ".join(f"{c} ×{v:.3g}" for c, v in worse.items())
        detail += f" hides them; worst channel {worst} ×{worst_ratio:.3g}"
    sec = Section("summary", "Summary").assessment(Assessment(label, status, detail))
    rows = [
        Metric("held-out RMSE after / before (mean over channels)", ratio, status=grade(ratio, *RATIO_BANDS),
               threshold=f"<= {RATIO_BANDS[0]:g}", key="rmse_ratio_mean"),
        Metric("held-out RMSE after / before (worst channel)", worst_ratio, note=worst, key="rmse_ratio_max",
               status=grade(worst_ratio, 1.0, WORSE) if worst else "info", threshold="<= 1 (no channel worse)"),
        Metric("held-out NRMSE before", summary.get("nrmse_mean_before"), key="nrmse_before"),
        Metric("held-out NRMSE after", summary.get("nrmse_mean_after"), key="nrmse_after"),
        Metric("held-out VAF before", summary.get("vaf_mean_before"), unit="%", key="vaf_before"),
        Metric("held-out VAF after", summary.get("vaf_mean_after"), unit="%", key="vaf_after",
               status=grade(summary.get("vaf_mean_after"), 95.0, 80.0, higher_is_better=True)),
        Metric("held-out rows", summary.get("held_out_rows", 0), key="held_out_rows"),
        Metric("parameters", n_params, key="parameters"),
        Metric("optimiser", result.method, note=result.message, key="optimizer",
               status="good" if result.success else "warn"),
        Metric("rollouts", result.rollouts, key="rollouts"),
        Metric("fit time", result.seconds, unit="s", key="seconds"),
    ]
    return sec.metrics(rows)


def parameter_section(params: Sequence[Param], x0: np.ndarray, x: np.ndarray, unc: Uncertainty,
                      items: Sequence[Estimate], safety: float) -> Section:
    sec = Section("parameters", "Identified parameters")
    level = f"{100 * unc.level:g}%"
    rows = []
    for p, start, v, hw in zip(params, x0, x, unc.half_width, strict=True):
        rel = abs(hw / v) * 100 if v != 0 and math.isfinite(hw) else float("inf")
        rows.append([p.name, p.unit, p.op, start, v, hw if math.isfinite(hw) else "not identifiable",
                     f"{rel:.3g} %" if math.isfinite(rel) else "-", f"[{p.low:g}, {p.high:g}]"])
    sec.text(f"Estimates in each parameter's own terms (a factor on the model's value for `scale`), with "
             f"{level} confidence half-widths ({unc.method}; dof {unc.dof:.0f}).")
    sec.table(["parameter", "unit", "op", "start", "estimate", f"± ({level})", "relative", "bounds"], rows)
    flags = unc.non_smooth if unc.non_smooth is not None else np.zeros(len(params), bool)
    rough = [p.name for p, bad in zip(params, flags, strict=True) if bad]
    if rough:
        sec.assessment(Assessment(
            "The cost is not smooth at the estimate: " + ", ".join(rough), "warn",
            "a finite-difference step forward and one backward disagree (a joint-limit impact, a contact or stick-slip "
            "flips there); the intervals use the smoother side, but no local linearisation describes such a cost: "
            "excite within the joints' ranges, or try --optimizer cma --intervals population"))
    sec.text(f"The calibrated profile's terms: range = estimate ± {safety:g} × half-width, clipped to what the "
             "attribute can take (whole physics steps for a latency: those inside the range). A tied parameter is "
             "one term with one draw for all its entities (shared).")
    sec.table(["term target", "op", "unit", "model default", "calibrated", "range low", "range high", "draw"],
              [[e.key, e.op, e.unit, e.default, e.value, e.low, e.high, "shared" if e.shared else "per entity"]
               for e in items])
    corr = unc.correlation
    pairs = [(params[i].name, params[j].name, float(corr[i, j])) for i in range(len(params))
             for j in range(i + 1, len(params)) if np.isfinite(corr[i, j]) and abs(corr[i, j]) >= STRONG_CORRELATION]
    if pairs:
        sec.text("Strongly correlated pairs (|ρ| ≥ 0.9): the logs hardly tell them apart; excite differently "
                 "or fix one of them.")
        sec.table(["parameter", "parameter", "correlation"], pairs)
    return sec


def noise_section(channels: Sequence[str], units: Sequence[str], unc: Uncertainty) -> Section:
    sec = Section("residuals", "Residuals at the estimate")
    sec.text("Residual standard deviation per channel (what is left: sensor noise and model error) and the "
             "autocorrelation discount applied to the intervals (1 = white residuals; large = model error "
             "dominates, intervals widened accordingly).")
    sec.table(["channel", "unit", "residual std", "discount"],
              [[c, u, float(s), float(k)] for c, u, s, k in zip(channels, units, unc.noise_std, unc.inflation, strict=True)])
    correlated = [c for c, k in zip(channels, unc.inflation, strict=True) if k >= MODEL_ERROR_DISCOUNT]
    if correlated:
        sec.assessment(Assessment(
            "Residuals strongly correlated in time on " + ", ".join(correlated), "warn",
            f"lag-1 autocorrelation of 0.9 or more (discount >= {MODEL_ERROR_DISCOUNT:g}): model error, or a heavily "
            "filtered sensor; the intervals account for correlated noise, not for the bias model error causes"))
    return sec


def validation_section(validations: Sequence[Validation], summary: dict[str, Any], units: Sequence[str]) -> Section:
    sec = Section("validation", "Held-out validation (open loop)")
    if not validations:
        return sec.text("No held-out rows: give --holdout logs or a --holdout-fraction above 0.")
    sec.text("Each held-out row simulated from the start of its log with the model's values (before) and the "
             "identified ones (after).")
    return _comparison(sec, validations, summary, units, "measured vs simulated before and after calibration")


def one_step_section(validations: Sequence[Validation], summary: dict[str, Any], units: Sequence[str]) -> Section:
    sec = Section("neural", "Neural residual (one step ahead)")
    sec.text("Each held-out row predicted from the state measured one sample earlier: by the calibrated "
             "simulator alone, and with the residual MLP (the seeds' input + previous output network) added. "
             "One-step errors are small by nature; compare the two rows with each other, not with the open-loop "
             "table.")
    sec.metrics([Metric(f"held-out NRMSE {k}", summary.get(f"nrmse_mean_{k}"), key=f"nrmse_{k}")
                 for k in ("one-step", "one-step+residual")])
    return _comparison(sec, validations, summary, units, "measured vs one-step predictions")


def _comparison(sec: Section, validations: Sequence[Validation], summary: dict[str, Any], units: Sequence[str],
                caption: str) -> Section:
    from ..report import plots

    per = summary["per_channel"]
    variants = list(per)
    ratio = summary.get("rmse_ratio")
    rows = []
    for i, c in enumerate(validations[0].channels):
        rows.append([c, units[i]] + [per[k][c]["rmse"] for k in variants] + ([ratio[c]] if ratio else [])
                    + [per[k][c]["vaf_pct"] for k in variants])
    sec.table(["channel", "unit"] + [f"RMSE {k}" for k in variants] + (["after / before"] if ratio else [])
              + [f"VAF {k} %" for k in variants], rows)
    worse = summary.get("worse_channels") if ratio else None
    if worse:
        sec.text("Worse after calibration (held-out RMSE up by more than 5 %): "
                 + ", ".join(f"{c} ×{v:.3g}" for c, v in worse.items())
                 + ". The parameters fit the other channels at this one's expense: look for what the model lacks there.")
    for v in validations[:MAX_PLOTTED_RUNS]:
        name = Path(v.run).name  # a title names the log, not the machine's folders (the caption has the path)
        curves = {**{f"sim {k}": p for k, p in v.predicted.items()}, "measured": v.measured}  # measured on top
        sec.figure(plots.overlay_panels(v.t_s, curves, v.channels, units=list(units), title=name),
                   caption=f"{v.run}: held-out rows, {caption}")
        residuals = {f"sim {k} - measured": np.asarray(p) - np.asarray(v.measured) for k, p in v.predicted.items()}
        sec.figure(plots.overlay_panels(v.t_s, residuals, v.channels, units=list(units), title=f"{name}: residuals"),
                   caption=f"{v.run}: residuals (prediction minus measurement), {caption}")
    return sec


def convergence_section(result: FitResult) -> Section:
    from ..report import plots

    sec = Section("convergence", "Convergence")
    hist = np.asarray(result.history, dtype=float)
    if len(hist) > 1 and np.all(hist > 0):
        sec.figure(plots.series(np.arange(1, len(hist) + 1), {"cost": hist}, "iteration", "cost (weighted SSR / 2)",
                                log_y=True), caption=f"{result.method}: cost per iteration")
    return sec.text(f"{result.method}: {result.message} ({result.iterations} iterations, {result.rollouts} rollouts, "
                    f"{result.seconds:.2f} s)")
