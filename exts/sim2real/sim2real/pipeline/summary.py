"""The run's summary: the few numbers a person looks at first (printed by ``sim2real run`` and
``sim2real demo``, and the report's first table)."""

from __future__ import annotations

from typing import Any

from .stage_sections import fmt, metric_name
from .select import deployed as deployed_method
from .train import stage_name


def summary_rows(spec: Any, outputs: dict[str, dict[str, Any]]) -> list[list[str]]:
    """``[label, value]`` rows for the stages that ran (missing numbers show as ``—``)."""
    rows: list[list[str]] = []
    gen = outputs.get("generate")
    if gen:
        rate = f", {gen['frames_per_s']:.1f} frames/s" if gen.get("frames_per_s") else ""
        rows.append(["synthetic frames", f"{gen['frames']}{rate}"])
    target = outputs.get("target")
    if target:
        rows.append(["target images", f"{target['count']} ({target['kind']})"
                     + (f", {target['eval_count']} labelled for evaluation" if target.get("eval_count") else "")])
    if spec.train is not None:
        for m in spec.train.methods:
            t = outputs.get(stage_name(m))
            if t:
                label = f"target {metric_name(t['metric'])}, {m}" + (" (deployed)" if m == deployed_method(outputs) else "")
                rows.append([label, fmt(t["target"])])
    for label, value in (outputs.get("select") or {}).get("summary", []):
        rows.append([label, value])
    gap = outputs.get("gap")
    if gap:
        r = gap["results"]
        aligned, deployed = gap.get("alignment") or {}, gap.get("deployed")
        if aligned.get("source-only") is not None and deployed and aligned.get(deployed) is not None \
                and deployed != "source-only":
            rows.append([f"domain gap in the models' features (MMD²), source-only -> {deployed}",
                         f"{aligned['source-only']:.4g} -> {aligned[deployed]:.4g}"])
        rows.append(["image gap (MMD², random features)", f"{r['random']['mmd2']:.4g}"])
    sysid = outputs.get("sysid")
    if sysid:
        if sysid.get("worst_error") is not None:
            rows.append(["sysid: worst parameter error (surrogate)", f"{100 * sysid['worst_error']:.2f} %"])
        rows.append(["sysid: held-out RMSE after / before", fmt(sysid.get("rmse_ratio_mean"))])
    for name in ("export", "quantize", "deploy"):
        for label, value in (outputs.get(name) or {}).get("summary", []):
            rows.append([label, value])
    report = outputs.get("report")
    if report:
        rows.append(["report", report["report"]])
    return rows
