"""Error measures between two aligned series, per channel: RMSE, MAE, max error, correlation, VAF,
NRMSE. Arrays are ``(N,)`` or ``(N, C)`` at the same instants (``trajectory.align``); results are per
channel, in the channel's unit unless named otherwise. System identification validates with them
(``sysid.validate``); the gap report builds on them (``gap.metrics``).
"""

from __future__ import annotations

import numpy as np


def as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x


def rmse(sim: np.ndarray, real: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean((as_2d(sim) - as_2d(real)) ** 2, axis=0))


def mae(sim: np.ndarray, real: np.ndarray) -> np.ndarray:
    return np.mean(np.abs(as_2d(sim) - as_2d(real)), axis=0)


def max_error(sim: np.ndarray, real: np.ndarray) -> np.ndarray:
    return np.max(np.abs(as_2d(sim) - as_2d(real)), axis=0)


def correlation(sim: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Pearson correlation per channel; NaN where a side is constant."""
    s, r = as_2d(sim), as_2d(real)
    s, r = s - s.mean(0), r - r.mean(0)
    den = np.sqrt((s**2).sum(0) * (r**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (s * r).sum(0) / np.where(den > 0, den, 1), np.nan)


def vaf_pct(sim: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Variance accounted for, in percent: 100 (1 - var(real - sim) / var(real)); NaN if real is constant."""
    s, r = as_2d(sim), as_2d(real)
    var_r = r.var(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var_r > 0, 100.0 * (1.0 - (r - s).var(0) / np.where(var_r > 0, var_r, 1)), np.nan)


def value_range(real: np.ndarray) -> np.ndarray:
    r = as_2d(real)
    return r.max(0) - r.min(0)


def nrmse(sim: np.ndarray, real: np.ndarray) -> np.ndarray:
    """RMSE divided by the real channel's range (peak to peak); NaN if real is constant."""
    rng = value_range(real)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rng > 0, rmse(sim, real) / np.where(rng > 0, rng, 1), np.nan)
