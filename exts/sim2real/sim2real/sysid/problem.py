"""An identification problem: logs turned into rollouts, and the weighted residuals of any batch of
parameter vectors.

How a log meets the simulator (exts/sim2real/docs/sysid.md, "How logs are simulated"):

* time starts at ``t0``, the later of the first command and the first measurement; physics step ``k``
  covers ``[t0 + k dt, t0 + (k + 1) dt)``;
* a command takes effect at the physics step nearest its stamp and holds (zero-order hold); before
  the log the first command holds. Latency and gain error transform that per-step sequence
  (``sim.wrappers.delay_commands``, the backend's own command model);
* the simulator is sampled at each measurement's stamp (linear interpolation between physics steps,
  exact when stamps fall on steps); measured data are never resampled;
* the initial state comes from the first ``INITIAL_WINDOW_S`` of measurements: a quadratic fitted to
  each channel there, evaluated at ``t0`` (one noisy sample would start a lightly damped robot with a
  transient the fit then blames on the parameters; the fit is exact for a robot at rest, as
  excitation files start, and for any motion smoother than a parabola over that window); bias removed;
* residuals are ``(simulated + bias - measured) / scale`` per channel, ``scale`` the channel's
  standard deviation over the fitted rows, so radians and radians per second weigh alike (the fit's
  second stage sets ``scale`` to each channel's noise level: ``weigh_by_noise``).

A run may hold out its last rows (``fit_until``): they are simulated but not fitted (validation).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..trajectory.series import NS_PER_S
from ..sim.wrappers import MAX_LATENCY, delay_commands
from .logs import RobotLog
from .params import Param
from ..sim.rollout import Channel, ParamValues, Simulator

log = logging.getLogger(__name__)

MIN_ROWS_PER_PARAM = 20  # fitted measurement rows per identified parameter, at least
INITIAL_WINDOW_S = 0.1  # measurements the initial state is estimated from


@dataclass
class Run:
    """One log ready to simulate."""

    name: str
    ctrl: np.ndarray  # (T, A) command during each physics step, before latency and gain
    position: np.ndarray  # (N,) measurement times in physics steps from t0
    measured: np.ndarray  # (N, C) the problem's channels
    first: dict[str, float]  # every measured channel at t0 (initial state)
    fit: np.ndarray  # (N,) bool: rows the fit uses (the rest are held out)
    t_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (N,) seconds from t0
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # every measured channel, (N,) each

    @property
    def steps(self) -> int:
        return int(self.ctrl.shape[0])


def prepare_run(log_: RobotLog, sim: Simulator, channels: Sequence[str], fit_fraction: float = 1.0) -> Run:
    """Map one log onto the simulator's clock (see the module docstring)."""
    meas = log_.measurements
    if meas is None:
        raise InputError(f"{log_.source}: expected measurements (this is a command file)")
    if log_.actuators != sim.actuators():
        missing = [a for a in sim.actuators() if a not in log_.actuators]
        extra = [a for a in log_.actuators if a not in sim.actuators()]
        if missing or extra:
            raise InputError(f"{log_.source}: expected commands cmd.<actuator> for {', '.join(sim.actuators())} "
                             f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(extra) or 'none'})")
    commands = log_.commands.select(sim.actuators())
    dt_ns = sim.dt * NS_PER_S
    t0 = max(int(commands.stamp_ns[0]), int(meas.stamp_ns[0]))
    rows = meas.stamp_ns >= t0
    stamps = meas.stamp_ns[rows]
    if len(stamps) < 2:
        raise InputError(f"{log_.source}: fewer than 2 measurements after the first command")
    position = (stamps - t0) / dt_ns
    steps = int(np.ceil(position[-1] - 1e-9))
    # the command held during step k is the last one stamped at or before the step's nearest instant
    instants = t0 + np.round((np.arange(max(steps, 1)) + 0.5) * dt_ns).astype(np.int64)
    idx = np.clip(np.searchsorted(commands.stamp_ns, instants, side="right") - 1, 0, None)
    ctrl = commands.values[idx]
    values = meas.select(list(channels)).values[rows]
    first = dict(zip(meas.channels, initial_values(t_s := (stamps - t0) / NS_PER_S, meas.values[rows]).tolist(),
                     strict=True))
    fit = np.ones(len(stamps), bool)
    if fit_fraction < 1.0:
        fit[int(np.floor(fit_fraction * len(stamps))):] = False
    every = {c: meas.values[rows][:, i] for i, c in enumerate(meas.channels)}
    return Run(log_.source, ctrl, position, values, first, fit, t_s, every)


