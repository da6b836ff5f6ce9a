"""The headless Isaac Sim generation run (``tools/isaac/generate.py``), minus what needs Kit.

The script's command line is ``sim2real generate``'s plus ``--gpu``, ``--rt-subframes``,
``--experience`` and ``--gui`` (a test keeps the option lists in step). Generation itself is
``sim2real.generate.api.generate``: the same resume, sharding (``--num-shards``/``--shard-index``),
manifest and writers as every executor, with a Kit frame source (``sim2real_isaac.generation``).

Everything here runs before ``SimulationApp`` exists, so it imports nothing of Kit.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import Sim2RealError, UserError
from ..paths import resource_root

EXPERIENCE = Path("config") / "sim2real.headless.kit"
INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/isaac/generate.py",
        description="Generate a labelled dataset with Isaac Sim (run with Isaac Sim's Python: ./python.sh).")
    p.add_argument("--profile", "-p", required=True, help="randomization profile: a TOML file or a shipped name")
    p.add_argument("--frames", "-n", type=int, required=True, help="how many frames the dataset holds")
    p.add_argument("--out", "-o", type=Path, required=True, help="dataset directory (created, or resumed)")
    p.add_argument("--scene", default=None, help="USD stage or shipped name (default: the profile's, else tabletop)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resolution", default="640x480", help="image size WIDTHxHEIGHT")
    p.add_argument("--camera", default="main", help="camera to render (its prim name)")
    p.add_argument("--backend", default="isaac", choices=["isaac"], help="always isaac here")
    p.add_argument("--workers", "-w", type=int, default=1, help="must be 1: one Isaac Sim process renders")
    p.add_argument("--executor", default="local", choices=["local"], help="local (the frames render here)")
    p.add_argument("--layout", default="native", help="native, or basic (Isaac Sim BasicWriter file layout)")
    p.add_argument("--depth-npy", action="store_true", help="also store float32 depth in metres (.npy)")
    p.add_argument("--threads", type=int, default=2, help="encoder/writer threads")
    p.add_argument("--ray-address", default=None, help=argparse.SUPPRESS)
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--frames-per-shard", type=int, default=1000, help="frames per shard folder of a new dataset")
    p.add_argument("--num-shards", type=int, default=1,
                   help="split the dataset's shards over N runs (one per GPU/node); then sim2real dataset merge OUT")
    p.add_argument("--shard-index", type=int, default=0, help="which of the --num-shards runs this is")
    p.add_argument("--progress", default="rich", choices=["rich", "json", "none"])
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="dotted overrides of the profile's keys, e.g. settle_steps=20 terms.object_scale.high=1.5")
    # Isaac Sim only
    p.add_argument("--gpu", type=int, default=None, help="GPU index for rendering and physics (one process per GPU)")
    p.add_argument("--rt-subframes", type=int, default=8, help="RTX subframes per captured frame")
    p.add_argument("--experience", type=Path, default=None, help=f"Kit experience file (default {EXPERIENCE})")
    p.add_argument("--gui", action="store_true", help="open the Isaac Sim window instead of running headless")
    return p


def request_from_args(args: argparse.Namespace) -> Any:
    """The ``GenerateRequest`` the arguments describe (one-line ``UserError`` for bad values)."""
    from ..cli_common import parse_resolution
    from ..dataset.encode import Outputs
    from .request import GenerateRequest

    if args.workers != 1:
        raise UserError("--workers: one Isaac Sim process renders; run one process per GPU with --gpu, "
                        "--num-shards and --shard-index (or `sim2real generate --backend isaac --workers N`)")
    try:
        outputs = Outputs(layout=args.layout, depth_npy=args.depth_npy)
    except ValueError as exc:
        raise UserError(f"--{exc}") from None
    return GenerateRequest(profile=args.profile, frames=args.frames, out=args.out, scene=args.scene, seed=args.seed,
                           resolution=parse_resolution(args.resolution), camera=args.camera, backend="isaac",
                           outputs=outputs, threads=args.threads, num_shards=args.num_shards,
                           shard_index=args.shard_index, frames_per_shard=args.frames_per_shard,
                           overrides=tuple(args.overrides))


def launch_config(args: argparse.Namespace) -> dict[str, Any]:
    """``SimulationApp``'s launch config: headless unless --gui, the image size, one GPU per process
    (``active_gpu``/``physics_gpu``, RTX multi-GPU off: several GPUs help one process only for huge images)."""
    width, height = (int(v) for v in str(args.resolution).lower().split("x"))
    config: dict[str, Any] = {"headless": not args.gui, "width": width, "height": height}
    if args.gpu is not None:
        config.update(active_gpu=args.gpu, physics_gpu=args.gpu, multi_gpu=False)
    return config


def experience(args: argparse.Namespace) -> Path:
    path = args.experience or resource_root() / EXPERIENCE
    if not Path(path).is_file():
        raise UserError(f"--experience: no Kit experience file at {path}")
    return Path(path).resolve()


def main(argv: Sequence[str] | None, start_app: Callable[[argparse.Namespace], Any],
         run: Callable[[argparse.Namespace, Any, Any], dict[str, Any]]) -> int:
    """Parse, start Isaac Sim (``start_app``: creates ``SimulationApp`` and returns it), ``run`` the
    generation, close Isaac Sim. Returns the exit code: 0, 2 (the user's mistake), 1, 130 (interrupted).
    Errors go to the reporter (a JSON ``error`` event with ``--progress json``) and stderr, one line."""
    from .. import progress

    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    reporter = progress.make_reporter(args.progress)
    app = None
    code = 0
    try:
        request = request_from_args(args)
        app = start_app(args)
        run(args, request, reporter)
    except KeyboardInterrupt:
        reporter.error("interrupted: finished results are kept; run the same command again to resume", "interrupted")
        code = INTERRUPTED
    except Sim2RealError as exc:
        reporter.error(str(exc), "user" if isinstance(exc, UserError) else "failure")
        sys.stderr.write(f"error: {exc}\n")
        code = exc.exit_code
    except Exception as exc:  # a bug: keep the traceback
        reporter.error(f"{type(exc).__name__}: {exc}", "bug")
        traceback.print_exc()
        code = 1
    finally:
        reporter.close()
        if app is not None:
            app.close()
    return code
