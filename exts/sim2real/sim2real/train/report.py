"""``report.html`` of one training run (``sim2real train`` writes it beside ``metrics.json``).

What a person asks of a run: which epoch ships and why (the validator's choice against the target
metric it could not see), how the curves went, and what the shipped model predicts. Segmentation
tiles are error maps at the model's input resolution (true positives green, false positives red,
missed pixels blue, background the dimmed image) rather than class colours blended over the input,
which look like the input itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..report import Report, Section
from ..report.plots import epoch_curves, new_figure

TILES = 4  # images in the prediction tiles
TP, FP, FN = (46, 160, 67), (214, 39, 40), (31, 119, 180)  # RGB
LEGEND = "green: correct object pixels, red: false positives (wrong class included), blue: missed object pixels"


def error_map(image: np.ndarray, predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """A uint8 (H, W, 3) map of a predicted class mask against the true one (class 0 = background):
    every object pixel coloured by its outcome, the rest the image at a third of its brightness."""
    out = (np.asarray(image, np.float64) / 3).astype(np.uint8)
    p, t = np.asarray(predicted), np.asarray(truth)
    out[(t != 0) & (p != t)] = FN
    out[(p != 0) & (p != t)] = FP
    out[(t != 0) & (p == t)] = TP
    return out


def outline(image: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """A predicted class mask drawn as outlines (each class its palette colour) over the image: for
    images with no labels, where an error map cannot be made."""
    from ..dataset.basic import palette

    ids = np.asarray(ids)
    edge = np.zeros(ids.shape, bool)
    edge[1:] |= ids[1:] != ids[:-1]
    edge[:-1] |= ids[:-1] != ids[1:]
    edge[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    edge &= ids != 0
    out = np.array(image, np.uint8, copy=True)
    if edge.any():
        out[edge] = palette(ids[edge])[:, :3]
    return out


def write_train_report(out: Path, summary: dict[str, Any], data: Any = None) -> Path:
    """Write ``out/report.html`` (and ``report.json``) from the run's summary; ``data`` (the run's
    ``TaskData``) gives the prediction tiles of a segmentation run."""
    best = summary.get("best") or {}
    facts = {"method": summary["method"], "task": summary["task"], "epochs": summary["epochs_done"],
             "shipped epoch": best.get("epoch", "last"), "chosen by": best.get("reason", "-")}
    report = Report(f"Training: {summary['method']} ({summary['task']})", subtitle="sim2real training report",
                    facts=facts, kind="train", data={k: v for k, v in summary.items() if k != "history"})
    report.add(_scores_section(summary))
    report.add(_curves_section(summary))
    if summary["task"] == "segment" and data is not None:
        tiles = _tiles_section(out, data)
        if tiles is not None:
            report.add(tiles)
    return report.write(out)[0]


def _scores_section(summary: dict[str, Any]) -> Section:
    metric, best = summary["metric"], summary.get("best") or {}
    sec = Section("scores", "What ships")
    rows = []
    for label, scores in (("shipped (best.pt, epoch %s)" % best.get("epoch", "-"), summary.get("shipped")),
                          (f"last epoch ({summary['epochs_done']})", summary.get("final"))):
        scores = scores or {}
        rows.append([label, *((scores.get(side) or {}).get(metric) for side in ("target", "source"))])
    sec.text(f"best.pt: {best.get('reason', 'no epoch finished')}; no target label is used to choose it. "
             f"Target {metric} is measured on the labelled evaluation set only.")
    sec.table(["checkpoint", f"target {metric}", f"source validation {metric}"], rows)
    return sec


def _curves_section(summary: dict[str, Any]) -> Section:
    history, metric = summary["history"], summary["metric"]
    mark = {summary["method"]: (summary.get("best") or {}).get("epoch")}
    sec = Section("curves", "Curves")
    losses = {summary["method"]: [h["train"].get("loss", np.nan) for h in history]}
    sec.figure(epoch_curves(losses, "training loss", mark), caption="Training loss per epoch (star: shipped epoch)")
    for side, label in (("target", "target evaluation"), ("source", "source validation")):
        ys = [(h.get(side) or {}).get(metric, np.nan) for h in history]
        if np.isfinite(np.asarray(ys, float)).any():
            sec.figure(epoch_curves({summary["method"]: ys}, f"{label} {metric}", mark),
                       caption=f"{label.capitalize()} {metric} per epoch")
    target = [(h.get("target") or {}).get(metric, np.nan) for h in history]
    validators = sorted({v for h in history for v in h["validators"]})
    if validators and np.isfinite(np.asarray(target, float)).any():
        sec.figure(_validators_vs_target(history, validators, target, metric),
                   caption=f"Each validator against the target {metric}, one point per epoch: a validator "
                           "worth trusting ranks the epochs as the target metric does")
    return sec


def _validators_vs_target(history: list[dict[str, Any]], validators: list[str], target: list[float],
                          metric: str) -> Any:
    fig = new_figure(3.0 * len(validators), 2.8)
    axes = fig.subplots(1, len(validators), squeeze=False)[0]
    for ax, v in zip(axes, validators, strict=True):
        xs = [h["validators"].get(v, np.nan) for h in history]
        ax.scatter(xs, target, s=14)
        for h, x, y in zip(history, xs, target, strict=True):
            ax.annotate(str(h["epoch"]), (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel(v)
        ax.set_ylabel(f"target {metric}")
        ax.grid(alpha=0.3)
    return fig


def _tiles_section(out: Path, data: Any) -> Section | None:
    """The shipped model on a few labelled images (the target evaluation set, else source validation)."""
    import torch

    from .runfolder import load_model

    labelled = data.eval if data.eval is not None and len(data.eval) else data.val
    if labelled is None or not len(labelled) or labelled.labels is None:
        return None
    model, spec = load_model(out)
    n = min(TILES, len(labelled))
    images = labelled.images[:n]
    depth = labelled.depth[:n] if spec.depth_units and labelled.depth is not None else None
    if spec.depth_units and depth is None:
        return None
    with torch.no_grad():
        predicted = model(torch.from_numpy(spec.prepare(images, depth))).argmax(1).numpy()
    tiles, captions = [], []
    for i in range(n):
        tiles += [images[i], error_map(images[i], predicted[i], labelled.labels[i])]
        captions += [f"{labelled.names[i]}: image", f"{labelled.names[i]}: errors"]
    which = "target evaluation" if labelled is data.eval else "source validation"
    sec = Section("predictions", "Predictions of the shipped model")
    sec.image_grid(tiles, captions, title=f"{which} images at the model's {images.shape[2]}x{images.shape[1]} "
                   f"input; {LEGEND}", columns=4, max_side=256)
    return sec
