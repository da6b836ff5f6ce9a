"""``sim2real translate train|apply``: a CycleGAN-style sim->target image translator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, parse_resolution, print_json, reporter

app = typer.Typer(help="Generative sim->real image translation (CycleGAN-style).", no_args_is_help=True)


@app.command("train")
def train_cmd(
    source: Annotated[Path, typer.Option("--source", "-s", help="Sim images: a sim2real dataset, an image folder or a ROS bag.")],
    target: Annotated[Path, typer.Option("--target", "-t", help="Unlabelled target (real) images: a folder, a dataset or a ROS bag.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created, or resumed if it exists).")],
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML file of translator settings.")] = None,
    iterations: Annotated[Optional[int], typer.Option("--iterations", help="Generator updates.")] = None,
    resolution: Annotated[Optional[str], typer.Option("--resolution", help="Training size WIDTHxHEIGHT (multiples of 4).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed")] = None,
    max_images: Annotated[Optional[int], typer.Option("--max-images", help="Use at most N images per domain.")] = None,
    source_topic: Annotated[Optional[str], typer.Option("--source-topic", help="Image topic of a --source bag.")] = None,
    target_topic: Annotated[Optional[str], typer.Option("--target-topic", help="Image topic of a --target bag.")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Train a sim->target translator from unpaired images; report the image-set distance it removes."""
    from .config import load_config
    from .run import TranslateRequest, train

    overrides = {"iterations": iterations, "seed": seed, "max_images": max_images,
                 "resolution": parse_resolution(resolution) if resolution else None}
    cfg = load_config(config, overrides)
    rep = reporter(progress)
    summary = train(TranslateRequest(cfg, source, target, out, source_topic, target_topic), rep)
    d = summary["distance"]
    result = {"out": str(out), "iterations_done": summary["iterations_done"], "kid_before": d["before"]["kid"],
              "kid_after": d["after"]["kid"], "kid_ratio": d["kid_ratio"]}
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(f"{out}: translator after {summary['iterations_done']} iterations; KID source->target "
                        f"{d['before']['kid']:.4g} before, {d['after']['kid']:.4g} after translation")


@app.command("apply")
def apply_cmd(
    run: Annotated[Path, typer.Option("--run", "-r", help="A `translate train` run folder (or its translator.pt).")],
    images: Annotated[Path, typer.Option("--images", "-i", help="Images to translate: a folder, a sim2real dataset or a ROS bag.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the translated PNGs (same relative names).")],
    topic: Annotated[Optional[str], typer.Option("--topic", help="Image topic of a bag.")] = None,
    max_images: Annotated[Optional[int], typer.Option("--max-images")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Translate images (fitted to the translator's resolution) into a folder of PNGs; resumable."""
    from ..dataset.imagesets import open_image_set
    from .apply import Translator, write_translated

    rep = reporter(progress)
    translator = Translator(run)
    made, skipped = write_translated(translator, open_image_set(images, max_images, topic), out, rep)
    result = {"out": str(out), "translated": made, "skipped_existing": skipped}
    rep.result(result)
    if json_out:
        print_json(result)
    elif progress != "json":
        console().print(f"{out}: {made} images translated ({skipped} already there)")
