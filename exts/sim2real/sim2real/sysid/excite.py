"""Excitation signals for identification experiments, written as command files for a real robot.

Three signals, one per actuator, deterministic for a seed:

* ``multisine``: a sum of sines on log-spaced frequencies of ``band_hz`` (the seeds' multisine, without
  their added white noise), with Schroeder phases for a low crest factor (more energy for the same
  peak). The frequencies are dealt out to the actuators in turn, so no two actuators share one and
  their responses can be told apart;
* ``chirp``: a logarithmic frequency sweep across ``band_hz``, each actuator's sweep shifted in time
  by a share of the duration (they are at different frequencies at any instant); with a velocity
  limit, the amplitude falls as ``max_velocity / (2 π f)`` where the full amplitude would be too fast;
* ``prbs``: a pseudo-random binary sequence (maximum-length, from ``scipy.signal.max_len_seq``) between
  ``center ± amplitude``, held for ``hold_s`` per bit, each actuator starting at another state.

Every signal is limited: ``center ± amplitude`` (and the actuator's range), at most ``max_velocity``
in command units per second (smooth signals are scaled down to meet it, a PRBS is slew-rate limited),
starts after ``settle_s`` at the centre, fades in and out over ``fade_s`` (the robot starts and ends at
rest at the centre command). ``Excitation.notes`` says what a limit changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..trajectory.series import NS_PER_S
from .logs import RobotLog, make_log

SIGNALS = ("multisine", "chirp", "prbs")


@dataclass
class ExcitationSpec:
    signal: str = "multisine"
    duration_s: float = 20.0
    rate_hz: float = 100.0
    amplitude: Sequence[float] = (0.5,)  # per actuator (one value: all), command units
    center: Sequence[float] = (0.0,)
    band_hz: tuple[float, float] = (0.1, 3.0)
    max_velocity: Sequence[float] | None = None  # command units per second, per actuator
    components: int = 12  # multisine frequencies per actuator
    hold_s: float | None = None  # PRBS bit length (default: 1 / (2 * top of the band))
    settle_s: float = 0.5
    fade_s: float = 1.0
    seed: int = 0


@dataclass
class Excitation:
    t_s: np.ndarray
    commands: np.ndarray  # (N, A)
    notes: list[str] = field(default_factory=list)

    def to_log(self, actuators: Sequence[str], units: Sequence[str]) -> RobotLog:
        stamps = np.round(self.t_s * NS_PER_S).astype(np.int64)
        return make_log(stamps, self.commands, actuators, units, source="excitation")


def _per_actuator(values: Sequence[float] | None, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n or not np.all(np.isfinite(arr)):
        raise UserError(f"--{name}: expected one value or one per actuator ({n}) (got {list(values)})")
    return arr


def excitation(spec: ExcitationSpec, n_actuators: int, ranges: Sequence[tuple[float, float] | None] | None = None) -> Excitation:
    """Commands at ``rate_hz`` for ``n_actuators`` (``ranges``: each actuator's command range, if any)."""
    if spec.signal not in SIGNALS:
        raise UserError(f"--signal: expected one of {', '.join(SIGNALS)} (got {spec.signal!r})")
    if not (spec.duration_s > 0 and spec.rate_hz > 0):
        raise UserError("--duration and --rate: expected positive numbers")
    f0, f1 = spec.band_hz
    if not 0 < f0 < f1 or f1 >= spec.rate_hz / 2:
        raise UserError(f"--band: expected 0 < low < high < half the rate ({spec.rate_hz / 2:g} Hz) (got {f0:g}, {f1:g})")
    if spec.settle_s < 0 or spec.fade_s < 0 or 2 * spec.fade_s + spec.settle_s >= spec.duration_s:
        raise UserError("--settle/--fade: expected settle + 2 fade shorter than the duration")
    amp = _per_actuator(spec.amplitude, n_actuators, "amplitude")
    center = _per_actuator(spec.center, n_actuators, "center")
    vmax = _per_actuator(spec.max_velocity, n_actuators, "max-velocity")
    assert amp is not None and center is not None
    if (amp <= 0).any():
        raise UserError(f"--amplitude: expected positive values (got {amp.tolist()})")
    n = round(spec.duration_s * spec.rate_hz) + 1
    t = np.arange(n) / spec.rate_hz
    active = spec.duration_s - spec.settle_s
    tau = np.clip(t - spec.settle_s, 0.0, None)  # time since the excitation started
    rng = np.random.default_rng(spec.seed)
    notes: list[str] = []
    if spec.signal == "multisine":
        shape = _multisine(tau, active, n_actuators, f0, f1, spec.components, rng)
    elif spec.signal == "chirp":
        shape = _chirp(tau, active, n_actuators, f0, f1, amp, vmax)
    else:
        shape = _prbs(tau, n_actuators, spec.hold_s or 1.0 / (2 * f1), rng)
    shape *= _window(t, spec.settle_s, spec.fade_s, spec.duration_s)[:, None]
    u = center + amp * shape
    if vmax is not None:
        u = _limit_velocity(u, center, vmax, spec.rate_hz, smooth=spec.signal != "prbs", notes=notes)
    u = _clip(u, ranges, notes)
    return Excitation(t, u, notes)


def _multisine(tau: np.ndarray, period: float, n_act: int, f0: float, f1: float, k: int,
               rng: np.random.Generator) -> np.ndarray:
    total = k * n_act
    freqs = np.geomspace(f0, f1, total)
    freqs = np.maximum(np.round(freqs * period), 1) / period  # whole periods in the window: no leakage
    freqs = np.unique(freqs)
    out = np.zeros((len(tau), n_act))
    for j in range(n_act):
        mine = freqs[j::n_act]
        m = np.arange(1, len(mine) + 1)
        phase = -np.pi * m * (m - 1) / len(mine) + rng.uniform(0, 2 * np.pi)  # Schroeder
        s = np.sin(2 * np.pi * mine[None, :] * tau[:, None] + phase[None, :]).sum(axis=1)
        out[:, j] = s / np.max(np.abs(s))
    return out


def _chirp(tau: np.ndarray, period: float, n_act: int, f0: float, f1: float, amp: np.ndarray,
           vmax: np.ndarray | None) -> np.ndarray:
    from scipy.signal import chirp

    out = np.zeros((len(tau), n_act))
    for j in range(n_act):
        shifted = (tau + j * period / n_act) % period
        out[:, j] = chirp(shifted, f0, period, f1, method="logarithmic", phi=-90.0)  # starts at 0
        if vmax is not None:  # the velocity of a sine of amplitude a at f is 2 pi f a
            freq = f0 * (f1 / f0) ** (shifted / period)
            out[:, j] *= np.minimum(1.0, vmax[j] / (2 * np.pi * freq * amp[j]))
    return out


def _prbs(tau: np.ndarray, n_act: int, hold_s: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import max_len_seq

    bits_needed = int(np.ceil(tau[-1] / hold_s)) + 1
    nbits = max(4, int(np.ceil(np.log2(bits_needed + 1))))
    out = np.zeros((len(tau), n_act))
    for j in range(n_act):
        state = rng.integers(0, 2, nbits)
        state[rng.integers(0, nbits)] = 1  # never the all-zero state
        seq, _ = max_len_seq(nbits, state=state, length=bits_needed)
        out[:, j] = 2.0 * seq[np.minimum((tau / hold_s).astype(int), bits_needed - 1)] - 1.0
    return out


def _window(t: np.ndarray, settle: float, fade: float, end: float) -> np.ndarray:
    """0 while settling, half-cosine ramps of ``fade`` seconds in and out, 1 in between."""
    w = np.ones_like(t)
    w[t < settle] = 0.0
    if fade > 0:
        up = (t >= settle) & (t < settle + fade)
        w[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - settle) / fade)
        down = t > end - fade
        w[down] = np.minimum(w[down], 0.5 - 0.5 * np.cos(np.pi * np.clip(end - t[down], 0, None) / fade))
    return w


def _limit_velocity(u: np.ndarray, center: np.ndarray, vmax: np.ndarray, rate: float, smooth: bool,
                    notes: list[str]) -> np.ndarray:
    if (vmax <= 0).any():
        raise UserError(f"--max-velocity: expected positive values (got {vmax.tolist()})")
    speed = np.abs(np.diff(u, axis=0)).max(axis=0) * rate
    out = u.copy()
    for j in np.flatnonzero(speed > vmax):
        if smooth:
            factor = vmax[j] / speed[j]
            out[:, j] = center[j] + (u[:, j] - center[j]) * factor
            notes.append(f"actuator {j}: amplitude scaled by {factor:.3g} to keep |du/dt| <= {vmax[j]:g}/s")
        else:
            step = vmax[j] / rate
            for i in range(1, len(out)):  # slew-rate limiter: sequential by nature
                out[i, j] = out[i - 1, j] + min(max(u[i, j] - out[i - 1, j], -step), step)
            notes.append(f"actuator {j}: slew-rate limited to {vmax[j]:g}/s")
    return out


def _clip(u: np.ndarray, ranges: Sequence[tuple[float, float] | None] | None, notes: list[str]) -> np.ndarray:
    if not ranges:
        return u
    out = u.copy()
    for j, r in enumerate(ranges):
        if r is None or not all(math.isfinite(v) for v in r):
            continue
        clipped = int(((u[:, j] < r[0]) | (u[:, j] > r[1])).sum())
        if clipped:
            out[:, j] = np.clip(u[:, j], r[0], r[1])
            notes.append(f"actuator {j}: {clipped} samples clipped to its range [{r[0]:g}, {r[1]:g}]")
    return out
