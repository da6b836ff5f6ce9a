"""Observation noise, command delay and the safety monitor."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from control_helpers import PENDULUM, balance
from sim2real.control.safety import Limit, SafetyMonitor, SafetyShield, SafetySpec
from sim2real.control.tasks import task_for
from sim2real.control.wrappers import ActionDelay, ObservationNoise
from sim2real.errors import ConfigError
from sim2real.sim.wrappers import CorrelatedNoise

NAMES = task_for(PENDULUM).observation


def _episode(env: gym.Env, steps: int, seed: int = 0, act=balance) -> tuple[np.ndarray, np.ndarray]:
    """Noisy and true observations of one episode (the true ones from the unwrapped env's state)."""
    obs, _ = env.reset(seed=seed)
    noisy, true = [obs], [np.concatenate([env.unwrapped.data.qpos, env.unwrapped.data.qvel])]
    for _ in range(steps):
        obs, *_ = env.step(act(obs))
        noisy.append(obs)
        true.append(np.concatenate([env.unwrapped.data.qpos, env.unwrapped.data.qvel]))
    return np.array(noisy), np.array(true)


def test_observation_bias_is_drawn_per_episode_and_white_noise_has_its_std() -> None:
    env = ObservationNoise(gym.make(PENDULUM), NAMES, bias=[0.0, 0.05, 0.0, 0.0], white=[0.01, 0.0, 0.0, 0.0], seed=3)
    n1, t1 = _episode(env, 200)
    n2, t2 = _episode(env, 200)
    bias1, bias2 = (n1 - t1)[:, 1], (n2 - t2)[:, 1]
    assert np.ptp(bias1) < 1e-12 and np.ptp(bias2) < 1e-12  # constant within an episode
    assert abs(bias1[0]) <= 0.05 and bias1[0] != bias2[0]  # a new one each episode, within the range
    white = (n1 - t1)[:, 0]
    assert 0.008 < white.std() < 0.012 and abs(white.mean()) < 0.003
    assert np.allclose(n1[:, 2:], t1[:, 2:])  # no noise where none was asked
    again = ObservationNoise(gym.make(PENDULUM), NAMES, bias=[0.0, 0.05, 0.0, 0.0], white=[0.01, 0.0, 0.0, 0.0], seed=3)
    assert np.array_equal(_episode(again, 200)[0], n1)  # same seed, same noise


def test_correlated_noise_is_an_ou_process_at_any_period() -> None:
    std, tau = 0.2, 0.5
    for dt in (0.01, 0.04):
        noise = CorrelatedNoise(np.full(2000, std), tau, dt)
        noise.reset(np.random.default_rng(0))
        x = np.array([noise.sample() for _ in range(60)])  # 2000 independent processes, 60 readings each
        assert x.std() == pytest.approx(std, rel=0.05)  # stationary from the start
        lag = 5
        corr = np.mean(x[:-lag] * x[lag:]) / std**2
        assert corr == pytest.approx(np.exp(-lag * dt / tau), abs=0.03)


def test_action_delay_holds_commands_for_whole_control_steps() -> None:
    actions = np.random.default_rng(4).uniform(-1, 1, (25, 1))
    env = ActionDelay(gym.make(PENDULUM), (2, 2), seed=0)
    obs, info = env.reset(seed=1)
    assert info["action_delay_steps"] == 2
    delayed = [obs] + [env.step(a)[0] for a in actions]
    plain_env = gym.make(PENDULUM)
    obs, _ = plain_env.reset(seed=1)
    plain = [obs] + [plain_env.step(a)[0] for a in np.concatenate([np.zeros((2, 1)), actions[:-2]])]
    assert np.allclose(delayed, plain, atol=1e-12)


def _limits(*limits: tuple[str, str, float]) -> SafetySpec:
    return SafetySpec(limits=[Limit(kind=k, joints=j, max=m) for k, j, m in limits])


def test_the_safety_monitor_terminates_on_a_violation_logs_it_and_stops_the_robot(tmp_path) -> None:
    spec = _limits(("position", "slider", 0.2), ("velocity", "*", 50.0))
    monitor = SafetyMonitor(spec, NAMES, {"slide": 100.0})
    stops = []
    env = SafetyShield(gym.make(PENDULUM), monitor, NAMES, ["slide"], estop=stops.append,
                       log_path=tmp_path / "safety.jsonl")
    obs, _ = env.reset(seed=0)
    for t in range(200):  # balancing around a cart set point of 0.5 m: the cart leaves the allowed 0.2 m
        obs, _, terminated, truncated, info = env.step(balance(obs - np.array([0.5, 0.0, 0.0, 0.0])))
        if terminated:
            break
    assert terminated and "safety" in info and info["safety"][0]["channel"] == "slider.position"
    assert abs(obs[0]) > 0.2 and abs(obs[0]) < 0.35  # stopped at the first step beyond, not later
    assert len(stops) == 1 and stops[0][0].kind == "position"
    record = json.loads((tmp_path / "safety.jsonl").read_text().splitlines()[0])
    assert record["channel"] == "slider.position" and record["limit"] == 0.2 and record["step"] == t + 1


def test_a_command_over_its_torque_limit_is_refused_before_it_is_sent(tmp_path) -> None:
    monitor = SafetyMonitor(_limits(("torque", "slide", 150.0)), NAMES, {"slide": 100.0})
    env = SafetyShield(gym.make(PENDULUM), monitor, NAMES, ["slide"], log_path=tmp_path / "s.jsonl")
    env.reset(seed=0)
    time_before = float(env.unwrapped.data.time)
    _, reward, terminated, _, info = env.step(np.array([2.0]))  # 200 N asked for, 150 N allowed
    assert terminated and reward == 0.0 and info["safety"][0]["when"] == "command"
    assert float(env.unwrapped.data.time) == time_before  # never reached the simulator
    env.reset(seed=0)
    assert not env.step(np.array([1.0]))[2]  # 100 N is fine


def test_a_limit_that_checks_nothing_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="limits\\[0\\]"):
        SafetyMonitor(_limits(("current", "*", 5.0)), NAMES, {"slide": 100.0})
    with pytest.raises(ConfigError, match="limits\\[1\\]"):
        SafetyMonitor(_limits(("position", "slider", 1.0), ("position", "elbow", 1.0)), NAMES)
