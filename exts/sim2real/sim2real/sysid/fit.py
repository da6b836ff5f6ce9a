"""``identify``: logs + parameter names → estimates, intervals, validation, calibrated profile, report.

The one pipeline behind ``sim2real sysid fit`` (and the benchmark, and the pipeline runner):

1. read the logs (CSV / Parquet / JSON lines / bags), convert their units to the model's;
2. resolve the parameter names against the model; prepare the runs (the last ``holdout_fraction`` of
   each log is held out unless ``--holdout`` logs are given);
3. fit (``lsq`` or ``cma``), checkpointing the best vector after every iteration (a re-run with the
   same inputs resumes from it);
4. intervals at the estimate; held-out validation before / after (and with the neural residual);
5. ``write_outputs``: ``result.json``, ``calibrated.toml``, ``nominal.toml``, ``report.html`` /
   ``report.json``, ``run.json`` (and ``residual.pt``).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import checksums
from ..errors import InputError, IntegrityError, UserError
from ..fsutil import atomic_write_json, canonical_json, content_hash, sha256_file
from ..progress import NullReporter, Reporter
from .calibrate import Estimate, calibrated_profile, estimates
from .logs import RobotLog, read_log, to_model_units
from .optimize import OPTIMIZERS, FitResult, Progress, fit, merged
from .params import Param, parse_params, resolve_params
from .problem import Problem, Run, default_channels, prepare_run
from ..sim.rollout import Simulator
from .simulator import open_simulator
from .uncertainty import Uncertainty, channel_noise, jacobian_intervals, population_intervals
from .validate import Validation, summary, validate, validate_one_step

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.json"
NOISE_RATIO = 1.05  # channels whose noise levels differ less are weighted alike already
FD_STEP = 1e-6  # relative finite-difference step of the Jacobians (Problem.jacobian's default)
ROUGH = 0.5  # forward and backward differences this far apart (relative): the cost is not smooth there


@dataclass
class FitOptions:
    model: str
    logs: list[Path]
    params: str
    holdout: list[Path] = field(default_factory=list)
    channels: list[str] | None = None
    optimizer: str = "lsq"
    max_iter: int = 100
    seed: int = 0
    level: float = 0.95
    safety: float = 2.0
    holdout_fraction: float = 0.25
    intervals: str = "jacobian"
    initial_state: str = "fit"  # "fit": initial joint positions/velocities fitted per log too; "measured"
    profile: Path | None = None
    residual: bool = False
    nthread: int = 2
    topic: str | None = None
    command_topic: str | None = None

    def check(self) -> None:
        if not self.logs:
            raise UserError("--log: expected at least one log to fit")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"--optimizer: expected one of {', '.join(OPTIMIZERS)} (got {self.optimizer!r})")
        if self.intervals not in ("jacobian", "population"):
            raise UserError(f"--intervals: expected 'jacobian' or 'population' (got {self.intervals!r})")
        if self.intervals == "population" and self.optimizer != "cma":
            raise UserError("--intervals population needs --optimizer cma (it uses the CMA-ES population)")
        if not 0 < self.level < 1:
            raise UserError(f"--level: expected a confidence level in (0, 1) (got {self.level})")
        if not self.safety >= 1:  # a range narrower than the interval would leave out values the data support
            raise UserError(f"--safety: expected a factor >= 1 on the confidence half-width (got {self.safety})")
        if not 0 <= self.holdout_fraction < 0.9:
            raise UserError(f"--holdout-fraction: expected 0 <= f < 0.9 (got {self.holdout_fraction})")
        if self.initial_state not in ("fit", "measured"):
            raise UserError(f"--initial-state: expected fit or measured (got {self.initial_state!r})")
        if self.max_iter < 1:
            raise UserError(f"--max-iter: expected a positive number (got {self.max_iter})")

    def inputs(self) -> dict[str, Any]:
        """What defines the result: files by content, options by value (for the checkpoint and run.json)."""
        def files(paths: Sequence[Path]) -> list[dict[str, str]]:
            return [{"path": str(p.resolve()), "sha256": sha256_file(p) if p.is_file() else ""} for p in paths]

        params = Path(self.params)
        return {
            "model": self.model, "logs": files(self.logs), "holdout": files(self.holdout),
            "params": files([params])[0] if params.suffix.lower() == ".toml" else self.params,
            "channels": self.channels, "optimizer": self.optimizer, "max_iter": self.max_iter, "seed": self.seed,
            "holdout_fraction": self.holdout_fraction, "topic": self.topic, "command_topic": self.command_topic,
            "initial_state": self.initial_state,
        }

    @property
    def estimate_initial(self) -> bool:
        return self.initial_state == "fit"


@dataclass
class Outcome:
    options: FitOptions
    simulator_name: str
    params: list[Param]
    channels: list[str]
    units: list[str]
    x0: np.ndarray  # parameters only (the result's vector also holds initial-state offsets)
    x: np.ndarray
    result: FitResult
    uncertainty: Uncertainty
    estimates: list[Estimate]
    validations: list[Validation]
    summary: dict[str, Any]
    profile: Any  # calibrated Profile
    nominal: Any  # constants-only Profile
    residual_model: Any = None
    resumed_from: int | None = None
    one_step: list[Validation] = field(default_factory=list)  # with the neural residual
    one_step_summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        u = self.uncertainty
        return {
            "model": self.simulator_name,
            "channels": self.channels, "units": self.units,
            "parameters": [
                {"name": p.name, "keys": p.keys, "op": p.op, "unit": p.unit, "route": p.route, "start": float(s),
                 "estimate": float(v), "half_width": float(hw), "std": float(sd), "bounds": [p.low, p.high]}
                for p, s, v, hw, sd in zip(self.params, self.x0, self.x, u.half_width, u.std, strict=True)],
            "calibrated": [e.__dict__ for e in self.estimates],
            "intervals": {"method": u.method, "level": u.level, "dof": u.dof,
                          "correlation": u.correlation.tolist(),
                          "residual_std": dict(zip(self.channels, u.noise_std.tolist(), strict=True)),
                          "autocorrelation_discount": dict(zip(self.channels, u.inflation.tolist(), strict=True))},
            "fit": {**self.result.to_dict(), "history": self.result.history, "resumed_from_iteration": self.resumed_from},
            "validation": self.summary,
            "one_step_validation": self.one_step_summary,
        }


def load_logs(paths: Sequence[Path], sim: Simulator, topic: str | None, command_topic: str | None,
              reporter: Reporter) -> list[RobotLog]:
    units = {c.name: c.unit for c in sim.channels()}
    cmd_units = dict(zip(sim.actuators(), sim.command_units(), strict=True))
    out = []
    with reporter.task("read logs", total=len(paths), unit="log") as task:
        for p in paths:
            out.append(to_model_units(read_log(p, topic, command_topic, sim.actuators()), units, cmd_units))
            task.advance()
    return out


def _spread(logs: Sequence[RobotLog], sim: Simulator) -> dict[str, float]:
    """Peak-to-peak of each sensor's channels over the logs (the default range of a sensor bias)."""
    out: dict[str, float] = {}
    for c in sim.channels():
        if not c.sensor:
            continue
        for lg in logs:
            if lg.measurements is not None and c.name in lg.channels:
                col = lg.measurements.select([c.name]).values[:, 0]
                out[c.sensor] = max(out.get(c.sensor, 0.0), float(np.ptp(col)))
    return out


