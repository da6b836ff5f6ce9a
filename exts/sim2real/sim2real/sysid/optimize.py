"""Optimisers over a ``Problem``: bounded nonlinear least squares and CMA-ES.

* ``lsq`` (default): ``scipy.optimize.least_squares`` (trust-region reflective, box bounds) with the
  problem's Jacobian: one batch of rollouts per Jacobian (every finite-difference column at once,
  as ``mujoco.sysid``'s ``scipy_parallel_fd`` mode), exact columns for sensor biases. Parameters are
  scaled by their Jacobian columns (``x_scale="jac"``). One iteration per call, restarted from the
  vector: a checkpoint of the vector resumes exactly (``_lsq``).
* ``cma``: ``cma`` (CMA-ES) for costs that are not smooth (contacts, friction, delays far from the
  start): each generation is one batch of rollouts. Factors (``scale`` parameters) are searched in
  log space, everything in the unit box of its bounds. Every evaluated vector and its cost is kept
  (``population``) for population-based intervals.

Both start from the parameters' ``init``, after a scan of whole-step delays when the problem
identifies a latency (``scan_latency``): a delay far from the truth is a local minimum for any
local method. ``progress(iteration, cost, x)`` is called after every iteration; it may save a
checkpoint.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from .problem import Problem

log = logging.getLogger(__name__)

OPTIMIZERS = ("lsq", "cma")
# least-squares stopping: scipy's tests (cost change below FTOL relatively, step below XTOL relative to x),
# and a statistical one: an iteration lowered the cost by less than STAT_TOL x the cost per degree of
# freedom, i.e. moved the parameters by less than about sqrt(STAT_TOL) = 0.1 of their standard errors
# (noise-free data never meet it before machine precision)
FTOL, XTOL, GTOL = 1e-9, 1e-9, 1e-10
STAT_TOL = 0.01
Progress = Callable[[int, float, np.ndarray], None]


@dataclass
class FitResult:
    x: np.ndarray
    cost: float  # half the sum of squared weighted residuals
    method: str
    success: bool
    message: str
    iterations: int
    rollouts: int
    seconds: float
    history: list[float]  # cost after each iteration / generation
    population: tuple[np.ndarray, np.ndarray] | None = None  # (evaluated vectors, their costs): CMA-ES
    stage_iterations: list[int] = field(default_factory=list)  # iterations of each stage (fit.py's two)
    resumed_from: int | None = None  # the checkpoint's iteration this run started from

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "success": self.success, "message": self.message, "cost": self.cost,
                "iterations": self.iterations, "stage_iterations": self.stage_iterations or [self.iterations],
                "rollouts": self.rollouts, "seconds": self.seconds}


def merged(stages: Sequence[FitResult], resumed_from: int | None = None) -> FitResult:
    """Consecutive fits of one problem as one result: the last one's estimate, everyone's work."""
    last = stages[-1]
    return FitResult(last.x, last.cost, last.method, last.success, last.message, sum(s.iterations for s in stages),
                     sum(s.rollouts for s in stages), sum(s.seconds for s in stages),
                     [c for s in stages for c in s.history], last.population, [s.iterations for s in stages],
                     resumed_from)


def fit(problem: Problem, optimizer: str = "lsq", max_iter: int = 100, seed: int = 0,
        x0: np.ndarray | None = None, progress: Progress | None = None, scan: bool = True) -> FitResult:
    """Minimise the problem's cost from ``x0`` (default: the parameters' ``init``)."""
    if optimizer not in OPTIMIZERS:
        raise UserError(f"--optimizer: expected one of {', '.join(OPTIMIZERS)} (got {optimizer!r})")
    start = problem.x0 if x0 is None else np.asarray(x0, dtype=float)
    if scan:
        start = scan_latency(problem, start)
    started, before = time.perf_counter(), problem.evaluations
    result = (_lsq if optimizer == "lsq" else _cma)(problem, start, max_iter, seed, progress or _quiet)
    result.seconds = time.perf_counter() - started
    result.rollouts = problem.evaluations - before
    return result


def _quiet(iteration: int, cost: float, x: np.ndarray) -> None:
    pass


def scan_latency(problem: Problem, x: np.ndarray, coarse: int = 12) -> np.ndarray:
    """Start latency parameters at the whole-step delay that fits best, the others held at ``x``: a
    coarse grid over the bounds, then every step around its best point (two batches per parameter)."""
    x = x.copy()
    lo, hi = problem.bounds
    for i, p in enumerate(problem.params):
        if p.attr != "latency":
            continue
        step = max(1, int(np.ceil((hi[i] - lo[i]) / coarse)))
        grid = np.unique(np.clip(np.round(np.arange(lo[i], hi[i] + step, step)), lo[i], hi[i]))
        best = _best(problem, x, i, grid)
        fine = np.unique(np.clip(np.arange(best - step + 1, best + step), lo[i], hi[i]))
        x[i] = _best(problem, x, i, fine)
        log.info("latency scan: %s starts at %g physics steps", p.name, x[i])
    return x


def _best(problem: Problem, x: np.ndarray, i: int, candidates: np.ndarray) -> float:
    X = np.repeat(x[None], len(candidates), axis=0)
    X[:, i] = candidates
    return float(candidates[int(np.argmin(problem.cost(X)))])


def _lsq(problem: Problem, x0: np.ndarray, max_iter: int, seed: int, progress: Progress) -> FitResult:
    """One trust-region iteration per ``least_squares`` call, each started from the last one's vector:
    the vector is the whole state, so a fit resumed from a checkpointed vector takes exactly the path
    an uninterrupted one takes (same bytes). The restart resets the trust radius to scipy's initial
    one; residuals and Jacobians at the restart point are reused, not recomputed."""
    try:
        from scipy.optimize import least_squares
    except ImportError:
        from ..errors import NotInstalledError

        raise NotInstalledError("least squares (scipy)", "pip install 'sim2real[sysid]'") from None

    lo, hi = problem.bounds
    x = np.clip(x0, lo, hi)
    fun, jac = _cached(problem)
    dof = max(problem.n_residuals - len(x), 1)
    history: list[float] = []
    message, success = f"stopped after {max_iter} iterations (--max-iter)", False
    while len(history) < max_iter:
        before = 0.5 * float(fun(x) @ fun(x))
        res = least_squares(fun, x, jac=jac, bounds=(lo, hi), method="trf", x_scale="jac", ftol=FTOL, xtol=XTOL,
                            gtol=GTOL, callback=_one_iteration)
        if res.cost < before:
            x = np.asarray(res.x)
            history.append(float(res.cost))
            progress(len(history), float(res.cost), x)
        if res.status != -2:  # scipy's own tests were met within the iteration
            message, success = str(res.message), bool(res.status > 0)
            break
        if before - res.cost < STAT_TOL * res.cost / dof:
            message, success = "converged: steps below a tenth of the standard errors", True
            break
    cost = 0.5 * float(fun(x) @ fun(x))
    return FitResult(x, cost, "lsq", success, message, len(history), 0, 0.0, history or [cost])


def _one_iteration(intermediate_result: object) -> None:
    raise StopIteration


def _cached(problem: Problem) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """Residuals and Jacobian of the problem, remembered for the last two vectors (the current point and
    a trial step): scipy asks again for the point an iteration ended at when the next one starts."""
    store: dict[str, dict[bytes, np.ndarray]] = {"f": {}, "J": {}}

    def remembered(kind: str, x: np.ndarray, compute: Callable[[], np.ndarray]) -> np.ndarray:
        memo, key = store[kind], x.tobytes()
        if key not in memo:
            if len(memo) >= 2:
                memo.pop(next(iter(memo)))
            memo[key] = compute()
        return memo[key]

    def fun(x: np.ndarray) -> np.ndarray:
        return remembered("f", x, lambda: problem.residuals(x[None])[0])

    def jac(x: np.ndarray) -> np.ndarray:
        return remembered("J", x, lambda: problem.jacobian(x, fun(x)))

    return fun, jac


def _to_unit(problem: Problem) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """Maps between parameters and CMA-ES's unit box (log space for positive factors)."""
    lo, hi = problem.bounds
    logs = np.array([p.op == "scale" and p.low > 0 for p in problem.params] + [False] * len(problem.nuisance))
    a = np.where(logs, np.log(np.where(logs, lo, 1.0)), lo)
    b = np.where(logs, np.log(np.where(logs, hi, 1.0)), hi)

    def forward(x: np.ndarray) -> np.ndarray:
        xs = np.where(logs, np.log(np.where(logs, np.maximum(x, 1e-300), 1.0)), x)
        return (xs - a) / (b - a)

    def backward(z: np.ndarray) -> np.ndarray:
        xs = a + np.clip(z, 0.0, 1.0) * (b - a)
        return np.where(logs, np.exp(xs), xs)

    return forward, backward


