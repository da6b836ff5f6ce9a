"""Stages ``train-<method>``: one training run per method (``sim2real.train``), and the report's
training section comparing them on the target (made when every method has finished)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..report import Section
from ..report.plots import epoch_curves
from .stage_sections import fmt, image_grid, metric_name
from .stage import Context

RUN = "run"
PREDICTION_IMAGES = 4


def stage_name(method: str) -> str:
    return f"train-{method}"


class TrainStage:
    title = "Training"

    def __init__(self, method: str, has_target: bool) -> None:
        self.method = method
        self.name = stage_name(method)
        self.needs: tuple[str, ...] = ("generate", "target") if has_target else ("generate",)

    def inputs(self, ctx: Context) -> dict[str, Any]:
        return {"config": ctx.spec.train.for_method(self.method).model_dump(mode="json")}

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from ..runs import read_run_info
        from ..train.data import Inputs
        from ..train.trainer import TrainRequest, train
        from ..translate.augment import source_translation

        target = ctx.outputs.get("target")
        inputs = Inputs(ctx.path(ctx.outputs["generate"]["path"]),
                        ctx.path(target["images"]) if target else None, target["topic"] if target else None,
                        ctx.path(target["eval"]) if target and target.get("eval") else None)
        config = ctx.spec.train.for_method(self.method)
        summary = train(TrainRequest(config, inputs, folder / RUN, source_translation(config)), ctx.reporter)
        best = summary["best"]
        chosen = summary["history"][best["epoch"] - 1] if best else summary["history"][-1]
        return {"id": read_run_info(folder / RUN, "train")["id"], "run": ctx.rel(folder / RUN), "method": self.method,
                "task": summary["task"], "metric": summary["metric"], "epochs_done": summary["epochs_done"],
                "best": best, "chosen_epoch": chosen["epoch"],
                "target": _score(chosen.get("target"), summary["metric"]),
                "target_last": _score(summary["history"][-1].get("target"), summary["metric"]),
                "source": _score(chosen.get("source"), summary["metric"]),
                "alignment": chosen.get("alignment"), "validators": chosen.get("validators")}


def _score(score: dict[str, Any] | None, metric: str) -> float | None:
    return None if not score else score.get(metric)


def train_section(ctx: Context, names: list[str]) -> Section:
    """Training curves, adapted vs source-only on the target, and their predictions side by side."""
    outs = {ctx.outputs[n]["method"]: ctx.outputs[n] for n in names}
    metrics = {m: json.loads((ctx.path(o["run"]) / "metrics.json").read_text()) for m, o in outs.items()}
    first = next(iter(outs.values()))
    metric, name = first["metric"], metric_name(first["metric"])
    sec = Section("train", "Training and adaptation")
    deploy = (ctx.outputs.get("select") or {}).get("method")
    rows = []
    for m, o in outs.items():
        best = o["best"] or {}
        chosen_by = best.get("validator") or "last epoch"
        if best.get("validator"):
            chosen_by += f" = {fmt(best.get('value'), 4)}"
        rows.append([m + (" (deployed)" if m == deploy else ""), o["target"], o["target_last"], o["source"],
                     o["chosen_epoch"], chosen_by, o["id"]])
    sec.text(f"Each method trained on the synthetic data{' and adapted to the unlabelled target images' if ctx.outputs.get('target') else ''}. "
             "The checkpoint shipped (best.pt) is the last epoch unless the configuration names a validator "
             "(select); no target label is used to choose it; "
             f"target {name} is measured on the labelled evaluation set only.")
    sec.table(["method", f"target {name} (shipped epoch)", f"target {name} (last epoch)",
               f"source validation {name}", "shipped epoch", "chosen by", "run"], rows,
              title="Adapted vs source-only on the target")
    marks = {m: o["chosen_epoch"] for m, o in outs.items()}
    losses = {m: [h["train"].get("loss", np.nan) for h in d["history"]] for m, d in metrics.items()}
    sec.figure(epoch_curves(losses, "training loss", marks), caption="Training loss per epoch (star: shipped epoch)")
    for side, label in (("target", "target evaluation"), ("source", "source validation")):
        curves = {m: [(h.get(side) or {}).get(metric, np.nan) for h in d["history"]] for m, d in metrics.items()}
        if any(np.isfinite(v).any() for v in curves.values()):
            sec.figure(epoch_curves(curves, f"{label} {name}", marks), caption=f"{label.capitalize()} {name} per epoch")
    validators = sorted({v for d in metrics.values() for h in d["history"] for v in h["validators"]} - {"source"})
    for v in validators:
        curves = {m: [h["validators"].get(v, np.nan) for h in d["history"]] for m, d in metrics.items()}
        sec.figure(epoch_curves(curves, v, marks), caption=f"Validator {v} per epoch (no target labels)")
    if first["task"] == "segment":
        _predictions(ctx, sec, outs)
    if first["task"] == "detect":
        _ap_table(sec, metrics)
        _box_predictions(ctx, sec, outs)
    return sec


def _ap_table(sec: Section, metrics: dict[str, dict[str, Any]]) -> None:
    """COCOeval of each method's last epoch on the labelled target set."""
    last = {m: d["history"][-1].get("target") for m, d in metrics.items()}
    last = {m: t for m, t in last.items() if t}
    if not last:
        return
    classes = sorted(next(iter(last.values()))["per_class_ap50"])
    rows = [[m, t["ap"], t["ap50"], t["ap75"], t["ar100"], *(t["per_class_ap50"].get(c) for c in classes)]
            for m, t in last.items()]
    sec.table(["method", "AP", "AP50", "AP75", "AR@100", *(f"AP50 {c}" for c in classes)], rows,
              title="COCOeval on the labelled target set (last epoch; AP over IoU 0.50:0.95)")


