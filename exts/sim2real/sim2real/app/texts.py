"""The lines a panel shows for its view-models, and how a text field maps to a value: what the omni.ui
window (exts/sim2real_ui) displays and parses, decided here so pytest covers it and the Kit files only
put strings into widgets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def split_list(text: str) -> list[str]:
    """A comma-separated field as a list of its non-empty, stripped items."""
    return [part.strip() for part in str(text).split(",") if part.strip()]


def join_list(values: Iterable[Any] | None) -> str:
    return ", ".join(str(v) for v in values or [])


def combo_options(choices: Iterable[str], blank: bool = True) -> list[str]:
    """A combo box's items: with ``blank``, "" first, meaning "the command's default"."""
    return ["", *choices] if blank else list(choices)


def combo_index(value: Any, choices: Iterable[str], blank: bool = True) -> int:
    options = combo_options(choices, blank)
    return options.index(value) if value in options else 0


def preview_status(preview: Any) -> str:
    """The "Randomize now" line: which draw of which seed is on the stage."""
    if preview.episode < 0:
        return f"seed {preview.seed}: not applied yet"
    return f"seed {preview.seed}, draw {preview.episode}: {len(preview.record or {})} values applied to the stage"


def job_status_line(job: Any) -> str:
    """``job 3 running generate: 40/100 frame`` (or ``not started``)."""
    if job is None:
        return "not started"
    event = job.progress() or {}
    done = f" {event.get('task')}: {event.get('done')}/{event.get('total') or '?'} {event.get('unit', '')}" \
        if event else ""
    return f"job {job.ident} {job.state}{done}"


def log_tail(job: Any, lines: int = 12) -> str:
    return "\n".join(list(job.log_tail)[-lines:]) if job is not None else ""


def gap_summary(summary: dict[str, Any] | None) -> str:
    if not summary:
        return ""
    kid = "?" if summary["kid"] is None else f"{summary['kid']:.4g} ± {summary['kid_std'] or 0:.2g}"
    p = "?" if summary["mmd_p_value"] is None else f"{summary['mmd_p_value']:.3g}"
    return f"KID {kid}; MMD p-value {p}\nreport: {summary['report']}"


def bench_table(bench: dict[str, Any] | None) -> str:
    if not bench:
        return ""
    lines = [f"{bench['target']} bundle {bench['bundle']} ({bench['metric']})"]
    for row in bench["rows"]:
        lines.append(f"{row['precision']:>5} {row['backend']}: p50 {row['p50_ms']:.3f} ms, p99 {row['p99_ms']:.3f} ms, "
                     f"{row['fps']:.1f} FPS, {bench['metric']} {row['accuracy']:.4f}")
    return "\n".join(lines)


def last_metrics(job: Any) -> str:
    """``loss=0.12  acc=0.9``: the newest value of every series the job reported."""
    names = job.series.names() if job is not None else []
    return "  ".join(f"{k}={job.series.last(s, k):.4g}" for s, k in names) if names else ""
