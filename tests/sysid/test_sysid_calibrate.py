"""From estimates to randomization: whole-step latency ranges from the real uncertainty, tied parameters
as one term with one draw, and the held-out verdict that names the worst channel (issue #29)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim2real.randomize.runtime import Randomizer
from sim2real.report import Report
from sim2real.sysid.calibrate import calibrated_profile, estimates, whole_range
from sim2real.sysid.optimize import FitResult
from sim2real.sysid.params import ParamSpec, parse_params, resolve_params
from sim2real.sysid.report_sections import summary_section, validation_section
from sim2real.sysid.validate import Validation, summary
from sysid_fixtures import arm2_sim_fixture  # noqa: F401 (fixture by name)


@pytest.mark.parametrize(("value", "low", "high", "expected"), [
    (2.0, 2.0 - 4e-15, 2.0 + 4e-15, (2, 2, 2)),  # an exact delay: one value (was uniform 1..3)
    (2.3, 1.9, 2.7, (2, 2, 2)),  # narrower than a step around 2
    (2.0, 1.4, 2.6, (2, 2, 2)),  # a step wide, reaching no neighbour
    (2.1, 0.9, 2.6, (2, 1, 2)),  # reaches 1 only
    (2.0, 0.8, 3.2, (2, 1, 3)),
    (1.5, 1.49, 1.51, (2, 1, 2)),  # between two steps: both (the physics step cannot hold 1.5)
    (2.0, 1.0 - 1e-12, 2.5, (2, 1, 2)),  # an end on a step reaches it
])
def test_whole_steps_inside_the_range(value: float, low: float, high: float, expected: tuple) -> None:
    assert whole_range(value, low, high) == tuple(float(v) for v in expected)


def _profile(arm2_sim, params: str, x: list[float], half: list[float]):
    specs = parse_params(params)
    ps = resolve_params(specs, arm2_sim)
    items = estimates(ps, np.array(x), np.array(half), safety=2.0)
    return items, calibrated_profile(items, None, "arm2")


def test_tied_latency_is_one_term_with_one_draw(arm2_sim) -> None:
    items, profile = _profile(arm2_sim, "actuator:*/latency", [2.0], [0.6])  # ± 1.2 steps: 1..3
    assert [e.key for e in items] == ["actuator:*/latency"]
    terms = [t for t in profile.terms if "latency" in t.target]
    assert len(terms) == 1 and terms[0].shared and (terms[0].low, terms[0].high) == (1, 3)
    r = Randomizer(profile, seed=0, entities=arm2_sim.backend.entities(), dt=arm2_sim.dt, n_envs=8)
    drawn = np.stack([np.stack([r.reset(e).values[f"actuator:{a}/latency"] for a in ("shoulder", "elbow")])
                      for e in range(20)])
    assert np.array_equal(drawn[:, 0], drawn[:, 1])  # the same delay on both actuators, every env and episode
    assert set(np.unique(drawn)) == {1, 2, 3}
    _, exact = _profile(arm2_sim, "actuator:*/latency", [4.0], [2e-15])
    term = exact.term("calibrated actuator:*/latency")
    assert term.dist == "constant" and term.value == 4


def test_tied_factor_over_different_masses_is_one_shared_scale(arm2_sim) -> None:
    specs = [ParamSpec(target="body:*arm/mass", tied=True), ParamSpec(target="actuator:elbow/kp")]
    ps = resolve_params(specs, arm2_sim)  # arm, upper_arm, forearm (0.82, 0.65, 0.35 kg): one factor
    assert [p.tied for p in ps] == [True, False] and ps[0].target == "body:*arm/mass"
    items = estimates(ps, np.array([1.2, 0.9]), np.array([0.01, 0.01]), safety=2.0)
    tied = items[0]
    assert (tied.key, tied.op, tied.shared, tied.value) == ("body:*arm/mass", "scale", True, 1.2)
    assert items[1].op == "set" and items[1].value == pytest.approx(0.9 * arm2_sim.default("actuator:elbow/kp"))
    profile = calibrated_profile(items, None, "arm2")
    r = Randomizer(profile, seed=1, entities=arm2_sim.backend.entities(), dt=arm2_sim.dt, n_envs=16)
    s = r.reset(0)
    arms = ["body:arm/mass", "body:upper_arm/mass", "body:forearm/mass"]
    assert s.ops["actuator:elbow/kp"] == "set" and all(s.ops[k] == "scale" for k in arms)
    assert all(np.array_equal(s.values[k], s.values[arms[0]]) for k in arms)
    assert 1.2 - 0.02 <= s.values[arms[0]].min() < s.values[arms[0]].max() <= 1.2 + 0.02


def _validation(worse: float) -> Validation:
    rng = np.random.default_rng(0)
    measured = rng.normal(size=(200, 3))
    noise = rng.normal(size=(200, 3))
    before = measured + noise
    after = measured + noise * np.array([0.05, 0.05, worse])
    v = Validation("log", np.arange(200) * 0.01, measured, {"before": before, "after": after}, ["a", "b", "c"])
    v.measure()
    return v


def test_the_worst_channel_stands_beside_the_mean_and_a_worse_channel_is_flagged(tmp_path: Path) -> None:
    v = _validation(worse=1.32)
    s = summary([v], v.channels)
    assert s["rmse_ratio_mean"] == pytest.approx((0.05 + 0.05 + 1.32) / 3, rel=1e-9)  # 0.47: the mean hides it
    assert s["rmse_ratio_worst_channel"] == "c" and s["rmse_ratio_max"] == pytest.approx(1.32)
    assert s["worse_channels"] == {"c": pytest.approx(1.32)}
    result = FitResult(np.zeros(1), 0.0, "lsq", True, "ok", 1, 1, 1.0, [0.0])
    report = Report("t", kind="sysid.fit")
    report.add(summary_section(s, result, 1))
    report.add(validation_section([v], s, ["", "", ""]))
    html, data = report.write(tmp_path)
    blocks = [b for sec in json.loads(data.read_text())["sections"] for b in sec["blocks"]]
    verdict = next(b for b in blocks if b["type"] == "assessment")
    assert verdict["label"] == "Calibration made 1 channel(s) worse: c ×1.32" and verdict["status"] == "warn"
    worst = next(m for b in blocks if b["type"] == "metrics" for m in b["rows"] if m["key"] == "rmse_ratio_max")
    assert worst["note"] == "c" and worst["status"] == "bad" and worst["value"] == pytest.approx(1.32)
    assert "Worse after calibration" in html.read_text()
    fine = summary([_validation(worse=0.3)], ["a", "b", "c"])
    assert fine["worse_channels"] == {} and fine["rmse_ratio_worst_channel"] == "c"
