"""How often randomized objects interpenetrate: the fraction of frames (episodes) of a profile in which
two shown object slots' colliding geoms touch with penetration (MuJoCo's own contacts, ``dist < -tol``),
measured right after the reset sample is applied, before any physics step (what a frame captures).

    PYTHONPATH=exts/sim2real .venv/bin/python tools/bench/overlap_rate.py config/profiles/tabletop.toml --frames 500

Not a speed benchmark: it prints a rate (and the load average, for the record)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import mujoco
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "exts" / "sim2real"))


def overlapping_pairs(backend, tol: float = 1e-4) -> set[tuple[str, str]]:
    """Pairs of object slots whose active geoms penetrate by more than ``tol`` metres now."""
    m, d = backend.model, backend.data
    owner = {int(b): s.name for s in backend.scene.slots for b in s.bodies}
    owner |= {int(s.body): s.name for s in backend.scene.slots}
    mujoco.mj_forward(m, d)
    pairs = set()
    for c in d.contact[: d.ncon]:
        a, b = owner.get(int(m.geom_bodyid[c.geom1])), owner.get(int(m.geom_bodyid[c.geom2]))
        if a and b and a != b and c.dist < -tol:
            pairs.add(tuple(sorted((a, b))))
    return pairs


def rate(profile: str, frames: int, seed: int = 0) -> tuple[float, int]:
    from sim2real.backends.mujoco.backend import MujocoBackend
    from sim2real.randomize.profile import load_profile
    from sim2real.randomize.runtime import Randomizer
    from sim2real.sim.driver import RandomizedSim

    p = load_profile(profile)
    backend = MujocoBackend()
    backend.load(p.scene or "tabletop", resolution=(64, 48), occlusion=False)
    sim = RandomizedSim(backend, Randomizer(p, seed, backend.entities(), dt=backend.dt))
    sim.start()
    bad = 0
    for i in range(frames):
        sim.reset(i)
        bad += bool(overlapping_pairs(backend))
    backend.close()
    return bad / frames, bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profiles", nargs="+")
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    for prof in args.profiles:
        r, n = rate(prof, args.frames, args.seed)
        print(f"{prof}: {n}/{args.frames} frames with interpenetrating objects ({100 * r:.1f} %)")


if __name__ == "__main__":
    main()
