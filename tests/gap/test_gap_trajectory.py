"""Trajectory gap: full-timestamp alignment on jittered clocks, each metric against an independent reference."""

from __future__ import annotations

import numpy as np
import pytest
from gap_helpers import EPOCH_S, NS, jittered_stamps, signal
from scipy import stats
from sim2real.errors import InputError
from sim2real.gap import metrics as m
from sim2real.trajectory import measures
from sim2real.trajectory.align import align, match_nearest
from sim2real.trajectory.series import Trajectory, stamps_from_sec_nanosec, stamps_from_seconds


def _traj(stamp_ns: np.ndarray, values: np.ndarray, name: str) -> Trajectory:
    return Trajectory.clean(stamp_ns, values, ["j1", "j2"], ["rad", "rad"], name)


def test_sec_nanosec_join_is_exact_and_validated() -> None:
    ns = stamps_from_sec_nanosec(np.array([EPOCH_S, EPOCH_S + 1]), np.array([999_999_999, 1]))
    assert ns.tolist() == [EPOCH_S * NS + 999_999_999, (EPOCH_S + 1) * NS + 1]
    assert np.diff(ns)[0] == 2  # two nanoseconds apart across a second boundary
    with pytest.raises(InputError, match="nanosec"):
        stamps_from_sec_nanosec(np.array([1]), np.array([NS]))


def test_nearest_match_uses_seconds_and_nanoseconds() -> None:
    """The seeds compared ``stamp.nanosec`` alone: 99.5 s and 100.5 s looked identical."""
    sim = stamps_from_sec_nanosec(np.array([EPOCH_S + 99, EPOCH_S + 100]), np.array([500_000_000, 490_000_000]))
    real = stamps_from_sec_nanosec(np.array([EPOCH_S + 100]), np.array([500_000_000]))
    seeds_choice = int(np.argmin(np.abs((real % NS) - (sim % NS))))  # nanosec field only
    assert seeds_choice == 0  # the wrong one, a whole second away
    assert match_nearest(real, sim, tolerance_ns=20_000_000).tolist() == [1]
    assert match_nearest(real, sim, tolerance_ns=5_000_000).tolist() == [-1]  # 10 ms > tolerance


def test_alignment_with_jittered_clocks() -> None:
    rng = np.random.default_rng(7)
    sim_ns = jittered_stamps(rng, EPOCH_S + 10.0, 8.0, 200.0, 1e-3)
    real_ns = jittered_stamps(rng, EPOCH_S + 11.0, 8.0, 60.0, 4e-3)
    t = lambda ns: (ns - EPOCH_S * NS) / NS
    sim, real = _traj(sim_ns, signal(t(sim_ns)), "sim"), _traj(real_ns, signal(t(real_ns)), "real")
    a = align(sim, real)
    ov = a.overlap
    assert ov.start_ns == real_ns[0] and ov.end_ns == sim_ns[-1]  # overlap = [real start, sim end]
    assert ov.n_samples == np.count_nonzero(real_ns <= sim_ns[-1])
    assert ov.duration_s == pytest.approx(7.0, abs=0.01)
    assert ov.sim_coverage == pytest.approx(7 / 8, abs=0.01) and ov.real_coverage == pytest.approx(7 / 8, abs=0.01)
    np.testing.assert_array_equal(a.real, real.values[: ov.n_samples])  # measured data untouched
    assert np.max(np.abs(a.sim - a.real)) < 2e-3  # only linear-interpolation error of a 200 Hz signal
    # the same signal seen through seconds-as-float at epoch scale would be off by up to ~0.1 us; ours is exact
    assert (a.t_s[1:] > a.t_s[:-1]).all()


def test_clock_origins_and_uniform_grid() -> None:
    rng = np.random.default_rng(3)
    sim_ns = jittered_stamps(rng, 0.0, 5.0, 100.0, 1e-3)  # simulator clock starts at 0
    real_ns = jittered_stamps(rng, EPOCH_S, 5.0, 50.0, 2e-3)
    sim = _traj(sim_ns, signal(sim_ns / NS), "sim")
    real = _traj(real_ns, signal((real_ns - EPOCH_S * NS) / NS), "real")
    with pytest.raises(InputError, match="--offset start"):
        align(sim, real)
    gap = m.trajectory_gap(sim, real, offset="start", clock=100.0)
    assert gap.overlap["clock"] == "uniform@100 Hz"
    assert gap.overall["rmse"] < 0.01 and gap.assessment.startswith("Excellent")


def test_a_hole_in_the_recording_is_not_interpolated_across() -> None:
    t = np.arange(0, 10, 0.01)
    keep = (t < 4) | (t > 6)  # 2 s without sim data
    sim = _traj(stamps_from_seconds(t[keep]), signal(t[keep]), "sim")
    real = _traj(stamps_from_seconds(t), signal(t), "real")
    a = align(sim, real)
    before, after = t[keep][t[keep] < 5].max(), t[keep][t[keep] > 5].min()
    inside = (t > before) & (t < after)
    assert a.overlap.dropped_in_gaps == np.count_nonzero(inside) > 150
    assert not np.any((a.t_s > before + 1e-9) & (a.t_s < after - 1e-9))


