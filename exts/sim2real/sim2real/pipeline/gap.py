"""Stage ``gap``: the image gap between the synthetic data and the target images, before and after
adaptation (``sim2real.gap.image_gap``).

The same two image sets are compared in several feature spaces: a seeded random conv net (the
images themselves, no model), the encoder of the source-only model ("before adaptation") and the
encoder of each adapted model ("after"). Adaptation aims at features in which synthetic and real
images look alike, so its KID should drop from the source-only encoder's to the adapted one's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report import Metric, Section
from .stage_sections import fmt, save_section
from .stage import Context
from .train import stage_name

RANDOM = "random"


class GapStage:
    name = "gap"
    title = "Reality gap: images"

    def __init__(self, methods: list[str]) -> None:
        self.methods = methods
        self.needs: tuple[str, ...] = ("generate", "target", *(stage_name(m) for m in methods))

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"settings": ctx.spec.gap.model_dump(mode="json"), "deploy": ctx.spec.train.deploy if ctx.spec.train else None}

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
        deploy = ctx.spec.train.deploy if ctx.spec.train else None
        before = "model:source-only" if "model:source-only" in results else None
        after = f"model:{deploy}" if deploy and f"model:{deploy}" in results and deploy != "source-only" else None
        shown = after or before or RANDOM
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
        sec = _section(self.title, results, before, after)
        sec.heading(f"{gaps[shown].n_sim} synthetic vs {gaps[shown].n_real} target images in the {shown} features")
        for s in sections:
            sec.include(s)
        return {"id": run_id, "results": results, "before": before, "after": after, "shown": shown,
                "report": ctx.rel(folder / "report.html"), "section": ctx.rel(folder / save_section(folder, sec))}


def _section(title: str, results: dict[str, dict[str, Any]], before: str | None, after: str | None) -> Section:
    sec = Section("gap", title)
    rows = []
    if before and after:
        b, a = results[before]["mmd2"], results[after]["mmd2"]
        rows.append(Metric("MMD² before -> after adaptation", f"{b:.4g} -> {a:.4g}", key="mmd2_before_after",
                           status="good" if a < b else "warn",
                           note=f"{before} vs {after} encoder features; lower = synthetic and target images look "
                                "more alike to the model"))
    for label, r in results.items():
        rows.append(Metric(f"{label} features", f"MMD² {r['mmd2']:.4g}, KID {r['kid']:.4g}", key=f"gap[{label}]",
                           note=f"permutation p = {r['mmd_p']:.3g}; KID ± {r['kid_std']:.2g}"))
    sec.metrics(rows, title="Synthetic vs target images in each feature space")
    sec.text("Each feature space compares the synthetic dataset with the target images: a seeded random conv net (the "
             "images as such), and each trained model's encoder (before adaptation: the source-only model; after: the "
             "adapted model that is deployed). MMD² uses a Gaussian kernel whose bandwidth is the median distance "
             "between the features, so it does not depend on their scale and compares across feature spaces; KID "
             "(cubic polynomial kernel) does depend on it and compares only within one space. A model's features here are "
             "its pooled encoder bottleneck (one vector per image), while DANN aligns per-pixel features, and the "
             "two rows come from two different models: this gap can grow while the adapted model scores better on "
             "the target. The target score is the measure of adaptation; this gap shows what else the encoder separates.")
    return sec
