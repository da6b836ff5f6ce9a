"""Trajectory gap metrics, the time-delay estimate, DTW and the seeds' gap score.

All functions take aligned arrays (same instants on both sides, see ``align``), ``(N,)`` or
``(N, C)``; per-channel results are in the channel's unit unless named otherwise.

Gap score and severity (the seeds' ``comprehensive_gap_analysis``): the mean of RMSE, MAE and max
error, which the seeds apply to raw values, compared with the thresholds 0.1 / 0.3 / 0.6. Raw values
make the score depend on units (the same gap is 100x larger in centimetres than in metres), so by
default each channel's errors are first divided by the real channel's range (peak to peak), and the
score is the mean over channels; ``normalize="none"`` gives the seeds' raw formula. See docs/gap.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import InputError
from ..trajectory.align import Aligned, align, start_offset_s
from ..trajectory.measures import as_2d, correlation, mae, max_error, nrmse, rmse, vaf_pct, value_range
from ..trajectory.series import Trajectory

# (upper bound, wording, report status): the seeds' assess_gap_severity, thresholds and words verbatim.
SEVERITY: tuple[tuple[float, str, str], ...] = (
    (0.1, "Excellent - Minimal reality gap", "good"),
    (0.3, "Good - Manageable reality gap", "good"),
    (0.6, "Fair - Significant reality gap to address", "warn"),
    (math.inf, "Poor - Major reality gap requiring substantial effort", "bad"),
)
METRICS = ("rmse", "mae", "max_error", "correlation", "ks", "ks_pvalue", "vaf_pct", "nrmse", "dtw")


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a = np.sort(np.asarray(a, dtype=np.float64).ravel())
    b = np.sort(np.asarray(b, dtype=np.float64).ravel())
    if a.size == 0 or b.size == 0:
        raise InputError("KS statistic: expected two non-empty samples")
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_pvalue(d: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value of a KS statistic (the distribution scipy's 'asymp' method uses)."""
    from scipy.stats import distributions

    en = n * m / (n + m)
    return float(np.clip(distributions.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def estimate_delay(sim: np.ndarray, real: np.ndarray, dt_s: float, max_lag_s: float | None = None) -> tuple[float, float]:
    """Delay of real behind sim at the peak of their cross-correlation, and the peak's value.

    Signals must be on a uniform grid of step ``dt_s``. A positive delay ``d`` means
    ``real(t) ~ sim(t - d)`` (the robot responds later than the simulator). At each lag the Pearson
    correlation of the overlapping parts is taken (so long lags are not penalised for overlapping
    less), averaged over non-constant channels; the peak is refined to sub-sample precision with a
    parabola. The peak value is in [-1, 1].
    """
    s, r = as_2d(sim), as_2d(real)
    n = len(s)
    max_lag = n // 2 if max_lag_s is None else min(n // 2, round(max_lag_s / dt_s))
    use = (s.std(0) > 0) & (r.std(0) > 0)
    if not use.any() or n < 4:
        return float("nan"), float("nan")
    s, r = s[:, use] - s[:, use].mean(0), r[:, use] - r[:, use].mean(0)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    sxy_all = np.fft.irfft(np.fft.rfft(r, size, axis=0) * np.conj(np.fft.rfft(s, size, axis=0)), size, axis=0)
    lags = np.arange(-max_lag, max_lag + 1)
    cr, cs = _cumsums(r), _cumsums(s)
    cr2, cs2 = _cumsums(r**2), _cumsums(s**2)
    pos = lags >= 0
    k = np.abs(lags)
    # overlapping ranges: lag >= 0 pairs r[t + k] with s[t]; lag < 0 pairs r[t] with s[t + k]
    r_lo, r_hi = np.where(pos, k, 0), np.where(pos, n, n - k)
    s_lo, s_hi = np.where(pos, 0, k), np.where(pos, n - k, n)
    length = (n - k)[:, None].astype(np.float64)
    sx, sxx = cr[r_hi] - cr[r_lo], cr2[r_hi] - cr2[r_lo]
    sy, syy = cs[s_hi] - cs[s_lo], cs2[s_hi] - cs2[s_lo]
    sxy = sxy_all[lags % size]
    den = np.sqrt(np.clip(length * sxx - sx**2, 0, None) * np.clip(length * syy - sy**2, 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = np.where(den > 0, (length * sxy - sx * sy) / np.where(den > 0, den, 1), 0.0)
    values = pearson.mean(axis=1)
    i = int(np.argmax(values))
    shift = 0.0
    if 0 < i < len(values) - 1:
        y0, y1, y2 = values[i - 1], values[i], values[i + 1]
        den2 = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / den2 if den2 < 0 else 0.0
    return float((lags[i] + shift) * dt_s), float(values[i])


def _cumsums(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])


def dtw(a: np.ndarray, b: np.ndarray, window: int | None = None) -> tuple[float, int]:
    """Dynamic time warping of two 1-D series with cost |a_i - b_j|: (total cost, warping-path length).

    ``window`` is a Sakoe-Chiba band half-width in samples around the diagonal (None = unconstrained;
    never narrower than the length difference). Each row is solved
    at once with the identity D[i, j] = C[j] + min_{k<=j}(M[k] - C[k-1]), where C is the running sum
    of the row's costs and M[k] = min(D[i-1, k-1], D[i-1, k]).
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        raise InputError("DTW: expected two non-empty series")
    w = max(window if window is not None else max(n, m), abs(n - m))
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        centre = (i - 1) * (m - 1) / max(n - 1, 1)
        lo, hi = max(1, int(np.ceil(centre - w)) + 1), min(m, int(np.floor(centre + w)) + 1)  # |j - centre| <= w
        cost = np.abs(a[i - 1] - b[lo - 1 : hi])
        prev = np.minimum(D[i - 1, lo - 1 : hi], D[i - 1, lo : hi + 1])
        csum = np.cumsum(cost)
        before = np.concatenate([[0.0], csum[:-1]])
        D[i, lo : hi + 1] = csum + np.minimum.accumulate(prev - before)
    if not np.isfinite(D[n, m]):
        raise InputError("DTW: the band is too narrow to connect the two series; widen the window")
    return float(D[n, m]), _path_length(D)


def _path_length(D: np.ndarray) -> int:
    i, j = D.shape[0] - 1, D.shape[1] - 1
    steps = 1
    while (i, j) != (1, 1):
        options = ((D[i - 1, j - 1], i - 1, j - 1), (D[i - 1, j], i - 1, j), (D[i, j - 1], i, j - 1))
        _, i, j = min((v, ii, jj) for v, ii, jj in options if ii >= 1 and jj >= 1)
        steps += 1
    return steps


def gap_score(sim: np.ndarray, real: np.ndarray, normalize: Literal["range", "none"] = "range") -> float:
    """The seeds' gap score (RMSE + MAE + max error) / 3, per channel on range-normalised errors, averaged.

    ``normalize="none"``: the seeds' formula on the raw values of all channels pooled.
    """
    s, r = as_2d(sim), as_2d(real)
    if normalize == "none":
        e = (s - r).ravel()
        return float((np.sqrt(np.mean(e**2)) + np.mean(np.abs(e)) + np.max(np.abs(e))) / 3)
    if normalize != "range":
        raise InputError(f"gap score normalize: expected 'range' or 'none' (got {normalize!r})")
    rng = value_range(r)
    ok = rng > 0
    if not ok.any():
        return float("nan")
    per = (rmse(s, r) + mae(s, r) + max_error(s, r))[ok] / rng[ok] / 3
    return float(np.mean(per))


def assess_gap_severity(score: float) -> tuple[str, str]:
    """The seeds' wording for a gap score, and a status (good / warn / bad / info for NaN)."""
    if not math.isfinite(score):
        return "Unknown - the real signal is constant, no scale to judge against", "info"
    for bound, words, status in SEVERITY:
        if score < bound:
            return words, status
    raise AssertionError("unreachable")


@dataclass
class TrajectoryGap:
    """Everything ``trajectory_gap`` measured, plus the aligned series for plots."""

    channels: list[str]
    units: list[str]
    per_channel: dict[str, dict[str, float]]
    overall: dict[str, float]
    gap_score: float
    normalize: str
    assessment: str
    status: str
    delay_s: float
    delay_peak: float
    delay_compensated: bool
    overlap: dict[str, Any]
    aligned: Aligned = field(repr=False)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channels": self.channels, "units": self.units, "per_channel": self.per_channel,
            "overall": self.overall, "gap_score": self.gap_score, "gap_score_normalize": self.normalize,
            "assessment": self.assessment, "status": self.status,
            "severity_thresholds": [b for b, _, _ in SEVERITY[:-1]],
            "delay": {"seconds": self.delay_s, "peak_correlation": self.delay_peak,
                      "compensated": self.delay_compensated, "sign": "positive = real lags sim"},
            "overlap": self.overlap, "dropped_rows": self.dropped,
        }


def channel_metrics(sim: np.ndarray, real: np.ndarray) -> dict[str, np.ndarray]:
    """The pointwise per-channel metrics of two aligned ``(N, C)`` arrays."""
    s, r = as_2d(sim), as_2d(real)
    ks = [ks_statistic(s[:, c], r[:, c]) for c in range(s.shape[1])]
    return {
        "rmse": rmse(s, r), "mae": mae(s, r), "max_error": max_error(s, r), "correlation": correlation(s, r),
        "ks": np.array(ks), "ks_pvalue": np.array([ks_pvalue(k, len(s), len(r)) for k in ks]),
        "vaf_pct": vaf_pct(s, r), "nrmse": nrmse(s, r),
    }


def dtw_per_step(sim: np.ndarray, real: np.ndarray, band: float = 0.1) -> np.ndarray:
    """Per channel, the DTW cost divided by the warping-path length: the typical deviation once
    timing differences are forgiven (channel unit). ``band`` is the Sakoe-Chiba half-width / length."""
    s, r = as_2d(sim), as_2d(real)
    window = max(1, int(band * len(s)))
    return np.array([cost / steps for cost, steps in (dtw(s[:, c], r[:, c], window) for c in range(s.shape[1]))])


def trajectory_gap(
    sim: Trajectory, real: Trajectory, channels: list[str] | None = None, clock: str | float = "real",
    offset: float | Literal["start"] = 0.0, compensate_delay: bool = False, max_lag_s: float | None = None,
    dtw_samples: int = 600, dtw_band: float = 0.1, normalize: Literal["range", "none"] = "range",
) -> TrajectoryGap:
    """Align sim and real, then measure every metric per channel and overall.

    The delay is estimated on a uniform grid at the real median rate. With ``compensate_delay`` the
    sim is shifted by it before the metrics (they then measure shape, not timing). DTW runs on at
    most ``dtw_samples`` uniformly resampled points with a band of ``dtw_band`` x length.
    """
    offset_s = start_offset_s(sim, real) if offset == "start" else float(offset)
    uniform = align(sim, real, channels, clock=real.rate_hz, offset_s=offset_s)
    dt = 1.0 / real.rate_hz
    max_lag = max_lag_s if max_lag_s is not None else 0.25 * uniform.overlap.duration_s
    delay_s, peak = estimate_delay(uniform.sim, uniform.real, dt, max_lag)
    if compensate_delay and math.isfinite(delay_s):
        offset_s += delay_s
    aligned = align(sim, real, channels, clock=clock, offset_s=offset_s)
    s, r = aligned.sim, aligned.real

    step = max(1, int(np.ceil(len(uniform.t_s) / dtw_samples)))
    per = channel_metrics(s, r)
    per["dtw"] = dtw_per_step(uniform.sim[::step], uniform.real[::step], dtw_band)
    per["delay_s"] = np.array([estimate_delay(uniform.sim[:, c], uniform.real[:, c], dt, max_lag)[0]
                               for c in range(s.shape[1])])

    rng = value_range(r)
    flat_s, flat_r = s.ravel(), r.ravel()
    ks_all = ks_statistic(flat_s, flat_r)
    with np.errstate(invalid="ignore", divide="ignore"):
        dtw_norm = np.where(rng > 0, per["dtw"] / np.where(rng > 0, rng, 1), np.nan)
    overall = {
        # pooled over all channels as the seeds do: meaningful when channels share one unit
        "rmse": float(rmse(flat_s, flat_r)[0]), "mae": float(mae(flat_s, flat_r)[0]),
        "max_error": float(max_error(flat_s, flat_r)[0]),
        "correlation": float(correlation(flat_s, flat_r)[0]), "ks": ks_all,
        "ks_pvalue": ks_pvalue(ks_all, flat_s.size, flat_r.size),
        # unitless, averaged over channels
        "vaf_pct": _nanmean(per["vaf_pct"]), "nrmse": _nanmean(per["nrmse"]), "dtw_normalised": _nanmean(dtw_norm),
        "delay_s": delay_s,
    }
    score = gap_score(s, r, normalize)
    words, status = assess_gap_severity(score)
    per_channel = {name: {k: float(v[c]) for k, v in per.items()} for c, name in enumerate(aligned.channels)}
    return TrajectoryGap(
        channels=aligned.channels, units=aligned.units, per_channel=per_channel, overall=overall,
        gap_score=score, normalize=normalize, assessment=words, status=status, delay_s=delay_s,
        delay_peak=peak, delay_compensated=compensate_delay, overlap=aligned.overlap.to_dict(), aligned=aligned,
        dropped={"sim": dict(sim.dropped), "real": dict(real.dropped)},
    )


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else float("nan")
