"""Robot logs: the documented format (exts/sim2real/docs/sysid.md), reading, writing and checking.

A log says what was sent to a robot and what it measured, with full timestamps. Tabular logs (CSV,
Parquet, JSON lines) have one row per sample:

* time: ``sec`` + ``nanosec`` integers (ROS ``builtin_interfaces/Time``), ``stamp_ns``, or ``t``
  (float seconds) — read by ``sim2real.trajectory.readers``, as every sim2real time series;
* commands: ``cmd.<actuator>`` columns, the command sent at that time; it holds until the next row
  (zero-order hold). A cell may be empty when no new command was sent (the previous one holds);
* measurements: every other numeric column — a model sensor ``<sensor>`` (``<sensor>.<i>`` for
  component ``i`` of a multi-dimensional one), or joint state ``<joint>.position``,
  ``<joint>.velocity``, ``<joint>.effort`` (the names ROS ``sensor_msgs/JointState`` gives). Every
  measurement cell must hold a finite number;
* a unit may follow a column name in brackets: ``shoulder_pos [deg]`` (converted to the model's units).

A *command file* is a log with command columns only (what ``sim2real sysid excite`` writes and a
robot replays). ROS 2 bags / MCAP hold the two streams on two topics: measurements on a
``JointState`` (or ``Float64MultiArray``...) topic, commands on another; see ``read_log``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from ..errors import InputError, NotInstalledError
from ..fsutil import atomic_write_bytes, atomic_write_text
from ..trajectory import readers
from ..trajectory.series import NS_PER_S, Trajectory
from . import units as unitlib

log = logging.getLogger(__name__)

CMD = "cmd."
MAX_GAP_PERIODS = 5.0  # a hole longer than this many median sample periods is a gap


@dataclass
class RobotLog:
    """Commands (channels = actuator names) and measurements (channels = sensor / joint-state names),
    each with its own int64-nanosecond stamps. ``measurements`` is None for a command file."""

    commands: Trajectory
    measurements: Trajectory | None
    source: str

    @property
    def actuators(self) -> list[str]:
        return list(self.commands.channels)

    @property
    def channels(self) -> list[str]:
        return list(self.measurements.channels) if self.measurements is not None else []

    @property
    def duration_s(self) -> float:
        m = self.measurements if self.measurements is not None else self.commands
        return m.duration_s

    def command_at(self, stamp_ns: np.ndarray) -> np.ndarray:
        """The command holding at each stamp (zero-order hold; before the first command: the first)."""
        idx = np.searchsorted(self.commands.stamp_ns, np.asarray(stamp_ns, dtype=np.int64), side="right") - 1
        return self.commands.values[np.clip(idx, 0, None)]


# ---------------------------------------------------------------- reading


def read_log(path: str | PathLike[str], topic: str | None = None, command_topic: str | None = None,
             actuators: Sequence[str] | None = None, stamp: str = "header") -> RobotLog:
    """Read a log (or a command file). Bags need ``topic`` (measurements) and ``command_topic``;
    ``actuators`` names the entries of array-typed command messages, in order."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if readers.is_bag(path):
        return _read_bag_log(path, topic, command_topic, actuators, stamp)
    if topic or command_topic:
        raise InputError(f"{path}: --topic/--command-topic apply to bags only (.mcap, .db3, .bag or a rosbag2 folder)")
    kind = readers.TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path}: expected a .csv, .parquet, .jsonl log or a ROS bag (.mcap, .db3, .bag, rosbag2 folder)")
    columns = {"csv": readers.csv_columns, "parquet": readers.parquet_columns, "jsonl": readers.jsonl_columns}[kind](path)
    return log_from_columns(columns, str(path))


def log_from_columns(columns: Mapping[str, np.ndarray], source: str) -> RobotLog:
    """Split a table into commands and measurements (see the module docstring) and check it."""
    time_cols = _time_columns(columns)
    cmd_cols = [k for k in columns if k.startswith(CMD)]
    if not cmd_cols:
        raise InputError(f"{source}: expected command columns named cmd.<actuator> (found "
                         f"{', '.join(k for k in columns if k not in time_cols)[:200] or 'none'})")
    data_cols = [k for k in columns if k not in time_cols and k not in cmd_cols
                 and np.asarray(columns[k]).dtype.kind in "fiub"]
    for k in data_cols:
        _require_finite(np.asarray(columns[k], dtype=np.float64), k, source)
    times = {k: columns[k] for k in time_cols}
    commands = _commands_table(columns, cmd_cols, times, source)
    measurements = None
    if data_cols:
        measurements = readers.table_to_trajectory({**times, **{k: columns[k] for k in data_cols}}, source)
        check_gaps(measurements)
    return RobotLog(commands, measurements, source)


def _time_columns(columns: Mapping[str, np.ndarray]) -> list[str]:
    for sec, nsec in readers.SEC_PAIRS:
        if sec in columns and nsec in columns:
            return [sec, nsec]
    for name in ("stamp_ns", "t", "t [s]", "time", "timestamp"):
        if name in columns:
            return [name]
    return []  # table_to_trajectory raises the one-line error naming what it expected


