"""Actuator latency/gain and sensor noise models (sim/wrappers.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sim2real.sim.wrappers import MAX_LATENCY, CommandPipe, SensorNoise, delay_commands


def test_latency_delays_each_actuator_by_its_own_steps() -> None:
    pipe = CommandPipe(2)
    pipe.set_latency(np.array([0, 3]))
    pipe.reset(np.zeros(2))
    outputs = []
    for t in range(6):
        pipe.command(np.array([t + 1.0, t + 1.0]))  # a new command every step
        outputs.append(pipe.output())
    out = np.array(outputs)
    assert out[:, 0].tolist() == [1, 2, 3, 4, 5, 6]  # no delay
    assert out[:, 1].tolist() == [0, 0, 0, 1, 2, 3]  # 3 steps late; the reset command before that


def test_gain_error_multiplies_commands_and_current_has_no_delay() -> None:
    pipe = CommandPipe(2)
    pipe.gain[:] = [0.5, 2.0]
    pipe.command(np.array([1.0, 1.0]))
    assert pipe.current().tolist() == [0.5, 2.0]
    assert not pipe.delays


def test_enabling_latency_mid_run_holds_the_current_command() -> None:
    pipe = CommandPipe(1)
    pipe.command(np.array([5.0]))
    pipe.set_latency(np.array([2]))
    pipe.command(np.array([7.0]))
    assert [pipe.output()[0] for _ in range(4)] == [5.0, 5.0, 7.0, 7.0]


def test_latency_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="latencies"):
        CommandPipe(1).set_latency(np.array([MAX_LATENCY + 1]))


def test_sensor_noise_bias_and_spread() -> None:
    noise = SensorNoise(["a", "b"])
    noise.reset(np.random.default_rng(3))
    noise.std["a"], noise.bias["b"] = 0.1, 0.5
    samples = np.array([noise.apply({"a": np.zeros(1), "b": np.ones(1)})["a"][0] for _ in range(4000)])
    assert abs(samples.std() - 0.1) < 0.01 and abs(samples.mean()) < 0.01
    assert noise.apply({"b": np.ones(2)})["b"].tolist() == [1.5, 1.5]
    reading = np.ones(3)
    noise.apply({"a": reading})
    assert reading.tolist() == [1, 1, 1]  # inputs are not modified


def _pipe_outputs(commands: np.ndarray, latency: list[int], gain: list[float], initial: np.ndarray) -> np.ndarray:
    pipe = CommandPipe(commands.shape[1])
    pipe.reset(initial)
    pipe.set_latency(np.array(latency))
    pipe.gain[:] = gain
    out = []
    for u in commands:
        pipe.command(u)
        out.append(pipe.output() if pipe.delays else pipe.current())
    return np.array(out)


def test_delay_commands_matches_the_pipe_step_by_step_for_whole_latencies() -> None:
    rng = np.random.default_rng(0)
    commands = rng.normal(size=(40, 3))
    initial = np.array([0.5, -0.5, 2.0])
    for latency in ([0, 0, 0], [1, 4, 0], [7, 2, 3]):
        expected = _pipe_outputs(commands, latency, [1.0, 0.8, 1.2], initial)
        got = delay_commands(commands, np.array(latency, float), np.array([1.0, 0.8, 1.2]), initial)
        np.testing.assert_array_equal(got, expected)


def test_fractional_latency_interpolates_smoothly_through_the_whole_steps() -> None:
    rng = np.random.default_rng(1)
    commands = np.cumsum(rng.normal(size=(60, 1)), axis=0)
    two, three = delay_commands(commands, 2.0), delay_commands(commands, 3.0)
    np.testing.assert_allclose(delay_commands(commands, 2.0 + 1e-12), two, atol=1e-9)
    mid = delay_commands(commands, 2.5)[:, 0]
    assert np.all(np.minimum(two, three)[5:-2, 0] - 2 <= mid[5:-2])  # between its neighbours, give or take
    assert np.corrcoef(mid, 0.5 * (two + three)[:, 0])[0, 1] > 0.99
    # continuously differentiable in the latency, also across a whole step (no kink for optimisers)
    h = 1e-6
    left = (delay_commands(commands, 3.0) - delay_commands(commands, 3.0 - h)) / h
    right = (delay_commands(commands, 3.0 + h) - delay_commands(commands, 3.0)) / h
    np.testing.assert_allclose(left, right, atol=1e-4)
    batch = delay_commands(np.stack([commands, 2 * commands]), np.array([[2.0], [3.0]]))
    np.testing.assert_array_equal(batch[0], two)
    np.testing.assert_array_equal(batch[1], 2 * three)
    np.testing.assert_array_equal(delay_commands(commands, 0.0), commands)
    with pytest.raises(ValueError, match="latencies"):
        delay_commands(commands, -1.0)
