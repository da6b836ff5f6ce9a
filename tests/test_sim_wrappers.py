"""Actuator latency/gain and sensor noise models (sim/wrappers.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sim2real.sim.wrappers import MAX_LATENCY, CommandPipe, SensorNoise


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
