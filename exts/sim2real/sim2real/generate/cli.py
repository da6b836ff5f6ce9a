"""The ``sim2real generate`` command (merged into the top-level app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ..cli_common import ProgressOpt, console, parse_resolution, reporter

app = typer.Typer()

# typed choices, so --help and shell completion list them (a test keeps them equal to the registries)
BackendName = Literal["mujoco", "isaac"]  # sim.registry.names()
ExecutorName = Literal["local", "ray"]  # generate.request.EXECUTORS
LayoutName = Literal["native", "basic"]  # dataset.layouts.names()


@app.command()
def generate(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Randomization profile: a TOML file or a shipped name.")],
    frames: Annotated[int, typer.Option("--frames", "-n", help="How many frames the dataset holds.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset directory (created, or resumed if it exists).")],
    scene: Annotated[Optional[str], typer.Option(help="Scene file or shipped name (default: the profile's, else tabletop).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the randomization; frame i depends only on (profile, scene, seed, i).")] = 0,
    resolution: Annotated[str, typer.Option(help="Image size WIDTHxHEIGHT.")] = "640x480",
    camera: Annotated[str, typer.Option(help="Camera to render.")] = "main",
    backend: Annotated[BackendName, typer.Option(help="Simulator backend.")] = "mujoco",
    workers: Annotated[int, typer.Option("--workers", "-w", help="Parallel renderers (processes, or Ray actors).")] = 1,
    executor: Annotated[ExecutorName, typer.Option(help="local (processes on this machine) or ray.")] = "local",
    layout: Annotated[LayoutName, typer.Option(help="native, or basic (Isaac Sim BasicWriter file layout).")] = "native",
    depth_npy: Annotated[bool, typer.Option("--depth-npy", help="Also store float32 depth in metres (.npy).")] = False,
    threads: Annotated[int, typer.Option(help="Encoder/writer threads per renderer.", min=1)] = 2,
    ray_address: Annotated[Optional[str], typer.Option(help="Join a Ray cluster (auto or HOST:PORT) instead of starting one.")] = None,
    gpus_per_worker: Annotated[float, typer.Option(help="Ray: GPUs per renderer (1 for Isaac Sim workers).", min=0)] = 0.0,
    frames_per_shard: Annotated[int, typer.Option(help="Frames per shard folder of a new dataset.", min=1)] = 1000,
    num_shards: Annotated[int, typer.Option(help="Split the dataset's shards over N independent runs (GPUs, nodes); "
                                                 "each writes OUT.parts/, then `sim2real dataset merge OUT`.", min=1)] = 1,
    shard_index: Annotated[int, typer.Option(help="Which of the --num-shards runs this is (0-based).", min=0)] = 0,
    overrides: Annotated[Optional[list[str]], typer.Argument(
        help="Dotted KEY=VALUE overrides of the profile's keys; a term by its name: settle_steps=20 "
             "terms.object_position.high=[0.1,0.1,0].", show_default=False)] = None,
    progress: ProgressOpt = "rich",
) -> None:
    """Generate a labelled synthetic dataset (RGB, depth, segmentation, boxes, poses, samples)."""
    from ..dataset.encode import Outputs
    from ..errors import UserError
    from .api import generate as run_generate
    from .request import GenerateRequest

    try:
        outputs = Outputs(layout=layout, depth_npy=depth_npy)
    except ValueError as exc:
        raise UserError(f"--{exc}") from None
    request = GenerateRequest(
        profile=profile, frames=frames, out=out, scene=scene, seed=seed, resolution=parse_resolution(resolution),
        camera=camera, backend=backend, outputs=outputs, workers=workers, executor=executor, threads=threads,
        ray_address=ray_address, gpus_per_worker=gpus_per_worker, num_shards=num_shards, shard_index=shard_index,
        frames_per_shard=frames_per_shard, overrides=tuple(overrides or ()),
    )
    rep = reporter(progress)
    result = run_generate(request, rep)
    if progress != "json":
        rate = f" at {result['frames_per_s']} frames/s" if result["frames_per_s"] else ""
        console().print(f"{result['out']}: {result['frames']} frames ({result['made']} made now{rate})")
