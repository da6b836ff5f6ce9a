"""Curriculum phases scale ranges about their centre; ADR widens and narrows bounds from performance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from randomize_helpers import profile, randomizer, uniform

from sim2real.errors import ConfigError, InputError

KEY = "joint:elbow/damping"


def _width(r, episode: int, key: str = KEY) -> tuple[float, float]:
    v = r.reset(episode).values[key]
    return float(v.min()), float(v.max())


def test_widening_phases_scale_the_original_range_about_its_centre() -> None:
    p = profile(
        uniform("joint:*/damping", 1.0, 3.0, name="damp"),
        uniform("light:*/intensity", 0.5, 1.5),
        curriculum={"start": 0.2, "end": 1.0, "phases": 5, "episodes_per_phase": 10, "terms": ["damp"]},
    )
    r = randomizer(p, n_envs=4000)
    for episode, scale in ((0, 0.2), (9, 0.2), (10, 0.4), (25, 0.6), (49, 1.0), (500, 1.0)):
        lo, hi = _width(r, episode)
        assert lo >= 2.0 - scale - 1e-12 and hi <= 2.0 + scale + 1e-12  # centre 2, half-width 1 * scale
        assert hi - lo > 1.9 * scale
        assert r.reset(episode).meta["phase"] == min(episode // 10, 4)
    # terms outside the curriculum keep their full range
    li = r.reset(0).values["light:key/intensity"]
    assert li.min() < 0.55 and li.max() > 1.45


def test_narrowing_and_a_phase_set_by_the_caller() -> None:
    p = profile(
        uniform("joint:*/damping", 1.0, 3.0), curriculum={"scales": [1.0, 0.5, 0.1]}
    )  # episodes_per_phase = 0: the caller moves it
    r = randomizer(p, n_envs=2000)
    assert _width(r, 100)[1] - _width(r, 100)[0] > 1.9
    r.set_phase(2)
    lo, hi = _width(r, 0)
    assert 1.9 - 1e-12 <= lo and hi <= 2.1 + 1e-12
    state = r.state_dict()
    r2 = randomizer(p, n_envs=2000)
    r2.load_state_dict(json.loads(json.dumps(state)))
    assert np.array_equal(r2.reset(7).values[KEY], r.reset(7).values[KEY])
    with pytest.raises(ValueError, match="phase in 0..2"):
        r.set_phase(3)


def test_curriculum_checks_feasibility_at_every_phase() -> None:
    # a scale range [0.1, 1.9] widened x2 about its centre would reach below zero: a negative scale
    with pytest.raises(
        ConfigError,
        match=r"terms\[0\] 'joint:\*/damping'\.low: expected values >= 0 .* at "
        r"curriculum scale 2",
    ):
        profile(uniform("joint:*/damping", 0.1, 1.9), curriculum={"scales": [1.0, 2.0]})
    with pytest.raises(ConfigError, match=r"curriculum\.terms\[0\]: expected a pattern matching a term name"):
        profile(uniform("joint:*/damping", 0.5, 1.5), curriculum={"scales": [1.0], "terms": ["nope"]})
    with pytest.raises(ConfigError, match="either 'scales"):
        profile(uniform("joint:*/damping", 0.5, 1.5), curriculum={"scales": [1.0], "phases": 3})


def _adr_profile(**adr) -> object:
    cfg = {
        "threshold_low": 0.3,
        "threshold_high": 0.7,
        "buffer_size": 20,
        "params": [{"term": "damp", "limits": [0.1, 5.0], "step": 0.1}],
        **adr,
    }
    return profile(uniform("joint:*/damping", 0.9, 1.1, name="damp"), uniform("light:*/intensity"), adr=cfg)


def test_boundary_workers_are_pinned_to_the_boundaries() -> None:
    r = randomizer(_adr_profile(), n_envs=4000)
    s = r.reset(0)
    mode = s.meta["adr_boundary"]
    assert abs(np.mean(mode >= 0) - 0.4) < 0.03  # DeXtreme's 40% boundary workers
    v = s.values[KEY]
    assert np.all(v[mode == 0] == 0.9) and np.all(v[mode == 1] == 1.1)
    assert np.all((v[mode < 0] >= 0.9) & (v[mode < 0] <= 1.1))
    assert np.array_equal(s.values["joint:shoulder/damping"][mode == 1], np.full(np.sum(mode == 1), 1.1))
    # prefix-stable like every other draw
    assert np.array_equal(randomizer(_adr_profile(), n_envs=5).reset(0).meta["adr_boundary"], mode[:5])


def _train(r, episodes: int, competence: float) -> list:
    """A stand-in task: an episode succeeds when damping is within `competence` of 1.0."""
    changes = []
    for e in range(episodes):
        v = r.reset(e).values[KEY]
        changes += r.report((np.abs(v - 1.0) <= competence).astype(float))
    return changes


def test_adr_widens_up_to_what_the_policy_handles_and_not_beyond() -> None:
    r = randomizer(_adr_profile(), n_envs=64)
    changes = _train(r, 300, competence=0.45)
    lo, hi = r.adr.range("damp")
    assert changes and changes[0].side in ("low", "high") and changes[0].mean > 0.7
    assert 0.45 <= lo <= 0.7 and 1.3 <= hi <= 1.55  # widened from [0.9, 1.1] to about the competence
    metrics = r.adr.metrics()
    assert metrics["adr/damp/low"] == lo and "adr/npd" in metrics


def test_adr_narrows_but_never_inside_the_initial_range() -> None:
    r = randomizer(_adr_profile(), n_envs=64)
    r.adr.ranges["damp"] = [0.2, 3.0]  # as if widened earlier
    _train(r, 300, competence=0.0)  # nothing succeeds
    assert r.adr.range("damp") == (0.9, 1.1)


def test_adr_state_round_trips_through_a_run_folder(tmp_path: Path) -> None:
    r = randomizer(_adr_profile(), n_envs=32)
    _train(r, 60, competence=0.45)
    r.reset(60)
    r.save_state(tmp_path)
    restored = randomizer(_adr_profile(), n_envs=32)
    assert restored.load_state(tmp_path)
    assert restored.adr.state_dict() == r.adr.state_dict()
    # both continue identically: same boundary assignment, same buffers, same updates
    perf = np.linspace(0, 1, 32)
    assert r.report(perf) == restored.report(perf)
    assert r.adr.state_dict() == restored.adr.state_dict() and any(r.adr.state_dict()["buffers"].values())
    assert np.array_equal(r.reset(61).values[KEY], restored.reset(61).values[KEY])
    assert not randomizer(_adr_profile(), n_envs=32).load_state(tmp_path / "empty")


def test_state_of_another_profile_is_refused(tmp_path: Path) -> None:
    r = randomizer(_adr_profile(), n_envs=4)
    r.save_state(tmp_path)
    other = randomizer(_adr_profile(threshold_high=0.9), n_envs=4)
    with pytest.raises(InputError, match="cannot be restored onto another profile"):
        other.load_state(tmp_path)


def test_adr_refuses_bad_reports_and_bad_configs() -> None:
    r = randomizer(_adr_profile(), n_envs=4)
    with pytest.raises(ValueError, match="needs a reset"):
        r.report([1, 1, 1, 1])
    r.reset(0)
    with pytest.raises(ValueError, match="one performance value per env"):
        r.report([1, 1])
    with pytest.raises(ConfigError, match=r"adr\.params\[0\]\.limits: expected limits containing"):
        _adr_profile(params=[{"term": "damp", "limits": [0.95, 5.0]}])
    with pytest.raises(ConfigError, match=r"adr\.threshold_low: expected threshold_low < threshold_high"):
        _adr_profile(threshold_low=0.9)
    with pytest.raises(ConfigError, match=r"adr\.params\[0\]\.term: expected a scalar, uniform"):
        profile(
            uniform("light:key/color", 0.1, 0.9, name="c"),
            adr={"threshold_low": 0, "threshold_high": 1, "params": [{"term": "c", "limits": [0, 1]}]},
        )
