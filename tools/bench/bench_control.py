"""Acceptance figures of the control track (issue #12): does randomization, then progressive transfer with
system identification, make a policy transfer to a robot whose dynamics differ from the model?

The robot is the SURROGATE inverted pendulum (data/control/inverted_pendulum_surrogate.toml): gymnasium's
InvertedPendulum-v5 model with a pole twice as heavy, half the pivot damping, a motor at 30-50 % of the
model's force (drawn per run), 40-60 ms of command latency (per run), measurement noise and rail
friction the model does not have. Not a real robot.

For each seed (averaged over 3, as the issue asks), in one process per seed (2 at a time):

1. ``nominal``: PPO trained on the nominal simulator (observation noise only);
2. ``randomized``: PPO trained under the broad profile (data/control/inverted_pendulum_dr.toml: pole mass,
   damping, latency 0-40 ms);
3. both evaluated on the surrogate robot under the safety monitor: transfer ratio = mean robot return /
   mean simulator return (``sim2real policy validate``);
4. ``after one round``: one round of progressive transfer from the randomized policy (``sim2real policy
   transfer --rounds 1``): its robot episodes identified (pole mass, pivot damping, latency, motor gear),
   the profile narrowed around the estimates, the policy fine-tuned, evaluated again.

Every evaluation meets the same sequence of hidden robots (the surrogate restarts its draws). Printed:
the ratios per seed and their means, with the gains (randomized / nominal, after / randomized).

    .venv/bin/python tools/bench/bench_control.py [--seeds 0,1,2] [--steps 60000] [--finetune 30000]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "control"


def one_seed(seed: int, steps: int, finetune: int, episodes: int, root: str) -> dict:
    logging.disable(logging.WARNING)  # the safety monitor's stops are counted, not printed
    from sim2real.control.config import config_from, load_config
    from sim2real.control.policy import Policy
    from sim2real.control.robots import SurrogateRobotInterface
    from sim2real.control.safety import load_safety
    from sim2real.control.train import train
    from sim2real.control.transfer import ProgressiveTransfer, TransferOptions
    from sim2real.control.validate import assess
    from sim2real.sysid.surrogate import load_spec

    out = Path(root) / f"seed-{seed}"
    base = load_config(DATA / "inverted_pendulum.toml")
    data = {**base.resolved(), "seed": seed, "steps": steps}
    spec = load_spec(DATA / "inverted_pendulum_surrogate.toml")
    safety = load_safety(DATA / "inverted_pendulum_safety.toml")
    t0 = time.perf_counter()
    runs = {"nominal": config_from({**data, "profile": None}), "randomized": config_from(data)}
    ratios, times = {}, {}
    for name, cfg in runs.items():
        t = time.perf_counter()
        train(cfg, out / name)
        times[f"train {name}"] = time.perf_counter() - t
        policy = Policy.load(out / name)
        robot = SurrogateRobotInterface(spec, policy.contract.control_period_s)
        robot.connect()
        try:
            result = assess(policy, cfg, robot, episodes, seed=100, safety=safety)
        finally:
            robot.disconnect()
        ratios[name] = result.metrics["transfer_ratio"]
    t = time.perf_counter()
    opts = TransferOptions(rounds=1, episodes=episodes, finetune_steps=finetune,
                           params=str(DATA / "inverted_pendulum_params.toml"), seed=100)
    robot = SurrogateRobotInterface(spec, 0.04)
    history = ProgressiveTransfer(out / "randomized", robot, safety, opts, out / "transfer", truth=robot.truth).run()
    times["transfer round"] = time.perf_counter() - t
    ratios["after one round"] = history[-1]["transfer_ratio"]
    ident = json.loads((out / "transfer" / "round-0" / "sysid" / "result.json").read_text())["calibrated"]
    return {"seed": seed, "ratios": ratios, "round0": history[0]["transfer_ratio"], "times": times,
            "identified": {e["key"]: round(e["value"], 4) for e in ident}, "total_s": time.perf_counter() - t0}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=60_000)
    ap.add_argument("--finetune", type=int, default=30_000)
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as root, ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one_seed, seeds, [args.steps] * len(seeds), [args.finetune] * len(seeds),
                                [args.episodes] * len(seeds), [root] * len(seeds)))
    wall = time.perf_counter() - t0
    names = ("nominal", "randomized", "after one round")
    print(f"InvertedPendulum-v5 on the SURROGATE robot: PPO {args.steps} steps, fine-tune {args.finetune} steps, "
          f"{args.episodes} robot episodes per evaluation")
    print(f"{'seed':>4}  " + "  ".join(f"{n:>16}" for n in names) + "   identified (absolute units)")
    for r in results:
        print(f"{r['seed']:>4}  " + "  ".join(f"{r['ratios'][n]:>16.3f}" for n in names) + f"   {r['identified']}")
    mean = {n: float(np.mean([r["ratios"][n] for r in results])) for n in names}
    print(f"mean  " + "  ".join(f"{mean[n]:>16.3f}" for n in names))
    print(f"gain randomized / nominal: {mean['randomized'] / mean['nominal']:.2f}x; "
          f"after one round / randomized: {mean['after one round'] / mean['randomized']:.2f}x")
    print(f"wall time {wall:.0f} s ({args.workers} processes); per seed: "
          + ", ".join(f"{r['total_s']:.0f} s" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