def initial_values(t_s: np.ndarray, values: np.ndarray, window_s: float = INITIAL_WINDOW_S) -> np.ndarray:
    """Every channel at ``t = 0`` from a quadratic least-squares fit over the first ``window_s``
    (at least 3 samples; the first sample alone when there are fewer)."""
    n = max(int(np.searchsorted(t_s, window_s, side="right")), 3)
    if len(t_s) < 3:
        return values[0].copy()
    basis = np.vander(t_s[:n], 3)  # t², t, 1
    coef, *_ = np.linalg.lstsq(basis, values[:n], rcond=None)
    return coef[-1]


def default_channels(logs: Sequence[RobotLog], sim: Simulator) -> list[str]:
    """The measured channels the simulator produces, in the log's order, without: efforts (their value at
    a stamp depends on when within the control tick the command changed), joint states of joints a
    sensor already measures the same way (one measurement counted twice would overstate what is
    known), and channels constant in every log."""
    known = {c.name: c for c in sim.channels()}
    present = [c for c in logs[0].channels if c in known and all(c in lg.channels for lg in logs)]
    by_sensor = {(known[c].joint, known[c].kind) for c in present if known[c].sensor and known[c].joint}
    out = []
    for c in present:
        meta = known[c]
        if meta.kind == "effort" or (not meta.sensor and (meta.joint, meta.kind) in by_sensor):
            continue
        if all(np.ptp(lg.measurements.select([c]).values) == 0 for lg in logs if lg.measurements is not None):
            log.info("channel %s is constant in every log; left out", c)
            continue
        out.append(c)
    return out


@dataclass(frozen=True)
class Nuisance:
    """An offset on one run's initial joint position or velocity, fitted with the parameters."""

    run: int
    channel: str  # the measured channel whose first value it corrects
    half_range: float


