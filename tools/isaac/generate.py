"""Generate a labelled dataset with Isaac Sim, headless (run it with Isaac Sim's Python).

    ~/isaacsim/python.sh tools/isaac/generate.py --profile tabletop --frames 10000 --out /data/tabletop
    # one process per GPU: shard k of N renders into /data/tabletop.parts/, then merge
    CUDA_VISIBLE_DEVICES=... python.sh tools/isaac/generate.py ... --gpu 0 --num-shards 4 --shard-index 0
    sim2real dataset merge /data/tabletop

The options are ``sim2real generate``'s plus ``--gpu``, ``--rt-subframes``, ``--experience``, ``--gui``
(``python.sh tools/isaac/generate.py --help``). ``sim2real generate --backend isaac`` runs this script
for you (``--workers N``: N processes on GPUs 0..N-1, merged at the end). Resume, shards, manifest and
file formats are those of every sim2real dataset (``sim2real.generate``).

``SimulationApp`` is created before anything imports ``omni``/``pxr`` (Isaac Sim requires it): only
``sim2real.generate.isaac_script`` (pure Python) is imported before.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "exts" / "sim2real"))  # the core, when not pip-installed into Isaac Sim's Python

from sim2real.generate.isaac_script import experience, launch_config, main  # noqa: E402  (no Kit imports)


def start_app(args):  # type: ignore[no-untyped-def]
    try:
        from isaacsim import SimulationApp
    except ImportError:
        from sim2real.generate.isaac_launcher import INSTALL_HINT
        from sim2real.errors import NotInstalledError

        raise NotInstalledError("Isaac Sim (isaacsim; run this script with Isaac Sim's python.sh)",
                                INSTALL_HINT) from None

    return SimulationApp(launch_config(args), experience=str(experience(args)))


def run(args, request, reporter):  # type: ignore[no-untyped-def]
    from sim2real_isaac.generation import run as run_generation  # Kit is up: omni imports are allowed now

    return run_generation(args, request, reporter)


if __name__ == "__main__":
    sys.exit(main(None, start_app, run))