def _require_finite(col: np.ndarray, name: str, source: str) -> None:
    bad = np.flatnonzero(~np.isfinite(col))
    if bad.size:
        raise InputError(f"{source}: column {name!r}: {bad.size} missing or non-finite value(s), first at data row "
                         f"{bad[0] + 1}; expected a measurement in every row (remove or fill those rows)")


def _commands_table(columns: Mapping[str, np.ndarray], cmd_cols: list[str], times: dict[str, np.ndarray],
                    source: str) -> Trajectory:
    """Command columns with empty cells filled by the command that holds there (zero-order hold)."""
    filled = {}
    for k in cmd_cols:
        col = np.asarray(columns[k])
        if col.dtype.kind not in "fiub":
            raise InputError(f"{source}: column {k!r}: expected numbers (commands)")
        col = col.astype(np.float64)
        given = np.isfinite(col)
        if not given.any():
            raise InputError(f"{source}: column {k!r}: expected at least one command")
        if not given[0]:
            raise InputError(f"{source}: column {k!r}: expected a command in the first row (nothing holds before it)")
        idx = np.maximum.accumulate(np.where(given, np.arange(len(col)), 0))
        filled[k] = col[idx]
    traj = readers.table_to_trajectory({**times, **filled}, source)
    traj.channels = [c[len(CMD):] for c in traj.channels]
    return traj


def check_gaps(traj: Trajectory, max_periods: float = MAX_GAP_PERIODS) -> None:
    """Refuse a measurement stream with a hole longer than ``max_periods`` median sample periods."""
    if len(traj) < 3:
        return
    diffs = np.diff(traj.stamp_ns)
    median = float(np.median(diffs))
    worst = int(np.argmax(diffs))
    if diffs[worst] > max_periods * median:
        at = (int(traj.stamp_ns[worst]) - int(traj.stamp_ns[0])) / NS_PER_S
        raise InputError(
            f"{traj.source}: a gap of {diffs[worst] / NS_PER_S:.4g} s in the measurements at {at:.4g} s from the start "
            f"(median period {median / NS_PER_S:.4g} s); expected evenly sampled logs: split the log at the gap")


def _read_bag_log(path: Path, topic: str | None, command_topic: str | None, actuators: Sequence[str] | None,
                  stamp: str) -> RobotLog:
    if not command_topic:
        raise InputError(f"{path}: a bag needs --command-topic naming the topic of the commands sent")
    commands = readers.read_bag(path, command_topic, stamp)
    if commands.dropped.get("non_finite"):
        raise InputError(f"{path}:{command_topic}: {commands.dropped['non_finite']} message(s) with non-finite values")
    commands.channels = _command_names(commands.channels, actuators, f"{path}:{command_topic}")
    measurements = None
    if topic:
        measurements = readers.read_bag(path, topic, stamp)
        if measurements.dropped.get("non_finite"):
            raise InputError(f"{path}:{topic}: {measurements.dropped['non_finite']} message(s) with missing or "
                             "non-finite values; expected complete measurements")
        check_gaps(measurements)
    return RobotLog(commands, measurements, str(path))


def _command_names(channels: list[str], actuators: Sequence[str] | None, source: str) -> list[str]:
    """Bag command channels to actuator names: ``JointState`` ``<name>.<field>`` → ``<name>`` (one field
    per joint), arrays ``data<i>`` / ``data`` → ``actuators[i]``."""
    if all("." in c for c in channels):
        names = [c.split(".", 1)[0] for c in channels]
        if len(set(names)) != len(names):
            raise InputError(f"{source}: expected one field per joint in command messages (got {', '.join(channels)})")
        return names
    if actuators is None or len(actuators) != len(channels):
        raise InputError(f"{source}: {len(channels)} command value(s) per message; expected one per actuator "
                         f"({', '.join(actuators or []) or 'actuators unknown'})")
    return list(actuators)


