"""Time-varying terms: sinusoid, Ornstein-Uhlenbeck drift, random walk, piecewise-constant hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from randomize_helpers import profile, randomizer, uniform

from sim2real.errors import ConfigError

DT = 0.01


def _signal_term(signal: dict, **kw) -> dict:
    return uniform("light:key/intensity", 0.8, 1.2, name="flick", signal=signal, **kw)


def _series(r, steps: int, key: str = "light:key/intensity") -> np.ndarray:
    out = []
    for k in range(1, steps + 1):
        s = r.step(k)
        if s is not None and key in s.values:
            out.append(np.array(s.values[key]))
    return np.array(out)


def test_sinusoid_follows_its_formula_from_the_episode_base() -> None:
    sig = {"kind": "sinusoid", "amplitude": 0.1, "frequency_hz": 2.0, "phase": 0.5}
    r = randomizer(profile(_signal_term(sig)), n_envs=3, dt=DT)
    reset = r.reset(0).values["light:key/intensity"]
    base = reset - 0.1 * math.sin(0.5)  # the reset sample holds the value at t = 0
    for k in (1, 7, 50):
        v = r.step(k).values["light:key/intensity"]
        assert np.allclose(v, base + 0.1 * np.sin(2 * math.pi * 2.0 * k * DT + 0.5))


def test_random_phase_differs_per_env_and_updates_every_n_steps() -> None:
    sig = {"kind": "sinusoid", "amplitude": 0.1, "frequency_hz": 1.0, "phase": "random", "every": 4}
    r = randomizer(profile(_signal_term(sig)), n_envs=64, dt=DT)
    r.reset(0)
    assert [k for k in range(1, 13) if r.step(k) is not None] == [4, 8, 12]
    # with a random phase the t=0 offsets spread over [-0.1, 0.1]
    offsets = r.step(4).values["light:key/intensity"] - r.reset(0).values["light:key/intensity"]
    assert np.ptp(offsets) > 0.01


def test_ou_drift_reverts_with_its_stationary_spread() -> None:
    theta, sigma = 2.0, 0.3
    sig = {"kind": "ou", "theta": theta, "sigma": sigma}
    r = randomizer(profile(_signal_term(sig)), n_envs=2000, dt=DT)
    base = r.reset(0).values["light:key/intensity"]
    x = _series(r, 400) - base  # 4 s = 8 time constants: stationary by the end
    stationary = sigma / math.sqrt(2 * theta)
    assert abs(x[-1].std() - stationary) < 0.03 * stationary * 4
    assert abs(x[-1].mean()) < 0.02
    # autocorrelation over 0.5 s is exp(-theta * 0.5)
    corr = np.corrcoef(x[-51], x[-1])[0, 1]
    assert abs(corr - math.exp(-theta * 0.5)) < 0.06


def test_random_walk_variance_grows_linearly() -> None:
    sig = {"kind": "random_walk", "sigma": 0.2}
    r = randomizer(profile(_signal_term(sig)), n_envs=3000, dt=DT)
    base = r.reset(0).values["light:key/intensity"]
    x = _series(r, 200) - base
    assert abs(x[99].var() / (0.2**2 * 1.0) - 1) < 0.1  # after 1 s
    assert abs(x[199].var() / (0.2**2 * 2.0) - 1) < 0.1  # after 2 s


def test_hold_is_piecewise_constant_and_redrawn_from_the_distribution() -> None:
    sig = {"kind": "hold", "hold_s": 0.05}  # 5 steps at dt = 0.01
    r = randomizer(profile(_signal_term(sig)), n_envs=4, dt=DT)
    first = r.reset(0).values["light:key/intensity"]
    fired = {k: r.step(k) for k in range(1, 16)}
    assert [k for k, s in fired.items() if s is not None] == [5, 10, 15]
    a, b = fired[5].values["light:key/intensity"], fired[10].values["light:key/intensity"]
    assert not np.array_equal(a, first) and not np.array_equal(a, b)
    assert np.all((a >= 0.8) & (a <= 1.2))


def test_clip_and_nonnegative_attributes_bound_the_signal() -> None:
    sig = {"kind": "random_walk", "sigma": 5.0, "clip": [0.5, 1.5]}
    r = randomizer(profile(_signal_term(sig)), n_envs=500, dt=DT)
    r.reset(0)
    x = _series(r, 50)
    assert x.min() >= 0.5 and x.max() <= 1.5
    # no clip given: intensity (a scale, non-negative) is still never below 0
    r2 = randomizer(profile(_signal_term({"kind": "random_walk", "sigma": 5.0})), n_envs=500, dt=DT)
    r2.reset(0)
    assert _series(r2, 50).min() >= 0.0


def test_signal_values_replay_from_the_index_alone() -> None:
    sig = {"kind": "ou", "theta": 1.0, "sigma": 0.2, "every": 2}
    p = profile(_signal_term(sig))
    r = randomizer(p, dt=DT)
    r.reset(3)
    walked = {k: r.step(k) for k in range(1, 21)}
    again = r.step(10)  # asking for the past replays the episode
    assert np.array_equal(again.values["light:key/intensity"], walked[10].values["light:key/intensity"])
    fresh = randomizer(p, dt=DT)
    fresh.reset(3)
    assert np.array_equal(
        fresh.step(20).values["light:key/intensity"], walked[20].values["light:key/intensity"]
    )
    r.reset(4)  # a new episode restarts the process with new noise
    assert not np.array_equal(
        r.step(20).values["light:key/intensity"], walked[20].values["light:key/intensity"]
    )


@pytest.mark.parametrize(
    ("signal", "extra", "message"),
    [
        ({"kind": "sinusoid", "frequency_hz": 1.0}, {}, r"signal\.amplitude: expected 'amplitude' to be set"),
        (
            {"kind": "ou", "theta": 1.0, "sigma": 0.1, "amplitude": 1.0},
            {},
            r"signal\.amplitude: expected no 'amplitude'",
        ),
        ({"kind": "ou", "theta": -1.0, "sigma": 0.1}, {}, r"signal\.theta: expected theta > 0"),
        ({"kind": "sinusoid", "amplitude": 0.1, "frequency_hz": 1.0, "phase": "later"}, {}, r"signal\.phase"),
        ({"kind": "hold", "hold_s": 1.0}, {"when": "frame"}, "signals only on when = 'reset'"),
    ],
)
def test_bad_signals_are_config_errors(signal: dict, extra: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        profile(_signal_term(signal, **extra))
