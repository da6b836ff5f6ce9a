"""The SURROGATE robot: hidden differences applied through the backend, seeded noise, unmodelled
friction, command latency; replaying command files into logs in the documented format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real.errors import InputError
from sim2real.gap.metrics import estimate_delay
from sim2real.sysid.surrogate import SurrogateSpec, load_spec
from sim2real.sysid.logs import make_log, write_log
from sysid_helpers import arm2_commands

REPO = Path(__file__).resolve().parents[2]


def _run(spec: SurrogateSpec, commands=None):
    from sim2real.sysid.surrogate import open_surrogate

    robot = open_surrogate(spec)
    try:
        return robot.run(commands if commands is not None else arm2_commands(5, duration_s=3.0)), robot.truth()
    finally:
        robot.backend.close()


def _values(log, channels):
    return log.measurements.select(channels).values


def test_seeded_noise_same_bytes_and_the_configured_spread(tmp_path: Path) -> None:
    noise = [{"channels": "*_pos", "std": 0.002}, {"channels": "elbow_vel", "std": 0.05, "bias": 0.1}]
    clean, _ = _run(SurrogateSpec(scene="arm2"))
    a, _ = _run(SurrogateSpec(scene="arm2", seed=7, noise=noise))
    b, _ = _run(SurrogateSpec(scene="arm2", seed=7, noise=noise))
    c, _ = _run(SurrogateSpec(scene="arm2", seed=8, noise=noise))
    assert write_log(a, tmp_path / "a.csv").read_bytes() == write_log(b, tmp_path / "b.csv").read_bytes()
    assert not np.array_equal(a.measurements.values, c.measurements.values)
    diff = _values(a, ["shoulder_pos", "elbow_pos", "elbow_vel", "shoulder_vel"]) - \
        _values(clean, ["shoulder_pos", "elbow_pos", "elbow_vel", "shoulder_vel"])
    assert diff[:, :2].std() == pytest.approx(0.002, rel=0.1) and abs(diff[:, :2].mean()) < 3e-4
    assert diff[:, 2].mean() == pytest.approx(0.1, abs=0.01) and diff[:, 2].std() == pytest.approx(0.05, rel=0.1)
    np.testing.assert_array_equal(diff[:, 3], 0)  # channels without a rule are exact
    assert a.measurements.stamp_ns[0] == 1_700_000_000 * 10**9 and a.source == "surrogate arm2"


def test_hidden_latency_delays_the_response_and_truth_is_reported() -> None:
    terms = [{"target": "actuator:*/latency", "dist": "constant", "value": 10, "op": "set"},
             {"target": "body:forearm/mass", "dist": "uniform", "low": 0.8, "high": 1.2}]
    base, _ = _run(SurrogateSpec(scene="arm2"))
    late, truth = _run(SurrogateSpec(scene="arm2", seed=2, truth={"terms": terms}))
    assert truth["actuator:shoulder/latency"] == 10 and 0.8 <= truth["body:forearm/mass"] <= 1.2
    _, again = _run(SurrogateSpec(scene="arm2", seed=2, truth={"terms": terms}))
    assert again == truth  # a random robot per seed, the same for the same seed
    delay, _ = estimate_delay(_values(base, ["shoulder_pos"]), _values(late, ["shoulder_pos"]), 0.01, 0.1)
    assert delay == pytest.approx(0.02, abs=0.004)  # 10 physics steps of 2 ms


def test_unmodelled_friction_slows_the_joints() -> None:
    free, _ = _run(SurrogateSpec(scene="arm2"))
    rough, _ = _run(SurrogateSpec(scene="arm2", friction={"coulomb": 0.5, "viscous": 0.2}))
    speed = [np.abs(_values(lg, ["shoulder_vel", "elbow_vel"])).mean() for lg in (free, rough)]
    assert speed[1] < 0.9 * speed[0]


def test_shipped_surrogates_load_and_bad_inputs() -> None:
    for name in ("arm2_surrogate.toml", "reacher_surrogate.toml"):
        spec = load_spec(REPO / "data" / "sysid" / name)
        assert spec.profile() is not None and spec.friction is not None and spec.noise
    uneven = make_log(np.array([0, 10_000_000, 25_500_000]), np.zeros((3, 2)), ["shoulder", "elbow"], ["", ""],
                      source="cmd.csv")
    with pytest.raises(InputError, match=r"cmd.csv: expected commands every whole number of physics steps \(0.002 s\)"):
        _run(SurrogateSpec(scene="arm2"), uneven)
    with pytest.raises(InputError, match="expected commands for shoulder, elbow"):
        _run(SurrogateSpec(scene="arm2"), make_log(np.arange(3) * 10_000_000, np.zeros((3, 1)), ["wrist"], [""]))
    with pytest.raises(InputError, match="noise 'nope\\*': matches no channel of arm2"):
        _run(SurrogateSpec(scene="arm2", noise=[{"channels": "nope*", "std": 1.0}]))
