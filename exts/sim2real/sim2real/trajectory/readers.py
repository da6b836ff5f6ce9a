"""Reading trajectories from files: CSV, Parquet, JSON lines, ROS 2 bags (sqlite3 or MCAP), ROS 1 bags.

Tabular files (documented in docs/gap.md) have one row per sample:

* time: ``sec`` and ``nanosec`` integer columns (as in ROS ``builtin_interfaces/Time``; also
  ``stamp.sec``/``stamp.nanosec`` and ``header.stamp.sec``/``header.stamp.nanosec``), or
  ``stamp_ns`` (integer nanoseconds), or ``t`` (float seconds);
* every other numeric column is a channel; a unit may follow the name in brackets: ``x [m]``.

JSON-lines objects may nest (``{"header": {"stamp": {"sec": 1, "nanosec": 5}}, "x": 0.1}``); nested
keys are joined with dots. Bags are read with ``rosbags`` (no ROS install needed); a topic of one
of ``rosmsg.SUPPORTED`` types becomes channels, stamped with ``header.stamp`` when the message has
one, else with the time the bag recorded it.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, NotInstalledError
from . import rosmsg
from .series import Trajectory, stamps_from_sec_nanosec, stamps_from_seconds

log = logging.getLogger(__name__)

BAG_SUFFIXES = (".mcap", ".db3", ".bag")
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SEC_PAIRS = (("sec", "nanosec"), ("stamp.sec", "stamp.nanosec"), ("header.stamp.sec", "header.stamp.nanosec"))
_UNIT = re.compile(r"^(.*?)\s*\[([^\]]*)\]\s*$")


def is_bag(path: Path) -> bool:
    return path.suffix in BAG_SUFFIXES or (path.is_dir() and (path / "metadata.yaml").exists())


def read_trajectory(path: str | PathLike[str], topic: str | None = None, stamp: str = "header") -> Trajectory:
    """Read one trajectory; ``topic`` picks a bag topic, ``stamp`` ("header" or "receive") its clock."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if is_bag(path):
        return read_bag(path, topic, stamp)
    if topic:
        raise InputError(f"{path}: --topic applies to bags only (.mcap, .db3, .bag or a rosbag2 folder)")
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"{path}: expected a .csv, .parquet, .jsonl file or a ROS bag (.mcap, .db3, .bag, rosbag2 folder)"
        )
    columns = {"csv": csv_columns, "parquet": parquet_columns, "jsonl": jsonl_columns}[kind](path)
    return table_to_trajectory(columns, str(path))


def table_to_trajectory(columns: dict[str, np.ndarray], source: str) -> Trajectory:
    """Columns by name (time columns as in the module docstring) to a cleaned Trajectory."""
    stamp_ns, used = _stamps(columns, source)
    names, units, values = [], [], []
    for key, col in columns.items():
        if key in used:
            continue
        arr = np.asarray(col)
        if arr.dtype.kind not in "fiub":
            log.info("%s: column %r is not numeric; ignored", source, key)
            continue
        m = _UNIT.match(key)
        names.append(m.group(1) if m else key)
        units.append(m.group(2) if m else "")
        values.append(arr.astype(np.float64))
    if not names:
        raise InputError(f"{source}: expected at least one numeric data column besides the time")
    return Trajectory.clean(stamp_ns, np.stack(values, axis=1), names, units, source)


def _stamps(columns: dict[str, np.ndarray], source: str) -> tuple[np.ndarray, set[str]]:
    for sec, nsec in SEC_PAIRS:
        if sec in columns and nsec in columns:
            return stamps_from_sec_nanosec(columns[sec], columns[nsec], source), {sec, nsec}
    if "stamp_ns" in columns:
        col = np.asarray(columns["stamp_ns"])
        if col.dtype.kind == "f" and not np.all(col == np.round(col)):
            raise InputError(f"{source}: stamp_ns: expected integer nanoseconds")
        return col.astype(np.int64), {"stamp_ns"}
    for name in ("t", "t [s]", "time", "timestamp"):
        if name in columns:
            return stamps_from_seconds(columns[name], source), {name}
    raise InputError(
        f"{source}: expected time columns 'sec' and 'nanosec' (or 'stamp_ns', or 't' in seconds); "
        f"found {', '.join(list(columns)[:12])}"
    )