def _box_predictions(ctx: Context, sec: Section, outs: dict[str, dict[str, Any]]) -> None:
    """A few labelled target images: the true boxes, then each method's boxes scoring 0.3 or more."""
    import torch

    from ..deploy.edge.boxes import draw
    from ..deploy.edge.predict import DRAW_THRESHOLD
    from ..train import boxsets
    from ..train.detect import decode
    from ..train.runfolder import load_model
    from ..train.sources import Classes
    from .visuals import enlarge, panel_scale

    target = ctx.outputs.get("target") or {}
    if not target.get("eval"):
        return
    models = {m: load_model(ctx.path(o["run"])) for m, o in outs.items()}
    spec = next(iter(models.values()))[1]
    size = (spec.input["width"], spec.input["height"])
    classes = Classes(tuple(spec.classes), tuple((ctx.spec.train.class_map or {}).items()))
    data = boxsets.read_boxes(ctx.path(target["eval"]), size, bool(spec.depth_units), classes, PREDICTION_IMAGES)
    assert data.boxes is not None
    k = panel_scale(size[0])
    with torch.no_grad():
        found = {m: decode(model(torch.from_numpy(s.prepare(data.images, data.depth))), len(s.classes),
                           int(s.outputs["stride"]), min_score=DRAW_THRESHOLD) for m, (model, s) in models.items()}
    images, captions = [], []
    for i, name in enumerate(data.names):
        truth = data.boxes[i]
        images.append(enlarge(draw(data.images[i], truth[:, :4], truth[:, 4]), k))
        captions.append(f"{name}: true boxes ({len(truth)})")
        for m, rows in found.items():
            images.append(enlarge(draw(data.images[i], rows[i][0], rows[i][2]), k))
            captions.append(f"{name}: {m} ({len(rows[i][0])} boxes)")
    image_grid(sec, images, captions, f"True vs predicted boxes (score >= {DRAW_THRESHOLD}) on labelled target images "
               f"at the model's {size[0]}x{size[1]} input (a colour per class: {', '.join(spec.classes)})",
               columns=1 + len(found))


def _predictions(ctx: Context, sec: Section, outs: dict[str, dict[str, Any]]) -> None:
    """A few target images with the ground truth (when labelled) and each method's prediction."""
    import torch

    from ..train.runfolder import load_model
    from ..train.sources import Classes, dataset_class_names, is_dataset, read_image_set, read_segment_dataset
    from ..train.report import LEGEND, error_map, outline
    from .visuals import enlarge, mask_colours, panel_scale

    models = {m: load_model(ctx.path(o["run"])) for m, o in outs.items()}
    spec = next(iter(models.values()))[1]
    if spec.depth_units:
        return
    size = (spec.input["width"], spec.input["height"])
    target = ctx.outputs["target"]
    labelled = target.get("eval") and is_dataset(ctx.path(target["eval"]))
    if labelled:
        classes = Classes.from_inputs(dataset_class_names(ctx.path(ctx.outputs["generate"]["path"])),
                                      ctx.spec.train.class_map)
        data = read_segment_dataset(ctx.path(target["eval"]), size, False, classes, PREDICTION_IMAGES,
                                    stream=False)
    else:
        data = read_image_set(ctx.path(target["images"]), size, False, target["topic"], PREDICTION_IMAGES)
    images, captions = [], []
    k = panel_scale(size[0])
    with torch.no_grad():
        predicted = {m: model(torch.from_numpy(s.prepare(data.images))).argmax(1).numpy() for m, (model, s) in models.items()}
    for i, name in enumerate(data.names):
        images.append(enlarge(data.images[i], k))
        captions.append(f"{name}: image")
        if data.labels is not None:
            images.append(enlarge(mask_colours(data.labels[i]), k))
            captions.append(f"{name}: ground truth")
        for m, pred in predicted.items():  # errors against the labels, else outlines: never a colour wash
            tile = outline(data.images[i], pred[i]) if data.labels is None else error_map(
                data.images[i], pred[i], data.labels[i])
            images.append(enlarge(tile, k))
            captions.append(f"{name}: {m}")
    per_row = 1 + (data.labels is not None) + len(predicted)
    how = LEGEND if data.labels is not None else "predicted classes outlined"
    image_grid(sec, images, captions, f"Predictions on {'labelled ' if labelled else ''}target images at the "
               f"model's {size[0]}x{size[1]} input (classes: {', '.join(spec.classes)}; {how})", columns=per_row)
