"""Logging an Isaac Lab rollout in sim2real's trajectory format (docs/gap.md), with no Isaac Lab import.

``RolloutLog`` takes what an Isaac Lab ``Articulation`` holds after each ``env.step``: tensors of
``robot.data.joint_pos`` / ``joint_vel`` / ``joint_pos_target`` shaped ``(num_envs, num_joints)`` and
``robot.data.root_pose_w`` shaped ``(num_envs, 7)`` (position in metres, quaternion w, x, y, z); torch
tensors on any device or numpy arrays. For each chosen environment it writes one file per episode,
``env<E>_ep<K>.csv`` (or ``.parquet``), with the columns

* ``sec``, ``nanosec``: the time (``start_ns`` + ``time_s``), as ROS ``builtin_interfaces/Time``;
* ``<joint>.position``, ``<joint>.velocity``: the joint state (``sensor_msgs/JointState``'s names);
* ``cmd.<joint>``: the joint position target, when given (``sysid``'s command columns; name the
  model's actuators after the joints);
* ``x``, ``y``, ``z``, ``qw``, ``qx``, ``qy``, ``qz``: the root pose, when given (``gap poses``).

``sim2real gap trajectories`` and ``sim2real sysid fit --log`` read these files as they are.

An episode's file is written (atomically) when ``dones`` marks its end, the rest at ``close``: a crash
keeps every finished episode. The output folder is locked: a second logger on it is refused.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np

from ..errors import NotInstalledError, UserError
from ..fsutil import DirLock, atomic_write_bytes, atomic_write_text
from ..trajectory.series import NS_PER_S

log = logging.getLogger(__name__)
POSE = ("x", "y", "z", "qw", "qx", "qy", "qz")


def to_numpy(x: Any) -> np.ndarray:
    """A torch tensor (any device) or array-like as float64 numpy, without importing torch."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    return np.asarray(x, dtype=np.float64)


class RolloutLog:
    """Record ``(time, joint state[, command][, root pose])`` per step; see the module docstring."""

    def __init__(
        self,
        out_dir: str | Path,
        joint_names: Sequence[str],
        *,
        envs: Sequence[int] = (0,),
        fmt: str = "csv",
        start_ns: int = 0,
    ) -> None:
        if fmt not in ("csv", "parquet"):
            raise UserError(f"fmt: expected csv or parquet (got {fmt!r})")
        if not joint_names or len(set(joint_names)) != len(joint_names):
            raise UserError(
                f"joint_names: expected distinct names, one per joint column (got {list(joint_names)})"
            )
        self.out_dir, self.fmt, self.start_ns = Path(out_dir), fmt, int(start_ns)
        self.joint_names, self.envs = list(joint_names), [int(e) for e in envs]
        self._lock = DirLock(self.out_dir, "logging an Isaac Lab rollout").acquire()
        self._rows: dict[int, list[np.ndarray]] = {e: [] for e in self.envs}
        self._episode = dict.fromkeys(self.envs, 0)
        self._columns: list[str] | None = None
        self.written: list[Path] = []

    def record(
        self,
        time_s: float,
        joint_pos: Any,
        joint_vel: Any,
        *,
        joint_pos_target: Any = None,
        root_pose_w: Any = None,
        dones: Any = None,
    ) -> None:
        """The state after one ``env.step`` of every environment. ``dones`` is that step's
        ``terminated | truncated``: Isaac Lab resets those environments inside ``step``, so their
        state here is the first of a new episode (it starts a new file)."""
        pos, vel = to_numpy(joint_pos), to_numpy(joint_vel)
        parts = [pos, vel]
        if joint_pos_target is not None:
            parts.append(to_numpy(joint_pos_target))
        if root_pose_w is not None:
            parts.append(to_numpy(root_pose_w).reshape(len(pos), -1))
        self._check(parts, joint_pos_target is not None, root_pose_w is not None)
        stamp = self.start_ns + round(float(time_s) * NS_PER_S)
        done = to_numpy(dones).astype(bool).reshape(-1) if dones is not None else None
        for e in self.envs:
            if (
                done is not None and done[e]
            ):  # Isaac Lab has reset it inside step: this state starts a new one
                self._finish(e)
            self._rows[e].append(
                np.concatenate([[stamp // NS_PER_S, stamp % NS_PER_S]] + [p[e] for p in parts])
            )

    def _check(self, parts: list[np.ndarray], commands: bool, pose: bool) -> None:
        n_envs, n_joints = parts[0].shape if parts[0].ndim == 2 else (0, 0)
        shapes_ok = all(p.shape == (n_envs, n_joints) for p in parts[: 2 + commands]) and (
            not pose or parts[-1].shape == (n_envs, 7)
        )
        if not shapes_ok or n_joints != len(self.joint_names) or max(self.envs) >= n_envs:
            raise UserError(
                f"expected joint tensors of shape (num_envs, {len(self.joint_names)}) and a root pose of "
                f"shape (num_envs, 7) with num_envs > {max(self.envs)} (got {[p.shape for p in parts]})"
            )
        columns = (
            ["sec", "nanosec"]
            + [f"{j}.position" for j in self.joint_names]
            + [f"{j}.velocity" for j in self.joint_names]
        )
        columns += [f"cmd.{j}" for j in self.joint_names] if commands else []
        columns += list(POSE) if pose else []
        if self._columns is None:
            self._columns = columns
        elif columns != self._columns:
            raise UserError(
                "record: expected the same tensors at every step (commands and pose given or not alike)"
            )

    def _finish(self, env: int) -> None:
        rows = self._rows[env]
        self._rows[env] = []
        if len(rows) < 2:  # a trajectory needs two samples; a one-step episode is noise
            log.info("env %d episode %d: %d sample(s), not written", env, self._episode[env], len(rows))
        else:
            path = self.out_dir / f"env{env}_ep{self._episode[env]}.{self.fmt}"
            self._write(path, np.stack(rows))
            self.written.append(path)
        self._episode[env] += 1

    def _write(self, path: Path, table: np.ndarray) -> None:
        assert self._columns is not None
        if self.fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(self._columns)
            for row in table:
                writer.writerow([int(row[0]), int(row[1])] + [repr(float(v)) for v in row[2:]])
            atomic_write_text(path, buf.getvalue())
            return
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise NotInstalledError("pyarrow (to write Parquet)", "pip install 'sim2real[logs]'") from None
        arrays = [pa.array(table[:, 0].astype(np.int64)), pa.array(table[:, 1].astype(np.int64))]
        arrays += [pa.array(table[:, i]) for i in range(2, table.shape[1])]
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_arrays(arrays, names=self._columns), sink)
        atomic_write_bytes(path, sink.getvalue().to_pybytes())

    def close(self) -> list[Path]:
        """Write every open episode, release the folder; returns every file written."""
        try:
            for e in self.envs:
                if self._rows[e]:
                    self._finish(e)
        finally:
            self._lock.release()
        return self.written

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
