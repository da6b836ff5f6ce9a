"""Progressive transfer (the seeds' ProgressiveDomainTransfer), with system identification in the loop.

Each round, starting from a trained policy and its randomization profile:

1. **evaluate** the policy on the robot under the safety monitor (limits scaled by the round's factor:
   conservative first) and in simulation: returns, transfer ratio, success, safety stops;
2. **collect** the robot episodes as logs (commands + measurements), cut into windows of ``window_s``
   (an unstable system cannot be simulated open-loop for long: each window is fitted from its own
   initial state);
3. **calibrate** with system identification (``sysid.identify``, #8): estimates and confidence intervals
   of the ``--params`` on those logs;
4. **narrow** the randomization: the profile with every identified key set at its estimate and
   randomized over its interval (``Profile.calibrated``; later terms win), the other terms' ranges
   scaled by ``narrow``;
5. **fine-tune** the policy in simulation under the narrowed profile (``control.train``, initialised
   with the previous weights).

After the last round the fine-tuned policy is evaluated once more. ``history.jsonl`` gets one line per
evaluation; ``report.html`` shows the transfer ratio per round, what was identified (next to the hidden
truth when the robot is a SURROGATE) and the safety stops. Every step writes its result into
``round-<k>/`` before the next starts; running the same command again resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..fsutil import atomic_write_json, atomic_write_text, locked_dir
from ..progress import NullReporter, Reporter
from .config import TrainConfig, config_from
from .policy import Policy
from .robot import Robot
from .safety import SafetySpec
from .validate import assess, sim_episodes

log = logging.getLogger(__name__)

HISTORY = "history.jsonl"
MAX_WINDOWS = 40  # logs handed to identification per round (the fit's cost grows with them)


@dataclass
class TransferOptions:
    rounds: int = 1
    episodes: int = 10  # robot (and simulation) episodes per evaluation
    finetune_steps: int = 30_000
    params: str = ""  # sysid parameters (a TOML file or comma-separated targets)
    window_s: float = 1.0
    narrow: float = 0.5  # scale of the ranges sysid did not calibrate, per round
    safety_start: float = 1.0  # safety limits × this in round 0, rising linearly to 1 at the last evaluation
    sysid_iterations: int = 30
    seed: int = 0

    def check(self) -> None:
        if self.rounds < 1 or self.episodes < 1 or self.finetune_steps < 1:
            raise UserError("--rounds, --episodes and --finetune-steps: expected positive numbers")
        if not self.params:
            raise UserError("--params: expected the parameters to identify (a TOML file or targets)")
        if not 0 < self.narrow <= 1 or not 0 < self.safety_start <= 1:
            raise UserError("--narrow and --safety-start: expected factors in (0, 1]")
        if self.window_s <= 0:
            raise UserError(f"--window: expected a positive number of seconds (got {self.window_s})")


def safety_factor(opts: TransferOptions, evaluation: int) -> float:
    """The seeds' calculate_safety_limit: tighter limits early, the configured ones at the end."""
    if opts.rounds == 0:
        return 1.0
    return opts.safety_start + (1.0 - opts.safety_start) * min(evaluation / opts.rounds, 1.0)


def split_log(lg: Any, window_s: float, source: str) -> list[Any]:
    """A log cut into consecutive windows of ``window_s`` (the last, shorter one kept if it has 2/3)."""
    from ..trajectory.series import NS_PER_S, Trajectory
    from ..sysid.logs import RobotLog

    stamps = lg.measurements.stamp_ns
    t = (stamps - stamps[0]) / NS_PER_S
    edges = np.arange(0.0, t[-1] + window_s, window_s)
    out = []
    for k, start in enumerate(edges):
        rows = np.flatnonzero((t >= start - 1e-9) & (t < start + window_s - 1e-9))
        if len(rows) < 3 or t[rows[-1]] - t[rows[0]] < window_s * 2 / 3 - 1e-9:
            continue
        sl = slice(int(rows[0]), int(rows[-1]) + 1)

        def cut(tr: Trajectory) -> Trajectory:
            return Trajectory(tr.stamp_ns[sl], tr.values[sl], tr.channels, tr.units, f"{source} window {k}")

        out.append(RobotLog(cut(lg.commands), cut(lg.measurements), f"{source} window {k}"))
    return out