def identify(opts: FitOptions, reporter: Reporter | None = None, checkpoint: Path | None = None,
             sim: Simulator | None = None) -> Outcome:
    """Run the pipeline (module docstring, steps 1-4 and the profiles)."""
    reporter = reporter or NullReporter()
    opts.check()
    own = sim is None
    sim = sim or open_simulator(opts.model, opts.nthread)
    try:
        with _one_blas_thread():
            return _identify(opts, reporter, checkpoint, sim)
    finally:
        if own:
            sim.close()


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Single-threaded BLAS while identifying: the rollouts use the cores, and the linear algebra is on
    tall, thin Jacobians (rows ≫ parameters) that threads hardly speed up. On a busy machine the BLAS
    threads spin against the rollout threads instead: one JᵀJ of 28,000 × 35 took 0.9 s with two
    OpenBLAS threads and 4 ms with one (load 3.5 on 2 cores), a pusher identification 13.9 s vs 5.8 s."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _identify(opts: FitOptions, reporter: Reporter, checkpoint: Path | None, sim: Simulator) -> Outcome:
    fit_logs = load_logs(opts.logs, sim, opts.topic, opts.command_topic, reporter)
    held_logs = load_logs(opts.holdout, sim, opts.topic, opts.command_topic, reporter) if opts.holdout else []
    channels = opts.channels or default_channels(fit_logs, sim)
    if not channels:
        known = ", ".join(c.name for c in sim.channels())
        raise InputError(f"{fit_logs[0].source}: no measured channel the model produces (the model produces: {known})")
    specs = parse_params(opts.params)
    params = resolve_params(specs, sim, opts.params if opts.params.endswith(".toml") else "--params",
                            _spread(fit_logs, sim))
    fraction = 1.0 if held_logs else 1.0 - opts.holdout_fraction
    runs = [prepare_run(lg, sim, channels, fraction) for lg in fit_logs]
    problem = Problem(sim, params, runs, channels, estimate_initial=opts.estimate_initial)
    val_runs = [prepare_run(lg, sim, channels, 0.0) for lg in held_logs] if held_logs else runs
    if held_logs:
        for r in val_runs:
            r.fit[:] = False
    units = [m.unit for m in problem.channel_meta]

    result = _fit_stages(problem, opts, reporter, checkpoint)
    unc = _intervals(problem, result, opts)
    x = result.x[:problem.n_params]
    items = estimates(params, x, unc.half_width, opts.safety)

    before = problem.x0
    before[problem.n_params:] = result.x[problem.n_params:]  # the same initial states: only parameters differ
    validations = validate(problem, val_runs, before, result.x)
    residual_model, one_step_validations = None, []
    if opts.residual:
        residual_model, one_step = _neural(problem, result.x, opts.seed, reporter)
        one_step_validations = validate_one_step(problem, val_runs, one_step)
    from ..randomize.profile import load_profile

    base = load_profile(opts.profile) if opts.profile else None
    scene = opts.model
    profile = calibrated_profile(items, base, scene)
    nominal = calibrated_profile(items, None, scene, constant=True)
    return Outcome(opts, sim.name, params, channels, units, problem.x0[:problem.n_params], x, result, unc, items, validations,
                   summary(validations, channels), profile, nominal, residual_model, result.resumed_from, one_step_validations,
                   summary(one_step_validations, channels) if one_step_validations else {})


