"""Stage ``target``: the unlabelled images training adapts to, and an optional labelled evaluation set.

* ``source = "surrogate"``: rendered here with a held-out profile (``tabletop_target``), a SURROGATE
  for a camera: ``images/`` (unlabelled: training never reads its labels) and ``eval/`` (labelled,
  another seed, for metrics only);
* ``"images"`` / ``"bag"``: the robot's own images (a folder; an image topic of a ROS 2 bag or MCAP
  file), used where they are. Their identity is the names, sizes and modification times of the
  files, so new or changed images re-run training and everything after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import content_hash
from ..report import Metric, Section
from ..runs import content_id
from .generate import dataset_inputs, dataset_section, make_dataset, request
from .stage_sections import image_grid, save_section
from .spec import resolve_path
from .stage import Context

IMAGES, EVAL = "images", "eval"


def files_fingerprint(path: Path) -> str:
    """Names, sizes and modification times of a file or of every file under a folder."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder (target.path / target.eval)")
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    return content_hash([[p.relative_to(path).as_posix() if path.is_dir() else p.name, p.stat().st_size,
                          p.stat().st_mtime_ns] for p in files])


class TargetStage:
    name = "target"
    title = "Target images"
    needs: tuple[str, ...] = ()

    def _requests(self, ctx: Context, folder: Path) -> list[Any]:
        t = ctx.spec.target
        reqs = [request(ctx, t.profile, t.frames, t.seed, folder / IMAGES)]
        if t.eval_frames:
            reqs.append(request(ctx, t.profile, t.eval_frames, t.seed + 1, folder / EVAL))
        return reqs

    def inputs(self, ctx: Context) -> dict[str, Any]:
        t = ctx.spec.target
        if t.source == "surrogate":
            return {"source": "surrogate", "sets": [dataset_inputs(r) for r in self._requests(ctx, ctx.run_dir)]}
        out: dict[str, Any] = {"source": t.source, "path": str(resolve_path(t.path, ctx.base_dir).resolve()),
                               "files": files_fingerprint(resolve_path(t.path, ctx.base_dir)), "topic": t.topic,
                               "max_images": t.max_images}
        if t.eval:
            ev = resolve_path(t.eval, ctx.base_dir)
            out["eval"] = {"path": str(ev.resolve()), "files": files_fingerprint(ev)}
        return out

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        t = ctx.spec.target
        if t.source == "surrogate":
            made = [make_dataset(ctx, r) for r in self._requests(ctx, folder)]
            images, ev = made[0], (made[1] if len(made) > 1 else None)
            out = {"kind": "surrogate", "images": images["path"], "topic": None, "count": images["frames"],
                   "images_id": images["id"], "eval": ev["path"] if ev else None, "eval_id": ev["id"] if ev else None,
                   "eval_count": ev["frames"] if ev else 0, "profile": images["profile"]}
            section = dataset_section(self.name, f"{self.title} (SURROGATE: rendered with {t.profile})",
                                      ctx.path(images["path"]), images, ctx.spec.report, histograms=False)
            section.text("A SURROGATE for the robot's camera: the same scene rendered with a held-out appearance "
                         "(textures, lighting, camera pose, sensor) the training profile never produces. Training "
                         "reads its images only; the labelled evaluation set (another seed) scores the models.")
        else:
            out = self._own_images(ctx, t)
            section = self._own_section(ctx, out)
        out["id"] = content_id("target", {k: out.get(k) for k in ("images_id", "eval_id", "images", "topic", "files")})
        out["section"] = ctx.rel(folder / save_section(folder, section))
        return out

    def _own_images(self, ctx: Context, t: Any) -> dict[str, Any]:
        from ..dataset.imagesets import open_image_set

        path = resolve_path(t.path, ctx.base_dir).resolve()
        images = open_image_set(path, t.max_images, t.topic)  # checks the folder or bag and the topic now
        out: dict[str, Any] = {"kind": images.kind, "images": str(path), "topic": t.topic, "count": len(images),
                               "files": files_fingerprint(path), "eval": None, "eval_count": 0}
        if t.eval:
            ev = resolve_path(t.eval, ctx.base_dir).resolve()
            out.update(eval=str(ev), eval_files=files_fingerprint(ev))
        return out

    def _own_section(self, ctx: Context, out: dict[str, Any]) -> Section:
        from ..dataset.imagesets import iter_loaded, open_image_set

        sec = Section(self.name, self.title)
        sec.metrics([
            Metric("images", out["count"], key="count", note=f"{out['kind']} {out['images']}"
                   + (f", topic {out['topic']}" if out["topic"] else "")),
            Metric("labelled evaluation set", out["eval"] or "none", key="eval",
                   note="" if out["eval"] else "without one, target accuracy is not measured"),
        ])
        images = open_image_set(out["images"], ctx.spec.report.samples, out["topic"])
        loaded = list(iter_loaded(images.items))
        return image_grid(sec, [img for _, img in loaded], [item.name for item, _ in loaded], "Target images")