class ProgressiveTransfer:
    """The loop of the module docstring, writing into ``out``."""

    def __init__(self, policy_run: str | PathLike[str], robot: Robot, safety: SafetySpec | None,
                 opts: TransferOptions, out: str | PathLike[str], reporter: Reporter | None = None,
                 truth: Callable[[], dict[str, Any]] | None = None) -> None:
        opts.check()
        self.start = Path(policy_run)
        self.robot, self.safety, self.opts, self.out = robot, safety, opts, Path(out)
        self.reporter = reporter or NullReporter()
        self.truth = truth
        cfg_path = self.start / "config.json"
        if not cfg_path.is_file():
            raise UserError(f"{self.start}: not a finished training run (no config.json)")
        self.base_cfg = config_from(json.loads(cfg_path.read_text()))

    # ------------------------------------------------------------------ steps
    def _evaluate(self, folder: Path, policy_dir: Path, evaluation: int) -> dict[str, Any]:
        done = folder / "evaluation.json"
        if done.is_file():
            return json.loads(done.read_text())
        from ..sysid.logs import write_log

        policy = Policy.load(policy_dir)
        factor = safety_factor(self.opts, evaluation)
        safety = self.safety.scaled(factor) if self.safety is not None else None
        cfg = self._cfg_of(policy_dir)
        sim = sim_episodes(policy, cfg, self.opts.episodes, self.opts.seed, self.reporter)
        t = assess(policy, cfg, self.robot, self.opts.episodes, self.opts.seed, safety, self.reporter,
                   folder / "safety.jsonl", sim=sim)
        logs_dir = folder / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True)
        for k, lg in enumerate(t.logs):
            write_log(lg, logs_dir / f"episode-{k:03d}.csv")
        record = {"evaluation": evaluation, "policy": str(policy_dir), "safety_factor": factor,
                  **t.to_dict(), "truth": self.truth() if self.truth is not None else None}
        atomic_write_json(done, _plain(record))
        return record

    def _cfg_of(self, policy_dir: Path) -> TrainConfig:
        path = policy_dir / "config.json"
        return config_from(json.loads(path.read_text())) if path.is_file() else self.base_cfg

    def _identify(self, folder: Path, model: str) -> Path:
        """sysid on the evaluation's logs, cut into windows; returns the folder of its outputs."""
        from ..sysid.fit import FitOptions, identify, write_outputs
        from ..sysid.logs import read_log, write_log

        sysid_dir = folder / "sysid"
        if (sysid_dir / "calibrated.toml").is_file():
            return sysid_dir
        windows_dir = folder / "windows"
        windows_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for path in sorted((folder / "logs").glob("episode-*.csv")):
            for w, piece in enumerate(split_log(read_log(path), self.opts.window_s, path.stem)):
                files.append(write_log(piece, windows_dir / f"{path.stem}-w{w:02d}.csv"))
        if not files:
            raise UserError(f"{folder}: the robot episodes are shorter than one {self.opts.window_s:g} s window; "
                            "nothing to identify from (use a shorter --window)")
        if len(files) > MAX_WINDOWS:  # evenly spread over the episodes
            files = [files[int(i)] for i in np.linspace(0, len(files) - 1, MAX_WINDOWS)]
        opts = FitOptions(model=model, logs=files, params=self.opts.params, max_iter=self.opts.sysid_iterations,
                          seed=self.opts.seed, nthread=1)
        sysid_dir.mkdir(parents=True, exist_ok=True)
        with locked_dir(sysid_dir, purpose="system identification"):
            outcome = identify(opts, self.reporter, checkpoint=sysid_dir / "checkpoint.json")
            from ..runs import new_run_id

            write_outputs(outcome, sysid_dir, new_run_id("sysid"), self.reporter)
        return sysid_dir

    def _narrowed_profile(self, folder: Path, sysid_dir: Path, cfg: TrainConfig) -> Path:
        """The training profile narrowed around what sysid found (module docstring, step 4)."""
        from ..randomize.profile import load_profile, save_profile

        path = folder / "profile.toml"
        if path.is_file():
            return path
        result = json.loads((sysid_dir / "result.json").read_text())
        estimates = {e["key"]: (e["value"], e["low"], e["high"]) for e in result["calibrated"]}
        base_path = cfg.profile_path()
        base = load_profile(base_path) if base_path is not None else None
        if base is None:
            from ..randomize.profile import parse_profile

            base = parse_profile({"version": 1, "name": "calibrated"})
        # every broad range narrows; the identified keys then get terms of their own (later terms win)
        save_profile(base.narrowed(self.opts.narrow).calibrated(estimates), path)
        return path

    def _finetune(self, folder: Path, policy_dir: Path, profile: Path) -> Path:
        from .train import train

        cfg = self._cfg_of(policy_dir)
        data = cfg.resolved()
        data.update(profile=str(profile), steps=self.opts.finetune_steps, seed=self.opts.seed + 1000 * (1 + int(
            folder.name.rsplit("-", 1)[1])))
        out = folder / "policy"
        train(config_from(data), out, self.reporter, init=policy_dir)
        return out

    # ------------------------------------------------------------------ the loop
    def run(self) -> list[dict[str, Any]]:
        with locked_dir(self.out, purpose="progressive transfer"):
            self.robot.connect()
            try:
                return self._run()
            finally:
                self.robot.disconnect()

    def _run(self) -> list[dict[str, Any]]:
        model = self.base_cfg.env
        from .envs import make_env

        env = make_env(model, **self.base_cfg.env_kwargs)
        scene = str(env.unwrapped.fullpath)
        env.close()
        policy_dir = self.start
        history = []
        for r in range(self.opts.rounds + 1):
            folder = self.out / f"round-{r}"
            folder.mkdir(parents=True, exist_ok=True)
            self.reporter.message(f"round {r}: evaluating {policy_dir}")
            record = self._evaluate(folder, policy_dir, r)
            history.append(_summary(record, r))
            self._write_history(history)
            m = record["metrics"]
            self.reporter.metric("transfer", r, {"transfer_ratio": m["transfer_ratio"] or math.nan,
                                                  "real_return": m["real"]["mean"]}, echo=True)
            if r == self.opts.rounds:
                break
            sysid_dir = self._identify(folder, scene)
            profile = self._narrowed_profile(folder, sysid_dir, self._cfg_of(policy_dir))
            self.reporter.message(f"round {r}: fine-tuning under {profile}")
            policy_dir = self._finetune(folder, policy_dir, profile)
        self._report(history)
        return history

    def _write_history(self, history: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(_plain(h), sort_keys=True) + "\n" for h in history)
        atomic_write_text(self.out / HISTORY, text)

    def _report(self, history: list[dict[str, Any]]) -> None:
        from ..report import Report
        from .transfer_report import transfer_report_sections

        last = json.loads((self.out / f"round-{self.opts.rounds}" / "evaluation.json").read_text())
        facts = {"policy": str(self.start), "robot": self.robot.name, "rounds": self.opts.rounds,
                 "episodes per evaluation": self.opts.episodes}
        report = Report("Progressive transfer", subtitle="sim2real policy transfer report", facts=facts,
                        kind="control.transfer", data=_plain({"history": history}))
        for s in transfer_report_sections(self.out, history, last, self.robot.name):
            report.add(s)
        html, _ = report.write(self.out)
        self.reporter.artifact("report", html)


def _summary(record: dict[str, Any], r: int) -> dict[str, Any]:
    m = record["metrics"]
    return {"evaluation": r, "policy": record["policy"], "transfer_ratio": m["transfer_ratio"],
            "sim_return": m["sim"]["mean"], "real_return": m["real"]["mean"],
            "success_rate_real": m.get("success_rate_real"), "safety_stops": m.get("safety_stops", 0),
            "safety_factor": record["safety_factor"]}


def _plain(obj: Any) -> Any:
    from ..report import json_safe

    return json_safe(obj)
