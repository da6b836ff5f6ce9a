"""The ``sim2real train`` command (merged into the top-level app). torch is imported inside the body."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, parse_resolution, print_json, reporter
from .config import MethodName, Task, TrainConfig

app = typer.Typer()


DeviceName = Literal["auto", "cpu", "cuda"]
OptimizerName = Literal["sgd", "adamw"]
SelectName = Literal["last", "source", "entropy", "snd", "dev", "iwv", "im"]  # "last" or a ValidatorName


def _default(key: str) -> str:
    """A flag's default as help shows it: the training config's value (a --config file may change it)."""
    value = TrainConfig.model_fields[key].default
    if isinstance(value, tuple | list):
        value = "x".join(map(str, value))
    return f"{value}, or the --config file's"


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", "-d", help="Source (labelled, synthetic): a sim2real dataset; classify: or class folders; detect: or a COCO .json or BasicWriter folder; state: .npz/.csv.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created, or resumed if it exists).")],
    target: Annotated[Optional[Path], typer.Option("--target", "-t", help="Target (unlabelled, real): image folder, sim2real dataset or ROS bag; state: .npz/.csv.")] = None,
    topic: Annotated[Optional[str], typer.Option("--topic", help="Image topic of the --target bag (sensor_msgs/Image or CompressedImage).")] = None,
    eval_set: Annotated[Optional[Path], typer.Option("--eval", help="Labelled target set for metrics only: a sim2real dataset, images/+masks/+labels.json, class folders, or (detect) a COCO .json or BasicWriter folder.")] = None,
    task: Annotated[Optional[Task], typer.Option("--task", help="What the model predicts.", show_default=_default("task"))] = None,
    method: Annotated[Optional[MethodName], typer.Option("--method", "-m", help="How it adapts to the target.", show_default=_default("method"))] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="Epochs (passes over the source).", show_default=_default("epochs"))] = None,
    config: Annotated[Optional[str], typer.Option("--config", "-c", help="TOML file of training settings, or a shipped one by name (quick).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of initialisation, data order and augmentation.", show_default=_default("seed"))] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", "-b", help="Source images per step (as many target images).", show_default=_default("batch_size"))] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Initial learning rate.", show_default="sgd 0.01, adamw 0.002")] = None,
    optimizer: Annotated[Optional[OptimizerName], typer.Option("--optimizer", help="The optimizer of every method.", show_default="adamw; classify source-only and adabn: sgd")] = None,
    resolution: Annotated[Optional[str], typer.Option("--resolution", help="Model input WIDTHxHEIGHT (classify: crop size).", show_default=_default("resolution"))] = None,
    depth: Annotated[Optional[bool], typer.Option("--depth/--no-depth", help="RGB-D input (depth in metres as a 4th channel).", show_default=_default("depth"))] = None,
    class_map: Annotated[Optional[str], typer.Option("--class-map", help="Rename/merge classes: 'PATTERN=NAME,...' (fnmatch), e.g. '*=object'.")] = None,
    select: Annotated[Optional[SelectName], typer.Option("--select", help="The epoch best.pt ships: the last, or the best by a validator.", show_default=_default("select"))] = None,
    keep: Annotated[Optional[int], typer.Option("--keep", help="Keep the last N epochs' checkpoints and the shipped one (0 keeps all).", show_default=_default("keep_checkpoints"))] = None,
    augment: Annotated[Optional[bool], typer.Option("--augment/--no-augment", help="Augment the source images (flips only where labels allow).", show_default="segment on, classify off")] = None,
    max_target_images: Annotated[Optional[int], typer.Option("--max-target-images", help="Use at most N target images.")] = None,
    device: Annotated[Optional[DeviceName], typer.Option("--device", help="auto: CUDA when present.", show_default=_default("device"))] = None,
    overrides: Annotated[Optional[list[str]], typer.Argument(
        help="Dotted KEY=VALUE overrides of any training key, e.g. model.width=32 augment.enabled=false lr=3e-4.",
        show_default=False)] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Train a perception model on synthetic data, adapting it to unlabelled real images."""
    from .config import config_file, load_config
    from .data import Inputs
    from .trainer import TrainRequest
    from .trainer import train as run_train

    flags = {
        "task": task, "method": method, "epochs": epochs, "seed": seed, "batch_size": batch_size, "lr": lr,
        "resolution": parse_resolution(resolution) if resolution else None, "depth": depth, "select": select,
        "max_target_images": max_target_images, "device": device, "optimizer": optimizer, "keep_checkpoints": keep,
        "augment": None if augment is None else {"enabled": augment},
        "class_map": _class_map(class_map) if class_map else None,
    }
    cfg = load_config(config_file(config) if config else None, flags, overrides or ())
    main = os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 alone reports and writes
    rep = reporter(progress if main else "none")
    from ..translate.augment import source_translation

    request = TrainRequest(cfg, Inputs(data, target, topic, eval_set), out, source_translation(cfg))
    summary = run_train(request, rep)
    if not main:
        return
    result = {"out": str(out), "epochs_done": summary["epochs_done"], "best": summary["best"],
              "shipped": summary.get("shipped"), "report": str(out / "report.html"),
              **{k: v for k, v in (summary["final"] or {}).items() if v}}
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(summary_line(summary, out, cfg.method, cfg.task), soft_wrap=True)


def summary_line(summary: dict, out: Path, method: str, task: str) -> str:
    """What the run ships, labelled: best.pt's epoch and its own scores, then the last epoch's (they
    differ whenever the validator picked an earlier epoch)."""
    metric, best = summary["metric"], summary["best"]
    line = f"{out}: {summary['epochs_done']} epochs of {method} ({task})"
    if best:
        line += f"; shipped best.pt = {best['reason']}" + _scores(summary.get("shipped"), metric)
    if summary["epochs_done"] and (not best or best["epoch"] != summary["epochs_done"]):
        line += f"; last epoch {summary['epochs_done']}" + _scores(summary["final"], metric)
    return line


def _scores(scores: dict | None, metric: str) -> str:
    parts = [f"{side} {metric} {scores[side][metric]:.4f}" for side in ("target", "source")
             if scores and scores.get(side) and scores[side].get(metric) is not None]
    return (": " + ", ".join(parts)) if parts else ""


def _class_map(text: str) -> dict[str, str]:
    from ..errors import UserError

    out = {}
    for part in text.split(","):
        pattern, sep, name = part.partition("=")
        if not sep or not pattern.strip() or not name.strip():
            raise UserError(f"--class-map: expected PATTERN=NAME pairs separated by commas, such as '*=object' (got {part!r})")
        out[pattern.strip()] = name.strip()
    return out
