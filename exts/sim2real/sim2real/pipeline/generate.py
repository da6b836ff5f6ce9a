"""Stage ``generate``: the labelled synthetic dataset (``sim2real.generate``), and its report section
(profile table, sample frames, histograms of the sampled parameters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..generate.request import GenerateRequest, resolve
from ..report import Section
from .stage_sections import image_grid, save_section
from .stage import Context
from .visuals import frame_panels

DATASET = "dataset"


def resource(value: str, base_dir: Path) -> str:
    """A file next to the pipeline (relative to its folder), else the value itself (a shipped name
    or a path ``sim2real generate`` resolves)."""
    p = Path(value).expanduser()
    candidate = p if p.is_absolute() else base_dir / p
    return str(candidate.resolve()) if candidate.is_file() else value


def request(ctx: Context, profile: str, frames: int, seed: int, out: Path, workers: int | None = None) -> GenerateRequest:
    """A generation request with the ``[generate]`` section's scene, camera and resolution."""
    g = ctx.spec.generate
    return GenerateRequest(profile=resource(profile, ctx.base_dir), frames=frames, out=out,
                           scene=resource(g.scene, ctx.base_dir) if g.scene else None, seed=seed,
                           resolution=tuple(g.resolution), camera=g.camera, workers=workers or g.workers)


def dataset_inputs(req: GenerateRequest) -> dict[str, Any]:
    """What decides a dataset: its id (profile content, scene file, seed, resolution...) and size."""
    return {"dataset": resolve(req).spec.dataset_id(), "frames": req.frames}


def make_dataset(ctx: Context, req: GenerateRequest) -> dict[str, Any]:
    """Generate (or finish) the dataset; its id, frame count and rate."""
    from ..generate.api import generate

    result = generate(req, ctx.reporter)
    resolved = resolve(req)
    return {"id": result["dataset"], "path": ctx.rel(req.out), "frames": result["frames"], "made": result["made"],
            "frames_per_s": result["frames_per_s"], "profile": {"name": resolved.spec.profile["name"],
                                                                "hash": resolved.spec.profile["hash"],
                                                                "path": str(resolved.profile_path)},
            "scene": resolved.spec.scene["name"]}


class GenerateStage:
    name = "generate"
    title = "Synthetic data"
    needs: tuple[str, ...] = ()

    def _request(self, ctx: Context, folder: Path) -> GenerateRequest:
        g = ctx.spec.generate
        return request(ctx, g.profile, g.frames, g.seed, folder / DATASET)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return dataset_inputs(self._request(ctx, ctx.run_dir / self.name))

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        made = make_dataset(ctx, self._request(ctx, folder))
        section = dataset_section(self.name, self.title, ctx.path(made["path"]), made, ctx.spec.report)
        return {**made, "section": ctx.rel(folder / save_section(folder, section))}


def dataset_section(sid: str, title: str, path: Path, made: dict[str, Any], settings: Any,
                    histograms: bool = True) -> Section:
    """Profile table, a grid of frames (RGB, depth, segmentation, boxes), parameter histograms."""
    from ..dataset.reader import Dataset
    from ..randomize.describe import TERM_COLUMNS, term_rows
    from ..randomize.profile import load_profile

    ds = Dataset(path)
    profile = load_profile(made["profile"]["path"])
    sec = Section(sid, title)
    rate = made.get("frames_per_s")
    sec.table(["quantity", "value"], [
        ["frames", f"{made['frames']} (dataset {made['id']})"],
        ["generation rate", f"{rate:.1f} frames/s" if rate else "no frame made in this run"],
        ["profile", f"{made['profile']['name']} @ {made['profile']['hash']}"],
        ["scene", made["scene"]],
        ["resolution", "x".join(map(str, ds.spec.resolution)) + " px"],
        ["classes", ", ".join(v for _, v in sorted(ds.labels.items()))],
    ])
    sec.heading(f"Randomization profile: {len(profile.terms)} terms")
    sec.table(list(TERM_COLUMNS), term_rows(profile))
    panels, captions = [], []
    for frame in ds[: settings.samples]:
        panels += frame_panels(frame)
        captions += [f"frame {frame.index}: {view}" for view in ("RGB", "depth", "segmentation", "boxes")]
    image_grid(sec, panels, captions, "Sample frames: RGB, depth (near = bright), semantic segmentation, boxes")
    if histograms and settings.histograms:
        values = sampled_parameters(ds)
        shown = dict(sorted((k, v) for k, v in values.items() if np.ptp(v) > 0)[: settings.histograms])
        if shown:
            from .plots import histogram_panels

            sec.figure(histogram_panels(shown), caption=f"Sampled parameters over {len(ds)} frames, pooled over the "
                       f"entities of each target ({len(shown)} of {len(values)}; constant ones left out)")
    return sec



def sampled_parameters(ds: Any) -> dict[str, np.ndarray]:
    """Every frame's randomized values, pooled over the entities of a kind and attribute
    (``material:*/roughness`` holds every object's), vectors per component (``light:*/position[2]``)."""
    from ..randomize.targets import split_key

    pooled: dict[str, list[float]] = {}
    for index in ds.indices:
        for key, value in ds.record(int(index))["sample"].items():
            kind, _, attr = split_key(key)
            base = f"{kind}:*/{attr}"
            if isinstance(value, bool | int | float):
                pooled.setdefault(base, []).append(float(value))
            elif isinstance(value, list) and all(isinstance(v, int | float) for v in value):
                for i, v in enumerate(value):
                    pooled.setdefault(f"{base}[{i}]", []).append(float(v))
    return {k: np.asarray(v) for k, v in pooled.items()}
