"""The ``sim2real train`` command (merged into the top-level app). torch is imported inside the body."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, parse_resolution, print_json, reporter

app = typer.Typer()


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", "-d", help="Source (labelled, synthetic): a sim2real dataset; classify: or class folders; state: .npz/.csv.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created, or resumed if it exists).")],
    target: Annotated[Optional[Path], typer.Option("--target", "-t", help="Target (unlabelled, real): image folder, sim2real dataset or ROS bag; state: .npz/.csv.")] = None,
    topic: Annotated[Optional[str], typer.Option("--topic", help="Image topic of the --target bag (sensor_msgs/Image or CompressedImage).")] = None,
    eval_set: Annotated[Optional[Path], typer.Option("--eval", help="Labelled target set for metrics only: a sim2real dataset, images/+masks/+labels.json, or class folders.")] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="segment (default), classify or state.")] = None,
    method: Annotated[Optional[str], typer.Option("--method", "-m", help="source-only, dann (default), coral, mmd or adabn.")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="Epochs (passes over the source).")] = None,
    config: Annotated[Optional[str], typer.Option("--config", "-c", help="TOML file of training settings, or a shipped one by name (quick).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of initialisation, data order and augmentation.")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", "-b", help="Source images per step (as many target images).")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Initial learning rate (default: sgd 0.01, adamw 0.002).")] = None,
    optimizer: Annotated[Optional[str], typer.Option("--optimizer", help="sgd or adamw (default: adamw; classify source-only and adabn sgd).")] = None,
    resolution: Annotated[Optional[str], typer.Option("--resolution", help="Model input WIDTHxHEIGHT (classify: crop size).")] = None,
    depth: Annotated[Optional[bool], typer.Option("--depth/--no-depth", help="RGB-D input (depth in metres as a 4th channel).")] = None,
    class_map: Annotated[Optional[str], typer.Option("--class-map", help="Rename/merge classes: 'PATTERN=NAME,...' (fnmatch), e.g. '*=object'.")] = None,
    select: Annotated[Optional[str], typer.Option("--select", help="The epoch best.pt ships: last (default) or the best by a validator: source, entropy, snd, dev, im, iwv.")] = None,
    keep: Annotated[Optional[int], typer.Option("--keep", help="Keep the last N epochs' checkpoints and the shipped one (default 2; 0 keeps all).")] = None,
    augment: Annotated[Optional[bool], typer.Option("--augment/--no-augment", help="Augment the source images (default: segment on, classify off; flips only where labels allow).")] = None,
    max_target_images: Annotated[Optional[int], typer.Option("--max-target-images", help="Use at most N target images.")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto (CUDA when present), cpu or cuda.")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Train a perception model on synthetic data, adapting it to unlabelled real images."""
    from .config import config_file, load_config
    from .data import Inputs
    from .trainer import TrainRequest
    from .trainer import train as run_train

    overrides = {
        "task": task, "method": method, "epochs": epochs, "seed": seed, "batch_size": batch_size, "lr": lr,
        "resolution": parse_resolution(resolution) if resolution else None, "depth": depth, "select": select,
        "max_target_images": max_target_images, "device": device, "optimizer": optimizer, "keep_checkpoints": keep,
        "augment": None if augment is None else {"enabled": augment},
        "class_map": _class_map(class_map) if class_map else None,
    }
    cfg = load_config(config_file(config) if config else None, overrides)
    main = os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 alone reports and writes
    rep = reporter(progress if main else "none")
    from ..translate.augment import source_translation

    request = TrainRequest(cfg, Inputs(data, target, topic, eval_set), out, source_translation(cfg))
    summary = run_train(request, rep)
    if not main:
        return
    result = {"out": str(out), "epochs_done": summary["epochs_done"], "best": summary["best"],
              **{k: v for k, v in (summary["final"] or {}).items() if v}}
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        best = summary["best"]
        line = f"{out}: {summary['epochs_done']} epochs of {cfg.method} ({cfg.task})"
        if best:
            line += f"; best.pt = {best['reason']}"
        target_score = (summary["final"] or {}).get("target")
        if target_score:
            line += f"; target {summary['metric']} {target_score[summary['metric']]:.4f}"
        console().print(line)


def _class_map(text: str) -> dict[str, str]:
    from ..errors import UserError

    out = {}
    for part in text.split(","):
        pattern, sep, name = part.partition("=")
        if not sep or not pattern.strip() or not name.strip():
            raise UserError(f"--class-map: expected PATTERN=NAME pairs separated by commas, such as '*=object' (got {part!r})")
        out[pattern.strip()] = name.strip()
    return out
