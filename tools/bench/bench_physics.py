"""Benchmark: physics steps per second of the MuJoCo backend with a 10-term physics profile firing every
100 steps (applied from the physics-step callback by ``RandomizedSim``), against the same backend
stepping with no randomization, side by side in this process.

Three runs per scene: ``plain`` (no randomization), ``once`` (one sample of the profile applied at
the reset, then no callbacks: the same kind of physics, so the difference to ``randomized`` is the cost
of sampling and applying) and ``randomized`` (terms firing every 100 steps). Target (issue #4):
randomized >= 0.95x plain. The three run in alternating blocks of 100 steps so that machine load hits
them alike; the median block of each is reported. The profiles avoid terms that change the solver's work (joint
friction loss adds constraint rows), which would measure MuJoCo, not the randomization.

    .venv/bin/python tools/bench/bench_physics.py [--blocks 200] [--scene tabletop|arm2]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.randomize.profile import parse_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.sim.driver import RandomizedSim

EVERY = 100


def _term(name: str, target: str, **dist: object) -> dict:
    return {"name": name, "target": target, "when": "interval", "every": EVERY, **dist}


PROFILES = {
    "tabletop": [
        _term("friction", "geom:obj_*/friction", dist="uniform", low=0.7, high=1.3),
        _term("torsional", "geom:obj_*/torsional_friction", dist="uniform", low=0.5, high=1.5),
        _term("rolling", "geom:obj_*/rolling_friction", dist="uniform", low=0.5, high=1.5),
        _term("table_friction", "geom:table_top/friction", dist="uniform", low=0.7, high=1.3),
        _term("restitution", "geom:table_top/restitution", dist="uniform", low=0.0, high=0.3),
        _term("mass", "body:obj_*/mass", dist="loguniform", low=0.7, high=1.4),
        _term("com", "body:obj_*/com", dist="normal", mean=0.0, std=0.002),
        _term("gravity", "world:gravity", dist="normal", mean=[0.0, 0.0, -9.81], std=0.05),
        _term("damping", "joint:*/damping", dist="uniform", low=0.0, high=0.01, op="set"),
        _term("armature", "joint:*/armature", dist="uniform", low=0.0, high=1e-4, op="set"),
    ],
    "arm2": [
        _term("mass", "body:*_arm/mass", dist="loguniform", low=0.7, high=1.4),
        _term("forearm_mass", "body:forearm/mass", dist="loguniform", low=0.7, high=1.4),
        _term("com", "body:forearm/com", dist="normal", mean=0.0, std=0.005),
        _term("damping", "joint:*/damping", dist="loguniform", low=0.5, high=2.0),
        _term("armature", "joint:*/armature", dist="uniform", low=0.8, high=1.2),
        _term("frictionloss", "joint:*/frictionloss", dist="uniform", low=0.5, high=1.5),
        _term("kp", "actuator:*/kp", dist="uniform", low=0.8, high=1.2),
        _term("kv", "actuator:*/kv", dist="uniform", low=0.8, high=1.2),
        _term("gravity", "world:gravity", dist="normal", mean=[0.0, 0.0, -9.81], std=0.05),
        _term("friction", "geom:*arm/friction", dist="uniform", low=0.7, high=1.3),
    ],
}


def loaded(scene: str) -> MujocoBackend:
    backend = MujocoBackend()
    backend.load(scene, resolution=(64, 48))
    backend.set_control([0.3] * backend.model.nu)
    return backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=200, help="blocks of 100 steps per run")
    parser.add_argument("--scene", choices=sorted(PROFILES), action="append")
    args = parser.parse_args()
    for scene in args.scene or sorted(PROFILES, reverse=True):
        plain, once, randomized = loaded(scene), loaded(scene), loaded(scene)
        profile = parse_profile({"name": f"bench-{scene}", "terms": PROFILES[scene]})
        fixed = Randomizer(profile, seed=0, entities=once.entities(), dt=once.dt)
        fixed.reset(0)
        once.apply(fixed.step(EVERY))
        sim = RandomizedSim(randomized, Randomizer(profile, seed=0, entities=randomized.entities(), dt=randomized.dt))
        sim.reset(0)
        randomized.set_control([0.3] * randomized.model.nu)
        times: dict[str, list[float]] = {"plain": [], "once": [], "randomized": []}
        for _ in range(args.blocks):  # interleaved blocks: machine load hits the three runs alike
            for name, backend in (("plain", plain), ("once", once), ("randomized", randomized)):
                start = time.perf_counter()
                backend.step(EVERY)
                times[name].append(time.perf_counter() - start)
        sps = {name: EVERY / statistics.median(t) for name, t in times.items()}
        for backend in (plain, once, randomized):
            backend.close()
        p, o, r = sps["plain"], sps["once"], sps["randomized"]
        print(f"{scene}: plain {p:9.0f} steps/s | once {o:9.0f} | 10 physics terms every {EVERY} steps {r:9.0f} "
              f"| ratio {r / p:.3f}x vs plain (target >= 0.95x), {r / o:.3f}x vs once")


if __name__ == "__main__":
    main()
