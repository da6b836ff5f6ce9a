"""Excitation that keeps the robot off its joint limits: what ``sim2real sysid excite --model`` writes.

Why: a joint driven into its limit meets a stiff one-sided constraint. The response then depends
on when the impact happens to within a step, so the fit's cost is not smooth in the parameters and
the channel that hits is misfitted with strongly autocorrelated residuals; the intervals built on a
locally linear model under-cover (gymnasium's pusher with torque multisines: the wrist hit its
limits in 7 of 10 seeds and 95 % intervals covered 86 % of the truths, 97 % on the seeds that did
not hit). An identification experiment should excite the dynamics the model is meant to describe,
not the limit stops.

How: the excitation is rolled out on the nominal model from the robot's start pose. Where a limited
joint leaves its *safe band* (its range shrunk by ``margin`` × the range at both ends: room for the
real robot to move further than the nominal model), the deviation from the centre command of the
actuators that drive that joint (a joint transmission on it; every actuator when none has one) is
scaled down by what brings the joint back, and the rollout is repeated (the arm is coupled and not
linear). Scaling the deviation keeps the signal's shape, frequencies, velocity limit and command
range. ``Excitation.notes`` says what was scaled, and what could not be kept inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..sim.rollout import Simulator
from .excite import Excitation, ExcitationSpec, excitation

MARGIN = 0.1  # of each joint's range, at both ends: on the pusher bench no hidden robot touched a limit at 0.05
SHRINK = 0.97  # each correction aims a little inside the band: the next rollout is not exactly linear


@dataclass(frozen=True)
class Band:
    """A limited joint's safe band and where the robot starts on it."""

    joint: str
    low: float
    high: float
    start: float

    def factor(self, q: np.ndarray) -> float:
        """How much the motion about ``start`` must shrink to stay inside (>= 1: it already does)."""
        up, down = float(q.max()) - self.start, self.start - float(q.min())
        room_up, room_down = self.high - self.start, self.start - self.low
        return min(room_up / up if up > 0 else np.inf, room_down / down if down > 0 else np.inf)


def designed(spec: ExcitationSpec, sim: Simulator, start: Mapping[str, float] | None = None,
             margin: float | None = MARGIN) -> Excitation:
    """The excitation of ``spec`` for the actuators of ``sim``, within their command ranges and (unless
    ``margin`` is None) kept off the joint limits from ``start``."""
    ex = excitation(spec, len(sim.actuators()), sim.command_ranges())
    if margin is None:
        return ex
    return keep_off_limits(ex, spec.center, sim, start, margin)


def safe_bands(ranges: Mapping[str, tuple[float, float]], start: Sequence[float], margin: float) -> tuple[list[Band], list[str]]:
    """The safe band of every limited joint (``ranges``, starting at ``start``), and a note for each one
    the start pose leaves no room on."""
    if not 0 <= margin < 0.5:
        raise UserError(f"--limit-margin: expected a fraction of each joint's range in [0, 0.5) (got {margin:g})")
    bands, notes = [], []
    for (joint, (lo, hi)), q0 in zip(ranges.items(), start, strict=True):
        pad = margin * (hi - lo)
        if not lo + pad < q0 < hi - pad:
            notes.append(f"joint {joint}: starts at {q0:.4g}, less than {margin:g} × its range [{lo:g}, {hi:g}] from "
                         f"a limit; not kept off its limits (start elsewhere: --start)")
            continue
        bands.append(Band(joint, lo + pad, hi - pad, float(q0)))
    return bands, notes


def keep_off_limits(ex: Excitation, center: Sequence[float], sim: Simulator, start: Mapping[str, float] | None = None,
                    margin: float = MARGIN, iterations: int = 10) -> Excitation:
    """``ex`` with each actuator's deviation from ``center`` scaled so that the nominal model, started
    at ``start`` (joint positions by name; the rest: the model's initial state), keeps every limited
    joint inside its safe band (see the module docstring)."""
    ranges = sim.joint_ranges()
    if not ranges:
        return ex
    joints = list(ranges)
    initial = _initial(sim, start or {})
    c = np.broadcast_to(np.asarray(center, dtype=float), ex.commands.shape[1:])
    deviation = ex.commands - c
    q = _nominal_positions(sim, ex.t_s, ex.commands, joints, initial)
    bands, notes = safe_bands(ranges, q[0], margin)
    columns = [joints.index(b.joint) for b in bands]
    drives = _drivers(sim, [b.joint for b in bands])
    scale = np.ones(ex.commands.shape[1])
    for _ in range(iterations):
        factors = np.array([b.factor(q[:, i]) for b, i in zip(bands, columns, strict=True)])
        if np.all(factors >= 1.0):
            break
        step = np.ones_like(scale)  # an actuator driving several joints shrinks for the worst of them
        for i in np.flatnonzero(factors < 1.0):
            step[drives[i]] = np.minimum(step[drives[i]], factors[i] * SHRINK)
        scale *= step
        q = _nominal_positions(sim, ex.t_s, c + deviation * scale, joints, initial)
    else:
        factors = np.array([b.factor(q[:, i]) for b, i in zip(bands, columns, strict=True)])
        outside = [b.joint for b, f in zip(bands, factors, strict=True) if f < 1.0]
        if outside:
            notes.append(f"joints {', '.join(outside)}: still leave their safe band on the nominal model after "
                         f"{iterations} corrections (moved through the coupling more than by their own "
                         f"actuators: lower --amplitude)")
    actuators = sim.actuators()
    notes += [f"actuator {actuators[a]}: amplitude scaled by {scale[a]:.3g} to keep every joint {margin:g} × its "
              f"range off its limits (nominal model)" for a in np.flatnonzero(scale < 1.0)]
    return Excitation(ex.t_s, c + deviation * scale, [*ex.notes, *notes])


def _drivers(sim: Simulator, joints: list[str]) -> list[np.ndarray]:
    """For each joint, the actuators whose transmission is that joint (every actuator when none is)."""
    on = np.array(sim.actuator_joints())
    return [np.flatnonzero(on == j) if (on == j).any() else np.arange(len(on)) for j in joints]


def _initial(sim: Simulator, start: Mapping[str, float]) -> np.ndarray:
    names = {c.name for c in sim.channels()}
    unknown = [j for j in start if f"{j}.position" not in names]
    if unknown:
        raise UserError(f"--start: unknown joints {', '.join(unknown)} (expected joints of the model)")
    return sim.initial_state({f"{j}.position": float(v) for j, v in start.items()})


def _nominal_positions(sim: Simulator, t_s: np.ndarray, commands: np.ndarray, joints: list[str],
                       initial: np.ndarray) -> np.ndarray:
    """Joint positions of the nominal model replaying ``commands`` (stamped ``t_s``) from ``initial``,
    per physics step (zero-order hold, as the fit replays a log); row 0 is the start."""
    steps = max(1, int(np.ceil(t_s[-1] / sim.dt - 1e-9)))
    idx = np.clip(np.searchsorted(t_s, (np.arange(steps) + 0.5) * sim.dt, side="right") - 1, 0, None)
    return sim.rollout([{}], initial[None], commands[idx][None], [f"{j}.position" for j in joints])[0]