class Problem:
    """Residuals of vectors ``x`` over several runs at once. ``x`` holds one entry per ``Param``, then,
    with ``estimate_initial``, one offset per run and measured joint position / velocity (nuisance
    parameters: a noisy first sample would otherwise start a lightly damped robot with a transient
    the fit blames on the physical parameters)."""

    def __init__(self, sim: Simulator, params: Sequence[Param], runs: Sequence[Run], channels: Sequence[str],
                 scale: np.ndarray | None = None, estimate_initial: bool = False) -> None:
        self.sim, self.params, self.runs, self.channels = sim, list(params), list(runs), list(channels)
        self.known = {c.name: c for c in sim.channels()}
        unknown = [c for c in self.channels if c not in self.known]
        if unknown:
            raise InputError(f"channels {', '.join(unknown)}: not produced by {sim.name} "
                             f"(it produces: {', '.join(self.known)})")
        self.channel_meta: list[Channel] = [self.known[c] for c in self.channels]
        self.actuators = sim.actuators()
        fitted = np.concatenate([r.measured[r.fit] for r in self.runs])
        self.n_rows = len(fitted)
        if self.n_rows < MIN_ROWS_PER_PARAM * max(1, len(self.params)):
            raise InputError(
                f"{', '.join(r.name for r in self.runs)}: {self.n_rows} fitted measurement rows for "
                f"{len(self.params)} parameters; expected at least {MIN_ROWS_PER_PARAM} per parameter "
                f"({MIN_ROWS_PER_PARAM * len(self.params)}): record longer logs or identify fewer parameters")
        spread = fitted.std(axis=0)
        self.scale = scale if scale is not None else np.where(spread > 0, spread, 1.0)
        self.spread = self.scale.copy()  # the first stage's weights (nuisance ranges are in these units)
        flat = [c for c, s in zip(self.channels, spread, strict=True) if s == 0]
        if flat and scale is None:
            raise InputError(f"channels {', '.join(flat)} are constant in the fitted logs; leave them out (--channels)")
        self._bias_of = self._bias_columns()
        self._latency = {i: [self.actuators.index(_entity(k)) for k in p.keys]
                         for i, p in enumerate(self.params) if p.attr == "latency"}
        self._gain = {i: [self.actuators.index(_entity(k)) for k in p.keys]
                      for i, p in enumerate(self.params) if p.attr == "gain_error"}
        sizes = [int(r.fit.sum()) * len(self.channels) for r in self.runs]
        ends = np.cumsum(sizes)
        self.blocks = [(int(e - n), int(e)) for e, n in zip(ends, sizes, strict=True)]  # residual rows per run
        self.n_residuals = int(ends[-1])
        self.nuisance = self._nuisance() if estimate_initial else []
        self.evaluations = 0  # rollouts run so far

    def weigh_by_noise(self, noise: np.ndarray) -> None:
        """Divide each channel's residuals by its noise level too (``noise``: residual standard deviation
        per channel in the current weighted units): weighted least squares from here on."""
        self.scale = self.spread * np.asarray(noise, dtype=float)

    def _bias_columns(self) -> dict[int, list[int]]:
        out = {}
        for i, p in enumerate(self.params):
            if p.route == "output":
                sensors = {_entity(k) for k in p.keys}
                out[i] = [c for c, meta in enumerate(self.channel_meta) if meta.sensor in sensors]
        return out

    def _state_channels(self, run: Run) -> dict[tuple[str, str], str]:
        """One measured channel per (joint, position|velocity): the initial state's sources (fitted
        channels first)."""
        out: dict[tuple[str, str], str] = {}
        for c in [*self.channels, *run.first]:
            meta = self.known.get(c)
            if meta is not None and meta.joint and meta.kind in ("position", "velocity") and c in run.first:
                out.setdefault((meta.joint, meta.kind), c)
        return out

    def _nuisance(self) -> list[Nuisance]:
        """Offsets for the joints the fitted channels observe (others would be free directions)."""
        scale = dict(zip(self.channels, self.scale, strict=True))
        seen = {m.joint for m in self.channel_meta if m.joint}
        return [Nuisance(j, c, float(scale.get(c, 1.0))) for j, r in enumerate(self.runs)
                for (joint, _), c in self._state_channels(r).items() if joint in seen]

    # ------------------------------------------------------------------ vectors
    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def x0(self) -> np.ndarray:
        return np.array([p.init for p in self.params] + [0.0] * len(self.nuisance))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = [p.low for p in self.params] + [-n.half_range for n in self.nuisance]
        hi = [p.high for p in self.params] + [n.half_range for n in self.nuisance]
        return np.array(lo), np.array(hi)

    def model_values(self, x: np.ndarray) -> ParamValues:
        return {k: (float(v), p.op) for p, v in zip(self.params, x, strict=False) if p.route == "model" for k in p.keys}

    def bias(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.channels))
        for i, cols in self._bias_of.items():
            out[cols] += x[i]
        return out

    def command_model(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(latency in physics steps, gain) per actuator."""
        latency, gain = np.zeros(len(self.actuators)), np.ones(len(self.actuators))
        for i, acts in self._latency.items():
            latency[acts] = np.clip(x[i], 0.0, MAX_LATENCY)
        for i, acts in self._gain.items():
            gain[acts] = x[i]
        return latency, gain

    def initial_state(self, run: Run, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The run's initial simulator state: measured (bias removed) plus the fitted offsets."""
        offsets = {n.channel: x[self.n_params + i] for i, n in enumerate(self.nuisance) if self.runs[n.run] is run}
        measured = {c: run.first[c] - self._bias_for(c, bias) + offsets.get(c, 0.0)
                    for c in self._state_channels(run).values()}
        return self.sim.initial_state(measured)

    def one_step(self, x: np.ndarray, run: Run) -> np.ndarray:
        """One-step-ahead predictions ``(N - 1, C)``: row ``i + 1`` simulated from the state *measured*
        at row ``i`` (bias removed) under the commands in between, all rows in one batch. What a
        model predicts over one sample period, the quantity the neural residual corrects."""
        x = np.asarray(x, dtype=float)
        bias = self.bias(x)
        latency, gain = self.command_model(x)
        applied = delay_commands(run.ctrl, latency, gain)  # what acts during each physics step
        start = np.floor(run.position[:-1] + 1e-9).astype(int)
        span = run.position[1:] - start  # steps from the start state to the predicted row
        n = int(np.ceil(span.max() - 1e-9))
        idx = np.minimum(start[:, None] + np.arange(n)[None, :], run.steps - 1)
        state_channels = self._state_channels(run).values()
        initial = np.stack([self.sim.initial_state({c: run.rows[c][i] - self._bias_for(c, bias) for c in state_channels})
                            for i in range(len(start))])
        mv = self.model_values(x)
        out = self.sim.rollout([mv] * len(start), initial, applied[idx], self.channels)
        self.evaluations += len(start)
        lo = np.floor(span + 1e-9).astype(int)
        frac = (span - lo)[:, None]
        rows = np.arange(len(start))
        return (1 - frac) * out[rows, lo] + frac * out[rows, np.minimum(lo + 1, n)] + bias

    # ------------------------------------------------------------------ simulation
    def simulate(self, X: np.ndarray, runs: Sequence[Run] | None = None) -> list[np.ndarray]:
        """For each run, the simulated channels ``(K, N, C)`` of the ``K`` rows of ``X``, at the
        measurement times, bias included. All ``K × runs`` rollouts go to the simulator at once."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        runs = self.runs if runs is None else list(runs)
        steps = max(r.steps for r in runs)
        values, initial, ctrl, biases = [], [], [], []
        for x in X:
            mv, bias = self.model_values(x), self.bias(x)
            latency, gain = self.command_model(x)
            for r in runs:
                values.append(mv)
                biases.append(bias)
                initial.append(self.initial_state(r, x, bias))
                padded = np.concatenate([r.ctrl, np.repeat(r.ctrl[-1:], steps - r.steps, axis=0)]) \
                    if r.steps < steps else r.ctrl
                ctrl.append(delay_commands(padded, latency, gain))
        out = self.sim.rollout(values, np.stack(initial), np.stack(ctrl), self.channels)
        self.evaluations += len(values)
        result = []
        for j, r in enumerate(runs):
            rows = out[j::len(runs)]  # (K, T + 1, C)
            lo = np.floor(r.position).astype(int)
            frac = (r.position - lo)[None, :, None]
            hi = np.minimum(lo + 1, rows.shape[1] - 1)
            sim = (1 - frac) * rows[:, lo] + frac * rows[:, hi]
            result.append(sim + np.stack(biases[j::len(runs)])[:, None, :])
        return result

    def _bias_for(self, name: str, bias: np.ndarray) -> float:
        return float(bias[self.channels.index(name)]) if name in self.channels else 0.0

    def _weighted(self, sims: Sequence[np.ndarray], runs: Sequence[Run]) -> np.ndarray:
        parts = [((s[:, r.fit] - r.measured[r.fit]) / self.scale).reshape(len(s), -1)
                 for s, r in zip(sims, runs, strict=True)]
        return np.concatenate(parts, axis=1)

    def residuals(self, X: np.ndarray) -> np.ndarray:
        """Weighted residuals of the fitted rows, ``(K, M)`` for ``K`` vectors."""
        return self._weighted(self.simulate(X), self.runs)

    def cost(self, X: np.ndarray) -> np.ndarray:
        """Half the sum of squared weighted residuals of each row of ``X`` (least-squares cost)."""
        r = self.residuals(X)
        return 0.5 * np.einsum("km,km->k", r, r)

    def jacobian(self, x: np.ndarray, r0: np.ndarray | None = None, rel_step: float = 1e-6) -> np.ndarray:
        """``(M, len(x))`` Jacobian of the weighted residuals: forward differences (backward with a
        negative ``rel_step``) for parameters that need a rollout (all perturbed vectors in one batch; an
        initial-state offset only re-runs its own log), exact columns for sensor biases."""
        x = np.asarray(x, dtype=float)
        if r0 is None:
            r0 = self.residuals(x[None])[0]
        J = np.zeros((r0.size, len(x)))
        stepped = [i for i, p in enumerate(self.params) if p.route != "output"]
        if stepped:
            X, h = self._perturbed(x, stepped, rel_step)
            J[:, stepped] = ((self.residuals(X) - r0) / h[:, None]).T
        for j, run in enumerate(self.runs):
            cols = [self.n_params + i for i, n in enumerate(self.nuisance) if n.run == j]
            if cols:
                X, h = self._perturbed(x, cols, rel_step)
                start, stop = self.blocks[j]
                R = self._weighted(self.simulate(X, [run]), [run])
                J[start:stop, cols] = ((R - r0[start:stop]) / h[:, None]).T
        for i, cols in self._bias_of.items():
            J[:, i] = self._bias_column(cols)
        return J

    def _perturbed(self, x: np.ndarray, columns: list[int], rel_step: float) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.bounds
        h = np.array([rel_step * max(abs(x[i]), 1.0, 1e-3 * (hi[i] - lo[i])) for i in columns])
        h = np.where((x[columns] + h > hi[columns]) | (x[columns] + h < lo[columns]), -h, h)  # inward at a bound
        X = np.repeat(x[None], len(columns), axis=0)
        X[np.arange(len(columns)), columns] += h
        return X, h

    def _bias_column(self, cols: list[int]) -> np.ndarray:
        parts = []
        for r in self.runs:
            block = np.zeros((int(r.fit.sum()), len(self.channels)))
            block[:, cols] = 1.0 / self.scale[cols]
            parts.append(block.ravel())
        return np.concatenate(parts)

    def channel_of_residual(self) -> np.ndarray:
        """The channel index of each residual (``(M,)``), for per-channel noise estimates."""
        return np.concatenate([np.tile(np.arange(len(self.channels)), int(r.fit.sum())) for r in self.runs])


def _entity(key: str) -> str:
    return key.split(":", 1)[1].rsplit("/", 1)[0]