def test_pointwise_metrics_against_references() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 3))
    sim = 0.8 * real + rng.normal(0, 0.3, size=(400, 3)) + np.array([0.0, 0.1, -0.2])
    e = sim - real
    np.testing.assert_allclose(measures.rmse(sim, real), np.sqrt((e**2).mean(0)))
    np.testing.assert_allclose(measures.mae(sim, real), np.abs(e).mean(0))
    np.testing.assert_allclose(measures.max_error(sim, real), np.abs(e).max(0))
    np.testing.assert_allclose(measures.correlation(sim, real), [stats.pearsonr(sim[:, c], real[:, c])[0] for c in range(3)])
    np.testing.assert_allclose(measures.vaf_pct(sim, real), 100 * (1 - e.var(0) / real.var(0)))
    np.testing.assert_allclose(measures.nrmse(sim, real), measures.rmse(sim, real) / np.ptp(real, axis=0))
    for c in range(3):
        ref = stats.ks_2samp(sim[:, c], real[:, c], method="asymp")
        d = m.ks_statistic(sim[:, c], real[:, c])
        assert d == pytest.approx(ref.statistic, abs=1e-12)
        assert m.ks_pvalue(d, 400, 400) == pytest.approx(ref.pvalue, rel=1e-9)
    # unequal sizes and ties
    a, b = rng.integers(0, 5, 37).astype(float), rng.integers(1, 6, 53).astype(float)
    assert m.ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    # a constant real channel has no scale: correlation, VAF and NRMSE are undefined, not 0 or inf
    flat = np.ones((10, 1))
    assert np.isnan(measures.correlation(flat + 1, flat)).all() and np.isnan(measures.vaf_pct(flat, flat)).all()


@pytest.mark.parametrize("delay_s", [0.137, -0.06, 0.0])
def test_delay_estimate_recovers_a_known_shift(delay_s: float) -> None:
    dt = 0.005
    t = np.arange(0, 12, dt)
    sim = signal(t)
    real = signal(t - delay_s)  # real(t) = sim(t - d): the robot responds d later
    est, peak = m.estimate_delay(sim, real, dt, max_lag_s=1.0)
    assert est == pytest.approx(delay_s, abs=0.2 * dt)
    assert peak > 0.99


def _dtw_reference(a: np.ndarray, b: np.ndarray, w: int | None) -> float:
    """Textbook O(NM) dynamic programme (with the same Sakoe-Chiba band)."""
    n, k = len(a), len(b)
    D = np.full((n + 1, k + 1), np.inf)
    D[0, 0] = 0
    for i in range(1, n + 1):
        centre = (i - 1) * (k - 1) / max(n - 1, 1)
        for j in range(1, k + 1):
            if w is not None and abs((j - 1) - centre) > max(w, abs(n - k)):
                continue
            D[i, j] = abs(a[i - 1] - b[j - 1]) + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return float(D[n, k])


@pytest.mark.parametrize("window", [None, 3])
def test_dtw_against_the_textbook_recursion(window: int | None) -> None:
    rng = np.random.default_rng(11)
    for n, k in ((12, 12), (15, 11), (9, 14)):
        a, b = rng.normal(size=n), rng.normal(size=k)
        cost, steps = m.dtw(a, b, window)
        assert cost == pytest.approx(_dtw_reference(a, b, window), rel=1e-12)
        assert max(n, k) <= steps <= n + k - 1


def test_dtw_forgives_timing_that_pointwise_errors_punish() -> None:
    t = np.linspace(0, 6, 300)
    a, b = np.sin(t), np.sin(t - 0.4)
    per_step = m.dtw_per_step(a, b, band=0.2)[0]
    assert per_step < 0.2 * measures.mae(a, b)[0]


def test_gap_score_and_severity_follow_the_seeds() -> None:
    assert m.assess_gap_severity(0.0999)[0] == "Excellent - Minimal reality gap"
    assert m.assess_gap_severity(0.1)[0] == "Good - Manageable reality gap"
    assert m.assess_gap_severity(0.3)[0] == "Fair - Significant reality gap to address"
    assert m.assess_gap_severity(0.6)[0] == "Poor - Major reality gap requiring substantial effort"
    rng = np.random.default_rng(1)
    real = rng.normal(size=(200, 2))
    sim = real + rng.normal(0, 0.05, size=(200, 2))
    e = (sim - real).ravel()
    seeds = (np.sqrt(np.mean(e**2)) + np.mean(np.abs(e)) + np.max(np.abs(e))) / 3
    assert m.gap_score(sim, real, "none") == pytest.approx(seeds)
    # the raw formula depends on the unit; the default (range-normalised) one does not
    assert m.gap_score(100 * sim, 100 * real, "none") == pytest.approx(100 * seeds)
    assert m.gap_score(100 * sim, 100 * real) == pytest.approx(m.gap_score(sim, real))


def test_trajectory_gap_with_a_delayed_robot() -> None:
    rng = np.random.default_rng(5)
    sim_ns = jittered_stamps(rng, EPOCH_S, 10.0, 100.0, 5e-4)
    real_ns = jittered_stamps(rng, EPOCH_S, 10.0, 50.0, 5e-4)
    t = lambda ns: (ns - EPOCH_S * NS) / NS
    sim = _traj(sim_ns, signal(t(sim_ns)), "sim")
    real = _traj(real_ns, signal(t(real_ns) - 0.08) + rng.normal(0, 0.005, (len(real_ns), 2)), "real")
    raw = m.trajectory_gap(sim, real)
    fixed = m.trajectory_gap(sim, real, compensate_delay=True)
    assert raw.delay_s == pytest.approx(0.08, abs=0.01)
    assert fixed.overall["rmse"] < 0.3 * raw.overall["rmse"]
    assert fixed.overlap["offset_s"] == pytest.approx(raw.delay_s)
    d = raw.to_dict()
    assert set(d["per_channel"]["j1"]) >= {"rmse", "mae", "max_error", "correlation", "ks", "vaf_pct", "nrmse", "dtw", "delay_s"}
    assert d["severity_thresholds"] == [0.1, 0.3, 0.6]