def resampled(log_: RobotLog, rate_hz: float) -> RobotLog:
    """Commands and measurements on one uniform clock at ``rate_hz`` over the time both cover:
    measurements linearly interpolated (``trajectory.align.resample``; a grid point in a hole is an error),
    commands zero-order held (the command holding at each instant). For one table from a bag's two
    topics; identification itself never resamples measured data."""
    from ..trajectory.align import resample

    if not rate_hz > 0:
        raise InputError(f"--rate: expected a rate in Hz > 0 (got {rate_hz})")
    m = log_.measurements
    start = int(log_.commands.stamp_ns[0]) if m is None else max(int(log_.commands.stamp_ns[0]), int(m.stamp_ns[0]))
    end = int(log_.commands.stamp_ns[-1]) if m is None else int(m.stamp_ns[-1])
    step = NS_PER_S / rate_hz
    grid = start + np.round(np.arange(int((end - start) // step) + 1) * step).astype(np.int64)
    if len(grid) < 2:
        raise InputError(f"{log_.source}: commands and measurements overlap for less than one period at {rate_hz:g} Hz")
    commands = Trajectory(grid, log_.command_at(grid), list(log_.commands.channels), list(log_.commands.units),
                          log_.source)
    measurements = None
    if m is not None:
        values, covered = resample(m, grid, MAX_GAP_PERIODS / m.rate_hz)
        if not covered.all():
            at = (int(grid[~covered][0]) - start) / NS_PER_S
            raise InputError(f"{log_.source}: the measurements have a hole at {at:.4g} s; split the log there")
        measurements = Trajectory(grid, values, list(m.channels), list(m.units), log_.source)
    return RobotLog(commands, measurements, log_.source)


# ---------------------------------------------------------------- checking against a model


def to_model_units(log: RobotLog, channel_units: Mapping[str, str], command_units: Mapping[str, str]) -> RobotLog:
    """Convert bracketed units to the model's; refuse a unit of another quantity (one line)."""
    commands = _converted(log.commands, command_units, log.source, CMD)
    measurements = None
    if log.measurements is not None:
        measurements = _converted(log.measurements, channel_units, log.source, "")
    return RobotLog(commands, measurements, log.source)


def _converted(traj: Trajectory, expected: Mapping[str, str], source: str, prefix: str) -> Trajectory:
    values = traj.values.copy()
    units = list(traj.units)
    for c, (name, unit) in enumerate(zip(traj.channels, traj.units, strict=True)):
        want = expected.get(name)
        if want is None or not unit:
            continue
        f = unitlib.factor(unit, want)
        if f is None:
            raise InputError(
                f"{source}: column '{prefix}{name} [{unit}]': expected {unitlib.quantity(want)} in {want} or a "
                f"convertible unit (the model's {name} is in {want}); inconsistent units")
        values[:, c] *= f
        units[c] = want
    return Trajectory(traj.stamp_ns, values, list(traj.channels), units, traj.source, dict(traj.dropped))


# ---------------------------------------------------------------- writing


def write_log(log: RobotLog, path: str | PathLike[str], time_format: str = "sec_nanosec") -> Path:
    """Write ``log`` as one table (``.csv``, ``.parquet``, ``.jsonl``), atomically. Commands and
    measurements must share their stamps. ``time_format``: ``sec_nanosec`` or ``t`` (seconds from
    the first row, for command files)."""
    path = Path(path)
    kind = readers.TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path}: expected a .csv, .parquet or .jsonl output file")
    stamps = log.commands.stamp_ns
    m = log.measurements
    if m is not None and not np.array_equal(m.stamp_ns, stamps):
        raise InputError(f"{path}: commands and measurements have different stamps; write them as two files")
    columns: dict[str, np.ndarray] = {}
    if time_format == "t":
        columns["t"] = (stamps - stamps[0]) / NS_PER_S
    elif time_format == "sec_nanosec":
        columns["sec"], columns["nanosec"] = stamps // NS_PER_S, stamps % NS_PER_S
    else:
        raise InputError(f"time format: expected 'sec_nanosec' or 't' (got {time_format!r})")
    for traj, prefix in ((log.commands, CMD), (m, "")):
        if traj is None:
            continue
        for c, (name, unit) in enumerate(zip(traj.channels, traj.units, strict=True)):
            columns[f"{prefix}{name}" + (f" [{unit}]" if unit else "")] = traj.values[:, c]
    writer = {"csv": _write_csv, "parquet": _write_parquet, "jsonl": _write_jsonl}[kind]
    writer(columns, path)
    return path


def _cell(v: np.generic) -> str:
    return str(int(v)) if isinstance(v, np.integer) else repr(float(v))  # repr: the shortest exact decimal


def _write_csv(columns: dict[str, np.ndarray], path: Path) -> None:
    names = list(columns)
    if any("," in n or '"' in n for n in names):
        raise InputError(f"{path}: column names may not contain commas or quotes ({names})")
    lines = [",".join(names)]
    cols = list(columns.values())
    lines += [",".join(_cell(col[i]) for col in cols) for i in range(len(cols[0]))]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _write_jsonl(columns: dict[str, np.ndarray], path: Path) -> None:
    cols = {k: v.tolist() for k, v in columns.items()}
    n = len(next(iter(cols.values())))
    atomic_write_text(path, "".join(json.dumps({k: v[i] for k, v in cols.items()}) + "\n" for i in range(n)))


def _write_parquet(columns: dict[str, np.ndarray], path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise NotInstalledError("Parquet support (pyarrow)", "pip install 'sim2real[logs]'") from None
    table = pa.table(dict(columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def make_log(stamp_ns: np.ndarray, commands: np.ndarray, actuators: Sequence[str], command_units: Sequence[str],
             values: np.ndarray | None = None, channels: Sequence[str] = (), units: Sequence[str] = (),
             source: str = "") -> RobotLog:
    """A log from arrays sharing one clock (int64 ns stamps)."""
    cmd = Trajectory(stamp_ns, commands, list(actuators), list(command_units), source)
    meas = Trajectory(stamp_ns, values, list(channels), list(units), source) if values is not None else None
    return RobotLog(cmd, meas, source)