@dataclass
class Saved:
    """A checkpoint: where the fit was (stage, iterations done in it), its vector, the costs so far and
    the second stage's channel weights."""

    stage: int
    stage_iteration: int
    x: np.ndarray
    history: list[float]
    noise: np.ndarray | None

    @property
    def iteration(self) -> int:
        return len(self.history)


def _resume(checkpoint: Path | None, key: str, problem: Problem) -> Saved | None:
    if checkpoint is None or not checkpoint.is_file():
        return None
    try:
        checksums.verify(checkpoint)  # a changed digit of x still parses: it would be resumed from
        saved = json.loads(checkpoint.read_text())
        if saved.get("inputs") != key or len(saved.get("x", [])) != len(problem.x0):
            return None  # another problem's checkpoint: start afresh (it is overwritten)
        noise = saved.get("noise")
        return Saved(int(saved["stage"]), int(saved["stage_iteration"]), np.array(saved["x"], dtype=float),
                     [float(c) for c in saved["history"]], None if noise is None else np.array(noise, dtype=float))
    except IntegrityError as exc:
        log.warning("%s; starting the fit again", exc)
        return None
    except (OSError, json.JSONDecodeError, TypeError, ValueError, KeyError):
        return None


def _fit_stages(problem: Problem, opts: FitOptions, reporter: Reporter, checkpoint: Path | None) -> FitResult:
    """Fit with channels weighted by their spread, then refit with each weighted by its noise level
    (from the first fit's residuals): weighted least squares, what ``uncertainty`` assumes. Every
    iteration is checkpointed; a rerun resumes in the stage and at the iteration it stopped at (with
    ``lsq`` on exactly the same path: the vector is the optimiser's whole state)."""
    # the iteration budget is not part of the problem: a rerun with a larger --max-iter goes on
    key = content_hash({k: v for k, v in opts.inputs().items() if k != "max_iter"})
    saved = _resume(checkpoint, key, problem)
    resumed = saved.iteration if saved is not None else None
    if saved is not None:
        reporter.message(f"resuming from the checkpoint of iteration {resumed}")
    state = saved or Saved(1, 0, problem.x0, [], None)  # updated as the fit goes
    stages = []
    with reporter.task("fit", total=opts.max_iter, unit="iteration") as task:
        def progress(iteration: int, cost: float, x: np.ndarray) -> None:
            state.history.append(cost)
            # checkpoint first: whoever sees the progress event may interrupt us right after it
            if checkpoint is not None:
                saved_state = {
                    "inputs": key, "iteration": state.iteration, "cost": cost, "stage": state.stage,
                    "stage_iteration": state.stage_iteration + iteration, "x": x.tolist(), "history": state.history,
                    "noise": None if state.noise is None else state.noise.tolist()}
                checksums.write_bytes(checkpoint, (canonical_json(saved_state) + "\n").encode(), fsync=False)
            task.update(done=min(state.stage_iteration + iteration, opts.max_iter), cost=f"{cost:.6g}")
            reporter.metric("fit", state.iteration, {"cost": cost, "stage": state.stage})

        if state.stage == 1:
            stages.append(fit(problem, opts.optimizer, opts.max_iter - state.stage_iteration, opts.seed,
                              None if saved is None else state.x, progress, scan=saved is None))
            r = problem.residuals(stages[-1].x[None])[0]
            state.noise = channel_noise(r, problem.channel_of_residual(), len(problem.channels), len(state.x))
            state.stage, state.stage_iteration, state.x = 2, 0, stages[-1].x
        first = state.iteration - state.stage_iteration  # iterations of the first stage
        problem.weigh_by_noise(state.noise)
        refit = not stages or state.noise.max() > NOISE_RATIO * state.noise.min()  # else: the first fit is weighted
        if refit:
            reporter.message("refitting with each channel weighted by its noise level")
            stages.append(fit(problem, opts.optimizer, opts.max_iter - state.stage_iteration, opts.seed, state.x,
                              progress, scan=False))
    result = merged(stages, resumed)
    result.history = list(state.history) or result.history
    result.iterations = state.iteration
    result.stage_iterations = [first, state.iteration - first] if refit else [first]
    return result


