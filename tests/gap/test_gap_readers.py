"""Trajectory inputs: CSV, Parquet, JSON lines and real ROS 2 bags written with rosbags (MCAP and sqlite3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gap_helpers import EPOCH_S, NS, pose_msg, typestore, write_bag, write_csv
from sim2real.errors import InputError
from sim2real.trajectory.readers import read_trajectory


def _stamps() -> np.ndarray:
    return EPOCH_S * NS + np.array([0, 999_999_999, 1_000_000_001, 2_500_000_000], dtype=np.int64)


def test_csv_parquet_and_jsonl_give_the_same_trajectory(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ns = _stamps()
    x = np.array([0.1, 0.2, 0.3, 0.4])
    v = np.array([1.0, -1.0, 2.0, 0.5])
    a = read_trajectory(write_csv(tmp_path / "a.csv", ns, {"x [m]": x, "v [m/s]": v}))
    pq.write_table(pa.table({"sec": ns // NS, "nanosec": ns % NS, "x [m]": x, "v [m/s]": v}), tmp_path / "b.parquet")
    b = read_trajectory(tmp_path / "b.parquet")
    with open(tmp_path / "c.jsonl", "w") as fh:
        fh.writelines(json.dumps({"header": {"stamp": {"sec": int(ns[i] // NS), "nanosec": int(ns[i] % NS)}},
                                 "x [m]": x[i], "v [m/s]": v[i]}) + "\n" for i in range(4))
    c = read_trajectory(tmp_path / "c.jsonl")
    for tr in (a, b, c):
        assert tr.channels == ["x", "v"] and tr.units == ["m", "m/s"]
        np.testing.assert_array_equal(tr.stamp_ns, ns)  # exact, across a second boundary
        np.testing.assert_array_equal(tr.values, np.c_[x, v])


def test_float_seconds_column_and_dirty_rows(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("t,q\n0.30,3\n0.10,1\n0.20,\n0.10,9\n0.40,4\n")
    tr = read_trajectory(p)
    np.testing.assert_array_equal(tr.stamp_ns, [100_000_000, 300_000_000, 400_000_000])
    np.testing.assert_array_equal(tr.values[:, 0], [1, 3, 4])  # sorted; first of the duplicate kept
    assert tr.dropped == {"non_finite": 1, "duplicate_stamp": 1}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("no_time.csv", "a,b\n1,2\n3,4\n", "expected time columns 'sec' and 'nanosec'"),
    ("bad.csv", "sec,nanosec,x\n1,2000000000,0\n2,0,1\n", r"nanosec: expected values in \[0, 1e9\)"),
    ("x.txt", "", "expected a .csv, .parquet, .jsonl"),
    ("bad.jsonl", '{"t": 1, "x": 2}\nnot json\n', r"bad.jsonl:2: expected one JSON object per line"),
    ("one.csv", "t,x\n0.5,1\n", "expected at least 2 samples"),
])
def test_bad_tables_are_one_line_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError, match=message):
        read_trajectory(tmp_path / name)


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_bag_topics_read_with_header_stamps_and_wxyz(tmp_path: Path, storage: str) -> None:
    ts = typestore()
    T = ts.types
    header_ns = _stamps()
    receive_ns = header_ns + 7_000_000  # the recorder saw them 7 ms later
    poses = [pose_msg(ts, int(h), (0.1 * i, 0.2, 0.3), (0.9238795, 0.0, 0.0, 0.3826834)) for i, h in enumerate(header_ns)]
    joints = [T["sensor_msgs/msg/JointState"](
        header=T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=int(h // NS), nanosec=int(h % NS)), frame_id=""),
        name=["shoulder", "elbow"], position=np.array([0.1 * i, -0.1 * i]), velocity=np.array([1.0, 2.0]),
        effort=np.array([], dtype=np.float64)) for i, h in enumerate(header_ns)]
    bag = write_bag(tmp_path / "rec", {
        "/real_robot_pose": list(zip(receive_ns.tolist(), poses, strict=True)),
        "/joint_states": list(zip(receive_ns.tolist(), joints, strict=True)),
    }, storage)
    p = read_trajectory(bag, "/real_robot_pose")
    assert p.channels == ["x", "y", "z", "qw", "qx", "qy", "qz"]
    np.testing.assert_array_equal(p.stamp_ns, header_ns)
    np.testing.assert_allclose(p.values[0, 3:], [0.9238795, 0.0, 0.0, 0.3826834])  # w first, by field name
    np.testing.assert_allclose(p.values[:, 0], [0, 0.1, 0.2, 0.3])
    j = read_trajectory(bag, "/joint_states")
    assert j.channels == ["shoulder.position", "elbow.position", "shoulder.velocity", "elbow.velocity"]
    np.testing.assert_allclose(j.values[2], [0.2, -0.2, 1.0, 2.0])
    r = read_trajectory(bag, "/joint_states", stamp="receive")
    np.testing.assert_array_equal(r.stamp_ns, receive_ns)
    if storage == "mcap":  # the single .mcap file is readable on its own too
        mcap = next(bag.glob("*.mcap"))
        np.testing.assert_array_equal(read_trajectory(mcap, "/real_robot_pose").values, p.values)
    with pytest.raises(InputError, match=r"no topic /nope \(topics: /joint_states \(sensor_msgs/msg/JointState\)"):
        read_trajectory(bag, "/nope")
    with pytest.raises(InputError, match="expected --topic naming one of"):
        read_trajectory(bag)
