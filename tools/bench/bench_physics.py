"""Benchmark: physics steps per second of the MuJoCo backend with a 10-term physics profile firing every
100 steps (applied from the physics-step callback by ``RandomizedSim``), against the same backend
stepping with no randomization, side by side in this process.

Three runs per scene: ``plain`` (no randomization), ``randomized`` (terms firing every 100 steps)
and ``replay``: the randomized run's physics without our code — an untimed pre-run records the model
fields the firings change, and replay's step callback copies them in with bare array stores, so it
steps exactly the randomized run's model. Randomized vs replay is the cost of sampling and applying
against the barest way to the same model; replay vs plain is what the randomized physics itself costs
MuJoCo (changed masses and contacts make the solver work harder) plus the copies. Target (issue #4):
randomized >= 0.95x plain. The three run in alternating blocks of 100 steps so that machine load hits
them alike, with the same moving command and an episode reset every ``--episode`` blocks (untimed;
each episode's first firing draws and prepares a chunk of 64 firings, ``sim.schedule.CHUNK``, so short
episodes pay more per firing: ``--episode 10`` shows it);
steps/s are over every block after the first episode, an uncounted warm-up (so the preparation of a
chunk of firings, every 64th firing, counts; compiling the write plans once per process does not),
and the callbacks' mean time per firing. Each measurement is repeated with fresh backends
(``--repeat``, default 9): where a process's backends land in memory shifts a run by a few per cent,
so a single tabletop measurement lands anywhere within about ±2% of the median.

    .venv/bin/python tools/bench/bench_physics.py [--blocks 450] [--repeat 9] [--scene tabletop|arm2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np
from sim2real.backends.mujoco.backend import MujocoBackend
from sim2real.backends.mujoco.snapshot import ModelSnapshot, model_fields
from sim2real.randomize.profile import Profile, parse_profile
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
    return backend


def command(backend: MujocoBackend, block: int) -> None:
    """The same moving command in every run (sinusoids, one phase per actuator): a robot at rest
    under a constant command lets MuJoCo's solver idle, and the run whose parameters never change
    would get there first, which measures physics, not randomization."""
    t = block * EVERY * backend.dt
    backend.set_control(0.3 * np.sin(2 * np.pi * 0.5 * t + np.arange(backend.model.nu)))


def timed_callback(backend: MujocoBackend, callback: Callable[[int, float], None], every: int,
                   spent: list[float]) -> None:
    """Register ``callback`` on ``backend``, recording the seconds spent in each call into ``spent``."""
    def timed(step: int, time_s: float) -> None:
        start = time.perf_counter()
        callback(step, time_s)
        spent.append(time.perf_counter() - start)

    backend.add_step_callback(timed, every=every)


def schedule(blocks: int, episode: int) -> Iterator[tuple[int, int | None]]:
    """(block, episode starting before it or None): every run follows the same one."""
    for block in range(blocks):
        yield block, block // episode if block % episode == 0 else None


def recorded_states(scene: str, profile: Profile, blocks: int, episode: int) -> tuple[list[str], list[list]]:
    """Untimed pre-run of the randomized run: the model fields that differ from the defaults after
    some firing, and their values after each block (what the replay run copies in)."""
    backend = loaded(scene)
    sim = RandomizedSim(backend, Randomizer(profile, seed=0, entities=backend.entities(), dt=backend.dt))
    snapshots = []
    for block, new_episode in schedule(blocks, episode):
        if new_episode is not None:
            sim.reset(new_episode)
        command(backend, block)
        backend.step(EVERY)
        snapshots.append(ModelSnapshot(backend.model))
    defaults = backend.world.defaults
    changed = sorted({path for snap in snapshots for path, value in snap.values.items()
                      if not np.array_equal(value, defaults[path])})
    backend.close()
    return changed, [[snap[path] for path in changed] for snap in snapshots]


def measure(scene: str, profile: Profile, paths: list[str], states: list[list], blocks: int,
            episode: int) -> dict[str, float]:
    """One measurement with fresh backends: steps/s of each run and the median callback seconds."""
    plain, replay, randomized = loaded(scene), loaded(scene), loaded(scene)
    fields = {path: (owner, name) for path, owner, name in model_fields(replay.model)}
    targets = [fields[path] for path in paths]
    at = [0]  # the block the replay run is in

    def copy_state(step: int, time_s: float) -> None:  # the bare way to the same model: copy it
        for (owner, name), value in zip(targets, states[at[0]], strict=True):
            if isinstance(value, np.ndarray):
                getattr(owner, name)[...] = value
            else:
                setattr(owner, name, value)

    sim = RandomizedSim(randomized, Randomizer(profile, seed=0, entities=randomized.entities(), dt=randomized.dt))
    randomized.remove_step_callback(sim._on_step)
    spent: dict[str, list[float]] = {"replay": [], "randomized": []}
    timed_callback(replay, copy_state, EVERY, spent["replay"])
    timed_callback(randomized, sim._on_step, sim.period or EVERY, spent["randomized"])
    times: dict[str, list[float]] = {"plain": [], "replay": [], "randomized": []}
    for block, new_episode in schedule(blocks, episode):
        if new_episode is not None:  # untimed: a new episode for all three
            plain.reset()
            replay.reset()
            sim.reset(new_episode)
        at[0] = block
        for name, backend in (("plain", plain), ("replay", replay), ("randomized", randomized)):
            command(backend, block)
            start = time.perf_counter()  # interleaved blocks: machine load hits the three runs alike
            backend.step(EVERY)
            times[name].append(time.perf_counter() - start)
    final = {path: getattr(owner, name) for path, owner, name in model_fields(randomized.model)}
    if not all(np.array_equal(getattr(*fields[path]), final[path]) for path in paths):
        raise RuntimeError("replay did not reach the randomized run's model: the comparison is void")
    for backend in (plain, replay, randomized):
        backend.close()
    # throughput over every block (a median would hide the chunk of 64 firings prepared every 64th
    # firing), after the first episode: a warm-up in which every run fills its caches and ours compiles
    # its write plans (once per process and key set)
    counted = {name: t[episode:] for name, t in times.items()}
    out = {name: EVERY * len(t) / sum(t) for name, t in counted.items()}
    out.update({f"{name} callback": statistics.fmean(t[episode:]) for name, t in spent.items()})
    out["steady callback"] = statistics.median(spent["randomized"][episode:])  # a firing whose block is ready
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=450, help="blocks of 100 steps per run (first episode: warm-up)")
    parser.add_argument("--episode", type=int, default=50,
                        help="blocks per episode (all runs reset together; 50 = 10 s of simulated time)")
    parser.add_argument("--repeat", type=int, default=9, help="measurements with fresh backends (median reported)")
    parser.add_argument("--scene", choices=sorted(PROFILES), action="append")
    args = parser.parse_args()
    for scene in args.scene or sorted(PROFILES, reverse=True):
        profile = parse_profile({"name": f"bench-{scene}", "terms": PROFILES[scene]})
        paths, states = recorded_states(scene, profile, args.blocks, args.episode)
        runs = [measure(scene, profile, paths, states, args.blocks, args.episode) for _ in range(args.repeat)]
        for run in runs:  # where one process lands in memory shifts its runs by a few per cent: repeat
            print(f"{scene}: plain {run['plain']:9.0f} steps/s | replay {run['replay']:9.0f} | randomized "
                  f"{run['randomized']:9.0f} | randomized vs plain {run['randomized'] / run['plain']:.3f}x")
        med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        ratio = statistics.median(run["randomized"] / run["plain"] for run in runs)
        vs_replay = statistics.median(run["randomized"] / run["replay"] for run in runs)
        replay = statistics.median(run["replay"] / run["plain"] for run in runs)
        fire, steady = med["randomized callback"], med["steady callback"]
        print(f"{scene}, median of {len(runs)}: randomized vs plain {ratio:.3f}x (target >= 0.95x) | vs replay "
              f"{vs_replay:.3f}x (the same physics) | replay vs plain {replay:.3f}x\n"
              f"  per firing: sampling and applying {fire * 1e6:.0f} us on average ({fire * med['plain'] / EVERY:.1%} "
              f"of {EVERY} plain steps; {steady * 1e6:.0f} us once the chunk of firings is drawn and prepared), "
              f"replay's bare copies {med['replay callback'] * 1e6:.0f} us")


if __name__ == "__main__":
    main()
