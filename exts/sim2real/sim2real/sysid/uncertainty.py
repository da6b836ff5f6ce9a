"""Confidence intervals of identified parameters.

``jacobian_intervals`` (default): the linearised covariance at the optimum, as
``mujoco.sysid.calculate_intervals`` computes it (``Σ = s² (JᵀJ)⁻¹``, Student-t quantile, directions
the data do not constrain give infinite intervals), with two corrections its TODO names or ignores:

* noise per channel: each channel's residual variance is estimated on its own (a position sensor and
  a velocity sensor are not equally noisy), and the Jacobian's rows are weighted by it;
* correlated residuals: model error and filtered sensors make consecutive residuals alike, so there is
  less information than rows. Each channel's rows are discounted by the AR(1) factor
  ``(1 + ρ) / (1 - ρ)`` (ρ: lag-1 autocorrelation of its residuals), which widens the intervals
  honestly when the fit is limited by model error rather than by noise.

``population_intervals`` (CMA-ES): the projection of the joint confidence region
``SSR(x) - SSR* <= s² p F(p, n - p)`` onto each parameter, from the vectors CMA-ES evaluated:
simultaneous intervals, usable where the cost is not smooth enough for a Jacobian. They can only be as
wide as the population reached, so they are a lower bound when the search converged fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_RHO = 0.995
ZERO_EIGEN = 1e-12  # eigenvalues below this fraction of the largest are treated as zero


@dataclass
class Uncertainty:
    method: str  # "jacobian" or "population"
    level: float  # confidence level, e.g. 0.95
    half_width: np.ndarray  # (P,) in parameter units; inf: the data do not constrain it
    std: np.ndarray  # (P,)
    covariance: np.ndarray  # (P, P)
    noise_std: np.ndarray  # (C,) residual standard deviation per channel, channel units
    inflation: np.ndarray  # (C,) autocorrelation discount per channel (1 = white residuals)
    dof: float

    def head(self, n: int) -> Uncertainty:
        """The first ``n`` parameters (the marginal of a Gaussian is its sub-covariance)."""
        return Uncertainty(self.method, self.level, self.half_width[:n], self.std[:n], self.covariance[:n, :n],
                           self.noise_std, self.inflation, self.dof)

    @property
    def correlation(self) -> np.ndarray:
        d = np.sqrt(np.where(np.isfinite(np.diag(self.covariance)), np.diag(self.covariance), np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(d, d)


def _t_quantile(dof: float, level: float) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(max(dof, 1.0), 0.5 + level / 2))


def channel_noise(r: np.ndarray, channel: np.ndarray, n_channels: int, n_params: int) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: residual variance (weighted units; dof-corrected) and AR(1) inflation factor."""
    var, kappa = np.ones(n_channels), np.ones(n_channels)
    correction = r.size / max(r.size - n_params, 1)
    for c in range(n_channels):
        rc = r[channel == c]
        var[c] = max(float(np.mean(rc**2)) * correction, 1e-300)
        if rc.size > 2 and rc.std() > 0:
            rho = float(np.corrcoef(rc[:-1], rc[1:])[0, 1])
            rho = min(max(rho, 0.0), MAX_RHO) if np.isfinite(rho) else 0.0
            kappa[c] = (1 + rho) / (1 - rho)
    return var, kappa


def jacobian_intervals(J: np.ndarray, r: np.ndarray, channel: np.ndarray, scale: np.ndarray,
                       level: float = 0.95) -> Uncertainty:
    """Intervals from the weighted Jacobian ``J`` (M, P) and residuals ``r`` (M,) at the optimum;
    ``channel`` (M,) says which channel each residual belongs to, ``scale`` (C,) the weights used."""
    n_channels, p = len(scale), J.shape[1]
    var, kappa = channel_noise(r, channel, n_channels, p)
    w = 1.0 / np.sqrt(var * kappa)[channel]
    Jw = J * w[:, None]
    H = Jw.T @ Jw
    cov = _inverse(H)
    counts = np.bincount(channel, minlength=n_channels)
    dof = float(np.sum(counts / kappa)) - p
    std = np.sqrt(np.diag(cov))
    return Uncertainty("jacobian", level, _t_quantile(dof, level) * std, std, cov,
                       np.sqrt(var) * scale, kappa, dof)


def _inverse(H: np.ndarray) -> np.ndarray:
    """``H⁻¹`` through its eigen-decomposition; a parameter touched by a (numerically) zero eigenvalue
    gets an infinite variance (it is not identifiable from these logs)."""
    lam, V = np.linalg.eigh(H)
    top = float(lam.max()) if lam.size else 0.0
    zero = lam <= ZERO_EIGEN * max(top, 1e-300)
    inv = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, lam))
    cov = (V * inv) @ V.T
    weak = np.abs(V[:, zero]).max(axis=1) > 1e-8 if zero.any() else np.zeros(len(lam), bool)
    cov[weak, weak] = np.inf
    return cov


def population_intervals(X: np.ndarray, costs: np.ndarray, x_best: np.ndarray, jacobian: Uncertainty,
                         n_residuals: int) -> Uncertainty | None:
    """Simultaneous intervals from CMA-ES's evaluated vectors (None when fewer than p + 1 of them fall
    inside the confidence region). ``jacobian`` supplies the noise levels and the discount."""
    from scipy.stats import f as f_dist

    p = X.shape[1]
    best = float(costs.min())
    s2 = 2 * best / max(n_residuals - p, 1) * float(np.mean(jacobian.inflation))
    threshold = 0.5 * s2 * p * float(f_dist.ppf(jacobian.level, p, max(jacobian.dof, 1.0)))
    inside = X[costs - best <= threshold]
    if len(inside) < p + 1:
        return None
    half = np.abs(inside - x_best).max(axis=0)
    cov = np.cov(inside, rowvar=False).reshape(p, p)
    return Uncertainty("population", jacobian.level, half, np.sqrt(np.diag(cov)), cov, jacobian.noise_std,
                       jacobian.inflation, jacobian.dof)