def _cma(problem: Problem, x0: np.ndarray, max_iter: int, seed: int, progress: Progress) -> FitResult:
    try:
        import cma
    except ImportError:
        from ..errors import NotInstalledError

        raise NotInstalledError("CMA-ES (cma)", "pip install 'sim2real[sysid]'") from None
    forward, backward = _to_unit(problem)
    n = len(x0)
    popsize = 4 + int(3 * math.log(max(n, 1)))
    es = cma.CMAEvolutionStrategy(np.clip(forward(x0), 0, 1), 0.1, {
        "bounds": [0.0, 1.0], "seed": seed + 1, "popsize": popsize, "verbose": -9, "maxiter": max_iter,
        "tolfun": 1e-14, "tolx": 1e-9, "tolflatfitness": 5})
    evaluated, costs, history = [], [], []
    best_x, best_cost = x0, float(problem.cost(x0[None])[0])
    while not es.stop():
        Z = np.array(es.ask())
        X = backward(Z)
        c = problem.cost(X)
        es.tell(list(Z), c.tolist())
        evaluated.append(X)
        costs.append(c)
        i = int(np.argmin(c))
        if c[i] < best_cost:
            best_x, best_cost = X[i], float(c[i])
        history.append(best_cost)
        progress(len(history), best_cost, best_x)
    stop = ", ".join(f"{k}={v}" for k, v in es.stop().items())
    return FitResult(best_x, best_cost, "cma", "maxiter" not in es.stop(), stop, len(history), 0, 0.0, history,
                     (np.concatenate(evaluated), np.concatenate(costs)))
