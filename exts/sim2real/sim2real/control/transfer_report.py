"""Report sections of the progressive transfer: the ratio per round, what identification found (next to
the hidden truth of a SURROGATE robot), and the last evaluation with #7's policy sections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..report import Assessment, Metric, Section
from .rollout import Episodes
from .validate import Transfer, transfer_sections


def _ratio_figure(history: list[dict[str, Any]]) -> Any:
    from ..report import plots

    fig = plots.new_figure(7.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    rounds = [h["evaluation"] for h in history]
    ratios = [h["transfer_ratio"] if h["transfer_ratio"] is not None else np.nan for h in history]
    ax.plot(rounds, ratios, "o-", color=plots.REAL_COLOUR)
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("evaluation (round)")
    ax.set_ylabel("transfer ratio (robot / sim return)")
    ax.set_xticks(rounds)
    ax.set_ylim(bottom=0)
    return fig


def history_section(history: list[dict[str, Any]]) -> Section:
    first, last = history[0]["transfer_ratio"], history[-1]["transfer_ratio"]
    gained = first is not None and last is not None and last > first
    sec = Section("history", "Transfer ratio per round").assessment(Assessment(
        "The transfer ratio rose over the rounds" if gained else "The transfer ratio did not rise",
        "good" if gained else "warn", f"first {_fmt(first)}, last {_fmt(last)}"))
    sec.figure(_ratio_figure(history), caption="Transfer ratio after each round (dashed: the seeds' 'excellent')")
    sec.table(["round", "transfer ratio", "sim return", "robot return", "robot success", "safety stops",
               "safety limits ×"],
              [[h["evaluation"], h["transfer_ratio"], h["sim_return"], h["real_return"], h["success_rate_real"],
                h["safety_stops"], h["safety_factor"]] for h in history])
    return sec


def identification_section(out: Path, rounds: int, truth: dict[str, Any] | None) -> Section | None:
    rows = []
    for r in range(rounds):
        path = out / f"round-{r}" / "sysid" / "result.json"
        if not path.is_file():
            continue
        for e in json.loads(path.read_text())["calibrated"]:
            rows.append([r, e["key"], e["default"], e["value"], f"[{e['low']:.4g}, {e['high']:.4g}]", e["unit"],
                         _truth_of(e, truth)])
    if not rows:
        return None
    sec = Section("identification", "What identification found")
    sec.text("Each round's robot episodes, cut into windows, fitted by system identification; the next round "
             "trains with each key set at its estimate and randomized over its interval. 'hidden truth' is "
             "known only for a SURROGATE robot (its offsets, in the op of its truth profile: a factor for "
             "scale; a term drawn per run shows the last run's value).")
    return sec.table(["round", "key", "model default", "estimate", "range", "unit", "hidden truth (last run)"], rows)


def _truth_of(estimate: dict[str, Any], truth: dict[str, Any] | None) -> Any:
    if not truth:
        return "-"
    value = truth.get(estimate["key"])
    if value is None:
        return "-"
    if estimate["key"].endswith("/latency") or estimate["key"].startswith("sensor:"):
        return value
    return f"× {value:g} = {estimate['default'] * value:.4g}"


def transfer_report_sections(out: Path, history: list[dict[str, Any]], last: dict[str, Any],
                             robot: str) -> list[Section]:
    sections = [history_section(history)]
    ident = identification_section(out, len(history) - 1, last.get("truth"))
    if ident is not None:
        sections.append(ident)
    t = Transfer(_episodes(last["sim"]), _episodes(last["real"]), last["metrics"], [])
    final = Section("final", "Last evaluation").metrics([
        Metric("transfer ratio", last["metrics"]["transfer_ratio"], status=last["metrics"]["status"],
               key="final_transfer_ratio")])
    return [*sections, final, *transfer_sections(t, robot)]


def _episodes(d: dict[str, Any]) -> Episodes:
    return Episodes(list(d["returns"]), list(d["lengths"]), list(d["successes"]), list(d["safety_stops"]))


def _fmt(v: Any) -> str:
    return "undefined" if v is None else f"{v:.3f}"
