"""The seeds' simple case, kept: a mass-spring-damper ``m x'' + c x' + k x = gear * u``.

The seeds identify "mass, friction, damping" of this toy with BFGS, where their "friction" multiplies
the velocity (it is the damping ``c``) and their "damping" the position (it is the stiffness ``k``);
here the names are the physical ones. Two uses:

* the simple case: ``sim2real sysid fit --model msd`` identifies ``body:mass/mass``,
  ``joint:x/damping``, ``joint:x/stiffness`` (and the command delay, a sensor bias...) from a log of
  the force command and ``x.position`` / ``x.velocity``, with the same engine as MuJoCo models;
* a test oracle: ``MassSpringDamper`` simulates the exact zero-order-hold solution (matrix exponential,
  no integration error; ``method="euler"`` is the seeds' semi-implicit Euler), and
  ``closed_form_estimate`` solves ``[a v x] [m c k]ᵀ = gear u`` by linear least squares, so MuJoCo
  rollouts and the nonlinear identification can both be checked against an answer known in closed form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..randomize.targets import split_key
from ..sim.rollout import Channel, ParamValues

DEFAULTS = {"body:mass/mass": 1.0, "joint:x/damping": 0.5, "joint:x/stiffness": 4.0, "actuator:force/gear": 1.0}


class MassSpringDamper:
    """A ``Simulator`` of the mass-spring-damper (SI units: kg, N·s/m, N/m; command in N / gear)."""

    name = "msd"

    def __init__(self, dt: float = 0.001, method: str = "exact") -> None:
        if method not in ("exact", "euler"):
            raise ValueError(f"method: expected 'exact' or 'euler' (got {method!r})")
        self._dt, self.method = float(dt), method

    @property
    def dt(self) -> float:
        return self._dt

    def entities(self) -> dict[str, list[str]]:
        return {"body": ["mass"], "joint": ["x"], "actuator": ["force"], "sensor": []}

    def actuators(self) -> list[str]:
        return ["force"]

    def command_units(self) -> list[str]:
        return ["N"]

    def command_ranges(self) -> list[tuple[float, float] | None]:
        return [None]

    def joint_ranges(self) -> dict[str, tuple[float, float]]:
        return {}

    def actuator_joints(self) -> list[str]:
        return ["x"]

    def channels(self) -> list[Channel]:
        return [Channel("x.position", "m", "position", "x"), Channel("x.velocity", "m/s", "velocity", "x")]

    def supports(self, kind: str, attribute: str) -> bool:
        return f"{kind}:{_ENTITY[kind]}/{attribute}" in DEFAULTS if kind in _ENTITY else False

    def default(self, key: str) -> float:
        if key not in DEFAULTS:
            raise InputError(f"{key}: not a parameter of the mass-spring-damper ({', '.join(DEFAULTS)})")
        return DEFAULTS[key]

    def initial_state(self, measured: Mapping[str, float]) -> np.ndarray:
        return np.array([measured.get("x.position", 0.0), measured.get("x.velocity", 0.0)])

    def values(self, params: ParamValues) -> tuple[float, float, float, float]:
        """(m, c, k, gear) for a parameter set (ops relative to ``DEFAULTS``)."""
        out = dict(DEFAULTS)
        for key, (value, op) in params.items():
            split_key(key)
            base = self.default(key)
            out[key] = base * value if op == "scale" else base + value if op == "add" else value
        m = out["body:mass/mass"]
        if m <= 0:
            raise InputError(f"mass: expected a positive mass (got {m:g} kg)")
        return m, out["joint:x/damping"], out["joint:x/stiffness"], out["actuator:force/gear"]

    def rollout(self, values: Sequence[ParamValues], initial: np.ndarray, ctrl: np.ndarray,
                channels: Sequence[str]) -> np.ndarray:
        mckg = np.array([self.values(p) for p in values])
        force = mckg[:, 3:4] * ctrl[:, :, 0]
        states = simulate_batch(mckg[:, 0], mckg[:, 1], mckg[:, 2], force, self._dt, initial, self.method)
        index = {"x.position": 0, "x.velocity": 1}
        return states[:, :, [index[ch] for ch in channels]]

    def close(self) -> None:
        pass


_ENTITY = {"body": "mass", "joint": "x", "actuator": "force"}


def discretise(m: float, c: float, k: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact zero-order-hold discretisation ``s[n+1] = Ad s[n] + Bd f[n]`` of ``s = (x, v)``."""
    from scipy.linalg import expm

    aug = np.zeros((3, 3))
    aug[0, 1] = 1.0
    aug[1, 0], aug[1, 1], aug[1, 2] = -k / m, -c / m, 1.0 / m
    e = expm(aug * dt)
    return e[:2, :2], e[:2, 2]


def simulate(m: float, c: float, k: float, force: np.ndarray, dt: float, s0: np.ndarray,
             method: str = "exact") -> np.ndarray:
    """States ``(T + 1, 2)`` at ``0, dt, ..., T dt`` for forces held over each step."""
    return simulate_batch(np.array([m]), np.array([c]), np.array([k]), np.asarray(force, dtype=float)[None], dt,
                          np.asarray(s0, dtype=float)[None], method)[0]


def simulate_batch(m: np.ndarray, c: np.ndarray, k: np.ndarray, force: np.ndarray, dt: float, s0: np.ndarray,
                   method: str = "exact") -> np.ndarray:
    """``B`` systems at once: forces ``(B, T)``, initial states ``(B, 2)`` → states ``(B, T + 1, 2)``."""
    b, t = force.shape
    out = np.empty((b, t + 1, 2))
    s = np.array(s0, dtype=float)
    out[:, 0] = s
    if method == "euler":  # the seeds' update: velocity first, then position with the new velocity
        for n in range(t):
            s[:, 1] += (force[:, n] - c * s[:, 1] - k * s[:, 0]) / m * dt
            s[:, 0] += s[:, 1] * dt
            out[:, n + 1] = s
        return out
    pairs = [discretise(float(mi), float(ci), float(ki), dt) for mi, ci, ki in zip(m, c, k, strict=True)]
    ad = np.stack([p[0] for p in pairs])  # (B, 2, 2)
    bd = np.stack([p[1] for p in pairs])  # (B, 2)
    drive = bd[:, None, :] * force[:, :, None]  # (B, T, 2)
    for n in range(t):
        s = np.einsum("bij,bj->bi", ad, s) + drive[:, n]
        out[:, n + 1] = s
    return out


def closed_form_estimate(x: np.ndarray, force: np.ndarray, dt: float) -> tuple[float, float, float]:
    """(m, c, k) by linear least squares on ``m a + c v + k x = f`` with central differences of a
    uniformly sampled position ``x`` and the force ``f`` acting at those samples (exact up to the
    O(dt²) error of the differences)."""
    x = np.asarray(x, dtype=float)
    v = (x[2:] - x[:-2]) / (2 * dt)
    a = (x[2:] - 2 * x[1:-1] + x[:-2]) / dt**2
    A = np.stack([a, v, x[1:-1]], axis=1)
    sol, *_ = np.linalg.lstsq(A, np.asarray(force, dtype=float)[1:-1], rcond=None)
    return float(sol[0]), float(sol[1]), float(sol[2])