def csv_columns(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(f"{path}: empty file; expected a header row and samples") from None
        rows = [r for r in reader if r]
    if not rows:
        raise InputError(f"{path}: expected samples after the header row")
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(header):
        cells = [r[i].strip() if i < len(r) else "" for r in rows]
        out[name] = _parse_column(cells, name, path)
    return out


def _parse_column(cells: list[str], name: str, path: Path) -> np.ndarray:
    try:
        if name in {p for pair in SEC_PAIRS for p in pair} or name == "stamp_ns":
            return np.array([int(c) for c in cells], dtype=np.int64)
        return np.array([float(c) if c else np.nan for c in cells], dtype=np.float64)
    except ValueError:
        if name in {p for pair in SEC_PAIRS for p in pair} or name == "stamp_ns":
            raise InputError(f"{path}: column {name!r}: expected integers in every row") from None
        return np.array(cells, dtype=object)


def parquet_columns(path: Path) -> dict[str, np.ndarray]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise NotInstalledError("Parquet support (pyarrow)", "pip install 'sim2real[logs]'") from None
    try:
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def jsonl_columns(path: Path) -> dict[str, np.ndarray]:
    records: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: expected one JSON object per line ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object")
            records.append(dict(_flatten(obj)))
    if not records:
        raise InputError(f"{path}: expected at least one JSON object")
    keys = list(dict.fromkeys(k for r in records for k in r))
    out = {}
    for k in keys:
        vals = [r.get(k) for r in records]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            out[k] = np.array(vals, dtype=np.int64)
        elif all(v is None or isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
            out[k] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
        else:
            out[k] = np.array(vals, dtype=object)
    return out


def _flatten(obj: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _flatten(v, key + ".")
        else:
            yield key, v


# ---------------------------------------------------------------- bags


def open_bag(path: Path) -> Any:
    """An opened ``rosbags`` AnyReader (ROS 1 .bag, rosbag2 folder, .db3 or .mcap file)."""
    try:
        from rosbags.highlevel import AnyReader, AnyReaderError
        from rosbags.typesys import Stores, get_typestore
    except ImportError:
        raise NotInstalledError("ROS bag support (rosbags)", "pip install 'sim2real[ros]'") from None
    try:
        reader = AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE))
        reader.open()
    except (AnyReaderError, OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a readable ROS bag ({_bag_problem(exc)})") from None
    return reader


def _bag_problem(exc: BaseException) -> str:
    """One line for why rosbags refused a bag: a YAML error in ``metadata.yaml`` is several lines of
    parser context (ruamel's message), so it is told by its line, column and problem."""
    cause: BaseException | None = exc
    while cause is not None:
        mark, problem = getattr(cause, "problem_mark", None), getattr(cause, "problem", None)
        if mark is not None and problem:
            return f"metadata.yaml line {mark.line + 1}, column {mark.column + 1}: {problem}"
        cause = cause.__cause__ or cause.__context__
    return " ".join(str(exc).split())


def bag_topics(path: Path) -> dict[str, str]:
    reader = open_bag(path)
    try:
        return {c.topic: c.msgtype for c in reader.connections}
    finally:
        reader.close()


def iter_bag(path: Path, topics: Sequence[str]) -> Iterator[tuple[str, str, int, Any]]:
    """(topic, msgtype, bag time ns, message) for the named topics, in recording order."""
    reader = open_bag(path)
    try:
        available = {c.topic: c.msgtype for c in reader.connections}
        missing = [t for t in topics if t not in available]
        if missing:
            raise InputError(f"{path}: no topic {', '.join(missing)} (topics: {topic_list(available)})")
        conns = [c for c in reader.connections if c.topic in topics]
        for conn, t_ns, raw in reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, int(t_ns), reader.deserialize(raw, conn.msgtype)
    finally:
        reader.close()


def read_bag(path: Path, topic: str | None, stamp: str = "header") -> Trajectory:
    """One topic of a bag as a Trajectory (see ``rosmsg.SUPPORTED`` for the message types)."""
    if stamp not in ("header", "receive"):
        raise InputError(f"--stamp: expected 'header' or 'receive' (got {stamp!r})")
    topic = pick_topic(path, topic, rosmsg.SUPPORTED)
    source = f"{path}:{topic}"
    stamps, rows = [], []
    channels: list[str] | None = None
    units: list[str] = []
    for _, msgtype, t_ns, msg in iter_bag(path, [topic]):
        names, u = rosmsg.channels_of(msgtype, msg)
        if channels is None:
            channels, units = names, u
        elif names != channels:
            raise InputError(f"{source}: message at {t_ns} ns has channels {names}; expected {channels} as before")
        header = rosmsg.stamp_ns(msg) if stamp == "header" else None
        stamps.append(header if header is not None else t_ns)
        rows.append(rosmsg.values_of(msgtype, msg))
    if channels is None:
        raise InputError(f"{source}: no messages on this topic")
    return Trajectory.clean(np.array(stamps, dtype=np.int64), np.array(rows, dtype=np.float64), channels, units, source)


def pick_topic(path: Path, topic: str | None, types: Sequence[str], ask: str = "--topic") -> str:
    """``topic`` if the bag has it with one of ``types``; without one, the bag's only such topic
    (``ask`` names what the user should give when there are several)."""
    topics = bag_topics(path)
    usable = {t: m for t, m in topics.items() if m in types}
    if topic is None:
        if len(usable) != 1:
            raise InputError(f"{path}: expected {ask} naming one of {topic_list(usable or topics)}")
        return next(iter(usable))
    if topic in topics and topic not in usable:
        raise InputError(f"{path}: topic {topic} has type {topics[topic]}; expected one of {', '.join(types)}")
    return topic  # a missing topic is reported by iter_bag with the list of topics


def topic_list(topics: dict[str, str]) -> str:
    return ", ".join(f"{t} ({m})" for t, m in sorted(topics.items())) or "none"
