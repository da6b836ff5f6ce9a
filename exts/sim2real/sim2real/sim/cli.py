"""``sim2real scene``: look at a scene through a backend: its entities, and one rendered frame."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..cli_common import JsonOpt, console, parse_resolution, print_json

app = typer.Typer(name="scene", help="Scenes: list what a profile can target, render a frame.", no_args_is_help=True)

SceneArg = Annotated[str, typer.Argument(help="A shipped scene name (tabletop, arm2) or a path to a scene file.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="Simulator backend.")]


@app.command()
def info(scene: SceneArg, backend: BackendOpt = "mujoco", json_out: JsonOpt = False) -> None:
    """The scene's entity names per target kind, and what the backend can randomize."""
    from . import registry

    sim = registry.create(backend)
    try:
        sim.load(scene, resolution=(64, 48))
        entities = sim.entities()
        details = sim.describe() if hasattr(sim, "describe") else {}  # the isaac backend: step, renamed, notices
    finally:
        sim.close()
    targets = sorted(f"{k}/{a}" for k, a in sim.capabilities.targets)
    if json_out:
        print_json({"scene": scene, "backend": backend, "entities": entities, "targets": targets, **details})
        return
    out = console()
    for kind, names in entities.items():
        out.print(f"[bold]{kind}[/]: {', '.join(names)}")
    if "physics_step" in details:
        out.print(f"[bold]physics step[/]: {details['physics_step']['text']}")
    for kind, names in details.get("renamed", {}).items():
        out.print(f"[bold]{kind}[/] named by their paths (their names are shared): "
                  + ", ".join(f"{n} = {p}" for n, p in names.items()))
    out.print(f"[dim]{backend} can randomize: {', '.join(targets)}[/]")


@app.command()
def render(
    scene: SceneArg,
    out: Annotated[Path, typer.Option("--out", help="PNG file to write the RGB image to.")] = Path("frame.png"),
    camera: Annotated[str | None, typer.Option("--camera", help="Camera name (default: the first).")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", help="Randomize with this profile.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Randomization seed.")] = 0,
    episode: Annotated[int, typer.Option("--episode", help="Episode index (reset terms).")] = 0,
    steps: Annotated[int, typer.Option("--steps", help="Physics steps between the reset and the frame.")] = 0,
    resolution: Annotated[str, typer.Option("--resolution", help="WIDTHxHEIGHT in pixels.")] = "640x480",
    backend: BackendOpt = "mujoco",
    json_out: JsonOpt = False,
) -> None:
    """Render one frame (optionally randomized by a profile); write the RGB PNG and print its labels."""
    import io

    from PIL import Image

    from ..fsutil import atomic_write_bytes
    from . import registry

    sim = registry.create(backend)
    try:
        sim.load(scene, resolution=parse_resolution(resolution))
        frame = _render(sim, camera, profile, seed, episode, steps)
    finally:
        sim.close()
    buffer = io.BytesIO()
    Image.fromarray(frame.rgb).save(buffer, format="PNG")
    atomic_write_bytes(out, buffer.getvalue())
    labels = [{"name": i.name, "class": i.class_name, "box": i.box, "visible_fraction": round(i.visible_fraction, 4),
               "position_world_m": [round(v, 4) for v in i.pose_world.position.tolist()]} for i in frame.instances]
    if json_out:
        print_json({"image": str(out), "camera": frame.camera, "K": frame.K, "objects": labels,
                    "sample": frame.sample})
        return
    table_out = console()
    table_out.print(f"wrote {out} ({frame.width}x{frame.height}, camera {frame.camera})")
    for item in labels:
        table_out.print(f"  {item['name']:<10} {item['class']:<10} box {item['box']}  "
                        f"visible {item['visible_fraction']:.2f}")


def _render(sim: Any, camera: str | None, profile: Path | None, seed: int, episode: int, steps: int) -> Any:
    if profile is None:
        sim.step(steps)
        return sim.render(camera)
    from ..randomize.profile import load_profile
    from ..randomize.runtime import Randomizer
    from .driver import RandomizedSim

    p = load_profile(profile)
    sim.capabilities.require(sim.name, p.targets(), source=str(profile))
    driver = RandomizedSim(sim, Randomizer(p, seed=seed, entities=sim.entities(), dt=sim.dt))
    driver.start()
    driver.reset(episode)
    driver.step(steps)
    return driver.render(camera, index=episode)
