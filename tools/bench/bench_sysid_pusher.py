"""Identification on a robot nobody here modelled: gymnasium's pusher (7 motors), over seeds (issue #29).

The "real robot" is built and run without sim2real: for each seed this script draws hidden changes,
writes them into a copy of gymnasium's ``pusher_v5.xml`` with ``xml.etree`` (link masses through their
geoms' density — mass and inertia scale together —, joint damping and armature, a motor's gear), runs
that model in a plain ``mujoco.mj_step`` loop with a whole-step command delay, adds sensor noise and
writes CSV logs in the documented format. ``sim2real.sysid.identify`` then sees only the logs and the
unmodified model (``pkg:gymnasium/envs/mujoco/assets/pusher_v5.xml``).

Per seed: two 10 s multisine logs fitted jointly, a third held out (other phases; a chirp kept off the
limits loses most of its amplitude to its slow start, see docs/sysid.md); excitation, truth and noise
all depend on the seed. The excitation is what ``sim2real sysid excite --model pusher_v5.xml --start ...``
writes by default: scaled down until the nominal arm keeps 10 % of every joint's range off its limits
(``--ignore-limits``: as before, the wrist then hits its limits in 7 of 10 seeds); the hidden robot's
steps on a joint limit are counted and printed. Printed per seed and parameter: truth, estimate, relative error, the 95 %
half-width and whether the interval covers the truth; the calibrated latency range and how many
latency terms the profile got; the wall time of ``identify`` (reading the logs, both fit stages,
intervals, held-out validation, the calibrated profile); held-out RMSE after / before (mean and worst
channel). The same for the baseline (its wall time: reading the logs, the delay scan, the fit, its
intervals; no validation). Then, over every (seed, parameter) pair: the coverage of the 95 %
intervals and how the errors spread in standard errors (1 when the intervals are calibrated, below 1
when they are merely wide), per parameter and in all; ``--markdown`` prints the tables of
docs/sysid.md. The two run one after the other on each seed (interleaved), on the same logs.

Cases (``--case``): ``white`` (1 mrad, 10 mrad/s independent Gaussian noise), ``differentiated``
(velocities are finite differences of the noisy 1 mrad encoder, as many drivers publish them: their
noise is autocorrelated and correlated with the positions'). The load average is printed with the
figures (other jobs share the cores).

    .venv/bin/python tools/bench/bench_sysid_pusher.py [--seeds 5] [--case white|differentiated] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import importlib.resources
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np

PUSHER = "pkg:gymnasium/envs/mujoco/assets/pusher_v5.xml"
ARM = ["r_shoulder_pan_joint", "r_shoulder_lift_joint", "r_upper_arm_roll_joint", "r_elbow_flex_joint",
       "r_forearm_roll_joint", "r_wrist_flex_joint", "r_wrist_roll_joint"]
START = [0.0, 0.3, 0.0, -1.1, 0.0, -0.5, 0.0]  # mid-range: pusher's qpos0 puts elbow and wrist on their limits
DENSITY = 300.0  # pusher_v5.xml's default geom density
HIDDEN = {  # parameter -> (what the XML edit changes, factor range the truth is drawn from)
    "body:r_upper_arm_link/mass": ("density", (0.7, 1.4)),
    "body:r_forearm_link/mass": ("density", (0.7, 1.4)),
    "joint:r_shoulder_pan_joint/damping": ("damping", (0.6, 1.6)),
    "joint:r_elbow_flex_joint/damping": ("damping", (0.6, 1.6)),
    "joint:r_shoulder_lift_joint/armature": ("armature", (0.6, 1.6)),
    "actuator:r_upper_arm_roll_joint/gear": ("gear", (0.8, 1.25)),
}
DELAYS = (1, 2, 3)  # whole physics steps (10 ms each)
RATE_HZ = 100.0  # one sample per physics step
NOISE = (0.001, 0.01)  # position rad, velocity rad/s
MARGIN = 0.1  # the excitation keeps the nominal arm this share of each joint's range off its limits (the default)


def pusher_xml() -> str:
    return (importlib.resources.files("gymnasium") / "envs/mujoco/assets/pusher_v5.xml").read_text()


def hidden_truth(seed: int) -> tuple[dict[str, float], int]:
    rng = np.random.default_rng(1000 + seed)
    factors = {k: float(rng.uniform(*bounds)) for k, (_, bounds) in HIDDEN.items()}
    return factors, int(rng.choice(DELAYS))


def edited_model(factors: dict[str, float]) -> str:
    """pusher_v5.xml with the hidden factors written into it (xml.etree, no sim2real)."""
    root = ET.fromstring(pusher_xml())
    for key, f in factors.items():
        kind, rest = key.split(":", 1)
        name, attr = rest.rsplit("/", 1)
        if kind == "body":
            body = next(b for b in root.iter("body") if b.get("name") == name)
            for geom in body.findall("geom"):  # the body's own geoms: its mass and inertia scale by f
                geom.set("density", repr(float(geom.get("density", DENSITY)) * f))
        elif kind == "joint":
            joint = next(j for j in root.iter("joint") if j.get("name") == name)
            default = {"damping": 1.0, "armature": 0.04}[attr]
            joint.set(attr, repr(float(joint.get(attr, default)) * f))
        else:
            motor = next(a for a in root.find("actuator") if a.get("joint") == name)
            motor.set("gear", repr(float(motor.get("gear", "1")) * f))
    return ET.tostring(root, encoding="unicode")


def run_robot(xml: str, commands: np.ndarray, delay: int, case: str, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray, int]:
    """The hidden robot in a plain mj_step loop: command k acts during step k + delay; returns noisy
    joint positions and velocities at every step (N, 7) each, and the steps at which an arm joint
    was on a limit (an active joint-limit constraint)."""
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    data.qpos[:7] = START
    mujoco.mj_forward(model, data)
    q, v = np.zeros_like(commands), np.zeros_like(commands)
    on_limit = 0
    for k in range(len(commands)):
        q[k], v[k] = data.qpos[:7], data.qvel[:7]
        data.ctrl[:] = commands[max(k - delay, 0)]
        mujoco.mj_step(model, data)
        on_limit += any(data.efc_type[i] == mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT and data.efc_id[i] < 7
                        for i in range(data.nefc))
    if case == "clean":
        return q, v, on_limit
    q_meas = q + rng.normal(0.0, NOISE[0], q.shape)
    if case == "differentiated":  # what a driver publishing d(encoder)/dt gives
        v_meas = np.vstack([v[:1], np.diff(q_meas, axis=0) * RATE_HZ])
    else:
        v_meas = v + rng.normal(0.0, NOISE[1], v.shape)
    return q_meas, v_meas, on_limit


def write_csv(path: Path, t0_ns: int, commands: np.ndarray, q: np.ndarray, v: np.ndarray) -> Path:
    """The documented log format: sec, nanosec, cmd.<actuator>, <joint>.position [rad], <joint>.velocity [rad/s]."""
    header = ["sec", "nanosec", *[f"cmd.{a}" for a in ARM], *[f"{j}.position [rad]" for j in ARM],
              *[f"{j}.velocity [rad/s]" for j in ARM]]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for k in range(len(commands)):
            stamp = t0_ns + round(k * 1e9 / RATE_HZ)
            w.writerow([stamp // 10**9, stamp % 10**9, *np.concatenate([commands[k], q[k], v[k]]).tolist()])
    return path


def make_logs(seed: int, case: str, folder: Path, noise_seed: int | None = None, margin: float | None = MARGIN
              ) -> tuple[list[Path], Path, dict[str, float], int, list[int]]:
    """Two fit logs and a held-out one, the truth, and each log's steps on a joint limit."""
    from sim2real.sysid.excite import ExcitationSpec  # the user's excitation tool (`sysid excite --model --start`)
    from sim2real.sysid.limits import designed
    from sim2real.sysid.simulator import open_simulator

    factors, delay = hidden_truth(seed)
    xml = edited_model(factors)
    rng = np.random.default_rng(seed if noise_seed is None else 10_000 + noise_seed)
    paths, on_limit = [], []
    sim = open_simulator(PUSHER, nthread=0)  # the unmodified model: what the user has
    try:
        for i, signal in enumerate(("multisine", "multisine", "multisine")):
            spec = ExcitationSpec(signal, 10.0, RATE_HZ, [0.6], [0.0], (0.3, 3.0), seed=100 * seed + i, settle_s=0.3,
                                  fade_s=0.5)
            commands = designed(spec, sim, dict(zip(ARM, START, strict=True)), margin).commands
            q, v, hits = run_robot(xml, commands, delay, case, rng)
            on_limit.append(hits)
            paths.append(write_csv(folder / f"pusher_{seed}_{i}.csv", 1_700_000_000 * 10**9 + i * 10**11, commands, q, v))
    finally:
        sim.close()
    return paths[:2], paths[2], factors, delay, on_limit


