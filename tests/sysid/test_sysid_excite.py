"""Excitation signals: limits respected, rest at both ends, actuators told apart, seeded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real.errors import UserError
from sim2real.sysid.excite import ExcitationSpec, excitation
from sim2real.sysid.logs import read_log


@pytest.mark.parametrize("signal", ["multisine", "chirp", "prbs"])
def test_signals_stay_within_amplitude_velocity_and_range(signal: str) -> None:
    spec = ExcitationSpec(signal, 10.0, 200.0, [0.5, 1.0], [0.1, -0.2], (0.2, 5.0), [3.0, 4.0], seed=4)
    ex = excitation(spec, 2, [(-1.0, 1.0), (-1.0, 0.5)])
    u, c = ex.commands, np.array([0.1, -0.2])
    assert u.shape == (2001, 2)
    assert np.all(np.abs(u - c) <= np.array([0.5, 1.0]) + 1e-12)
    assert np.all(u[:, 1] <= 0.5) and np.all(u >= -1.0)
    speed = np.abs(np.diff(u, axis=0)).max(axis=0) * 200.0
    assert np.all(speed <= np.array([3.0, 4.0]) * (1 + 1e-9))
    settle = int(0.5 * 200)
    np.testing.assert_allclose(u[: settle + 1], np.broadcast_to(c, (settle + 1, 2)))  # at rest, then fade-in
    np.testing.assert_allclose(u[-1], c, atol=1e-12)  # back at the centre
    assert np.abs(u - c).max(axis=0).min() > 0.1  # and it does move
    assert ex.notes  # a limit changed something, and says so


def test_multisine_actuators_use_different_frequencies_and_the_seed_decides() -> None:
    spec = ExcitationSpec("multisine", 20.0, 100.0, [1.0], [0.0], (0.1, 4.0), settle_s=0.0, fade_s=0.5, seed=1)
    u = excitation(spec, 3).commands
    spectra = np.abs(np.fft.rfft(u - u.mean(0), axis=0))
    peaks = [set(np.argsort(spectra[:, j])[-6:]) for j in range(3)]
    assert not (peaks[0] & peaks[1]) and not (peaks[1] & peaks[2])  # no shared excitation frequency
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.1
    np.testing.assert_array_equal(u, excitation(spec, 3).commands)
    other = ExcitationSpec("multisine", 20.0, 100.0, [1.0], [0.0], (0.1, 4.0), settle_s=0.0, fade_s=0.5, seed=2)
    assert not np.array_equal(u, excitation(other, 3).commands)


def test_prbs_is_binary_until_slew_limited() -> None:
    spec = ExcitationSpec("prbs", 5.0, 100.0, [1.0], [0.0], (0.5, 2.0), settle_s=0.0, fade_s=0.0, seed=0)
    u = excitation(spec, 1).commands[:, 0]
    assert set(np.unique(u)) <= {-1.0, 1.0}
    held = np.diff(np.flatnonzero(np.diff(u) != 0))
    assert held.min() >= 25  # bits last 1 / (2 * 2 Hz) = 0.25 s
    spec.max_velocity = [10.0]
    slow = excitation(spec, 1)
    assert np.abs(np.diff(slow.commands[:, 0])).max() <= 0.1 + 1e-12 and "slew-rate" in slow.notes[0]


@pytest.mark.parametrize(("kw", "message"), [
    ({"signal": "noise"}, "--signal: expected one of multisine, chirp, prbs"),
    ({"band_hz": (2.0, 1.0)}, "--band: expected 0 < low < high"),
    ({"band_hz": (1.0, 80.0)}, "half the rate"),
    ({"amplitude": [1.0, 2.0, 3.0]}, "--amplitude: expected one value or one per actuator \\(2\\)"),
    ({"duration_s": 1.0}, "settle \\+ 2 fade shorter than the duration"),
])
def test_bad_excitation_requests(kw: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        excitation(ExcitationSpec(**kw), 2)


def test_cli_writes_a_command_file_for_a_model(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "cmd.csv"
    proc = run_cli("sysid", "excite", "--model", "arm2", "--signal", "chirp", "--duration", "4", "--amplitude", "0.3",
                   "--max-velocity", "2", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    log = read_log(out)
    assert log.actuators == ["shoulder", "elbow"] and log.commands.units == ["rad", "rad"]
    assert len(log.commands) == 401 and np.abs(log.commands.values).max() <= 0.3
    proc = run_cli("sysid", "excite", "--out", str(out))
    assert proc.returncode == 2 and "expected --model or --actuators" in proc.stderr
