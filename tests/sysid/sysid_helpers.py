"""Test data for the sysid tests: short excitations, surrogate arm2 logs, analytic mass-spring-damper logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sim2real.trajectory.series import NS_PER_S
from sim2real.sysid.analytic import simulate
from sim2real.sysid.excite import ExcitationSpec, excitation
from sim2real.sysid.logs import RobotLog, make_log, write_log

# hidden differences of a small arm2 surrogate: three parameters, one of them a command delay
ARM2_TRUTH = {"body:upper_arm/mass": 1.15, "actuator:elbow/kp": 0.9, "actuator:shoulder/latency": 4,
              "actuator:elbow/latency": 4}
ARM2_PARAMS = "body:upper_arm/mass,actuator:elbow/kp,actuator:*/latency"


def arm2_truth_terms() -> list[dict[str, Any]]:
    return [{"target": "body:upper_arm/mass", "dist": "constant", "value": 1.15, "op": "scale"},
            {"target": "actuator:elbow/kp", "dist": "constant", "value": 0.9, "op": "scale"},
            {"target": "actuator:*/latency", "dist": "constant", "value": 4, "op": "set"}]


def arm2_commands(seed: int, duration_s: float = 4.0, signal: str = "multisine") -> Any:
    spec = ExcitationSpec(signal, duration_s, 100.0, [0.5, 0.7], [0.0], (0.3, 3.0), [4.0, 6.0], settle_s=0.2,
                          fade_s=0.5, seed=seed)
    return excitation(spec, 2, [(-1.75, 1.75), (-2.35, 2.35)]).to_log(["shoulder", "elbow"], ["rad", "rad"])


MSD_TRUTH = (1.6, 0.9, 6.0)  # m [kg], c [N·s/m], k [N/m]


def msd_log(seed: int, duration_s: float = 8.0, rate_hz: float = 100.0, noise: float = 0.0, dt: float = 0.001,
            truth: tuple[float, float, float] = MSD_TRUTH, cubic: float = 0.0, start_s: float = 1_700_000_000.0,
            noise_rho: float = 0.0, noise_seed: int | None = None) -> RobotLog:
    """A mass-spring-damper log: multisine force, exact (or, with ``cubic``, an unmodelled cubic spring
    integrated finely) response sampled at ``rate_hz``, Gaussian noise of ``noise`` m and 10 × m/s
    (AR(1) with lag-1 correlation ``noise_rho``, same standard deviation; its own ``noise_seed``)."""
    ex = excitation(ExcitationSpec("multisine", duration_s, rate_hz, [2.0], [0.0], (0.1, 4.0), settle_s=0.2, fade_s=0.5,
                                   seed=seed), 1)
    per = round(1 / (rate_hz * dt))
    force = np.repeat(ex.commands[:, 0], per)[: per * (len(ex.t_s) - 1)]
    m, c, k = truth
    if cubic:
        states = np.zeros((len(force) + 1, 2))
        for n, f in enumerate(force):  # semi-implicit Euler with 10 sub-steps: accurate enough here
            x, v = states[n]
            for _ in range(10):
                v += (f - c * v - k * x - cubic * x**3) / m * dt / 10
                x += v * dt / 10
            states[n + 1] = x, v
    else:
        states = simulate(m, c, k, force, dt, np.zeros(2))
    sampled = states[::per]
    rng = np.random.default_rng(seed + 100 if noise_seed is None else [seed, noise_seed])
    white = rng.normal(0, 1, sampled.shape)
    if noise_rho:
        from scipy.signal import lfilter

        white = lfilter([np.sqrt(1 - noise_rho**2)], [1, -noise_rho], white, axis=0)
    sampled = sampled + white * np.array([noise, 10 * noise])
    stamps = round(start_s * NS_PER_S) + np.round(ex.t_s * NS_PER_S).astype(np.int64)
    return make_log(stamps, ex.commands, ["force"], ["N"], sampled, ["x.position", "x.velocity"], ["m", "m/s"],
                    source=f"msd seed {seed}")


def write_msd_logs(folder: Path, seeds: list[int], **kw: Any) -> list[Path]:
    return [write_log(msd_log(s, **kw), folder / f"msd_{s}.csv") for s in seeds]