# ---------------------------------------------------------------- the baseline: mujoco + scipy, nothing of ours
class Baseline:
    """What a user would write with mujoco and scipy, following ``mujoco.sysid``'s recipe: each channel's
    residuals divided by its measured spread (``normalize_residual``), ``scipy.optimize.least_squares``
    over batched ``mujoco.rollout`` calls (2-point finite differences), the delay scanned over whole
    steps with the nominal model, intervals ``t · sqrt(diag(s² (JᵀJ)⁻¹))`` with one pooled ``s²``
    (``calculate_intervals``). The initial state is each log's first sample."""

    def __init__(self, logs: list[Path]) -> None:
        import mujoco.rollout

        self.model = mujoco.MjModel.from_xml_string(pusher_xml())
        self.data = [mujoco.MjData(self.model) for _ in range(2)]
        self.pool = mujoco.rollout.Rollout(nthread=2)
        tables = [np.loadtxt(p, delimiter=",", skiprows=1) for p in logs]
        n = len(ARM)
        self.ctrl = [t[:, 2:2 + n] for t in tables]
        self.meas = [t[:, 2 + n:] for t in tables]  # (T, 14): positions then velocities
        self.spread = np.linalg.norm(np.concatenate(self.meas), axis=0) / np.sqrt(2)
        self.keys = list(HIDDEN)

    def configured(self, x: np.ndarray) -> mujoco.MjModel:
        m = copy_model(self.model)
        for key, f in zip(self.keys, x, strict=True):
            kind, rest = key.split(":", 1)
            name, attr = rest.rsplit("/", 1)
            if kind == "body":
                b = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)
                m.body_mass[b] = self.model.body_mass[b] * f
                m.body_inertia[b] = self.model.body_inertia[b] * f
            elif kind == "joint":
                d = m.jnt_dofadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)]
                field = m.dof_damping if attr == "damping" else m.dof_armature
                base = self.model.dof_damping if attr == "damping" else self.model.dof_armature
                field[d] = base[d] * f
            else:
                a = next(i for i in range(m.nu) if m.actuator_trnid[i, 0] == mujoco.mj_name2id(
                    m, mujoco.mjtObj.mjOBJ_JOINT, name))
                m.actuator_gear[a, 0] = self.model.actuator_gear[a, 0] * f
        return m

    def residuals(self, X: np.ndarray, delay: int) -> np.ndarray:
        """(K, M) residuals of K parameter vectors over both logs, in one rollout call."""
        models, initial, ctrl = [], [], []
        size = mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        for x in X:
            m = self.configured(x)
            for c, y in zip(self.ctrl, self.meas, strict=True):
                d = mujoco.MjData(m)
                d.qpos[:7], d.qvel[:7] = y[0, :7], y[0, 7:]
                state = np.zeros(size)
                mujoco.mj_getState(m, d, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
                models.append(m)
                initial.append(state)
                ctrl.append(np.vstack([np.repeat(c[:1], delay, axis=0), c[:len(c) - delay]]))
        state, _ = self.pool.rollout(models, self.data, np.array(initial), np.array(ctrl))
        out = []
        for k, (s, i) in enumerate(zip(state, initial, strict=True)):
            y = self.meas[k % len(self.meas)]
            sim = np.vstack([i[None], s[:-1]])[:, 1:]  # rows: state before each step; drop time
            nq = self.model.nq
            pred = np.hstack([sim[:, :7], sim[:, nq:nq + 7]])
            out.append(((pred - y) / self.spread).ravel())
        return np.array([np.concatenate(out[j:j + len(self.meas)]) for j in range(0, len(out), len(self.meas))])

    def fit(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, int, float]:
        from scipy.optimize import least_squares
        from scipy.special import stdtrit

        started = time.perf_counter()
        ones = np.ones((1, len(self.keys)))
        delay = min(range(6), key=lambda d: float(np.sum(self.residuals(ones, d) ** 2)))
        res = least_squares(lambda x: self.residuals(x[None], delay)[0], ones[0], bounds=(0.1, 10.0),
                            jac=lambda x: self._jacobian(x, delay), method="trf", x_scale="jac")
        r, J = res.fun, self._jacobian(res.x, delay)
        s2 = float(r @ r) / (r.size - J.shape[1])
        half = stdtrit(r.size - J.shape[1], 0.5 + level / 2) * np.sqrt(np.diag(s2 * np.linalg.inv(J.T @ J)))
        return res.x, half, delay, time.perf_counter() - started

    def _jacobian(self, x: np.ndarray, delay: int) -> np.ndarray:
        h = 1e-6 * np.maximum(np.abs(x), 1.0)
        X = np.vstack([x, x + np.diag(h)])
        R = self.residuals(X, delay)
        return ((R[1:] - R[0]) / h[:, None]).T

    def close(self) -> None:
        self.pool.close()


def copy_model(model: mujoco.MjModel) -> mujoco.MjModel:
    import copy

    return copy.copy(model)


# ---------------------------------------------------------------- sim2real and the table
def ours(fit_logs: list[Path], held: Path) -> dict:
    from sim2real.sysid.fit import FitOptions, identify

    started = time.perf_counter()
    o = identify(FitOptions(PUSHER, fit_logs, ",".join([*HIDDEN, "actuator:*/latency"]), holdout=[held], nthread=2))
    seconds = time.perf_counter() - started
    latency = next(e for e in o.estimates if "latency" in e.key)
    return {"x": dict(zip([p.name for p in o.params], o.x.tolist(), strict=True)),
            "half": dict(zip([p.name for p in o.params], o.uncertainty.half_width.tolist(), strict=True)),
            "seconds": seconds, "latency_range": (latency.low, latency.high), "latency_terms": sum(
                "latency" in t.target for t in o.profile.terms),
            "ratio": o.summary["rmse_ratio_mean"], "ratio_max": o.summary["rmse_ratio_max"],
            "worst_channel": o.summary["rmse_ratio_worst_channel"],
            "iterations": o.result.iterations, "flags": report_flags(o)}


def report_flags(o: object) -> str:
    """What the report warns about the intervals: parameters where the cost jumps beside the estimate,
    channels whose residuals are strongly autocorrelated (model error)."""
    from sim2real.sysid.report_sections import MODEL_ERROR_DISCOUNT

    u = o.uncertainty  # type: ignore[attr-defined]
    rough = int(np.sum(u.non_smooth)) if u.non_smooth is not None else 0
    correlated = [c for c, k in zip(o.channels, u.inflation, strict=True)  # type: ignore[attr-defined]
                  if k >= MODEL_ERROR_DISCOUNT]
    return ", ".join(([f"{rough} not smooth"] if rough else []) + ([f"correlated: {', '.join(correlated)}"] if correlated
                                                                   else [])) or "—"


def run_seed(seed: int, case: str, folder: Path, margin: float | None = MARGIN) -> dict:
    fit_logs, held, factors, delay, on_limit = make_logs(seed, case, folder, margin=margin)
    truth = {**factors, "actuator:*/latency": float(delay)}
    mine = ours(fit_logs, held)
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    base = Baseline(fit_logs)  # reading the logs counts, as in sim2real's figure
    try:
        with threadpool_limits(limits=1, user_api="blas"):  # as sim2real runs (fit.py): fair on a busy machine
            bx, bhalf, bdelay, _ = base.fit()
    finally:
        base.close()
    bseconds = time.perf_counter() - started
    theirs = {"x": {**dict(zip(HIDDEN, bx.tolist(), strict=True)), "actuator:*/latency": float(bdelay)},
              "half": {**dict(zip(HIDDEN, bhalf.tolist(), strict=True)), "actuator:*/latency": float("nan")},
              "seconds": bseconds}
    return {"seed": seed, "truth": truth, "ours": mine, "baseline": theirs, "on_limit": on_limit}


def print_seed(r: dict) -> None:
    o, b = r["ours"], r["baseline"]
    print(f"\nseed {r['seed']}: sim2real {o['seconds']:.1f} s ({o['iterations']} iterations), baseline "
          f"{b['seconds']:.1f} s; held-out RMSE after / before: mean {o['ratio']:.3f}, worst channel "
          f"{o['ratio_max']:.3f} ({o['worst_channel']}); calibrated latency range {o['latency_range'][0]:g}..{o['latency_range'][1]:g} "
          f"steps in {o['latency_terms']} term(s); report flags: {o['flags']}; steps on a joint limit (fit, fit, held "
          f"out): {', '.join(map(str, r['on_limit']))}")
    print(f"  {'parameter':38s} {'truth':>7s} | {'sim2real':>8s} {'error':>7s} {'± 95%':>8s} in | "
          f"{'baseline':>8s} {'error':>7s} {'± 95%':>8s} in")
    for k, t in r["truth"].items():
        cells = []
        for est in (o, b):
            v, h = est["x"][k], est["half"][k]
            covered = "y" if abs(v - t) <= h else ("-" if not np.isfinite(h) else "n")
            cells.append(f"{v:8.4f} {100 * abs(v - t) / t:6.3f}% {h:8.2g} {covered:>2s}")
        print(f"  {k:38s} {t:7.4f} | {cells[0]} | {cells[1]}")


def pairs(results: list[dict], who: str, key: str | None = None) -> list[tuple[float, float, float]]:
    """(estimate, half-width, truth) of every (seed, parameter) pair with a finite interval."""
    return [(r[who]["x"][k], r[who]["half"][k], t) for r in results for k, t in r["truth"].items()
            if np.isfinite(r[who]["half"][k]) and key in (None, k)]


def coverage(results: list[dict], who: str, key: str | None = None) -> tuple[int, int, float]:
    """Truths inside their 95 % interval, pairs, and the spread of the errors in standard errors
    (half-width / 1.96: thousands of degrees of freedom)."""
    ps = pairs(results, who, key)
    z = [(v - t) / (h / 1.96) for v, h, t in ps if h > 0]
    return sum(abs(v - t) <= h for v, h, t in ps), len(ps), float(np.sqrt(np.mean(np.square(z)))) if z else float("nan")


def markdown(results: list[dict]) -> None:
    """The per-seed and per-parameter tables of docs/sysid.md."""
    print("\n| seed | delay | sim2real worst error | covered | latency range (terms) | held-out RMSE ratio mean / worst "
          "channel | report flags | steps on a limit (fit logs) | wall time | baseline worst error | covered | baseline wall "
          "time |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        o, b = r["ours"], r["baseline"]
        cells = []
        for who in (o, b):
            err = max(abs(who["x"][k] - t) / t for k, t in r["truth"].items())
            hit, n, _ = coverage([r], "ours" if who is o else "baseline")
            cells.append((f"{100 * err:.2f} %", f"{hit}/{n}"))
        lo, hi = o["latency_range"]
        print(f"| {r['seed']} | {r['truth']['actuator:*/latency']:g} | {cells[0][0]} | {cells[0][1]} | "
              f"{lo:g}..{hi:g} ({o['latency_terms']}) | {o['ratio']:.3f} / {o['ratio_max']:.3f} | {o['flags']} | "
              f"{r['on_limit'][0]} + {r['on_limit'][1]} | {o['seconds']:.1f} s | "
              f"{cells[1][0]} | {cells[1][1]} | {b['seconds']:.1f} s |")
    print("\n| parameter | sim2real median / worst error | covered | errors in std. errors (rms) | baseline median / worst "
          "error | covered |\n|---|---|---|---|---|---|")
    for k in results[0]["truth"]:
        cells = []
        for who in ("ours", "baseline"):
            errors = [abs(r[who]["x"][k] - r["truth"][k]) / r["truth"][k] for r in results]
            hit, n, z = coverage(results, who, k)
            cells.append(f"{100 * np.median(errors):.3f} / {100 * max(errors):.3f} % | " + (f"{hit}/{n}" if n else "—"))
            if who == "ours":
                cells.append(f"{z:.2f}")
        print(f"| `{k}` | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--case", choices=("white", "differentiated", "clean"), default="white")
    parser.add_argument("--markdown", action="store_true", help="also print the tables of docs/sysid.md")
    parser.add_argument("--ignore-limits", action="store_true",
                        help="excite as `sysid excite --ignore-limits` does (the joints may hit their limits)")
    args = parser.parse_args()
    margin = None if args.ignore_limits else MARGIN
    print(f"pusher_v5.xml, case {args.case}, {args.seeds} seeds, excitation kept off the joint limits: "
          f"{'no' if margin is None else f'{margin:g} of each range'}; load average before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            results.append(run_seed(seed, args.case, Path(tmp), margin))
            print_seed(results[-1])
    print()
    for who in ("ours", "baseline"):
        hit, n, z = coverage(results, who)
        errors = [abs(r[who]["x"][k] - t) / t for r in results for k, t in r["truth"].items()]
        seconds = [r[who]["seconds"] for r in results]
        print(f"{'sim2real' if who == 'ours' else 'baseline':9s}: 95 % intervals cover {hit}/{n} = {hit / n:.0%} "
              f"(errors spread {z:.2f} standard errors); relative error median {100 * np.median(errors):.3f} %, "
              f"worst {100 * max(errors):.3f} %; wall time min / median / max {min(seconds):.1f} / "
              f"{np.median(seconds):.1f} / {max(seconds):.1f} s")
    ratios = [r["ours"]["seconds"] / r["baseline"]["seconds"] for r in results]
    print(f"wall time sim2real / baseline per seed: min / median / max {min(ratios):.2f} / {np.median(ratios):.2f} / "
          f"{max(ratios):.2f}x; load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.markdown:
        markdown(results)
    hit, n, _ = coverage(results, "ours")
    return 0 if hit >= 0.9 * n else 1


if __name__ == "__main__":
    sys.exit(main())
