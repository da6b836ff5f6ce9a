"""Stage ``gap``: the image gap between the synthetic data and the target images
(``sim2real.gap.image_gap``), and how far adaptation closed it in the models' features.

The headline is like for like: the domain gap in the same layer of every model (the predictor's
input, per pixel for segmentation), source-only vs the deployed model, as each training run
measured it at its shipped epoch (``train.alignment``: multi-kernel MMD^2 with a median-distance
bandwidth). Beside it the two image sets are compared in several feature spaces: a seeded random
conv net (the images themselves, no model) and each model's pooled encoder bottleneck, which shows
what else an encoder separates; those rows are not a before/after measure (each is its own space).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report import Metric, Section
from .stage_sections import fmt, save_section
from .select import deployed
from .stage import Context
from .train import stage_name

RANDOM = "random"


class GapStage:
    name = "gap"
    title = "Reality gap: images"

    def __init__(self, methods: list[str]) -> None:
        self.methods = methods
        self.needs: tuple[str, ...] = ("generate", "target", *(stage_name(m) for m in methods),
                                       *(("select",) if methods else ()))

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"settings": ctx.spec.gap.model_dump(mode="json")}

    def _spaces(self, ctx: Context) -> dict[str, str]:
        """Feature spaces by label: ``random`` and ``model:<method>`` -> extractor spec."""
        spaces = {RANDOM: RANDOM}
        if ctx.spec.gap.features == "model":
            for m in self.methods:
                spaces[f"model:{m}"] = f"model:{ctx.path(ctx.outputs[stage_name(m)]['run'])}"
        return spaces

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from ..fsutil import locked_dir
        from ..train.features import extractor_from_spec
        from ..gap.image_gap import image_gap
        from ..dataset.imagesets import open_image_set
        from ..gap.report_sections import image_sections
        from ..report import Report, json_safe
        from ..runs import new_run_id, write_run_info

        g = ctx.spec.gap
        target = ctx.outputs["target"]
        sim = open_image_set(ctx.path(ctx.outputs["generate"]["path"]), g.max_images)
        real = open_image_set(ctx.path(target["images"]), g.max_images, target["topic"])
        results, gaps = {}, {}
        for label, spec in self._spaces(ctx).items():
            ctx.reporter.message(f"gap: features {label}")
            gap = image_gap(sim, real, extractor_from_spec(spec, seed=g.seed, size=g.size), "none", g.kid_subsets,
                            g.kid_subset_size, g.permutations, g.seed, ctx.reporter)
            gaps[label] = gap
            results[label] = {"features": gap.extractor, "kid": gap.kid["mean"], "kid_std": gap.kid["std"],
                              "mmd2": gap.mmd["mmd2"], "mmd_p": gap.mmd["p_value"]}
        deploy = deployed(ctx)
        before = "model:source-only" if "model:source-only" in results else None
        after = f"model:{deploy}" if deploy and f"model:{deploy}" in results and deploy != "source-only" else None
        shown = after or before or RANDOM
        aligned = {m: (ctx.outputs[stage_name(m)].get("alignment") or {}).get("mmd2") for m in self.methods}
        run_id = new_run_id("gap-images")
        parents = {"dataset": ctx.outputs["generate"]["id"], "target": target["id"],
                   **{f"model:{m}": ctx.outputs[stage_name(m)]["id"] for m in self.methods}}
        sections = image_sections(gaps[shown])
        report = Report("Reality gap: images", subtitle="sim2real pipeline stage", kind="gap.images",
                        facts={"run": run_id, "features": gaps[shown].extractor},
                        data=json_safe({k: v.to_dict() for k, v in gaps.items()}))
        for s in sections:
            report.add(s)
        with locked_dir(folder, purpose="gap report"):
            report.write(folder)
            write_run_info(folder, "gap", run_id, inputs=self.inputs(ctx), parents=parents)
        sec = _section(self.title, results, aligned, deploy)
        sec.heading(f"{gaps[shown].n_sim} synthetic vs {gaps[shown].n_real} target images in the {shown} features")
        for s in sections:
            sec.include(s)
        return {"id": run_id, "results": results, "before": before, "after": after, "shown": shown,
                "alignment": aligned, "deployed": deploy,
                "report": ctx.rel(folder / "report.html"), "section": ctx.rel(folder / save_section(folder, sec))}


def _section(title: str, results: dict[str, dict[str, Any]], aligned: dict[str, float | None],
             deploy: str | None) -> Section:
    sec = Section("gap", title)
    rows = []
    before, after = aligned.get("source-only"), aligned.get(deploy) if deploy and deploy != "source-only" else None
    if before is not None and after is not None:
        rows.append(Metric("domain gap in the model's features, source-only -> deployed", f"{before:.4g} -> {after:.4g}",
                           key="feature_gap_before_after", status="good" if after < before else "warn",
                           note=f"MMD² between synthetic and target features at the same layer of each model "
                                f"(the predictor's input; {deploy} deployed); lower = adaptation aligned the domains"))
    for m, v in aligned.items():
        if v is not None:
            rows.append(Metric(f"{m}: domain gap in its features", f"MMD² {v:.4g}", key=f"feature_gap[{m}]"))
    for label, r in results.items():
        rows.append(Metric(f"{label} features: images", f"MMD² {r['mmd2']:.4g}, KID {r['kid']:.4g}", key=f"gap[{label}]",
                           note=f"permutation p = {r['mmd_p']:.3g}; KID ± {r['kid_std']:.2g}"))
    sec.metrics(rows, title="Synthetic vs target: in the models' features, and as images")
    sec.text("The first rows are like for like: each training run measured, at its shipped epoch, the multi-kernel "
             "MMD² between synthetic and target samples of the same layer of its model (the features the predictor "
             "reads, one sample per pixel for segmentation; bandwidth from the median distance, so the figure does "
             "not depend on the features' scale). Adaptation that works lowers it, as it raises the target score. "
             "The other rows compare the two image sets in fixed feature spaces: a seeded random conv net (the "
             "images as such) and each model's pooled encoder bottleneck (KID with a cubic kernel compares only "
             "within one space). Each is its own space: they show what else an encoder separates, not how much "
             "adaptation aligned.")
    return sec
