"""The log format: writing and reading back (CSV, Parquet, JSON lines, ROS 2 bags), zero-order-held
commands, unit conversion, and one-line errors for gaps, NaNs and inconsistent units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real.errors import InputError
from sim2real.trajectory.series import NS_PER_S
from sim2real.sysid.logs import RobotLog, make_log, read_log, resampled, to_model_units, write_log

EPOCH_NS = 1_700_000_000 * NS_PER_S


def _log(n: int = 50) -> RobotLog:
    t = np.arange(n)
    stamps = EPOCH_NS + t * 10_000_000 + 123  # full-size stamps with odd nanoseconds
    cmd = np.stack([np.sin(t / 7), np.cos(t / 5)], axis=1)
    meas = np.stack([np.sin(t / 9), 0.1 * t, np.cos(t / 3)], axis=1)
    return make_log(stamps, cmd, ["shoulder", "elbow"], ["rad", "rad"], meas,
                    ["shoulder_pos", "elbow.velocity", "tip_pos.0"], ["rad", "rad/s", "m"], source="test")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_logs_round_trip_exactly(tmp_path: Path, suffix: str) -> None:
    log = _log()
    back = read_log(write_log(log, tmp_path / f"log{suffix}"))
    np.testing.assert_array_equal(back.commands.stamp_ns, log.commands.stamp_ns)
    np.testing.assert_array_equal(back.commands.values, log.commands.values)
    np.testing.assert_array_equal(back.measurements.values, log.measurements.values)  # bit-exact floats
    assert back.actuators == ["shoulder", "elbow"] and back.commands.units == ["rad", "rad"]
    assert back.channels == ["shoulder_pos", "elbow.velocity", "tip_pos.0"]
    assert back.measurements.units == ["rad", "rad/s", "m"]


def test_command_file_with_relative_time_and_held_commands(tmp_path: Path) -> None:
    path = tmp_path / "cmd.csv"
    path.write_text("t,cmd.a,cmd.b [deg]\n0,1.0,10\n0.01,,20\n0.02,3.0,\n")
    log = read_log(path)
    assert log.measurements is None and log.actuators == ["a", "b"]
    np.testing.assert_array_equal(log.commands.values, [[1, 10], [1, 20], [3, 20]])  # empty cells hold
    np.testing.assert_array_equal(log.command_at(np.array([0, 15_000_000, 10**12])), [[1, 10], [1, 20], [3, 20]])
    converted = to_model_units(log, {}, {"b": "rad"})
    np.testing.assert_allclose(converted.commands.values[:, 1], np.deg2rad([10, 20, 20]))
    write_log(log, tmp_path / "again.csv", time_format="t")
    assert (tmp_path / "again.csv").read_text().splitlines()[0] == "t,cmd.a,cmd.b [deg]"


@pytest.mark.parametrize(("text", "message"), [
    ("t,cmd.a,x\n0,1,0.1\n0.01,1,nan\n0.02,1,0.3\n", r"column 'x': 1 missing or non-finite value\(s\), first at data row 2"),
    ("t,cmd.a,x\n0,1,0.1\n0.01,1,\n0.02,1,0.3\n", r"column 'x': 1 missing"),
    ("t,cmd.a,x\n" + "".join(f"{t:.2f},1,0.1\n" for t in [0, 0.01, 0.02, 0.03, 0.5, 0.51]),
     r"a gap of 0.47 s in the measurements at 0.03 s from the start \(median period 0.01 s\)"),
    ("t,cmd.a,x\n0,,0.1\n0.01,1,0.2\n", r"column 'cmd.a': expected a command in the first row"),
    ("t,a,x\n0,1,0.1\n0.01,1,0.2\n", r"expected command columns named cmd.<actuator> \(found a, x\)"),
])
def test_bad_logs_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as exc:
        read_log(path)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def test_units_convert_or_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("t,cmd.a [rad],pos [deg],vel [mm/s]\n0,0,90,1000\n0.01,0,180,2000\n")
    log = to_model_units(read_log(path), {"pos": "rad", "vel": "m/s"}, {"a": "rad"})
    np.testing.assert_allclose(log.measurements.values, [[np.pi / 2, 1.0], [np.pi, 2.0]])
    assert log.measurements.units == ["rad", "m/s"]
    with pytest.raises(InputError, match=r"column 'vel \[mm/s\]': expected angular velocity in rad/s or a convertible "
                                         r"unit .*inconsistent units"):
        to_model_units(read_log(path), {"pos": "rad", "vel": "rad/s"}, {})
    from sim2real.sysid.units import factor

    assert factor("rad|m", "rad") == 1.0 and factor("rad|m", "m") == 1.0 and factor("rad|m", "rad/s") is None
    path.write_text("t,cmd.a [m],pos\n0,0,1\n0.01,0,2\n")
    with pytest.raises(InputError, match=r"column 'cmd.a \[m\]': expected angle in rad"):
        to_model_units(read_log(path), {}, {"a": "rad"})


def test_bag_with_joint_states_and_array_commands(tmp_path: Path, run_cli) -> None:
    from gap.gap_helpers import typestore, write_bag

    ts = typestore()
    T = ts.types
    stamps = EPOCH_NS + np.arange(30) * 10_000_000

    def header(ns: int):
        return T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=int(ns // NS_PER_S),
                                                                             nanosec=int(ns % NS_PER_S)), frame_id="")
    states = [T["sensor_msgs/msg/JointState"](header=header(int(s)), name=["shoulder", "elbow"],
                                              position=np.array([0.01 * i, -0.02 * i]), velocity=np.array([1.0, -2.0]),
                                              effort=np.array([], dtype=np.float64)) for i, s in enumerate(stamps)]
    layout = T["std_msgs/msg/MultiArrayLayout"](dim=[], data_offset=0)
    commands = [T["std_msgs/msg/Float64MultiArray"](layout=layout, data=np.array([0.1 * i, 0.2])) for i in range(0, 30, 3)]
    bag = write_bag(tmp_path / "rec", {
        "/joint_states": [(int(s) + 1_000_000, m) for s, m in zip(stamps, states, strict=True)],
        "/commands": [(int(stamps[i * 3]), m) for i, m in enumerate(commands)],
    })
    log = read_log(bag, "/joint_states", "/commands", actuators=["shoulder", "elbow"])
    assert log.channels == ["shoulder.position", "elbow.position", "shoulder.velocity", "elbow.velocity"]
    np.testing.assert_array_equal(log.measurements.stamp_ns, stamps)  # header stamps, not the recorder's
    assert log.actuators == ["shoulder", "elbow"]
    np.testing.assert_allclose(log.command_at(stamps[4:5]), [[0.3, 0.2]])  # held since stamps[3]
    table = resampled(log, 50.0)  # one clock: measurements interpolated, commands held
    assert len(table.commands) == 15 and np.array_equal(table.commands.stamp_ns, table.measurements.stamp_ns)
    np.testing.assert_allclose(table.measurements.values[3], [0.06, -0.12, 1.0, -2.0])
    np.testing.assert_allclose(table.commands.values[:4, 0], [0.0, 0.0, 0.3, 0.6])  # sent at 0, 30, 60 ms
    back = read_log(write_log(table, tmp_path / "table.csv"))
    np.testing.assert_array_equal(back.measurements.values, table.measurements.values)
    proc = run_cli("sysid", "convert", "--log", str(bag), "--topic", "/joint_states", "--command-topic", "/commands",
                   "--model", "arm2", "--rate", "50", "--out", str(tmp_path / "cli.csv"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert read_log(tmp_path / "cli.csv").commands.values.tolist() == table.commands.values.tolist()
    with pytest.raises(InputError, match="2 command value\\(s\\) per message; expected one per actuator \\(a\\)"):
        read_log(bag, "/joint_states", "/commands", actuators=["a"])
    with pytest.raises(InputError, match="needs --command-topic"):
        read_log(bag, "/joint_states")