def _intervals(problem: Problem, result: FitResult, opts: FitOptions) -> Uncertainty:
    r = problem.residuals(result.x[None])[0]
    J, rough = _checked_jacobian(problem, result.x, r)
    unc = jacobian_intervals(J, r, problem.blocks, problem.scale, opts.level)
    unc.non_smooth = rough
    if opts.intervals == "population" and result.population is not None:
        pop = population_intervals(*result.population, result.x, unc, r.size)
        if pop is None:
            log.warning("too few CMA-ES candidates inside the confidence region; using the Jacobian intervals")
        else:
            unc = pop
    return unc.head(problem.n_params)  # initial-state offsets are nuisance: marginalised out


def _checked_jacobian(problem: Problem, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Jacobian the intervals use: forward differences checked against backward ones (one more
    batch of rollouts). A column whose two differ by more than ``ROUGH`` of the smaller is a cost that
    jumps within a step of the estimate (a joint-limit impact, a contact or a stick-slip transition
    flipping): its smaller side is used (the side without the jump; wider intervals, never narrower
    than the data support) and a warning names the parameters, since no local linearisation
    describes such a cost. Returns the Jacobian and which columns were rough."""
    forward = problem.jacobian(x, r)
    backward = problem.jacobian(x, r, rel_step=-FD_STEP)
    nf, nb = np.linalg.norm(forward, axis=0), np.linalg.norm(backward, axis=0)
    rough = np.linalg.norm(forward - backward, axis=0) > ROUGH * np.minimum(nf, nb)
    rough &= np.maximum(nf, nb) > 0
    J = np.where(rough & (nb < nf), backward, forward)
    names = [p.name for p, bad in zip(problem.params, rough[:problem.n_params], strict=True) if bad]
    if names:
        log.warning("the cost jumps within a finite-difference step of the estimate in %s (a joint limit, a contact "
                    "or stick-slip flips there): intervals from the smoother side, and local intervals may not "
                    "describe such a cost; excite within the joints' ranges or try --optimizer cma "
                    "--intervals population", ", ".join(names))
    return J, rough


def _neural(problem: Problem, x: np.ndarray, seed: int, reporter: Reporter) -> tuple[Any, Any]:
    """Train the residual MLP on the fitted rows; return it and the one-step predictor of a run."""
    try:
        from .neural import Segment, train_residual
    except ImportError:
        from ..errors import NotInstalledError

        raise NotInstalledError("the neural residual (torch)", "pip install 'sim2real[train]' (torch, CPU build)") from None

    def commands_at(run: Run) -> np.ndarray:
        return run.ctrl[np.clip(np.floor(run.position).astype(int), 0, run.steps - 1)]

    def one_step(run: Run) -> tuple[np.ndarray, np.ndarray]:
        sim = problem.one_step(x, run)
        return sim, sim + model.predict(commands_at(run)[:-1], run.measured[:-1])

    with reporter.task("one-step predictions", total=len(problem.runs), unit="log") as task:
        segments = []
        for r in problem.runs:
            keep = r.fit[1:]  # predicting a fitted row from a fitted row
            target = r.measured[1:] - problem.one_step(x, r)
            segments.append(Segment(commands_at(r)[:-1][keep], r.measured[:-1][keep], target[keep]))
            task.advance()
    model = train_residual(segments, problem.channels, seed=seed, reporter=reporter)
    return model, one_step


def identify_into(opts: FitOptions, out: Path, reporter: Reporter | None = None,
                  run_id: str | None = None) -> tuple[Outcome, dict[str, Path]]:
    """``identify`` with its checkpoint and every output file in the folder ``out`` (locked while it
    runs; a cut run resumes from the checkpoint), recorded as run ``run_id`` (default: a new id).
    Returns the outcome and the files written."""
    from ..fsutil import locked_dir
    from ..runs import new_run_id

    opts.check()
    with locked_dir(out, purpose="sysid fit"):
        outcome = identify(opts, reporter, checkpoint=out / CHECKPOINT)
        return outcome, write_outputs(outcome, out, run_id or new_run_id("sysid"), reporter)


def write_outputs(outcome: Outcome, out: Path, run_id: str, reporter: Reporter | None = None,
                  sections: list[Any] | None = None) -> dict[str, Path]:
    """Write every output file into ``out`` (the caller holds its writer lock). ``sections``: the
    report's sections when the caller has made them already (``report_sections``)."""
    from ..randomize.profile import save_profile
    from ..report import Report, json_safe
    from ..runs import write_run_info

    reporter = reporter or NullReporter()
    opts = outcome.options
    data = json_safe(outcome.to_dict())
    paths = {"result": atomic_write_json(out / "result.json", data),
             "profile": save_profile(outcome.profile, out / "calibrated.toml"),
             "nominal": save_profile(outcome.nominal, out / "nominal.toml")}
    if outcome.residual_model is not None:
        paths["residual"] = outcome.residual_model.save(out / "residual.pt")
    facts = {"run": run_id, "model": outcome.simulator_name, "logs": ", ".join(p.name for p in opts.logs),
             "held out": ", ".join(p.name for p in opts.holdout) or f"last {opts.holdout_fraction:.0%} of each log",
             "optimiser": outcome.result.method, "calibrated profile": "calibrated.toml"}
    report = Report(f"System identification: {outcome.simulator_name}", subtitle="sim2real sysid report", facts=facts,
                    kind="sysid.fit", data=data)
    for section in sections if sections is not None else report_sections(outcome):
        report.add(section)
    paths["report"], paths["report_json"] = report.write(out)
    paths["run"] = write_run_info(out, "sysid", run_id, inputs=opts.inputs(),
                                  parents={"profile": str(opts.profile)} if opts.profile else None)
    reporter.artifact("report", paths["report"])
    return paths


def report_sections(outcome: Outcome) -> list[Any]:
    """The report's sections: summary, parameters and calibrated ranges, validation, residuals, convergence."""
    from .report_sections import (convergence_section, noise_section, one_step_section, parameter_section,
                                  summary_section, validation_section)

    out = [summary_section(outcome.summary, outcome.result, len(outcome.params)),
           parameter_section(outcome.params, outcome.x0, outcome.x, outcome.uncertainty, outcome.estimates,
                             outcome.options.safety),
           validation_section(outcome.validations, outcome.summary, outcome.units)]
    if outcome.one_step:
        out.append(one_step_section(outcome.one_step, outcome.one_step_summary, outcome.units))
    out += [noise_section(outcome.channels, outcome.units, outcome.uncertainty), convergence_section(outcome.result)]
    return out
